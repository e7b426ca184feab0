"""Statistics speed: ``python -m tests.benchmarks.stats`` prints one JSON line.

The full ``analyze()`` (per-reader rates with Wilson CIs and DeLong AUCs,
group means, McNemar, OR-Hillis with jackknife covariances for AUC,
sensitivity and specificity incl. fixed-reader/fixed-case variants, sample
size table, kappas, switching with the AI) of a simulated study with
10 readers x 500 cases x 2 modalities.  Budget (DESIGN.md): <= 1 s.  Reports
the median of 5 timed runs after one warm-up; a benchmark, not a test.
"""

from __future__ import annotations

import json
import statistics
import time

READERS, CASES, BUDGET = 10, 500, 1.0


def main() -> None:
    from study.stats.analysis import analyze
    from study.stats.simulate import generic, simulate

    reads, ai = simulate(generic(n_readers=READERS, n_cases=CASES), seed=1)
    analyze(reads, ai=ai)  # warm-up: imports, caches
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        analyze(reads, ai=ai)
        times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    print(
        json.dumps(
            {
                "benchmark": "stats",
                "readers": READERS,
                "cases": CASES,
                "modalities": 2,
                "seconds": round(seconds, 4),
                "min_seconds": round(min(times), 4),
                "budget_seconds": BUDGET,
                "within_budget": seconds <= BUDGET,
            }
        )
    )


if __name__ == "__main__":
    main()
