"""`readerstudy admin [STUDY_DIR]`: the researcher's screens.

With a study folder (one holding study.toml): the study's admin login (the
admin password), then readers and progress, model and precompute, results and
export.  Without one: the new-study wizard (a folder given that holds no
study.toml is where the wizard will write the new study).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "study_dir", nargs="?", default=None, help="a study folder (default: none, the new-study wizard)"
    )


def build_admin_window(study_dir: str | Path | None):
    """The themed application and the admin window (login, or wizard), not shown yet."""
    from app.admin import open_admin
    from app.reading.theme import ensure_application

    app = ensure_application()
    return app, open_admin(Path(study_dir).expanduser() if study_dir else None)


def run(args: argparse.Namespace) -> int:
    if args.study_dir and not (Path(args.study_dir) / "study.toml").is_file():
        print(
            f"{Path(args.study_dir) / 'study.toml'}: not found; opening the new-study wizard for this folder",
            file=sys.stderr,
        )
    app, window = build_admin_window(args.study_dir)
    from app.launcher import RecentStudies

    window.study_opened.connect(RecentStudies().add)
    window.show()
    code = app.exec()
    from app.commands.open_study import finish_background_work

    finish_background_work()
    return int(code)
