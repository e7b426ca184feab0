"""The hash-chained audit log.

Each row's hash is sha256 over the previous row's hash and the row's own
canonical content (id, time, actor, action, payload), so editing any field,
deleting a row, or reordering rows breaks the chain at that row.  Every other
row that can change a result is covered too (``study.store.coverage``): an
audit row carries the digests of the rows its transaction wrote, and
verification recomputes the digest of every covered row.  Anchors written
outside the database (``study.store.anchor``) catch a truncated or recomputed
chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, cast, inspect, select
from sqlalchemy.orm import Session

from study.store import coverage
from study.store.schema import AuditHeadRow, AuditRow, ReadRow

BASELINE = "audit.coverage"

GENESIS = "0" * 64


def canonical(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(prev_hash: str, row_id: int, at: datetime, actor: str, action: str, payload: str) -> str:
    text = "\x1f".join([prev_hash, str(row_id), at.isoformat(), actor, action, payload])
    return hashlib.sha256(text.encode()).hexdigest()


def _num(x: float | None) -> float | None:
    # 70 and 70.0 must hash alike: the database hands floats back.
    return None if x is None else float(x)


def read_digest(read: ReadRow) -> str:
    fields = {
        "id": read.id,
        "reader_id": read.reader_id,
        "session_index": read.session_index,
        "case_id": read.case_id,
        "mode": read.mode,
        "answer": read.answer,
        "confidence": _num(read.confidence),
        "distribution": read.distribution,
        "value": _num(read.value),
        "displayed_at": read.displayed_at.astimezone(UTC).isoformat(),
        "submitted_at": read.submitted_at.astimezone(UTC).isoformat(),
        "active_ms": int(read.active_ms),
        "ai_shown_ms": int(read.ai_shown_ms),
        "cam_shown": bool(read.cam_shown),
        "cam_shown_ms": int(read.cam_shown_ms),
        "answer_changes": int(read.answer_changes),
        "supersedes_id": read.supersedes_id,
    }
    if read.region_mask is not None:  # region reads only, so older reads keep their digests
        fields |= {
            "region_mask": hashlib.sha256(bytes(read.region_mask)).hexdigest(),
            "region_spacing": read.region_spacing,
            "accepted_unchanged": read.accepted_unchanged,
            "edit_ms": read.edit_ms,
            "edit_count": read.edit_count,
        }
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


def lock_head(session: Session) -> AuditHeadRow:
    """The chain's head row, locked until the transaction ends (created on first use)."""
    head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHeadRow(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def append(session: Session, at: datetime, actor: str, action: str, payload: dict) -> AuditRow:
    """Append one row inside the caller's transaction (the head row is locked).

    The digests of the covered rows this transaction wrote so far go into the
    row's payload as ``_rows``, so the chain seals them.
    """
    session.flush()
    rows = coverage.take_pending(session)
    if rows:
        payload = {**payload, "_rows": rows}
    head = lock_head(session)
    # Hash exactly what the store hands back: aware UTC.
    at = at.astimezone(UTC)
    text = canonical(payload)
    row_id = head.last_id + 1
    digest = row_hash(head.last_hash, row_id, at, actor, action, text)
    row = AuditRow(id=row_id, at=at, actor=actor, action=action, payload=text, prev_hash=head.last_hash, hash=digest)
    session.add(row)
    head.last_id, head.last_hash = row_id, digest
    session.flush()
    return row


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    rows: int
    first_broken: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"OK ({self.rows} rows)"
        return f"BROKEN at row {self.first_broken}: {self.reason}"


@dataclass(frozen=True)
class Anchor:
    """A (row count, head hash) pair recorded outside the database."""

    rows: int
    head: str
    at: str = ""
    where: str = ""


def verify(session: Session, anchors: Iterable[Anchor] = ()) -> ChainCheck:
    """Check the chain, every covered row and the anchors; an unreadable value is a break, not an error."""
    try:
        return _verify(session, list(anchors))
    except (ValueError, TypeError, OverflowError, KeyError, json.JSONDecodeError) as err:
        session.rollback()
        where = _find_unreadable(session)
        return ChainCheck(
            False,
            0,
            where[1] if where else None,
            f"{where[0] if where else 'a stored value'} cannot be read ({err.__class__.__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''})",
        )


def _find_unreadable(session: Session) -> tuple[str, int | None] | None:
    """The first (table, row id) whose timestamp text does not parse (SQLite stores text)."""
    for table in [AuditRow.__table__, *coverage.covered_tables()]:
        times = [c for c in table.columns if isinstance(c.type, type(AuditRow.__table__.c.at.type))]
        if not times or table.name not in inspect(session.connection()).get_table_names():
            continue
        pk = list(table.primary_key.columns)[0]
        for row in session.execute(select(pk, *[cast(c, String) for c in times])).all():
            for text in row[1:]:
                if text is None:
                    continue
                try:
                    datetime.fromisoformat(str(text))
                except ValueError:
                    return f"{table.name} row {row[0]}: timestamp {str(text)[:40]!r}", row[
                        0
                    ] if table.name == "audit_log" else None
    return None


def _verify(session: Session, anchors: list[Anchor]) -> ChainCheck:
    rows = session.execute(select(AuditRow).order_by(AuditRow.id)).scalars().all()
    prev, expected_id = GENESIS, 1
    read_digests: dict[int, tuple[str, int]] = {}
    sealed: dict[tuple[str, str], tuple[str | None, int]] = {}
    hashes: list[str] = []
    baseline_at: int | None = None
    for row in rows:
        if row.id != expected_id:
            return ChainCheck(False, len(rows), expected_id, f"row {expected_id} is missing (next is {row.id})")
        if row.prev_hash != prev:
            return ChainCheck(False, len(rows), row.id, "previous-hash link does not match")
        if row_hash(prev, row.id, row.at, row.actor, row.action, row.payload) != row.hash:
            return ChainCheck(False, len(rows), row.id, "row content was edited")
        data = json.loads(row.payload)
        if row.action == "read.submitted":
            read_digests[int(data["read_id"])] = (data["digest"], row.id)
        if row.action == BASELINE:
            if baseline_at is not None:
                return ChainCheck(
                    False, len(rows), row.id, f"the coverage baseline was recorded again (first at row {baseline_at})"
                )
            baseline_at = row.id
        for table, key, digest in data.get("_rows", ()):
            sealed[(table, json.dumps(key))] = (digest, row.id)
        hashes.append(row.hash)
        prev, expected_id = row.hash, expected_id + 1
    head = session.get(AuditHeadRow, 1)
    if head is not None and head.last_id != len(rows):
        return ChainCheck(
            False, len(rows), len(rows) + 1, f"rows after {len(rows)} were deleted (head says {head.last_id})"
        )
    for a in anchors:
        source = f"the anchor written {a.at} by {a.where}".replace("  ", " ")
        if a.rows > len(rows):
            return ChainCheck(
                False,
                len(rows),
                len(rows) + 1,
                f"rows {len(rows) + 1}-{a.rows} were removed ({source} counted {a.rows} rows)",
            )
        if a.rows and hashes[a.rows - 1] != a.head:
            return ChainCheck(
                False, len(rows), a.rows, f"the chain was rewritten ({source} has another hash for row {a.rows})"
            )
    for read in session.execute(select(ReadRow).order_by(ReadRow.id)).scalars():
        digest, at = read_digests.pop(read.id, (None, None))
        if digest is None:
            return ChainCheck(False, len(rows), None, f"read {read.id} has no audit entry")
        if digest != read_digest(read):
            return ChainCheck(False, len(rows), at, f"read {read.id} was edited after submission")
    if read_digests:
        missing = min(read_digests)
        return ChainCheck(False, len(rows), read_digests[missing][1], f"read {missing} was deleted")
    if baseline_at is not None:  # stores made before row coverage existed are checked from their baseline on
        present = set(inspect(session.connection()).get_table_names())
        for table in coverage.covered_tables():
            if table.name not in present:
                continue
            for r in session.execute(select(table)).mappings():
                key = coverage.row_key(table, r)
                digest, at = sealed.pop((table.name, key), (None, None))
                if at is None:
                    return ChainCheck(
                        False,
                        len(rows),
                        None,
                        f"{table.name} row {key}: not in the audit chain (written outside the app)",
                    )
                if digest != coverage.row_digest(table, r):
                    return ChainCheck(
                        False, len(rows), at, f"{table.name} row {key}: edited after audit row {at} sealed it"
                    )
        gone = [(at, t, k) for (t, k), (d, at) in sealed.items() if d is not None]
        if gone:
            at, t, k = min(gone)
            return ChainCheck(False, len(rows), at, f"{t} row {k}: deleted outside the app (sealed by audit row {at})")
    return ChainCheck(True, len(rows))
