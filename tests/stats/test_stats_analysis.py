"""analyze(): structure, AI as a reader, group means, notes."""

import json

import numpy as np
import pytest

from study.stats.analysis import analyze, jsonable
from study.stats.simulate import generic, simulate

READER_KEYS = {
    "reader",
    "modality",
    "group",
    "tp",
    "fn",
    "tn",
    "fp",
    "sensitivity",
    "specificity",
    "accuracy",
    "ss_avg",
    "auc",
}
MRMC_KEYS = {"modalities", "estimates", "difference", "se", "ci95", "f", "df1", "df2", "p", "variance_components"}


@pytest.fixture(scope="module")
def study():
    return simulate(generic(n_readers=4, n_cases=80), seed=3)


def test_issue_keys(study):
    reads, ai = study
    res = analyze(reads, ai=ai)
    for row in res["readers"] + res["groups"]:
        assert READER_KEYS - {"reader"} <= set(row) or READER_KEYS <= set(row)
        for rate in ("sensitivity", "specificity", "accuracy", "ss_avg"):
            assert f"{rate}_ci95" in row
    assert set(res["mrmc"]) == {"auc", "sensitivity", "specificity"}
    for block in res["mrmc"].values():
        assert MRMC_KEYS <= set(block)
    json.dumps(jsonable(res), allow_nan=False)


def test_ai_is_an_extra_reader_and_group(study):
    reads, ai = study
    res = analyze(reads, ai=ai)
    ai_rows = [r for r in res["readers"] if r["reader"] == "AI"]
    assert len(ai_rows) == 1 and ai_rows[0]["group"] == "AI"
    truth = reads.drop_duplicates("case").set_index("case")["truth"]
    d = ai.set_index("case")["ai_decision"]
    assert ai_rows[0]["tp"] == int(((d == 1) & (truth == 1)).sum())
    assert res["groups_order"][-1] == "AI"


def test_group_values_are_reader_means(study):
    reads, _ = study
    res = analyze(reads)
    for g in res["groups"]:
        members = [r for r in res["readers"] if r["group"] == g["group"] and r["modality"] == g["modality"]]
        assert g["sensitivity"] == pytest.approx(np.mean([r["sensitivity"] for r in members]))
        assert g["tp"] == sum(r["tp"] for r in members)


def test_threshold_is_stated_and_applied(study):
    reads, _ = study
    res = analyze(reads.drop(columns=["decision"]))
    assert res["threshold"] == {"value": 50.0, "source": "midpoint of the inferred 0-100 scale"}
    res = analyze(reads.drop(columns=["decision"]), threshold=70)
    assert res["threshold"]["value"] == 70
    r0 = res["readers"][0]
    sub = reads[(reads.reader == r0["reader"]) & (reads.modality == r0["modality"])]
    assert r0["tp"] == int(((sub.rating >= 70) & (sub.truth == 1)).sum())


def test_single_reader_notes_instead_of_mrmc(study):
    reads, _ = study
    res = analyze(reads[reads.reader == "R1"])
    assert res["mrmc"] == {} and any("two readers" in n for n in res["notes"])


def test_delong_option(vandyke_raw):
    res = analyze(vandyke_raw, cov="delong", sample_size=False)
    assert res["mrmc"]["auc"]["p"] == pytest.approx(0.05123303, rel=1e-6)
    assert res["readers"][0]["auc"] == pytest.approx(0.9196457, abs=1e-7)


def test_edge_designs_run_without_warnings(tmp_path):
    """One modality; a reader who never calls positive (PPV undefined); an MRMC with 2 readers."""
    import warnings

    from study.export.report import write_report

    reads, _ = simulate(generic(n_readers=2, n_cases=30), seed=9)
    one_mod = reads[reads.modality == "unaided"]
    never = one_mod.assign(decision=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = analyze(never)
        assert res["mcnemar"] == [] and res["sample_size"] is None
        assert np.isnan(res["groups"][0]["ppv"])
        assert set(res["mrmc"]) == {"auc", "sensitivity", "specificity"}
        assert res["mrmc"]["auc"]["pairwise"] == []
        assert res["mrmc"]["auc"]["single_modality"]["unaided"]["ci95"][0] <= res["mrmc"]["auc"]["estimates"]["unaided"]
        json.dumps(jsonable(res), allow_nan=False)
        paths = write_report(never, tmp_path)
        assert paths["report.pdf"].stat().st_size > 0
