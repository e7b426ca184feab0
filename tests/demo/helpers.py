"""Shared checks for the demo study tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def auc(scores, labels) -> float:
    """Empirical ROC AUC (ties count half) of scores for binary labels."""
    s, y = np.asarray(scores, float), np.asarray(labels, bool)
    pos, neg = s[y], s[~y]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under folder."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
