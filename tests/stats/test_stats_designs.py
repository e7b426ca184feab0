"""Designs that are not fully crossed, the unbiased covariance, fixed-reader corrections, 3 modalities.

Every expected value comes from a straightforward reference implementation in
this file (loops over cases, written from the papers' definitions), never from
the code under test.
"""

from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from study.stats import ustat
from study.stats.analysis import analyze
from study.stats.mrmc import mrmc, or_hillis
from study.stats.table import normalise_reads, with_decisions

ROOT = Path(__file__).resolve().parents[2]
# ../shared/fieldcases beside the repository (a helper's worktree sits one level deeper).
FIELD = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT.parent / "shared")


def field(name: str) -> pd.DataFrame:
    path = FIELD / "fieldcases" / "stats" / name
    assert path.is_file(), f"field case missing: {path}"  # fail, never skip
    return pd.read_csv(path)


# -- reference implementations (loops, from the definitions) ----------------
def kernel(x: float, y: float) -> float:
    return 1.0 if x > y else 0.5 if x == y else 0.0


def ref_auc_cov(truth, ratings, read):
    """Gallas (2006) / Gallas & Brown (2008) unbiased covariance, moment by moment, with explicit loops."""
    pos = [c for c in range(len(truth)) if truth[c] == 1]
    neg = [c for c in range(len(truth)) if truth[c] == 0]
    k = ratings.shape[0]
    auc = np.zeros(k)
    for a in range(k):
        pairs = [(i, j) for i in pos for j in neg if read[a, i] and read[a, j]]
        auc[a] = np.mean([kernel(ratings[a, i], ratings[a, j]) for i, j in pairs])
    cov = np.zeros((k, k))
    for a, b in product(range(k), repeat=2):
        sums = np.zeros(4)
        counts = np.zeros(4)
        pa = [(i, j) for i in pos for j in neg if read[a, i] and read[a, j]]
        pb = [(i, j) for i in pos for j in neg if read[b, i] and read[b, j]]
        for i, j in pa:
            sa = kernel(ratings[a, i], ratings[a, j])
            for i2, j2 in pb:
                kind = (0 if j == j2 else 1) if i == i2 else (2 if j == j2 else 3)
                sums[kind] += sa * kernel(ratings[b, i2], ratings[b, j2])
                counts[kind] += 1
        m = np.divide(sums, counts, out=np.zeros(4), where=counts > 0)
        cov[a, b] = (counts[0] * (m[0] - m[3]) + counts[1] * (m[1] - m[3]) + counts[2] * (m[2] - m[3])) / counts.sum()
    return auc, cov


def ref_or(theta, s, fixed="hillis"):
    """OR-Hillis statistics written out from Hillis (2007), loops over reader pairs."""
    t, r = theta.shape

    def c(i, j):
        return i * r + j

    var = np.mean([s[c(i, j), c(i, j)] for i in range(t) for j in range(r)])
    cov1 = np.mean([s[c(i, j), c(k, j)] for i in range(t) for k in range(t) if i != k for j in range(r)])
    cov2 = np.mean([s[c(i, j), c(i, jj)] for i in range(t) for j in range(r) for jj in range(r) if j != jj])
    cov3 = np.mean(
        [
            s[c(i, j), c(k, jj)]
            for i in range(t)
            for k in range(t)
            if i != k
            for j in range(r)
            for jj in range(r)
            if j != jj
        ]
    )
    mi, m = theta.mean(axis=1), theta.mean()
    ms_t = r * np.sum((mi - m) ** 2) / (t - 1)
    ms_tr = sum((theta[i, j] - mi[i] - theta[:, j].mean() + m) ** 2 for i in range(t) for j in range(r)) / (
        (t - 1) * (r - 1)
    )
    den = ms_tr + r * max(cov2 - cov3, 0)
    f = ms_t / den
    ddf = den**2 / (ms_tr**2 / ((t - 1) * (r - 1)))
    extra = (cov2 - cov3) if fixed == "mrmcaov" else max(cov2 - cov3, 0)
    den_fr = var - cov1 + (r - 1) * extra
    return {
        "f": f,
        "ddf": ddf,
        "p": stats.f.sf(f, t - 1, ddf),
        "chi2": (t - 1) * ms_t / den_fr,
        "cov2": cov2,
        "cov3": cov3,
        "var": var,
        "cov1": cov1,
    }


