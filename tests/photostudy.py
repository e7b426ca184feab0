"""A small study folder of real photos (scikit-image's ``camera.png``) for tests that need a
study on disk: ``study.toml`` from a ``Protocol``, ``cases.csv`` and the media copied in."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from study.protocol import HangingProtocol, Protocol, Task, protocol_to_toml


def write_photo_study(
    root: Path,
    *,
    n_cases: int = 8,
    design: str = "sequential",
    seed: int = 7,
    washout_days: int = 28,
    task: Task | None = None,
    name: str = "spine-test",
    title: str = "Spine test",
    case_id: Callable[[int], str] = lambda i: f"K{i:03d}",
    truth: Callable[[int], int] = lambda i: i % 2,
    patient_id: Callable[[int], str] = lambda i: f"P{i // 2}",
) -> Path:
    """``n_cases`` cases of one ``photo`` role, groups specialist and resident; case i is
    ``case_id(i)`` with ``truth(i)`` of patient ``patient_id(i)``."""
    import skimage

    root.mkdir(parents=True, exist_ok=True)
    media = root / "media"
    media.mkdir(exist_ok=True)
    src = Path(skimage.data_dir) / "camera.png"
    task = task or Task("binary", "Lesion present?", labels=("absent", "present"))
    protocol = Protocol(
        name,
        title,
        design,
        seed,
        task,
        HangingProtocol(("photo",)),
        washout_days=washout_days,
        groups=("specialist", "resident"),
    )
    (root / "study.toml").write_text(protocol_to_toml(protocol))
    lines = ["case_id,truth,patient_id,photo"]
    for i in range(n_cases):
        cid = case_id(i)
        shutil.copy(src, media / f"{cid}.png")
        lines.append(f"{cid},{truth(i)},{patient_id(i)},media/{cid}.png")
    (root / "cases.csv").write_text("\n".join(lines) + "\n")
    return root
