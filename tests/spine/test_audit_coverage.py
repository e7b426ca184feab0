"""The audit chain covers every column of every row that can change a result, and
anchors outside the database catch a truncated or recomputed chain (issue 11)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from study.aioutput import AIOutput
from study.engine import ReadSubmission, StudyEngine
from study.specimen import FieldView
from study.store import Store, anchor, audit, coverage
from study.store.schema import Base


def _populate(study_dir, db_url, clock) -> StudyEngine:
    """A store with a row in every covered table: readers, reads (one corrected), an override,
    AI outputs with CAMs, the admin password and the study facts."""
    engine = StudyEngine.open(study_dir, db_url, clock=clock)
    engine.store.set_admin_password("admin-pw-1")
    engine.store.add_reader("r1", "specialist", "1234")
    engine.store.add_reader("r2", "resident", "5678")
    engine.store.put_ai_output(
        AIOutput(
            "K000",
            "m1",
            "binary",
            ("absent", "present"),
            (0.3, 0.7),
            predicted="present",
            score=0.7,
            versions={"model_sha256": "ab" * 32},
            cams={"photo": np.full((4, 4), 0.5, np.float32)},
        )
    )
    rs = engine.start("r1", 1, workstation="ws-1")
    while (item := rs.next_item()) is not None:
        now = engine.clock()
        views = (FieldView(1, 0, 500), FieldView(2, 1, 700, decisive=True, ai_rank=1, in_top_k=True))
        rs.submit(ReadSubmission(item.case_id, "1", now, now, 1500, confidence=80, ai_shown_ms=0, field_views=views))
    now = engine.clock()
    rs.correct(ReadSubmission("K001", "0", now, now, 900, confidence=20), reason="misclick")
    rs.close()
    engine.override_washout("r1", 2, "leaving the hospital")
    return engine


def _raw(store: Store):
    """A connection that bypasses the app (and its foreign keys), as a tamperer's would."""
    if store.url.startswith("sqlite"):
        conn = sqlite3.connect(store.url.removeprefix("sqlite:///"))
        return conn, "?"
    import psycopg

    conn = psycopg.connect(store.url.replace("postgresql+psycopg", "postgresql"))
    conn.execute("SET session_replication_role = replica")
    return conn, "%s"


def _tweak(column, raw, sqlite: bool):
    """A different, well-formed value of the column's type."""
    kind = type(column.type).__name__
    if kind == "UTCDateTime":
        if raw is None:
            return "2026-01-01 00:00:00.000000" if sqlite else datetime(2026, 1, 1)
        dt = (datetime.fromisoformat(raw) if sqlite else raw) + timedelta(seconds=1)
        return dt.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else dt
    if kind == "Boolean":
        if raw is None:  # a nullable flag (reads.accepted_unchanged of a non-region read)
            return 1 if sqlite else True
        return (1 - int(raw)) if sqlite else (not raw)
    if kind == "Integer":
        return 1 if raw is None else raw + 1000
    if kind == "Float":
        return 0.5 if raw is None else raw + 0.5
    if kind == "LargeBinary":
        return b"x" if raw is None else bytes(raw) + b"x"
    if raw is None:
        return "x"
    return raw[:-1] + ("y" if raw[-1:] != "y" else "z")


def _rechain(store: Store) -> None:
    from sqlalchemy.orm import Session

    from study.store.schema import AuditHeadRow, AuditRow, ReadRow

    eng = create_engine(store.url) if not store.url.startswith("sqlite") else store.engine
    with Session(eng) as s, s.begin():
        prev = audit.GENESIS
        for row in s.query(AuditRow).order_by(AuditRow.id).all():
            data = json.loads(row.payload)
            if row.action == "read.submitted" and (read := s.get(ReadRow, data["read_id"])) is not None:
                data["digest"] = audit.read_digest(read)
            if "_rows" in data:
                fresh = []
                for table_name, key, _ in data["_rows"]:
                    table = Base.metadata.tables[table_name]
                    cond = [c == v for c, v in zip(table.primary_key.columns, key)]
                    from sqlalchemy import select

                    r = s.execute(select(table).where(*cond)).mappings().first()
                    fresh.append([table_name, key, None if r is None else coverage.row_digest(table, r)])
                data["_rows"] = fresh
            row.payload = audit.canonical(data)
            row.prev_hash = prev
            row.hash = audit.row_hash(prev, row.id, row.at, row.actor, row.action, row.payload)
            prev = row.hash
        head = s.get(AuditHeadRow, 1)
        head.last_hash = prev
    if eng is not store.engine:
        eng.dispose()


def _snapshot_audit(store: Store):
    with store.engine.connect() as c:
        return (
            c.execute(text("SELECT id, payload, prev_hash, hash FROM audit_log ORDER BY id")).all(),
            c.execute(text("SELECT last_id, last_hash FROM audit_head")).one(),
        )


