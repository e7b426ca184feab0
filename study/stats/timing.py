"""Reading-time quality control: reads too fast to be real reading.

A read shorter than a floor (the protocol's, default 2 s) is more likely a
slip of the keyboard or a reader clicking through than a diagnosis; such reads
are counted per reader so a study monitor can ask about them before the
analysis is final.  The floor is a plausibility check, not a statistic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_FLOOR_SECONDS = 2.0


def reading_time_qc(df: pd.DataFrame, floor_seconds: float = DEFAULT_FLOOR_SECONDS, max_cases: int = 10) -> dict:
    """Per reader: reads, timed reads, median seconds, reads below ``floor_seconds``.

    ``df``: reads with ``reader``, ``modality``, ``case`` and (optionally)
    ``seconds``.  Returns ``{"floor_seconds", "readers": [{"reader", "n",
    "n_timed", "median_seconds", "n_fast", "fast_fraction", "fast_reads"}],
    "n_fast"}``; ``fast_reads`` lists up to ``max_cases`` as "case (modality,
    s)".  Without a ``seconds`` column every reader has ``n_timed`` 0.
    """
    rows = []
    has_time = "seconds" in df.columns
    for reader, sub in df.groupby("reader", sort=False):
        secs = sub["seconds"].to_numpy(float) if has_time else np.full(len(sub), np.nan)
        timed = np.isfinite(secs)
        fast = timed & (secs < floor_seconds)
        examples = [f"{c} ({m}, {s:.1f} s)" for c, m, s in zip(sub["case"][fast], sub["modality"][fast], secs[fast])]
        rows.append(
            {
                "reader": str(reader),
                "n": len(sub),
                "n_timed": int(timed.sum()),
                "median_seconds": float(np.median(secs[timed])) if timed.any() else float("nan"),
                "n_fast": int(fast.sum()),
                "fast_fraction": float(fast.sum() / timed.sum()) if timed.any() else float("nan"),
                "fast_reads": examples[:max_cases],
            }
        )
    return {"floor_seconds": float(floor_seconds), "readers": rows, "n_fast": int(sum(r["n_fast"] for r in rows))}
