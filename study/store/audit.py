"""The hash-chained audit log.

Each row's hash is sha256 over the previous row's hash and the row's own
canonical content (id, time, actor, action, payload), so editing any field,
deleting a row, or reordering rows breaks the chain at that row.  Reads are
covered too: every submitted read appends a row carrying a digest of the read,
and verification recomputes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from study.store.schema import AuditHeadRow, AuditRow, ReadRow

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
        "id": read.id, "reader_id": read.reader_id, "session_index": read.session_index,
        "case_id": read.case_id, "mode": read.mode, "answer": read.answer,
        "confidence": _num(read.confidence), "distribution": read.distribution, "value": _num(read.value),
        "displayed_at": read.displayed_at.astimezone(timezone.utc).isoformat(),
        "submitted_at": read.submitted_at.astimezone(timezone.utc).isoformat(),
        "active_ms": int(read.active_ms), "ai_shown_ms": int(read.ai_shown_ms), "cam_shown": bool(read.cam_shown),
        "cam_shown_ms": int(read.cam_shown_ms), "answer_changes": int(read.answer_changes),
        "supersedes_id": read.supersedes_id,
    }
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


def append(session: Session, at: datetime, actor: str, action: str, payload: dict) -> AuditRow:
    """Append one row inside the caller's transaction (the head row is locked)."""
    head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHeadRow(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
    # Hash exactly what the store hands back: aware UTC.
    at = at.astimezone(timezone.utc)
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


def verify(session: Session) -> ChainCheck:
    rows = session.execute(select(AuditRow).order_by(AuditRow.id)).scalars().all()
    prev, expected_id = GENESIS, 1
    read_digests: dict[int, str] = {}
    for row in rows:
        if row.id != expected_id:
            return ChainCheck(False, len(rows), expected_id, f"row {expected_id} is missing (next is {row.id})")
        if row.prev_hash != prev:
            return ChainCheck(False, len(rows), row.id, "previous-hash link does not match")
        if row_hash(prev, row.id, row.at, row.actor, row.action, row.payload) != row.hash:
            return ChainCheck(False, len(rows), row.id, "row content was edited")
        if row.action == "read.submitted":
            data = json.loads(row.payload)
            read_digests[int(data["read_id"])] = data["digest"]
        prev, expected_id = row.hash, expected_id + 1
    head = session.get(AuditHeadRow, 1)
    if head is not None and head.last_id != len(rows):
        return ChainCheck(False, len(rows), len(rows) + 1, f"rows after {len(rows)} were deleted (head says {head.last_id})")
    for read in session.execute(select(ReadRow).order_by(ReadRow.id)).scalars():
        digest = read_digests.pop(read.id, None)
        if digest is None:
            return ChainCheck(False, len(rows), None, f"read {read.id} has no audit entry")
        if digest != read_digest(read):
            return ChainCheck(False, len(rows), None, f"read {read.id} was edited after submission")
    if read_digests:
        missing = min(read_digests)
        return ChainCheck(False, len(rows), None, f"read {missing} was deleted")
    return ChainCheck(True, len(rows))
