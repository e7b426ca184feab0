"""Class activation maps around the `grad-cam` package (pytorch-grad-cam).

One small base runs the passes, each method is a short subclass naming the
grad-cam class that turns target-layer activations (and gradients) into a map:

- Grad-CAM: channel weights = spatially averaged gradients (Selvaraju et al. 2017)
- Grad-CAM++: weights from higher-order gradient terms (Chattopadhay et al. 2018)
- HiResCAM: element-wise gradient x activation, faithful to the score (Draelos & Carin 2020)
- LayerCAM: element-wise positive gradient x activation (Jiang et al. 2021, IEEE TIP 30:5875)
- EigenCAM: first principal component of the activations, no gradients (Muhammad & Yeasin 2020)
- Score-CAM: weights = score of the input masked by each activation map (Wang et al. 2020)

Why not call grad-cam's ``BaseCAM.__call__``: it runs its own forward pass and
a full ``loss.backward()`` into every parameter, then resizes on the CPU one
image at a time.  Here the forward pass is the one that also gives the
prediction, and ``torch.autograd.grad`` differentiates the target score with
respect to the target layer's output only, so the backward pass stops at that
layer.  grad-cam's own ``get_cam_image``/``get_cam_weights`` do the method's
arithmetic, so the methods are exactly the package's.

Smoothing (grad-cam's options): ``eigen_smooth`` replaces the channel sum by
the first principal component of the weighted activations (less noise; the
projection is :func:`first_component`, grad-cam's formula in one batched SVD);
augmentation smoothing (the mean over the image and its left-right mirror)
is done by ``inference.predict`` with ``cam.aug_smooth``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from typing import ClassVar

import numpy as np
import torch
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn
from torch.nn import functional as F

Target = Callable[[torch.Tensor], torch.Tensor]  # one image's output row -> scalar score


class _QuietScoreCAM(ScoreCAM):
    """grad-cam's ScoreCAM without its tqdm progress bars (they would garble the CLI's bar)."""

    batch_size = 32

    def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):  # noqa: ARG002
        with torch.no_grad():
            acts = torch.from_numpy(activations).to(self.device)
            up = F.interpolate(acts, size=input_tensor.shape[-2:], mode="bilinear", align_corners=False)
            flat = up.flatten(2)
            lo, hi = flat.min(-1)[0][..., None, None], flat.max(-1)[0][..., None, None]
            masks = (up - lo) / (hi - lo + 1e-8)
            scores = []
            for target, image, image_masks in zip(targets, input_tensor, masks):
                for i in range(0, image_masks.shape[0], self.batch_size):
                    batch = image[None] * image_masks[i : i + self.batch_size, None]
                    scores.extend(float(target(o)) for o in self.model(batch))
            scores_t = torch.tensor(scores).view(activations.shape[0], activations.shape[1])
            return torch.softmax(scores_t, dim=-1).numpy()


class CamMethod:
    """Base: capture the target layer during the forward pass, then make one map per image."""

    name: ClassVar[str]
    impl: ClassVar[type[BaseCAM]]
    uses_gradients: ClassVar[bool] = True

    def __init__(self, net: nn.Module, target_layer: nn.Module, eigen_smooth: bool = False) -> None:
        self.net = net
        self.layer = target_layer
        self.eigen_smooth = eigen_smooth
        self._gc = self.impl(net, [target_layer])
        # grad-cam hooks every forward pass; we run the passes ourselves.
        self._gc.activations_and_grads.release()

    @contextmanager
    def _capture(self, store: list[torch.Tensor]) -> Iterator[None]:
        handle = self.layer.register_forward_hook(lambda _m, _i, out: store.append(out))
        try:
            yield
        finally:
            handle.remove()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Network output and the target layer's output (kept in the autograd graph)."""
        store: list[torch.Tensor] = []
        with torch.enable_grad(), self._capture(store):
            out = self.net(x) if self.uses_gradients else self._no_grad(x)
        if not store:
            raise RuntimeError("the CAM target layer did not run in the forward pass")
        acts = store[-1]
        if acts.ndim != 4:
            raise RuntimeError(f"the CAM target layer gives a {acts.ndim}-D output; it needs (B, C, H, W)")
        return out, acts

    def _no_grad(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.net(x)

    def maps(self, x: torch.Tensor, out: torch.Tensor, acts: torch.Tensor, targets: Sequence[Target]) -> torch.Tensor:
        """(B, h, w) non-negative maps at the target layer's resolution."""
        grads_np = None
        if self.uses_gradients:
            score = sum(t(o) for t, o in zip(targets, out))
            (grads,) = torch.autograd.grad(score, acts)
            grads_np = grads.detach().float().cpu().numpy()
        acts_np = acts.detach().float().cpu().numpy()
        if self.eigen_smooth:
            cam = first_component(self.weighted(x, list(targets), acts_np, grads_np))
        else:
            cam = self._gc.get_cam_image(x, self.layer, list(targets), acts_np, grads_np, False)
        return torch.from_numpy(np.maximum(np.asarray(cam, dtype=np.float32), 0.0))

    def weighted(self, x: torch.Tensor, targets: list, acts: np.ndarray, grads: np.ndarray | None) -> np.ndarray:
        """(B, C, h, w) activations weighted as the method weighs them before the channel sum (grad-cam's
        ``get_cam_image``): channel weights from grad-cam's ``get_cam_weights``."""
        weights = self._gc.get_cam_weights(x, self.layer, targets, acts, grads)
        return weights[:, :, None, None] * acts


class GradCAMMethod(CamMethod):
    name, impl = "gradcam", GradCAM


class GradCAMPlusPlusMethod(CamMethod):
    name, impl = "gradcam++", GradCAMPlusPlus


class HiResCAMMethod(CamMethod):
    name, impl = "hirescam", HiResCAM

    def weighted(self, x, targets, acts, grads):  # noqa: ARG002 - element-wise, as grad-cam's HiResCAM
        return grads * acts

    def maps(self, x: torch.Tensor, out: torch.Tensor, acts: torch.Tensor, targets: Sequence[Target]) -> torch.Tensor:
        # grad-cam prints (to stdout) that eigen smoothing voids HiResCAM's faithfulness guarantee; the
        # spec's choice is deliberate and recorded, and stdout is the CLI's.
        with redirect_stdout(io.StringIO()):
            return super().maps(x, out, acts, targets)


class LayerCAMMethod(CamMethod):
    name, impl = "layercam", LayerCAM

    def weighted(self, x, targets, acts, grads):  # noqa: ARG002 - positive gradients, as grad-cam's LayerCAM
        return np.maximum(grads, 0) * acts


class EigenCAMMethod(CamMethod):
    name, impl, uses_gradients = "eigencam", EigenCAM, False

    def weighted(self, x, targets, acts, grads):  # noqa: ARG002 - EigenCAM projects the plain activations
        return acts


class ScoreCAMMethod(CamMethod):
    name, impl, uses_gradients = "scorecam", _QuietScoreCAM, False


def first_component(weighted: np.ndarray) -> np.ndarray:
    """(B, h, w): each image's weighted activations projected on their first principal component
    (grad-cam's eigen smoothing, ``get_2d_projection``: positions x channels, centred per channel,
    projection on the first right singular vector).  The same arithmetic in one batched SVD without
    the full U matrix grad-cam asks for, which cost ~4 ms per image; NaNs count as 0 as there."""
    b, c, h, w = weighted.shape
    flat = np.nan_to_num(weighted.reshape(b, c, h * w).transpose(0, 2, 1))  # (B, h*w, C)
    flat = flat - flat.mean(axis=1, keepdims=True)
    vt = np.linalg.svd(flat, full_matrices=False)[2]  # (B, C, C)
    return np.float32(np.einsum("bpc,bc->bp", flat, vt[:, 0, :]).reshape(b, h, w))


METHODS: dict[str, type[CamMethod]] = {
    m.name: m
    for m in (GradCAMMethod, GradCAMPlusPlusMethod, HiResCAMMethod, LayerCAMMethod, EigenCAMMethod, ScoreCAMMethod)
}


def make_cam(method: str, net: nn.Module, target_layer: nn.Module, eigen_smooth: bool = False) -> CamMethod:
    try:
        return METHODS[method](net, target_layer, eigen_smooth)
    except KeyError:
        raise ValueError(f"unknown CAM method {method!r}; one of {', '.join(METHODS)}") from None


def class_targets(indices: Sequence[int]) -> list[Target]:
    """grad-cam's target objects: the score of class ``i`` (index 0 for a regression output)."""
    return [ClassifierOutputTarget(int(i)) for i in indices]


def edge_fade(size: tuple[int, int], fraction: float = 0.15) -> torch.Tensor:
    """(h, w) window in [0, 1]: 1 inside, a raised-cosine fall to 0 over the outer ``fraction`` of each side.

    A CAM computed on a central crop is multiplied by this before it is placed
    in the full frame, so it fades out at the crop's edge instead of ending in
    a rectangular cut-off (the network saw nothing outside the crop).
    """

    def ramp(n: int) -> torch.Tensor:
        k = max(1, round(n * fraction))
        d = torch.minimum(torch.arange(n), torch.arange(n).flip(0)).float() + 0.5  # distance to the edge, px
        return 0.5 - 0.5 * torch.cos(torch.pi * (d / k).clamp(max=1.0))

    return ramp(size[0])[:, None] * ramp(size[1])[None, :]


def finish(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Upsample (B, h, w) maps to ``size`` and scale each to [0, 1] (as grad-cam's scale_cam_image)."""
    up = F.interpolate(maps[:, None].float(), size=size, mode="bilinear", align_corners=False)[:, 0]
    up = up.clamp_min(0)
    flat = up.flatten(1)
    lo = flat.min(1)[0].view(-1, 1, 1)
    span = flat.max(1)[0].view(-1, 1, 1) - lo
    # Scale by the map's own range (tiny gradients still give a full map); a flat map is all zeros.
    return torch.where(span > 0, (up - lo) / span.clamp_min(torch.finfo(up.dtype).tiny), torch.zeros_like(up))
