"""`readerstudy validate STUDY_DIR`: protocol, case table, and every media file decoded as a reader sees it."""

from __future__ import annotations

import sys
from pathlib import Path

from study.cases import load_cases
from study.commands import add_db_argument, user_errors
from study.intake.progress import ProgressLine
from study.intake.validate import validate_study
from study.protocol import load_protocol


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    add_db_argument(parser)


def reader_warnings(study_dir: Path, url: str | None) -> list[str]:
    """Reader codes of the study's store that differ only in case or spaces ([] before a store exists)."""
    from study.store import Store, identity, resolve_url

    key = identity.store_key(Path(study_dir), identity.parse_url(resolve_url(study_dir, url), "store"))
    if url is None and key not in identity.recorded(study_dir):
        return []  # no store yet, so no readers (and validate does not make one)
    store = Store.open(study_dir, url)
    try:
        return store.reader_code_collisions()
    finally:
        store.close()


@user_errors
def run(args) -> int:
    protocol = load_protocol(args.study_dir)
    cases = load_cases(args.study_dir, protocol, check_media=True)
    progress = None if args.quiet else ProgressLine("validate: cases decoded")
    findings = validate_study(args.study_dir, protocol, cases, progress=progress)
    if progress is not None:
        progress.close()  # (a cancelled or throttled run can leave the progress line open)
    errors = [f for f in findings if f.severity == "error"]
    for f in findings:
        print(f"{f.severity}: {f.line()}", file=sys.stderr)
    for warning in reader_warnings(args.study_dir, args.db):
        print(f"warning: {warning}", file=sys.stderr)
    if errors:
        bad = len({f.case_id for f in errors})
        print(f"{args.study_dir}: INVALID: {len(errors)} problem(s) in {bad} of {len(cases)} cases", file=sys.stderr)
        return 1
    print(
        f"{args.study_dir}: valid: {protocol.design} study {protocol.study_id!r}, "
        f"{len(cases)} cases, task {protocol.task.kind}, roles {', '.join(protocol.hanging.roles)}; "
        "every file decoded",
        flush=True,  # before anything later on stderr: the two streams must not run together
    )
    return 0
