"""Headless `readerstudy` subcommands of the study engine (no Qt, no torch)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps

from study.errors import StudyError


def user_errors(run: Callable[..., int]) -> Callable[..., int]:
    """Print each problem of a StudyError on its own line and exit 2, never a traceback."""

    @wraps(run)
    def wrapper(args) -> int:
        try:
            return run(args)
        except StudyError as err:
            for line in err.problems:
                print(f"error: {line}", file=sys.stderr)
            return 2

    return wrapper


def add_db_argument(parser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="store URL (default: SQLite in the study folder; e.g. postgresql+psycopg://host/db)",
    )


def ask_secret(prompt: str, instead: str) -> str:
    """A PIN or password typed at ``prompt`` (not echoed; read from stdin when that is a pipe).

    Raises StudyError naming ``instead`` (the option that gives it) when nothing can be read:
    no terminal and an empty or closed stdin."""
    import getpass

    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise StudyError([f"{prompt.rstrip(': ')}: nothing to read (no terminal); {instead}"]) from None
