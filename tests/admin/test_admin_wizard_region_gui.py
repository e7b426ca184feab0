"""qtbot drives the wizard to region studies: truth masks from the truth table shown in the case
table and over the preview, the region page (what is outlined, on which role, the pixel size
the DICOM gives or the one typed, the combined question), and a study the engine opens.

Screenshots of the pages go to ``$WIZARD_SHOTS`` when it is set."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from app.admin import open_admin
from study.cases import load_cases
from study.protocol import load_protocol


def _shot(widget, name: str) -> None:
    folder = os.environ.get("WIZARD_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.resize(1440, 900)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def _problems(w) -> list[str]:
    return [w.problem_list.item(i).text() for i in range(w.problem_list.count())]


def test_wizard_region_study_on_series_with_truth_masks(qtbot, tmp_path, region_series):
    media, truth = region_series
    study = tmp_path / "lesions"
    shell = open_admin(study)
    qtbot.addWidget(shell)
    w = shell.wizard
    w.media_edit.setText(str(media))
    w.truth_edit.setText(str(truth))
    qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    assert w.pages.currentIndex() == 1 and "2 truth masks" in w.message_label.text()
    headers = [w.case_table.horizontalHeaderItem(c).text() for c in range(w.case_table.columnCount())]
    assert headers == ["case_id", "truth", "patient_id", "series", "truth_mask"]
    assert w.case_table.item(0, 4).text() == "masks/S1.npy"  # relative to the truth table's folder
    with qtbot.waitSignal(w.preview_shown, timeout=10_000):
        w.case_table.selectRow(0)
    vp = w.preview.viewport("series")
    assert vp.n_frames == 4 and vp.outline.isVisible() and not vp.outline.path().isEmpty()  # the truth, slice 2
    vp.set_slice(0)
    assert vp.outline.path().isEmpty()  # no truth on slice 0
    vp.set_slice(2)
    _shot(shell, "wizard_region_cases")

    qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    page = w.protocol_page
    assert page.kind.currentData() == "region" and page.kind_pages.currentIndex() == 4
    assert page.question.text() == "Outline the region"
    assert page.region_role.currentText() == "series"
    assert page.spacing.value() == 0 and page.spacing.specialValueText() == "from the DICOM"
    assert "0.3125 \u00d7 0.3125 mm" in page.spacing_note.text()
    assert page.also.currentData() == "" and not page.also_question.isVisibleTo(page)
    qtbot.keyClicks(page.region, "lesion")
    assert page.question.text() == "Outline the lesion"  # the default instruction follows the name
    qtbot.keyClicks(page.password, "secret-1")
    qtbot.keyClicks(page.confirm, "secret-1")
    _shot(shell, "wizard_region_protocol_series")
    with qtbot.waitSignal(w.study_created, timeout=10_000):
        qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    p = load_protocol(study)
    t = p.task
    assert (t.kind, t.question, t.region, t.role, t.spacing_mm, t.also) == (
        "region",
        "Outline the lesion",
        "lesion",
        "series",
        None,
        "",
    )
    cases = load_cases(study, p)
    assert [Path(c.truth_mask).relative_to(study).as_posix() for c in cases] == ["masks/S1.npy", "masks/S2.npy"]


def test_wizard_region_chosen_by_hand_asks_for_masks_and_spacing(qtbot, tmp_path, photo_folder):
    media, truth = photo_folder  # photos, no truth masks in the table
    masks = tmp_path / "drawn"
    masks.mkdir()
    for i in range(1, 9):
        with Image.open(media / f"C{i:03d}.png") as im:
            h, w_ = im.height, im.width
        Image.fromarray((np.arange(h * w_).reshape(h, w_) % 7 == 0).astype(np.uint8) * 255).save(
            masks / f"C{i:03d}.png"
        )
    shell = open_admin(tmp_path / "discs")
    qtbot.addWidget(shell)
    w = shell.wizard
    w.media_edit.setText(str(media))
    w.truth_edit.setText(str(truth))
    w.next_button.click()
    assert w.case_table.columnCount() == 4  # no masks, binary guessed: no truth_mask column
    w.next_button.click()
    page = w.protocol_page
    assert page.kind.currentData() == "binary"
    page.kind.setCurrentIndex(page.kind.findData("region"))
    assert page.kind_pages.currentIndex() == 4 and page.question.text() == "Outline the region"
    assert page.spacing.specialValueText() == "unknown (areas in pixels)"
    assert "carry no pixel size" in page.spacing_note.text()
    page.spacing.setValue(0.02)
    page.also.setCurrentIndex(page.also.findData("binary"))
    assert page.also_question.isVisibleTo(page) and page.also_confidence.isVisibleTo(page)
    page.question.clear()
    qtbot.keyClicks(page.question, "Delineate the disc margin")
    qtbot.keyClicks(page.region, "optic disc")
    assert page.question.text() == "Delineate the disc margin"  # typed by the researcher: kept
    qtbot.keyClicks(page.also_question, "Glaucoma?")
    qtbot.keyClicks(page.also_negative, "healthy")
    qtbot.keyClicks(page.also_positive, "glaucoma")
    qtbot.keyClicks(page.password, "secret-1")
    qtbot.keyClicks(page.confirm, "secret-1")
    _shot(shell, "wizard_region_protocol_photos")
    w.check_button.click()
    problems = _problems(w)
    assert len(problems) == 8 and all("truth_mask: no mask path" in p for p in problems)
    w.on_problem_activated(w.problem_list.item(0))
    assert w.pages.currentIndex() == 1
    assert w.case_table.horizontalHeaderItem(4).text() == "truth_mask"  # shown now that the task is a region
    # typed relative to the truth table's folder, as the table's own paths are
    shutil.move(str(masks), str(truth.parent / "drawn"))
    for row in range(8):
        w.case_table.item(row, 4).setText(f"drawn/C{row + 1:03d}.png")
    assert _problems(w) == [] and w.case_table.item(7, 4).text() == "drawn/C008.png"
    # a mask of another size than its image: the preview says so instead of drawing it
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(truth.parent / "drawn" / "small.png")
    w.case_table.item(0, 4).setText("drawn/small.png")
    w.case_table.selectRow(2)
    qtbot.waitUntil(lambda: w.preview_label.text() == "Preview: C003", timeout=10_000)
    w.case_table.selectRow(0)
    qtbot.waitUntil(lambda: w.preview_label.text() == "Preview: C001", timeout=10_000)
    assert (
        "Truth mask of shape (10, 10) does not match the 'image' media, of shape (512, 512)." in w.message_label.text()
    )
    assert not w.preview.viewport("image").outline.isVisible()
    w.case_table.item(0, 4).setText("drawn/C001.png")
    w.case_table.selectRow(1)
    qtbot.waitUntil(lambda: w.preview_label.text() == "Preview: C002", timeout=10_000)
    assert w.preview.viewport("image").outline.isVisible()
    w.next_button.click()
    with qtbot.waitSignal(w.study_created, timeout=10_000):
        w.next_button.click()
    t = load_protocol(tmp_path / "discs").task
    assert (t.kind, t.question, t.region, t.spacing_mm, t.also, t.also_question, t.labels) == (
        "region",
        "Delineate the disc margin",
        "optic disc",
        0.02,
        "binary",
        "Glaucoma?",
        ("healthy", "glaucoma"),
    )
