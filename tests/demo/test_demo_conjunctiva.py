"""The conjunctiva demo study: protocol, haemoglobin truth, photos, boxes, determinism, signal."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from study.cases import load_cases
from study.demo.common import rng_for
from study.demo.conjunctiva import HB_MAX, HB_MIN, SIZE, build_conjunctiva, draw_hb, render_photo
from study.demo.labels import read_latent, read_lesions
from study.media import load
from study.protocol import load_protocol
from tests.demo.helpers import auc, tree_digest


@pytest.fixture(scope="module")
def conj(small_study):
    return small_study("conjunctiva")


def test_protocol_is_a_numeric_task_in_g_per_dl(conj):
    p = load_protocol(conj)
    assert (p.task.kind, p.task.unit, p.task.min, p.task.max) == ("numeric", "g/dL", 3.0, 20.0)
    assert p.hanging.roles == ("photo",) and p.model_spec == "models/conjunctiva/model.toml"


def test_truth_values_and_photos(conj):
    latent, boxes = read_latent(conj), read_lesions(conj)
    cases = load_cases(conj, load_protocol(conj))
    hb = np.array([float(c.truth) for c in cases])
    assert ((hb >= HB_MIN) & (hb <= HB_MAX)).all() and hb.std() > 1.0
    for case in cases:
        assert float(latent[case.case_id]["hb"]) == pytest.approx(float(case.truth), abs=0.051)
        with Image.open(case.media["photo"]) as im:
            assert (im.format, im.mode, im.size) == ("PNG", "RGB", (SIZE, SIZE))
            px = np.asarray(im, float)
        assert load(case.media["photo"]).frames.shape == (1, SIZE, SIZE, 3)
        (box,) = boxes[(case.case_id, "photo")]
        assert 0 <= box.row0 < box.row1 <= SIZE and box.col1 - box.col0 > 80 and box.row1 - box.row0 > 20
        assert px.std() > 10


def test_haemoglobin_changes_only_the_boxed_conjunctiva_and_reddens_it():
    for i in range(6):
        pale, box, latent = render_photo(4, i, 7.0)
        red, box2, _ = render_photo(4, i, 16.0)
        assert box == box2
        changed = np.any(pale != red, axis=2)
        rows, cols = np.nonzero(changed)
        assert changed.sum() > 1000
        assert rows.min() >= box[0] and rows.max() < box[2] and cols.min() >= box[1] and cols.max() < box[3]
        redness = lambda a: (a[..., 0].astype(float) - a[..., 1]).mean()  # noqa: E731
        # An inflamed conjunctiva is red whatever the haemoglobin (a deliberate confounder).
        assert redness(red[changed]) > redness(pale[changed]) + (5 if latent["inflamed"] else 30)


def test_hb_distribution_has_anaemic_and_normal_subjects():
    hb = draw_hb(rng_for(1, "test"), 400)
    assert 0.3 < (hb < 11).mean() < 0.7 and hb.min() >= HB_MIN and hb.max() <= HB_MAX


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = tree_digest(build_conjunctiva(tmp_path / "a", seed=3, n=4))
    assert a == tree_digest(build_conjunctiva(tmp_path / "b", seed=3, n=4))
    c = tree_digest(build_conjunctiva(tmp_path / "c", seed=4, n=4))
    assert a["cases.csv"] != c["cases.csv"]
    assert {v for k, v in a.items() if k.endswith(".png")}.isdisjoint(v for k, v in c.items() if k.endswith(".png"))


def test_conjunctival_redness_flags_anaemia_but_not_perfectly():
    hbs = draw_hb(rng_for(2, "test"), 70)
    red = []
    for i, hb in enumerate(hbs):
        img, (r0, c0, r1, c1), _ = render_photo(11, i, float(hb))
        reg = img[(r0 + r1) // 2 : r1 - 3, c0 + (c1 - c0) // 3 : c1 - (c1 - c0) // 3].astype(float)
        red.append(((reg[..., 0] - reg[..., 1]) / (reg.sum(-1) + 1)).mean())
    assert 0.7 <= auc(red, hbs >= 11) <= 0.99
    assert np.corrcoef(red, hbs)[0, 1] > 0.5
