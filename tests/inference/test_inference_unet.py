"""The U-Net family (full and channel-narrowed), the segmentation spec table, region
measurements in predict, the OCTA training script end to end, and the fundus photo at its real size."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from inference.load import LoadedModel, load_model
from inference.network import build_network
from inference.predict import measure_region, pixel_spacing, predict
from inference.preprocess import plan_inputs
from inference.spec import SpecError, parse_spec
from inference.train_segmentation import fit_logistic, seg_loss
from inference.unet import UNet, parameter_count, widths
from study.media.types import Media
from study.stats.regions import as_mask, dice


def _spec(width=0.0625, size=32, **extra):
    data = {
        "model": {
            "architecture": "unet",
            "width_mult": width,
            "head": "segmentation",
            "labels": ["FAZ"],
            "input_size": size,
            "channels": 1,
        },
        "segmentation": {"field_mm": [3.0, 3.0], **extra},
        "members": [{"role": "octa", "weights": "w.pt", "sha256": "0" * 64}],
    }
    return parse_spec(data, "/tmp/model.toml", check_files=False)


def test_narrowing_keeps_a_tenth_of_the_parameters():
    full, narrow = UNet(1, 1, 1.0), UNet(1, 1, 0.32)
    assert parameter_count(full) == pytest.approx(31.0e6, rel=0.01)  # Ronneberger et al. 2015: ~31 M
    assert 0.08 < parameter_count(narrow) / parameter_count(full) < 0.12
    assert widths(1.0) == (64, 128, 256, 512, 1024) and widths(0.32)[0] == 20


def test_tiny_unet_forward_backward_learns_a_disc():
    torch.manual_seed(0)
    net = build_network(_spec())
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    y = torch.stack([((yy - 16 - d) ** 2 + (xx - 16) ** 2 < 64).float() for d in (-3, 0, 3, 5)])[:, None]
    x = 1.0 - y + 0.1 * torch.randn_like(y)  # a dark disc on a bright background
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    net.train()
    first = None
    for _ in range(25):
        opt.zero_grad()
        out = net(x)
        assert out.shape == (4, 1, 32, 32)
        loss = seg_loss(out, y)
        loss.backward()
        assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.6 * first


def test_unet_input_must_be_a_multiple_of_16():
    with pytest.raises(ValueError, match="multiples of 16"):
        UNet(1, 1, 0.0625)(torch.zeros(1, 1, 40, 40))
    with pytest.raises(SpecError, match="model.input_size: a unet needs multiples of 16"):
        _spec(size=40)


def test_spec_rules_for_unet_and_the_segmentation_table():
    spec = _spec(score_center=0.3, score_scale=0.05, threshold=0.4)
    assert (spec.seg_field_mm, spec.seg_score, spec.seg_threshold, spec.cam_method) == (
        (3.0, 3.0),
        (0.3, 0.05),
        0.4,
        "none",
    )
    base = {"architecture": "unet", "head": "binary", "labels": ["n", "p"], "input_size": 32}
    members = [{"role": "octa", "weights": "w.pt", "sha256": "0" * 64}]
    with pytest.raises(SpecError) as err:
        parse_spec({"model": base, "segmentation": {"score_center": 1.0}, "members": members}, "/tmp/m.toml", False)
    text = str(err.value)
    assert "model.head: a unet has a segmentation head" in text
    assert "segmentation: only a segmentation head takes this table" in text
    assert "score_center and score_scale go together" in text


def test_measure_region_gives_area_in_mm2_and_circularity():
    spec = _spec(size=32)
    media = Media(frames=np.zeros((1, 304, 304), np.uint8), kind="image")
    assert pixel_spacing(spec, media) == (3.0 / 304, 3.0 / 304)
    plan = plan_inputs(media, spec)
    yy, xx = torch.meshgrid(torch.arange(32.0) + 0.5, torch.arange(32.0) + 0.5, indexing="ij")
    fg = (((yy - 16) ** 2 + (xx - 16) ** 2) < 6**2).float()[None]  # radius 6/32 of the frame
    m = measure_region(spec, fg, plan, media)
    expected = np.pi * (6 / 32 * 3.0) ** 2  # mm²
    assert m["faz_area_mm2"] == pytest.approx(expected, rel=0.08)
    assert 0.8 < m["circularity"] <= 1.0
    no_field = parse_spec(
        {
            "model": {**spec_model(), "input_size": 32},
            "members": [{"role": "octa", "weights": "w", "sha256": "0" * 64}],
        },
        "/tmp/m.toml",
        False,
    )
    assert "faz_area_px" in measure_region(no_field, fg, plan, media)
    # a DICOM's own spacing wins over the spec's field; a DICOM without one is no measurement
    dicom = Media(frames=np.zeros((1, 304, 304), np.float32), kind="dicom", spacing=(0.5, 0.5), spacing_known=True)
    assert pixel_spacing(spec, dicom) == (0.5, 0.5)
    bare = Media(frames=np.zeros((1, 304, 304), np.float32), kind="series")  # spacing (1, 1): a display default
    assert pixel_spacing(spec, bare) == (3.0 / 304, 3.0 / 304) and pixel_spacing(no_field, bare) is None


def spec_model():
    return {"architecture": "unet", "width_mult": 0.0625, "head": "segmentation", "labels": ["FAZ"], "channels": 1}


def test_logistic_fit_recovers_a_known_curve():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x - 0.4) / 0.08))).astype(float)
    c, s = fit_logistic(x, y)
    assert c == pytest.approx(0.4, abs=0.02) and s == pytest.approx(0.08, rel=0.15)


def test_training_script_writes_the_octa_model_and_its_comparison(tmp_path):
    from inference.spec import load_spec
    from inference.train_demo import main
    from study.media import load

    rc = main(
        [
            "--data",
            str(tmp_path / "train"),
            "--holdout",
            str(tmp_path / "hold"),
            "--out",
            str(tmp_path / "m"),
            "--only",
            "octa",
            "--n-train",
            "6",
            "--n-holdout",
            "4",
            "--epochs-narrow",
            "1",
            "--variants",
            "narrow",
        ]
    )
    assert rc == 0
    spec = load_spec(tmp_path / "m" / "octa" / "model.toml")
    assert (spec.architecture, spec.width_mult, spec.head, spec.input_size) == ("unet", 0.32, "segmentation", (96, 96))
    assert spec.metrics["parameters"] == parameter_count(UNet(1, 1, 0.32)) and spec.metrics["n_holdout"] == 4
    assert spec.metrics["size_mb"] == pytest.approx((tmp_path / "m" / "octa" / "octa.pt").stat().st_size / 1e6)
    assert spec.seg_score is not None and spec.training["data"] == "study.demo.build_octa"
    model = load_model(spec)
    image = next((tmp_path / "hold" / "octa" / "media").iterdir())
    out = predict(model, {"octa": load(image)})
    assert out.cams["octa"].shape == (1, 304, 304) and set(out.measurements) == {"faz_area_mm2", "circularity"}
    assert 0.0 <= out.score <= 1.0


def test_fundus_photo_at_its_real_size_goes_through_the_model_and_the_mask_path():
    skdata = pytest.importorskip("skimage.data")
    photo = skdata.retina()  # 1411 x 1411 RGB
    media = Media(frames=photo[None], kind="image")
    torch.manual_seed(1)
    spec = _spec(width=0.0625, size=64)
    model = LoadedModel(spec, {"octa": build_network(spec).eval()}, torch.device("cpu"))
    out = predict(model, {"octa": media})
    cam = out.cams["octa"]
    assert cam.shape == (1, 96, 96) and 0 <= float(cam.min()) and float(cam.max()) <= 1
    full = as_mask(cam, photo.shape[:2])  # the overlay's mask at the photo's own size
    assert full.shape == (1411, 1411) and full.dtype == bool
    assert dice(full, as_mask(cam > 0.5, photo.shape[:2])) > 0.9
    assert "faz_area_mm2" in out.measurements


def test_shipped_octa_model_segments_a_fresh_demo_build(tmp_path):
    """The shipped channel-narrowed U-Net on newly generated scans (a seed it never saw)."""
    from pathlib import Path

    from inference.spec import load_spec
    from study.demo.octa import build_octa
    from study.media import load
    from tests.demo.helpers import auc

    path = Path(__file__).resolve().parents[2] / "resources" / "models" / "octa" / "model.toml"
    if not path.is_file():
        pytest.skip("no shipped octa model")
    spec = load_spec(path)
    assert (spec.architecture, spec.width_mult) == ("unet", 0.32) and spec.metrics["n_holdout"] >= 50
    assert spec.metrics["full_parameters"] > 9 * spec.metrics["parameters"]  # the side-by-side record
    model = load_model(spec)
    folder = build_octa(tmp_path / "octa", seed=4242, n=8)
    dices, areas, labels = [], [], []
    with (folder / "cases.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            truth = np.asarray(Image.open(folder / row["truth_mask"]).convert("1"), bool)
            out = predict(model, {"octa": load(str(folder / row["octa"]))})
            dices.append(dice(as_mask(out.cams["octa"], truth.shape), truth))
            areas.append(out.measurements["faz_area_mm2"])
            labels.append(int(row["truth"]))
            assert out.measurements["faz_area_mm2"] == pytest.approx(truth.sum() * (3 / 304) ** 2, rel=0.25)
    assert np.mean(dices) > 0.85, dices
    assert auc(areas, labels) >= 0.5
