"""`readerstudy admin-password STUDY_DIR [--password PW]`: change (or first set) the study's admin password.

Changing it needs the current one (``study.commands.admin_auth``: prompt,
``--admin-password-file`` or ``READERSTUDY_ADMIN_PASSWORD``).  A study made
before ``new`` required a password gets its first one here, on the study's
computer, as an audit row marked ``first``; the admin screen never sets one.
"""

from __future__ import annotations

from pathlib import Path

from study.commands import add_db_argument, ask_secret, user_errors
from study.errors import StudyError
from study.protocol import load_protocol
from study.store import Store


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--password", default=None, help="the new password (asked twice when omitted)")
    parser.add_argument(
        "--new-password-file", type=Path, default=None, metavar="FILE", help="file whose first line is the new password"
    )
    add_db_argument(parser)


def new_password(args) -> str:
    if args.password is not None:
        return args.password
    if args.new_password_file is not None:
        lines = args.new_password_file.read_text(encoding="utf-8").splitlines()
        if not lines or not lines[0]:
            raise StudyError([f"--new-password-file {args.new_password_file}: the first line is empty"])
        return lines[0]
    password = ask_secret("New admin password: ", "pass --password or --new-password-file FILE")
    if ask_secret("Repeat: ", "pass --password or --new-password-file FILE") != password:
        raise StudyError(["admin-password: the two passwords differ"])
    return password


@user_errors
def run(args) -> int:
    load_protocol(args.study_dir)  # a study folder, not any folder
    password = new_password(args)
    store = Store.open(args.study_dir, args.db)
    try:
        changed = store.has_admin_password()
        store.set_admin_password(
            password, actor=getattr(args, "actor", "admin"), current=getattr(args, "admin_password", None)
        )
    finally:
        store.close()
    print(f"admin password {'changed' if changed else 'set'} for {args.study_dir}")
    return 0