def _restore_audit(store: Store, saved) -> None:
    rows, head = saved
    with store.engine.begin() as c:
        for r in rows:
            c.execute(
                text("UPDATE audit_log SET payload = :p, prev_hash = :ph, hash = :h WHERE id = :i"),
                {"p": r.payload, "ph": r.prev_hash, "h": r.hash, "i": r.id},
            )
        c.execute(text("UPDATE audit_head SET last_id = :i, last_hash = :h"), {"i": head.last_id, "h": head.last_hash})


def test_every_column_of_every_covered_table_is_sealed(study_dir, db_url, clock):
    engine = _populate(study_dir, db_url, clock)
    store = engine.store
    store.write_anchor("report")  # rows after the newest anchor are not anchored yet
    assert store.verify_chain().ok
    sqlite = store.url.startswith("sqlite")
    conn, ph = _raw(store)
    tables = coverage.covered_tables()
    assert {"readers", "reads", "washout_overrides", "ai_outputs", "meta"} <= {t.name for t in tables}
    tried = []
    saved = _snapshot_audit(store)
    for table in tables:
        skip = coverage.VOLATILE.get(table.name, frozenset())
        pk = list(table.primary_key.columns)
        first = conn.execute(f"SELECT {', '.join(c.name for c in pk)} FROM {table.name} ORDER BY 1 LIMIT 1").fetchone()
        if first is None:  # a table another part of the app adds, with no rows in this study
            continue
        where = " AND ".join(f"{c.name} = {ph}" for c in pk)
        for column in table.columns:
            if column.name in skip:
                continue
            quoted = f'"{column.name}"'
            raw = conn.execute(f"SELECT {quoted} FROM {table.name} WHERE {where}", tuple(first)).fetchone()[0]
            new = _tweak(column, raw, sqlite)
            conn.execute(f"UPDATE {table.name} SET {quoted} = {ph} WHERE {where}", (new, *first))
            conn.commit()
            key = tuple(new if c is column else v for c, v in zip(pk, first))
            edited = store.verify_chain()
            # The tamperer now recomputes the whole chain: only the anchors outside the database catch that.
            _rechain(store)
            recomputed = store.verify_chain()
            tried.append((table.name, column.name, edited.ok, recomputed.ok, recomputed.reason))
            where_back = " AND ".join(f"{c.name} = {ph}" for c in pk)
            conn.execute(f"UPDATE {table.name} SET {quoted} = {ph} WHERE {where_back}", (raw, *key))
            conn.commit()
            _restore_audit(store, saved)
            assert store.verify_chain().ok, (table.name, column.name)
    conn.close()
    missed = [t for t in tried if t[2] or t[3]]
    assert not missed, missed
    names = {(t, c) for t, c, *_ in tried}
    for must in [
        ("reads", "workstation"),
        ("reads", "correction_reason"),
        ("readers", "pin_hash"),
        ("ai_outputs", "payload"),
        ("ai_outputs", "cams"),
        ("washout_overrides", "reason"),
        ("meta", "value"),
        ("field_views", "field_index"),
        ("field_views", "shown_ms"),
        ("field_views", "decisive"),
        ("field_views", "in_top_k"),
    ]:
        assert must in names
    assert all("rewritten" in r for *_, r in tried)
    engine.close()


def test_override_inserted_directly_is_detected(study_dir, db_url, clock):
    engine = _populate(study_dir, db_url, clock)
    conn, ph = _raw(engine.store)
    conn.execute(
        f"INSERT INTO washout_overrides (reader_id, session_index, reason, at) VALUES ({ph}, 2, 'x', {ph})",
        (2, "2026-11-02 09:00:00.000000" if ph == "?" else datetime(2026, 11, 2, 9)),
    )
    conn.commit()
    conn.close()
    check = engine.store.verify_chain()
    assert not check.ok and "washout_overrides row" in check.reason and "not in the audit chain" in check.reason
    engine.close()


def test_swapped_pin_hashes_are_detected(study_dir, db_url, clock):
    engine = _populate(study_dir, db_url, clock)
    conn, ph = _raw(engine.store)
    h1, _ = [r[0] for r in conn.execute("SELECT pin_hash FROM readers ORDER BY id").fetchall()]
    conn.execute(f"UPDATE readers SET pin_hash = {ph} WHERE code = 'r2'", (h1,))
    conn.commit()
    conn.close()
    check = engine.store.verify_chain()
    assert not check.ok and check.reason.startswith("readers row [2]: edited")
    engine.close()


