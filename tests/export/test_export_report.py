"""The export folder: files, formats and the report command."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from app.cli import main
from study.export.imrmc import imrmc_text, read_imrmc
from study.export.report import FILES, write_report
from study.export.tables import paper_table
from study.stats.analysis import analyze
from study.stats.simulate import simulate, uterine_sarcoma
from study.stats.table import normalise_reads, with_decisions

VANDYKE = Path(__file__).parents[1] / "stats" / "data" / "vandyke.csv"


def pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


@pytest.fixture(scope="module")
def sarcoma():
    return simulate(uterine_sarcoma(), seed=11)


@pytest.fixture(scope="module")
def exported(sarcoma, tmp_path_factory):
    reads, ai = sarcoma
    out = tmp_path_factory.mktemp("export")
    return write_report(reads, out, ai=ai, title="Uterine sarcoma (simulated)"), reads, ai


def test_all_files_written(exported):
    paths, reads, _ = exported
    assert set(paths) == set(FILES)
    for p in paths.values():
        assert p.is_file() and p.stat().st_size > 0
    back = pd.read_csv(paths["reads.csv"])
    assert len(back) == len(reads)
    assert {"reader", "modality", "case", "truth", "rating", "decision", "group", "seconds"} <= set(back.columns)


def test_results_json_is_strict_and_complete(exported):
    paths, *_ = exported
    res = json.loads(paths["results.json"].read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert set(res["mrmc"]) == {"auc", "sensitivity", "specificity"}
    assert res["switching"]["aided"] == "aided"


def test_metrics_csv_and_xlsx(exported):
    paths, *_ = exported
    m = pd.read_csv(paths["metrics.csv"])
    assert {
        "reader",
        "modality",
        "group",
        "sensitivity",
        "sensitivity_ci95_lower",
        "sensitivity_ci95_upper",
        "auc",
        "auc_se",
    } <= set(m.columns)
    assert len(m) == 6 * 2 + 1  # 6 readers x 2 modalities + AI
    sheets = pd.read_excel(paths["metrics.xlsx"], sheet_name=None)
    assert list(sheets) == ["readers", "groups", "mrmc", "mcnemar"]
    assert set(sheets["mrmc"]["fom"]) == {"auc", "sensitivity", "specificity"}
    assert len(sheets["readers"]) == len(m)


def page_texts(fig) -> str:
    """Every string drawn on a report page: figure texts, axes texts and titles, table cells."""
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts] + [ax.get_title()]
        for table in ax.tables:
            out += [cell.get_text().get_text() for cell in table.get_celld().values()]
        legend = ax.get_legend()
        if legend:
            out += [t.get_text() for t in legend.get_texts()]
    return "\n".join(out)


def test_pdf_has_every_page(exported, sarcoma, tmp_path):
    paths, *_ = exported
    assert paths["report.pdf"].read_bytes().startswith(b"%PDF")
    assert pdf_pages(paths["report.pdf"]) >= 4
    reads, _ = sarcoma
    no_ai = write_report(reads, tmp_path / "no_ai")
    assert pdf_pages(no_ai["report.pdf"]) >= 3


def test_pdf_pages_are_portrait_titled_and_state_n(sarcoma):
    from study.export.pdf import build_pages

    reads, ai = sarcoma
    res = analyze(reads, ai=ai, sample_size=False)
    df = with_decisions(normalise_reads(reads))[0]
    pages = build_pages(df, res, None, "Uterine sarcoma vs leiomyoma")
    assert all(tuple(fig.get_size_inches()) == (8.27, 11.69) for fig in pages)  # one orientation
    text = "\n".join(page_texts(f) for f in pages)
    # A reads table that is no stored study: its front table says what was analysed, by what and when.
    assert "Uterine sarcoma vs leiomyoma" in text and "Study" in text and "Cases analysed" in text
    assert "by readerstudy" in text
    assert f"{res['mrmc']['auc']['design']} (MRMC covariance: {res['mrmc']['auc']['covariance']})" in text
    assert "decision column" not in text and "nan" not in text.lower().replace("nance", "")
    assert not re.search(r"\b1 readers\b", text)
    assert "[6 readers, 263 cases (63 positive, 200 negative)" in text  # every MRMC line states its n
    assert "Reads" in text and "Cases (+/-)" in text


def test_interim_pdf_says_interim_with_counts_and_not_estimable(sarcoma):
    from study.export.pdf import build_pages

    reads, ai = sarcoma
    aided_r3 = (reads.modality == "aided") & (reads.reader == "R3")
    interim = pd.concat([reads[~aided_r3], reads[aided_r3].head(3)])
    res = analyze(interim, ai=ai, sample_size=False, expected_cases=263)
    assert res["progress"]["interim"]
    df = with_decisions(normalise_reads(interim, require_all_modalities=False))[0]
    text = "\n".join(page_texts(f) for f in build_pages(df, res, None, "Sarcoma"))
    assert "INTERIM ANALYSIS" in text and "3 of 263" in text
    assert "R3 (aided: 3 case(s) read" in text
    assert "not estimable" in text and "nan" not in text.lower().replace("nance", "")


def test_imrmc_round_trip_and_header():
    raw = pd.read_csv(VANDYKE)
    df = with_decisions(normalise_reads(raw), 3)[0]
    text = imrmc_text(df, "Van Dyke")
    head = text.split("BEGIN DATA:")[0]
    assert "N0: 69" in head and "N1: 45" in head and "NR: 5" in head and "NM: 2" in head
    lines = text.split("BEGIN DATA:\n")[1].splitlines()
    assert lines[0].startswith("-1,") and lines[0].split(",")[2] == "0"
    assert len(lines) == 114 + 1140


def test_imrmc_file_round_trips(tmp_path, sarcoma):
    reads, _ = sarcoma
    df = with_decisions(normalise_reads(reads))[0]
    from study.export.imrmc import write_imrmc

    back = read_imrmc(write_imrmc(df, tmp_path / "x.imrmc"))
    merged = df.merge(back, on=["reader", "case", "modality"], suffixes=("", "_back"))
    assert len(merged) == len(df)
    assert (merged["rating"] == merged["rating_back"]).all() and (merged["truth"] == merged["truth_back"]).all()


def test_paper_table_layout(sarcoma):
    reads, ai = sarcoma
    cols, rows, cells = paper_table(analyze(reads, ai=ai, sample_size=False))
    assert rows == ["Specialists", "Residents", "AI alone"]
    assert cols[:2] == ["Accuracy\nunaided", "Accuracy\naided"]
    assert [c.split("\n")[0] for c in cols[::2]] == ["Accuracy", "SS-Avg", "Sensitivity", "Specificity"]
    assert all(len(r) == 8 for r in cells)
    assert cells[2][0] == cells[2][1]  # the AI reads once: same value under both modalities


def test_analyze_cli_report_option(tmp_path, sarcoma):
    reads, ai = sarcoma
    reads.to_csv(tmp_path / "reads.csv", index=False)
    ai.to_csv(tmp_path / "ai.csv", index=False)
    rc = main(
        [
            "analyze",
            str(tmp_path / "reads.csv"),
            "--json",
            str(tmp_path / "r.json"),
            "--ai",
            str(tmp_path / "ai.csv"),
            "--report",
            str(tmp_path / "rep"),
        ]
    )
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == sorted(FILES)


def test_report_command_errors(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'missing'}: study folder not found"


def test_three_modalities_every_pair_in_the_mrmc_line():
    from study.export.wording import mrmc_line

    raw = pd.read_csv(VANDYKE)
    third = raw[raw["modality"] == "trt1"].assign(modality="trt2", rating=lambda d: d["rating"].clip(upper=4))
    res = analyze(pd.concat([raw, third]), threshold=3, sample_size=False)["mrmc"]["auc"]
    line = mrmc_line(res)
    for pair in ("trt0 - trt1", "trt0 - trt2", "trt1 - trt2"):
        assert pair in line
    assert "F(2, " in line and "[5 readers, 114 cases (45 positive, 69 negative)" in line
    per_reader = res["fixed_readers"]["per_reader"]
    assert len(per_reader) == 15 and {r["comparison"] for r in per_reader} == {
        "trt0 - trt1",
        "trt0 - trt2",
        "trt1 - trt2",
    }
