"""Region editing geometry against scikit-image: polygon fill, outline fitting, brush, AI mask."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import draw

from study.region import ai_region_mask, read_mask_file
from study.regiongeometry import circularity, mask_polygon, paint_stroke, polygon_mask


@pytest.mark.parametrize("n", [3, 4, 7, 32, 120])
def test_polygon_fill_equals_skimage(n):
    rng = np.random.default_rng(n)
    v = rng.random((n, 2)) * 260 - 20  # partly outside the image, self-intersecting
    expected = np.zeros((200, 230), bool)
    rr, cc = draw.polygon(v[:, 1] - 0.5, v[:, 0] - 0.5, expected.shape)  # pixel centres at +0.5
    expected[rr, cc] = True
    assert np.array_equal(polygon_mask(v, expected.shape), expected)


def test_outline_of_a_disc_fills_back_to_it():
    yy, xx = np.mgrid[0:300, 0:300]
    disc = (yy - 140) ** 2 + (xx - 160) ** 2 <= 80**2
    v = mask_polygon(disc)
    back = polygon_mask(v, disc.shape)
    dice = 2 * (back & disc).sum() / (back.sum() + disc.sum())
    assert dice > 0.99 and 8 <= len(v) <= 80
    assert 0.85 < circularity(disc) <= 1.0  # a digital perimeter runs a little long
    assert mask_polygon(np.zeros((5, 5), bool)).shape == (0, 2)


def test_brush_stroke_is_continuous():
    m = np.zeros((50, 100), bool)
    assert paint_stroke(m, np.array([(10.0, 25.0), (90.0, 25.0)]), 3, True)
    assert m[25, 10:90].all() and not m[5].any()
    assert paint_stroke(m, np.array([(50.0, 25.0)]), 5, False) and not m[25, 50]


def test_ai_mask_is_resampled_and_cut_at_half(tmp_path):
    probs = np.zeros((1, 8, 8), np.float16)
    probs[0, 2:6, 2:6] = 0.9
    mask = ai_region_mask(probs, (64, 64))
    assert mask.shape == (1, 64, 64) and mask[0, 32, 32] and not mask[0, 2, 2]
    from PIL import Image

    Image.fromarray((mask[0] * 200).astype(np.uint8)).save(tmp_path / "m.png")
    assert np.array_equal(read_mask_file(tmp_path / "m.png"), mask[0])
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(ValueError, match="bad.png: not a readable mask"):
        read_mask_file(tmp_path / "bad.png")
