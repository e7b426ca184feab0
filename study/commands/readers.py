"""`readerstudy readers add|list STUDY_DIR ...` (needs the study's admin password, see ``admin_auth``)."""

from __future__ import annotations

from pathlib import Path

from study.commands import add_db_argument, ask_secret, user_errors
from study.errors import StudyError
from study.protocol import load_protocol
from study.store import Store


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=["add", "list"])
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("code", nargs="?", help="reader code (add)")
    parser.add_argument("--group", default="", help="reader group, e.g. specialist")
    parser.add_argument("--pin", default=None, help="PIN (asked when omitted)")
    add_db_argument(parser)


@user_errors
def run(args) -> int:
    protocol = load_protocol(args.study_dir)
    store = Store.open(args.study_dir, args.db)
    try:
        if args.action == "list":
            for r in store.readers():
                print(f"{r.code}\t{r.group}")
            return 0
        if not args.code:
            raise StudyError(["readers add: a reader CODE is required"])
        if protocol.groups and args.group not in protocol.groups:
            raise StudyError(
                [f"--group: {args.group!r} is not one of the study's groups ({', '.join(protocol.groups)})"]
            )
        problem = store.reader_code_problem(args.code)  # before asking a PIN for a code that is refused
        if problem:
            raise StudyError([problem])
        pin = args.pin if args.pin is not None else ask_secret(f"PIN for {args.code}: ", "pass --pin")
        info = store.add_reader(args.code, args.group, pin, actor=getattr(args, "actor", "admin"))
        print(f"added reader {info.code} ({info.group or 'no group'})")
        return 0
    finally:
        store.close()
