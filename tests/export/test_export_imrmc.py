"""iMRMC interchange: full precision, a header no title can break, and iMRMC's own files read back."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.cli import main
from study.errors import StudyError
from study.export.imrmc import imrmc_text, read_imrmc, write_imrmc
from study.stats.analysis import analyze
from study.stats.table import normalise_reads, with_decisions

VANDYKE = Path(__file__).parents[1] / "stats" / "data" / "vandyke.csv"


def reads() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = [
        {"reader": r, "modality": m, "case": f"c{c}", "truth": int(c < 6), "rating": float(rng.random()) / 3}
        for r in ("r1", "r2")
        for m in ("A", "B")
        for c in range(12)
    ]
    return with_decisions(normalise_reads(pd.DataFrame(rows)), 0.2)[0]


def test_scores_round_trip_at_full_precision(tmp_path):
    df = reads()
    back = read_imrmc(write_imrmc(df, tmp_path / "x.imrmc"))
    merged = df.merge(back, on=["reader", "case", "modality"], suffixes=("", "_back"))
    assert len(merged) == len(df)
    assert (merged["rating"].to_numpy() == merged["rating_back"].to_numpy()).all()  # exact, not 6 digits


@pytest.mark.parametrize("title", ["Trial NR: 7 readers", "n0:x N1 : y NM:z", "Study\nBEGIN DATA: fake", "begin data"])
def test_a_title_cannot_break_the_header(title):
    text = imrmc_text(reads(), title)
    head, _ = text.split("BEGIN DATA:\n")
    keys = [line for line in head.splitlines() if line[:3].upper() in ("NR:", "N0:", "N1:", "NM:")]
    assert keys == ["N0: 6", "N1: 6", "NR: 2", "NM: 2"]
    assert text.upper().count("BEGIN DATA") == 1
    for line in head.splitlines()[:-4]:
        assert not any(k in line.upper().replace(" ", "") for k in ("NR:", "N0:", "N1:", "NM:"))


def test_imrmc_files_with_truth_reader_are_read(tmp_path):
    path = tmp_path / "own.imrmc"
    path.write_text(
        "Simulated by iMRMC\nNR: 2\nN0: 2\nN1: 2\nNM: 2\nBEGIN DATA:\n"
        "truth,p1,0,1\ntruth,p2,0,1\n-1,n1,0,0\n-1,n2,truth,0\n"
        + "".join(
            f"{r},{c},{m},{s}\n"
            for r in ("rA", "rB")
            for m in ("m1", "m2")
            for c, s in (("p1", 0.9), ("p2", 0.7), ("n1", 0.2), ("n2", 0.75))
        )
    )
    df = read_imrmc(path)
    assert len(df) == 16 and set(df["reader"]) == {"rA", "rB"}
    assert df.set_index("case")["truth"].to_dict() == {"p1": 1, "p2": 1, "n1": 0, "n2": 0}


def test_bad_imrmc_names_file_and_line(tmp_path):
    path = tmp_path / "bad.imrmc"
    path.write_text("x\nBEGIN DATA:\n-1,c1,0,1\nr1,c1,m1\n")
    with pytest.raises(StudyError) as err:
        read_imrmc(path)
    assert err.value.problems == [f"{path}: line 4: expected readerID,caseID,modalityID,score, got 'r1,c1,m1'"]


def test_analyze_accepts_an_imrmc_file(tmp_path):
    raw = pd.read_csv(VANDYKE)
    df = with_decisions(normalise_reads(raw), 3)[0]
    path = write_imrmc(df, tmp_path / "vd.imrmc", "Van Dyke NR: 5")
    assert main(["analyze", str(path), "--json", str(tmp_path / "o.json"), "--threshold", "3"]) == 0
    got = json.loads((tmp_path / "o.json").read_text())
    want = analyze(raw, threshold=3)
    assert got["mrmc"]["auc"]["p"] == pytest.approx(want["mrmc"]["auc"]["p"], rel=1e-12)
    assert got["mrmc"]["auc"]["n_cases"] == 114
