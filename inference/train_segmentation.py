"""Train the OCTA FAZ segmentation models (demo study 5) and compare them side by side.

    python -m inference.train_demo --data DIR --out resources/models --only octa
    python -m inference.train_segmentation --data DIR --out resources/models   # the same, alone

Two networks of one topology (``inference.unet``): the channel-narrowed U-Net
(width multiplier 0.32, about a tenth of the parameters) and the full U-Net
(w = 1), trained from scratch on the same seeded synthetic training study with
the same loss (binary cross-entropy + soft Dice, Milletari et al. 2016),
optimizer and augmentation (flips and transposes applied to image and mask
together).  Held-out figures come from an independently generated study
through the real ``predict()`` path: Dice mean ± SD against the truth masks at
full resolution, parameter count, size of the float16 weights file in MB, CPU
latency per image (median of single-image predicts, 1 thread), and the AUC of
the measured FAZ area for glaucoma.

The glaucoma score is the logistic of the FAZ area, ``1 / (1 + exp(-(A - c) / s))``
with (c, s) from a one-variable logistic regression of the training study's
labels on the model's own training-set areas (Newton-Raphson, maximum
likelihood); it is written to ``[segmentation]`` of model.toml.

The narrow model ships as ``OUT/octa``; the full one (62 MB in float16) is
written to ``OUT/octa-unet-full`` only with ``--ship-full``; its figures are
recorded in the narrow model's ``[metrics]`` either way.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from inference.load import LoadedModel
from inference.network import build_network
from inference.predict import predict
from inference.preprocess import plan_inputs
from inference.spec import ModelSpec, file_sha256, parse_spec
from inference.unet import parameter_count

NAME = "octa"
ROLE = "octa"
INPUT = 96
VARIANTS = {"narrow": 0.32, "full": 1.0}
DEFAULT_EPOCHS = {"narrow": 12, "full": 3}


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_octa(folder: Path, seed: int, n: int | None) -> Path:
    if (folder / "cases.csv").is_file():
        return folder
    from study.demo.octa import build_octa

    _log(f"building octa (seed {seed}, n {n or 'default'}) in {folder}")
    return build_octa(folder, seed, n)


def read_octa(folder: Path) -> list[dict]:
    """Rows of cases.csv with absolute image and truth-mask paths (the region protocol is not needed)."""
    with (folder / "cases.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["image"] = str(folder / r[ROLE])
        r["mask_path"] = str(folder / r["truth_mask"])
    return rows


def truth_mask(row: dict) -> np.ndarray:
    with Image.open(row["mask_path"]) as im:
        return np.asarray(im.convert("1"), dtype=bool)


def spec_for(width_mult: float, mean: float = 0.0, std: float = 1.0, extra: dict | None = None) -> ModelSpec:
    data = {
        "model": {
            "name": f"Demo OCTA FAZ: U-Net x{width_mult:g}" + (" (channel-narrowed)" if width_mult < 1 else " (full)"),
            "architecture": "unet",
            "width_mult": width_mult,
            "head": "segmentation",
            "labels": ["FAZ"],
            "input_size": INPUT,
            "channels": 1,
            "window": "minmax",
            "mean": [mean],
            "std": [std],
        },
        "cam": {"size": 304},
        "segmentation": {"threshold": 0.5, "field_mm": [3.0, 3.0], **(extra or {})},
        "members": [{"role": ROLE, "weights": f"{ROLE}.pt", "sha256": "0" * 64}],
    }
    return parse_spec(data, Path("/nonexistent") / NAME / "model.toml", check_files=False)


def tensors(spec: ModelSpec, rows: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 1, h, w) unnormalized, masks (N, 1, h, w) soft in [0, 1] at the network's size)."""
    from study.media import load

    xs, ys = [], []
    for r in rows:
        plan = plan_inputs(load(r["image"]), spec)
        xs.append(plan.images[:1])
        m = torch.from_numpy(truth_mask(r).astype(np.float32))[None, None]
        ys.append(F.interpolate(m, size=spec.input_size, mode="area"))
    return torch.cat(xs), torch.cat(ys)


