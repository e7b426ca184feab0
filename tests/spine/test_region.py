"""Region masks round-trip through their stored form, shapes and all."""

import numpy as np
import pytest

from study.region import Region, decode_mask, encode_mask


@pytest.mark.parametrize("shape", [(7, 11), (1, 7, 11), (3, 5, 9)])
def test_mask_round_trips(shape):
    rng = np.random.default_rng(0)
    mask = rng.random(shape) > 0.5
    back = decode_mask(encode_mask(mask))
    assert back.shape == mask.shape and back.dtype == bool
    assert np.array_equal(back, mask)


def test_non_bool_and_garbage_are_refused():
    with pytest.raises(ValueError, match="bool"):
        encode_mask(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="not a stored region mask"):
        decode_mask(b"not a png")


def test_area_needs_spacing():
    mask = np.zeros((10, 10), bool)
    mask[2:5, 2:6] = True
    assert Region(mask).pixels == 12 and Region(mask).area_mm2 is None
    assert Region(mask, (0.5, 0.25)).area_mm2 == pytest.approx(12 * 0.125)
