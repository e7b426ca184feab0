"""Steps the wizard tests share."""

from __future__ import annotations

from pathlib import Path

from app.admin import open_admin


def wizard_on_cases(qtbot, study: Path, media: Path, truth: Path):
    """The new-study wizard for ``study`` on its Cases page, with the media folder and truth table
    chosen on the Files page: (admin shell, wizard widget)."""
    shell = open_admin(study)
    qtbot.addWidget(shell)
    w = shell.wizard
    w.media_edit.setText(str(media))
    w.truth_edit.setText(str(truth))
    w.next_button.click()
    assert w.pages.currentIndex() == 1
    return shell, w
