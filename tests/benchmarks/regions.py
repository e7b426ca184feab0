"""Region statistics speed: ``python -m tests.benchmarks.regions`` prints one JSON line.

``analyze_regions`` (Dice, IoU, HD95, areas, Bland-Altman, inter-reader Dice,
Wilcoxon per reader, DeLong AUCs of area) for 6 readers x 120 OCTA-sized
(304 x 304) cases x 2 modes plus the AI, and, as the baseline measured in the
same run, plain Dice of the same mask pairs (the least any analysis does).
Median of 3 timed runs after one warm-up; a benchmark, not a test.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np


def _median(fn, runs: int = 3) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    from study.region import RegionRead
    from study.stats.regions import analyze_regions, dice

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:304, :304]
    truth, labels, ai, reads = {}, {}, {}, []
    for i in range(120):
        r = rng.normal(30 + 6 * (i % 2), 4)
        case = f"C{i:03d}"
        truth[case], labels[case] = np.hypot(yy - 152, xx - 152) < r, i % 2
        ai[case] = (np.hypot(yy - 153, xx - 152) < r + rng.normal(0, 1)).astype(np.float32)[None]
        for k in range(6):
            for mode in ("unaided", "aided"):
                m = np.hypot(yy - 152 - rng.normal(0, 2), xx - 152) < r + rng.normal(0, 2)
                reads.append(RegionRead(f"r{k}", "g", 1, mode, case, m, (0.00987, 0.00987), None, 0, 0, None))
    full = _median(lambda: analyze_regions(reads, truth, labels, ai, (0.00987, 0.00987)))
    base = _median(lambda: [dice(r.mask, truth[r.case_id]) for r in reads])
    print(
        json.dumps(
            {
                "reads": len(reads),
                "analyze_regions_s": round(full, 3),
                "dice_only_s": round(base, 3),
                "ratio": round(full / base, 1),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
