"""The demo training script end to end (tiny: 12 cases, 1 epoch), and the shipped demo models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.load import load_model
from inference.predict import predict
from inference.spec import load_spec
from inference.train_demo import CONFIG, auc, main
from study.demo.cytology import read_fields

MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"


def test_training_script_writes_a_loadable_recorded_model(tmp_path):
    rc = main(
        [
            "--data",
            str(tmp_path / "train"),
            "--holdout",
            str(tmp_path / "hold"),
            "--out",
            str(tmp_path / "m"),
            "--only",
            "cytology",
            "--epochs",
            "1",
            "--n-train",
            "12",
            "--n-holdout",
            "12",
            "--validation",
            str(tmp_path / "val"),
            "--n-validation",
            "12",
            "--seed",
            "3",
        ]
    )
    assert rc == 0
    spec = load_spec(tmp_path / "m" / "cytology" / "model.toml")
    # The cytology demo is 12 specimens of 2-5 fields: the model trains and is scored on fields (issue 17).
    n_fields = {part: len(read_fields(tmp_path / part / "cytology")) for part in ("train", "hold", "val")}
    assert 24 <= n_fields["train"] <= 60
    assert spec.training["seed"] == 3 and spec.training["data_seed"] == 1001
    assert spec.training["n_train"] == n_fields["train"]
    assert spec.training["data"] == "study.demo.build_cytology"
    assert 0.0 <= spec.metrics["accuracy"] <= 1.0 and spec.metrics["n_holdout"] == n_fields["hold"]
    # Operating point and CAM setting were chosen on the validation study and recorded.
    assert 0.0 < spec.threshold < 1.0 and spec.threshold_rule == "youden"
    assert spec.training["validation_seed"] == 3003 and spec.training["n_validation"] == n_fields["val"]
    assert spec.cam_target_layer in {c["cam_target_layer"] for c in CONFIG["cytology"]["cam_candidates"]}
    assert 0.0 <= spec.metrics["cam_pointing_game"] <= 1.0 and 0.0 <= spec.metrics["cam_energy_inside"] <= 1.0
    model = load_model(spec)  # sha256 of the float16 weights checks out
    from study.media import load

    photo = next((tmp_path / "hold" / "cytology" / "media").rglob("*.png"))
    out = predict(model, {"photo": load(photo)})
    assert out.labels == ("normal", "CIN1", "CIN2+") and out.cams["photo"].shape[0] == 1


def test_auc_is_the_mann_whitney_statistic():
    y = np.array([0, 0, 1, 1])
    assert auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5


@pytest.mark.parametrize("name", list(CONFIG))
def test_shipped_demo_model(name):
    path = MODELS / name / "model.toml"
    if not path.is_file():
        pytest.skip(f"{name}: no shipped demo model yet")
    spec = load_spec(path)
    load_model(spec)  # every weights file matches its sha256
    assert spec.training["seed"] is not None and spec.training["data_seed"] != spec.training["holdout_seed"]
    assert spec.metrics["n_holdout"] >= 50


def test_shipped_models_fit_the_size_budget():
    total = sum(f.stat().st_size for f in MODELS.rglob("*") if f.is_file()) if MODELS.is_dir() else 0
    assert total <= 30 * 1024 * 1024


@pytest.mark.slow
def test_shipped_mri_model_on_a_fresh_demo_build(tmp_path):
    """Real data end to end: a newly generated MRI demo (seed never trained on), the shipped ensemble."""
    from inference.train_demo import evaluate
    from study.demo import builder

    if not (MODELS / "mri" / "model.toml").is_file():
        pytest.skip("no shipped MRI model")
    study = builder("mri")(tmp_path / "mri", 4242, 24)
    model = load_model(MODELS / "mri" / "model.toml")
    metrics = evaluate("mri", model.spec, model.nets, study)
    assert metrics["auc"] >= 0.7, metrics
    assert metrics["cam_pointing_game"] >= 0.5, metrics  # the sarcoma CAM points at the mass
