"""Anatomical order of the frames of an enhanced (multi-frame) DICOM object.

Frames are sorted by their position along the slice normal, from the
per-frame functional groups (PlanePositionSequence / PlaneOrientationSequence,
DICOM PS3.3 C.7.6.16.2.3-4), the same rule a folder of single-frame slices
follows (``dicom_series``).  The order is left as stored, and the reason said,
when sorting would be a guess: positions missing, frames in different planes,
or several frames at one position (time points, echoes or b-values of one
acquisition stored together); a cine at one location keeps its time order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from study.media import dicom_tags as tags


@dataclass(frozen=True)
class FrameOrder:
    """order[j] is the stored index of the frame shown j-th; positions follow the shown order."""

    order: tuple[int, ...]
    positions: tuple[float, ...] | None
    normal: tuple[float, float, float] | None
    decision: str | None

    @property
    def is_stored_order(self) -> bool:
        return self.order == tuple(range(len(self.order)))


def enhanced_frame_order(ds: Dataset, n: int) -> FrameOrder:
    """How to show the ``n`` frames of ``ds`` (see the module doc)."""
    stored = tuple(range(n))
    if n < 2 or "PerFrameFunctionalGroupsSequence" not in ds or len(ds.PerFrameFunctionalGroupsSequence) < n:
        return FrameOrder(stored, None, None, None)
    normals = [tags.frame_normal(ds, i) for i in range(n)]
    if any(v is None for v in normals):
        return FrameOrder(stored, None, None, "frames shown as stored: no orientation in the functional groups")
    ref = normals[0]
    assert ref is not None
    if any(float(np.max(np.abs(v - ref))) > 1e-3 for v in normals):  # type: ignore[operator]
        return FrameOrder(stored, None, None, "frames shown as stored: they lie in different planes")
    normal = (float(ref[0]), float(ref[1]), float(ref[2]))
    positions = [tags.position(ds, i) for i in range(n)]
    if any(p is None for p in positions):
        return FrameOrder(stored, None, normal, "frames shown as stored: no position in the functional groups")
    along = [float(ref @ p) for p in positions]  # type: ignore[operator]
    if max(along) - min(along) <= 1e-3:
        return FrameOrder(stored, tuple(along), normal, None)  # one location: a cine in time order
    distinct = len({round(a, 3) for a in along})
    if distinct < n:
        return FrameOrder(
            stored,
            tuple(along),
            normal,
            f"frames shown as stored: {n} frames at {distinct} positions (time points, echoes or b-values stored together)",
        )
    order = tuple(sorted(stored, key=lambda i: (along[i], i)))
    shown = tuple(along[i] for i in order)
    if order == stored:
        return FrameOrder(stored, shown, normal, None)
    return FrameOrder(
        order, shown, normal, "frames re-ordered by position along the slice normal (per-frame PlanePositionSequence)"
    )
