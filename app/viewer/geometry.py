"""Slice planes in patient space and the reference line where one cuts another.

Pure numpy, no Qt: the viewport only draws what these functions return.

A displayed slice is a rectangle in patient coordinates (DICOM PS3.3
C.7.6.2.1.1): the centre of pixel (r, c) lies at
``IPP + c * col_mm * X + r * row_mm * Y``, with X, Y the row and column
direction cosines of ImageOrientationPatient and (row_mm, col_mm) the
PixelSpacing.  The viewer draws pixel (r, c) as the square
``[c * col_mm, (c + 1) * col_mm] x [r * row_mm, (r + 1) * row_mm]`` of its view
(millimetres), so view point (u, v) is the patient point
``corner + u * X + v * Y`` where ``corner = IPP - col_mm / 2 * X - row_mm / 2 * Y``.

A reference line (as OHIF and Weasis draw them) is where the plane of another
viewport's current slice crosses this slice, limited to the part lying inside
both images' rectangles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from study.media.types import Media

PARALLEL = 0.95  # |cos| between slice normals above which two series are one stack direction
_EPS = 1e-9

Point = tuple[float, float]


@dataclass(frozen=True)
class SlicePlane:
    """One slice's image rectangle in patient space (mm).

    corner: patient point of view coordinate (0, 0), the outer corner of the top-left pixel.
    x, y: unit vectors along increasing column and increasing row index.
    width, height: the rectangle's size in mm (columns * col_mm, rows * row_mm).
    """

    corner: tuple[float, float, float]
    x: tuple[float, float, float]
    y: tuple[float, float, float]
    width: float
    height: float

    @property
    def normal(self) -> np.ndarray:
        n = np.cross(self.x, self.y)
        return n / (np.linalg.norm(n) or 1.0)

    def to_view(self, point: np.ndarray) -> Point:
        """Patient point (mm) -> view coordinates (u, v) in mm of this slice's image."""
        d = np.asarray(point, float) - np.asarray(self.corner)
        return float(d @ np.asarray(self.x)), float(d @ np.asarray(self.y))


def slice_plane(media: Media, index: int) -> SlicePlane | None:
    """The plane of frame ``index`` of ``media``, or None when its geometry is not known.

    Needs ``orientation`` and ``origin``; frames other than 0 need
    ``slice_positions`` and ``slice_normal`` (frame k is frame 0 moved along the
    normal by ``slice_positions[k] - slice_positions[0]``).
    """
    if media.orientation is None or media.origin is None or media.is_color:
        return None
    iop = np.asarray(media.orientation, float)
    x, y = iop[:3], iop[3:]
    if not (np.all(np.isfinite(iop)) and np.linalg.norm(x) > 0.5 and np.linalg.norm(y) > 0.5):
        return None
    x, y = x / np.linalg.norm(x), y / np.linalg.norm(y)
    ipp = np.asarray(media.origin, float)
    if index:
        if media.slice_positions is None or media.slice_normal is None:
            return None
        ipp = ipp + (media.slice_positions[index] - media.slice_positions[0]) * np.asarray(media.slice_normal, float)
    row_mm, col_mm = media.spacing
    h, w = media.frames.shape[1:3]
    corner = ipp - col_mm / 2 * x - row_mm / 2 * y
    return SlicePlane(_t3(corner), _t3(x), _t3(y), float(w * col_mm), float(h * row_mm))


def parallel(a: SlicePlane, b: SlicePlane) -> bool:
    return abs(float(a.normal @ b.normal)) >= PARALLEL


def reference_line(this: SlicePlane, other: SlicePlane) -> tuple[Point, Point] | None:
    """Where ``other``'s plane cuts ``this`` slice, as two view points (u, v) in mm of ``this``.

    The segment is the part of the planes' intersection line that lies inside
    both rectangles.  None when the planes are parallel (|cos| >= PARALLEL:
    such series are synchronized instead) or the planes' rectangles do not meet.
    """
    n1, n2 = this.normal, other.normal
    if abs(float(n1 @ n2)) >= PARALLEL:
        return None
    direction = np.cross(n1, n2)
    direction /= np.linalg.norm(direction)
    # A point on both planes: solve n1.p = d1, n2.p = d2, direction.p = 0.
    d1, d2 = float(n1 @ np.asarray(this.corner)), float(n2 @ np.asarray(other.corner))
    point = np.linalg.solve(np.stack([n1, n2, direction]), np.array([d1, d2, 0.0]))
    t0, t1 = -np.inf, np.inf
    for plane in (this, other):
        corner = np.asarray(plane.corner)
        for axis, size in ((np.asarray(plane.x), plane.width), (np.asarray(plane.y), plane.height)):
            # 0 <= (point + t * direction - corner) . axis <= size
            start, rate = float((point - corner) @ axis), float(direction @ axis)
            if abs(rate) < _EPS:
                if start < -1e-6 or start > size + 1e-6:
                    return None
                continue
            lo, hi = sorted(((0.0 - start) / rate, (size - start) / rate))
            t0, t1 = max(t0, lo), min(t1, hi)
    if not t0 < t1:
        return None
    return this.to_view(point + t0 * direction), this.to_view(point + t1 * direction)


def _t3(v: np.ndarray) -> tuple[float, float, float]:
    return float(v[0]), float(v[1]), float(v[2])
