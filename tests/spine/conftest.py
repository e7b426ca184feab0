"""Fixtures for the engine and store tests: a small real study folder, and a
store URL for each backend (a real SQLite file; a fresh PostgreSQL database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.photostudy import write_photo_study as write_study  # noqa: F401 - the spine tests' study

PG_ADMIN = "postgresql://127.0.0.1:5432/postgres"


class Clock:
    """An injectable clock for washouts and leases."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _postgres_url():
    try:
        import psycopg

        name = f"rs_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name
    except Exception as err:  # no server: skip with the reason
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 not available: {err}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """None means the default SQLite file in the study folder."""
    if request.param == "sqlite":
        yield None
        return
    import psycopg

    name = _postgres_url()
    yield f"postgresql+psycopg://127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def make_study():
    """The study-folder factory, for tests that need several or special ones."""
    return write_study


@pytest.fixture
def study_dir(tmp_path) -> Path:
    return write_study(tmp_path / "study")
