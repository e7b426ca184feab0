"""Reference-line geometry, pure functions, against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.viewer.geometry import SlicePlane, parallel, reference_line, slice_plane
from study.media.types import Media

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # rows run +x (left), columns run +y (posterior)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)  # rows run +y, columns run -z (inferior)


def plane(iop, ipp, rows=100, cols=100, row_mm=1.0, col_mm=1.0) -> SlicePlane:
    """By hand: the outer corner is the first pixel's centre less half a pixel along each axis."""
    x, y = np.array(iop[:3]), np.array(iop[3:])
    corner = np.array(ipp) - col_mm / 2 * x - row_mm / 2 * y
    return SlicePlane(tuple(corner), tuple(x), tuple(y), cols * col_mm, rows * row_mm)


def same_segment(seg, expected, tol=1e-6) -> bool:
    (p, q), (a, b) = seg, expected

    def close(s, t) -> bool:
        return math.dist(s, t) < tol

    return (close(p, a) and close(q, b)) or (close(p, b) and close(q, a))


def test_sagittal_cuts_axial_along_a_vertical_line_and_axial_cuts_sagittal_horizontally():
    axial = plane(AXIAL, (0.0, 0.0, 10.0))  # z = 10, x and y in [-0.5, 99.5]
    sagittal = plane(SAGITTAL, (30.0, 0.0, 60.0))  # x = 30, y in [-0.5, 99.5], z in [-39.5, 60.5]
    # In the axial view, u = x + 0.5: the sagittal plane x = 30 is the column line u = 30.5, full height.
    assert same_segment(reference_line(axial, sagittal), ((30.5, 0.0), (30.5, 100.0)))
    # In the sagittal view, v = 60.5 - z: the axial plane z = 10 is the row line v = 50.5, full width.
    assert same_segment(reference_line(sagittal, axial), ((0.0, 50.5), (100.0, 50.5)))


def test_a_line_is_limited_to_where_both_images_are():
    axial = plane(AXIAL, (0.0, 0.0, 10.0))
    narrow_sagittal = plane(SAGITTAL, (30.0, 0.0, 60.0), cols=50)  # y only in [-0.5, 49.5]
    assert same_segment(reference_line(axial, narrow_sagittal), ((30.5, 0.0), (30.5, 50.0)))
    above = plane(AXIAL, (0.0, 0.0, 70.0))  # z = 70 is above the sagittal image (top at 60.5)
    assert reference_line(above, narrow_sagittal) is None
    assert reference_line(narrow_sagittal, above) is None
    beside = plane(SAGITTAL, (130.0, 0.0, 60.0))  # x = 130 is off the axial image (x <= 99.5)
    assert reference_line(axial, beside) is None


def test_parallel_planes_have_no_line():
    a, b = plane(AXIAL, (0.0, 0.0, 10.0)), plane(AXIAL, (0.0, 0.0, 20.0))
    assert parallel(a, b) and reference_line(a, b) is None
    tilted = (1.0, 0.0, 0.0, 0.0, math.cos(0.1), math.sin(0.1))  # 5.7 degrees: still one stack direction
    assert reference_line(a, plane(tilted, (0.0, 0.0, 10.0))) is None


def test_oblique_plane_at_45_degrees():
    a = 1 / math.sqrt(2)
    axial = plane(AXIAL, (0.0, 0.0, 10.0))
    # Rows along +y, columns along (a, 0, -a): the pixel at column distance d lies at x = 40.5 + d a,
    # z = 19.5 - d a after the half-pixel corner; it reaches z = 10 at x = 50 (x + z = 60 on the plane).
    oblique = plane((0.0, 1.0, 0.0, a, 0.0, -a), (40.0 + 0.5 * a, 0.0, 20.0 - 0.5 * a))
    assert not parallel(axial, oblique)
    assert same_segment(reference_line(axial, oblique), ((50.5, 0.0), (50.5, 100.0)))
    # And in the oblique view: the axial plane z = 10 is at distance (20 - 10) / a along the columns.
    assert same_segment(reference_line(oblique, axial), ((0.0, 10 / a), (100.0, 10 / a)))


def test_non_square_pixels_and_flipped_orientation():
    axial = plane(AXIAL, (0.0, 0.0, 10.0), rows=50, cols=200, row_mm=2.0, col_mm=0.5)  # 100 x 100 mm
    coronal = plane((-1.0, 0.0, 0.0, 0.0, 0.0, -1.0), (99.0, 40.0, 60.0))  # y = 40, rows run -x
    # y = 40 in the axial view: v = 40 + 2.0 / 2 = 41, across the full width (x in [-0.25, 99.75]).
    seg = reference_line(axial, coronal)
    assert same_segment(seg, ((0.0, 41.0), (99.75, 41.0)))  # the coronal image ends at x = 99.5


def test_slice_plane_from_media_moves_frames_along_the_normal():
    frames = np.zeros((3, 40, 60), np.float32)
    m = Media(
        frames=frames,
        kind="series",
        spacing=(2.0, 0.5),
        slice_positions=(5.0, 10.0, 15.0),
        frame_of_reference="1.2",
        slice_normal=(0.0, 0.0, 1.0),
        orientation=AXIAL,
        origin=(-100.0, -80.0, 5.0),
    )
    p = slice_plane(m, 2)
    assert p.corner == pytest.approx((-100.25, -81.0, 15.0))
    assert (p.width, p.height) == (30.0, 80.0)
    assert p.to_view(np.array([-90.0, -60.0, 15.0])) == pytest.approx((10.25, 21.0))
    assert slice_plane(Media(frames=frames, kind="series"), 0) is None  # no geometry, no plane
    no_positions = Media(frames=frames, kind="series", orientation=AXIAL, origin=(0.0, 0.0, 0.0))
    assert slice_plane(no_positions, 0) is not None and slice_plane(no_positions, 1) is None


def test_demo_mri_geometry_matches_the_writer(demo_mri):
    """The demo writes T2sag slice k 5.5 mm apart along -x; the axial view shows it at that x."""
    axi, sag = demo_mri["T2axi"], demo_mri["T2sag"]
    k = 4
    x_sag = sag.origin[0] - (sag.slice_positions[k] - sag.slice_positions[0])  # the normal is -x
    assert x_sag == pytest.approx(sag.origin[0] - 4 * 5.5)
    (u0, v0), (u1, v1) = reference_line(slice_plane(axi, 8), slice_plane(sag, k))
    assert u0 == pytest.approx(u1) == pytest.approx(x_sag - (axi.origin[0] - 1.25))  # 2.5 mm pixels
    assert sorted((v0, v1)) == pytest.approx([0.0, 128 * 2.5])  # both images span y in [-160, 160]
