"""A model that does not fit the study: role mapping, head vs task (collapse or refusal), without and with Qt."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from study.errors import StudyError
from study.modelfit import (
    ModelFacts,
    fit_problems,
    role_map_problems,
    suggest_role_map,
    task_problems,
)
from study.protocol import Task, load_protocol, parse_protocol, protocol_to_toml
from tests.admin.conftest import make_tiny_model

BINARY = Task("binary", labels=("negative", "positive"))
CYTO = ("normal", "CIN1", "CIN2+")


def test_role_map_suggestion_and_problems():
    assert suggest_role_map(("photo",), ("image",)) == {"photo": "image"}  # one left on each side: paired
    assert suggest_role_map(("t2axi", "DWI"), ("T2axi", "T2sag", "DWI")) == {"t2axi": "T2axi", "DWI": "DWI"}
    assert suggest_role_map(("a", "b"), ("x", "y")) == {}  # no guess between two unknowns
    model = ModelFacts("m.toml", "binary", ("negative", "positive"), ("photo",))
    assert role_map_problems(model, ("image",), {}) == [
        (
            "m.toml: the model reads role(s) photo that the study does not have (roles: image): map each model role "
            "to a study role (Model and precompute in the admin screen, or [model] roles in study.toml)"
        )
    ]
    assert role_map_problems(model, ("image",), {"photo": "image"}) == []
    assert "the study has no role 'img'" in role_map_problems(model, ("image",), {"photo": "img"})[0]
    two = ModelFacts("m.toml", "binary", ("n", "p"), ("a", "b"))
    assert "given to more than one model role" in role_map_problems(two, ("x", "y"), {"a": "x", "b": "x"})[0]


def test_head_vs_task():
    three = ModelFacts("cyto.toml", "multiclass", CYTO, ("image",))
    [refusal] = task_problems(three, BINARY)
    assert refusal.startswith(
        "cyto.toml: a 3-class model (normal, CIN1, CIN2+) on a binary task needs a binary collapse"
    )
    assert task_problems(three, BINARY, ("CIN2+",)) == []  # the study's collapse
    assert task_problems(ModelFacts("c.toml", "multiclass", CYTO, ("image",), ("CIN2+",)), BINARY) == []  # the spec's
    assert "not model labels" in task_problems(three, BINARY, ("HSIL",))[0]
    assert "leave at least one negative" in task_problems(three, BINARY, CYTO)[0]
    assert task_problems(three, Task("multiclass", labels=CYTO, positive=("CIN2+",))) == []
    assert "differ from the task's" in task_problems(three, Task("multiclass", labels=("normal", "abnormal")))[0]
    binary = ModelFacts("b.toml", "binary", ("negative", "positive"), ("image",))
    assert "cannot answer a multiclass task" in task_problems(binary, Task("multiclass", labels=CYTO))[0]
    hb = ModelFacts("hb.toml", "regression", ("value",), ("image",))
    assert task_problems(hb, BINARY) == ["hb.toml: a model with a regression head (value) cannot answer a binary task"]
    assert task_problems(hb, Task("numeric", unit="g/dL")) == []
    # Both kinds of problem at once, roles first.
    assert len(fit_problems(three, BINARY, ("T2",), {})) == 2


def test_protocol_keeps_the_role_map_and_collapse():
    data = {
        "study": {"id": "s", "design": "concurrent", "seed": 1},
        "task": {"kind": "binary"},
        "hanging": {"roles": ["image"]},
        "model": {"spec": "m/model.toml", "roles": {"photo": "image"}, "positive": ["CIN2+"]},
    }
    p = parse_protocol(data)
    assert p.model_roles == (("photo", "image"),) and p.model_positive == ("CIN2+",)
    import tomllib

    assert parse_protocol(tomllib.loads(protocol_to_toml(p))) == p
    bad = {**data, "model": {"spec": "m/model.toml", "roles": {"photo": "T2"}}}
    with pytest.raises(StudyError, match="model.roles: 'T2' is not one of hanging.roles"):
        parse_protocol(bad)


@pytest.fixture
def engine(photo_study):
    from study.engine import StudyEngine

    e = StudyEngine.open(photo_study)
    yield e
    e.close()


def test_attach_offers_role_mapping_and_collapse_then_precomputes(qtbot, engine, tmp_path):
    """The demo cytology situation: a 3-class model reading `photo` on a binary study whose role is `image`."""
    from app.admin.model_state import ModelState
    from app.admin.model_widget import ModelPanel

    spec = make_tiny_model(tmp_path / "cyto-model", role="photo", head="multiclass", labels=CYTO)
    state = ModelState(engine)
    panel = ModelPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    panel.attach(spec)
    assert "the model reads role(s) photo that the study does not have (roles: image)" in panel.problem_label.text()
    assert "needs a binary collapse" in panel.problem_label.text()
    assert panel.fit_box.isVisible() and not panel.run_button.isEnabled()
    assert list(panel.role_boxes) == ["photo"] and panel.role_boxes["photo"].currentText() == "image"
    assert panel.positive_edit.isVisible() and panel.positive_edit.text() == ""
    # Mapping alone is not enough: the collapse is still missing, and the study is unchanged.
    qtbot.mouseClick(panel.fit_button, Qt.MouseButton.LeftButton)
    assert (
        "needs a binary collapse" in panel.problem_label.text() and load_protocol(engine.study_dir).model_spec is None
    )
    qtbot.keyClicks(panel.positive_edit, "CIN2+")
    qtbot.mouseClick(panel.fit_button, Qt.MouseButton.LeftButton)
    assert not panel.problem_label.isVisible() and not panel.fit_box.isVisible() and panel.run_button.isEnabled()
    assert panel.info["roles"].text() == "photo \u2192 study role image  \u00b7  positive: CIN2+"
    p = load_protocol(engine.study_dir)
    assert p.model_roles == (("photo", "image"),) and p.model_positive == ("CIN2+",)

    with qtbot.waitSignal(panel.precompute_finished, timeout=120_000):
        panel.on_run_clicked()
    assert state.stored_count() == 8, panel.status_label.text()
    out = engine.store.ai_output("C001")
    assert out.labels == CYTO and list(out.cams) == ["image"]  # CAMs under the study's role
    assert out.score == pytest.approx(out.probabilities[2], abs=1e-6)  # P(CIN2+), the chosen collapse
    # A fresh screen reads the mapping back from study.toml.
    again = ModelState(engine)
    assert again.spec is not None and again.role_map == {"photo": "image"} and again.positive == ("CIN2+",)


def test_a_model_that_cannot_answer_the_task_is_refused(qtbot, engine, tmp_path):
    from app.admin.model_state import ModelState
    from app.admin.model_widget import ModelPanel

    spec = make_tiny_model(tmp_path / "hb-model", head="regression", labels=("value",))
    panel = ModelPanel(ModelState(engine))
    qtbot.addWidget(panel)
    panel.show()
    panel.attach(spec)
    assert panel.problem_label.text() == f"{spec}: a model with a regression head (value) cannot answer a binary task"
    assert not panel.fit_box.isVisible() and not panel.run_button.isEnabled()
    assert load_protocol(engine.study_dir).model_spec is None


def test_precompute_command_refuses_an_unmapped_model(photo_study, tmp_path, capsys):
    import argparse

    from app.commands import precompute

    spec = make_tiny_model(tmp_path / "photo-model", role="photo")
    parser = argparse.ArgumentParser()
    precompute.add_arguments(parser)
    assert precompute.run(parser.parse_args([str(photo_study), "--model", str(spec)])) == 2
    assert "the model reads role(s) photo that the study does not have (roles: image): map each model role" in (
        capsys.readouterr().err
    )
