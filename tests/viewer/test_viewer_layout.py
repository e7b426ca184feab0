"""HangingLayoutWidget: roles, synchronized slices, shared overlay toggle, fast case switch."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.viewer.layout import synced_index


def test_roles_in_a_row_and_viewports_reused_on_case_switch(layout, make_series):
    layout.set_case([("T2axi", make_series()), ("T2sag", make_series(n=12)), ("DWI", make_series(n=8))])
    assert layout.roles == ["T2axi", "T2sag", "DWI"]
    first = layout.viewports()
    xs = [vp.geometry().x() for vp in first]
    assert xs == sorted(xs) and len(set(xs)) == 3  # side by side
    assert len({vp.geometry().y() for vp in first}) == 1
    assert "T2sag" in layout.viewport("T2sag").corner_text()

    layout.set_case({"T2axi": make_series(n=30), "T2sag": make_series(), "DWI": make_series()})
    assert layout.viewports() == first  # same widgets, new media
    assert layout.viewport("T2axi").n_frames == 30


def test_four_roles_make_a_grid_and_five_are_refused(layout, make_series):
    layout.set_case([(r, make_series()) for r in ("a", "b", "c", "d")])
    geo = [vp.geometry() for vp in layout.viewports()]
    assert geo[0].y() == geo[1].y() < geo[2].y() == geo[3].y()
    layout.set_case([("a", make_series())])
    assert len(layout.viewports()) == 1 and layout.viewports()[0].isVisible()
    with pytest.raises(ValueError, match="1 to 4"):
        layout.set_case([(str(i), make_series()) for i in range(5)])


def test_sync_by_slice_position_with_shared_frame_of_reference(layout, make_series, gestures):
    axi = make_series(n=20, positions=[3.0 * i for i in range(20)])  # 0 .. 57 mm
    dwi = make_series(n=10, positions=[6.0 * i + 12.0 for i in range(10)])  # 12 .. 66 mm
    layout.set_case([("T2axi", axi), ("DWI", dwi)])
    source, follower = layout.viewport("T2axi"), layout.viewport("DWI")
    source.set_slice(10)  # 30 mm -> DWI slice at 30 mm is index 3
    assert follower.current_index == 3
    gestures.wheel(source, -2)  # 36 mm
    assert follower.current_index == 4
    source.set_slice(0)  # 0 mm: nearest is DWI's first slice
    assert follower.current_index == 0
    follower.set_slice(9)  # 66 mm -> T2axi ends at 57 mm
    assert source.current_index == 19


def test_sync_by_fraction_without_shared_frame_of_reference(layout, make_series):
    layout.set_case(
        [("T2axi", make_series(n=21, frame_of_reference="1.1")), ("T2sag", make_series(n=11, frame_of_reference="2.2"))]
    )
    seen = []
    layout.slice_changed.connect(lambda role, i: seen.append((role, i)))
    layout.viewport("T2axi").set_slice(4)
    assert layout.viewport("T2sag").current_index == 2
    assert ("T2axi", 4) in seen and ("T2sag", 2) in seen
    layout.sync_enabled = False
    layout.viewport("T2axi").set_slice(20)
    assert layout.viewport("T2sag").current_index == 2


def test_videos_are_not_synchronized(layout, make_series, make_video):
    layout.set_case([("series", make_series()), ("video", make_video())])
    layout.viewport("series").set_slice(10)
    assert layout.viewport("video").current_index == 0


def test_c_in_one_viewport_toggles_all_overlays(layout, make_series, qtbot, pixels):
    cam = np.ones((20, 4, 4), np.float16)
    layout.set_case([("a", make_series()), ("b", make_series())], overlays_by_role={"a": cam, "b": cam})
    b = layout.viewport("b")
    with_cam = pixels(b)
    seen = []
    layout.overlay_toggled.connect(seen.append)
    qtbot.keyClick(layout.viewport("a"), Qt.Key.Key_C)
    assert seen == [False]  # announced once, not once per viewport
    assert not b.overlay.isVisible()
    assert not np.array_equal(with_cam, pixels(b))
    layout.set_overlay_opacity(0.3)
    layout.set_overlays_visible(True)
    layout.set_overlays_visible(True)
    assert seen == [False, True]
    assert all(vp.overlay.isVisible() and vp.overlay.opacity() == pytest.approx(0.3) for vp in layout.viewports())


def test_overlays_only_where_given(layout, make_series):
    layout.set_case([("a", make_series()), ("b", make_series())], overlays_by_role={"a": np.ones((20, 4, 4))})
    assert layout.viewport("a").overlay.isVisible()
    assert not layout.viewport("b").overlay.isVisible()
    layout.set_case([("a", make_series()), ("b", make_series())])  # next case has no CAM
    assert not layout.viewport("a").overlay.isVisible()


def test_linked_cursor_marks_the_other_viewports(layout, make_series, gestures):
    layout.linked_cursor = True
    layout.set_case([("a", make_series(h=64, w=64)), ("b", make_series(h=64, w=64))])
    gestures.hover(layout.viewport("a"), 0.5, 0.5)
    mark = layout.viewport("b").cursor_mark
    assert mark.isVisible()
    ext = layout.viewport("b").image_extent
    assert mark.pos().x() == pytest.approx(ext.center().x(), rel=0.1)
    assert not layout.viewport("a").cursor_mark.isVisible()


def test_synced_index_cases(make_series):
    a = make_series(n=5, positions=[0, 1, 2, 3, 4])
    b = make_series(n=3, positions=[4, 2, 0])  # reversed order still matches by position
    assert synced_index(a, 4, b) == 0
    assert synced_index(a, 0, b) == 2
    single = make_series(n=1, positions=[0])
    assert synced_index(a, 3, make_series(n=1, frame_of_reference=None)) == 0
    assert synced_index(single, 0, a) == 0


def test_unavailable_role_shows_a_message_and_the_rest_works(layout, make_series):
    layout.set_case([("T2axi", make_series()), ("DWI", None)])
    assert layout.viewport("DWI").corner_text() == "DWI\nnot available"
    layout.viewport("T2axi").set_slice(5)  # syncing skips the empty viewport
    assert layout.viewport("T2axi").current_index == 5
    layout.set_case([("T2axi", make_series()), ("DWI", make_series())])
    assert "slice 11/20" in layout.viewport("DWI").corner_text()  # opens at the middle


def test_linked_cursor_hides_when_the_mouse_leaves(layout, make_series, gestures):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    layout.linked_cursor = True
    layout.set_case([("a", make_series()), ("b", make_series())])
    gestures.hover(layout.viewport("a"), 0.5, 0.5)
    assert layout.viewport("b").cursor_mark.isVisible()
    QApplication.sendEvent(layout.viewport("a"), QEvent(QEvent.Type.Leave))
    assert not layout.viewport("b").cursor_mark.isVisible()


def test_sync_modes(qtbot, make_series):
    from app.viewer import HangingLayoutWidget

    for mode, expected in (("position", 3), ("fraction", 7), ("none", 5)):
        lay = HangingLayoutWidget(sync=mode)
        qtbot.addWidget(lay)
        lay.set_case(
            [
                ("a", make_series(n=21, positions=[float(i) for i in range(21)])),
                ("b", make_series(n=11, positions=[float(i) for i in range(11)])),
            ]
        )
        lay.viewport("a").set_slice(3 if mode == "position" else 14)  # "none": b stays at its middle
        assert lay.viewport("b").current_index == expected, mode
    with pytest.raises(ValueError, match="sync must be one of"):
        HangingLayoutWidget(sync="diagonal")


def test_orthogonal_planes_in_one_frame_are_not_matched_by_position(make_series):
    from dataclasses import dataclass

    from study.media.types import Media

    @dataclass(frozen=True)
    class Oriented(Media):  # the media layer may add slice_normal; the viewer reads it if present
        slice_normal: tuple[float, float, float] | None = None

    def oriented(m, normal):
        return Oriented(
            frames=m.frames,
            kind=m.kind,
            slice_positions=m.slice_positions,
            frame_of_reference=m.frame_of_reference,
            slice_normal=normal,
        )

    axial = oriented(make_series(n=21, positions=[float(i) for i in range(21)]), (0.0, 0.0, 1.0))
    sagittal = oriented(make_series(n=11, positions=[float(i) for i in range(11)]), (1.0, 0.0, 0.0))
    reversed_axial = oriented(make_series(n=11, positions=[-float(i) for i in range(11)]), (0.0, 0.0, -1.0))
    assert synced_index(axial, 3, sagittal) == 2  # by fraction (3/20 of 10), not position 3
    assert synced_index(axial, 3, reversed_axial) == 3  # same axis, opposite normal: position 3 is index 3
