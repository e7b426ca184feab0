"""`readerstudy open STUDY_DIR [--db URL]`: the study window (reader login first)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from study.errors import StudyError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study_dir", help="a study folder (with study.toml and cases.csv)")
    parser.add_argument(
        "--db", default=None, help="store URL, e.g. postgresql+psycopg://... (default: SQLite in the folder)"
    )


def open_engine(study_dir: str | Path, db_url: str | None = None):
    from study.engine import StudyEngine

    return StudyEngine.open(study_dir, db_url)


def build_window(study_dir: str | Path, db_url: str | None = None):
    """The themed application and a study window on the login screen (not shown)."""
    from app.main_window import MainWindow
    from app.reading.theme import ensure_application

    app = ensure_application()
    engine = open_engine(study_dir, db_url)
    return app, MainWindow(engine)


def open_study_window(study_dir: str | Path, db_url: str | None = None) -> int:
    """Open a study and run the event loop until the window closes; 2 on a bad study."""
    try:
        app, window = build_window(study_dir, db_url)
    except StudyError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from app.launcher import RecentStudies

    RecentStudies().add(study_dir)
    window.show()
    code = app.exec()
    finish_background_work()
    window.engine.close()
    return int(code)


def finish_background_work(timeout_ms: int = 3000) -> None:
    """Let prefetch workers end before Python tears Qt down (they emit on exit)."""
    from app.workers import shutdown

    shutdown(timeout_ms)


def run(args: argparse.Namespace) -> int:
    return open_study_window(args.study_dir, args.db)
