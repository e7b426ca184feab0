"""The region section of the report: CSV of per-case metrics, summary CSV, JSON and the PDF pages,
on the OCTA demo's real images and truth masks with simulated reader contours."""

from __future__ import annotations

import csv
import json
import subprocess

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage

from study.demo.octa import SPACING_MM, build_octa
from study.export.region_report import FILES, bias_loa_text, write_region_report
from study.region import RegionRead
from study.stats.regions import dice


def simulated_reads(truth: dict[str, np.ndarray], seed: int = 0) -> list[RegionRead]:
    """Two readers; unaided contours grown or shrunk and shifted, aided ones close to the truth."""
    rng = np.random.default_rng(seed)
    reads = []
    for reader, group, sloppy in (("spec1", "specialist", 2), ("res1", "resident", 5)):
        for case, t in truth.items():
            for mode, session, k in (("unaided", 1, sloppy), ("aided", 2, 1)):
                grow = int(rng.integers(-k, k + 1))
                m = ndimage.binary_dilation(t, iterations=grow) if grow > 0 else t
                m = ndimage.binary_erosion(m, iterations=-grow) if grow < 0 else m
                m = np.roll(m, int(rng.integers(-k, k + 1)), axis=1)
                reads.append(
                    RegionRead(
                        reader,
                        group,
                        session,
                        mode,
                        case,
                        m,
                        (SPACING_MM, SPACING_MM),
                        mode == "aided" and grow == 0,
                        4000,
                        3,
                        float(rng.integers(0, 101)),
                    )
                )
    return reads


