"""predict(): volumes, videos, motion input, ensembles, heads, CAM targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inference.load import load_model
from inference.predict import predict
from inference.preprocess import central, motion_composite, plan_inputs, to_unit
from inference.spec import load_spec
from study.media.types import Media, MediaError
from tests.inference.helpers import write_spec

MOBILE = {"architecture": "mobilenet_v2", "width_mult": 0.5, "input_size": 64}


def _series(n=9, seed=0, h=80, w=64) -> Media:
    rng = np.random.default_rng(seed)
    return Media(
        frames=rng.normal(800, 200, (n, h, w)).astype(np.float32),
        kind="series",
        window=(800.0, 1600.0),
        slice_positions=tuple(float(i) for i in range(n)),
    )


def test_window_maps_dicom_to_unit_range():
    m = Media(frames=np.array([[[0.0, 400.0, 800.0, 1200.0, 2000.0]]], np.float32), kind="dicom", window=(800.0, 800.0))
    assert np.allclose(to_unit(m), [[[0.0, 0.0, 0.5, 1.0, 1.0]]])
    photo = Media(frames=np.array([[[0, 255]]], np.uint8), kind="image")
    assert np.allclose(to_unit(photo), [[[0.0, 1.0]]])
    assert list(central(9, 3)) == [3, 4, 5] and list(central(2, 5)) == [0, 1]


def test_volume_plan_and_ensemble_mean(tmp_path):
    path = write_spec(
        tmp_path,
        {**MOBILE, "head": "binary", "labels": ["myoma", "sarcoma"]},
        roles=("T2axi", "DWI"),
        tables={"slices": {"count": 3}},
    )
    model = load_model(path)
    axi, dwi = _series(9, 0), _series(7, 1, 64, 64)
    plan = plan_inputs(axi, model.spec)
    assert plan.images.shape == (9, 3, 64, 64) and plan.predict_index == (3, 4, 5)
    out = predict(model, {"T2axi": axi, "DWI": dwi, "T2sag": _series(5)}, case_id="p1")
    assert out.case_id == "p1" and out.model_id == model.spec.model_id and out.head == "binary"
    assert out.cams["T2axi"].shape == (9, 80, 64) and out.cams["DWI"].shape == (7, 64, 64)
    assert set(out.cams) == {"T2axi", "DWI"}  # only the roles the model reads
    # combine = mean of the per-role probabilities, each the mean of its central slices.
    per_role = []
    for role, media in (("T2axi", axi), ("DWI", dwi)):
        p = plan_inputs(media, model.spec)
        with torch.no_grad():
            probs = torch.softmax(model.nets[role](p.images), 1)[list(p.predict_index)].mean(0)
        per_role.append(probs.numpy())
    assert np.allclose(out.probabilities, np.mean(per_role, 0), atol=1e-5)
    assert out.score == pytest.approx(out.probabilities[1])
    assert out.predicted == ("sarcoma" if out.probabilities[1] > 0.5 else "myoma")
    assert out.versions["torch"] == torch.__version__.split("+")[0] or out.versions["torch"].startswith("2.")
    assert out.cam_method == "gradcam"


def test_selected_slice_cams_leave_other_slices_empty(tmp_path):
    path = write_spec(
        tmp_path,
        {**MOBILE, "head": "binary", "labels": ["n", "p"]},
        roles=("T2axi",),
        tables={"slices": {"count": 3, "cam": "selected"}},
    )
    out = predict(load_model(path), {"T2axi": _series(9)})
    cam = out.cams["T2axi"].astype(np.float32)
    assert cam.shape[0] == 9
    assert not cam[[0, 1, 2, 6, 7, 8]].any()


def test_motion_input_and_grade_distribution(tmp_path):
    grades = ["A", "B", "C", "D", "E"]
    path = write_spec(
        tmp_path,
        {**MOBILE, "head": "grade_distribution", "labels": grades, "input": "motion"},
        roles=("video",),
        tables={"video": {"key_frames": 3}},
    )
    rng = np.random.default_rng(0)
    video = Media(frames=rng.integers(0, 256, (15, 48, 64, 3), dtype=np.uint8), kind="video", fps=15.0)
    model = load_model(path)
    plan = plan_inputs(video, model.spec)
    assert plan.images.shape == (3, 3, 64, 64) and list(plan.frame_map) == [0] * 5 + [1] * 5 + [2] * 5
    out = predict(model, {"video": video})
    assert len(out.probabilities) == 5 and np.isclose(sum(out.probabilities), 1.0, atol=1e-5)
    assert out.cams["video"].shape == (15, 48, 64)  # one map per frame: its window's map
    cam = out.cams["video"]
    assert np.array_equal(cam[0], cam[4]) and 0 <= out.score <= 1


def test_motion_composite_channels():
    still = np.zeros((5, 8, 8), np.float32)
    moving = still.copy()
    for t in range(5):
        moving[t, 2, t + 1] = 1.0  # a dot moving right
    c_still, c_moving = motion_composite(still), motion_composite(moving)
    assert c_still[..., 1:].max() == 0
    assert c_moving[..., 1].max() > 0 and c_moving[..., 2][2, 1] == 1.0 and c_moving[..., 2][2, 5] == 1.0


def test_regression_value_interval_and_cam(tmp_path):
    path = write_spec(
        tmp_path,
        {
            **MOBILE,
            "head": "regression",
            "labels": ["hemoglobin"],
            "unit": "g/dL",
            "target_mean": 12.0,
            "target_std": 2.0,
            "interval_halfwidth": 1.5,
        },
    )
    model = load_model(path)
    photo = Media(frames=np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8), kind="image")
    out = predict(model, {"image": photo})
    x = plan_inputs(photo, model.spec).images
    with torch.no_grad():
        expected = float(model.nets["image"](x)[0, 0]) * 2.0 + 12.0
    assert out.value == pytest.approx(expected, abs=1e-4) and out.score == out.value
    assert out.interval == pytest.approx((expected - 1.5, expected + 1.5), abs=1e-4)
    assert out.probabilities == () and out.cams["image"].shape == (1, 64, 64)


def test_cam_target_changes_the_map(tmp_path):
    path = write_spec(
        tmp_path,
        {
            **MOBILE,
            "input_size": 128,
            "head": "multiclass",
            "labels": ["normal", "CIN1", "CIN2+"],
            "positive": ["CIN2+"],
        },
        seed=0,
    )
    model = load_model(path)
    photo = Media(frames=np.random.default_rng(2).integers(0, 256, (1, 96, 96, 3), dtype=np.uint8), kind="image")
    outs = {t: predict(model, {"image": photo}, target=t) for t in ("normal", "CIN2+")}
    maps = {t: o.cams["image"] for t, o in outs.items()}
    assert outs["normal"].cam_target == "normal"  # the class the heat explains travels with it (study.heat)
    out = predict(model, {"image": photo})
    assert out.cam_target == "predicted"  # the spec's own: each image's predicted class
    assert out.score == pytest.approx(out.probabilities[2])
    assert maps["normal"].any() and not np.array_equal(maps["normal"], maps["CIN2+"])
    with pytest.raises(ValueError, match="not one of"):
        predict(model, {"image": photo}, target="CIN3")
    no_cam = predict(model, {"image": photo}, cams=False)
    assert no_cam.cams == {} and no_cam.cam_method == "" and no_cam.cam_target == ""
    assert no_cam.probabilities == pytest.approx(out.probabilities, abs=1e-5)


def test_missing_role_is_a_media_error(tmp_path):
    model = load_model(write_spec(tmp_path, {**MOBILE, "head": "binary", "labels": ["n", "p"]}, roles=("DWI",)))
    with pytest.raises(MediaError, match="no media for role 'DWI'"):
        predict(model, {"T2axi": _series()}, case_id="c9")
    assert load_spec(tmp_path).roles == ("DWI",)


def test_fixed_window_ignores_the_series_auto_window():
    frames = np.array([[[0.0, 400.0, 800.0]]], np.float32)
    a = Media(frames=frames, kind="series", window=(400.0, 800.0))
    b = Media(frames=frames, kind="series", window=(100.0, 200.0))
    assert not np.allclose(to_unit(a), to_unit(b))
    assert np.allclose(to_unit(a, fixed=(400.0, 800.0)), to_unit(b, fixed=(400.0, 800.0)))
    assert np.allclose(to_unit(b, fixed=(400.0, 800.0)), [[[0.0, 0.5, 1.0]]])


def test_central_crop_places_the_cam_in_the_crop_box(tmp_path):
    path = write_spec(tmp_path, {**MOBILE, "head": "binary", "labels": ["n", "p"], "crop": 0.5}, roles=("T2axi",))
    model = load_model(path)
    assert model.spec.crop == 0.5
    media = _series(3, h=96, w=64)
    plan = plan_inputs(media, model.spec)
    assert plan.images.shape == (3, 3, 64, 64)
    # the network reads only the central half: changing the border changes nothing
    frames = media.frames.copy()
    frames[:, :20] = 0
    same = plan_inputs(Media(frames=frames, kind="series", window=media.window), model.spec)
    assert torch.equal(same.images, plan.images)
    cam = predict(model, {"T2axi": media}).cams["T2axi"].astype(np.float32)
    assert cam.shape == (3, 96, 64)
    assert not cam[:, :24].any() and not cam[:, 72:].any() and not cam[:, :, :16].any() and not cam[:, :, 48:].any()
    assert cam[:, 24:72, 16:48].any()


def test_aug_smooth_cam_is_the_mean_with_the_mirrored_map(tmp_path):
    """The mirror rides in the original's batch: same prediction as without smoothing, and each map is the
    mean of the image's map and its mirror's map flipped back, as two separate passes give them."""
    from inference.cam import class_targets, finish, make_cam
    from inference.network import find_target_layer

    model_cfg = {**MOBILE, "head": "binary", "labels": ["myoma", "sarcoma"]}
    cam = {"method": "layercam", "target_layer": "features.6", "target": "sarcoma", "size": 64}
    plain = load_model(write_spec(tmp_path / "plain", model_cfg, roles=("T2axi",), tables={"cam": cam}))
    smooth = load_model(
        write_spec(tmp_path / "smooth", model_cfg, roles=("T2axi",), tables={"cam": {**cam, "aug_smooth": True}})
    )
    series = _series(6, 3, 64, 64)
    a = predict(plain, {"T2axi": series})
    b = predict(smooth, {"T2axi": series})
    assert b.score == pytest.approx(a.score, abs=1e-6) and b.probabilities == pytest.approx(a.probabilities, abs=1e-6)

    net = smooth.nets["T2axi"]
    engine = make_cam("layercam", net, find_target_layer(net, "features.6"))
    x = plan_inputs(series, smooth.spec).images
    targets = class_targets([1] * len(x))
    out, acts = engine.forward(x)
    m = engine.maps(x, out, acts, targets)
    out_f, acts_f = engine.forward(x.flip(-1))
    m_f = engine.maps(x.flip(-1), out_f, acts_f, targets).flip(-1)
    expected = finish(0.5 * (m + m_f), (64, 64)).numpy()
    assert np.allclose(b.cams["T2axi"].astype(np.float32), expected, atol=2e-3)
    assert not np.allclose(b.cams["T2axi"].astype(np.float32), a.cams["T2axi"].astype(np.float32), atol=2e-3)
