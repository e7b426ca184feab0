"""Region study data and reports refuse what is unclear instead of being silently wrong:
truth masks that do not fit their image (validate), reader masks on another grid than the
truth (statistics), series overlays (one plane), no "nan" rows, no case both best and worst,
interim reports said to be interim, and the units of the per-case table.  Real files:
pydicom's MR_small.dcm series, PNG photos."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage

from study import truthseal
from study.cases import load_cases
from study.engine import ReadSubmission, StudyEngine
from study.export import cli
from study.export.region_report import overlay_cases, write_region_report
from study.intake.validate import validate_study
from study.protocol import load_protocol
from study.region import Region, RegionRead
from study.stats.regions import case_metrics
from tests.regionstudy import (
    MR_SPACING,
    put_series_ai,
    write_mr_series,
    write_region_study,
    write_series_region_study,
)

ROOT = Path(__file__).resolve().parents[2]


def _submit_all(study_dir: Path, reader: str, session: int, mask_of, answer: str = "", likelihood=None) -> None:
    """Reader ``reader`` reads every case of ``session``, drawing ``mask_of(case_id)``
    (and answering the combined question, if the task has one)."""
    engine = StudyEngine.open(study_dir, clock=lambda: datetime.now(UTC))
    try:
        rs = engine.start(reader, session)
        while (item := rs.next_item()) is not None:
            now = datetime.now(UTC)
            region = Region(mask_of(item.case_id), MR_SPACING)
            shown = now - timedelta(seconds=4)
            rs.submit(ReadSubmission(item.case_id, answer, shown, now, 4000, confidence=likelihood, region=region))
        rs.close()
    finally:
        engine.close()


def _report(study_dir: Path, out: Path) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args([str(study_dir), "--out", str(out)]))


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _set_mask_column(study_dir: Path, case_id: str, rel: str) -> None:
    frame = pd.read_csv(study_dir / "cases.csv", dtype=str, keep_default_na=False)
    frame.loc[frame.case_id == case_id, "truth_mask"] = rel
    frame.to_csv(study_dir / "cases.csv", index=False)


def test_validate_refuses_a_2d_mask_on_a_series_and_a_mask_of_another_size(tmp_path):
    study = write_series_region_study(tmp_path / "mr", n=2)
    first, second = study.case_ids
    plane = study.truth_masks[first][2]  # the newcomer's mistake: one (64, 64) PNG for a 4-slice series
    Image.fromarray(plane.astype(np.uint8) * 255).save(study.path / "truth" / f"{first}.png")
    _set_mask_column(study.path, first, f"truth/{first}.png")
    np.save(study.path / "truth" / "small.npy", study.truth_masks[second][:, :32, :32])
    _set_mask_column(study.path, second, "truth/small.npy")
    protocol = load_protocol(study.path)
    findings = validate_study(study.path, protocol, load_cases(study.path, protocol))
    assert [(f.case_id, Path(f.path).name) for f in findings] == [(first, f"{first}.png"), (second, "small.npy")]
    assert "(64, 64)" in findings[0].cause and "(4, 64, 64)" in findings[0].cause
    assert "(4, 32, 32)" in findings[1].cause and "(4, 64, 64)" in findings[1].cause
    # the command says it too, and fails
    run = subprocess.run(
        [sys.executable, "-m", "app.cli", "validate", str(study.path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 1
    assert f"{first} / truth_mask: {study.path / 'truth' / f'{first}.png'}: mask shape (64, 64)" in run.stderr


def test_validate_prints_its_summary_on_a_line_of_its_own(tmp_path):
    study = write_region_study(tmp_path / "photos", n=2, retina=False)
    run = subprocess.run(
        f"{sys.executable} -m app.cli validate {study.path} 2>&1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stdout
    lines = run.stdout.splitlines()
    assert lines[-1].endswith("every file decoded") and lines[-1].startswith(str(study.path))
    assert lines[-2] == "validate: cases decoded: 2/2"


def test_series_report_overlays_the_slice_with_the_most_truth(tmp_path):
    study = write_series_region_study(tmp_path / "mr", n=2)
    # r1 outlines the truth grown by a pixel on every slice; only the unaided session is read
    _submit_all(study.path, "r1", 1, lambda c: ndimage.binary_dilation(study.truth_masks[c], iterations=1))
    assert _report(study.path, tmp_path / "out") == 0
    cases = pd.read_csv(tmp_path / "out" / "region_cases.csv")
    assert set(cases.area_unit) == {"mm²"} and set(cases.hd95_unit) == {"mm"} and "unit" not in cases
    truth_px = study.truth_masks[study.case_ids[0]].sum()
    row = cases[(cases.reader == "r1") & (cases.case_id == study.case_ids[0])].iloc[0]
    assert row.truth_area == pytest.approx(truth_px * MR_SPACING[0] * MR_SPACING[1])
    text = _pdf_text(tmp_path / "out" / "report.pdf")
    # disc_stack puts the larger disc on slice index 2: the third of 4
    assert "slice 3 of 4 (largest truth area)" in text
    assert "no aided reads yet" in text and "nan" not in text
    # 2 readers x 2 cases x 2 modes planned, 2 read
    assert "interim: 2 of 8 planned reads" in text and "Interim report, 2 of 8 planned reads" in text


def _read(reader: str, session: int, mode: str, case_id: str, mask: np.ndarray) -> RegionRead:
    return RegionRead(reader, "resident", session, mode, case_id, mask, None, None, 4000, 2, None)


def _photo_reads(truth: dict[str, np.ndarray], modes=("unaided",)) -> list[RegionRead]:
    return [
        _read("r1", 1 + i, mode, c, ndimage.binary_erosion(t, iterations=1 + k))
        for k, (c, t) in enumerate(sorted(truth.items()))
        for i, mode in enumerate(modes)
    ]


def test_statistics_refuse_a_mask_on_another_grid_never_resample_it(tmp_path):
    study = write_region_study(tmp_path / "photos", n=1, size=102, retina=False)
    cid = study.case_ids[0]
    drawn = study.truth_masks[cid]
    read = _read("r1", 1, "unaided", cid, drawn)
    big_truth = {cid: np.asarray(Image.fromarray(drawn).resize((512, 512), Image.NEAREST))}
    with pytest.raises(ValueError) as err:
        case_metrics([read], big_truth)
    message = str(err.value)
    assert f"case {cid}" in message and "(102, 102)" in message and "(512, 512)" in message
    assert "\n" not in message
    with pytest.raises(ValueError, match=r"\(2, 102, 102\).*\(102, 102\)"):
        case_metrics([_read("r1", 1, "unaided", cid, np.stack([drawn, drawn]))], study.truth_masks)
    # a single-frame (1, H, W) drawing is the same grid
    (row,) = case_metrics([_read("r1", 1, "unaided", cid, drawn[None])], study.truth_masks)
    assert row["dice"] == 1.0 and row["area"] == drawn.sum() and row["area_unit"] == "px"


def test_readerstudy_report_refuses_a_truth_mask_of_another_size(tmp_path, capsys):
    study = write_region_study(tmp_path / "photos", n=2, size=102, retina=False)
    _submit_all(study.path, "r1", 1, lambda c: study.truth_masks[c], "1", 70.0)
    cid = study.case_ids[0]
    mask_file = study.path / "truth" / f"{cid}.png"
    Image.fromarray(np.zeros((512, 512), np.uint8)).save(mask_file)
    # A truth mask changed after reads is refused as such (study.truthseal) ...
    assert _report(study.path, tmp_path / "out") == 2
    assert capsys.readouterr().err.startswith(f"{mask_file.resolve()}: the truth mask changed")
    engine = StudyEngine.open(study.path)
    try:  # ... and once the change is recorded on purpose, the statistics refuse its size
        truthseal.correct(engine.store, study.path, engine.cases, "mask re-exported at full size", "admin")
    finally:
        engine.close()
    assert _report(study.path, tmp_path / "out") == 2  # a message naming study, case and reader: no traceback
    err = capsys.readouterr().err
    assert re.match(
        rf"{re.escape(str(study.path))}: case {cid}, reader r1 \(unaided\).*\(102, 102\).*\(512, 512\)", err
    )
    assert not (tmp_path / "out" / "region_cases.csv").exists()


@pytest.mark.parametrize("n_cases", [1, 2, 5, 6, 9])
def test_no_case_is_both_best_and_worst(n_cases):
    result = {"cases": [{"reader": "r1", "case_id": f"c{i}", "dice": i / 10} for i in range(n_cases)]}
    chosen, _ = overlay_cases(result, {f"c{i}": np.zeros((2, 2)) for i in range(n_cases)})
    ids = [c for _, c in chosen]
    assert len(ids) == len(set(ids)) == min(n_cases, 6)
    worst = [int(c[1:]) for kind, c in chosen if kind == "worst"]
    best = [int(c[1:]) for kind, c in chosen if kind == "best"]
    assert worst[0] == 0 and (not best or (best[0] == n_cases - 1 and max(worst) < min(best)))


def test_complete_report_has_no_interim_line_and_aided_rows_have_numbers(tmp_path):
    study = write_region_study(tmp_path / "photos", n=3, retina=False)
    reads = _photo_reads(study.truth_masks, ("unaided", "aided"))
    paths = write_region_report(reads, study.truth_masks, tmp_path / "out", planned=len(reads))
    text = _pdf_text(paths["report.pdf"])
    assert "interim" not in text and "no aided reads yet" not in text and "nan" not in text
    assert "+0.000" in text  # the same drawing unaided and aided: no change, written as a number


def test_series_report_gives_volumes_and_3d_distances_from_the_slice_positions(tmp_path):
    # slices 1.5 mm apart while SliceThickness says 0.8: the volume must use 1.5
    study = write_series_region_study(tmp_path / "mr", n=2, offsets=(0.0, 1.5, 3.0, 4.5))
    voxel = (1.5, *MR_SPACING)
    # r1 draws the truth one slice further (slices 2 and 3 instead of 1 and 2)
    _submit_all(study.path, "r1", 1, lambda c: np.roll(study.truth_masks[c], 1, axis=0))
    put_series_ai(study)
    assert _report(study.path, tmp_path / "out") == 0
    cases = pd.read_csv(tmp_path / "out" / "region_cases.csv")
    # the AI is scored on the same voxels as the readers (it had no pixel size of its own)
    assert set(cases.hd95_unit) == {"mm"} and set(cases.hd95_dims) == {"3-D"} and len(cases) == 4
    for cid in study.case_ids:
        t = study.truth_masks[cid]
        drawn = np.roll(t, 1, axis=0)
        row = cases[(cases.reader == "r1") & (cases.case_id == cid)].iloc[0]
        assert row.hd95_dims == "3-D" and row.slice_mm == pytest.approx(1.5)
        assert row.truth_volume_mm3 == pytest.approx(t.sum() * 1.5 * 0.3125 * 0.3125)
        assert row.truth_volume_ml == pytest.approx(row.truth_volume_mm3 / 1000)
        assert row.volume_mm3 == pytest.approx(drawn.sum() * 1.5 * 0.3125 * 0.3125)
        assert row.dice == pytest.approx(2 * (t & drawn).sum() / (t.sum() + drawn.sum()))
        # HD95 between the 3-D surfaces, written out by brute force (the 1.5 mm slice step counts)
        assert row.hd95 == pytest.approx(_brute_hd95(t, drawn, voxel))
    readers = pd.read_csv(tmp_path / "out" / "region_readers.csv")
    assert set(readers.volume_unit) == {"mm³"}  # lesions of tens of mm³: not 0.0xx mL
    text = _pdf_text(tmp_path / "out" / "report.pdf")
    assert "HD95 3-D (mm)" in text and "volume bias (LoA), mm³" in text and "Series scored in 3-D" in text
    assert "volume - truth volume (mm³)" in text and "nan" not in text


def _brute_hd95(a: np.ndarray, b: np.ndarray, voxel) -> float:
    from scipy.spatial.distance import cdist
    from skimage.segmentation import find_boundaries

    pa = np.argwhere(find_boundaries(np.pad(a, 1), connectivity=3, mode="inner")) * np.asarray(voxel)
    pb = np.argwhere(find_boundaries(np.pad(b, 1), connectivity=3, mode="inner")) * np.asarray(voxel)
    dist = cdist(pa, pb)
    return float(np.percentile(np.concatenate([dist.min(axis=1), dist.min(axis=0)]), 95))


def test_series_report_refuses_a_series_with_a_missing_slice(tmp_path, capsys):
    study = write_series_region_study(tmp_path / "mr", n=2)
    _submit_all(study.path, "r1", 1, lambda c: study.truth_masks[c])
    # the second case's series has a gap where a slice was lost: steps of 0.8, 1.6 and 0.8 mm
    lost = study.case_ids[1]
    folder = study.path / "media" / lost
    for f in folder.iterdir():
        f.unlink()
    write_mr_series(folder, n=4, seed=1, offsets=(0.0, 0.8, 2.4, 3.2))
    assert _report(study.path, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"case {lost}: {folder}: slices are not evenly spaced" in err and study.case_ids[0] not in err
    assert not (tmp_path / "out" / "region_cases.csv").exists()


def test_validate_says_before_reading_which_series_have_no_spacing_for_a_volume(tmp_path):
    study = write_series_region_study(tmp_path / "mr", n=2)
    first, second = study.case_ids
    for cid, kwargs in ((first, {"spacing": False}), (second, {"offsets": (0.0, 0.8, 2.4, 3.2)})):
        folder = study.path / "media" / cid
        for f in folder.iterdir():
            f.unlink()
        write_mr_series(folder, n=4, **kwargs)
    protocol = load_protocol(study.path)
    findings = [f for f in validate_study(study.path, protocol, load_cases(study.path, protocol)) if f.role == "mr"]
    region = [f for f in findings if f.cause.startswith("region report")]
    assert [(f.case_id, Path(f.path).name) for f in region] == [(first, first), (second, second)]
    assert "no pixel spacing (PixelSpacing)" in region[0].cause and "spacing_mm" in region[0].cause
    assert "not evenly spaced" in region[1].cause
    # the task's pixel size settles the first; the lost slice stays a problem
    (study.path / "study.toml").write_text(
        (study.path / "study.toml").read_text().replace('kind = "region"', 'kind = "region"\nspacing_mm = 0.3125'),
        encoding="utf-8",
    )
    protocol = load_protocol(study.path)
    assert protocol.task.spacing_mm == 0.3125
    findings = validate_study(study.path, protocol, load_cases(study.path, protocol))
    assert [f.case_id for f in findings if f.cause.startswith("region report")] == [second]
