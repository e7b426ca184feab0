"""The researcher side: admin login, new-study wizard, readers and progress, model and
precompute, results dashboard and export.

Entry point for the launcher::

    from app.admin import open_admin
    widget = open_admin(study_dir)      # None or a folder without study.toml: the wizard
    widget.show()

Widgets bind to plain state objects (``*_state.py``) that call the engine,
``study.wizard``, ``study.stats`` and ``study.export``; long work runs through
``app.workers.create_worker``.  ``inference`` is imported only inside the
precompute and spec functions.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget


def open_admin(study_dir: Path | None, parent: QWidget | None = None) -> QWidget:
    """The admin window for ``study_dir``: the login first; for a new study, the wizard."""
    from app.admin.shell import AdminShellWidget

    return AdminShellWidget(Path(study_dir) if study_dir is not None else None, parent)
