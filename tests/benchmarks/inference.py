"""Inference speed: ``python -m tests.benchmarks.inference`` prints one JSON line.

Per architecture (untrained weights, 224 x 224, batch of 4, best of 3 after a
warm-up, on the CPU with ``--threads`` torch threads):

* ``forward_ms``: ms per image, forward only (``inference_mode``);
* ``fwd_bwd_ms``: forward + a full ``backward()`` of the top-class score (the
  budget's reference: what a training step or grad-cam's own call does);
* ``gradcam_ms``: our Grad-CAM, as ``predict`` runs it: the forward pass that
  also gives the prediction, gradients to the target layer only, maps upsampled
  and scaled to [0, 1];
* ``ratio``: gradcam_ms / fwd_bwd_ms (budget <= 1.3, DESIGN.md);
* ``gradcam_pkg_ms``: the grad-cam package's own ``GradCAM.__call__`` for reference.

Plus ``precompute``: cases per second of ``precompute`` over the MRI demo study
(12 patients built in a temporary folder with the demo builder and the shipped
model ``resources/models/mri``), or null when either is not available.
A benchmark, not a test: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from inference.cam import class_targets, finish, make_cam
from inference.network import build_network, find_target_layer
from inference.spec import ARCHITECTURES, parse_spec

ROOT = Path(__file__).resolve().parents[2]


def _best(fn, reps: int) -> float:
    fn()  # warm-up (allocator, lazy init)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_architecture(arch: str, size: int, batch: int, reps: int) -> dict:
    from pytorch_grad_cam import GradCAM

    spec = parse_spec(
        {
            "model": {"architecture": arch, "head": "multiclass", "labels": ["a", "b", "c"], "input_size": size},
            "members": [{"role": "x", "weights": "w.pt", "sha256": "0" * 64}],
        },
        "/tmp/bench/model.toml",
        check_files=False,
    )
    torch.manual_seed(0)
    net = build_network(spec).eval()
    x = torch.randn(batch, 3, size, size)
    layer = find_target_layer(net)
    cam = make_cam("gradcam", net, layer)

    def forward():
        with torch.inference_mode():
            net(x)

    def fwd_bwd():
        net.zero_grad(set_to_none=True)
        out = net(x)
        out.gather(1, out.argmax(1, keepdim=True)).sum().backward()

    def gradcam():
        out, acts = cam.forward(x)
        targets = class_targets(out.argmax(1).tolist())
        finish(cam.maps(x, out, acts, targets), (96, 96))

    def gradcam_pkg():
        with GradCAM(net, [layer]) as gc:
            gc(x, targets=None)

    f, fb, gc, pkg = (_best(fn, reps) * 1000 / batch for fn in (forward, fwd_bwd, gradcam, gradcam_pkg))
    return {
        "forward_ms": round(f, 2),
        "fwd_bwd_ms": round(fb, 2),
        "gradcam_ms": round(gc, 2),
        "ratio": round(gc / fb, 3),
        "gradcam_pkg_ms": round(pkg, 2),
        "target_layer": next(n for n, m in net.named_modules() if m is layer),
    }


def bench_precompute(n: int) -> dict | None:
    spec = ROOT / "resources" / "models" / "mri" / "model.toml"
    try:
        from study.demo import builder
    except ImportError:
        return None
    if not spec.is_file():
        return None
    from inference.precompute import MemorySink, precompute
    from study.cases import load_cases
    from study.protocol import load_protocol

    with tempfile.TemporaryDirectory() as tmp:
        study = builder("mri")(Path(tmp) / "mri", 20261124, n)
        cases = load_cases(study, load_protocol(study))
        report = precompute(spec, cases, MemorySink())
        return {
            "study": "mri demo",
            "cases": report.computed,
            "failed": len(report.failed),
            "seconds": round(report.seconds, 2),
            "cases_per_s": round(report.cases_per_second, 3),
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--arch", nargs="*", default=[a for a in ARCHITECTURES if a != "unet"])
    p.add_argument("--mri-cases", type=int, default=12)
    p.add_argument("--no-precompute", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    result: dict = {
        "benchmark": "inference",
        "device": "cpu",
        "threads": args.threads,
        "input": args.size,
        "batch": args.batch,
        "torch": torch.__version__,
        "architectures": {},
    }
    for arch in args.arch:
        result["architectures"][arch] = bench_architecture(arch, args.size, args.batch, args.reps)
    ratios = [r["ratio"] for r in result["architectures"].values()]
    result["max_ratio"] = max(ratios) if ratios else None
    result["ratio_budget"] = 1.3
    result["precompute"] = None if args.no_precompute else bench_precompute(args.mri_cases)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
