"""A region task on a real DICOM series through the whole reading screen: the reader outlines on
two different slices, submits, and the stored mask keeps each slice's plane where it was drawn;
the unaided read shows no AI region on any slice, the aided read starts from it slice by slice.

The series are pydicom's bundled MR_small.dcm made into 4-slice series written in reversed file
order (tests/regionstudy.py), so the planes only line up when the stored mask follows the
loader's slice order.  Screenshots go to ``$REGION_SHOTS`` when it is set."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.reading.region_answer import RegionAnswer
from study.media import load
from study.regionreads import region_reads, write_masks
from tests.reading.helpers import open_session, screen_texts
from tests.reading.region_mouse import click, drag
from tests.regionstudy import MR_SPACING, put_series_ai, write_mr_series, write_series_region_study


@pytest.fixture(autouse=True)
def _moves(every_mouse_move):
    yield


def _shot(widget, name: str) -> None:
    folder = os.environ.get("REGION_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def _ready(screen) -> RegionAnswer:
    screen.window().grab()  # laid out and painted, as before a reader's hand moves
    editor = screen.region_editor
    assert editor is not None and editor.canvas is not None
    assert isinstance(screen.state.answer, RegionAnswer)
    return screen.state.answer


def test_series_region_drawn_on_two_slices_round_trips_through_the_store(qtbot, engine_factory, tmp_path, now, mono):
    study = write_series_region_study(tmp_path / "series")
    put_series_ai(study)  # the AI's regions are in the store, yet an unaided read never shows them
    engine = engine_factory(study)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    a = _ready(screen)
    vp = screen.region_viewport()
    case = screen.state.item.case_id
    media = load(study.path / "media" / case)
    assert vp.n_frames == 4 and a.mask.shape == (4, 64, 64) and not a.image_2d
    assert a.start is None and not a.mask.any() and a.spacing_mm == MR_SPACING  # spacing from PixelSpacing
    for k in range(4):  # no AI region on any slice, and no AI words anywhere
        vp.set_slice(k)
        assert not vp.outline.isVisible() and not vp.mask_fill.isVisible() and vp.outline.path().isEmpty()
    assert not screen.ai_panel.isVisible()
    assert not [t for t in screen_texts(window) if "AI" in t.split()]

    vp.set_slice(1)  # a polygon on slice 1
    for x, y in [(10, 10), (30, 10), (30, 30), (10, 30)]:
        click(screen, x, y)
    assert a.mask[1].sum() == 400 and a.mask.sum() == 400
    area = screen.region_editor.area_label.text()
    assert f"{400 * MR_SPACING[0] * MR_SPACING[1]:.2f} mm\u00b2" in area  # 400 px of 0.3125 mm
    assert area.endswith("\nVolume 31.25 mm\u00b3\non 1 of 4 slices, 0.8 mm apart")  # 400 x 0.3125^2 x 0.8 mm^3
    vp.set_slice(2)  # on slice 2: another polygon, then a brush stroke
    assert len(screen.region_editor._vertices()) == 0
    for x, y in [(35, 35), (55, 35), (55, 55), (35, 55)]:
        click(screen, x, y)
    QTest.keyClick(screen, Qt.Key.Key_B)
    drag(screen, (5, 50), (15, 50))
    assert a.mask[2, 50, 10] and a.mask[1].sum() == 400 and a.mask[2].sum() > 400
    assert not a.mask[0].any() and not a.mask[3].any()
    assert f"({a.pixels} px)\nVolume " in screen.region_editor.area_label.text()
    assert screen.region_editor.area_label.text().endswith("\non 2 of 4 slices, 0.8 mm apart")
    _shot(window, "series_unaided_slice2")
    drawn = a.mask.copy()
    mono.advance(4)
    QTest.keyClick(screen, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.state.item is None or screen.state.item.case_id != case)

    reads = {r.case_id: r for r in region_reads(study.path)}
    r = reads[case]
    assert r.mode == "unaided" and r.mask.shape == (4, 64, 64) and np.array_equal(r.mask, drawn)
    assert r.spacing_mm == MR_SPACING and r.accepted_unchanged is None and r.edit_count == 9
    # slice k of the stored mask is slice k of the series as the loader sorts it (files were written
    # in reversed order): the drawn square sits on the frame shown as slice 1
    assert media.frames.shape == (4, 64, 64) and media.slice_positions[1] < media.slice_positions[2]
    # the export a statistician opens: the slices stacked top to bottom, slice 1 in rows 64..127
    index = write_masks([r], tmp_path / "export")
    with index.open(newline="") as f:
        row = next(csv.DictReader(f))
    assert (row["slices"], row["pixels"]) == ("4", str(int(drawn.sum())))
    with Image.open(index.parent / row["file"]) as im:
        flat = np.asarray(im) > 0
    assert flat.shape == (256, 64) and np.array_equal(flat[64:128], drawn[1]) and not flat[:64].any()


def test_aided_series_read_starts_from_the_ai_region_on_each_slice(qtbot, engine_factory, tmp_path, now, mono):
    study = write_series_region_study(tmp_path / "aided", design="concurrent")
    put_series_ai(study)
    engine = engine_factory(study)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    a = _ready(screen)
    vp = screen.region_viewport()
    case = screen.state.item.case_id
    expected = np.roll(study.truth_masks[case], 2, axis=2)
    assert a.start is not None and a.mask.shape == (4, 64, 64) and a.accepted_unchanged is True
    for k in range(4):
        inter = (a.mask[k] & expected[k]).sum()
        total = a.mask[k].sum() + expected[k].sum()
        assert (total == 0) if not expected[k].any() else 2 * inter / total > 0.85
        vp.set_slice(k)
        assert vp.outline.isVisible()  # the AI's contour, outlined on the slices where it found the region
        assert vp.outline.path().isEmpty() != bool(expected[k].any())
    # no combined question: the AI's score answers nothing asked, the panel shows the region alone
    assert screen.ai_panel.main_label.text() == "AI region"
    vp.set_slice(2)
    _shot(window, "series_aided_slice2")
    QTest.keyClick(screen, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.state.item is None or screen.state.item.case_id != case)
    r = {x.case_id: x for x in region_reads(study.path)}[case]
    assert r.mode == "aided" and r.accepted_unchanged is True and np.array_equal(r.mask, a.start)


def test_a_series_without_pixel_spacing_gives_areas_in_pixels(qtbot, engine_factory, tmp_path, now, mono):
    """DICOM without PixelSpacing: the loader's 1 mm default is no measurement, so no mm\u00b2."""
    study = write_series_region_study(tmp_path / "nospacing", n=1)
    folder = study.path / "media" / study.case_ids[0]
    for f in folder.iterdir():
        f.unlink()
    write_mr_series(folder, n=4, spacing=False)
    engine = engine_factory(study)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    a = _ready(screen)
    assert a.spacing_mm is None
    screen.region_viewport().set_slice(1)
    for x, y in [(10, 10), (30, 10), (30, 30), (10, 30)]:
        click(screen, x, y)
    text = screen.region_editor.area_label.text()
    assert text == "Area 400 px\non 1 of 4 slices (pixel size unknown)"


