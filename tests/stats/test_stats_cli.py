"""`readerstudy analyze` and `readerstudy simulate` end to end (in process)."""

import json

import pandas as pd

from app.cli import main

ISSUE_READER_KEYS = [
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
]


def test_simulate_then_analyze(tmp_path, capsys):
    reads = tmp_path / "reads.csv"
    assert main(["simulate", str(reads), "--readers", "6", "--cases", "263", "--seed", "5"]) == 0
    assert (tmp_path / "reads_ai.csv").is_file()
    out = tmp_path / "out.json"
    assert (
        main(["analyze", str(reads), "--json", str(out), "--threshold", "50", "--ai", str(tmp_path / "reads_ai.csv")])
        == 0
    )
    res = json.loads(out.read_text())
    assert res["threshold"] == {"value": 50.0, "source": "given"}
    assert len(res["readers"]) == 6 * 2 + 1
    for row in res["readers"]:
        for key in ISSUE_READER_KEYS:
            assert key in row
        assert len(row["sensitivity_ci95"]) == 2
    assert set(res["mrmc"]) == {"auc", "sensitivity", "specificity"}
    auc = res["mrmc"]["auc"]
    for key in ("modalities", "estimates", "difference", "se", "ci95", "f", "df1", "df2", "p", "variance_components"):
        assert key in auc
    assert auc["modalities"] == ["unaided", "aided"]
    assert res["switching"]["unaided"] == "unaided"


def test_preset(tmp_path):
    reads = tmp_path / "us.csv"
    assert main(["simulate", str(reads), "--preset", "uterine_sarcoma", "--seed", "1"]) == 0
    df = pd.read_csv(reads)
    assert df["reader"].nunique() == 6 and df["case"].nunique() == 263


def test_bad_input_one_line_per_problem_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "reader,modality,case,truth,rating\n"
        "r1,unaided,c1,1,80\nr1,unaided,c2,,20\nr1,unaided,c3,3,50\n"
        "r2,unaided,c1,1,70\nr2,unaided,c2,,30\nr2,unaided,c3,3,40\nr2,aided,c1,1,90\n"
    )
    assert main(["analyze", str(bad), "--json", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert f"{bad}: column 'truth': not binary (0/1) for a binary analysis: values 3" in err
    assert f"{bad}: case 'c2': has no truth" in err
    assert not any("has no reads" in line for line in err)  # an unfinished reader is not an error
    assert len(err) == 2
    assert not (tmp_path / "o.json").exists()


def test_missing_column_and_missing_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("reader,modality,case,rating\nr1,a,c1,3\n")
    assert main(["analyze", str(bad)]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"{bad}: column 'truth': missing (required: reader, modality, case, truth, rating)"
    )
    assert main(["analyze", str(tmp_path / "nope.csv")]) == 2
    assert "not found" in capsys.readouterr().err


def test_simulate_rejects_bad_settings(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "x.csv"), "--prevalence", "1.5"]) == 2
    assert "--prevalence" in capsys.readouterr().err


def test_field_cases_through_the_cli_without_warnings(tmp_path, capfd):
    """The split-plot field case analyses with no numpy warning on stderr; --ai-threshold moves only the AI."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    field = next(
        (p for p in (root.parent / "shared", root.parent.parent / "shared") if p.is_dir()), root.parent / "shared"
    )
    stats_dir = field / "fieldcases" / "stats"
    assert (stats_dir / "split_plot.csv").is_file(), f"field case missing: {stats_dir}"
    assert main(["analyze", str(stats_dir / "split_plot.csv"), "--json", str(tmp_path / "s.json")]) == 0
    assert capfd.readouterr().err == ""
    res = json.loads((tmp_path / "s.json").read_text())
    assert res["mrmc"]["specificity"]["n_cases"] == 40 and res["mrmc"]["auc"]["design"] == "split-plot"
    out = tmp_path / "ai.json"
    assert (
        main(
            [
                "analyze",
                str(stats_dir / "reads_0to100.csv"),
                "--ai",
                str(stats_dir / "ai_scores_1to10.csv"),
                "--ai-threshold",
                "9.5",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    res = json.loads(out.read_text())
    assert res["thresholds"] == {
        "readers": {"value": 50.0, "source": "midpoint of the inferred 0-100 scale"},
        "AI": {"value": 9.5, "source": "given"},
    }
    ai = next(r for r in res["readers"] if r["reader"] == "AI")
    assert ai["sensitivity"] < 0.5 and ai["specificity"] == 1.0
