"""The shipped demo models' CAMs point where a clinician looks (issue 15 targets).

Fast: the held-out figures recorded in each model.toml (written by
``inference.train_demo``) meet the targets and the operating point is stored.
Targets the shipped models do not reach yet are strict xfails (listed in
SHORT_OF_TARGET and in the README): they fail the day a model reaches them,
so the list has to be updated.  Slow: the same figures recomputed on a freshly
generated study (a seed no model was trained, calibrated or measured on)
through the real predict path reach the target, or where the shipped model is
short of it, its recorded held-out figure (a few cases of sampling slack).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.load import load_model
from inference.spec import load_spec
from inference.train_demo import CONFIG, TARGETS, cam_figures

MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"
FRESH_SEED = 4242
FRESH_N = {"mri": 30, "cytology": 60, "motility": 30, "conjunctiva": 40}
# A fresh study is small: allow a few cases of sampling slack below the target.
SLACK = {"cam_pointing_game": 0.1}
# Held-out figures of the shipped models below their target (see the README's demo-model table).
SHORT_OF_TARGET: set[tuple[str, str]] = set()
CASES = [
    pytest.param(
        name,
        key,
        marks=pytest.mark.xfail(strict=True, reason="shipped model short of the target")
        if (name, key) in SHORT_OF_TARGET
        else (),
    )
    for name in CONFIG
    for key in TARGETS[name]
]


@pytest.mark.parametrize(("name", "key"), CASES)
def test_recorded_held_out_figures_meet_the_targets(name, key):
    spec = load_spec(MODELS / name / "model.toml")
    target = TARGETS[name][key]
    assert spec.metrics[key] >= target, f"{name}: held-out {key} {spec.metrics[key]:.3f} < {target}"


@pytest.mark.parametrize("name", list(CONFIG))
def test_choices_were_made_on_a_validation_study(name):
    spec = load_spec(MODELS / name / "model.toml")
    assert spec.training["validation_seed"] not in (spec.training["data_seed"], spec.training["holdout_seed"])
    assert spec.training["n_validation"] >= 50 and spec.metrics["cam_n"] >= 50
    if CONFIG[name].get("threshold_rule"):
        assert spec.threshold is not None and spec.threshold_rule == CONFIG[name]["threshold_rule"]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIG))
def test_cam_targets_on_a_fresh_demo_study(name, tmp_path):
    from study.demo import builder

    study = builder(name)(tmp_path / name, FRESH_SEED, FRESH_N[name])
    model = load_model(MODELS / name / "model.toml")
    figures = cam_figures(name, model, study)
    assert figures["cam_n"] >= 10, figures
    for key, target in TARGETS[name].items():
        floor = min(target, model.spec.metrics[key]) - SLACK.get(key, 0.05)
        assert figures[key] >= floor, f"{name}: {key} {figures[key]:.3f} on a fresh study (target {target})"


def test_mri_operating_point_on_a_population_sample():
    """The MRI ensemble at its validation-chosen threshold, on a fresh study of 480 patients (the demo's
    own 120 hold by chance 14 atypical sarcomas of 30): close to the source study's AI (88.7 % / 94.0 %)."""
    spec = load_spec(MODELS / "mri" / "model.toml")
    m = spec.metrics
    assert m["population_n"] >= 400 and m["population_seed"] not in (
        spec.training["data_seed"],
        spec.training["validation_seed"],
        spec.training["holdout_seed"],
    )
    assert m["population_auc"] >= 0.95
    assert m["population_sensitivity"] >= 0.8 and m["population_specificity"] >= 0.9