def test_the_live_volume_of_a_series_is_voxels_times_the_slice_step_in_mm3_then_ml(
    qtbot, engine_factory, tmp_path, now, mono
):
    """Slices 3 mm apart (positions), 0.3125 mm pixels: a 50 x 50 px square is 2500 x 0.3125^2 x 3
    = 732.42 mm\u00b3 on one slice (under 1 mL: in mm\u00b3, as the report), 1.46 mL on two."""
    study = write_series_region_study(tmp_path / "step3", n=1, offsets=(0.0, 3.0, 6.0, 9.0))
    engine = engine_factory(study)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    a = _ready(screen)
    vp = screen.region_viewport()
    assert a.voxel_mm == pytest.approx((3.0, *MR_SPACING)) and a.no_volume == ""
    square = [(5, 5), (55, 5), (55, 55), (5, 55)]
    vp.set_slice(1)
    for x, y in square:
        click(screen, x, y)
    assert a.pixels == 2500
    label = screen.region_editor.area_label
    assert label.text() == "Area 244.14 mm\u00b2 (2500 px)\nVolume 732.42 mm\u00b3\non 1 of 4 slices, 3 mm apart"
    vp.set_slice(2)
    for x, y in square:
        click(screen, x, y)
    assert a.pixels == 5000 and a.volume_mm3 == pytest.approx(1464.84375)
    assert label.text() == "Area 488.28 mm\u00b2 (5000 px)\nVolume 1.46 mL\non 2 of 4 slices, 3 mm apart"
    # laid out with all three lines shown, none cut off at the panel's edge
    qtbot.waitUntil(lambda: label.height() >= label.sizeHint().height() and label.width() >= label.sizeHint().width())
    _shot(window, "series_volume_label")


@pytest.mark.parametrize(
    ("series", "why"),
    [
        ({"offsets": (0.0, 0.8, 2.4, 3.2)}, "uneven slice spacing"),  # a lost slice
        ({"positions": False}, "no slice positions"),
    ],
)
def test_a_series_without_an_even_slice_spacing_keeps_the_area_and_says_why_no_volume(
    qtbot, engine_factory, tmp_path, now, mono, series, why
):
    study = write_series_region_study(tmp_path / "uneven", n=1)
    folder = study.path / "media" / study.case_ids[0]
    for f in folder.iterdir():
        f.unlink()
    write_mr_series(folder, n=4, **series)
    engine = engine_factory(study)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    a = _ready(screen)
    assert a.voxel_mm is None and a.volume_mm3 is None
    screen.region_viewport().set_slice(1)
    for x, y in [(10, 10), (30, 10), (30, 30), (10, 30)]:
        click(screen, x, y)
    label = screen.region_editor.area_label
    assert label.text() == f"Area 39.06 mm\u00b2 (400 px)\non 1 of 4 slices\nno volume: {why}"
    qtbot.waitUntil(lambda: label.height() >= label.sizeHint().height() and label.width() >= label.sizeHint().width())
    _shot(window, f"series_no_volume_{why.split()[0]}")
