"""Every supported architecture: real forward, backward and CAM at a tiny input size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inference.load import LoadedModel
from inference.network import build_network, find_target_layer
from inference.predict import predict
from inference.spec import ARCHITECTURES, parse_spec
from study.media.types import Media

SLOW = {"vgg16"}  # 138 M parameters: building it alone takes seconds


def _spec(arch: str, head: str = "multiclass", **model):
    labels = {"multiclass": ["a", "b", "c"], "segmentation": ["background", "disc"], "binary": ["n", "p"]}
    return parse_spec(
        {
            "model": {
                "architecture": arch,
                "head": head,
                "labels": labels.get(head, ["value"]),
                "input_size": 64,
                **model,
            },
            "members": [{"role": "photo", "weights": "w.pt", "sha256": "0" * 64}],
        },
        "/tmp/model.toml",
        check_files=False,
    )


CLASSIFIERS = [a for a in ARCHITECTURES if a != "unet"]  # the U-Net is segmentation only: test_inference_unet


@pytest.mark.parametrize("arch", [pytest.param(a, marks=pytest.mark.slow) if a in SLOW else a for a in CLASSIFIERS])
def test_forward_backward_and_cam(arch):
    torch.manual_seed(0)
    spec = _spec(arch)
    net = build_network(spec)
    net.train()
    x = torch.randn(2, 3, 64, 64)
    out = net(x)
    assert out.shape == (2, 3)
    out[:, 1].sum().backward()
    first = next(p for p in net.parameters() if p.ndim == 4)
    assert first.grad is not None and first.grad.abs().sum() > 0
    net.eval()
    assert isinstance(find_target_layer(net), torch.nn.Module)
    model = LoadedModel(spec, {"photo": net}, torch.device("cpu"))
    rng = np.random.default_rng(0)
    photo = Media(frames=rng.integers(0, 256, (1, 80, 120, 3), dtype=np.uint8), kind="image")
    result = predict(model, {"photo": photo}, case_id="c")
    assert np.isclose(sum(result.probabilities), 1.0, atol=1e-5)
    cam = result.cams["photo"]
    assert cam.shape == (1, 64, 96) and cam.dtype == np.float16  # aspect of the photo, longest side 96
    assert 0 <= float(cam.min()) and float(cam.max()) <= 1


@pytest.mark.parametrize("arch", ["resnet18", "mobilenet_v2"])
def test_segmentation_head_gives_a_mask(arch):
    torch.manual_seed(0)
    spec = _spec(arch, "segmentation")
    net = build_network(spec).eval()
    assert net(torch.randn(1, 3, 64, 64)).shape == (1, 2, 64, 64)
    model = LoadedModel(spec, {"photo": net}, torch.device("cpu"))
    frames = np.random.default_rng(0).integers(0, 256, (1, 64, 64), dtype=np.uint8)
    result = predict(model, {"photo": Media(frames=frames, kind="image")})
    assert result.cam_method == "segmentation" and result.cams["photo"].shape == (1, 64, 64)
    assert 0 <= result.score <= 1


def test_single_channel_network():
    spec = _spec("resnet18", channels=1, mean=[0.5], std=[0.25])
    net = build_network(spec).eval()
    assert net(torch.randn(1, 1, 64, 64)).shape == (1, 3)
    model = LoadedModel(spec, {"photo": net}, torch.device("cpu"))
    colour = np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    assert predict(model, {"photo": Media(frames=colour, kind="image")}).cams["photo"].shape == (1, 64, 64)