def toy(seed, n_pos=6, n_neg=5, rows=3, p_read=0.7):
    rng = np.random.default_rng(seed)
    truth = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    ratings = rng.integers(1, 6, size=(rows, n_pos + n_neg)).astype(float) + truth
    read = rng.random((rows, n_pos + n_neg)) < p_read
    read[:, [0, 1, n_pos, n_pos + 1]] = True  # every row: >= 2 of each class
    return truth, ratings, read


# -- unbiased covariance -------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unbiased_auc_covariance_matches_loop_reference(seed):
    truth, ratings, read = toy(seed)
    auc, cov = ustat.auc_cov(truth, ratings, read)
    ref_auc, ref_cov = ref_auc_cov(truth, ratings, read)
    assert auc == pytest.approx(ref_auc, abs=1e-12)
    assert cov == pytest.approx(ref_cov, abs=1e-12)


def test_unbiased_auc_covariance_fully_crossed_matches_loop_reference():
    truth, ratings, _ = toy(5, rows=2)
    read = np.ones_like(ratings, bool)
    assert ustat.auc_cov(truth, ratings, read)[1] == pytest.approx(ref_auc_cov(truth, ratings, read)[1], abs=1e-12)


def test_unbiased_auc_variance_is_unbiased_by_exact_enumeration():
    """E[estimate] = Var(AUC) over every sample of 2+2 cases from a finite population (with replacement)."""
    pos_scores, neg_scores = [1.0, 2.0, 4.0], [0.0, 2.0, 3.0]
    samples = list(product(range(3), repeat=4))  # (i1, i2, j1, j2)
    aucs, ests = [], []
    truth = np.array([1, 1, 0, 0])
    for i1, i2, j1, j2 in samples:
        r = np.array([[pos_scores[i1], pos_scores[i2], neg_scores[j1], neg_scores[j2]]])
        a, c = ustat.auc_cov(truth, r, np.ones_like(r, bool))
        aucs.append(a[0])
        ests.append(c[0, 0])
    assert np.mean(ests) == pytest.approx(np.var(aucs), abs=1e-12)


def test_unbiased_proportion_covariance_matches_loop_reference():
    rng = np.random.default_rng(7)
    hits = (rng.random((3, 9)) < 0.6).astype(float)
    read = rng.random((3, 9)) < 0.8
    read[:, :2] = True
    p, cov = ustat.proportion_cov(hits, read)
    for a, b in product(range(3), repeat=2):
        same = [hits[a, i] * hits[b, i] for i in range(9) if read[a, i] and read[b, i]]
        diff = [hits[a, i] * hits[b, j] for i in range(9) for j in range(9) if i != j and read[a, i] and read[b, j]]
        n_a, n_b = read[a].sum(), read[b].sum()
        want = len(same) * (np.mean(same) - np.mean(diff)) / (n_a * n_b)
        assert cov[a, b] == pytest.approx(want, abs=1e-12)
    assert cov[0, 0] == pytest.approx(p[0] * (1 - p[0]) / (read[0].sum() - 1))


def test_unbiased_covariance_is_an_mrmc_option_on_crossed_data(vandyke):
    res = mrmc(vandyke, "auc", cov="unbiased")
    x_truth = vandyke.drop_duplicates("case")["truth"].to_numpy()
    assert res["covariance"] == "unbiased" and res["design"] == "fully crossed"
    jk = mrmc(vandyke, "auc", cov="jackknife")
    assert res["estimates"] == pytest.approx(jk["estimates"], abs=1e-12)
    # Unbiased and jackknife agree to first order (Gallas 2009): error variances within 5 %.
    assert res["variance_components"]["error"] == pytest.approx(jk["variance_components"]["error"], rel=0.05)
    assert len(x_truth) == 114


