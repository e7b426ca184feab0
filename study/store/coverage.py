"""Which rows the audit chain seals, and the digest of one row.

Every table of the store is covered unless it is listed in ``NOT_COVERED``
below, and every column of a covered table is hashed unless it is listed in
``VOLATILE``.  Tables and columns added later are therefore covered without
edits here.  A transaction that inserts, changes or deletes a covered row
through the ORM records ``[table, primary key, digest]`` (digest ``None`` for a
deletion) in the ``_rows`` field of an audit row it appends; verification
recomputes the digest of every covered row and compares.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import Boolean, Float, Integer, LargeBinary, Table, TypeDecorator, inspect, select
from sqlalchemy.orm import Session

from study.store.schema import Base

# Tables whose rows do not change a result: the chain itself, the leases
# (workstation heartbeats) and the login throttle counters.
NOT_COVERED = frozenset({"audit_log", "audit_head", "leases", "lockouts", "alembic_version"})
# Columns rewritten on every login attempt; they gate logins, not results.
VOLATILE = {"readers": frozenset({"failed_pins", "locked_until"})}

_PENDING = "audit_pending_rows"


def covered_tables() -> list[Table]:
    """The covered tables of the schema, in dependency order."""
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_COVERED]


def _columns(table: Table) -> list:
    skip = VOLATILE.get(table.name, frozenset())
    return [c for c in table.columns if c.name not in skip]


def _norm(column, value):
    """One backend-independent value: 70 and 70.0 hash alike, times as aware UTC ISO."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(column.type, Boolean):
        return bool(value)
    if isinstance(column.type, Float):
        return float(value)
    if isinstance(column.type, Integer):
        return int(value)
    if isinstance(column.type, LargeBinary) or isinstance(value, (bytes, bytearray, memoryview)):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, (dict, list, tuple)):
        return json.loads(json.dumps(value, sort_keys=True, default=str))
    return str(value)


def row_key(table: Table, mapping) -> str:
    """Primary key of a row as canonical JSON, e.g. ``[12]`` or ``["seed"]``."""
    return json.dumps([_norm(c, mapping[c.key]) for c in table.primary_key.columns])


def row_digest(table: Table, mapping) -> str:
    """sha256 over every covered column (name -> normalised value) of one row."""
    fields = {c.name: _norm(c, mapping[c.key]) for c in _columns(table)}
    text = json.dumps([table.name, fields], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _table(name: str) -> Table | None:
    t = Base.metadata.tables.get(name)
    return None if t is None or t.name in NOT_COVERED else t


# Marks in the pending map: the row was deleted, or its state must be read back.
_DELETED, _READ_BACK = "deleted", "read-back"


def _state_digest(table: Table, state) -> str | None:
    """The row's digest from the flushed object state, or None when a covered column's
    value is not in it (server-side default, expired attribute): then it is read back."""
    mapper = state.mapper
    keys = {c.key: mapper.get_property_by_column(c).key for c in table.columns}
    if state.unloaded.intersection(keys.values()):
        return None
    values = {}
    for c in table.columns:
        value = state.dict.get(keys[c.key])
        if value is not None and isinstance(c.type, TypeDecorator):
            # Hash the value as the store hands it back (e.g. aware UTC), as verification will.
            value = c.type.process_result_value(c.type.process_bind_param(value, None), None)
        values[c.key] = value
    return row_digest(table, values)


def track_flush(session: Session, _flush_context) -> None:
    """``after_flush`` listener: remember which covered rows this flush wrote, with their digests.

    Inserted and updated rows are hashed from the flushed object state, which is
    what was written; only rows whose state is incomplete are read back at seal
    time (one SELECT each).  ``tests/spine/test_audit_coverage.py`` recomputes
    every digest from the database, so a difference between the two would show.
    """
    pending: dict[tuple[str, str], str] = session.info.setdefault(_PENDING, {})
    for obj, kind in (
        [(o, "new") for o in session.new]
        + [(o, "dirty") for o in session.dirty]
        + [(o, "deleted") for o in session.deleted]
    ):
        state = inspect(obj)
        table = _table(state.mapper.local_table.name)
        if table is None:
            continue
        if kind == "dirty":
            skip = VOLATILE.get(table.name, frozenset())
            changed = [a.key for a in state.attrs if a.history.has_changes()]
            cols = {state.mapper.get_property_by_column(c).key for c in table.columns if c.name not in skip}
            if not cols.intersection(changed):
                continue
        values = {c.key: getattr(obj, state.mapper.get_property_by_column(c).key) for c in table.primary_key.columns}
        digest = _DELETED if kind == "deleted" else (_state_digest(table, state) or _READ_BACK)
        pending[(table.name, row_key(table, values))] = digest


def take_pending(session: Session) -> list[list]:
    """The ``[table, key, digest|None]`` of the rows written in this transaction so far, and forget them."""
    pending = session.info.pop(_PENDING, {})
    out = []
    for (table_name, key), digest in sorted(pending.items()):
        pk = json.loads(key)
        if digest == _DELETED:
            digest = None
        elif digest == _READ_BACK:
            table = Base.metadata.tables[table_name]
            cond = [c == v for c, v in zip(table.primary_key.columns, pk)]
            row = session.execute(select(table).where(*cond)).mappings().first()
            digest = None if row is None else row_digest(table, row)
        out.append([table_name, pk, digest])
    return out


def has_pending(session: Session) -> bool:
    return bool(session.info.get(_PENDING))


def snapshot(session: Session, existing: set[str]) -> list[list]:
    """``[table, key, digest]`` of every covered row now in the store (the coverage baseline)."""
    out = []
    for table in covered_tables():
        if table.name not in existing:
            continue
        for row in session.execute(select(table)).mappings():
            out.append([table.name, json.loads(row_key(table, row)), row_digest(table, row)])
    return out
