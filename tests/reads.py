"""Reads submitted through the engine as a reader would, for tests that need a read study."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from study.engine import ReadingSession, ReadSubmission


def read_session(rs: ReadingSession, answer: Callable[[str], dict], limit: int | None = None) -> int:
    """Submit ``answer(case_id)`` (ReadSubmission's answer fields) for the session's next cases, each
    read for 5 s, up to ``limit`` cases (all when None); return how many were read.  The session
    stays open (the caller closes it)."""
    n = 0
    while (limit is None or n < limit) and (item := rs.next_item()) is not None:
        now = datetime.now(UTC)
        rs.submit(
            ReadSubmission(
                item.case_id,
                displayed_at=now - timedelta(seconds=5),
                submitted_at=now,
                active_ms=5000,
                **answer(item.case_id),
            )
        )
        n += 1
    return n