# -- split-plot, partially paired, nested --------------------------------
def _arrays(df, mods, readers):
    cases = list(pd.unique(df["case"]))
    truth = df.drop_duplicates("case").set_index("case")["truth"].reindex(cases).to_numpy()
    ratings = np.zeros((len(mods) * len(readers), len(cases)))
    read = np.zeros_like(ratings, bool)
    idx = {c: k for k, c in enumerate(cases)}
    for row in df.itertuples():
        k = mods.index(row.modality) * len(readers) + readers.index(row.reader)
        ratings[k, idx[row.case]] = row.rating
        read[k, idx[row.case]] = True
    return truth, ratings, read


def test_split_plot_field_case_gives_an_or_analysis_matching_a_loop_reference():
    raw = field("split_plot.csv")
    res = analyze(raw)
    auc = res["mrmc"]["auc"]
    assert auc["design"] == "split-plot" and auc["n_cases"] == 40
    assert auc["n_positive"] == 20 and auc["n_negative"] == 20 and auc["n_readers"] == 4
    mods, readers = ["unaided", "aided"], ["A1", "A2", "B1", "B2"]
    truth, ratings, read = _arrays(raw, mods, readers)
    theta, s = ref_auc_cov(truth, ratings, read)
    # Readers of different groups share no case: their covariance is exactly 0.
    assert s[0, 2] == 0 and s[1, 7] == 0
    ref = ref_or(theta.reshape(2, 4), s)
    assert auc["f"] == pytest.approx(ref["f"], rel=1e-10)
    assert auc["df2"] == pytest.approx(ref["ddf"], rel=1e-10)
    assert auc["p"] == pytest.approx(ref["p"], rel=1e-9)
    assert auc["variance_components"]["cov2"] == pytest.approx(ref["cov2"], abs=1e-14)
    for fom in ("sensitivity", "specificity"):
        block = res["mrmc"][fom]
        assert block["n_cases"] == 40 and np.isfinite(block["f"]) and block["pairwise"]


def test_split_plot_equals_obuchowski_scaled_within_group_covariances():
    """Obuchowski, Gallas & Hillis (2012): Cov2 over all reader pairs = within-group Cov2 x (r/G - 1)/(r - 1)."""
    raw = field("split_plot.csv")
    res = analyze(raw)["mrmc"]["auc"]
    truth, ratings, read = _arrays(raw, ["unaided", "aided"], ["A1", "A2", "B1", "B2"])
    _, s = ref_auc_cov(truth, ratings, read)
    within = np.mean(
        [s[i * 4 + a, i * 4 + b] for i in range(2) for g in ((0, 1), (2, 3)) for a in g for b in g if a != b]
    )
    assert res["variance_components"]["cov2"] == pytest.approx(within * (4 / 2 - 1) / (4 - 1), abs=1e-14)


def test_partially_paired_design_matches_loop_reference():
    rng = np.random.default_rng(11)
    rows = []
    truth = np.r_[np.ones(12, int), np.zeros(12, int)]
    for m, shift in (("A", 0.8), ("B", 1.5)):
        for j in range(3):
            for c in range(24):
                if rng.random() < 0.75 or c in (0, 1, 12, 13):
                    rows.append(
                        {
                            "reader": f"r{j}",
                            "modality": m,
                            "case": f"c{c:02d}",
                            "truth": int(truth[c]),
                            "rating": float(np.round(truth[c] * shift + rng.normal(), 1)),
                        }
                    )
    df = with_decisions(normalise_reads(pd.DataFrame(rows)), 0.5)[0]
    res = mrmc(df, "auc")
    assert res["design"] == "partially paired" and res["covariance"] == "unbiased"
    t_, ratings, read = _arrays(df, ["A", "B"], ["r0", "r1", "r2"])
    theta, s = ref_auc_cov(t_, ratings, read)
    ref = ref_or(theta.reshape(2, 3), s)
    assert res["f"] == pytest.approx(ref["f"], rel=1e-10)
    assert res["p"] == pytest.approx(ref["p"], rel=1e-9)


