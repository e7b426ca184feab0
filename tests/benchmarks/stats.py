"""Statistics speed: ``python -m tests.benchmarks.stats`` prints one JSON line.

The full ``analyze()`` (per-reader rates with Wilson CIs and DeLong AUCs,
group means, McNemar, OR-Hillis for AUC, sensitivity and specificity incl.
fixed-reader/fixed-case variants, sample size table, kappas, reading-time QC,
switching with the AI) of a simulated study with 10 readers x 500 cases x 2
modalities, timed twice: with the jackknife covariances and with the unbiased
U-statistic covariances (Gallas 2006; ``cov='unbiased'``, the estimator used
for split-plot and partially paired designs).  Budget (DESIGN.md): <= 1 s each.
Baseline measured in the same run: the 20 per-reader empirical AUCs with
``scipy.stats.mannwhitneyu`` (the least any analysis must do); the JSON gives
each time as a ratio to it.  Median of 5 timed runs after one warm-up; a
benchmark, not a test.
"""

from __future__ import annotations

import json
import statistics
import time

READERS, CASES, BUDGET = 10, 500, 1.0


def _median_time(fn, runs: int = 5) -> tuple[float, float]:
    fn()  # warm-up: imports, caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main() -> None:
    from scipy import stats

    from study.stats.analysis import analyze
    from study.stats.simulate import generic, simulate

    reads, ai = simulate(generic(n_readers=READERS, n_cases=CASES), seed=1)

    def baseline() -> None:
        for _, sub in reads.groupby(["reader", "modality"]):
            pos = sub["rating"][sub["truth"] == 1]
            neg = sub["rating"][sub["truth"] == 0]
            stats.mannwhitneyu(pos, neg)

    base, _ = _median_time(baseline)
    jack, jack_min = _median_time(lambda: analyze(reads, ai=ai))
    ustat, ustat_min = _median_time(lambda: analyze(reads, ai=ai, cov="unbiased"))
    print(
        json.dumps(
            {
                "benchmark": "stats",
                "readers": READERS,
                "cases": CASES,
                "modalities": 2,
                "seconds": round(jack, 4),
                "min_seconds": round(jack_min, 4),
                "seconds_unbiased_covariance": round(ustat, 4),
                "min_seconds_unbiased_covariance": round(ustat_min, 4),
                "baseline_seconds_mannwhitney_aucs": round(base, 4),
                "ratio_to_baseline": round(jack / base, 1),
                "ratio_unbiased_to_baseline": round(ustat / base, 1),
                "budget_seconds": BUDGET,
                "within_budget": max(jack, ustat) <= BUDGET,
            }
        )
    )


if __name__ == "__main__":
    main()
