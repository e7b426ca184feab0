"""The OCTA demo study (study 5): FAZ masks, glaucoma labels, spacing, determinism, signal."""

from __future__ import annotations

import csv
import json
import tomllib

import numpy as np
import pytest
from PIL import Image

from study.demo.octa import SIZE, SPACING_MM, build_octa
from study.media import load
from study.stats.regions import circularity
from tests.demo.helpers import auc, tree_digest


@pytest.fixture(scope="module")
def octa(small_study):
    return small_study("octa")


def _rows(folder, name="cases.csv"):
    with (folder / name).open(newline="") as f:
        return list(csv.DictReader(f))


def test_protocol_is_a_region_task_with_a_glaucoma_likelihood(octa):
    data = tomllib.loads((octa / "study.toml").read_text())
    task = data["task"]
    assert (task["kind"], task["region"], task["also"], task["confidence"]) == ("region", "FAZ", "binary", "0-100")
    assert task["labels"] == ["normal", "glaucoma"]
    assert task["spacing_mm"] == pytest.approx(3.0 / 304) and task["role"] == "octa"
    assert task["also_question"] == "Glaucoma?"
    assert data["hanging"]["roles"] == ["octa"] and data["model"]["spec"] == "models/octa/model.toml"
    assert json.loads((octa / "demo.json").read_text())["spacing_mm"] == [SPACING_MM, SPACING_MM]


def test_every_case_has_an_image_and_a_truth_mask_of_its_size(octa):
    rows = _rows(octa)
    assert len(rows) == 12 and {r["truth"] for r in rows} == {"0", "1"}
    latent = {r["case_id"]: r for r in _rows(octa, "latent.csv")}
    for row in rows:
        media = load(str(octa / row["octa"]))
        assert media.frames.shape == (1, SIZE, SIZE) and media.frames.dtype == np.uint8
        with Image.open(octa / row["truth_mask"]) as im:
            assert im.mode == "1" and im.size == (SIZE, SIZE)
            assert im.info["dpi"][0] == pytest.approx(25.4 / SPACING_MM, rel=1e-3)
            mask = np.asarray(im, dtype=bool)
        area = mask.sum() * SPACING_MM**2
        assert float(latent[row["case_id"]]["faz_area_mm2"]) == pytest.approx(area, abs=1e-4)
        # The FAZ is dark: the image inside the mask is much darker than the ring of tissue around it.
        img = media.frames[0].astype(float)
        assert img[mask].mean() < 0.5 * img[~mask].mean()
        # It sits near the centre of the scan.
        rows_, cols_ = np.nonzero(mask)
        assert abs(rows_.mean() - SIZE / 2) < 40 and abs(cols_.mean() - SIZE / 2) < 40


def test_glaucoma_enlarges_the_faz_with_overlap(tmp_path):
    folder = build_octa(tmp_path / "octa", seed=11, n=80)
    rows = _rows(folder, "latent.csv")
    y = np.array([int(r["glaucoma"]) for r in rows])
    area = np.array([float(r["faz_area_mm2"]) for r in rows])
    circ = np.array([float(r["faz_circularity"]) for r in rows])
    assert 0.7 < auc(area, y) < 0.97  # informative, not perfect
    assert 0.5 < auc(-circ, y) < 0.97  # less circular in glaucoma
    assert 0.15 < area[y == 0].mean() < 0.35 < area[y == 1].mean() < 0.5


def test_build_is_deterministic(tmp_path):
    a = build_octa(tmp_path / "a", seed=3, n=4)
    b = build_octa(tmp_path / "b", seed=3, n=4)
    c = build_octa(tmp_path / "c", seed=4, n=4)
    assert tree_digest(a) == tree_digest(b) != tree_digest(c)


def test_circularity_of_a_disc_and_a_bar():
    yy, xx = np.mgrid[:200, :200]
    disc = np.hypot(yy - 100, xx - 100) < 60
    bar = (abs(yy - 100) < 5) & (abs(xx - 100) < 80)
    assert circularity(disc) == pytest.approx(1.0, abs=0.05)
    assert circularity(bar) < 0.3
    assert circularity(np.zeros((5, 5), bool)) == 0.0
