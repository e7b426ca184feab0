"""The field gallery of one specimen in the triage screen (no Qt).

A specimen (``study.specimen``) has several fields of view.  The gallery lists
them as tiles:

* **aided**: ranked by the AI's field score (most suspicious first), each tile
  with its score and a CAM toggle; the first ``top_k`` (``[triage] top_k`` of the
  protocol) are marked as the AI's picks;
* **unaided**: the stored order of the fields, no score, no pick, no CAM.  The
  state is given no AI output at all in this form.

Digit ``n`` (or a click) shows tile n full size.  Every opening is logged (field,
order, active time on screen, pauses excluded because the reading state's active
clock is the time base); ``D`` marks the field on screen as decisive.  When no field
was marked, the field on screen at the answer is the decisive one.  ``views()``
gives the log as ``FieldView`` rows for the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from study.aioutput import AIOutput
from study.specimen import FieldScore, FieldView, ranked, top_k


@dataclass(frozen=True)
class GalleryTile:
    position: int  # 1-based place in the gallery (the digit that opens it)
    field_index: int  # 0-based stored order of the field
    score: float  # nan in the unaided form
    pick: bool  # among the AI's top-k (never in the unaided form)


class GalleryState:
    def __init__(
        self,
        n_fields: int,
        ai: AIOutput | None,
        k: int,
        active_ms: Callable[[], int],
        *,
        cam_on: bool = True,
    ) -> None:
        """``ai``: the specimen's output in an aided read, None in an unaided one.
        ``active_ms``: the read's active clock (ms).  Raises ValueError for no fields."""
        if n_fields < 1:
            raise ValueError("a specimen needs at least one field")
        self._active_ms = active_ms
        scores = tuple(ai.fields) if ai is not None and ai.fields else ()
        if scores and len(scores) != n_fields:
            scores = ()  # the AI scored another set of fields: show none of it rather than mismatched scores
        self.aided = bool(scores)
        if self.aided:
            picks = top_k(scores, k)
            self.tiles = tuple(
                GalleryTile(pos, f.index, f.score, f.index in picks) for pos, f in enumerate(ranked(scores), start=1)
            )
            self._rank = {t.field_index: t.position for t in self.tiles}
            self._picks = picks
        else:
            self.tiles = tuple(GalleryTile(i + 1, i, math.nan, False) for i in range(n_fields))
            self._rank, self._picks = {}, frozenset()
        self.cam_on = {t.field_index: bool(cam_on and self.aided) for t in self.tiles}
        self.shown: int | None = None
        self.decisive: int | None = None
        self._log: list[list[int]] = []  # [field_index, started_ms, shown_ms]

    @staticmethod
    def scores_of(ai: AIOutput | None) -> tuple[FieldScore, ...]:
        return tuple(ai.fields) if ai is not None else ()

    # -- showing fields -------------------------------------------------------------
    def show_position(self, position: int) -> int | None:
        """Digit ``position`` (1-based): show that tile's field; its field index, or None if out of range."""
        if not 1 <= position <= len(self.tiles):
            return None
        field = self.tiles[position - 1].field_index
        self.show_field(field)
        return field

    def show_field(self, field_index: int) -> None:
        """Show a field full size (logged as an opening unless it is already on screen)."""
        if field_index not in self.cam_on:
            raise ValueError(f"no field {field_index} in this specimen")
        if self.shown == field_index:
            return
        self._close_current()
        self.shown = field_index
        self._log.append([field_index, self._active_ms(), 0])

    def _close_current(self) -> None:
        if self._log and self.shown is not None:
            entry = self._log[-1]
            entry[2] += max(0, self._active_ms() - entry[1])
            entry[1] = self._active_ms()

    def open_first(self) -> int:
        """The field shown when the specimen opens: the AI's first pick, or stored field 1."""
        self.show_field(self.tiles[0].field_index)
        return self.tiles[0].field_index

    # -- marks ----------------------------------------------------------------------
    def toggle_cam(self, field_index: int) -> bool:
        """Toggle one field's CAM (aided form only); the new state."""
        if not self.aided:
            return False
        self.cam_on[field_index] = not self.cam_on[field_index]
        return self.cam_on[field_index]

    def cam_visible(self, field_index: int) -> bool:
        return self.aided and self.cam_on.get(field_index, False)

    def mark_decisive(self, field_index: int | None = None) -> int | None:
        """Mark a field (default: the one on screen) as deciding the answer; again to unmark."""
        field = self.shown if field_index is None else field_index
        self.decisive = None if field == self.decisive else field
        return self.decisive

    def rank_of(self, field_index: int) -> int | None:
        return self._rank.get(field_index)

    def is_pick(self, field_index: int) -> bool:
        return field_index in self._picks

    def opened(self) -> list[int]:
        """Field indices in the order they were opened (a field reopened appears again)."""
        return [f for f, *_ in self._log]

    # -- the log ----------------------------------------------------------------------
    def views(self) -> tuple[FieldView, ...]:
        """The openings so far as FieldView rows; the last opening's time runs to now.

        The decisive field is the marked one, else the field on screen now; it is flagged
        on its last opening (an unopened marked field cannot be decisive)."""
        entries = [list(e) for e in self._log]
        if entries and self.shown is not None:
            entries[-1][2] += max(0, self._active_ms() - entries[-1][1])
        decisive = self.decisive if self.decisive is not None else self.shown
        last = max((i for i, e in enumerate(entries) if e[0] == decisive), default=None)
        return tuple(
            FieldView(
                seq=i + 1,
                field_index=f,
                shown_ms=ms,
                decisive=i == last,
                ai_rank=self.rank_of(f) if self.aided else None,
                in_top_k=self.is_pick(f) if self.aided else None,
            )
            for i, (f, _, ms) in enumerate(entries)
        )
