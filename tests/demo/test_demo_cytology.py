"""The cytology demo study: protocol, class balance, images, boxes, determinism, signal."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from study.cases import load_cases
from study.demo.cytology import LABELS, SIZE, build_cytology, read_fields, render_field
from study.demo.labels import read_latent, read_lesions
from study.media import load
from study.protocol import load_protocol
from study.specimen import field_paths
from tests.demo.helpers import auc, tree_digest


@pytest.fixture(scope="module")
def cyto(small_study):
    return small_study("cytology")


def test_protocol_is_a_triage_multiclass_study(cyto):
    p = load_protocol(cyto)
    assert (p.mode, p.design) == ("triage", "concurrent")
    assert (p.task.kind, p.task.labels, p.task.positive) == ("multiclass", LABELS, ("CIN2+",))
    assert p.hanging.roles == ("photo",) and p.model_spec == "models/cytology/model.toml"


def test_classes_balanced_as_specified(cyto):
    cases = load_cases(cyto, load_protocol(cyto))
    counts = {label: sum(c.truth == label for c in cases) for label in LABELS}
    assert counts == {"normal": 5, "CIN1": 4, "CIN2+": 3}  # 40/30/30 % of 12, exactly
    latent = read_latent(cyto)
    assert all(latent[f["field_id"]]["label"] == f["truth"] for f in read_fields(cyto))


def test_specimens_have_2_to_5_fields_and_the_class_of_their_worst_field(cyto):
    """Issue 17: as in the source study, a slide's class is its most severe field."""
    fields = read_fields(cyto)
    by_specimen: dict[str, list[dict]] = {}
    for f in fields:
        by_specimen.setdefault(f["specimen_id"], []).append(f)
    cases = load_cases(cyto, load_protocol(cyto))
    assert {c.case_id for c in cases} == set(by_specimen)
    for case in cases:
        mine = sorted(by_specimen[case.case_id], key=lambda f: f["field_id"])
        assert 2 <= len(mine) <= 5
        assert field_paths(case.media["photo"]) == tuple(str((cyto / f["photo"]).resolve()) for f in mine)
        severity = {"normal": 0, "CIN1": 1, "CIN2+": 2}
        assert case.truth == max((f["truth"] for f in mine), key=severity.__getitem__)
    # Not every field of an abnormal slide is abnormal: the gallery has something to rank.
    assert any(f["truth"] == "normal" for c in cases if c.truth != "normal" for f in by_specimen[c.case_id])


def test_images_are_pap_coloured_rgb_png(cyto):
    for f in read_fields(cyto):
        path = cyto / f["photo"]
        with Image.open(path) as im:
            assert (im.format, im.mode, im.size) == ("PNG", "RGB", (SIZE, SIZE))
            px = np.asarray(im, float)
        media = load(path)
        assert media.kind == "image" and media.frames.shape == (1, SIZE, SIZE, 3)
        # Pale background dominates; some blue-green or pink cytoplasm; dark nuclei exist.
        lum = px.mean(axis=2)
        assert np.median(lum) > 180 and (lum < 110).any()
        assert ((px[..., 2] > px[..., 0] + 20) | (px[..., 0] > px[..., 1] + 40)).mean() > 0.02


def test_abnormal_cells_are_boxed(cyto):
    boxes = read_lesions(cyto)
    for field in read_fields(cyto):
        found = boxes.get((field["field_id"], "photo"), [])
        if field["truth"] == "normal":
            assert len(found) <= 1  # at most one reactive cell
        else:
            assert len(found) >= 2
        for b in found:
            assert 0 <= b.row0 < b.row1 <= SIZE and 0 <= b.col0 < b.col1 <= SIZE


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = tree_digest(build_cytology(tmp_path / "a", seed=3, n=4))
    assert a == tree_digest(build_cytology(tmp_path / "b", seed=3, n=4))
    c = tree_digest(build_cytology(tmp_path / "c", seed=4, n=4))
    assert a["cases.csv"] != c["cases.csv"]
    assert {v for k, v in a.items() if k.endswith(".png")}.isdisjoint(v for k, v in c.items() if k.endswith(".png"))


def test_nuclear_darkness_separates_cin2_but_not_perfectly():
    """Fraction of dark (nuclear) pixels: a real but imperfect cue for CIN2+."""
    dark, grade = [], []
    for i in range(60):
        img, _, _ = render_field(5, i, i % 3)
        dark.append((img.astype(float).mean(axis=2) < 90).mean())
        grade.append(i % 3)
    grade = np.array(grade)
    assert 0.7 <= auc(dark, grade == 2) <= 0.99
    # and darkness grows with grade on average
    means = [np.mean(np.array(dark)[grade == g]) for g in range(3)]
    assert means[0] < means[1] < means[2]


def test_the_full_demo_adds_whole_slide_specimens_that_validate(tmp_path):
    """Issue 17: the demo's cytology study holds whole-slide specimens (tiled JPEG pyramids read
    through tiffslide) as cases of their own, class CIN2+, with truth boxes; they decode like
    every other case and are not training fields."""
    import csv

    from study.intake.validate import validate_study

    study = build_cytology(tmp_path / "c", 7, 3, slides=2)
    cases = {c.case_id: c for c in load_cases(study, load_protocol(study))}
    slides = [c for c in cases.values() if c.media["photo"].endswith((".tif", ".svs"))]
    assert len(cases) == 5 and len(slides) == 2
    for case in slides:
        media = load(case.media["photo"])
        assert media.kind == "wsi" and case.truth == LABELS[-1]
    assert not {f["specimen_id"] for f in read_fields(study)} & {c.case_id for c in slides}
    with open(study / "media" / "slides" / "wsi_regions.csv", newline="") as fh:
        boxes = list(csv.DictReader(fh))
    assert {b["file"] for b in boxes} == {"WSI01.tif", "WSI02.svs"}
    findings = validate_study(study, load_protocol(study), tuple(cases.values()))
    assert not findings, findings
