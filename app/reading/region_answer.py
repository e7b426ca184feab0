"""The answer of a region task: the reader's mask, its edit history, and the combined question (no Qt).

The mask is bool (N, H, W) in the pixel grid of the image drawn on (N = 1 for a
2-D image; one plane per slice of a series).  It starts empty (unaided) or as
the AI's region (aided, ``start``).  Every edit (a vertex placed, a polygon
changed, a brush or eraser stroke, an undo) is counted in ``edit_count``; ``edit_ms``
is the time from the first edit's start to the last edit's end on the reading
clock.  ``accepted_unchanged`` (aided) says whether the mask submitted equals
the AI's.  Vertices are pixel coordinates (x = column, y = row; see
``study.regiongeometry``).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import numpy as np

from app.reading.answers import AnswerFields, AnswerState, BinaryAnswer
from study.protocol import Task
from study.region import Region, decode_mask, encode_mask, volume_text
from study.regiongeometry import mask_polygon, paint_stroke, polygon_mask

UNDO_DEPTH = 50


class RegionAnswer(AnswerState):
    """A drawn region plus, with ``task.also = "binary"``, a category and likelihood (``binary``)."""

    def __init__(self, task: Task, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.task = task
        self.clock = clock
        self.binary = BinaryAnswer(task.labels, task.confidence_range) if task.also == "binary" else None
        self.mask: np.ndarray | None = None  # bool (N, H, W) once ``begin`` knows the image
        self.spacing_mm: tuple[float, float] | None = None
        self.voxel_mm: tuple[float, float, float] | None = None  # (slice, row, column) mm of a series
        self.no_volume = ""  # why a series has no volume, in a few words ("uneven slice spacing")
        self.start: np.ndarray | None = None  # the AI's region (aided), bool (N, H, W)
        self.image_2d = True
        self.edit_count = 0
        self._first_edit: float | None = None
        self._last_edit: float | None = None
        self._undo: list[np.ndarray] = []
        self._stroke: np.ndarray | None = None  # mask before the stroke in progress
        self._draft_mask: np.ndarray | None = None  # left at an earlier sitting, put back by ``begin``
        self._prior_edit_ms = 0  # editing time of earlier sittings

    # -- set-up ------------------------------------------------------------------
    def begin(
        self,
        shape: tuple[int, int, int],
        spacing_mm: tuple[float, float] | None,
        start: np.ndarray | None = None,
        image_2d: bool = True,
        voxel_mm: tuple[float, float, float] | None = None,
        no_volume: str = "",
    ) -> None:
        """The image is on screen: (N, H, W) planes, pixel spacing, the AI's region (aided) if any.

        On a series: ``voxel_mm`` (slice, row, column) mm when it has one
        (``study.region.series_voxel_mm``), else ``no_volume``, why not in a few words."""
        n, h, w = shape
        self.spacing_mm = spacing_mm
        self.voxel_mm = voxel_mm
        self.no_volume = no_volume
        self.image_2d = image_2d and n == 1
        if start is not None:
            start = np.asarray(start, dtype=bool)
            if start.shape != (n, h, w):
                raise ValueError(f"the AI region {start.shape} does not fit the image {(n, h, w)}")
            self.start = start.copy()
            self.mask = start.copy()
        else:
            self.start = None
            self.mask = np.zeros((n, h, w), dtype=bool)
        draft, self._draft_mask = self._draft_mask, None
        if draft is not None and draft.reshape(-1, h, w).shape == (n, h, w):
            self.mask = draft.reshape(n, h, w).copy()  # (a mask of another size is left out, never fitted)

    @property
    def ready(self) -> bool:
        return self.mask is not None

    # -- edits -------------------------------------------------------------------
    def _edited(self, started: float | None = None) -> None:
        now = self.clock()
        if self._first_edit is None:
            self._first_edit = now if started is None else started
        self._last_edit = now
        self.edit_count += 1

    def _push(self, before: np.ndarray) -> None:
        self._undo.append(before)
        del self._undo[:-UNDO_DEPTH]

    def note_vertex(self) -> None:
        """A vertex placed while the polygon has fewer than 3 (no region yet): an edit all the same."""
        self._edited()

    def set_polygon(self, plane: int, vertices: np.ndarray) -> bool:
        """The plane's region becomes the closed polygon (K, 2) (x, y) px; True when it changed."""
        assert self.mask is not None
        new = polygon_mask(vertices, self.mask.shape[1:])
        if np.array_equal(new, self.mask[plane]):
            return False
        self._push(self.mask.copy())
        self.mask[plane] = new
        self._edited()
        return True

    def begin_stroke(self) -> None:
        assert self.mask is not None
        self._stroke = self.mask.copy()
        self._stroke_started = self.clock()

    def stroke_to(self, plane: int, points: np.ndarray, radius: float, erase: bool) -> bool:
        """Paint (or erase) along ``points`` (K, 2) (x, y) px with a disc of ``radius`` px."""
        assert self.mask is not None
        if self._stroke is None:
            self.begin_stroke()
        return paint_stroke(self.mask[plane], points, radius, not erase)

    @property
    def stroking(self) -> bool:
        """A brush or eraser stroke is in progress (begun, not ended)."""
        return self._stroke is not None

    def end_stroke(self) -> bool:
        """The stroke is one edit (one undo step); True when it changed the mask."""
        before, self._stroke = self._stroke, None
        if before is None or self.mask is None or np.array_equal(before, self.mask):
            return False
        self._push(before)
        self._edited(started=getattr(self, "_stroke_started", None))
        return True

    def clear(self, plane: int) -> bool:
        assert self.mask is not None
        if not self.mask[plane].any():
            return False
        self._push(self.mask.copy())
        self.mask[plane] = False
        self._edited()
        return True

    def undo(self) -> bool:
        """Ctrl+Z: back to the mask before the last edit; False when there is none."""
        if not self._undo or self.mask is None:
            return False
        self.mask = self._undo.pop()
        self._edited()
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def polygon(self, plane: int) -> np.ndarray:
        """An editable outline (K, 2) (x, y) px of the plane's region (its largest part)."""
        assert self.mask is not None
        return mask_polygon(self.mask[plane])

    # -- measurements -------------------------------------------------------------
    @property
    def pixels(self) -> int:
        return 0 if self.mask is None else int(np.count_nonzero(self.mask))  # (a bool sum is ~5x slower)

    @property
    def area_mm2(self) -> float | None:
        if self.spacing_mm is None:
            return None
        return self.pixels * self.spacing_mm[0] * self.spacing_mm[1]

    @property
    def volume_mm3(self) -> float | None:
        """The region's volume on a series with a voxel spacing (voxels x slice x row x column mm), else None."""
        if self.voxel_mm is None:
            return None
        return self.pixels * self.voxel_mm[0] * self.voxel_mm[1] * self.voxel_mm[2]

    def area_text(self) -> str:
        """The live area; on a series the sum over its slices, saying on how many (a per-slice
        figure labelled only "Area" would read as the slice's own), and the volume (mL from
        1 mL up, else mm³, as the report) or, in a few words, why there is none."""
        pixels = self.pixels
        area = None if self.spacing_mm is None else pixels * self.spacing_mm[0] * self.spacing_mm[1]
        text = f"Area {area:.2f} mm\u00b2 ({pixels} px)" if area is not None else f"Area {pixels} px"
        if self.mask is not None and not self.image_2d and self.mask.shape[0] > 1:
            # lines of their own: the panel is narrow
            drawn, n = int(self.mask.any(axis=(1, 2)).sum()), self.mask.shape[0]
            volume = self.volume_mm3
            if volume is not None and self.voxel_mm is not None:
                text += f"\nVolume {volume_text(volume)}\non {drawn} of {n} slices, {self.voxel_mm[0]:.3g} mm apart"
            else:
                text += f"\non {drawn} of {n} slices"
                if self.no_volume and area is not None:  # (without a pixel size the line below says why)
                    text += f"\nno volume: {self.no_volume}"
        return text if area is not None else text + " (pixel size unknown)"

    @property
    def edit_ms(self) -> int:
        if self._first_edit is None or self._last_edit is None:
            return self._prior_edit_ms
        return self._prior_edit_ms + int(round(1000 * (self._last_edit - self._first_edit)))

    @property
    def accepted_unchanged(self) -> bool | None:
        if self.start is None or self.mask is None:
            return None
        return bool(np.array_equal(self.start, self.mask))

    # -- AnswerState ----------------------------------------------------------------
    def draft(self) -> dict | None:
        """The region drawn so far (a PNG mask, base64; only when it differs from where the
        read started), its edit count and time, and the combined question's answer so far."""
        d: dict = {}
        if self.binary is not None and (b := self.binary.draft()):
            d["binary"] = b
        if self.mask is not None and self.edit_count:
            started = self.start if self.start is not None else np.zeros_like(self.mask)
            if not np.array_equal(self.mask, started):
                d["mask_png"] = base64.b64encode(encode_mask(self.mask)).decode("ascii")
            d["edit_count"] = self.edit_count
            d["edit_ms"] = self.edit_ms
        return d or None

    def restore(self, draft: dict) -> None:
        """Put back a ``draft()``: the mask waits for ``begin`` (the image's size must match);
        a malformed value is left out."""
        if self.binary is not None and isinstance(draft.get("binary"), dict):
            self.binary.restore(draft["binary"])
            self.changes = self.binary.changes
        for key in ("edit_count", "edit_ms"):
            value = draft.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                if key == "edit_count":
                    self.edit_count = value
                else:
                    self._prior_edit_ms = value
        png = draft.get("mask_png")
        if isinstance(png, str):
            try:
                self._draft_mask = decode_mask(base64.b64decode(png, validate=True))
            except ValueError:
                self._draft_mask = None

    def key(self, name: str) -> bool:
        if self.binary is None:
            return False
        changed = self.binary.key(name)
        self.changes = self.binary.changes
        return changed

    @property
    def problem(self) -> str:
        if self.mask is None or not self.mask.any():
            return f"Outline the {self.task.region}: click points on the image, or paint with the brush (B)."
        return self.binary.problem if self.binary is not None else ""

    def region(self) -> Region:
        assert self.mask is not None
        return Region(self.mask[0].copy() if self.image_2d else self.mask.copy(), self.spacing_mm)

    def fields(self) -> AnswerFields:
        if self.binary is not None:
            f = self.binary.fields()
            return AnswerFields(f.answer, confidence=f.confidence)
        return AnswerFields(self.task.region)