@pytest.fixture(scope="module")
def octa_inputs(tmp_path_factory):
    folder = build_octa(tmp_path_factory.mktemp("octa") / "octa", seed=9, n=8)
    truth, labels, images = {}, {}, {}
    with (folder / "cases.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            truth[row["case_id"]] = np.asarray(Image.open(folder / row["truth_mask"]).convert("1"), bool)
            labels[row["case_id"]] = int(row["truth"])
            images[row["case_id"]] = np.asarray(Image.open(folder / row["octa"]))
    ai = {c: np.roll(t, 2, axis=0).astype(np.float32)[None] * 0.9 for c, t in truth.items()}
    return truth, labels, images, ai


def test_region_report_files_and_pdf_pages(octa_inputs, tmp_path):
    truth, labels, images, ai = octa_inputs
    reads = simulated_reads(truth)
    paths = write_region_report(
        reads, truth, tmp_path / "out", labels, ai, images, (SPACING_MM, SPACING_MM), "Demo OCTA"
    )
    assert set(paths) == set(FILES) and all(p.is_file() for p in paths.values())
    cases = pd.read_csv(paths["region_cases.csv"])
    assert len(cases) == len(reads) + len(ai)
    r0 = reads[0]
    row = cases[(cases.reader == r0.reader) & (cases["mode"] == r0.mode) & (cases.case_id == r0.case_id)].iloc[0]
    assert row["dice"] == pytest.approx(dice(r0.mask, truth[r0.case_id]))
    assert row["truth_area"] == pytest.approx(truth[r0.case_id].sum() * SPACING_MM**2)
    readers = pd.read_csv(paths["region_readers.csv"])
    assert set(zip(readers.reader, readers["mode"])) == {
        ("spec1", "unaided"),
        ("spec1", "aided"),
        ("res1", "unaided"),
        ("res1", "aided"),
        ("AI", "AI"),
    }
    res1 = readers.set_index(["reader", "mode"]).loc["res1"]
    assert res1.loc["aided", "dice_mean"] > res1.loc["unaided", "dice_mean"]
    result = json.loads(paths["region_results.json"].read_text())
    assert {"cases", "readers", "inter_reader", "aided_change", "detection"} <= set(result)
    info = subprocess.run(["pdfinfo", str(paths["report.pdf"])], capture_output=True, text=True, check=True).stdout
    # tables and Dice box plot, Bland-Altman, example cases: A4 portrait pages
    assert [ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")] == ["3"]
    assert "pts (A4)" in info
    text = subprocess.run(["pdftotext", str(paths["report.pdf"]), "-"], capture_output=True, text=True).stdout
    for words in ("Inter-reader Dice", "Wilcoxon", "DeLong", "Bland-Altman", "best", "worst"):
        assert words in text


def test_readerstudy_report_on_the_octa_demo_writes_the_region_section(tmp_path):
    """End to end through the engine and the store (needs the region answer kind: study.regionreads)."""
    pytest.importorskip("study.regionreads", reason="the region answer kind (branch wip-segread) is not merged")
    import argparse
    from datetime import UTC, datetime, timedelta

    from study.aioutput import AIOutput
    from study.engine import ReadSubmission, StudyEngine
    from study.export import cli
    from study.region import Region

    folder = build_octa(tmp_path / "octa", seed=9, n=6)
    engine = StudyEngine.open(folder, clock=lambda: datetime.now(UTC))
    truth = {}
    try:
        engine.store.add_reader("spec1", "specialist", "1234")
        for case in engine.cases:
            truth[case.case_id] = np.asarray(Image.open(case.truth_mask).convert("1"), bool)
            ai = np.roll(truth[case.case_id], 2, axis=0).astype(np.float16)[None]
            engine.store.put_ai_output(
                AIOutput(case.case_id, "seg", "segmentation", ("FAZ",), (0.05,), score=0.5, cams={"octa": ai})
            )
        rs = engine.start("spec1", 1)
        while (item := rs.next_item()) is not None:
            now = datetime.now(UTC)
            mask = ndimage.binary_dilation(truth[item.case_id], iterations=2)
            region = Region(mask, (SPACING_MM, SPACING_MM))
            rs.submit(
                ReadSubmission(item.case_id, "1", now - timedelta(seconds=4), now, 4000, confidence=70.0, region=region)
            )
        rs.close()
    finally:
        engine.close()
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args([str(folder), "--out", str(tmp_path / "report")])) == 0
    cases = pd.read_csv(tmp_path / "report" / "region_cases.csv")
    spec1 = cases[cases.reader == "spec1"]
    assert len(spec1) == 6 and (spec1["area_error"] > 0).all() and (spec1["dice"] < 1).all()
    assert len(cases[cases.reader == "AI"]) == 6
    # reads.csv, as every study kind exports it, with the region columns of each stored read
    reads = pd.read_csv(tmp_path / "report" / "reads.csv").set_index("case_id")
    assert len(reads) == 6 and (reads["reader"] == "spec1").all() and reads["current"].all()
    assert "region_mask" not in reads.columns and {"supersedes_id", "correction_reason", "edit_ms"} <= set(
        reads.columns
    )
    for case_id, mask in truth.items():
        drawn = int(ndimage.binary_dilation(mask, iterations=2).sum())
        assert reads.loc[case_id, "region_pixels"] == drawn
        assert reads.loc[case_id, "region_area_mm2"] == pytest.approx(drawn * SPACING_MM**2)
    info = subprocess.run(["pdfinfo", str(tmp_path / "report" / "report.pdf")], capture_output=True, text=True).stdout
    assert [ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")] == ["3"]


def test_bias_and_limits_of_agreement_never_print_nan():
    """One read of a reader in a mode (an interim aided session) has a bias but no limits of agreement."""
    from study.stats.numeric import bland_altman

    one = bland_altman([0.30], [0.31])
    assert bias_loa_text(one) == "-0.010"
    three = bland_altman([0.30, 0.42, 0.25], [0.31, 0.40, 0.27])
    text = bias_loa_text(three)
    assert "nan" not in text and text.startswith("-0.003 (") and text.count(",") == 1
    assert bias_loa_text({"bias": float("nan"), "loa": [float("nan"), float("nan")]}) == "-"


def largest_blank_band(pdf, page: int) -> float:
    """The tallest run of blank pixel rows between the first and the last ink on a page (footer
    left out), as a fraction of the page height: the page as pdftoppm draws it."""
    out = pdf.parent / f"band-{page}"
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", str(page), "-l", str(page), str(pdf), str(out)], check=True)
    (img,) = pdf.parent.glob(f"band-{page}*.pgm")
    rows = np.asarray(Image.open(img)) < 200
    body = rows[: int(rows.shape[0] * 0.94)].any(axis=1)  # the footer line sits in the bottom 6 %
    ink = np.flatnonzero(body)
    gaps = np.diff(ink) - 1 if len(ink) > 1 else np.array([0])
    return float(gaps.max()) / rows.shape[0]


def test_the_summary_page_has_no_blank_band_between_its_tables(octa_inputs, tmp_path):
    """The tables flow one under the other (they sat in fixed slots: a short per-reader table
    left a quarter of page 1 blank) under the study's front table; the Dice box plot follows them."""
    truth, labels, images, ai = octa_inputs
    paths = write_region_report(
        simulated_reads(truth), truth, tmp_path / "out", labels, ai, images, (SPACING_MM, SPACING_MM), "Demo OCTA"
    )
    band = largest_blank_band(paths["report.pdf"], 1)
    print(f"page 1: largest blank band {band:.1%} of the page")
    assert band < 0.06
    page1 = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(paths["report.pdf"]), "-"], capture_output=True, text=True
    ).stdout
    for words in ("Study", "Exported", "Per reader and mode", "Inter-reader Dice", "Wilcoxon", "DeLong"):
        assert words in page1