def test_nested_readers_give_single_modality_results_and_name_the_design():
    rng = np.random.default_rng(3)
    rows = []
    for m, readers in (("unaided", ["u1", "u2", "u3"]), ("aided", ["a1", "a2", "a3"])):
        for rd in readers:
            for c in range(30):
                t = int(c < 15)
                rows.append({"reader": rd, "modality": m, "case": f"c{c}", "truth": t, "rating": t + rng.normal()})
    res = analyze(pd.DataFrame(rows))
    auc = res["mrmc"]["auc"]
    assert auc["design"] == "nested" and auc["pairwise"] == []
    assert any("nested in modality" in n and "read every modality" in n for n in auc["notes"])
    assert set(auc["single_modality"]) == {"unaided", "aided"}
    # Reference: Hillis (2007) single-modality SE from the loop covariance of the three unaided readers.
    sub = pd.DataFrame(rows)
    sub = sub[sub.modality == "unaided"]
    truth, ratings, read = _arrays(sub, ["unaided"], ["u1", "u2", "u3"])
    theta, s = ref_auc_cov(truth, ratings, read)
    cov2 = np.mean([s[a, b] for a in range(3) for b in range(3) if a != b])
    se = np.sqrt(np.var(theta, ddof=1) / 3 + max(cov2, 0))
    assert auc["single_modality"]["unaided"]["se"] == pytest.approx(se, rel=1e-10)


# -- fixed readers -------------------------------------------------------
def _synthetic_cov(t, r, var, cov1, cov2, cov3):
    s = np.empty((t * r, t * r))
    for a, b in product(range(t * r), repeat=2):
        ia, ja, ib, jb = a // r, a % r, b // r, b % r
        s[a, b] = var if a == b else cov1 if ja == jb else cov2 if ia == ib else cov3
    return s


def test_fixed_reader_denominator_uses_max_of_cov2_minus_cov3():
    theta = np.array([[0.80, 0.82, 0.78], [0.86, 0.85, 0.88]])
    s = _synthetic_cov(2, 3, 0.004, 0.002, 0.0005, 0.0009)  # Cov2 < Cov3
    hillis = or_hillis(theta, s, ["A", "B"], ["r1", "r2", "r3"])["fixed_readers"]
    mrmcaov = or_hillis(theta, s, ["A", "B"], ["r1", "r2", "r3"], fixed_reader_convention="mrmcaov")["fixed_readers"]
    assert hillis["chi2"] == pytest.approx(ref_or(theta, s)["chi2"], rel=1e-12)
    assert mrmcaov["chi2"] == pytest.approx(ref_or(theta, s, fixed="mrmcaov")["chi2"], rel=1e-12)
    assert hillis["chi2"] != pytest.approx(mrmcaov["chi2"], rel=1e-3)
    assert hillis["pairwise"][0]["se"] == pytest.approx(np.sqrt(2 * (0.004 - 0.002) / 3), rel=1e-12)


def test_fixed_reader_single_modality_se_uses_max_cov2_zero():
    theta = np.array([[0.80, 0.82, 0.78], [0.86, 0.85, 0.88]])
    s = _synthetic_cov(2, 3, 0.004, 0.002, -0.001, -0.0015)
    fr = or_hillis(theta, s, ["A", "B"], ["r1", "r2", "r3"])["fixed_readers"]
    assert fr["single_modality"]["A"]["se"] == pytest.approx(np.sqrt(0.004 / 3), rel=1e-12)


def test_three_modalities_per_reader_comparisons_use_averaged_var_and_cov1():
    rng = np.random.default_rng(5)
    t, r = 3, 4
    theta = 0.8 + 0.05 * rng.random((t, r))
    a = rng.normal(size=(t * r, 40))
    s = a @ a.T / 4000  # a valid covariance matrix with unequal blocks
    res = or_hillis(theta, s, ["A", "B", "C"], [f"r{j}" for j in range(r)])
    rows = res["fixed_readers"]["per_reader"]
    assert len(rows) == r * 3
    for row in rows:
        j = int(row["reader"][1:])
        ia, ib = (["A", "B", "C"].index(x) for x in row["comparison"].split(" - "))
        var_j = np.mean([s[i * r + j, i * r + j] for i in range(t)])
        cov1_j = np.mean([s[i * r + j, k * r + j] for i in range(t) for k in range(t) if i != k])
        se = np.sqrt(2 * (var_j - cov1_j))
        assert row["difference"] == pytest.approx(theta[ia, j] - theta[ib, j])
        assert row["se"] == pytest.approx(se, rel=1e-12)
        assert row["p"] == pytest.approx(2 * stats.norm.sf(abs(row["difference"] / se)), rel=1e-10)