def test_deleted_last_read_with_head_set_back_is_caught_by_the_anchor(study_dir, db_url, clock):
    engine = _populate(study_dir, db_url, clock)
    store = engine.store
    rows_before = store.verify_chain().rows
    line = store.write_anchor("report /tmp/out")
    assert f"rows={rows_before}" in line and (study_dir / anchor.ANCHOR_FILE).read_text().count("\n") >= 2
    conn, ph = _raw(store)
    last = conn.execute("SELECT id, payload FROM audit_log WHERE action = 'read.submitted' ORDER BY id DESC").fetchone()
    conn.execute(f"DELETE FROM audit_log WHERE id >= {ph}", (last[0],))
    conn.execute(f"DELETE FROM reads WHERE id = {ph}", (json.loads(last[1])["read_id"],))
    prev = conn.execute(f"SELECT id, hash FROM audit_log WHERE id = {ph}", (last[0] - 1,)).fetchone()
    conn.execute(f"UPDATE audit_head SET last_id = {ph}, last_hash = {ph}", prev)
    conn.commit()
    conn.close()
    check = store.verify_chain()
    assert not check.ok and check.first_broken == last[0] and "were removed" in check.reason, check
    engine.close()


def test_anchor_in_an_output_file_is_checked_too(study_dir, clock, tmp_path):
    engine = _populate(study_dir, None, clock)
    store = engine.store
    out = tmp_path / "out"
    out.mkdir()
    (out / "reads.csv").write_text(f"# {store.write_anchor('report')}\nreader,case\n")
    (study_dir / anchor.ANCHOR_FILE).unlink()  # the tamperer removes the anchor file as well
    with store.engine.begin() as c:
        c.execute(text("UPDATE reads SET answer = '0' WHERE id = 1"))
    _rechain(store)
    assert store.verify_chain().ok  # nothing in the study folder remembers the old head ...
    check = store.verify_chain(outputs=[out])  # ... but the report does
    assert not check.ok and "rewritten" in check.reason
    engine.close()


@pytest.mark.parametrize("table", ["audit_log", "reads"])
def test_garbage_timestamp_is_a_broken_chain_not_a_traceback(study_dir, clock, table):
    engine = _populate(study_dir, None, clock)
    conn, _ = _raw(engine.store)
    column = "at" if table == "audit_log" else "submitted_at"
    conn.execute(f"UPDATE {table} SET {column} = 'not a time' WHERE id = 2")
    conn.commit()
    conn.close()
    check = engine.store.verify_chain()
    assert not check.ok and f"{table} row 2: timestamp 'not a time' cannot be read" in check.reason
    engine.close()


def test_results_refuse_a_broken_chain(study_dir, db_url, clock, tmp_path):
    from study.errors import StudyError
    from study.store import ai_table, reads_table
    from tests.spine.test_cli import cli

    engine = _populate(study_dir, db_url, clock)
    engine.close()
    ok = reads_table(study_dir, db_url)
    assert len(ok) == 8 and ok.attrs["audit_anchor"].startswith("readerstudy-audit-anchor store=")
    store = Store.open(study_dir, db_url)
    conn, ph = _raw(store)
    store.close()
    conn.execute(f"UPDATE ai_outputs SET payload = {ph} WHERE case_id = 'K000'", (json.dumps({"score": 0.01}),))
    conn.commit()
    conn.close()
    for table in (reads_table, ai_table):
        with pytest.raises(StudyError, match=r"^AUDIT CHAIN BROKEN at row \d+: ai_outputs row \[1\]: edited"):
            table(study_dir, db_url)
    r = cli(
        "report", study_dir, "--out", tmp_path / "out", *(["--db", db_url] if db_url else []), password="admin-pw-1"
    )  # _populate's admin password
    assert r.returncode == 2 and "AUDIT CHAIN BROKEN at row" in r.stderr and not (tmp_path / "out").exists()


def test_report_anchor_is_checked_by_status(study_dir, clock, tmp_path):
    from tests.spine.test_cli import cli

    engine = _populate(study_dir, None, clock)
    engine.close()
    out = tmp_path / "out"
    r = cli("report", study_dir, "--out", out, password="admin-pw-1")
    assert r.returncode == 0, r.stderr
    line = (out / "AUDIT_ANCHOR.txt").read_text().strip()
    assert line in (study_dir / anchor.ANCHOR_FILE).read_text()
    good = cli("status", study_dir, "--check", out)
    assert good.returncode == 0 and "audit chain: OK" in good.stdout
    rows = int(line.split(" rows=")[1].split()[0])
    (study_dir / anchor.ANCHOR_FILE).unlink()
    store = Store.open(study_dir)
    with store.engine.begin() as c:  # the last rows go, and the head is set back
        c.execute(text("DELETE FROM audit_log WHERE id >= :n"), {"n": rows - 1})
        last = c.execute(text("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")).one()
        c.execute(text("UPDATE audit_head SET last_id = :i, last_hash = :h"), {"i": last.id, "h": last.hash})
    store.close()
    bad = cli("status", study_dir, "--check", out)
    assert bad.returncode == 1 and "audit chain: BROKEN" in bad.stdout and "were removed" in bad.stdout, bad.stdout
