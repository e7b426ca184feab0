"""CAM figures (pointing game, energy share), the edge fade, the operating point and its use."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inference.cam import edge_fade
from inference.cam_quality import Finding, boxes_mask, energy_share, pointing_hit, read_findings, summarize
from inference.operating_point import choose_threshold, sens_spec
from inference.predict import _summary
from inference.spec import SpecError, parse_spec
from study.aioutput import AIOutput


def _finding(hw=(100, 100), boxes=((40, 40, 60, 60),)) -> Finding:
    return Finding("c", "photo", 0, boxes_mask(hw, boxes), tuple(boxes))


def test_pointing_and_energy_on_known_maps():
    f = _finding()
    cam = np.zeros((50, 50), np.float32)  # CAM at half the frame's size
    cam[25, 25] = 1.0  # frame pixel 50,50: inside the box
    assert pointing_hit(cam, f) and energy_share(cam, f) == pytest.approx(1.0)
    cam[:] = 0
    cam[5, 5] = 1.0  # far outside
    assert not pointing_hit(cam, f) and energy_share(cam, f) == 0.0
    # Uniform heat: energy = the box's share of the image (20 x 20 of 100 x 100).
    assert energy_share(np.ones((50, 50)), f) == pytest.approx(0.04)
    assert energy_share(np.zeros((50, 50)), f) == 0.0
    s = summarize([])
    assert s["n"] == 0 and np.isnan(s["pointing"])


def test_free_form_mask_pointing():
    mask = np.zeros((160, 160), bool)
    mask[100:120, 10:30] = True
    f = Finding("c", "video", 0, mask)
    cam = np.zeros((128, 128), np.float32)
    cam[88, 16] = 1
    assert pointing_hit(cam, f)
    cam[:] = 0
    cam[10, 100] = 1
    assert not pointing_hit(cam, f)


def test_read_findings_takes_the_largest_lesion_frame(tmp_path):
    (tmp_path / "lesions.csv").write_text(
        "case_id,role,frame,instance,row0,col0,row1,col1,area_px\n"
        "A,T2axi,3,4,10,10,12,12,4\n"
        "A,T2axi,4,5,10,10,30,30,400\n"
        "B,T2axi,0,1,0,0,5,5,25\n"
    )
    found = read_findings(tmp_path, {("A", "T2axi"): (64, 64)})  # B has no media: left out
    assert [(f.case_id, f.frame, f.boxes) for f in found] == [("A", 4, ((10, 10, 30, 30),))]
    assert found[0].mask.sum() == 400
    with pytest.raises(FileNotFoundError, match="no lesions.csv"):
        read_findings(tmp_path / "nothing", {})


def test_moving_cells_masks_round_trip(tmp_path):
    from study.demo.motility import SIZE, moving_mask

    pos = np.zeros((2, 15, 2))
    pos[0, :, 0] = 80
    pos[0, :, 1] = np.linspace(20, 60, 15)  # a moving cell
    pos[1] = 130  # an immotile one
    heading = np.zeros((2, 15))  # moving along +columns (as in _tracks): the tail lies at lower columns
    mask = moving_mask(pos, heading)
    assert mask[80, 40] and not mask[130, 130] and mask.shape == (SIZE, SIZE)
    assert mask[80, 20 - 12] and not mask[80, 20 - 20]  # the tail (up to 13.8 px behind the head) counts
    np.savez_compressed(tmp_path / "moving_cells.npz", X=np.packbits(mask))
    (f,) = read_findings(tmp_path, {("X", "video"): (SIZE, SIZE)})
    assert np.array_equal(f.mask, mask)


def test_edge_fade_goes_to_zero_at_the_border_and_one_inside():
    w = edge_fade((40, 60))
    assert w.shape == (40, 60)
    assert float(w[20, 30]) == 1.0
    assert float(w[0, 30]) < 0.05 and float(w[20, 0]) < 0.05
    assert torch.all(w[1:, :] >= 0) and float(w.max()) <= 1.0
    # Monotone towards the edge: no step (the rectangular cut-off it replaces).
    assert torch.all(torch.diff(w[20, :30]) >= 0)


def test_youden_threshold_and_sensitivity_rule():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(200), np.ones(100)].astype(int)
    s = np.r_[rng.beta(2, 5, 200), rng.beta(5, 2, 100)]
    op = choose_threshold(y, s)
    j = op.sensitivity + op.specificity - 1
    # No other cut does better on the same data.
    best = max(sum(sens_spec(y, s, t)) - 1 for t in np.linspace(0.01, 0.99, 197))
    assert j >= best - 1e-9 and 0 < op.threshold < 1
    op90 = choose_threshold(y, s, "sensitivity>=0.9")
    assert op90.sensitivity >= 0.9
    grid = [sens_spec(y, s, t) for t in np.linspace(0.01, 0.99, 197)]
    assert op90.specificity >= max(sp for se, sp in grid if se >= 0.9) - 1e-9
    with pytest.raises(ValueError, match="both classes"):
        choose_threshold(np.ones(5), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="unknown threshold rule"):
        choose_threshold(y, s, "median")


def _spec(**model):
    base = {
        "architecture": "resnet18",
        "head": "binary",
        "labels": ["benign", "malignant"],
        "input_size": 32,
    }
    return parse_spec(
        {"model": {**base, **model}, "members": [{"role": "photo", "weights": "x.pt", "sha256": "0" * 64}]},
        "/tmp/model.toml",
        check_files=False,
    )


def test_threshold_in_the_spec_sets_the_call_and_the_decision():
    spec = _spec(threshold=0.3, threshold_rule="youden")
    summary = _summary(spec, np.array([0.65, 0.35]))
    assert summary["predicted"] == "malignant" and summary["threshold"] == 0.3  # argmax would say benign
    # The operating point travels with the output: its rule and the label it calls.
    assert (summary["threshold_rule"], summary["positive"]) == ("youden", ("malignant",))
    assert "threshold_rule" not in _summary(_spec(), np.array([0.65, 0.35]))  # none stored: nothing to say
    out = AIOutput("c", "m", "binary", labels=spec.labels, score=summary["score"], threshold=0.3)
    assert out.decision == 1
    assert AIOutput("c", "m", "binary", score=0.35).decision == 0  # no operating point: 0.5
    assert _summary(_spec(), np.array([0.65, 0.35]))["predicted"] == "benign"


def test_multiclass_threshold_on_the_positive_labels():
    spec = _spec(head="multiclass", labels=["normal", "CIN1", "CIN2+"], positive=["CIN2+"], threshold=0.25)
    summary = _summary(spec, np.array([0.2, 0.5, 0.3]))
    assert summary["predicted"] == "CIN2+" and summary["positive"] == ("CIN2+",)
    assert _summary(spec, np.array([0.2, 0.6, 0.2]))["predicted"] == "CIN1"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"threshold": 1.5}, "must be in \\(0, 1\\)"),
        ({"head": "regression", "labels": ["hb"], "threshold": 0.5}, "only binary and multiclass"),
        ({"head": "multiclass", "labels": ["a", "b", "c"], "threshold": 0.5}, "needs model.positive"),
    ],
)
def test_bad_thresholds_are_named(model, message):
    with pytest.raises(SpecError, match=message):
        _spec(**model)


def test_cam_smoothing_keys_parse():
    spec = parse_spec(
        {
            "model": {"architecture": "resnet18", "head": "binary", "labels": ["a", "b"]},
            "cam": {"method": "layercam", "eigen_smooth": True, "aug_smooth": True},
            "members": [{"role": "photo", "weights": "x.pt", "sha256": "0" * 64}],
        },
        "/tmp/model.toml",
        check_files=False,
    )
    assert spec.cam_method == "layercam" and spec.cam_eigen_smooth and spec.cam_aug_smooth
