"""The AI panel says the operating point its call follows (the call can differ from the larger bar)."""

from __future__ import annotations

import os
from types import SimpleNamespace

from PySide6.QtWidgets import QLabel

from app.reading.ai_panel import AIPanel
from study.aioutput import AIOutput
from study.protocol import Task


def _panel(qtbot, task: Task, model_positive: tuple[str, ...] = ()) -> AIPanel:
    state = SimpleNamespace(protocol=SimpleNamespace(task=task, model_positive=model_positive))
    panel = AIPanel(state)
    panel.setFixedWidth(300)
    qtbot.addWidget(panel)
    return panel


def _texts(panel: AIPanel) -> list[str]:
    return [lbl.text() for lbl in panel.findChildren(QLabel)]


def test_binary_call_below_the_larger_bar_names_its_cut_off(qtbot):
    task = Task("binary", labels=("leiomyoma", "sarcoma"))
    panel = _panel(qtbot, task)
    out = AIOutput(
        "c1", "m", "binary", task.labels, (0.68, 0.32), predicted="sarcoma", score=0.32, threshold=0.316,
        threshold_rule="youden", positive=("sarcoma",),
    )  # fmt: skip
    panel.show_output(out)
    with qtbot.waitExposed(panel):  # waits only as a context manager
        panel.show()
    assert "Prediction: <b>sarcoma</b>" in _texts(panel)
    assert panel.cut_label.text() == "Cut-off: sarcoma \u2265 32 %"
    top = [bar.property("top") for bar, _ in panel.bars.rows]
    assert top == [False, True]  # the called label is highlighted, not the larger bar
    if os.environ.get("READERSTUDY_SHOTS"):
        panel.grab().save(os.path.join(os.environ["READERSTUDY_SHOTS"], "ai_panel_cutoff.png"))
    # The next case of the same model: only the numbers change, the cut-off stays.
    panel.show_output(AIOutput("c2", "m", "binary", task.labels, (0.9, 0.1), predicted="leiomyoma", score=0.1,
                               threshold=0.316, positive=("sarcoma",)))  # fmt: skip
    assert panel.cut_label.text() == "Cut-off: sarcoma \u2265 32 %" and "Prediction: <b>leiomyoma</b>" in _texts(panel)


def test_multiclass_cut_off_names_the_positive_classes_even_from_an_older_store(qtbot):
    task = Task("multiclass", labels=("normal", "CIN1", "CIN2+"), positive=("CIN2+",))
    panel = _panel(qtbot, task)
    # Stored before outputs named their positive labels: the study's own positive labels are used.
    out = AIOutput("c1", "m", "multiclass", task.labels, (0.5, 0.1, 0.4), predicted="CIN2+", score=0.4, threshold=0.376)
    panel.show_output(out)
    assert panel.cut_label.text() == "Cut-off: CIN2+ \u2265 38 %"


def test_no_cut_off_line_without_an_operating_point(qtbot):
    task = Task("binary", labels=("benign", "malignant"))
    panel = _panel(qtbot, task)
    panel.show_output(AIOutput("c1", "m", "binary", task.labels, (0.3, 0.7), predicted="malignant", score=0.7))
    assert panel.cut_label is None and not any("Cut-off" in t for t in _texts(panel))
    # a regression value has no cut-off either
    panel.show_output(AIOutput("c2", "m", "regression", value=11.0, predicted="11.0", score=11.0, threshold=0.5))
    assert panel.cut_label is None
