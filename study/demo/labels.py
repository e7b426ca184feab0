"""Read the truth side files a demo build writes, for training demo models and
checking CAMs:

- ``lesions.csv``: where the evidence is, per case, role and frame, as a pixel
  box ``(row0, col0, row1, col1)`` with exclusive ends in that medium's own
  pixel grid.  MRI: the mass on every slice it crosses (frame = position in the
  media layer's slice order); cytology: the most atypical nuclei; conjunctiva:
  the lower palpebral conjunctiva.  Motility has none (motion is everywhere).
- ``latent.csv``: the generating parameters per case (e.g. exact haemoglobin,
  the true motility grade, the mass's DWI signal).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Box:
    case_id: str
    role: str
    frame: int
    row0: int
    col0: int
    row1: int
    col1: int

    def contains(self, row: float, col: float) -> bool:
        return self.row0 <= row < self.row1 and self.col0 <= col < self.col1


def read_lesions(study_dir: str | Path) -> dict[tuple[str, str], list[Box]]:
    """(case_id, role) -> boxes in frame order; cases without a lesion are absent."""
    path = Path(study_dir) / "lesions.csv"
    out: dict[tuple[str, str], list[Box]] = {}
    if not path.is_file():
        return out
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            box = Box(
                r["case_id"], r["role"], int(r["frame"]), int(r["row0"]), int(r["col0"]), int(r["row1"]), int(r["col1"])
            )
            out.setdefault((box.case_id, box.role), []).append(box)
    for boxes in out.values():
        boxes.sort(key=lambda b: b.frame)
    return out


def read_latent(study_dir: str | Path) -> dict[str, dict[str, str]]:
    """case_id -> the generating parameters of that case (strings, as written)."""
    path = Path(study_dir) / "latent.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["case_id"]: r for r in csv.DictReader(fh)}
