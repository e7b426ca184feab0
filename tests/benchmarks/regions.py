"""Region statistics speed: ``python -m tests.benchmarks.regions`` prints one JSON line.

``analyze_regions`` (Dice, IoU, HD95, areas, Bland-Altman, inter-reader Dice,
Wilcoxon per reader, DeLong AUCs of area) for 6 readers x 120 OCTA-sized
(304 x 304) cases x 2 modes plus the AI, and, as the baseline measured in the
same run, plain Dice of the same mask pairs (the least any analysis does);
then a series study scored in 3-D (2 readers x 20 MR-sized (40 x 256 x 256)
series x 2 modes, 3 x 0.7 x 0.7 mm voxels, lesions 10-20 mm in radius) against
the same study taken slice by slice.  Median of 3 timed runs after one warm-up;
a benchmark, not a test.
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
    voxel = (3.0, 0.7, 0.7)
    zz, yy3, xx3 = np.ogrid[:40, :256, :256]

    def lesion(cz: float, cy: float, radius: float) -> np.ndarray:
        return ((zz - cz) * voxel[0]) ** 2 + ((yy3 - cy) * voxel[1]) ** 2 + ((xx3 - 128) * voxel[2]) ** 2 <= radius**2

    s_truth, s_reads = {}, []
    for i in range(20):
        case, radius = f"S{i:02d}", rng.uniform(10, 20)
        s_truth[case] = lesion(20, 128, radius)
        for k in range(2):
            for mode in ("unaided", "aided"):
                m = lesion(20 + rng.normal(0, 0.7), 128 + rng.normal(0, 2), radius + rng.normal(0, 1))
                s_reads.append(RegionRead(f"r{k}", "g", 1, mode, case, m, voxel[1:], None, 0, 0, None))
    voxels = {c: voxel for c in s_truth}
    series_3d = _median(lambda: analyze_regions(s_reads, s_truth, voxel_mm=voxels))
    series_2d = _median(lambda: analyze_regions(s_reads, s_truth, spacing_mm=voxel[1:]))
    print(
        json.dumps(
            {
                "reads": len(reads),
                "analyze_regions_s": round(full, 3),
                "dice_only_s": round(base, 3),
                "ratio": round(full / base, 1),
                "series_reads": len(s_reads),
                "series_3d_s": round(series_3d, 3),
                "series_per_slice_s": round(series_2d, 3),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
