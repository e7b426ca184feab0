"""`readerstudy validate STUDY_DIR`: protocol, case table and media paths."""

from __future__ import annotations

from pathlib import Path

from study.cases import load_cases
from study.commands import user_errors
from study.protocol import load_protocol


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)


@user_errors
def run(args) -> int:
    protocol = load_protocol(args.study_dir)
    cases = load_cases(args.study_dir, protocol, check_media=True)
    print(f"{args.study_dir}: valid: {protocol.design} study {protocol.study_id!r}, "
          f"{len(cases)} cases, task {protocol.task.kind}, roles {', '.join(protocol.hanging.roles)}")
    return 0
