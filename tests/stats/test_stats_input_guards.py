"""`readerstudy analyze` refuses inputs that would give silently wrong figures: AI outputs for only
some of the readers' cases, a threshold outside the rating scale; it reads Excel's ';' tables."""

from __future__ import annotations

import json

import pytest

from app.cli import main

TRUTH = [1, 0] * 10  # 20 cases, c0 .. c19


def _reads_rows() -> list[tuple[str, str, str, int, float]]:
    """Two readers x two modalities x 20 cases; ratings on 0-100, good but not perfect."""
    rows = []
    for r, reader in enumerate(("r1", "r2")):
        for m, modality in enumerate(("unaided", "aided")):
            for i, t in enumerate(TRUTH):
                wrong = (i + r + m) % 7 == 0
                rating = (70.0 if t else 30.0) + i * 0.5 + r * 2 + m * 3
                rows.append((reader, modality, f"c{i}", t, 100 - rating if wrong else rating))
    return rows


def _write_reads(path, sep: str = ",", decimal: str = ".") -> None:
    lines = [sep.join(("reader", "modality", "case", "truth", "rating"))]
    for reader, modality, case, t, rating in _reads_rows():
        lines.append(sep.join((reader, modality, case, str(t), f"{rating:.1f}".replace(".", decimal))))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_ai(path, n: int) -> None:
    path.write_text(
        "case,ai_rating\n" + "".join(f"c{i},{0.8 if t else 0.3}\n" for i, t in list(enumerate(TRUTH))[:n]),
        encoding="utf-8",
    )


def test_ai_for_some_cases_is_refused_naming_file_and_cases(tmp_path, capsys):
    reads, ai = tmp_path / "reads.csv", tmp_path / "ai.csv"
    _write_reads(reads)
    _write_ai(ai, 4)
    assert main(["analyze", str(reads), "--ai", str(ai), "--json", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert str(ai) in err and "4 of the readers' 20 cases" in err and "c4, c5" in err and "c19" in err
    assert "--ai-subset" in err and not (tmp_path / "r.json").exists()


def test_ai_subset_flag_computes_on_covered_cases_with_a_note(tmp_path, capsys):
    reads, ai, out = tmp_path / "reads.csv", tmp_path / "ai.csv", tmp_path / "r.json"
    _write_reads(reads)
    _write_ai(ai, 4)
    assert main(["analyze", str(reads), "--ai", str(ai), "--ai-subset", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert next(r for r in res["readers"] if r["reader"] == "AI")["n"] == 4
    assert any("cover only 4 of 20 cases" in n and "c19" in n for n in res["notes"])


def test_ai_for_every_case_is_accepted_without_a_note(tmp_path):
    reads, ai, out = tmp_path / "reads.csv", tmp_path / "ai.csv", tmp_path / "r.json"
    _write_reads(reads)
    _write_ai(ai, 20)
    assert main(["analyze", str(reads), "--ai", str(ai), "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert next(r for r in res["readers"] if r["reader"] == "AI")["n"] == 20
    assert not any("cover only" in n for n in res["notes"])


@pytest.mark.parametrize("threshold", ["500", "-1"])
def test_threshold_outside_the_rating_scale_is_refused(tmp_path, capsys, threshold):
    reads = tmp_path / "reads.csv"
    _write_reads(reads)
    assert main(["analyze", str(reads), "--threshold", threshold, "--json", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert f"threshold {threshold} is outside the readers' 0-100 rating scale" in err


def test_threshold_at_the_scale_s_low_end_is_refused(tmp_path, capsys):
    """rating >= 0 on a 0-100 scale calls every case positive: sensitivity 1, specificity 0 by construction."""
    reads = tmp_path / "reads.csv"
    _write_reads(reads)
    assert main(["analyze", str(reads), "--threshold", "0", "--json", str(tmp_path / "r.json")]) == 2
    assert "threshold 0 is at the low end of the readers' 0-100 rating scale" in capsys.readouterr().err


def test_threshold_on_the_scale_is_accepted(tmp_path):
    reads, out = tmp_path / "reads.csv", tmp_path / "r.json"
    _write_reads(reads)
    assert main(["analyze", str(reads), "--threshold", "100", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["threshold"] == {"value": 100.0, "source": "given"}


def test_semicolon_table_with_decimal_commas_reads_as_the_comma_table(tmp_path):
    comma, semi = tmp_path / "comma.csv", tmp_path / "semi.csv"
    _write_reads(comma)
    _write_reads(semi, sep=";", decimal=",")
    assert ";" in semi.read_text() and "30,5" in semi.read_text()
    assert main(["analyze", str(comma), "--json", str(tmp_path / "a.json")]) == 0
    assert main(["analyze", str(semi), "--json", str(tmp_path / "b.json")]) == 0
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert [r["auc"] for r in a["readers"]] == [r["auc"] for r in b["readers"]]
    assert a["readers"] == b["readers"] and a["threshold"] == b["threshold"]


def test_semicolon_table_with_an_ambiguous_number_is_refused_naming_row_and_value(tmp_path, capsys):
    semi = tmp_path / "semi.csv"
    _write_reads(semi, sep=";", decimal=",")
    lines = semi.read_text().splitlines()
    lines[3] = lines[3].rsplit(";", 1)[0] + ";1.234,5"
    semi.write_text("\n".join(lines) + "\n")
    assert main(["analyze", str(semi)]) == 2
    err = capsys.readouterr().err
    assert f"{semi}: row 4 (c2): rating '1.234,5' is an ambiguous number" in err


def test_results_tab_refuses_the_same_ai_file_naming_it(tmp_path):
    from app.admin.dashboard_state import analyze_csv
    from study.errors import StudyError

    reads, ai = tmp_path / "reads.csv", tmp_path / "ai.csv"
    _write_reads(reads)
    _write_ai(ai, 4)
    with pytest.raises(StudyError) as err:
        analyze_csv(reads, ai)
    assert str(err.value).count(str(ai)) == 1 and "no usable score for c4" in str(err.value)
