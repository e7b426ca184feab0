"""The simulator reproduces the uterine sarcoma study's published group means."""

import numpy as np
import pytest

from study.stats.analysis import analyze
from study.stats.simulate import generic, simulate, uterine_sarcoma

# /work/shared/DESIGN.md study 1 (group means, proportions).  The AI's published
# accuracy (90.3%) is not consistent with its sens/spec on 63/200 cases
# ((63·0.887 + 200·0.940)/263 = 92.7%), so only its sens and spec are checked.
PUBLISHED = {
    ("specialist", "unaided"): {"accuracy": 0.882, "sensitivity": 0.710, "specificity": 0.938},
    ("resident", "unaided"): {"accuracy": 0.801, "sensitivity": 0.476, "specificity": 0.915},
    ("resident", "aided"): {"accuracy": 0.922, "sensitivity": 0.876, "specificity": 0.937},
    ("AI", "standalone"): {"sensitivity": 0.887, "specificity": 0.940},
}
N_POS, N_NEG = 63, 200


def group_se(p: float, n: int, k: int, rho: float) -> float:
    """Binomial SE of the mean of k readers' proportions over n cases.

    Readers share the case effect; the latent correlation ρ bounds the
    correlation of their decisions, so the design effect 1 + (k-1)ρ is
    conservative.
    """
    return float(np.sqrt(p * (1 - p) / n * (1 + (k - 1) * rho) / k))


def se_for(key, metric, p, rho):
    k = 1 if key[0] == "AI" else 3
    if metric == "sensitivity":
        return group_se(p, N_POS, k, rho)
    if metric == "specificity":
        return group_se(p, N_NEG, k, rho)
    sens, spec = PUBLISHED[key]["sensitivity"], PUBLISHED[key]["specificity"]
    var = (N_POS**2 * group_se(sens, N_POS, k, rho) ** 2 + N_NEG**2 * group_se(spec, N_NEG, k, rho) ** 2) / (
        N_POS + N_NEG
    ) ** 2
    return float(np.sqrt(var))


def test_preset_design():
    spec = uterine_sarcoma()
    assert (spec.n_positive, spec.n_negative) == (63, 200)
    assert [r.group for r in spec.readers] == ["specialist"] * 3 + ["resident"] * 3


def test_one_seed_within_three_standard_errors():
    spec = uterine_sarcoma()
    reads, ai = simulate(spec, seed=20261124)
    res = analyze(reads, ai=ai, sample_size=False)
    groups = {(g["group"], g["modality"]): g for g in res["groups"]}
    for key, metrics in PUBLISHED.items():
        for metric, target in metrics.items():
            tol = 3 * se_for(key, metric, target, spec.correlation)
            assert groups[key][metric] == pytest.approx(target, abs=tol), (key, metric)


def test_unbiased_over_many_seeds():
    """Averaged over 40 seeds the SE shrinks by √40: still within 3 SE.

    Accuracy is fixed by sens and spec on 63/200 cases, (63·sens + 200·spec)/263;
    for residents unaided that is 81.0%, not the published 80.1% (a 0.9-point
    inconsistency in the source), so the long-run check uses the implied value.
    """
    spec = uterine_sarcoma()
    seeds = range(40)
    sums: dict = {}
    for seed in seeds:
        reads, ai = simulate(spec, seed=seed)
        for key in PUBLISHED:
            if key[0] == "AI":
                t, d = reads.drop_duplicates("case")["truth"].to_numpy(), ai["ai_decision"].to_numpy()
            else:
                sub = reads[(reads.group == key[0]) & (reads.modality == key[1])]
                t, d = sub["truth"].to_numpy(), sub["decision"].to_numpy()
            vals = {"sensitivity": d[t == 1].mean(), "specificity": 1 - d[t == 0].mean(), "accuracy": (d == t).mean()}
            for metric in PUBLISHED[key]:
                sums[(key, metric)] = sums.get((key, metric), 0.0) + vals[metric] / len(seeds)
    for (key, metric), mean in sums.items():
        target = PUBLISHED[key][metric]
        if metric == "accuracy":
            target = (N_POS * PUBLISHED[key]["sensitivity"] + N_NEG * PUBLISHED[key]["specificity"]) / (N_POS + N_NEG)
        tol = 3 * se_for(key, metric, target, spec.correlation) / np.sqrt(len(seeds))
        assert mean == pytest.approx(target, abs=tol), (key, metric)


def test_seeded_and_deterministic():
    a, ai_a = simulate(generic(n_readers=4, n_cases=50), seed=7)
    b, ai_b = simulate(generic(n_readers=4, n_cases=50), seed=7)
    c, _ = simulate(generic(n_readers=4, n_cases=50), seed=8)
    assert a.equals(b) and ai_a.equals(ai_b)
    assert not a.equals(c)
    assert set(a.columns) >= {"reader", "modality", "case", "truth", "rating", "decision", "group", "seconds"}
    assert len(a) == 4 * 50 * 2


def test_aided_reads_follow_the_ai():
    reads, ai = simulate(uterine_sarcoma(), seed=1)
    res = analyze(reads, ai=ai, sample_size=False)
    assert res["switching"]["total"]["automation_bias"]["followed"] > 0
