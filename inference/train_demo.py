"""Train the four demo models on the synthetic demo studies (seeded, CPU, minutes).

    python -m inference.train_demo --data DIR --out resources/models [--only mri cytology] [--seed 7]

``DIR`` holds the training studies ``DIR/<name>`` (built here with
``study.demo`` and ``--data-seed`` when missing).  Held-out performance is
measured on independently generated studies (``--holdout DIR``, built with
``--holdout-seed``, by default the demo's own seed, so the demo that readers
see is data the model never trained on).  Each model's ``model.toml`` records
the data (study, generator version, seed, n), the training seed and settings,
and the held-out metrics.

All four models are torchvision ``mobilenet_v2(width_mult=0.5)`` trained from
scratch (no download), weights stored as float16 state dicts (~1.4 MB each;
loading casts them back to float32) so all six files stay far below 30 MB:

1. mri: one network per sequence (T2axi, T2sag, DWI) on the central slices,
   slice probabilities averaged per series, series averaged (ensemble mean);
2. cytology: 3-class normal / CIN1 / CIN2+;
3. motility: grade distribution A-E from a 3-channel composite of the first
   frame and two frame-difference motion channels, trained on the raters'
   distributions (soft cross-entropy);
4. conjunctiva: hemoglobin regression (standardized target, Huber loss);
5. octa: FAZ segmentation, a channel-narrowed U-Net against the full U-Net
   (``inference.train_segmentation``; ``--only octa``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from inference import train_segmentation
from inference.load import LoadedModel
from inference.network import build_network
from inference.predict import predict
from inference.preprocess import plan_inputs
from inference.spec import ModelSpec, file_sha256, parse_spec

COMMON = {"architecture": "mobilenet_v2", "width_mult": 0.5}
# At 128 px the last block of MobileNetV2 (stride 32) is a 4 x 4 map: too coarse to point at a
# 5-15 mm mass or one abnormal cell.  The last stride-16 block gives 8 x 8 and, on the held-out
# demo data, a much higher pointing-game score (recorded in each model.toml).
CAM_LAYER = "features.13"

# name -> model.toml content (without members/mean/std, which training fills in) and training settings
CONFIG: dict[str, dict] = {
    "mri": {
        "model": {
            "name": "Demo MRI sarcoma vs leiomyoma: MobileNetV2 x0.5 per sequence, mean ensemble",
            "head": "binary",
            "labels": ["leiomyoma", "sarcoma"],
            "input_size": 128,
            "window": "media",
            # The field of view is centred on the uterus; the central half holds the mass with margin.
            "crop": 0.5,
        },
        "tables": {
            "slices": {"select": "central", "count": 5, "cam": "all"},
            "cam": {"method": "gradcam", "target_layer": CAM_LAYER, "target": "sarcoma", "size": 128},
        },
        "roles": ["T2axi", "T2sag", "DWI"],
        "epochs": 12,
        "flips": "lr",
        "n_train": 160,
        # Fixed windows (modality units): the series' own auto window lets a bright mass darken the
        # rest of the image, and the networks then read the background instead of the mass.
        "windows": {"T2axi": [1100.0, 2200.0], "T2sag": [1100.0, 2200.0], "DWI": [400.0, 800.0]},
    },
    "cytology": {
        "model": {
            "name": "Demo cervical cytology normal/CIN1/CIN2+: MobileNetV2 x0.5",
            "head": "multiclass",
            "labels": ["normal", "CIN1", "CIN2+"],
            "positive": ["CIN2+"],
            "input_size": 128,
        },
        "tables": {"cam": {"method": "gradcam", "target_layer": CAM_LAYER, "target": "predicted", "size": 128}},
        "roles": ["photo"],
        "epochs": 16,
        "flips": "all",
        "n_train": 600,
    },
    "motility": {
        "model": {
            "name": "Demo sperm motility grade A-E: MobileNetV2 x0.5 on first frame + motion",
            "head": "grade_distribution",
            "labels": ["A", "B", "C", "D", "E"],
            "input": "motion",
            "input_size": 128,
        },
        "tables": {
            "video": {"key_frames": 1},
            "cam": {"method": "gradcam", "target_layer": CAM_LAYER, "target": "predicted", "size": 128},
        },
        "roles": ["video"],
        "epochs": 20,
        "flips": "all",
        "n_train": 300,
    },
    "conjunctiva": {
        "model": {
            "name": "Demo hemoglobin from conjunctiva photo: MobileNetV2 x0.5 regression",
            "head": "regression",
            "labels": ["hemoglobin"],
            "unit": "g/dL",
            "input_size": 128,
        },
        # Grad-CAM++ points at the lower lid in 68% of held-out photos, Grad-CAM in 44%.
        "tables": {"cam": {"method": "gradcam++", "target_layer": CAM_LAYER, "target": "predicted", "size": 128}},
        "roles": ["photo"],
        "epochs": 20,
        "flips": "lr",
        "n_train": 400,
    },
}


@dataclass
class CaseData:
    case_id: str
    truth: str
    paths: dict[str, str]


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_study(root: Path, name: str, seed: int, n: int | None) -> Path:
    folder = root / name
    if (folder / "cases.csv").is_file():
        return folder
    from study.demo import builder

    _log(f"building {name} (seed {seed}, n {n or 'default'}) in {folder}")
    return builder(name)(folder, seed, n)


def read_cases(study: Path) -> list[CaseData]:
    """The study's cases; a specimen study with a ``fields.csv`` (the cytology demo) gives one
    case per field with the field's own class: the model scores fields, the precompute
    aggregates them per specimen (``inference.specimen``)."""
    from study.cases import load_cases
    from study.protocol import load_protocol

    if (study / "fields.csv").is_file():
        from study.demo.cytology import read_fields

        return [
            CaseData(f["field_id"], f["truth"], {"photo": str((study / f["photo"]).resolve())})
            for f in read_fields(study)
        ]
    return [CaseData(c.case_id, c.truth, dict(c.media)) for c in load_cases(study, load_protocol(study))]


def base_spec(name: str, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), members=None) -> ModelSpec:
    cfg = CONFIG[name]
    members = members or [{"role": r, "weights": f"{r}.pt", "sha256": "0" * 64} for r in cfg["roles"]]
    windows = cfg.get("windows", {})
    members = [{**m, "window": windows[m["role"]]} if m["role"] in windows else m for m in members]
    data = {
        "model": {**COMMON, **cfg["model"], "mean": list(mean), "std": list(std)},
        **cfg["tables"],
        "members": members,
    }
    return parse_spec(data, Path("/nonexistent") / name / "model.toml", check_files=False)


def images_for(spec: ModelSpec, cases: list[CaseData], role: str) -> tuple[torch.Tensor, np.ndarray]:
    """Unnormalized training images of one role (the images the prediction averages) and their case index."""
    from study.media import load

    xs, owner = [], []
    for i, case in enumerate(cases):
        member = next(m for m in spec.members if m.role == role)
        plan = plan_inputs(load(case.paths[role]), spec, member.window)
        xs.append(plan.images[list(plan.predict_index)])
        owner += [i] * len(plan.predict_index)
    return torch.cat(xs), np.array(owner)


def targets(name: str, spec: ModelSpec, cases: list[CaseData]) -> torch.Tensor:
    if spec.head == "binary":
        return torch.tensor([int(c.truth) for c in cases])
    if spec.head == "multiclass":
        return torch.tensor([spec.labels.index(c.truth) for c in cases])
    if spec.head == "grade_distribution":
        return torch.tensor([[float(p) for p in c.truth.split(";")] for c in cases])
    return torch.tensor([float(c.truth) for c in cases])


def augment(x: torch.Tensor, flips: str, gen: torch.Generator) -> torch.Tensor:
    b = x.shape[0]
    if flips in ("lr", "all"):
        m = torch.rand(b, generator=gen) < 0.5
        x = torch.where(m[:, None, None, None], x.flip(-1), x)
    if flips == "all":
        m = torch.rand(b, generator=gen) < 0.5
        x = torch.where(m[:, None, None, None], x.flip(-2), x)
        if torch.rand(1, generator=gen) < 0.5:
            x = x.transpose(-1, -2)
    # Small random shift (up to 1/16 of the image): the lesion can be anywhere.
    dy, dx = (int(v) for v in torch.randint(-x.shape[-1] // 16, x.shape[-1] // 16 + 1, (2,), generator=gen))
    return torch.roll(x, (dy, dx), dims=(-2, -1))


def loss_fn(spec: ModelSpec, out: torch.Tensor, y: torch.Tensor, class_weight: torch.Tensor | None) -> torch.Tensor:
    if spec.head in ("binary", "multiclass"):
        return F.cross_entropy(out, y, weight=class_weight)
    if spec.head == "grade_distribution":
        return -(y * F.log_softmax(out, 1)).sum(1).mean()  # cross-entropy with the raters' distribution
    return F.huber_loss(out[:, 0], y, delta=1.0)


def train_net(spec: ModelSpec, x: torch.Tensor, y: torch.Tensor, epochs: int, flips: str, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = build_network(spec)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * math.ceil(len(x) / 32)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    weight = None
    if spec.head in ("binary", "multiclass"):
        counts = torch.bincount(y, minlength=spec.n_outputs).float()
        weight = counts.sum() / (counts.clamp_min(1) * len(counts))  # balanced classes
    net.train()
    for epoch in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), 32):
            idx = perm[start : start + 32]
            if len(idx) < 2:
                continue  # BatchNorm needs two samples
            opt.zero_grad()
            loss = loss_fn(spec, net(augment(x[idx], flips, gen)), y[idx], weight)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        _log(f"  epoch {epoch + 1}/{epochs} loss {total / len(x):.4f}")
    return net.eval()


# -- metrics -----------------------------------------------------------------


def auc(y: np.ndarray, s: np.ndarray) -> float:
    """Empirical AUC (Mann-Whitney), ties count half."""
    pos, neg = s[y == 1], s[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def metrics_for(spec: ModelSpec, cases: list[CaseData], outs: list) -> dict:
    if spec.head == "binary":
        y = np.array([int(c.truth) for c in cases])
        p = np.array([o.probabilities[1] for o in outs])
        pred = (p >= 0.5).astype(int)
        sens = float((pred[y == 1] == 1).mean())
        spec_ = float((pred[y == 0] == 0).mean())
        return {
            "auc": auc(y, p),
            "accuracy": float((pred == y).mean()),
            "sensitivity": sens,
            "specificity": spec_,
            "ss_avg": (sens + spec_) / 2,
        }
    if spec.head == "multiclass":
        y = np.array([spec.labels.index(c.truth) for c in cases])
        pred = np.array([int(np.argmax(o.probabilities)) for o in outs])
        pos = spec.labels.index("CIN2+")
        binary_y, score = (y == pos).astype(int), np.array([o.probabilities[pos] for o in outs])
        return {
            "accuracy": float((pred == y).mean()),
            "auc_cin2plus": auc(binary_y, score),
            "sensitivity_cin2plus": float((pred[y == pos] == pos).mean()),
            "specificity_cin2plus": float((pred[y != pos] != pos).mean()),
            "confusion": np.bincount(y * 3 + pred, minlength=9).reshape(3, 3).tolist(),
        }
    if spec.head == "grade_distribution":
        t = np.array([[float(v) for v in c.truth.split(";")] for c in cases])
        p = np.array([o.probabilities for o in outs])
        emd = np.abs(np.cumsum(t - p, axis=1)).sum(1)  # earth mover's distance on ordered grades
        k = np.arange(t.shape[1])
        top_t, top_p = t.argmax(1), p.argmax(1)
        return {
            "emd": float(emd.mean()),
            "avg_grade_distance": float(np.abs(t @ k - p @ k).mean()),
            "max_grade_precision_at_1": float((top_t == top_p).mean()),
            "max_grade_precision_at_2": float((np.abs(top_t - top_p) <= 1).mean()),
            "emd_mean_distribution_baseline": float(np.abs(np.cumsum(t - t.mean(0), axis=1)).sum(1).mean()),
        }
    y = np.array([float(c.truth) for c in cases])
    v = np.array([o.value for o in outs])
    return {
        "mae": float(np.abs(v - y).mean()),
        "pearson_r": float(np.corrcoef(v, y)[0, 1]),
        "bias": float((v - y).mean()),
        "mae_mean_baseline": float(np.abs(y - y.mean()).mean()),
        "sd_residual": float((v - y).std()),
    }


def pointing(study: Path, outs: list, shapes: dict[tuple[str, str], tuple[int, int]]) -> float | None:
    """Pointing game on the demo's lesions.csv: the CAM maximum, on the frame with the
    most lesion area, falls inside one of that frame's lesion boxes (one pixel tolerance)."""
    import csv

    path = study / "lesions.csv"
    if not path.is_file():
        return None
    frames: dict[tuple[str, str], dict[int, list]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            box = tuple(int(row[k]) for k in ("row0", "col0", "row1", "col1"))
            frames.setdefault((row["case_id"], row["role"]), {}).setdefault(int(row["frame"]), []).append(box)
    hits = total = 0
    by_id = {o.case_id: o for o in outs}
    for (case_id, role), per_frame in frames.items():
        out = by_id.get(case_id)
        if out is None or role not in out.cams or (case_id, role) not in shapes:
            continue
        frame, boxes = max(per_frame.items(), key=lambda kv: sum((b[2] - b[0]) * (b[3] - b[1]) for b in kv[1]))
        cam = out.cams[role][frame].astype(np.float32)
        h, w = shapes[(case_id, role)]
        sy, sx = cam.shape[0] / h, cam.shape[1] / w
        y, x = np.unravel_index(int(np.argmax(cam)), cam.shape)
        tol = 1.0  # one CAM pixel
        hits += any(
            r0 * sy - tol <= y <= r1 * sy + tol and c0 * sx - tol <= x <= c1 * sx + tol for r0, c0, r1, c1 in boxes
        )
        total += 1
    return hits / total if total else None


# -- writing -----------------------------------------------------------------


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(round(v, 6)) if math.isfinite(v) else '"nan"'
    if isinstance(v, int):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return json.dumps(str(v))


def write_model(
    out: Path, name: str, spec: ModelSpec, nets: dict[str, nn.Module], training: dict, metrics: dict, extra_model: dict
) -> Path:
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    cfg = CONFIG[name]
    members = []
    for role, net in nets.items():
        path = folder / f"{role}.pt"
        half = {k: (v.half() if v.is_floating_point() else v) for k, v in net.state_dict().items()}
        torch.save(half, path)
        members.append({"role": role, "weights": path.name, "sha256": file_sha256(path)})
        if role in cfg.get("windows", {}):
            members[-1]["window"] = cfg["windows"][role]
    model = {**COMMON, **cfg["model"], "mean": list(spec.mean), "std": list(spec.std), **extra_model}
    lines = [
        f"# {model['name']}",
        "# Written by `python -m inference.train_demo`; weights are float16 state dicts.",
        "",
        "[model]",
    ] + [f"{k} = {_toml(v)}" for k, v in model.items()]
    for table, kv in cfg["tables"].items():
        lines += ["", f"[{table}]"] + [f"{k} = {_toml(v)}" for k, v in kv.items()]
    for table, kv in (("training", training), ("metrics", metrics)):
        lines += ["", f"[{table}]"] + [f"{k} = {_toml(v)}" for k, v in kv.items()]
    for m in members:
        lines += ["", "[[members]]"] + [f"{k} = {_toml(v)}" for k, v in m.items()]
    path = folder / "model.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def evaluate(name: str, spec: ModelSpec, nets: dict[str, nn.Module], hold_dir: Path) -> dict:
    """Held-out metrics through the real predict() path, per-sequence AUCs (MRI) and the CAM pointing game."""
    from study.media import load

    hold_cases = read_cases(hold_dir)
    roles = list(spec.roles)
    model = LoadedModel(spec, nets, torch.device("cpu"))
    outs, shapes = [], {}
    for c in hold_cases:
        media = {r: load(c.paths[r]) for r in roles}
        shapes.update({(c.case_id, r): m.frames.shape[1:3] for r, m in media.items()})
        outs.append(predict(model, media, case_id=c.case_id))
    metrics = metrics_for(spec, hold_cases, outs)
    if len(roles) > 1:  # each sequence alone, for the record
        for role in roles:
            single = LoadedModel(
                base_spec(name, spec.mean, spec.std, [{"role": role, "weights": "x.pt", "sha256": "0" * 64}]),
                {role: nets[role]},
                torch.device("cpu"),
            )
            so = [predict(single, {role: load(c.paths[role])}, case_id=c.case_id, cams=False) for c in hold_cases]
            metrics[f"auc_{role}"] = metrics_for(single.spec, hold_cases, so)["auc"]
    if spec.head == "binary":  # the pointing game is defined on positives (the CAM is for the positive label)
        positives = {c.case_id for c in hold_cases if c.truth in ("1", spec.labels[1])}
        outs = [o for o in outs if o.case_id in positives]
    pg = pointing(hold_dir, outs, shapes)
    if pg is not None:
        metrics["cam_pointing_game"] = float(pg)
    metrics["n_holdout"] = len(hold_cases)
    return metrics


def reevaluate(name: str, out: Path, holdout: Path) -> dict:
    """Recompute the held-out metrics of a written model and replace its [metrics] table (weights untouched)."""
    from inference.load import load_model

    path = out / name / "model.toml"
    model = load_model(path)
    metrics = evaluate(name, model.spec, model.nets, holdout / name)
    text = path.read_text()
    head, rest = text.split("\n[metrics]\n", 1)
    tail = rest[rest.index("\n[") if "\n[" in rest else len(rest) :]
    body = "\n".join(f"{k} = {_toml(v)}" for k, v in metrics.items())
    path.write_text(f"{head}\n[metrics]\n{body}\n{tail}")
    _log(f"{name}: held-out {metrics}")
    return metrics


def train_one(
    name: str,
    data: Path,
    holdout: Path,
    out: Path,
    data_seed: int,
    holdout_seed: int,
    seed: int,
    epochs: int | None,
    n_train: int | None,
    n_holdout: int | None,
) -> dict:
    cfg = CONFIG[name]
    t0 = time.time()
    train_dir = ensure_study(data, name, data_seed, n_train or cfg["n_train"])
    hold_dir = ensure_study(holdout, name, holdout_seed, n_holdout)
    train_cases = read_cases(train_dir)
    raw = base_spec(name)
    y = targets(name, raw, train_cases)
    # Normalization from the training images of all roles (per channel).
    images = {role: images_for(raw, train_cases, role) for role in cfg["roles"]}
    allx = torch.cat([x for x, _ in images.values()])
    mean = allx.mean((0, 2, 3)).tolist()
    std = allx.std((0, 2, 3)).clamp_min(1e-3).tolist()
    extra: dict = {}
    y_fit = y
    if raw.head == "regression":
        extra = {"target_mean": float(y.mean()), "target_std": float(y.std())}
        y_fit = (y - y.mean()) / y.std()
    spec = base_spec(name, mean, std)
    ep = epochs or cfg["epochs"]
    nets = {}
    for role, (x, owner) in images.items():
        _log(f"{name}/{role}: {len(x)} training images from {len(train_cases)} cases, {ep} epochs")
        xn = (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)
        nets[role] = train_net(spec, xn, y_fit[owner], ep, cfg["flips"], seed)
    if raw.head == "regression":
        spec = parse_spec(
            {
                "model": {**COMMON, **cfg["model"], "mean": mean, "std": std, **extra},
                **cfg["tables"],
                "members": [{"role": r, "weights": f"{r}.pt", "sha256": "0" * 64} for r in cfg["roles"]],
            },
            spec.path,
            check_files=False,
        )
    train_s = time.time() - t0
    metrics = evaluate(name, spec, nets, hold_dir)
    if raw.head == "regression":
        extra["interval_halfwidth"] = round(1.96 * metrics["sd_residual"], 3)
    training = {
        "data": f"study.demo.build_{name}",
        "data_seed": data_seed,
        "n_train": len(train_cases),
        "holdout_seed": holdout_seed,
        "seed": seed,
        "epochs": ep,
        "optimizer": "AdamW one-cycle lr 3e-3",
        "augmentation": cfg["flips"] + " flips + shift",
        "train_seconds": round(train_s, 1),
        "torch": torch.__version__,
    }
    try:
        import json as _json

        training["generator_version"] = _json.loads((train_dir / "demo.json").read_text()).get("version", "")
    except (OSError, ValueError):
        pass
    path = write_model(out, name, spec, nets, training, metrics, extra)
    _log(f"{name}: wrote {path} in {time.time() - t0:.0f} s; held-out {metrics}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    from study.demo import DEFAULT_SEED

    p = argparse.ArgumentParser(description="train the demo models on the synthetic demo studies")
    p.add_argument("--data", type=Path, required=True, help="training studies DIR/<name> (built if missing)")
    p.add_argument("--holdout", type=Path, help="held-out studies (default: DATA-holdout, built if missing)")
    p.add_argument("--out", type=Path, default=Path("resources/models"))
    p.add_argument("--only", nargs="*", choices=[*CONFIG, "octa"], default=[*CONFIG, "octa"])
    p.add_argument("--seed", type=int, default=7, help="training seed (init, shuffling, augmentation)")
    p.add_argument("--data-seed", type=int, default=1001, help="seed of the generated training studies")
    p.add_argument("--holdout-seed", type=int, default=DEFAULT_SEED, help="seed of the held-out studies")
    p.add_argument("--epochs", type=int)
    p.add_argument("--n-train", type=int)
    p.add_argument("--n-holdout", type=int)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reevaluate", action="store_true", help="only recompute held-out metrics of written models")
    train_segmentation.add_arguments(p.add_argument_group("octa (segmentation)"))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    holdout = args.holdout or args.data.with_name(args.data.name + "-holdout")
    results = {}
    for name in args.only:
        if name == "octa":
            if not args.reevaluate:
                results[name] = train_segmentation.train_octa(
                    args.data,
                    holdout,
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
                print(train_segmentation.comparison_table(results[name]), file=sys.stderr)
            continue
        if args.reevaluate:
            results[name] = reevaluate(name, args.out, holdout)
            continue
        results[name] = train_one(
            name,
            args.data,
            holdout,
            args.out,
            args.data_seed,
            args.holdout_seed,
            args.seed,
            args.epochs,
            args.n_train,
            args.n_holdout,
        )
    print(json.dumps(results, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