def _augment(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    b = x.shape[0]
    for dim in (-1, -2):
        m = (torch.rand(b, generator=gen) < 0.5)[:, None, None, None]
        x, y = torch.where(m, x.flip(dim), x), torch.where(m, y.flip(dim), y)
    if torch.rand(1, generator=gen) < 0.5:
        x, y = x.transpose(-1, -2), y.transpose(-1, -2)
    return x, y


def seg_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """BCE + soft Dice (Milletari et al. 2016, V-Net), per image then averaged."""
    p = torch.sigmoid(logits)
    inter = (p * y).flatten(1).sum(1)
    soft_dice = (2 * inter + 1) / (p.flatten(1).sum(1) + y.flatten(1).sum(1) + 1)
    return F.binary_cross_entropy_with_logits(logits, y) + (1 - soft_dice).mean()


def train_net(spec: ModelSpec, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, batch: int = 8) -> nn.Module:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = build_network(spec)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * math.ceil(len(x) / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    net.train()
    for epoch in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), batch):
            idx = perm[start : start + batch]
            if len(idx) < 2:
                continue
            xb, yb = _augment(x[idx], y[idx], gen)
            opt.zero_grad()
            loss = seg_loss(net(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        _log(f"  epoch {epoch + 1}/{epochs} loss {total / len(x):.4f}")
    return net.eval()


def fit_logistic(x: np.ndarray, y: np.ndarray, iters: int = 50) -> tuple[float, float]:
    """(center, scale) of P(y=1) = 1 / (1 + exp(-(x - center) / scale)) by Newton-Raphson maximum likelihood."""
    mu, sd = float(x.mean()), float(x.std()) or 1.0
    z = (x - mu) / sd
    X = np.c_[np.ones_like(z), z]
    beta = np.zeros(2)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-X @ beta))
        hess = X.T @ (X * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, X.T @ (y - p))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    b0, b1 = beta
    b1 = b1 if abs(b1) > 1e-9 else 1e-9
    return mu - b0 * sd / b1, sd / b1


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    return float(((pos[:, None] > neg).sum() + 0.5 * (pos[:, None] == neg).sum()) / (len(pos) * len(neg)))


def evaluate(spec: ModelSpec, net: nn.Module, rows: list[dict]) -> dict:
    """Held-out Dice (mean, SD), AUC of the FAZ area for glaucoma, latency per image (median, ms)."""
    from study.media import load
    from study.stats.regions import as_mask, dice

    model = LoadedModel(spec, {ROLE: net}, torch.device("cpu"))
    dices, areas, labels, times = [], [], [], []
    for r in rows:
        media = load(r["image"])
        t0 = time.perf_counter()
        out = predict(model, {ROLE: media}, case_id=r["case_id"])
        times.append(time.perf_counter() - t0)
        truth = truth_mask(r)
        dices.append(dice(as_mask(out.cams[ROLE], truth.shape), truth))
        areas.append(out.measurements["faz_area_mm2"])
        labels.append(int(r["truth"]))
    y, a = np.array(labels), np.array(areas)
    return {
        "dice_mean": float(np.mean(dices)),
        "dice_sd": float(np.std(dices, ddof=1)),
        "auc_faz_area_glaucoma": _auc(y, a),
        "latency_ms_per_image": float(np.median(times) * 1000),
        "n_holdout": len(rows),
    }


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(round(v, 6))
    if isinstance(v, int):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return json.dumps(str(v))


