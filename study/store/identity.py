"""The store's identity, recorded in the study folder so a replaced store is noticed.

``readerstudy.store.json`` maps each store the study was opened with (the
default SQLite file as ``readerstudy.sqlite``, other URLs without their
password) to the UUID kept in that store's ``meta`` table.  A store that is
recorded there but is missing, empty or carries another UUID is refused:
opening it would silently start a fresh, empty study.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from study.errors import StudyError
from study.store.db import DB_FILENAME

IDENTITY_FILE = "readerstudy.store.json"
SUPPORTED = {"sqlite": ("sqlite", "sqlite+pysqlite"), "postgresql": ("postgresql+psycopg", "postgresql")}


def parse_url(url: str, source: str = "--db") -> URL:
    """A URL the store can use, or a one-line StudyError naming where it came from."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as err:
        raise StudyError(
            [f"{source}: {url!r} is not a database URL ({err}); use sqlite:///PATH or postgresql+psycopg://HOST/DB"]
        ) from None
    if not any(parsed.drivername in names for names in SUPPORTED.values()):
        raise StudyError(
            [
                f"{source}: unsupported database {parsed.drivername!r} in "
                f"{parsed.render_as_string(hide_password=True)!r}; use sqlite:///PATH "
                "or postgresql+psycopg://HOST/DB"
            ]
        )
    if parsed.drivername.startswith("sqlite") and not parsed.database:
        raise StudyError(
            [f"{source}: {url!r} names no SQLite file (in-memory stores are not kept); use sqlite:///PATH"]
        )
    return parsed


def store_key(study_dir: Path, url: URL) -> str:
    """How the study folder names its store: the default file relative, others by URL."""
    if url.drivername.startswith("sqlite"):
        path = Path(url.database).resolve()
        if path.parent == Path(study_dir).resolve() and path.name == DB_FILENAME:
            return DB_FILENAME
        return f"sqlite:///{path}"
    return url.render_as_string(hide_password=True)


def recorded(study_dir: Path) -> dict[str, str]:
    path = Path(study_dir) / IDENTITY_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get("stores", {}).items()}
    except (ValueError, AttributeError) as err:
        raise StudyError([f"{path}: unreadable ({err}); it records which store belongs to this study"]) from None


def record(study_dir: Path, key: str, store_id: str) -> None:
    path = Path(study_dir) / IDENTITY_FILE
    if not Path(study_dir).is_dir():
        return
    stores = recorded(study_dir)
    stores[key] = store_id
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"stores": stores}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def check_file_before_open(study_dir: Path, url: URL, key: str) -> None:
    """A recorded SQLite store must exist with content before SQLite is allowed to create it."""
    if key not in recorded(study_dir) or not url.drivername.startswith("sqlite"):
        return
    path = Path(url.database)
    if not path.is_file() or path.stat().st_size == 0:
        state = "missing" if not path.is_file() else "empty (0 bytes)"
        raise StudyError(
            [
                f"{path}: the study store is {state}, but this study was opened before "
                f"(store {recorded(study_dir)[key]}); restore it from a backup. "
                f"To start the study over on purpose, also remove {Path(study_dir) / IDENTITY_FILE}."
            ]
        )


def missing_store(study_dir: Path, key: str, shown: str) -> StudyError:
    return StudyError(
        [
            f"{shown}: the study store has no tables, but this study was opened before "
            f"(store {recorded(study_dir)[key]}); restore it from a backup, or remove "
            f"{Path(study_dir) / IDENTITY_FILE} to start over on purpose"
        ]
    )
