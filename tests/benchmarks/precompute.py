"""Precompute against a plain batched forward + CAM: ``python -m tests.benchmarks.precompute [--cases N]``.

Builds N MRI demo patients in a temporary folder and runs the shipped MRI model
(``resources/models/mri``) over them, in one process, on the CPU:

* ``precompute_s``: ``inference.precompute.precompute`` as the app runs it: DICOM
  series read from disk, inputs planned, prediction and a CAM for every slice
  of every role, outputs handed to a sink;
* ``plain_s`` (the baseline): the same networks over the same input tensors
  (prepared before the clock starts), one batch per role and case: a forward
  pass that keeps the target layer's activations, ``autograd.grad`` of the CAM
  target's score to them, and the model's own CAM formula written out in torch
  (Grad-CAM, Selvaraju et al. 2017: ReLU of the channel-mean-gradient-weighted
  activations; HiResCAM, Draelos & Carin 2020: gradient x activation summed
  over channels; LayerCAM, Jiang et al. 2021: positive gradient x activation)
  with the model's smoothing (augmentation: the image and its mirror in one
  batch, maps averaged; eigen: the first principal component of the weighted
  activations instead of their channel sum, as grad-cam's ``get_2d_projection``), upsampled to the CAM size and scaled to [0, 1] per slice;
* ``plain_gradcam_s``: the same, but one Grad-CAM pass without smoothing (the
  cheapest CAM), to show what the model's CAM choice itself costs.

``ratio`` = precompute_s / plain_s; budget <= 1.3 (DESIGN.md).  ``decode_s``: reading the same
series from disk alone (precompute does it in a prefetch thread; with as many torch threads as cores
it takes their time), and ``ratio_without_decode`` = (precompute_s - decode_s) / plain_s.  Best of --reps (3) runs of
each after a warm-up.  A benchmark, not a test: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

BUDGET = 1.3


def _plain_cam(
    method: str,
    net: torch.nn.Module,
    layer: torch.nn.Module,
    x: torch.Tensor,
    size: tuple[int, int],
    idx: int,
    mirror: bool,
    eigen: bool = False,
) -> torch.Tensor:
    """(B, *size) maps in [0, 1]: ``method``'s formula on ``layer``, for class ``idx``; with ``eigen`` the
    channel sum is replaced by the first principal component of the weighted activations (grad-cam's
    eigen smoothing)."""
    xs = torch.cat([x, x.flip(-1)]) if mirror else x
    acts: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _i, out: acts.append(out))
    try:
        out = net(xs)
    finally:
        handle.remove()
    (grads,) = torch.autograd.grad(out[:, idx].sum(), acts[0])
    a = acts[0]
    if method == "gradcam":
        weighted = grads.mean((2, 3), keepdim=True) * a
    elif method == "hirescam":
        weighted = grads * a
    elif method == "layercam":
        weighted = torch.relu(grads) * a
    else:
        raise SystemExit(f"no plain baseline for CAM method {method!r}")
    if eigen:
        b, c, h, w = weighted.shape
        flat = weighted.flatten(2).transpose(1, 2)  # (B, h*w, C)
        flat = flat - flat.mean(1, keepdim=True)
        vh = torch.linalg.svd(flat, full_matrices=False).Vh  # (B, C, C)
        cam = (flat @ vh[:, 0, :, None]).view(b, h, w)
    else:
        cam = weighted.sum(1)
    cam = torch.relu(cam)
    if mirror:
        half = x.shape[0]
        cam = 0.5 * (cam[:half] + cam[half:].flip(-1))
    cam = torch.nn.functional.interpolate(cam[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]
    flat = cam.flatten(1)
    lo, hi = flat.min(1).values[:, None, None], flat.max(1).values[:, None, None]
    return ((cam - lo) / (hi - lo).clamp_min(1e-12)).detach()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=8)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--reps", type=int, default=3, help="timed runs of each (the best is kept)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from inference.load import load_model
    from inference.network import find_target_layer
    from inference.precompute import MemorySink, precompute
    from inference.predict import cam_shape
    from inference.preprocess import crop_box, plan_inputs
    from study.cases import load_cases
    from study.demo.mri import build_mri
    from study.media import load
    from study.protocol import load_protocol

    spec_path = Path(__file__).resolve().parents[2] / "resources" / "models" / "mri" / "model.toml"
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_mri(Path(tmp) / "mri", n=args.cases)
        cases = load_cases(folder, load_protocol(folder))
        model = load_model(spec_path, "cpu")
        spec = model.spec

        def run_precompute() -> float:
            t0 = time.perf_counter()
            report = precompute(model, cases, MemorySink())
            assert report.computed == len(cases) and not report.failed
            return time.perf_counter() - t0

        # The baseline's inputs: the same tensors precompute feeds the networks, prepared off the clock.
        inputs = []
        for case in cases:
            for member in spec.members:
                media = load(case.media[member.role])
                plan = plan_inputs(media, spec, member.window)
                r0, c0, r1, c1 = crop_box(cam_shape(media.frames.shape[1:3], spec.cam_size), spec.crop)
                net = model.nets[member.role]
                inputs.append((net, find_target_layer(net, spec.cam_target_layer), plan.images, (r1 - r0, c1 - c0)))

        idx = spec.labels.index(spec.cam_target) if spec.cam_target in spec.labels else 1

        def run_plain(method: str, mirror: bool, eigen: bool) -> float:
            t0 = time.perf_counter()
            for net, layer, x, size in inputs:
                _plain_cam(method, net, layer, x, size, idx, mirror, eigen)
            return time.perf_counter() - t0

        def run_decode() -> float:  # what precompute reads from disk and the baseline does not
            t0 = time.perf_counter()
            for case in cases:
                for member in spec.members:
                    load(case.media[member.role])
            return time.perf_counter() - t0

        own = (spec.cam_method, spec.cam_aug_smooth, spec.cam_eigen_smooth)
        cheapest = ("gradcam", False, False)
        run_precompute(), run_plain(*own), run_plain(*cheapest)  # warm-up
        pre = min(run_precompute() for _ in range(args.reps))
        plain = min(run_plain(*own) for _ in range(args.reps))
        gradcam = min(run_plain(*cheapest) for _ in range(args.reps))
        decode = min(run_decode() for _ in range(args.reps))
    print(
        json.dumps(
            {
                "benchmark": "precompute",
                "model": "resources/models/mri",
                "cases": args.cases,
                "images": int(sum(x.shape[0] for _, _, x, _ in inputs)),
                "threads": args.threads,
                "precompute_s": round(pre, 3),
                "cam": f"{spec.cam_method} on {spec.cam_target_layer}"
                + (" + mirror" if spec.cam_aug_smooth else "")
                + (" + eigen" if spec.cam_eigen_smooth else ""),
                "plain_s": round(plain, 3),
                "plain_gradcam_s": round(gradcam, 3),
                "ratio": round(pre / plain, 2),
                "ratio_vs_plain_gradcam": round(pre / gradcam, 2),
                "decode_s": round(decode, 3),
                "ratio_without_decode": round((pre - decode) / plain, 2),
                "cases_per_second": round(args.cases / pre, 2),
                "budget_ratio": BUDGET,
                "within_budget": pre / plain <= BUDGET,
            }
        )
    )


if __name__ == "__main__":
    main()