# -- scales and thresholds (field case) ----------------------------------
def test_ai_on_its_own_1_to_10_scale_field_case():
    res = analyze(field("reads_0to100.csv"), ai=field("ai_scores_1to10.csv"))
    ai = next(r for r in res["readers"] if r["reader"] == "AI")
    assert res["thresholds"]["AI"]["value"] == 5.5 and "1-10" in res["thresholds"]["AI"]["source"]
    assert res["thresholds"]["readers"]["value"] == 50
    assert ai["sensitivity"] == 1.0 and ai["specificity"] == 1.0 and ai["auc"] == 1.0
    assert res["switching"]["total"]["ai_wrong"] == {
        "wrong_to_right": 0,
        "right_to_wrong": 0,
        "stayed_right": 0,
        "stayed_wrong": 0,
    }
    cut = analyze(field("reads_0to100.csv"), ai=field("ai_scores_1to10.csv"), ai_threshold=9.0)
    assert cut["thresholds"]["AI"] == {"value": 9.0, "source": "given"}
    assert next(r for r in cut["readers"] if r["reader"] == "AI")["sensitivity"] < 1.0


@pytest.mark.parametrize(("low", "high", "mid"), [(1, 10, 5.5), (0, 5, 2.5), (1, 7, 4.0), (1, 5, 3.0)])
def test_readers_on_short_integer_scales_get_its_midpoint(low, high, mid):
    rng = np.random.default_rng(0)
    rows = []
    for rd in ("r1", "r2"):
        for c in range(40):
            t = int(c < 20)
            rating = int(np.clip(round((low + high) / 2 + (1.5 if t else -1.5) + rng.normal()), low, high))
            rows.append({"reader": rd, "modality": "m", "case": f"c{c}", "truth": t, "rating": rating})
    rows[0]["rating"], rows[1]["rating"] = low, high  # the whole scale is used
    res = analyze(pd.DataFrame(rows))
    assert res["threshold"]["value"] == mid
    assert all(r["sensitivity"] > 0.5 for r in res["readers"])


# -- a study in progress -------------------------------------------------
def test_interim_study_paired_mrmc_on_readers_with_both_modes(vandyke_raw):
    partial = vandyke_raw[~((vandyke_raw["modality"] == "trt1") & (vandyke_raw["reader"].astype(str).isin(["4", "5"])))]
    few = vandyke_raw[(vandyke_raw["modality"] == "trt1") & (vandyke_raw["reader"].astype(str) == "5")].head(3)
    res = analyze(pd.concat([partial, few]), sample_size=False, expected_cases=114)
    assert res["progress"]["interim"]
    auc = res["mrmc"]["auc"]
    assert auc["n_readers"] == 3 and [x["reader"] for x in auc["left_out"]] == ["4", "5"]
    assert "needs at least 2 of each" in auc["left_out"][1]["reason"]
    assert any("2 of 5 readers left out" in n for n in auc["notes"])
    full = mrmc(
        with_decisions(normalise_reads(vandyke_raw[vandyke_raw["reader"].astype(str).isin(["1", "2", "3"])]), 3)[0],
        "auc",
    )
    assert auc["f"] == pytest.approx(full["f"], rel=1e-12)
    rows = {(r["reader"], r["modality"]): r for r in res["readers"]}
    assert rows[("5", "trt1")]["n"] == 3 and ("4", "trt1") not in rows


def test_difference_ci_stays_in_range():
    theta = np.array([[0.2, 0.9], [0.95, 0.1]])
    s = _synthetic_cov(2, 2, 0.5, 0.0, 0.0, 0.0)
    res = or_hillis(theta, s, ["A", "B"], ["r1", "r2"])
    for block in (res["pairwise"][0], res["fixed_readers"]["pairwise"][0], *res["fixed_readers"]["per_reader"]):
        assert -1.0 <= block["ci95"][0] <= block["ci95"][1] <= 1.0
