"""The store is never silently replaced, bad URLs are one line, status survives garbage (issue 11)."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from study.engine import ReadSubmission, StudyEngine
from study.errors import StudyError
from study.store import Store, identity
from tests.spine.test_cli import cli


def _one_read(study_dir, db_url=None) -> None:
    engine = StudyEngine.open(study_dir, db_url)
    engine.store.add_reader("r1", "specialist", "1234")
    rs = engine.start("r1", 1)
    item = rs.next_item()
    now = engine.clock()
    rs.submit(ReadSubmission(item.case_id, "1", now, now, 700, confidence=60))
    rs.close()
    engine.close()


def test_identity_is_recorded_on_first_open(study_dir, db_url):
    store = Store.open(study_dir, db_url)
    sid = store.store_id
    store.close()
    stores = json.loads((study_dir / identity.IDENTITY_FILE).read_text())["stores"]
    key = "readerstudy.sqlite" if db_url is None else db_url
    assert stores == {key: sid} and len(sid) == 36
    again = Store.open(study_dir, db_url)
    assert again.store_id == sid
    again.close()


@pytest.mark.parametrize("damage", ["missing", "empty"])
def test_missing_or_empty_sqlite_store_is_refused_by_status_and_open(study_dir, damage):
    _one_read(study_dir)
    db = study_dir / "readerstudy.sqlite"
    for suffix in ("-wal", "-shm"):
        (study_dir / f"readerstudy.sqlite{suffix}").unlink(missing_ok=True)
    if damage == "missing":
        db.unlink()
    else:
        db.write_bytes(b"")
    state = "missing" if damage == "missing" else "empty (0 bytes)"
    with pytest.raises(StudyError, match=re.escape(f"the study store is {state}, but this study was opened before")):
        StudyEngine.open(study_dir)
    r = cli("status", study_dir)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith(f"error: {db}: the study store is")
    assert (not db.exists()) if damage == "missing" else db.stat().st_size == 0  # nothing was created


def test_a_replaced_store_is_refused(study_dir, tmp_path):
    _one_read(study_dir)
    other = tmp_path / "other"
    from tests.spine.conftest import write_study

    write_study(other)
    Store.open(other).close()
    (study_dir / "readerstudy.sqlite").write_bytes((other / "readerstudy.sqlite").read_bytes())
    with pytest.raises(StudyError, match="the store was replaced"):
        Store.open(study_dir)


def test_a_postgres_store_dropped_and_recreated_empty_is_refused(study_dir, db_url):
    if db_url is None:
        pytest.skip("PostgreSQL only: SQLite is covered by the missing/empty file test")
    import psycopg

    _one_read(study_dir, db_url)
    with psycopg.connect(db_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    with pytest.raises(StudyError, match="the study store has no tables, but this study was opened before"):
        Store.open(study_dir, db_url)


@pytest.mark.parametrize("url", ["mysql://localhost/x", "sqlite3:///x.db", "not a url", "sqlite://"])
def test_unsupported_urls_are_one_line_from_every_command(study_dir, url):
    for args in (
        ["status", study_dir],
        ["readers", "list", study_dir],
        ["admin-password", study_dir, "--password", "abcdefg"],
        ["override-washout", study_dir, "r1", "--reason", "x"],
        ["report", study_dir, "--out", study_dir / "out"],
    ):
        r = cli(*args, "--db", url)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, (args, r.stderr)
        assert r.stderr.startswith("error: --db: ") and (
            "unsupported database" in r.stderr or "not a database URL" in r.stderr or "names no SQLite file" in r.stderr
        ), r.stderr
    (study_dir / "db_url").write_text(url + "\n")
    with pytest.raises(StudyError, match=f"{study_dir / 'db_url'}: "):
        StudyEngine.open(study_dir)


def test_status_reports_a_garbage_timestamp_as_broken(study_dir):
    _one_read(study_dir)
    conn = sqlite3.connect(study_dir / "readerstudy.sqlite")
    conn.execute("UPDATE reads SET submitted_at = 'yesterday-ish' WHERE id = 1")
    conn.commit()
    conn.close()
    r = cli("status", study_dir)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "audit chain: BROKEN" in r.stdout and "reads row 1: timestamp 'yesterday-ish' cannot be read" in r.stdout


def test_status_flags_a_changed_protocol_file(study_dir):
    _one_read(study_dir)
    toml = study_dir / "study.toml"
    toml.write_text(toml.read_text().replace('title = "Spine test"', 'title = "Spine test, renamed"'))
    r = cli("status", study_dir)
    assert "protocol file: CHANGED since the store was first opened" in r.stdout, r.stdout + r.stderr
