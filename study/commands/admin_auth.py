"""The study admin on the command line: commands that change or export a study need its admin password.

The password comes from ``--admin-password-file FILE`` (its first line), else
the environment variable ``READERSTUDY_ADMIN_PASSWORD``, else a prompt when
the command runs in a terminal.  It is checked like the admin screen's login
(five wrong ones lock the admin out for five minutes; every try is audited),
and the command's audit rows name ``admin`` as the actor.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from study.errors import StudyError

ENV = "READERSTUDY_ADMIN_PASSWORD"
# Commands that change readers, washouts, the password, AI outputs, the truth seal, or write results.
# `status` and `validate` only read (and `status` must work for an auditor); `new` sets the first password.
ADMIN_COMMANDS = frozenset(
    {"readers", "override-washout", "admin-password", "report", "precompute", "export-masks", "truth-correct"}
)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--admin-password-file",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"file whose first line is the study's admin password (else ${ENV}, else a prompt)",
    )


def read_password(args, prompt: str = "Admin password: ") -> str | None:
    """The admin password from the file, the environment or a prompt; None when none can be had."""
    path = getattr(args, "admin_password_file", None)
    if path is not None:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise StudyError([f"--admin-password-file {path}: cannot read it ({err.__class__.__name__})"]) from None
        if not lines or not lines[0]:
            raise StudyError([f"--admin-password-file {path}: the first line is empty"])
        return lines[0]
    if os.environ.get(ENV):
        return os.environ[ENV]
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    return None


def require_admin(args, command: str) -> None:
    """Log the admin in for ``command`` or raise StudyError; sets ``args.actor`` and ``args.admin_password``."""
    from study.store import Store

    study_dir = Path(args.study_dir)
    if not (study_dir / "study.toml").is_file():
        return  # not a study: the command itself refuses it with its own message, and touches nothing
    store = Store.open(study_dir, getattr(args, "db", None))
    try:
        if not store.has_admin_password():
            if command == "admin-password":  # the first password: see set_admin_password
                args.actor, args.admin_password = "admin", None
                return
            raise StudyError(
                [
                    f"{study_dir}: this study has no admin password yet; set one first with "
                    f"`readerstudy admin-password {study_dir}`"
                ]
            )
        password = read_password(args, f"Admin password of {study_dir}: ")
        if password is None:
            raise StudyError(
                [
                    f"{command}: needs the study's admin password: pass --admin-password-file FILE, "
                    f"set {ENV}, or run it in a terminal to be asked"
                ]
            )
        store.admin_login(password, via=f"cli {command}")
    finally:
        store.close()
    args.actor, args.admin_password = "admin", password


def anchor_after(args, command: str) -> None:
    """Anchor the chain after an admin command changed the study."""
    from study.store import Store

    store = Store.open(Path(args.study_dir), getattr(args, "db", None))
    try:
        store.write_anchor(f"cli {command}")
    finally:
        store.close()
