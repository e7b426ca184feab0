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

import math
from dataclasses import dataclass

from study.media.types import Media

PARALLEL = 0.95  # |cos| between slice normals above which two series are one stack direction
_EPS = 1e-9

Point = tuple[float, float]
Vec = tuple[float, float, float]

# 3-vectors as plain float tuples: for a handful of vectors per slice change this is
# several times faster than numpy's per-call overhead (np.cross alone is ~20 us).


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _unit(a: Vec) -> Vec:
    n = math.sqrt(_dot(a, a)) or 1.0
    return (a[0] / n, a[1] / n, a[2] / n)


def _axpy(k: float, a: Vec, b: Vec) -> Vec:
    """k * a + b."""
    return (k * a[0] + b[0], k * a[1] + b[1], k * a[2] + b[2])


def _sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


@dataclass(frozen=True)
class SlicePlane:
    """One slice's image rectangle in patient space (mm).

    corner: patient point of view coordinate (0, 0), the outer corner of the top-left pixel.
    x, y: unit vectors along increasing column and increasing row index.
    width, height: the rectangle's size in mm (columns * col_mm, rows * row_mm).
    """

    corner: Vec
    x: Vec
    y: Vec
    width: float
    height: float

    @property
    def normal(self) -> Vec:
        return _unit(_cross(self.x, self.y))

    def to_view(self, point: Vec) -> Point:
        """Patient point (mm) -> view coordinates (u, v) in mm of this slice's image."""
        d = _sub(tuple(map(float, point)), self.corner)  # type: ignore[arg-type]
        return _dot(d, self.x), _dot(d, self.y)


def slice_plane(media: Media, index: int) -> SlicePlane | None:
    """The plane of frame ``index`` of ``media``, or None when its geometry is not known.

    Needs ``orientation`` and ``origin``; frames other than 0 need
    ``slice_positions`` and ``slice_normal`` (frame k is frame 0 moved along the
    normal by ``slice_positions[k] - slice_positions[0]``).
    """
    if media.orientation is None or media.origin is None or media.is_color:
        return None
    iop = tuple(float(v) for v in media.orientation)
    x, y = iop[:3], iop[3:]
    if not (all(map(math.isfinite, iop)) and _dot(x, x) > 0.25 and _dot(y, y) > 0.25):
        return None
    x, y = _unit(x), _unit(y)  # type: ignore[arg-type]
    ipp: Vec = tuple(float(v) for v in media.origin)  # type: ignore[assignment]
    if index:
        if media.slice_positions is None or media.slice_normal is None:
            return None
        shift = float(media.slice_positions[index] - media.slice_positions[0])
        ipp = _axpy(shift, tuple(float(v) for v in media.slice_normal), ipp)  # type: ignore[arg-type]
    row_mm, col_mm = (float(v) for v in media.spacing)
    h, w = media.frames.shape[1:3]
    corner = _axpy(-row_mm / 2, y, _axpy(-col_mm / 2, x, ipp))
    return SlicePlane(corner, x, y, w * col_mm, h * row_mm)


def parallel(a: SlicePlane, b: SlicePlane) -> bool:
    return abs(_dot(a.normal, b.normal)) >= PARALLEL


def reference_line(this: SlicePlane, other: SlicePlane) -> tuple[Point, Point] | None:
    """Where ``other``'s plane cuts ``this`` slice, as two view points (u, v) in mm of ``this``.

    The segment is the part of the planes' intersection line that lies inside
    both rectangles.  None when the planes are parallel (|cos| >= PARALLEL:
    such series are synchronized instead) or the planes' rectangles do not meet.
    """
    n1, n2 = this.normal, other.normal
    c = _dot(n1, n2)
    if abs(c) >= PARALLEL:
        return None
    direction = _unit(_cross(n1, n2))
    # The point of the intersection line nearest the origin: p = a n1 + b n2 with
    # n1.p = d1 and n2.p = d2 (unit normals, cos c between them).
    d1, d2 = _dot(n1, this.corner), _dot(n2, other.corner)
    det = 1.0 - c * c
    point = _axpy((d1 - d2 * c) / det, n1, _axpy((d2 - d1 * c) / det, n2, (0.0, 0.0, 0.0)))
    t0, t1 = -math.inf, math.inf
    for plane in (this, other):
        for axis, size in ((plane.x, plane.width), (plane.y, plane.height)):
            # 0 <= (point + t * direction - corner) . axis <= size
            start, rate = _dot(_sub(point, plane.corner), axis), _dot(direction, axis)
            if abs(rate) < _EPS:
                if start < -1e-6 or start > size + 1e-6:
                    return None
                continue
            lo, hi = (-start / rate, (size - start) / rate) if rate > 0 else ((size - start) / rate, -start / rate)
            t0, t1 = max(t0, lo), min(t1, hi)
    if not t0 < t1:
        return None
    return this.to_view(_axpy(t0, direction, point)), this.to_view(_axpy(t1, direction, point))
