"""Numeric reads (e.g. haemoglobin in g/dL): error, correlation and agreement."""

from __future__ import annotations

import numpy as np
from scipy import stats


def mae(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(predicted, float) - np.asarray(truth, float))))


def rmse(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(predicted, float) - np.asarray(truth, float)) ** 2)))


def pearson(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> dict[str, float | list[float]]:
    """Pearson r with the Fisher (1915) z-transform CI: tanh(atanh r ± z/√(n-3))."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = len(x)
    r, p = stats.pearsonr(x, y)
    r = float(r)
    z = float(stats.norm.ppf(0.5 + level / 2))
    if n > 3 and abs(r) < 1:
        half = z / np.sqrt(n - 3)
        ci = [float(np.tanh(np.arctanh(r) - half)), float(np.tanh(np.arctanh(r) + half))]
    else:
        ci = [float("nan"), float("nan")]
    return {"r": r, "r_ci95": ci, "p": float(p), "n": n}


def bland_altman(a: np.ndarray, b: np.ndarray, z: float = 1.96) -> dict[str, float | list[float]]:
    """Bland & Altman (1986) agreement of two methods measuring the same quantity.

    Differences d = a - b: bias = mean(d), SD = sd(d) (n - 1), limits of
    agreement bias ± z·SD (z = 1.96; the 1986 paper rounded to 2).  The
    standard errors of the bias and of each limit are √(s²/n) and
    √(3s²/n), giving their t-based 95% CIs (same paper).
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    d = a - b
    n = len(d)
    bias = float(d.mean())
    # One pair has no spread: the limits are undefined (NaN), not a NumPy warning.
    sd = float(d.std(ddof=1)) if n > 1 else float("nan")
    q = float(stats.t.ppf(0.975, n - 1)) if n > 1 else float("nan")
    se_bias = sd / np.sqrt(n)
    se_loa = np.sqrt(3 * sd**2 / n)
    lo, hi = bias - z * sd, bias + z * sd
    return {
        "n": n,
        "bias": bias,
        "bias_ci95": [float(bias - q * se_bias), float(bias + q * se_bias)],
        "sd": sd,
        "loa": [lo, hi],
        "loa_lower_ci95": [float(lo - q * se_loa), float(lo + q * se_loa)],
        "loa_upper_ci95": [float(hi - q * se_loa), float(hi + q * se_loa)],
        "mean_of_methods": ((a + b) / 2).tolist(),
        "differences": d.tolist(),
    }


def numeric_summary(truth: np.ndarray, predicted: np.ndarray) -> dict:
    """MAE, RMSE, Pearson r with CI and Bland-Altman (predicted - truth)."""
    ba = bland_altman(predicted, truth)
    return {
        "mae": mae(truth, predicted),
        "rmse": rmse(truth, predicted),
        **pearson(truth, predicted),
        "bland_altman": {k: v for k, v in ba.items() if k not in ("mean_of_methods", "differences")},
    }
