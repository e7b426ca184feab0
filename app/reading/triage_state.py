"""The triage queue (no Qt): slides confirmed or classified one key each.

Two forms, chosen by the mode of the session's slides:

* **aided** (the AI is allowed): slides ranked by AI suspicion, each row with
  the AI class and the AI probability of the class the score stands for; the
  slide opens with the CAM on; keys 1..n confirm or override the AI class;
* **unaided**: the same queue without any AI.  Slides come in the reader's own
  seeded order (``session.order``), no AI class, no score, no sort or filter
  by AI, no CAM.  The state holds no AI output at all while in this form.

A crossover session holds both: its unaided slides are worked first (so the
AI cannot prime the unaided reads of the same session), then the AI is loaded
for the aided slides.  Rows are named by rank ("Slide 3"), never by case id.
Each confirm submits one ReadSubmission (time per slide is its active time,
summed over its sittings by the engine) and opens the next slide to do.  A
reviewed slide can be reopened and corrected: a new read that supersedes the
old one, with a reason (``ReadingSession.correct``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.reading.answers import MulticlassAnswer
from app.reading.reading_state import ReadingState, utc_now
from app.reading.stopwatch import Clock
from app.reading.triage_gallery_state import GalleryState
from study.aioutput import AIOutput
from study.engine import ReadingSession, ReadSubmission
from study.protocol import Protocol

UNREADABLE = "unreadable"


@dataclass(frozen=True)
class TriageRow:
    case_id: str  # internal; never displayed
    rank: int  # aided: 1 = most suspicious; unaided: position in the reader's order
    ai_class: str  # "" in the unaided form
    score: float  # nan in the unaided form
    done: bool
    answer: str = ""  # the reader's own answer once done ("" if not known)


def _suspicion(out: AIOutput | None) -> tuple[int, float]:
    score = out.score if out is not None else math.nan
    return (1, 0.0) if math.isnan(score) else (0, -score)


def score_class(outputs: list[AIOutput], protocol: Protocol) -> str:
    """The class (or classes, "CIN1+CIN2+") whose probability the AI score is.

    Found from the outputs themselves: the label whose probability equals the
    score in every output, else the task's positive labels when their summed
    probability does; "" when neither holds (the column is then just "AI score").
    """
    outs = [o for o in outputs if o.probabilities and not math.isnan(o.score)]
    if not outs:
        return ""
    labels = outs[0].labels
    for k, label in enumerate(labels):
        if all(o.labels == labels and math.isclose(o.probabilities[k], o.score, abs_tol=1e-6) for o in outs):
            return label
    positive = [p for p in protocol.task.positive if p in labels]
    if positive and all(
        math.isclose(sum(o.probabilities[o.labels.index(p)] for p in positive), o.score, abs_tol=1e-6)
        for o in outs
        if o.labels == labels
    ):
        return "+".join(positive)
    return ""


class TriageState:
    def __init__(
        self,
        session: ReadingSession,
        protocol: Protocol,
        *,
        answers: dict[str, str] | None = None,
        clock: Clock = time.monotonic,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        if protocol.task.kind != "multiclass":
            raise ValueError("the triage queue needs a multiclass task (confirm or override a class)")
        self.protocol = protocol
        self.labels = protocol.task.labels
        self.session = session
        self.reading = ReadingState(session, protocol, clock=clock, now=now, cam_on_open=True)
        self._done: dict[str, str] = {cid: "" for cid in session.answered}
        self._done.update({cid: UNREADABLE for cid in session.unavailable})
        self._done.update({cid: a for cid, a in (answers or {}).items() if cid in self._done})
        self._blocks = [[cid for cid in session.order if session.modes[cid] == mode] for mode in ("unaided", "aided")]
        self._blocks = [b for b in self._blocks if b]
        self._ai: dict[str, AIOutput] = {}
        self._rows: list[tuple[str, int, AIOutput | None]] = []
        self._rows_cache: list[TriageRow] = []
        self._rows_key: tuple | None = None
        self._version = 0  # bumped whenever a slide's answer changes
        self.aided = False
        self.score_class = ""
        self.class_filter: str | None = None
        self.block_changed = False  # set when the queue switched form; the screen rebuilds its table
        self.gallery: GalleryState | None = None  # the open specimen's fields (None: one image)
        self._enter_block()

    # -- the specimen gallery ---------------------------------------------------------
    def begin_gallery(self, n_fields: int) -> GalleryState | None:
        """The open slide is drawn with ``n_fields`` fields: build its gallery (aided: the
        AI's ranking and top-k of ``[triage] top_k``; unaided: stored order, no AI) and show
        its first tile.  Its log goes into the slide's read.  None for a single image."""
        self.end_gallery()
        if n_fields < 2 or self.reading.item is None:
            return None
        ai = self.reading.ai if self.reading.item.mode == "aided" else None
        self.gallery = GalleryState(
            n_fields, ai, self.protocol.triage_top_k, self.reading.active_ms, cam_on=self.reading.cam_visible
        )
        self.reading.field_views = self.gallery.views
        self.gallery.open_first()
        return self.gallery

    def end_gallery(self) -> None:
        self.gallery = None
        self.reading.field_views = None

    # -- the two forms ------------------------------------------------------------
    @property
    def block_index(self) -> int:
        """0-based part of the session being worked (crossover: unaided part, then aided)."""
        return self._block

    @property
    def blocks(self) -> int:
        return len(self._blocks)

    def _enter_block(self) -> None:
        todo = [k for k, b in enumerate(self._blocks) if any(cid not in self._done for cid in b)]
        self._block = todo[0] if todo else max(0, len(self._blocks) - 1)
        ids = self._blocks[self._block] if self._blocks else []
        aided = bool(ids) and self.session.modes[ids[0]] == "aided"
        if aided and not self.aided:
            self._ai = self.session.ai_outputs()  # aided slides only, by the session's rule
        elif not aided:
            self._ai = {}
        self.aided = aided
        if aided:
            ordered = sorted(((cid, self._ai.get(cid)) for cid in ids), key=lambda it: _suspicion(it[1]))
            self._rows = [(cid, rank, out) for rank, (cid, out) in enumerate(ordered, start=1)]
            self.score_class = score_class([o for _, _, o in self._rows if o is not None], self.protocol)
        else:
            self._rows = [(cid, rank, None) for rank, cid in enumerate(ids, start=1)]
            self.score_class = ""
            self.class_filter = None
        self.block_changed = True

    @property
    def rows(self) -> list[TriageRow]:
        # Rebuilt only when a slide is answered or the form changes: the screen asks often.
        key = (self._block, self._version)
        if self._rows_key != key:
            self._rows_cache = [
                TriageRow(
                    cid,
                    rank,
                    out.predicted if out else "",
                    out.score if out else math.nan,
                    cid in self._done,
                    self._done.get(cid, ""),
                )
                for cid, rank, out in self._rows
            ]
            self._rows_key = key
        return list(self._rows_cache)

    def visible_rows(self) -> list[TriageRow]:
        return [r for r in self.rows if self.class_filter is None or r.ai_class == self.class_filter]

    def set_filter(self, ai_class: str | None) -> None:
        """Show only slides the AI put in one class (aided form only)."""
        self.class_filter = (ai_class or None) if self.aided else None

    @property
    def remaining(self) -> int:
        return sum(1 for cid, _, _ in self._rows if cid not in self._done)

    @property
    def current(self) -> TriageRow | None:
        item = self.reading.item
        if item is None:
            return None
        return next((r for r in self.rows if r.case_id == item.case_id), None)

    @property
    def correcting(self) -> bool:
        """The open slide was reviewed before: a new answer is a correction with a reason."""
        item = self.reading.item
        return item is not None and item.case_id in self._done

    def previous_answer(self) -> str:
        item = self.reading.item
        return self._done.get(item.case_id, "") if item is not None else ""

    def can_open(self, case_id: str) -> bool:
        return any(cid == case_id for cid, _, _ in self._rows) and self._done.get(case_id) != UNREADABLE

    def open(self, case_id: str) -> None:
        """Open a slide of the queue (a reviewed one to correct it); the slide left
        unanswered keeps its sitting (recorded by the engine)."""
        if not self.can_open(case_id):
            raise ValueError("this slide cannot be opened")
        self.reading.leave()
        self.end_gallery()
        self.reading.open(case_id)

    def next_todo(self) -> TriageRow | None:
        """Next slide still to do (aided: most suspicious), within the filter when it has any."""
        todo = [r for r in self.visible_rows() if not r.done] or [r for r in self.rows if not r.done]
        return todo[0] if todo else None

    def open_next(self) -> TriageRow | None:
        self.end_gallery()
        row = self.next_todo()
        if row is None and self._block + 1 < len(self._blocks):
            self._enter_block()  # the unaided part is done: the aided part begins
            row = self.next_todo()
        if row is None:
            self.reading._show(None)
        else:
            self.reading.open(row.case_id)
        return row

    def skip_unavailable(self, cause: str) -> None:
        """The open slide cannot be read: recorded by the engine, marked done, next slide."""
        item = self.reading.item
        assert item is not None
        self.reading.session.mark_unavailable(item, cause)
        self.end_gallery()
        self.reading.skipped += 1
        self._done[item.case_id] = UNREADABLE
        self._version += 1
        self.open_next()

    def key(self, name: str) -> bool:
        """Digits pick the class; the caller then calls ``confirm``."""
        return self.reading.key(name)

    def confirm(self, index: int, reason: str | None = None) -> ReadSubmission:
        """Submit class ``index`` (0-based) for the open slide, then open the next.

        A reviewed slide needs ``reason`` (a correction); raises ValueError without one."""
        correction = self.correcting
        if correction and not (reason or "").strip():
            raise ValueError("A correction needs a reason.")
        answer = self.reading.answer
        assert isinstance(answer, MulticlassAnswer)
        answer.select(index)
        read = self.reading.submit(advance=False, correction_reason=reason.strip() if correction else None)
        self._done[read.case_id] = read.answer
        self._version += 1
        self.open_next()
        return read
