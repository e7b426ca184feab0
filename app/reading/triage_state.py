"""The triage queue (no Qt): slides ranked by AI suspicion, confirmed or overridden.

Rows are named by rank ("Slide 3"), never by case id.  Opening a slide starts
its clock with the CAM on; keys 1..n confirm or override the class, which
submits one ReadSubmission for that slide (time per slide is its active time)
and opens the most suspicious slide still to do.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from app.reading.answers import MulticlassAnswer
from app.reading.reading_state import ReadingState, utc_now
from app.reading.stopwatch import Clock
from study.aioutput import AIOutput
from study.engine import ReadingSession, ReadSubmission
from study.protocol import Protocol


@dataclass(frozen=True)
class TriageRow:
    case_id: str          # internal; never displayed
    rank: int             # 1 = most suspicious
    ai_class: str
    score: float
    done: bool
    answer: str = ""


def _sort_key(item: tuple[str, AIOutput | None]) -> tuple[int, float]:
    score = item[1].score if item[1] is not None else math.nan
    return (1, 0.0) if math.isnan(score) else (0, -score)


class TriageState:
    def __init__(self, session: ReadingSession, protocol: Protocol, ai_outputs: dict[str, AIOutput],
                 case_ids: Iterable[str], *, done: dict[str, str] | None = None,
                 clock: Clock = time.monotonic, now: Callable[[], datetime] = utc_now) -> None:
        if protocol.task.kind != "multiclass":
            raise ValueError("the triage queue needs a multiclass task (confirm or override a class)")
        self.protocol = protocol
        self.labels = protocol.task.labels
        self.reading = ReadingState(session, protocol, clock=clock, now=now, cam_on_open=True)
        ordered = sorted(((cid, ai_outputs.get(cid)) for cid in case_ids), key=_sort_key)
        self._done = dict(done or {})
        self._rows = [(cid, rank, out) for rank, (cid, out) in enumerate(ordered, start=1)]
        self.class_filter: str | None = None

    @property
    def rows(self) -> list[TriageRow]:
        return [TriageRow(cid, rank, out.predicted if out else "", out.score if out else math.nan,
                          cid in self._done, self._done.get(cid, ""))
                for cid, rank, out in self._rows]

    def visible_rows(self) -> list[TriageRow]:
        return [r for r in self.rows if self.class_filter is None or r.ai_class == self.class_filter]

    def set_filter(self, ai_class: str | None) -> None:
        self.class_filter = ai_class or None

    @property
    def remaining(self) -> int:
        return sum(1 for r in self.rows if not r.done)

    @property
    def current(self) -> TriageRow | None:
        item = self.reading.item
        if item is None:
            return None
        return next(r for r in self.rows if r.case_id == item.case_id)

    def open(self, case_id: str) -> None:
        self.reading.open(case_id)

    def next_todo(self) -> TriageRow | None:
        """Most suspicious slide still to do, within the filter when it has any."""
        todo = [r for r in self.visible_rows() if not r.done] or [r for r in self.rows if not r.done]
        return todo[0] if todo else None

    def open_next(self) -> TriageRow | None:
        row = self.next_todo()
        if row is None:
            self.reading._show(None)
        else:
            self.open(row.case_id)
        return row

    def skip_unavailable(self, cause: str) -> None:
        """The open slide cannot be read: recorded by the engine, marked done, next slide."""
        item = self.reading.item
        assert item is not None
        self.reading.session.mark_unavailable(item, cause)
        self.reading.skipped += 1
        self._done[item.case_id] = "unreadable"
        self.open_next()

    def key(self, name: str) -> bool:
        """Digits pick the class; the caller then calls ``confirm``."""
        return self.reading.key(name)

    def confirm(self, index: int) -> ReadSubmission:
        """Submit class ``index`` (0-based) for the open slide, then open the next."""
        answer = self.reading.answer
        assert isinstance(answer, MulticlassAnswer)
        answer.select(index)
        read = self.reading.submit(advance=False)
        self._done[read.case_id] = read.answer
        self.open_next()
        return read
