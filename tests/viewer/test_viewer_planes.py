"""The demo MRI case (T2axi, T2sag, DWI) in a HangingLayoutWidget: planes, reference lines, link, maximise."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.viewer.items import REFERENCE_COLORS


@pytest.fixture
def mri_layout(layout, demo_mri):
    layout.set_case(demo_mri)
    return layout


def colour_pixels(vp, pixels, k: int) -> int:
    """How many rendered pixels have the k-th reference colour (a line is drawn there)."""
    r, g, b = REFERENCE_COLORS[k]
    img = pixels(vp).astype(int)  # B, G, R
    return int(
        np.count_nonzero((abs(img[..., 2] - r) < 40) & (abs(img[..., 1] - g) < 40) & (abs(img[..., 0] - b) < 40))
    )


def test_series_open_at_the_middle_and_parallel_series_in_step(mri_layout, demo_mri):
    axi, sag, dwi = (mri_layout.viewport(r) for r in ("T2axi", "T2sag", "DWI"))
    assert axi.current_index == 8 and sag.current_index == 8  # 16 slices: the middle, not slice 1
    # DWI's slices are 2 mm above T2axi's (positions -13.6 + 6k vs -11.8 + 5.5k): it opens at the nearest.
    z = demo_mri["T2axi"].slice_positions[8]
    assert dwi.current_index == int(np.argmin(np.abs(np.array(demo_mri["DWI"].slice_positions) - z)))


def test_a_key_slice_opens_its_series_there_and_parallel_series_follow(layout, demo_mri):
    layout.set_case(demo_mri, start_by_role={"T2axi": 3, "T2sag": 12})
    axi, sag, dwi = (layout.viewport(r) for r in ("T2axi", "T2sag", "DWI"))
    assert (axi.current_index, sag.current_index) == (3, 12)
    z = demo_mri["T2axi"].slice_positions[3]
    assert dwi.current_index == int(np.argmin(np.abs(np.array(demo_mri["DWI"].slice_positions) - z)))
    assert "slice 4/16" in axi.corner_text()


def test_scrolling_sagittal_leaves_axial_planes_and_moves_their_reference_line(mri_layout, gestures, pixels, demo_mri):
    axi, sag, dwi = (mri_layout.viewport(r) for r in ("T2axi", "T2sag", "DWI"))
    before = axi.reference.lines()
    assert [k for *_, k in before] == [1]  # T2sag's line only: DWI is parallel to T2axi
    assert colour_pixels(axi, pixels, 1) > 50  # and it is drawn
    dwi_before = dwi.current_index
    gestures.wheel(sag, -3)
    assert sag.current_index == 11
    assert axi.current_index == 8 and dwi.current_index == dwi_before
    after = axi.reference.lines()
    # Sagittal slices are 5.5 mm apart along -x: the vertical line moved 16.5 mm left in the axial view.
    assert after[0][0][0] == pytest.approx(before[0][0][0] - 3 * 5.5)
    assert dwi.reference.lines()[0][0][0] == pytest.approx(
        after[0][0][0] + (demo_mri["T2axi"].origin[0] - 2.5 / 2) - (demo_mri["DWI"].origin[0] - 3.375 / 2)
    )


def test_scrolling_axial_moves_dwi_and_the_lines_on_sagittal(mri_layout, gestures, pixels):
    axi, sag, dwi = (mri_layout.viewport(r) for r in ("T2axi", "T2sag", "DWI"))
    lines = sag.reference.lines()
    assert sorted(k for *_, k in lines) == [0, 2]  # T2axi's and DWI's horizontal lines
    v_axi = next(p[1] for p, q, k in lines if k == 0)
    dwi_before = dwi.current_index
    gestures.wheel(axi, -2)
    assert axi.current_index == 10 and sag.current_index == 8
    assert dwi.current_index != dwi_before  # parallel: in step
    v_after = next(p[1] for p, q, k in sag.reference.lines() if k == 0)
    assert v_after == pytest.approx(v_axi - 2 * 5.5)  # columns run inferior: higher slice, smaller v
    assert colour_pixels(sag, pixels, 0) > 50 and colour_pixels(sag, pixels, 2) > 30


def test_link_button_and_l_key_unlink_and_relink_parallel_series(mri_layout, qtbot, gestures):
    axi, dwi = mri_layout.viewport("T2axi"), mri_layout.viewport("DWI")
    assert mri_layout.link_button.isVisible() and mri_layout.link_button.isChecked()
    qtbot.mouseClick(mri_layout.link_button, Qt.MouseButton.LeftButton)
    assert not mri_layout.sync_enabled
    start = dwi.current_index
    gestures.wheel(axi, -3)
    assert dwi.current_index == start  # unlinked: DWI stays
    qtbot.keyClick(axi, Qt.Key.Key_L)
    assert mri_layout.link_button.isChecked()
    assert dwi.current_index != start  # relinked: back in step with T2axi at once
    assert axi.current_index == 11  # relinking moved DWI, not the series the reader was on
    gestures.wheel(dwi, 1)
    assert axi.current_index < 11  # and T2axi follows DWI again


def test_double_click_maximises_and_restores(mri_layout, gestures, qtbot):
    sag = mri_layout.viewport("T2sag")
    width = sag.width()
    gestures.double_click(sag)
    assert mri_layout.maximised_role == "T2sag"
    qtbot.waitUntil(lambda: sag.width() > 2 * width)
    assert not mri_layout.viewport("T2axi").isVisible() and not mri_layout.viewport("DWI").isVisible()
    gestures.double_click(sag)
    assert mri_layout.maximised_role is None
    assert mri_layout.viewport("T2axi").isVisible() and mri_layout.viewport("DWI").isVisible()
    qtbot.keyClick(mri_layout.viewport("DWI"), Qt.Key.Key_M)
    assert mri_layout.maximised_role == "DWI"


def test_no_lines_without_a_shared_frame_of_reference(layout, demo_mri):
    import dataclasses

    other = dataclasses.replace(demo_mri["T2sag"], frame_of_reference="9.9.9")
    layout.set_case({"T2axi": demo_mri["T2axi"], "T2sag": other})
    assert layout.viewport("T2axi").reference.lines() == []
    layout.viewport("T2sag").set_slice(2)
    assert layout.viewport("T2axi").current_index == 8  # still independent: the planes differ
