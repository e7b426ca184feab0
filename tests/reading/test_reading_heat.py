"""The heat map is drawn as strongly as the AI scores the class it explains (study.heat): a case
the AI calls far below its cut-off shows faint heat or none, and the AI panel says why.

Stored CAMs are normalized per image to [0, 1]; without this a case scored 3 % showed the same
saturated blot as one scored 90 %."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from study.aioutput import AIOutput, field_cam_key
from study.heat import heat_strength
from study.specimen import FieldScore
from study.store import Store
from tests.aimodel import attach_test_model
from tests.reading.helpers import make_study, open_session

MRI = ("leiomyoma", "sarcoma")
CYTO = ("normal", "CIN1", "CIN2+")


def _binary(score: float, threshold: float | None = 0.45, cam_target: str = "sarcoma", **kw) -> AIOutput:
    return AIOutput(
        "c", "m", "binary", MRI, (1 - score, score), predicted=MRI[int(score >= (threshold or 0.5))], score=score,
        threshold=threshold, positive=("sarcoma",) if threshold is not None else (), cam_target=cam_target,
        cams={"T2axi": np.ones((1, 4, 4), np.float16)}, **kw,
    )  # fmt: skip


# -- the rule, as plain functions ---------------------------------------------------------------


def test_positive_class_heat_follows_the_score_up_to_the_cut_off():
    low = heat_strength(_binary(0.03))
    assert low.strength == pytest.approx(0.03 / 0.45) and low.faded
    assert low.note == "Heat faded to 7 % strength: AI sarcoma score 3 % is below the cut-off 45 %."
    assert heat_strength(_binary(0.30)).strength == pytest.approx(0.30 / 0.45)  # borderline: most of it
    at = heat_strength(_binary(0.45))
    assert at.strength == 1.0 and not at.faded  # the AI calls it positive: full heat
    high = heat_strength(_binary(0.92))
    assert high.strength == 1.0 and high.note == "Heat at full strength: AI sarcoma score 92 % reaches the cut-off."
    assert heat_strength(_binary(0.0)).strength == 0.0


def test_a_binary_model_without_a_stored_cut_off_is_cut_at_one_half():
    out = _binary(0.1, threshold=None)
    assert heat_strength(out).strength == pytest.approx(0.2)
    assert "below the cut-off 50 %" in heat_strength(out).note


def test_heat_of_the_negative_class_follows_that_class_against_its_own_cut():
    # P(leiomyoma) = 0.9 is far past its cut (1 - 0.45): the heat explains the AI's own call.
    assert heat_strength(_binary(0.1, cam_target="leiomyoma")).strength == 1.0
    strong = heat_strength(_binary(0.9, cam_target="leiomyoma"))
    assert strong.strength == pytest.approx(0.1 / 0.55) and "AI leiomyoma score 10 %" in strong.note


def test_predicted_class_heat_of_a_positive_call_is_full_and_an_older_output_is_read_safely():
    assert heat_strength(_binary(0.8, cam_target="predicted")).strength == 1.0
    # stored before the CAM's class was recorded: taken as the positive class, so a negative call fades
    old = heat_strength(_binary(0.05, cam_target=""))
    assert old.strength == pytest.approx(0.05 / 0.45)


def test_a_specimen_field_is_scaled_by_its_own_score_not_the_specimen_s():
    fields = (FieldScore(0, 0.9, (0.05, 0.05, 0.9), "CIN2+"), FieldScore(1, 0.02, (0.9, 0.08, 0.02), "normal"))
    cams = {field_cam_key("photo", i): np.ones((1, 4, 4), np.float16) for i in range(2)}
    out = AIOutput(
        "s", "m", "multiclass", CYTO, (0.05, 0.05, 0.9), predicted="CIN2+", score=0.9, threshold=0.376,
        positive=("CIN2+",), cam_target="CIN2+", cams=cams, fields=fields, aggregate="max",
    )  # fmt: skip
    assert heat_strength(out, 0).strength == 1.0
    assert heat_strength(out, 1).strength == pytest.approx(0.02 / 0.376)
    assert heat_strength(out, 1).note.endswith("this field's AI CIN2+ score 2 % is below the cut-off 38 %.")
    assert heat_strength(out).strength == 1.0  # no field named: field 1's CAM is the one stored under the role


def test_a_class_without_an_operating_point_is_weighed_against_the_most_likely_class():
    out = AIOutput("c", "m", "multiclass", CYTO, (0.8, 0.1, 0.1), predicted="normal", score=0.1, cam_target="CIN1")
    weak = heat_strength(out)
    assert weak.strength == pytest.approx(0.125) and weak.note.endswith("AI CIN1 10 % against normal 80 %.")
    grades = AIOutput("v", "m", "grade_distribution", tuple("ABCDE"), (0.1, 0.2, 0.4, 0.2, 0.1), predicted="C")
    assert heat_strength(grades) == heat_strength(None)  # the predicted grade's heat: full, nothing to say
    assert heat_strength(AIOutput("v", "m", "grade_distribution", tuple("ABCDE"), (0.1, 0.2, 0.4, 0.2, 0.1),
                                  predicted="C", cam_target="A")).strength == pytest.approx(0.25)  # fmt: skip


def test_a_value_a_slide_score_map_and_an_unknown_score_are_not_scaled():
    hb = AIOutput(
        "p", "m", "regression", ("hemoglobin",), value=7.0, predicted="7.0", score=7.0, cam_target="predicted"
    )
    assert heat_strength(hb).strength == 1.0 and heat_strength(hb).note == ""
    slide = AIOutput("w", "m", "binary", MRI, (0.97, 0.03), score=0.03, threshold=0.45,
                     cams={"slide#scoremap": np.zeros((1, 3, 3), np.float16)})  # fmt: skip
    assert heat_strength(slide).strength == 1.0 and "each tile's own AI score" in heat_strength(slide).note
    unknown = heat_strength(_binary(math.nan))
    assert unknown.strength == 1.0 and "unknown" in unknown.note


def test_percentages_that_would_read_the_same_get_a_decimal():
    note = heat_strength(_binary(0.4494, threshold=0.4496)).note
    assert "score 44.9 % is below the cut-off 45.0 %" in note


# -- on screen: a real study, real widgets -----------------------------------------------------


def _outputs(folder, scores: dict[str, float]) -> None:
    """Binary outputs at the given scores with a blob CAM of the positive class, cut-off 45 %."""
    attach_test_model(folder.path)
    labels = folder.protocol.task.labels
    yy, xx = np.mgrid[0:24, 0:24]
    cam = np.exp(-(((yy - 12) ** 2 + (xx - 12) ** 2) / 30.0))[None].astype(np.float16)
    store = Store.open(folder.path)
    try:
        for cid, p in scores.items():
            store.put_ai_output(
                AIOutput(
                    cid,
                    "m-test",
                    "binary",
                    labels,
                    (1 - p, p),
                    predicted=labels[int(p >= 0.45)],
                    score=p,
                    cams={"photo": cam},
                    cam_method="hirescam",
                    threshold=0.45,
                    threshold_rule="youden",
                    positive=(labels[1],),
                    cam_target=labels[1],
                )  # fmt: skip
            )
    finally:
        store.close()


def _heat_on_screen(screen) -> float:
    """Mean colour change the heat overlay makes in the viewport (0-255 scale), measured on the
    drawn widget: the same view grabbed with the heat on and off."""
    vp = screen.viewer.viewports()[0]

    def grab() -> np.ndarray:
        img = vp.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        arr = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes())
        return arr.reshape(img.height(), img.bytesPerLine())[:, : 3 * img.width()].astype(np.float32)

    assert screen.state.cam_visible
    on = grab()
    screen.viewer.set_overlays_visible(False)
    off = grab()
    screen.viewer.set_overlays_visible(True)
    return float(np.abs(on - off).mean())


def test_a_case_far_below_the_cut_off_shows_faint_heat_and_the_panel_says_why(qtbot, engine_factory, mono, tmp_path):
    folder = make_study(tmp_path / "s", design="concurrent", n=2)
    low, high = folder.case_ids
    _outputs(folder, {low: 0.03, high: 0.90})
    engine = engine_factory(folder)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    panel = screen.ai_panel
    seen: dict[str, tuple[float, float, str]] = {}
    for _ in range(2):
        case = screen.state.item.case_id
        if not screen.state.cam_visible:
            qtbot.mouseClick(panel.cam_button, Qt.MouseButton.LeftButton)  # the heat toggle
        vp = screen.viewer.viewports()[0]
        assert vp.overlay.isVisible() and vp.overlay.chosen_opacity == pytest.approx(0.45)
        assert panel.heat_label.isVisible()
        seen[case] = (vp.overlay.opacity(), _heat_on_screen(screen), panel.heat_label.text().replace("\u00a0", " "))
        if os.environ.get("READERSTUDY_SHOTS"):
            window.grab().save(os.path.join(os.environ["READERSTUDY_SHOTS"], f"heat_{case}.png"))
        position = screen.state.item.position
        for key in (Qt.Key.Key_2, Qt.Key.Key_Up, Qt.Key.Key_Return):
            qtbot.keyClick(screen, key)
            if key == Qt.Key.Key_Return and screen.state.warned:
                qtbot.keyClick(screen, key)
        qtbot.waitUntil(lambda p=position: screen.state.item is None or screen.state.item.position != p)
        if screen.state.item is not None:
            qtbot.waitUntil(lambda: not screen.state.loading)
    opacity_low, drawn_low, note_low = seen[low]
    opacity_high, drawn_high, note_high = seen[high]
    assert opacity_low == pytest.approx(0.45 * 0.03 / 0.45) and opacity_high == pytest.approx(0.45)
    assert note_low == "Heat faded to 7 % strength: AI malignant score 3 % is below the cut-off 45 %."
    assert note_high == "Heat at full strength: AI malignant score 90 % reaches the cut-off."
    # What the reader sees: the low case's heat changes the picture far less than the high one's.
    assert drawn_high > 1.0 and drawn_low < 0.15 * drawn_high
    window.close()


def test_a_specimen_s_field_thumbnail_and_full_view_fade_with_that_field_s_score(qtbot, engine_factory, mono, tmp_path):
    from app.reading.prefetch import specimen_thumbs
    from app.reading.triage_thumbs import CAM_OPACITY, cam_lut, with_cam
    from tests.reading.specimen_helpers import FIELD_SCORES, make_specimen_study, specimen_output

    folder = make_specimen_study(tmp_path / "spec", n=1)  # one specimen, fields scored 0.2, 0.9, 0.4
    attach_test_model(folder.path)
    from dataclasses import replace

    out = replace(
        specimen_output(folder.protocol, folder.case_ids[0], 0),
        threshold=0.376, positive=("CIN2+",), cam_target="CIN2+",
    )  # fmt: skip
    store = Store.open(folder.path)
    try:
        store.put_ai_output(out)
    finally:
        store.close()
    engine = engine_factory(folder)
    window, screen = open_session(qtbot, engine, mono)
    gallery = screen.triage.gallery
    vp = screen.viewer.viewports()[0]
    scores = FIELD_SCORES[0]
    assert gallery.shown == 1 and vp.overlay.opacity() == pytest.approx(0.45)  # 0.9: above the cut-off
    qtbot.keyClick(screen, Qt.Key.Key_3)  # the third-ranked field: field 0, scored 0.2
    assert gallery.shown == 0
    assert vp.overlay.opacity() == pytest.approx(0.45 * scores[0] / 0.376)
    assert (
        screen.ai_panel.heat_label.text()
        .replace("\u00a0", " ")
        .endswith("this field's AI CIN2+ score 20 % is below the cut-off 38 %.")
    )
    # The gallery's CAM thumbnails: each field's heat as strong as the AI scores that field.
    shown = screen.gallery_panel.images[0].pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
    thumbs = specimen_thumbs(screen.prefetcher.get(screen.state.item))
    for f, p in enumerate(scores):
        plain, cam = thumbs[f]
        full = with_cam(plain, out.field_cam("photo", f), cam_lut(), CAM_OPACITY)
        faint = with_cam(plain, out.field_cam("photo", f), cam_lut(), CAM_OPACITY * min(1.0, p / 0.376))
        assert np.array_equal(cam, faint) and (p >= 0.376 or not np.array_equal(cam, full))
    drawn = np.frombuffer(shown.constBits(), np.uint8, shown.sizeInBytes()).reshape(shown.height(), -1)
    assert np.array_equal(drawn[:, : 3 * shown.width()].reshape(thumbs[0][1].shape), thumbs[0][1])  # on screen
    window.close()
