"""Multiclass reads: confusion matrix, one-vs-rest rates, binary collapse."""

from __future__ import annotations

import numpy as np

from study.stats.binary import binary_metrics, confusion, wilson_ci


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, labels: list[str] | None = None) -> dict:
    """Counts[i][j] = cases of true label i called label j (labels in the given or appearance order)."""
    t = np.asarray(truth).astype(str)
    p = np.asarray(predicted).astype(str)
    if labels is None:
        labels = list(dict.fromkeys([*t.tolist(), *p.tolist()]))
    index = {k: i for i, k in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=int)
    np.add.at(m, ([index[v] for v in t], [index[v] for v in p]), 1)
    return {"labels": list(labels), "counts": m.tolist()}


def multiclass_metrics(
    truth: np.ndarray, predicted: np.ndarray, labels: list[str] | None = None, positive: list[str] | None = None
) -> dict:
    """Confusion matrix, overall accuracy (Wilson 1927 CI), per-class one-vs-rest
    sensitivity and specificity, and, if ``positive`` labels are given, the
    binary collapse (e.g. CIN2+ positive vs the rest) with the binary metrics.
    """
    cm = confusion_matrix(truth, predicted, labels)
    m = np.asarray(cm["counts"])
    n = int(m.sum())
    correct = int(np.trace(m))
    per_class = {}
    for i, lab in enumerate(cm["labels"]):
        tp = int(m[i, i])
        fn = int(m[i].sum() - tp)
        fp = int(m[:, i].sum() - tp)
        tn = n - tp - fn - fp
        per_class[lab] = _ovr(tp, fn, tn, fp)
    out = {
        **cm,
        "accuracy": correct / n if n else float("nan"),
        "accuracy_ci95": list(wilson_ci(correct, n)),
        "per_class": per_class,
    }
    if positive:
        pos = set(positive)
        t = np.isin(np.asarray(truth).astype(str), list(pos))
        p = np.isin(np.asarray(predicted).astype(str), list(pos))
        out["binary_collapse"] = {"positive": sorted(pos), **binary_metrics(confusion(t, p))}
    return out


def _ovr(tp: int, fn: int, tn: int, fp: int) -> dict:
    sens = tp / (tp + fn) if tp + fn else float("nan")
    spec = tn / (tn + fp) if tn + fp else float("nan")
    return {
        "tp": tp,
        "fn": fn,
        "tn": tn,
        "fp": fp,
        "sensitivity": sens,
        "sensitivity_ci95": list(wilson_ci(tp, tp + fn)),
        "specificity": spec,
        "specificity_ci95": list(wilson_ci(tn, tn + fp)),
    }
