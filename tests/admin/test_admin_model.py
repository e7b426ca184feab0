"""Model screen with a real tiny model: attach (sha256, architecture, head), precompute with progress,
cancel and resume, unreadable cases listed, prediction + CAM preview."""

from __future__ import annotations

import os
import re

import pytest

from app.admin.model_state import ModelState, describe_spec
from app.admin.model_widget import ModelPanel
from inference.spec import file_sha256
from study.engine import StudyEngine
from study.protocol import load_protocol


@pytest.fixture
def engine(photo_study):
    e = StudyEngine.open(photo_study)
    yield e
    e.close()


def test_attach_shows_spec_and_records_it(qtbot, engine, tiny_model):
    panel = ModelPanel(ModelState(engine))
    qtbot.addWidget(panel)
    assert not panel.run_button.isEnabled()
    panel.attach(tiny_model)
    assert panel.info["architecture"].text() == "mobilenet_v2"
    assert panel.info["head"].text().startswith("binary: negative, positive")
    digest = file_sha256(tiny_model.parent / "image.pt")
    assert digest[:16] in panel.info["sha256"].text() and "matches" in panel.info["sha256"].text()
    assert load_protocol(engine.study_dir).model_spec == "../model/model.toml"
    assert panel.run_button.isEnabled()


def test_bad_spec_lists_problems(qtbot, engine, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\narchitecture = "alexnet"\n')
    panel = ModelPanel(ModelState(engine))
    qtbot.addWidget(panel)
    panel.attach(bad)
    assert "model.architecture" in panel.problem_label.text() and not panel.run_button.isEnabled()


def test_precompute_progress_cancel_resume_unreadable_and_preview(qtbot, engine, tiny_model):
    (engine.study_dir / "media/C004.png").write_bytes(b"not a png")  # one unreadable case (the study's own copy)
    state = ModelState(engine)
    panel = ModelPanel(state)
    qtbot.addWidget(panel)
    panel.attach(tiny_model)

    seen, etas = [], []

    def cancel_after_first(value):
        seen.append(value)
        etas.append(panel.eta_label.text())  # the panel's own slot ran first
        if value[0] == 1:
            panel.on_cancel_clicked()

    panel.on_run_clicked()
    panel.worker.progress.connect(cancel_after_first)
    assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    with qtbot.waitSignal(panel.precompute_finished, timeout=60_000):
        pass
    assert "Cancelled" in panel.status_label.text()
    first_run = state.stored_count()
    assert 1 <= first_run < 8 and seen[0][:2] == (0, 8)
    assert etas[0] == "ETA --:--" and re.fullmatch(r"ETA \d\d:\d\d", etas[1])

    with qtbot.waitSignal(panel.precompute_finished, timeout=60_000):
        panel.on_run_clicked()
    assert state.stored_count() == 7  # all but the unreadable one
    # The bar counts the study's cases with a stored prediction, not this run's share.
    assert (panel.progress_bar.value(), panel.progress_bar.maximum()) == (7, 8)
    assert panel.status_label.objectName() == "problemLabel"  # one case unreadable: not a success
    items = [panel.unreadable_list.item(i).text() for i in range(panel.unreadable_list.count())]
    assert len(items) == 1 and items[0].startswith("C004:")
    assert "7 of 8 cases" in panel.status_label.text()

    with qtbot.waitSignal(panel.preview_shown, timeout=20_000):
        panel.show_case("C001", "image")
    out = engine.store.ai_output("C001")
    assert panel.prediction_label.text().startswith(f"C001: Predicted: {out.predicted}")
    cam = panel.cam_view.overlay
    assert cam.enabled and cam.maps is not None and cam.maps.shape == out.cams["image"].shape
    assert panel.image_view.overlay.maps is None
    assert panel.image_view.media is not None and panel.cam_view.media is panel.image_view.media


def test_describe_spec_hashes_the_weights(tiny_model):
    info = describe_spec(tiny_model)
    assert (
        info.roles == ("image",) and all(m.ok for m in info.members) and info.model_id == info.members[0].sha256_actual
    )


def test_all_stored_shows_every_case_done_in_the_success_colour(qtbot, engine, tiny_model, themed):
    from PySide6.QtGui import QPalette

    state = ModelState(engine)
    panel = ModelPanel(state)
    qtbot.addWidget(panel)
    panel.attach(tiny_model)
    assert panel.progress_bar.text() == "0 / 8 cases"
    with qtbot.waitSignal(panel.precompute_finished, timeout=60_000):
        panel.on_run_clicked()
    assert panel.progress_bar.text() == "8 / 8 cases"
    # Run again with everything stored: nothing to compute, and the bar still says all 8 are done.
    with qtbot.waitSignal(panel.precompute_finished, timeout=60_000):
        panel.on_run_clicked()
    assert "0 computed, 8 already stored" in panel.status_label.text()
    assert panel.progress_bar.text() == "8 / 8 cases"
    # A fresh screen on a study whose predictions are all stored: 8 / 8 from the start.
    again = ModelPanel(ModelState(engine))
    qtbot.addWidget(again)
    assert again.progress_bar.text() == "8 / 8 cases"
    # Success in green, not in the warning amber of problems.
    panel.status_label.ensurePolished()
    green = panel.status_label.palette().color(QPalette.ColorRole.WindowText).name()
    assert panel.status_label.objectName() == "successLabel" and green == "#7ddc8a"


def test_precompute_status_is_never_cut_in_a_narrow_window(qtbot, engine, themed):
    """In a 1000-pixel admin window the model tab's left column is narrow: the progress line has
    a row of its own (its text whole) and a long status wraps, all of its lines shown."""
    panel = ModelPanel(ModelState(engine))
    qtbot.addWidget(panel)
    panel.resize(980, 640)
    with qtbot.waitExposed(panel):  # waits only as a context manager
        panel.show()
    bar = panel.progress_bar
    assert bar.text() == "no model attached"
    assert bar.width() >= bar.fontMetrics().horizontalAdvance(bar.text()) + 16
    panel.state.message = (
        "Precompute failed: models/mri/model.toml: weights file T2axi.pt not found; DWI.pt: sha256 "
        "differs from the spec (expected 1a2b3c4d, got 9f8e7d6c)"
    )
    panel.state.message_ok = False
    panel.show_state()
    label = panel.status_label
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    assert label.wordWrap() and label.heightForWidth(label.width()) > 2 * label.fontMetrics().lineSpacing()


def test_model_tab_shows_the_operating_point_and_its_rule(qtbot, engine, tiny_model):
    """The threshold the AI's call follows (model.threshold) and how it was chosen (threshold_rule)."""
    panel = ModelPanel(ModelState(engine))
    qtbot.addWidget(panel)
    panel.attach(tiny_model)
    assert panel.info["threshold"].text() == "none stored: 0.5"
    text = tiny_model.read_text(encoding="utf-8")
    tiny_model.write_text(
        text.replace("input_size", 'threshold = 0.316\nthreshold_rule = "youden"\ninput_size', 1), encoding="utf-8"
    )
    panel.attach(tiny_model)
    assert (
        panel.info["threshold"].text() == "positive when its probability \u2265 0.316 (32 %)  \u00b7  chosen by youden"
    )
    if os.environ.get("READERSTUDY_SHOTS"):
        panel.resize(1200, 800)
        with qtbot.waitExposed(panel):  # waits only as a context manager
            panel.show()
        panel.grab().save(os.path.join(os.environ["READERSTUDY_SHOTS"], "model_tab_threshold.png"))
