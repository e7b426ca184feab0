"""CAM quality on images with a known finding: pointing game and energy inside the finding.

- Pointing game (Zhang et al. 2018, "Top-down neural attention by excitation
  backprop", IJCV 126:1084): a hit when the CAM maximum lies inside the finding
  (boxes, with one CAM pixel of tolerance for the bilinear blur).
- Energy-based pointing game (Wang et al. 2020, "Score-CAM", CVPR workshops,
  sec. 5.2): the share of the CAM's mass (sum of values) inside the finding,
  ``sum(cam * mask) / sum(cam)``; 1 = all heat on the finding.

The findings come from the demo studies' truth side files (never shown to
readers): ``lesions.csv`` boxes (MRI mass per slice, abnormal cytology cells,
the lower palpebral conjunctiva) and ``moving_cells.npz`` (pixels a moving
sperm cell passes, motility).  A CAM is (H, W) float in [0, 1]; boxes are
(row0, col0, row1, col1) in frame pixels, end exclusive.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Finding:
    """Where the CAM of one case and role should be: a frame and a (frame-sized) bool mask."""

    case_id: str
    role: str
    frame: int
    mask: np.ndarray  # (H, W) bool at the frame's size
    boxes: tuple[Box, ...] = ()  # the boxes the mask was drawn from (empty: a free-form mask)


@dataclass(frozen=True)
class CamScore:
    """Per-finding figures: pointing hit and energy share."""

    case_id: str
    role: str
    hit: bool
    energy: float


def boxes_mask(hw: tuple[int, int], boxes: Iterable[Box]) -> np.ndarray:
    mask = np.zeros(hw, bool)
    for r0, c0, r1, c1 in boxes:
        mask[r0:r1, c0:c1] = True
    return mask


def _resize_mask(mask: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a bool mask to ``hw`` (pixel centres)."""
    rows = np.minimum(((np.arange(hw[0]) + 0.5) * mask.shape[0] / hw[0]).astype(int), mask.shape[0] - 1)
    cols = np.minimum(((np.arange(hw[1]) + 0.5) * mask.shape[1] / hw[1]).astype(int), mask.shape[1] - 1)
    return mask[np.ix_(rows, cols)]


def pointing_hit(cam: np.ndarray, finding: Finding, tol: float = 1.0) -> bool:
    """The CAM maximum inside the finding (``tol`` CAM pixels of slack around boxes)."""
    cam = np.asarray(cam, dtype=np.float32)
    y, x = np.unravel_index(int(np.argmax(cam)), cam.shape)
    h, w = finding.mask.shape
    sy, sx = cam.shape[0] / h, cam.shape[1] / w
    if finding.boxes:
        return any(
            r0 * sy - tol <= y + 0.5 <= r1 * sy + tol and c0 * sx - tol <= x + 0.5 <= c1 * sx + tol
            for r0, c0, r1, c1 in finding.boxes
        )
    return bool(_resize_mask(finding.mask, cam.shape)[y, x])


def energy_share(cam: np.ndarray, finding: Finding) -> float:
    """Share of the CAM's mass inside the finding, in [0, 1]; 0 for an all-zero CAM."""
    cam = np.asarray(cam, dtype=np.float64)
    total = cam.sum()
    if total <= 0:
        return 0.0
    return float((cam * _resize_mask(finding.mask, cam.shape)).sum() / total)


def score(cam: np.ndarray, finding: Finding) -> CamScore:
    return CamScore(finding.case_id, finding.role, pointing_hit(cam, finding), energy_share(cam, finding))


def summarize(scores: Sequence[CamScore]) -> dict[str, float]:
    """{"pointing": hit rate, "energy": mean energy share, "n": count} (nan without scores)."""
    if not scores:
        return {"pointing": float("nan"), "energy": float("nan"), "n": 0}
    return {
        "pointing": float(np.mean([s.hit for s in scores])),
        "energy": float(np.mean([s.energy for s in scores])),
        "n": len(scores),
    }


def read_findings(study: Path, frame_hw: dict[tuple[str, str], tuple[int, int]]) -> list[Finding]:
    """The findings of a demo study folder (see module doc).

    ``frame_hw``: (case_id, role) -> frame (H, W), for the masks' size.  With
    several frames per lesion (MRI), the frame with the largest lesion area.
    Raises FileNotFoundError when the study has no truth side file.
    """
    study = Path(study)
    moving = study / "moving_cells.npz"
    if moving.is_file():
        out = []
        with np.load(moving) as npz:
            for (case_id, role), hw in sorted(frame_hw.items()):
                if case_id in npz.files:
                    mask = np.unpackbits(npz[case_id])[: hw[0] * hw[1]].reshape(hw).astype(bool)
                    out.append(Finding(case_id, role, 0, mask))
        return out
    path = study / "lesions.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{study}: no lesions.csv or moving_cells.npz (not a demo study with findings)")
    per: dict[tuple[str, str], dict[int, list[Box]]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            box = tuple(int(row[k]) for k in ("row0", "col0", "row1", "col1"))
            role = row.get("role") or next((r for c, r in frame_hw if c == row["case_id"]), "")
            frame = int(row.get("frame") or 0)
            per.setdefault((row["case_id"], role), {}).setdefault(frame, []).append(box)  # type: ignore[arg-type]
    out = []
    for key, frames in sorted(per.items()):
        if key not in frame_hw:
            continue
        frame, boxes = max(frames.items(), key=lambda kv: sum((b[2] - b[0]) * (b[3] - b[1]) for b in kv[1]))
        out.append(Finding(key[0], key[1], frame, boxes_mask(frame_hw[key], boxes), tuple(boxes)))
    return out
