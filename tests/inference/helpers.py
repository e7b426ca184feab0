"""Shared test helpers: write a spec + weights, synthetic lesion images, a tiny CNN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from inference.network import build_network
from inference.spec import file_sha256, parse_spec


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + str(v) + '"'


def write_spec(
    folder: Path,
    model: dict,
    roles=("image",),
    tables: dict | None = None,
    net: nn.Module | None = None,
    shared: bool = False,
    seed: int = 0,
) -> Path:
    """Write model.toml and one state-dict file per role (random init unless ``net``)."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = tables or {}
    members = []
    for i, role in enumerate(roles):
        name = "weights.pt" if shared else f"{role}.pt"
        if not (shared and i):
            torch.manual_seed(seed + i)
            spec0 = parse_spec(
                {"model": model, "members": [{"role": role, "weights": name, "sha256": "0" * 64}]},
                folder / "model.toml",
                check_files=False,
            )
            torch.save((net or build_network(spec0)).state_dict(), folder / name)
        members.append({"role": role, "weights": name, "sha256": file_sha256(folder / name)})
    lines = ["[model]"] + [f"{k} = {toml_value(v)}" for k, v in model.items()]
    for t, kv in tables.items():
        lines += ["", f"[{t}]"] + [f"{k} = {toml_value(v)}" for k, v in kv.items()]
    for m in members:
        lines += ["", "[[members]]"] + [f"{k} = {toml_value(v)}" for k, v in m.items()]
    path = folder / "model.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def lesion_images(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, size, size) float32 in [0, 1], labels 0/1, lesion boxes (y0, x0, y1, x1) for positives.

    Background: smooth random texture plus noise.  Negatives get a dim decoy
    blob so "any blob" is not the answer; positives get a bright disk (the
    lesion) at a random position, plus the decoy.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    images = np.empty((n, size, size), np.float32)
    labels = rng.integers(0, 2, n)
    boxes = np.zeros((n, 4), int)
    for i in range(n):
        low = rng.normal(0, 1, (size // 8, size // 8))
        bg = np.kron(low, np.ones((8, 8)))[:size, :size] * 0.05 + 0.3 + rng.normal(0, 0.05, (size, size))
        cy, cx = rng.integers(6, size - 6, 2)
        bg += 0.12 * (((yy - cy) ** 2 + (xx - cx) ** 2) <= 9)  # decoy, dim
        if labels[i]:
            r = int(rng.integers(3, 6))
            cy, cx = rng.integers(r + 1, size - r - 1, 2)
            bg += 0.45 * (((yy - cy) ** 2 + (xx - cx) ** 2) <= r * r)
            boxes[i] = (cy - r, cx - r, cy + r, cx + r)
        images[i] = np.clip(bg, 0, 1)
    return images, labels, boxes


def tiny_cnn() -> nn.Module:
    """A small fully convolutional classifier: its last Conv2d is top level (the CAM layer)."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 2),
    )


def train(net: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, lr: float = 3e-3) -> nn.Module:
    torch.manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for start in range(0, len(x), 32):
            idx = perm[start : start + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    return net.eval()
