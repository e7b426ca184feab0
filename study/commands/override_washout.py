"""`readerstudy override-washout STUDY_DIR READER --reason TEXT`: audited early opening.

Needs the study's admin password (``study.commands.admin_auth``); the audit row names the admin.
"""

from __future__ import annotations

from pathlib import Path

from study.commands import add_db_argument, user_errors
from study.engine import StudyEngine


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("reader")
    parser.add_argument("--reason", required=True)
    parser.add_argument("--session", type=int, default=2, help="session to open (default 2)")
    add_db_argument(parser)


@user_errors
def run(args) -> int:
    engine = StudyEngine.open(args.study_dir, args.db)
    try:
        engine.override_washout(args.reader, args.session, args.reason, actor=getattr(args, "actor", "admin"))
        print(f"session {args.session} of {args.reader} is open (override recorded in the audit log)")
        return 0
    finally:
        engine.close()
