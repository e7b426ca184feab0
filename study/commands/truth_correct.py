"""`readerstudy truth-correct STUDY_DIR --reason TEXT`: record a changed truth on purpose.

After reads exist, results refuse a truth (``cases.csv``'s truth, truth masks) that
differs from its seal (``study.truthseal``).  A researcher who fixed the truth on
purpose records it here: the study's admin password, a reason, and one
``truth.corrected`` audit row with who, when, why, the old and new seal hashes
and every changed case (old -> new).  The corrected truth is then the seal.
"""

from __future__ import annotations

from pathlib import Path

from study.commands import add_db_argument, user_errors
from study.engine import StudyEngine


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--reason", required=True, help="why the truth changed (kept in the audit log)")
    add_db_argument(parser)


@user_errors
def run(args) -> int:
    from study.truthseal import correct

    engine = StudyEngine.open(args.study_dir, args.db)
    try:
        state = correct(
            engine.store, engine.study_dir, engine.cases, args.reason, actor=getattr(args, "actor", "admin")
        )
    finally:
        engine.close()
    print(f"truth correction recorded in the audit log: {len(state.changes)} case(s), seal {state.sha256[:12]}")
    for change in state.changes:
        print(f"  {change.text()}  ({change.file})")
    return 0
