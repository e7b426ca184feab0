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
from tests.admin_cli import ENV, PASSWORD, give_admin_password

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
    assert {"reader", "modality", "group", "sensitivity", "sensitivity_ci95_lower", "sensitivity_ci95_upper", "auc", "auc_se"} <= set(m.columns)
    assert len(m) == 6 * 2 + 1  # 6 readers x 2 modalities + AI
    sheets = pd.read_excel(paths["metrics.xlsx"], sheet_name=None)
    assert list(sheets) == ["readers", "groups", "mrmc", "mcnemar"]
    assert set(sheets["mrmc"]["fom"]) == {"auc", "sensitivity", "specificity"}
    assert len(sheets["readers"]) == len(m)


def test_pdf_has_every_page(exported, sarcoma, tmp_path):
    paths, *_ = exported
    assert paths["report.pdf"].read_bytes().startswith(b"%PDF")
    assert pdf_pages(paths["report.pdf"]) == 5  # summary, ROC, MRMC, forest, switching
    reads, _ = sarcoma
    no_ai = write_report(reads, tmp_path / "no_ai")
    assert pdf_pages(no_ai["report.pdf"]) == 4  # no AI: no switching page


def test_imrmc_round_trip_and_header():
    raw = pd.read_csv(VANDYKE)
    df = with_decisions(normalise_reads(raw), 3)[0]
    text = imrmc_text(df, "Van Dyke")
    head = text.split("BEGIN DATA:")[0]
    assert "N0: 69" in head and "N1: 45" in head and "NR: 5" in head and "NM: 2" in head
    lines = text.split("BEGIN DATA:\n")[1].splitlines()
    assert lines[0].startswith("-1,") and lines[0].split(",")[2] == "truth"
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
    rc = main(["analyze", str(tmp_path / "reads.csv"), "--json", str(tmp_path / "r.json"), "--ai", str(tmp_path / "ai.csv"), "--report", str(tmp_path / "rep")])
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == sorted(FILES)


def test_report_command_reads_the_store(tmp_path, sarcoma, monkeypatch):
    from study import store
    reads, ai = sarcoma
    # Shaped like the store's frame: extra columns, None groups on some rows, timestamps.
    stored = reads.assign(
        session=(reads["modality"] == "aided").astype(int) + 1,
        answer=reads["decision"].astype(str),
        value=None,
        distribution=None,
        displayed_at=pd.Timestamp("2026-01-01"),
        read_id=range(len(reads)),
    )
    stored.loc[stored.index[::5], "group"] = None
    seen = []
    monkeypatch.setattr(store, "reads_table", lambda d, *a, **k: seen.append(Path(d)) or stored)
    monkeypatch.setattr(store, "ai_table", lambda d, *a, **k: ai.assign(predicted=None, truth=None), raising=False)
    from study.protocol import HangingProtocol, Protocol, Task, protocol_to_toml

    study_dir = tmp_path / "study"
    study_dir.mkdir()
    protocol = Protocol("s", "S", "sequential", 1, Task("binary", labels=("benign", "malignant")), HangingProtocol(("T2axi",)), washout_days=28)
    (study_dir / "study.toml").write_text(protocol_to_toml(protocol))
    monkeypatch.setenv(ENV, PASSWORD)
    give_admin_password(study_dir)
    assert main(["report", str(study_dir), "--out", str(tmp_path / "out")]) == 0
    assert seen == [study_dir]
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert any(r["reader"] == "AI" for r in res["readers"])
    assert res["groups_order"] == ["specialist", "resident", "AI"]


def test_report_command_errors(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'missing'}: study folder not found"
