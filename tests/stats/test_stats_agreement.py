"""Cohen's and Fleiss' kappa."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohen

from study.stats.agreement import agreement, cohen_kappa, fleiss_kappa

# Fleiss' kappa worked example (10 subjects, 14 raters, 5 categories) as used in
# the Wikipedia article on Fleiss' kappa: P̄ = 0.378, P̄e = 0.213, κ = 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_worked_example():
    assert fleiss_kappa(FLEISS_TABLE) == pytest.approx(0.210, abs=5e-4)


def test_cohen_textbook_example():
    """50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15:
    p_o = 0.70, p_e = 0.50, κ = 0.40."""
    a = np.array([1] * 25 + [0] * 25)
    b = np.array([1] * 20 + [0] * 5 + [1] * 10 + [0] * 15)
    assert cohen_kappa(a, b) == pytest.approx(0.40)
    assert cohen_kappa(a, b) == pytest.approx(sm_cohen(pd.crosstab(a, b).to_numpy())["kappa"])


def test_agreement_over_reads():
    rows = []
    for reader, labels in {"a": [1, 1, 0, 0], "b": [1, 1, 0, 0], "c": [1, 0, 0, 1]}.items():
        rows += [{"reader": reader, "modality": "m", "case": str(i), "decision": v} for i, v in enumerate(labels)]
    res = agreement(pd.DataFrame(rows))
    pairs = {(r["reader_a"], r["reader_b"]): r["kappa"] for r in res["cohen"]}
    assert pairs[("a", "b")] == 1.0
    assert pairs[("a", "c")] == pytest.approx(0.0)
    assert "m" in res["fleiss"]


def test_cohen_uses_every_case_both_read_and_fleiss_cases_all_read():
    rng = np.random.default_rng(4)
    rows = []
    for reader, cases in (("a", range(30)), ("b", range(10, 40)), ("c", range(20, 40))):
        for c in cases:
            rows.append({"modality": "m", "reader": reader, "case": f"c{c}", "decision": int(rng.random() < 0.5)})
    df = pd.DataFrame(rows)
    res = agreement(df)
    wide = df.pivot(index="case", columns="reader", values="decision")
    ab = next(r for r in res["cohen"] if (r["reader_a"], r["reader_b"]) == ("a", "b"))
    both = wide[["a", "b"]].dropna()
    assert ab["n"] == 20 == len(both)
    assert ab["kappa"] == pytest.approx(cohen_kappa(both["a"].to_numpy(), both["b"].to_numpy()))
    assert res["fleiss"]["m"]["n"] == 10 and res["fleiss"]["m"]["n_readers"] == 3
    all_read = wide.dropna().to_numpy()
    counts = np.stack([(all_read == k).sum(axis=1) for k in (0, 1)], axis=1)
    assert res["fleiss"]["m"]["kappa"] == pytest.approx(fleiss_kappa(counts))
