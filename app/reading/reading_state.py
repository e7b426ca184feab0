"""The reading screen's state: current case, answer, clocks, pause, CAM time (no Qt).

Timing rules:
* the case clock starts when the case's media are on screen (``media_shown``),
  not when loading starts, and stops while paused or once the protocol's time
  limit is reached;
* the AI panel is visible exactly while the case clock runs in an aided read,
  so ``ai_shown_ms`` is the active time of an aided case;
* the CAM clock runs while the CAM is visible and the case clock runs.

``submit`` hands one ReadSubmission to the engine, which commits it before
returning; only then does the next case become current.

The state holds a ``SessionView``, never the session or the engine: the screen
can reach this reader's cases, their media and (aided cases only) the AI
output, but no truth, no store and no other reader's read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from app.reading.answers import AnswerState, answer_for
from app.reading.region_answer import RegionAnswer
from app.reading.stopwatch import Clock, Stopwatch
from study.aioutput import AIOutput
from study.consistency import CONTRADICTORY, binary_consistency, contradiction_text
from study.engine import CaseItem, ReadingSession, ReadSubmission, SessionView
from study.heat import FULL, HeatStrength, heat_strength
from study.media.types import Media
from study.protocol import Protocol
from study.region import NoVolumeError, ai_region_mask, case_voxel_mm
from study.specimen import FieldView


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OverlayStyle:
    """How the CAM is drawn; a preference that carries over between cases."""

    opacity: float = 0.45
    colormap: str = "jet"


@dataclass(frozen=True)
class Summary:
    """What the reader sees after the last case (never accuracy without feedback)."""

    cases_read: int  # distinct cases answered this sitting (a correction adds none)
    active_ms: int  # every read's active time, corrections included
    done: int
    total: int
    skipped: int = 0


class ReadingState:
    def __init__(
        self,
        session: SessionView | ReadingSession,
        protocol: Protocol,
        *,
        clock: Clock = time.monotonic,
        now: Callable[[], datetime] = utc_now,
        cam_on_open: bool = False,
    ) -> None:
        self.session = SessionView.of(session)  # the narrow view only (see module doc)
        self.protocol = protocol
        self._clock = clock
        self._now = now
        self.item: CaseItem | None = None
        self.ai: AIOutput | None = None
        self.answer: AnswerState = answer_for(protocol.task, clock)
        self.paused = False
        self.loading = False
        self.time_up = False
        self.displayed_at: datetime | None = None
        self.cam_visible = cam_on_open  # the reader's preference
        self.overlay = OverlayStyle()
        self._active = Stopwatch(clock)
        self._cam = Stopwatch(clock)
        self._cam_ever = False
        self._cases_read: set[str] = set()  # distinct cases: a corrected case is still one case
        self._read_ms = 0
        self.submitted: list[ReadSubmission] = []  # this run only, for the summary
        self.skipped = 0  # cases whose media could not be read, this run
        self.warned = False  # a contradiction was shown for the answer as it stands
        self.stopped = False  # the session moved to another window: nothing more is read here
        # A specimen's gallery log (triage): called at submit and leave, its FieldViews go
        # into the same engine transaction as the read (study.specimen.FieldView).
        self.field_views: Callable[[], tuple[FieldView, ...]] | None = None

    # -- case lifecycle -------------------------------------------------------
    def start(self) -> CaseItem | None:
        """Show the first unanswered case (resume after a crash); None when done."""
        self._show(self.session.next_item())
        return self.item

    def open(self, case_id: str) -> CaseItem:
        """Make a chosen case current (triage); the current one is dropped unsaved."""
        self._show(self.session.item(case_id))
        assert self.item is not None
        return self.item

    def _show(self, item: CaseItem | None) -> None:
        self._active = Stopwatch(self._clock)
        self._cam = Stopwatch(self._clock)
        self._cam_ever = False
        self.item = item
        self.answer = answer_for(self.protocol.task, self._clock)
        if item is not None:
            # What the reader had entered when they last left this case unanswered (Exit,
            # another slide opened, window closed): their own input only, never the AI's.
            draft = self.session.draft(item.case_id)
            if draft:
                self.answer.restore(draft)
        self.ai = None  # known once the case is drawn (see attach_ai)
        self.heat_field: int | None = None  # a specimen's field whose CAM is on screen (triage gallery)
        self._ai_attached = False
        self.warned = False
        self.time_up = False
        self.paused = False
        self.loading = item is not None
        self.displayed_at = None

    def attach_ai(self, ai: AIOutput | None) -> None:
        """The AI output the session gave for the current case, fetched ahead with its media.

        It must come from ``session.ai_output(item)`` for this very item: the
        session alone decides (None in unaided reads, always).
        """
        if self.item is not None:
            # Belt and braces: whatever was fetched, an unaided item shows no AI.
            self.ai = ai if self.item.mode == "aided" else None
            self._ai_attached = True

    def media_ready(self) -> None:
        """The media are in memory and handed to the viewer, not yet painted: the cover
        comes off, the clock does not start (the app is still working)."""
        if self.item is None or not self.loading:
            return
        if not self._ai_attached:
            self.attach_ai(self.session.ai_output(self.item))
        self.loading = False

    def media_shown(self) -> None:
        """The current case is drawn on screen: its clock starts now."""
        if self.item is None or self.displayed_at is not None:
            return
        self.media_ready()
        self.displayed_at = self._now()
        self._sync_clocks()

    def leave(self) -> None:
        """The reader leaves the case on screen unanswered (Exit, another slide opened,
        window closed): the engine records the sitting, whose time counts towards the
        case's read when it is finished later, with the answer entered so far, which the
        case shows again when the reader comes back to it."""
        if self.item is None or self.displayed_at is None:
            return
        self._active.stop()
        self._cam.stop()
        active = self.active_ms()
        self.session.leave(
            ReadSubmission(
                self.item.case_id,
                "",
                self.displayed_at,
                max(self._now(), self.displayed_at),
                active,
                ai_shown_ms=active if self.aided else 0,
                cam_shown=self._cam_ever,
                cam_shown_ms=self.cam_ms() if self._cam_ever else 0,
                field_views=self.field_views() if self.field_views is not None else (),
            ),
            self.answer.draft(),
        )
        self.displayed_at = None  # recorded once

    def skip_unavailable(self, cause: str) -> CaseItem | None:
        """The case's media cannot be read: the engine records it (audit) and skips it."""
        assert self.item is not None
        self.session.mark_unavailable(self.item, cause)
        self.skipped += 1
        self._show(self.session.next_item())
        return self.item

    def peek_next(self) -> CaseItem | None:
        return self.session.peek_next(self.item) if self.item is not None else None

    @property
    def finished(self) -> bool:
        return self.item is None

    @property
    def aided(self) -> bool:
        return self.ai is not None

    @property
    def has_cam(self) -> bool:
        # A segmentation head's maps are its region (shown with A / O), not a heat map.
        return self.ai is not None and bool(self.ai.cams) and self.ai.head != "segmentation"

    @property
    def heat(self) -> HeatStrength:
        """How strongly the CAM on screen is drawn and what the AI panel says about it
        (``study.heat``): the AI's score for the CAM's class against the model's cut-off."""
        if not self.has_cam:
            return FULL
        protocol = self.protocol
        fallback = tuple(protocol.model_positive) or tuple(getattr(protocol.task, "positive", ()) or ())
        return heat_strength(self.ai, self.heat_field, fallback)

    # -- clocks -----------------------------------------------------------------
    @property
    def clock_running(self) -> bool:
        return (
            self.item is not None
            and self.displayed_at is not None
            and not (self.loading or self.paused or self.time_up or self.stopped)
        )

    @property
    def cam_on_screen(self) -> bool:
        return self.has_cam and self.cam_visible and self.clock_running

    def _sync_clocks(self) -> None:
        self._active.run_if(self.clock_running)
        self._cam.run_if(self.cam_on_screen)
        self._cam_ever = self._cam_ever or self.cam_on_screen

    def active_ms(self) -> int:
        return self._active.ms()

    def cam_ms(self) -> int:
        return self._cam.ms()

    def time_left_s(self) -> float | None:
        limit = self.protocol.time_limit_seconds
        if not limit or self.item is None:
            return None
        return max(0.0, limit - self._active.seconds())

    def tick(self) -> bool:
        """Called about once a second; True when the time limit was just reached."""
        left = self.time_left_s()
        if left is not None and left <= 0 and not self.time_up:
            self.time_up = True
            self._sync_clocks()
            return True
        return False

    def stop(self) -> None:
        """The session moved to another window: the clocks stop and nothing more is submitted.
        The answer on screen stays (shown, never saved) so the reader can give it there."""
        self.stopped = True
        self._sync_clocks()

    def set_paused(self, paused: bool) -> None:
        if self.item is None or self.stopped:
            return
        self.paused = paused
        self._sync_clocks()

    def toggle_pause(self) -> None:
        self.set_paused(not self.paused)

    def set_cam_visible(self, visible: bool) -> None:
        self.cam_visible = bool(visible)
        self._sync_clocks()

    def toggle_cam(self) -> bool:
        """``c``: only meaningful when this case has a CAM; False otherwise."""
        if not self.has_cam:
            return False
        self.set_cam_visible(not self.cam_visible)
        return True

    def set_overlay(self, opacity: float | None = None, colormap: str | None = None) -> None:
        o = self.overlay
        self.overlay = OverlayStyle(
            o.opacity if opacity is None else min(1.0, max(0.0, opacity)), o.colormap if colormap is None else colormap
        )

    # -- answering --------------------------------------------------------------
    def key(self, name: str) -> bool:
        if self.item is None or self.paused or self.loading:
            return False
        changed = self.answer.key(name)
        if changed:
            self.answer_edited()
        return changed

    def answer_edited(self) -> None:
        """The answer changed (key or widget): a shown contradiction warning no longer applies."""
        self.warned = False

    @property
    def can_submit(self) -> bool:
        return self.item is not None and not (self.paused or self.loading or self.stopped) and self.answer.complete

    # -- category vs likelihood (study.consistency; the protocol's task.consistency) --
    @property
    def contradiction(self) -> str:
        """The reader-facing sentence when the binary answer's category contradicts its rating, else ""."""
        task, a = self.protocol.task, self.answer
        if task.kind != "binary" or not a.complete:
            return ""
        if binary_consistency(a.label_index, a.confidence, task.confidence_range) != CONTRADICTORY:
            return ""
        return contradiction_text(task.labels, a.label_index, a.confidence, task.confidence_range)

    @property
    def consistency_note(self) -> str:
        """What the answer panel says about a contradiction (warn: confirm; block: change it)."""
        text = self.contradiction
        if not text:
            return ""
        if self.protocol.task.consistency == "block":
            return f"{text} Change the answer or the likelihood."
        if self.warned:
            return f"{text} Press Enter again to submit it as it is."
        return text

    def try_submit(self) -> ReadSubmission | None:
        """Enter: submit, unless a contradiction must first be shown (warn) or fixed (block).

        None when nothing was submitted (the warning is now on screen).
        """
        if self.can_submit and self.contradiction:
            if self.protocol.task.consistency == "block":
                return None
            if not self.warned:
                self.warned = True
                return None
        return self.submit()

    def build_submission(self) -> ReadSubmission:
        assert self.item is not None and self.displayed_at is not None
        f = self.answer.fields()
        active = self.active_ms()
        return ReadSubmission(
            case_id=self.item.case_id,
            answer=f.answer,
            displayed_at=self.displayed_at,
            submitted_at=self._now(),
            active_ms=active,
            confidence=f.confidence,
            distribution=f.distribution,
            value=f.value,
            ai_shown_ms=active if self.aided else 0,
            cam_shown=self._cam_ever,
            cam_shown_ms=self.cam_ms() if self._cam_ever else 0,
            answer_changes=self.answer.changes,
            **self._region_fields(),
            field_views=self.field_views() if self.field_views is not None else (),
        )

    def _region_fields(self) -> dict:
        a = self.answer
        if not isinstance(a, RegionAnswer):
            return {}
        return {
            "region": a.region(),
            "accepted_unchanged": a.accepted_unchanged if self.aided else None,
            "edit_ms": a.edit_ms,
            "edit_count": a.edit_count,
        }

    # -- region tasks -------------------------------------------------------------
    def region_ready(
        self,
        frames_shape: tuple[int, ...],
        media_spacing: tuple[float, float] | None,
        is_2d: bool,
        media: Media | None = None,
    ) -> None:
        """The image of a region task is drawn: size the answer, and in an aided read start it
        from the AI's region (segmentation probabilities of the role cut at 0.5, resampled to
        the image; ``study.region.ai_region_mask``).  ``media_spacing``: the media's own pixel
        spacing when it has one (DICOM), else None; the protocol's ``task.spacing_mm`` wins.
        ``media`` (a series): its voxel spacing for the live volume, as the report's
        (``study.region.case_voxel_mm``), or why it has none."""
        a = self.answer
        if not isinstance(a, RegionAnswer):
            return
        n, h, w = frames_shape[:3]
        task_spacing = self.protocol.task.spacing_mm
        spacing = (task_spacing, task_spacing) if task_spacing is not None else media_spacing
        voxel, no_volume = None, ""
        if media is not None and not is_2d:
            try:
                voxel = case_voxel_mm(media, n, task_spacing)
            except NoVolumeError as exc:  # shown on the area label: the volume is left out, never guessed
                no_volume = exc.why
        a.begin((n, h, w), spacing, self.ai_region((n, h, w)), image_2d=is_2d, voxel_mm=voxel, no_volume=no_volume)

    def ai_region(self, shape: tuple[int, int, int]) -> np.ndarray | None:
        """The AI's region on the image (bool (N, H, W)); None unaided or without a mask."""
        if self.ai is None or self.item is None or self.item.mode != "aided":
            return None
        probs = self.ai.cams.get(self.protocol.region_role)
        if probs is None:
            return None
        mask = ai_region_mask(probs, shape[1:])
        if mask.shape[0] != shape[0]:  # one map for a whole series: matched by fraction
            idx = np.round(np.linspace(0, mask.shape[0] - 1, shape[0])).astype(int)
            mask = mask[idx]
        return mask

    def submit(self, advance: bool = True, correction_reason: str | None = None) -> ReadSubmission:
        """Commit the answer (engine transaction), then move to the next case.

        With ``correction_reason`` the read replaces the reader's earlier read of the
        case (``ReadingSession.correct``: a new row, the old one stays)."""
        if not self.can_submit:
            raise ValueError(self.answer.problem or "nothing to submit")
        self._active.stop()
        self._cam.stop()
        read = self.build_submission()
        try:
            if correction_reason is None:
                self.session.submit(read)  # committed when this returns
            else:
                self.session.correct(read, correction_reason)
        except Exception:
            self._sync_clocks()  # not saved: the case stays on screen and its clock runs on
            raise
        self.submitted.append(read)
        self._cases_read.add(read.case_id)
        self._read_ms += read.active_ms
        if advance:
            self._show(self.session.next_item())
        else:
            self._show(None)
        return read

    def progress(self) -> tuple[int, int]:
        return self.session.progress()

    def summary(self) -> Summary:
        done, total = self.progress()
        return Summary(len(self._cases_read), self._read_ms, done, total, self.skipped)


def feedback_text(protocol: Protocol, truth_of: Callable[[str], str], reads: list[ReadSubmission]) -> str:
    """Accuracy of this run's reads; only shown when the protocol sets ``feedback``."""
    task = protocol.task
    if not protocol.feedback or not reads or task.kind not in ("binary", "multiclass"):
        return ""
    from study.cases import binary_truth

    def correct(read: ReadSubmission) -> bool:
        truth = truth_of(read.case_id)
        if task.kind == "binary":
            return int(read.answer) == binary_truth(task, truth)
        return read.answer == truth

    right = sum(correct(r) for r in reads)
    return f"Correct: {right} of {len(reads)} ({100 * right / len(reads):.0f} %)"


def format_duration(ms: int) -> str:
    """12:34 or 1:02:03 (h:mm:ss) for the timer and the summary."""
    s = max(0, int(ms // 1000))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
