"""Invariants of the OR-Hillis analysis (hypothesis)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from study.stats.mrmc import mrmc
from study.stats.table import normalise_reads, with_decisions


def study(seed: int, readers: int = 4, cases: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = np.r_[np.ones(cases // 2, int), np.zeros(cases - cases // 2, int)]
    z = rng.normal(size=cases)
    rows = []
    for m, shift in (("A", 1.0), ("B", 1.4)):
        for j in range(readers):
            score = truth * (shift + 0.2 * j) + 0.6 * z + rng.normal(size=cases)
            rating = np.clip(np.round(score + 2.5), 1, 5).astype(int)
            rows += [
                {"reader": f"r{j}", "modality": m, "case": f"c{c}", "truth": int(truth[c]), "rating": int(rating[c])}
                for c in range(cases)
            ]
    return pd.DataFrame(rows)


def prep(df):
    return with_decisions(normalise_reads(df), 3)[0]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["auc", "sensitivity", "specificity"]))
def test_swapping_modalities_negates_difference(seed, fom):
    df = study(seed)
    a = mrmc(prep(df), fom)
    swapped = pd.concat([df[df.modality == "B"], df[df.modality == "A"]])
    b = mrmc(prep(swapped), fom)
    assert b["modalities"] == ["B", "A"]
    assert b["difference"] == pytest.approx(-a["difference"], abs=1e-12)
    assert b["ci95"] == pytest.approx([-a["ci95"][1], -a["ci95"][0]], abs=1e-12)
    for k in ("f", "df2", "p"):
        assert b[k] == pytest.approx(a[k], rel=1e-9, nan_ok=True)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.randoms(use_true_random=False))
def test_permuting_rows_changes_nothing(seed, rnd):
    df = study(seed)
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = df.iloc[order]
    # Keep the modality order of the original (order of first appearance defines "first").
    mods = ["A", "B"]
    a = mrmc(prep(df), "auc", modalities=mods)
    b = mrmc(prep(shuffled), "auc", modalities=mods)
    for k in ("difference", "se", "f", "df2", "p"):
        assert b[k] == pytest.approx(a[k], rel=1e-9)
    assert b["variance_components"] == pytest.approx(a["variance_components"], rel=1e-9)


def test_more_than_two_modalities_gives_all_pairs():
    df = study(3)
    third = df[df.modality == "B"].assign(modality="C", rating=lambda d: np.clip(d.rating + 1, 1, 5))
    res = mrmc(prep(pd.concat([df, third])), "auc")
    assert res["df1"] == 2
    assert [p["comparison"] for p in res["pairwise"]] == ["A - B", "A - C", "B - C"]


def test_a_case_not_read_by_everyone_keeps_every_case_with_unbiased_covariance():
    df = study(4)
    partial = df[~((df.reader == "r0") & (df.case == "c0"))]
    res = mrmc(prep(partial), "auc")
    assert res["n_cases"] == 40
    assert res["design"] == "partially paired" and res["covariance"] == "unbiased"
    assert any("U-statistic" in n for n in res["notes"])
