"""`readerstudy admin-password STUDY_DIR [--password PW]`: set or change the study's admin password."""

from __future__ import annotations

import getpass
from pathlib import Path

from study.commands import add_db_argument, user_errors
from study.errors import StudyError
from study.protocol import load_protocol
from study.store import Store


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--password", default=None, help="the new password (asked twice when omitted)")
    add_db_argument(parser)


@user_errors
def run(args) -> int:
    load_protocol(args.study_dir)  # a study folder, not any folder
    password = args.password
    if password is None:
        password = getpass.getpass("New admin password: ")
        if getpass.getpass("Repeat: ") != password:
            raise StudyError(["admin-password: the two passwords differ"])
    store = Store.open(args.study_dir, args.db)
    try:
        changed = store.has_admin_password()
        store.set_admin_password(password)
    finally:
        store.close()
    print(f"admin password {'changed' if changed else 'set'} for {args.study_dir}")
    return 0
