"""Whole-slide precompute with the real demo cytology model on the synthetic slides."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from inference.load import load_model
from inference.precompute import MemorySink, precompute
from inference.wsi_precompute import (
    SlideCancelled,
    find_tissue,
    read_field,
    read_fields,
    score_slide,
    slide_output,
    tile_size_for,
)
from study.media.wsi import open_slide
from study.protocol import HangingProtocol, Protocol, Task, protocol_to_toml
from study.store import Store
from study.wsi_scores import from_cams
from tests.admin_cli import ENV, PASSWORD, give_admin_password

CYTOLOGY = Path(__file__).resolve().parents[2] / "resources" / "models" / "cytology"


@pytest.fixture(scope="module")
def cytology_model():
    return load_model(CYTOLOGY / "model.toml")


def _cells_of(region, tile):
    return {
        (r, c)
        for r in range(region.y // tile, (region.y + region.height - 1) // tile + 1)
        for c in range(region.x // tile, (region.x + region.width - 1) // tile + 1)
    }


def test_otsu_tissue_covers_the_cells_and_not_the_glass(wsi_slides):
    spec = wsi_slides["subifds"]
    with open_slide(spec.path) as slide:
        assert tile_size_for(slide, 128, 1.0) == 256  # 128 px at 1 um/px over a 0.5 um/px scan
        grid = find_tissue(slide, 256)
    assert grid.tissue.shape == (6, 8)
    assert 0.02 < grid.threshold < 0.3  # between grey-white glass and stained cytoplasm
    for region in spec.regions:
        assert all(grid.tissue[r, c] for r, c in _cells_of(region, 256))
    assert 0.2 < grid.tissue.mean() < 0.95


def test_strip_reads_equal_field_reads(wsi_slides):
    cells = [(2, 5), (0, 0), (2, 1), (5, 7), (2, 3)]  # unordered, gaps, the slide's last cell
    with open_slide(wsi_slides["svs"].path) as slide:
        for tile, size in ((256, 128), (256, 256), (512, 128)):
            got = read_fields(slide, cells, tile, size)
            for k, (r, c) in enumerate(cells):
                np.testing.assert_array_equal(got[k], read_field(slide, r, c, tile, size))


@pytest.mark.slow
def test_slide_scores_put_the_suspicious_regions_on_top(cytology_model, wsi_slides):
    spec = wsi_slides["subifds"]
    calls = []
    scores = score_slide(cytology_model, spec.path, top_k=4, batch_size=8, progress=lambda *a: calls.append(a))
    tile = scores.tile_size
    truth = set().union(*(_cells_of(r, tile) for r in spec.regions))
    assert (scores.top[0].row, scores.top[0].col) in truth
    assert sum((t.row, t.col) in truth for t in scores.top[:2]) == 2
    others = [scores.score_map[r, c] for r, c in zip(*np.nonzero(scores.score_map), strict=True) if (r, c) not in truth]
    assert np.median(others) < 0.5  # ordinary tissue is not suspicious
    assert scores.specimen_score == pytest.approx(float(scores.score_map.max()))
    assert scores.top_cams.shape == (4, 128, 128) and 0 <= scores.top_cams.min() and scores.top_cams.max() <= 1
    assert len(scores.top_probabilities) == 3 and sum(scores.top_probabilities) == pytest.approx(1, abs=1e-4)
    done = [c[0] for c in calls]
    with open_slide(spec.path) as slide:
        n_tissue = int(find_tissue(slide, tile).tissue.sum())
    assert done[0] == 0 and done == sorted(done) and done[-1] == calls[-1][1] == n_tissue
    out = slide_output(cytology_model, scores, "S1", "photo")
    assert out.predicted == "CIN2+" and out.score == pytest.approx(scores.specimen_score)
    back = from_cams("photo", out.cams, spec.size)
    assert [(t.row, t.col) for t in back.top] == [(t.row, t.col) for t in scores.top]


def test_cancel_stops_between_batches(cytology_model, wsi_slides):
    cancel = threading.Event()
    seen = []

    def progress(done, total, eta):
        seen.append(done)
        if done > 0:
            cancel.set()

    with pytest.raises(SlideCancelled, match=r"cancelled after 4 of \d+ tiles"):
        score_slide(cytology_model, wsi_slides["svs"].path, batch_size=4, progress=progress, cancel=cancel)
    assert seen == [0, 4]


@pytest.mark.slow
def test_readerstudy_precompute_stores_a_slide_case(wsi_slides, tmp_path, monkeypatch, capsys):
    root = tmp_path / "study"
    (root / "media").mkdir(parents=True)
    shutil.copy(wsi_slides["svs"].path, root / "media" / "W1.svs")
    shutil.copytree(CYTOLOGY, root / "models" / "cyto")
    protocol = Protocol(
        "wsi",
        "WSI precompute",
        "concurrent",
        1,
        Task("multiclass", "Worst finding?", ("normal", "CIN1", "CIN2+"), positive=("CIN2+",)),
        HangingProtocol(("photo",)),
        model_spec="models/cyto/model.toml",
    )
    (root / "study.toml").write_text(protocol_to_toml(protocol))
    (root / "cases.csv").write_text("case_id,truth,patient_id,photo\nW1,CIN2+,P1,media/W1.svs\n")
    give_admin_password(root)
    monkeypatch.setenv(ENV, PASSWORD)
    assert main(["precompute", str(root)]) == 0, capsys.readouterr()
    store = Store.open(root)
    try:
        out = store.ai_output("W1")
    finally:
        store.close()
    scores = from_cams("photo", out.cams, wsi_slides["svs"].size)
    assert scores is not None and scores.tile_size == 256 and len(scores.top) == 5
    assert out.score == pytest.approx(float(scores.score_map.max()), abs=1e-3)
    truth = set().union(*(_cells_of(r, 256) for r in wsi_slides["svs"].regions))
    assert (scores.top[0].row, scores.top[0].col) in truth


def test_precompute_sink_gets_slide_outputs(cytology_model, wsi_slides):
    from types import SimpleNamespace

    sink = MemorySink()
    case = SimpleNamespace(case_id="S2", media={"photo": str(wsi_slides["svs"].path)})
    report = precompute(cytology_model, [case], sink)
    assert report.computed == 1 and not report.failed
    out = sink.outputs[(cytology_model.model_id, "S2")]
    assert "photo#scoremap" in out.cams and out.cams["photo"].shape[0] == 5
