"""The volume of every series read in the files a statistician opens: ``masks.csv`` of
``readerstudy export-masks`` and ``reads.csv`` of ``readerstudy report`` give mm³ and mL
(voxels x slice step from the slices' positions x pixel spacing) beside the summed area, empty
for 2-D images; a series without an even slice spacing keeps its volume cells empty and is
named.  Real files: pydicom's MR_small.dcm made into series, PNG photos."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from study.commands import export_masks
from study.engine import ReadSubmission, StudyEngine
from study.export import cli
from study.region import Region
from tests.regionstudy import MR_SPACING, SPACING_MM, write_mr_series, write_region_study, write_series_region_study


def _box(shape: tuple[int, ...], boxes: dict[int, tuple[int, int, int, int]]) -> np.ndarray:
    """bool ``shape`` with rows r0:r1, columns c0:c1 set on each listed plane (2-D: plane 0)."""
    mask = np.zeros(shape, dtype=bool)
    for k, (r0, r1, c0, c1) in boxes.items():
        (mask if mask.ndim == 2 else mask[k])[r0:r1, c0:c1] = True
    return mask


def _submit_all(study_dir: Path, mask_of, spacing, answer: str = "", likelihood: float | None = None) -> None:
    engine = StudyEngine.open(study_dir, clock=lambda: datetime.now(UTC))
    try:
        rs = engine.start("r1", 1)
        while (item := rs.next_item()) is not None:
            now = datetime.now(UTC)
            region = Region(mask_of(item.case_id), spacing)
            shown = now - timedelta(seconds=4)
            rs.submit(ReadSubmission(item.case_id, answer, shown, now, 4000, confidence=likelihood, region=region))
        rs.close()
    finally:
        engine.close()


def _export_masks(study_dir: Path, out: Path) -> int:
    parser = argparse.ArgumentParser()
    export_masks.add_arguments(parser)
    return export_masks.run(parser.parse_args([str(study_dir), "--out", str(out)]))


def _report(study_dir: Path, out: Path) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args([str(study_dir), "--out", str(out)]))


def test_series_reads_give_their_volume_in_mm3_and_ml_in_masks_csv_and_reads_csv(tmp_path, capsys):
    # slices 1.5 mm apart (SliceThickness says 0.8), pixels 0.3125 mm: one voxel is 0.146484375 mm³
    study = write_series_region_study(tmp_path / "mr", n=2, offsets=(0.0, 1.5, 3.0, 4.5))
    first, second = study.case_ids
    drawn = {
        first: _box((4, 64, 64), {1: (10, 20, 10, 20), 2: (10, 20, 10, 20)}),  # 100 + 100 voxels
        second: _box((4, 64, 64), {1: (0, 20, 0, 20), 3: (30, 40, 30, 50)}),  # 400 + 200 voxels
    }
    hand = {first: (200, 29.296875), second: (600, 87.890625)}  # voxels, x 1.5 x 0.3125 x 0.3125 mm³
    _submit_all(study.path, drawn.get, MR_SPACING)

    assert _export_masks(study.path, tmp_path / "masks") == 0
    assert "no volume" not in capsys.readouterr().out
    masks = pd.read_csv(tmp_path / "masks" / "masks.csv").set_index("case")
    for cid, (voxels, mm3) in hand.items():
        row = masks.loc[cid]
        assert (row.slices, row.pixels, row.slice_mm) == (4, voxels, 1.5)
        assert row.area_mm2 == pytest.approx(voxels * 0.3125 * 0.3125, abs=1e-4)  # summed over slices
        assert row.volume_mm3 == pytest.approx(mm3, abs=1e-4) and row.volume_ml == pytest.approx(mm3 / 1000, abs=1e-7)

    assert _report(study.path, tmp_path / "out") == 0
    reads = pd.read_csv(tmp_path / "out" / "reads.csv").set_index("case_id")
    columns = list(reads.columns)
    assert columns.index("region_volume_mm3") == columns.index("region_area_mm2") + 1
    assert columns.index("region_volume_ml") == columns.index("region_area_mm2") + 2
    cases = pd.read_csv(tmp_path / "out" / "region_cases.csv")
    for cid, (voxels, mm3) in hand.items():
        row = reads.loc[cid]
        assert row.region_pixels == voxels
        assert row.region_volume_mm3 == pytest.approx(mm3) and row.region_volume_ml == pytest.approx(mm3 / 1000)
        # the same figure as the report's own per-read table
        scored = cases[(cases.reader == "r1") & (cases.case_id == cid)].iloc[0]
        assert scored.volume_mm3 == pytest.approx(row.region_volume_mm3)


def test_2d_image_reads_leave_the_volume_columns_empty(tmp_path):
    study = write_region_study(tmp_path / "photos", n=2, size=96, retina=False)
    box = {0: (10, 30, 10, 40)}  # 20 x 30 px
    _submit_all(study.path, lambda c: _box(study.shapes[c], box), (SPACING_MM, SPACING_MM), "1", 70.0)
    assert _export_masks(study.path, tmp_path / "masks") == 0
    masks = pd.read_csv(tmp_path / "masks" / "masks.csv")
    assert list(masks.pixels) == [600, 600] and masks.area_mm2.notna().all()
    assert masks[["slice_mm", "volume_mm3", "volume_ml"]].isna().all().all()
    assert _report(study.path, tmp_path / "out") == 0
    reads = pd.read_csv(tmp_path / "out" / "reads.csv")
    assert list(reads.region_pixels) == [600, 600]
    assert reads[["region_volume_mm3", "region_volume_ml"]].isna().all().all()


def test_export_masks_names_a_series_without_an_even_slice_spacing_and_leaves_its_volume_empty(tmp_path, capsys):
    study = write_series_region_study(tmp_path / "mr", n=2)
    first, lost = study.case_ids
    folder = study.path / "media" / lost
    for f in folder.iterdir():
        f.unlink()
    write_mr_series(folder, n=4, seed=1, offsets=(0.0, 0.8, 2.4, 3.2))  # a slice lost: steps 0.8, 1.6, 0.8 mm
    _submit_all(study.path, lambda c: study.truth_masks[c], MR_SPACING)
    assert _export_masks(study.path, tmp_path / "masks") == 0  # the masks are still exported
    out = capsys.readouterr().out
    assert "no volume (volume_mm3 and volume_ml left empty) for 1 series:" in out
    assert f"case {lost}: {folder}: slices are not evenly spaced" in out and f"case {first}" not in out
    masks = pd.read_csv(tmp_path / "masks" / "masks.csv").set_index("case")
    assert masks.loc[first].volume_mm3 == pytest.approx(study.truth_masks[first].sum() * 0.8 * 0.3125**2, abs=1e-4)
    assert masks.loc[lost][["slice_mm", "volume_mm3", "volume_ml"]].isna().all()
    assert masks.loc[lost].pixels == study.truth_masks[lost].sum() and masks.loc[lost].area_mm2 > 0
