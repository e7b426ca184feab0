"""CAM quality: pointing game on planted lesions, and the model-randomization sanity check.

A tiny CNN is trained (seeded, ~2 s on CPU) on synthetic images where the
positive class has a bright disk at a random position and every image has a
dim decoy blob.  On held-out positives the CAM maximum must fall inside the
lesion box (pointing game, Zhang et al. 2018) in >= 80% of images.  After
re-initializing all weights the CAM must change: mean Spearman rank
correlation with the trained model's CAM < 0.5 (Adebayo et al. 2018).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from inference.cam import METHODS, class_targets, finish, make_cam
from inference.load import LoadedModel
from inference.network import find_target_layer
from inference.predict import predict
from inference.spec import parse_spec
from study.media.types import Media
from tests.inference.helpers import lesion_images, tiny_cnn, train

SIZE = 48


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    images, labels, boxes = lesion_images(560, SIZE, seed=1)
    x = ((torch.from_numpy(images)[:, None] - 0.5) / 0.25).expand(-1, 3, -1, -1).contiguous()
    y = torch.from_numpy(labels)
    torch.manual_seed(0)
    net = train(tiny_cnn(), x[:400], y[:400], epochs=6, seed=0)
    held = np.arange(400, 560)
    with torch.no_grad():
        acc = float((net(x[held]).argmax(1) == y[held]).float().mean())
    positives = [int(i) for i in held if labels[i]]
    return net, images, x, boxes, positives, acc


def _hit(cam: np.ndarray, box: np.ndarray, scale: float = 1.0) -> bool:
    y, x = np.unravel_index(int(np.argmax(cam)), cam.shape)
    y0, x0, y1, x1 = box * scale
    tol = 1.0  # one CAM pixel of bilinear blur
    return y0 - tol <= y <= y1 + tol and x0 - tol <= x <= x1 + tol


def _maps(net, method: str, x: torch.Tensor) -> np.ndarray:
    cam = make_cam(method, net, find_target_layer(net))
    out, acts = cam.forward(x)
    return finish(cam.maps(x, out, acts, class_targets([1] * len(x))), (SIZE, SIZE)).numpy()


def test_model_learns_the_task(trained):
    *_, acc = trained
    assert acc >= 0.9


def test_pointing_game_through_predict(trained):
    """The full path: Media (uint8 photo) -> preprocess -> predict -> CAM at the frame's size."""
    net, images, _x, boxes, positives, _ = trained
    spec = parse_spec(
        {
            "model": {
                "architecture": "resnet18",
                "head": "binary",
                "labels": ["no", "lesion"],
                "input_size": SIZE,
                "mean": [0.5] * 3,
                "std": [0.25] * 3,
            },
            "cam": {"size": 64, "target": "lesion"},
            "members": [{"role": "photo", "weights": "x.pt", "sha256": "0" * 64}],
        },
        "/tmp/model.toml",
        check_files=False,
    )
    model = LoadedModel(spec, {"photo": net}, torch.device("cpu"))
    hits = 0
    for i in positives:
        # Photos are uint8 and larger than the network input: 96 px, CAM stored at 64 px.
        frame = np.kron(np.round(images[i] * 255), np.ones((2, 2))).astype(np.uint8)[None]
        out = predict(model, {"photo": Media(frames=frame, kind="image")}, case_id=str(i))
        cam = out.cams["photo"]
        assert cam.shape == (1, 64, 64) and cam.dtype == np.float16
        assert 0.0 <= float(cam.min()) and float(cam.max()) <= 1.0
        hits += _hit(cam[0].astype(np.float32), boxes[i], scale=64 / SIZE)
    assert hits / len(positives) >= 0.8, f"pointing game {hits}/{len(positives)}"


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "hirescam", "scorecam"])
def test_pointing_game_per_method(trained, method):
    net, _images, x, boxes, positives, _ = trained
    maps = _maps(net, method, x[positives])
    hits = sum(_hit(m, boxes[i]) for m, i in zip(maps, positives))
    assert hits / len(positives) >= 0.8, f"{method}: pointing game {hits}/{len(positives)}"


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "scorecam"])
def test_randomized_weights_change_the_cam(trained, method):
    """Adebayo et al. 2018, cascading randomization to the first layer."""
    net, _images, x, _boxes, positives, _ = trained
    xb = x[positives]
    trained_maps = _maps(net, method, xb)
    torch.manual_seed(123)
    random_net = tiny_cnn().eval()
    random_maps = _maps(random_net, method, xb)
    rho = np.nanmean([spearmanr(a.ravel(), b.ravel())[0] for a, b in zip(trained_maps, random_maps)])
    assert rho < 0.5, f"{method}: CAM barely changed after randomization (Spearman {rho:.2f})"
    # ...and the check can fail: the trained model's CAM against itself is identical.
    assert np.allclose(_maps(net, method, xb), trained_maps, atol=1e-5)


def test_every_method_gives_maps_in_unit_range(trained):
    net, _images, x, *_ = trained
    for method in METHODS:
        maps = _maps(net, method, x[:4])
        assert maps.shape == (4, SIZE, SIZE)
        assert maps.min() >= 0.0 and maps.max() <= 1.0 + 1e-6
        assert np.isclose(maps.max(), 1.0, atol=1e-3), method
