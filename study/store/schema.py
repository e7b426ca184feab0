"""Tables of the study store (SQLAlchemy 2 declarative).

Times are stored as naive UTC and handed out tz-aware (``UTCDateTime``), so
SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Study facts fixed at first open (study id, seed) so later edits are detected."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ReaderRow(Base):
    __tablename__ = "readers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    group: Mapped[str] = mapped_column("reader_group", String(64), default="")
    pin_hash: Mapped[str] = mapped_column(String(256))
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReadRow(Base):
    """One submitted read.  Never updated: a correction is a new row that
    points at the row it replaces through ``supersedes_id``."""

    __tablename__ = "reads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    session_index: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    distribution: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    displayed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active_ms: Mapped[int] = mapped_column(Integer)
    ai_shown_ms: Mapped[int] = mapped_column(Integer, default=0)
    cam_shown: Mapped[bool] = mapped_column(Boolean, default=False)
    cam_shown_ms: Mapped[int] = mapped_column(Integer, default=0)
    answer_changes: Mapped[int] = mapped_column(Integer, default=0)
    workstation: Mapped[str] = mapped_column(String(128), default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("reads.id"), nullable=True)
    correction_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # binary tasks: "consistent" | "contradictory" (category vs likelihood, study.consistency)
    consistency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # region tasks: the mask (study.region.encode_mask PNG), its pixel spacing (JSON [row_mm, col_mm]
    # or null), whether the AI's contour was submitted unchanged (aided), and the editing effort.
    region_mask: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    region_spacing: Mapped[str | None] = mapped_column(String(64), nullable=True)
    accepted_unchanged: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    edit_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    edit_count: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AIOutputRow(Base):
    __tablename__ = "ai_outputs"
    __table_args__ = (UniqueConstraint("case_id", "model_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    model_id: Mapped[str] = mapped_column(String(128))
    head: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # JSON: labels, probabilities, value, ...
    cams: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # npz of float16
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LeaseRow(Base):
    """Who is running a reader's session right now (heartbeat + expiry)."""

    __tablename__ = "leases"
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), primary_key=True)
    session_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    workstation: Mapped[str] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the window holding it opened the session (None: a lease taken before this was kept).
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SittingRow(Base):
    """One stretch of time a reader had a case on screen: from drawn to submitted,
    or to leaving it unanswered (Exit, another slide opened, window closed).

    Insert-only.  The sitting that ends in a submit carries ``read_id``; the
    read's ``active_ms`` is the sum of its sittings (those of the same reader,
    session and case after the previous read of that case).
    """

    __tablename__ = "sittings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    session_index: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active_ms: Mapped[int] = mapped_column(Integer)
    ai_shown_ms: Mapped[int] = mapped_column(Integer, default=0)
    cam_shown_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))  # "left" | "submitted"
    # The read it counts towards.  Not a foreign key: a deleted read is for the audit
    # chain to report (it names the gap), not for a sitting row to block.
    read_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    workstation: Mapped[str] = mapped_column(String(128), default="")
    # A sitting left unanswered: the reader's partial answer then (JSON, their own input only,
    # never the AI's), shown again when they come back to the case.  None: nothing entered.
    draft: Mapped[str | None] = mapped_column(Text, nullable=True)


class FieldViewRow(Base):
    """One opening of a specimen's field in the triage gallery (``study.specimen.FieldView``).

    Insert-only, written with the sitting it belongs to: ``read_id`` is the read the
    sitting ended in (None: the specimen was left unanswered).  ``seq`` orders the
    openings within a sitting; ``decisive`` marks the field the reviewer named as
    deciding the answer; ``ai_rank`` / ``in_top_k`` say where the AI ranked that
    field (None in an unaided read, where the AI is not shown).
    """

    __tablename__ = "field_views"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    session_index: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[str] = mapped_column(String(128))
    sitting_id: Mapped[int] = mapped_column(Integer)
    read_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seq: Mapped[int] = mapped_column(Integer)
    field_index: Mapped[int] = mapped_column(Integer)
    shown_ms: Mapped[int] = mapped_column(Integer)
    decisive: Mapped[bool] = mapped_column(Boolean, default=False)
    ai_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    in_top_k: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class WashoutOverrideRow(Base):
    __tablename__ = "washout_overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"))
    session_index: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Append-only log; ``hash`` = sha256(prev_hash + canonical row)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHeadRow(Base):
    """Single row holding the chain's tip; locked FOR UPDATE while appending so
    concurrent writers on PostgreSQL cannot fork the chain."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class LockoutRow(Base):
    """Failed-login counter of a non-reader login (the study admin); locked FOR UPDATE while counted.

    Not covered by the audit chain (it gates logins, not results); failures and lock-outs are
    audit rows of their own."""

    __tablename__ = "lockouts"
    who: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
