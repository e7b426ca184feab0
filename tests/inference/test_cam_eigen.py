"""Eigen smoothing: our batched projection gives grad-cam's own maps (``get_cam_image(eigen_smooth=True)``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.models import mobilenet_v2

from inference.cam import METHODS, class_targets, first_component, make_cam


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    torch.manual_seed(0)
    return mobilenet_v2(weights=None, width_mult=0.5, num_classes=2).eval()


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "hirescam", "layercam", "eigencam"])
def test_eigen_maps_equal_grad_cams_own(net, method):
    layer = net.features[6]
    engine = make_cam(method, net, layer, eigen_smooth=True)
    x = torch.randn(5, 3, 96, 96)
    targets = class_targets([1] * len(x))
    out, acts = engine.forward(x)
    grads = None
    if METHODS[method].uses_gradients:
        (g,) = torch.autograd.grad(sum(t(o) for t, o in zip(targets, out)), acts, retain_graph=True)
        grads = g.numpy()
    ours = engine.maps(x, out, acts, targets).numpy()
    theirs = engine._gc.get_cam_image(x, layer, targets, acts.detach().numpy(), grads, True)
    theirs = np.maximum(np.asarray(theirs, np.float32), 0)
    assert ours.shape == (5, 12, 12) and ours.max() > 0
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5 * float(np.abs(theirs).max()))


def test_first_component_is_the_principal_axis_projection():
    """A rank-one field: every channel is a multiple of one spatial pattern, so the projection is that
    pattern (up to sign and scale), centred."""
    rng = np.random.default_rng(1)
    pattern = rng.random((6, 7))
    weighted = rng.random(4)[None, :, None, None] * pattern[None, None]
    proj = first_component(weighted.astype(np.float32))[0]
    centred = pattern - pattern.mean()
    corr = np.corrcoef(proj.ravel(), centred.ravel())[0, 1]
    assert abs(corr) == pytest.approx(1.0, abs=1e-5)