def write_model(folder: Path, spec: ModelSpec, net: nn.Module, training: dict, metrics: dict) -> tuple[Path, float]:
    """model.toml + float16 state dict; returns (toml path, weights size in MB)."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{ROLE}.pt"
    torch.save({k: (v.half() if v.is_floating_point() else v) for k, v in net.state_dict().items()}, weights)
    model = {
        "name": spec.name,
        "architecture": "unet",
        "width_mult": spec.width_mult,
        "head": "segmentation",
        "labels": list(spec.labels),
        "input_size": list(spec.input_size),
        "channels": 1,
        "window": "minmax",
        "mean": list(spec.mean),
        "std": list(spec.std),
    }
    seg = {"threshold": spec.seg_threshold, "field_mm": list(spec.seg_field_mm or ())}
    if spec.seg_score:
        seg |= {"score_center": spec.seg_score[0], "score_scale": spec.seg_score[1]}
    tables = {"model": model, "cam": {"size": spec.cam_size}, "segmentation": seg}
    tables |= {"training": training, "metrics": metrics}
    lines = [f"# {spec.name}", "# Written by `python -m inference.train_segmentation`; float16 state dict."]
    for name, kv in tables.items():
        lines += ["", f"[{name}]"] + [f"{k} = {_toml(v)}" for k, v in kv.items()]
    lines += [
        "",
        "[[members]]",
        f'role = "{ROLE}"',
        f'weights = "{weights.name}"',
        f'sha256 = "{file_sha256(weights)}"',
    ]
    path = folder / "model.toml"
    path.write_text("\n".join(lines) + "\n")
    return path, weights.stat().st_size / 1e6


def train_octa(
    data: Path,
    holdout: Path,
    out: Path,
    data_seed: int,
    holdout_seed: int,
    seed: int,
    epochs: dict[str, int] | None = None,
    n_train: int | None = None,
    n_holdout: int | None = None,
    ship_full: bool = False,
    variants: tuple[str, ...] = ("narrow", "full"),
) -> dict:
    """Train the variants, evaluate them on the held-out study, write the model(s); return the comparison."""
    epochs = {**DEFAULT_EPOCHS, **(epochs or {})}
    train_rows = read_octa(ensure_octa(data / NAME, data_seed, n_train or 160))
    hold_rows = read_octa(ensure_octa(holdout / NAME, holdout_seed, n_holdout))
    raw = spec_for(1.0)
    x, y = tensors(raw, train_rows)
    mean, std = float(x.mean()), float(x.std())
    xn = (x - mean) / std
    labels = np.array([int(r["truth"]) for r in train_rows])
    results: dict[str, dict] = {}
    written: dict[str, tuple[ModelSpec, nn.Module, dict]] = {}
    for variant in variants:
        w = VARIANTS[variant]
        t0 = time.time()
        spec = spec_for(w, mean, std)
        _log(f"octa/{variant} (width x{w}): {len(x)} training images, {epochs[variant]} epochs")
        net = train_net(spec, xn, y, epochs[variant], seed)
        train_s = time.time() - t0
        # The glaucoma score: logistic regression of the training labels on the model's own areas.
        model = LoadedModel(spec, {ROLE: net}, torch.device("cpu"))
        from study.media import load

        areas = np.array(
            [predict(model, {ROLE: load(r["image"])}, cams=False).measurements["faz_area_mm2"] for r in train_rows]
        )
        center, scale = fit_logistic(areas, labels)
        spec = spec_for(w, mean, std, {"score_center": round(center, 5), "score_scale": round(scale, 5)})
        metrics = evaluate(spec, net, hold_rows)
        metrics["parameters"] = parameter_count(net)
        metrics["train_seconds"] = round(train_s, 1)
        training = {
            "data": "study.demo.build_octa",
            "data_seed": data_seed,
            "n_train": len(train_rows),
            "holdout_seed": holdout_seed,
            "seed": seed,
            "epochs": epochs[variant],
            "loss": "BCE + soft Dice",
            "optimizer": "AdamW one-cycle lr 3e-3, batch 8",
            "augmentation": "flips + transpose (image and mask)",
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        }
        results[variant] = metrics
        written[variant] = (spec, net, training)
        _log(f"octa/{variant}: {metrics}")
        if variant == "narrow":  # on disk at once; the comparison is added when the others are done
            _, results[variant]["size_mb"] = write_model(out / NAME, spec, net, training, metrics)
    for variant, (spec, net, training) in written.items():
        if variant == "full" and not ship_full:
            # The size is that of the float16 file it would ship as.
            tmp = out / ".octa-unet-full-size"
            _, results[variant]["size_mb"] = write_model(tmp, spec, net, training, results[variant])
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
            continue
        folder = out / (NAME if variant == "narrow" else f"{NAME}-unet-full")
        path, size = write_model(folder, spec, net, training, results[variant])
        results[variant]["size_mb"] = size
    if "narrow" in written:  # record the side-by-side comparison with the shipped model
        spec, net, training = written["narrow"]
        metrics = dict(results["narrow"])
        for variant, m in results.items():
            if variant != "narrow":
                metrics |= {f"{variant}_{k}": v for k, v in m.items()}
        write_model(out / NAME, spec, net, training, metrics)
    return results


def comparison_table(results: dict) -> str:
    """The side-by-side figures as a Markdown table."""
    lines = [
        "| model | parameters | size MB (float16) | held-out Dice mean ± SD | CPU latency ms/image | AUC of FAZ area |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for variant, m in results.items():
        lines.append(
            f"| U-Net x{VARIANTS[variant]:g} ({variant}) | {m['parameters']:,} | {m.get('size_mb', float('nan')):.1f} | "
            f"{m['dice_mean']:.3f} ± {m['dice_sd']:.3f} | {m['latency_ms_per_image']:.0f} | {m['auc_faz_area_glaucoma']:.3f} |"
        )
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs-narrow", type=int, default=DEFAULT_EPOCHS["narrow"])
    p.add_argument("--epochs-full", type=int, default=DEFAULT_EPOCHS["full"])
    p.add_argument("--ship-full", action="store_true", help="also write the full U-Net (62 MB) next to the narrow one")
    p.add_argument("--variants", nargs="*", choices=list(VARIANTS), default=list(VARIANTS))


def main(argv: list[str] | None = None) -> int:
    from study.demo import DEFAULT_SEED

    p = argparse.ArgumentParser(description="train the OCTA FAZ U-Nets (narrow and full) and compare them")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--holdout", type=Path)
    p.add_argument("--out", type=Path, default=Path("resources/models"))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--data-seed", type=int, default=1001)
    p.add_argument("--holdout-seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--n-train", type=int)
    p.add_argument("--n-holdout", type=int)
    p.add_argument("--threads", type=int, default=1)
    add_arguments(p)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = train_octa(
        args.data,
        args.holdout or args.data.with_name(args.data.name + "-holdout"),
        args.out,
        args.data_seed,
        args.holdout_seed,
        args.seed,
        {"narrow": args.epochs_narrow, "full": args.epochs_full},
        args.n_train,
        args.n_holdout,
        args.ship_full,
        tuple(args.variants),
    )
    print(comparison_table(results))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
