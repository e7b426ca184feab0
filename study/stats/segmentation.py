"""Segmentation overlap: Dice and IoU (Jaccard) of binary masks."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice (1945) = 2|A∩B| / (|A| + |B|); two empty masks agree perfectly (1.0)."""
    a = np.asarray(a).astype(bool)
    b = np.asarray(b).astype(bool)
    s = np.count_nonzero(a) + np.count_nonzero(b)
    return 1.0 if s == 0 else float(2 * np.count_nonzero(a & b) / s)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union (Jaccard 1912) = |A∩B| / |A∪B|; 1.0 for two empty masks."""
    a = np.asarray(a).astype(bool)
    b = np.asarray(b).astype(bool)
    u = np.count_nonzero(a | b)
    return 1.0 if u == 0 else float(np.count_nonzero(a & b) / u)


def overlap_summary(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> dict[str, float | list[float]]:
    """Dice and IoU per case (predicted, reference) and their means."""
    d, j = [], []
    for pred, ref in pairs:
        d.append(dice(pred, ref))
        j.append(iou(pred, ref))
    return {
        "dice": d,
        "iou": j,
        "mean_dice": float(np.mean(d)) if d else float("nan"),
        "mean_iou": float(np.mean(j)) if j else float("nan"),
    }
