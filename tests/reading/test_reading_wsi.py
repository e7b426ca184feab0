"""A triage case whose slide is a whole-slide image: reviewed in the slide viewer with the AI heatmap."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from study.store import Store, reads_table
from study.wsi_scores import SlideScores, to_cams, top_tiles
from tests.aimodel import attach_test_model
from tests.reading.helpers import PIN, ai_output_for, make_study

TILE0 = 256


def _slide_scores(spec) -> SlideScores:
    w, h = spec.size
    score = np.full((-(-h // TILE0), -(-w // TILE0)), 0.05, np.float32)
    for r in spec.regions:
        score[(r.y + r.height // 2) // TILE0, (r.x + r.width // 2) // TILE0] = 0.95
    return SlideScores(score, TILE0, top_tiles(score, 2), np.zeros((2, 16, 16), np.float32), spec.size)


def test_triage_reviews_a_whole_slide_with_its_heatmap(qtbot, engine_factory, mono, tmp_path, wsi_slides):
    folder = make_study(tmp_path / "cyto", "multiclass", design="concurrent", mode="triage", n=3)
    spec = wsi_slides["svs"]
    slide_case = folder.case_ids[1]
    shutil.copy(spec.path, folder.path / "media" / "slide.svs")
    with open(folder.path / "cases.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["case_id"] == slide_case:
            row["photo"] = "media/slide.svs"
    with open(folder.path / "cases.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)
    scores = _slide_scores(spec)
    attach_test_model(folder.path)
    store = Store.open(folder.path)
    try:
        for i, cid in enumerate(folder.case_ids):
            out = ai_output_for(folder.protocol, cid, i)
            if cid == slide_case:  # the most suspicious specimen: opened first
                out = replace(out, score=0.99, cams=to_cams("photo", scores))
            store.put_ai_output(out)
    finally:
        store.close()

    window = MainWindow(engine_factory(folder), clock=mono)
    qtbot.addWidget(window)
    window.resize(1400, 850)
    window.show()
    window.login_state.login("r1", PIN)
    window.on_logged_in("r1")
    window.on_session_chosen(1)
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.item is not None and not screen.state.loading)
    assert screen.state.item.case_id == slide_case
    viewer = screen.viewer.slide_viewer("photo")
    assert viewer is not None and viewer.isVisible() and not screen.viewer.viewport("photo").isVisible()
    assert viewer.heatmap.isVisible() and viewer.top_list.count() == 2
    # The AI panel's CAM switch drives the heatmap.
    screen.ai_panel.cam_button.click()
    assert not viewer.heatmap.isVisible()
    screen.ai_panel.cam_button.click()
    assert viewer.heatmap.isVisible()
    with qtbot.waitSignal(viewer.region_opened):
        viewer.open_top(0)
    qtbot.waitUntil(lambda: set(viewer.wanted_tiles) <= viewer.shown_tiles and not viewer.loading, timeout=10000)
    x, y, w, h = scores.top[0].box(TILE0)
    assert any(r.contains(x + w / 2, y + h / 2) for r in spec.regions)
    window.grab().save(str(tmp_path / "triage_wsi.png"))
    shutil.copy(tmp_path / "triage_wsi.png", "/tmp/triage_wsi.png")
    mono.advance(5)
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: not screen.state.loading)
    assert screen.viewer.slide_viewer("photo") is None  # the next slide is a photo again
    assert screen.viewer.viewport("photo").isVisible()
    df = reads_table(folder.path).set_index("case")
    assert df.loc[slide_case, "answer"] == "CIN2+" and df.loc[slide_case, "seconds"] == 5.0


def test_an_unaided_slide_shows_no_ai(qtbot, engine_factory, mono, tmp_path, wsi_slides):
    from tests.reading.helpers import AI_WORDS, screen_texts

    folder = make_study(tmp_path / "seq", "multiclass", design="sequential", mode="triage", n=1)
    spec = wsi_slides["subifds"]
    shutil.copy(spec.path, folder.path / "media" / "slide.tif")
    text = (folder.path / "cases.csv").read_text(encoding="utf-8")
    (folder.path / "cases.csv").write_text(
        text.replace(f"media/{folder.case_ids[0]}_photo.png", "media/slide.tif"), encoding="utf-8"
    )
    attach_test_model(folder.path)
    store = Store.open(folder.path)
    try:  # the AI output exists, with its score map, but session 1 is unaided
        out = ai_output_for(folder.protocol, folder.case_ids[0], 0)
        store.put_ai_output(replace(out, cams=to_cams("photo", _slide_scores(spec))))
    finally:
        store.close()
    window = MainWindow(engine_factory(folder), clock=mono)
    qtbot.addWidget(window)
    window.show()
    window.login_state.login("r1", PIN)
    window.on_logged_in("r1")
    window.on_session_chosen(1)
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.item is not None and not screen.state.loading)
    viewer = screen.viewer.slide_viewer("photo")
    assert viewer is not None and viewer.isVisible() and viewer.slide is not None
    assert viewer.scores is None and viewer.heatmap.maps is None and viewer.top_list.count() == 0
    assert not [t for t in screen_texts(window) if AI_WORDS.search(t)]
    qtbot.keyClick(viewer, Qt.Key.Key_H)  # no heatmap to switch on
    qtbot.keyClick(viewer, Qt.Key.Key_1)  # no AI pick to jump to
    assert viewer.scores is None and not viewer.heatmap.isVisible()
