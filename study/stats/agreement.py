"""Inter-reader agreement: Cohen's kappa (two readers) and Fleiss' kappa (many)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen (1960) kappa: (p_o - p_e) / (1 - p_e) for two raters' labels of the same items.

    p_o is the observed agreement, p_e the agreement expected from the two
    raters' marginal label frequencies.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    labels = np.unique(np.concatenate([a, b]))
    po = float(np.mean(a == b))
    pe = float(sum(np.mean(a == k) * np.mean(b == k) for k in labels))
    return (po - pe) / (1 - pe) if pe < 1 else float("nan")


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss (1971) kappa from an items x categories table of rating counts.

    Every item is rated by the same number n of raters.  With
    P_i = (Σ_j n_ij² - n) / (n(n-1)), P̄ = mean P_i, p_j = Σ_i n_ij / (N n)
    and P̄_e = Σ_j p_j²: κ = (P̄ - P̄_e) / (1 - P̄_e).
    """
    x = np.asarray(counts, dtype=float)
    n = x.sum(axis=1)
    if not np.allclose(n, n[0]):
        raise ValueError("Fleiss' kappa needs the same number of ratings per item")
    n = n[0]
    p_i = ((x**2).sum(axis=1) - n) / (n * (n - 1))
    p_bar = p_i.mean()
    p_j = x.sum(axis=0) / x.sum()
    pe = float((p_j**2).sum())
    return float((p_bar - pe) / (1 - pe)) if pe < 1 else float("nan")


def agreement(df: pd.DataFrame, column: str = "decision") -> dict:
    """Cohen's kappa per reader pair and Fleiss' kappa per modality, on ``column`` labels, each with its n.

    Cohen's kappa of a pair uses every case both readers read in the modality
    (``n``); Fleiss' kappa uses the cases every reader of the modality read
    (``fleiss[modality] = {"kappa", "n", "n_readers"}``).  A statistic with
    fewer than two cases is NaN with a ``reason``.
    """
    out: dict = {"cohen": [], "fleiss": {}}
    for mod, sub in df.groupby("modality", sort=False):
        wide = sub.pivot(index="case", columns="reader", values=column)
        readers = [str(r) for r in pd.unique(sub["reader"]) if r in wide.columns]
        values = wide[readers].to_numpy(float)
        seen = ~np.isnan(values)
        for i, ra in enumerate(readers):
            for j in range(i + 1, len(readers)):
                rb = readers[j]
                both = seen[:, i] & seen[:, j]
                n = int(both.sum())
                kappa = cohen_kappa(values[both, i], values[both, j]) if n >= 2 else float("nan")
                row = {"modality": str(mod), "reader_a": ra, "reader_b": rb, "kappa": kappa, "n": n}
                if n < 2:
                    row["reason"] = f"the two readers share {n} case(s)"
                elif math.isnan(kappa):
                    row["reason"] = "both readers gave one and the same answer to every case"
                out["cohen"].append(row)
        if len(readers) >= 2:
            all_read = values[seen.all(axis=1)]
            block = {"n": len(all_read), "n_readers": len(readers), "kappa": float("nan")}
            if len(all_read) >= 2:
                labels = np.unique(all_read)
                counts = np.stack([(all_read == k).sum(axis=1) for k in labels], axis=1)
                block["kappa"] = fleiss_kappa(counts)
                if math.isnan(block["kappa"]):
                    block["reason"] = "every reader gave one and the same answer to every case"
            else:
                block["reason"] = f"{len(all_read)} case(s) read by all {len(readers)} readers"
            out["fleiss"][str(mod)] = block
    return out
