"""Shared plumbing of the demo study builders: seeded randomness, opaque case
codes, and writing study.toml, cases.csv and demo.json.

Every random choice derives from ``(seed, study name)`` so two builds with the
same seed are byte-identical and studies do not share random streams.
"""

from __future__ import annotations

import csv
import json
import shutil
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from study.protocol import Protocol, load_protocol, protocol_to_toml

GENERATOR_VERSION = "1.0.0"
DEFAULT_SEED = 20261124

# Demo readers enrolled by `readerstudy demo` in every study: (code, group).
DEMO_READERS: tuple[tuple[str, str], ...] = (
    ("spec1", "specialist"),
    ("spec2", "specialist"),
    ("spec3", "specialist"),
    ("res1", "resident"),
    ("res2", "resident"),
    ("res3", "resident"),
)
DEMO_GROUPS = ("specialist", "resident")
DEMO_PIN = "1234"


def rng_for(seed: int, *names: str | int) -> np.random.Generator:
    """A generator keyed by the seed and a path of names (study, patient, ...)."""
    keys = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(n).encode()) for n in names]
    return np.random.default_rng(keys)


def case_codes(rng: np.random.Generator, n: int, prefix: str = "C") -> list[str]:
    """n distinct opaque codes such as "C017", in random order.

    Drawn from a range ten times larger than n so the codes neither count the
    cases nor follow generation order (which could leak truth).
    """
    width = max(3, len(str(10 * n)))
    numbers = rng.choice(np.arange(1, 10**width), size=n, replace=False)
    return [f"{prefix}{int(k):0{width}d}" for k in numbers]


def exact_labels(rng: np.random.Generator, n: int, fractions: Sequence[float]) -> np.ndarray:
    """Class indices with counts as close to n * fractions as possible, shuffled.

    Exact counts (not independent draws) keep small builds balanced as specified.
    """
    counts = np.floor(np.asarray(fractions) * n).astype(int)
    # Hand out the remainder to the classes with the largest fractional parts.
    rest = n - counts.sum()
    order = np.argsort(-(np.asarray(fractions) * n - counts), kind="stable")
    counts[order[:rest]] += 1
    labels = np.repeat(np.arange(len(fractions)), counts)
    rng.shuffle(labels)
    return labels


def prepare_study_dir(study_dir: Path) -> Path:
    """Create an empty study folder; replace it only if it is an earlier demo build."""
    study_dir = Path(study_dir)
    if study_dir.exists():
        if not study_dir.is_dir():
            raise FileExistsError(f"{study_dir}: exists and is not a folder")
        if any(study_dir.iterdir()) and not (study_dir / "demo.json").is_file():
            raise FileExistsError(f"{study_dir}: folder is not empty and is not a demo study; not overwriting")
        shutil.rmtree(study_dir)
    study_dir.mkdir(parents=True)
    # Mark the folder as a demo build at once, so a build that crashes half-way
    # can still be replaced by the next one; write_demo_json completes it.
    (study_dir / "demo.json").write_text('{"generator": "study.demo", "complete": false}\n', encoding="utf-8")
    return study_dir


def write_protocol(study_dir: Path, protocol: Protocol) -> None:
    (study_dir / "study.toml").write_text(protocol_to_toml(protocol), encoding="utf-8")
    load_protocol(study_dir)  # fail at build time, not at demo time, if the writer and parser disagree


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def write_cases(study_dir: Path, roles: Sequence[str], rows: Sequence[dict]) -> None:
    """cases.csv sorted by the opaque case code, so row order says nothing about truth."""
    rows = sorted(rows, key=lambda r: r["case_id"])
    write_csv(study_dir / "cases.csv", ["case_id", "truth", "patient_id", *roles], rows)


def write_demo_json(study_dir: Path, name: str, seed: int, n: int, **extra) -> None:
    info = {
        "generator": "study.demo",
        "study": name,
        "version": GENERATOR_VERSION,
        "seed": int(seed),
        "n_cases": int(n),
        "complete": True,
        **extra,
    }
    (study_dir / "demo.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def smooth_noise(rng: np.random.Generator, size: int, scale: float) -> np.ndarray:
    """A (size, size) smooth random field with std about 1 and features ~scale pixels wide.

    Drawn on a coarse grid and interpolated up: a Gaussian filter with a wide
    kernel on the full grid costs ten times more for the same look.
    """
    from scipy.ndimage import gaussian_filter, zoom

    coarse = max(int(round(size / scale * 2)), 4)
    field = gaussian_filter(rng.standard_normal((coarse, coarse)), 1.0)
    field = zoom(field, size / coarse, order=1, grid_mode=True, mode="nearest")[:size, :size]
    return (field / (field.std() + 1e-9)).astype(np.float32)
