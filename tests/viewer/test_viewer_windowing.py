"""Window/level arithmetic and presets (pure numpy)."""

from __future__ import annotations

import numpy as np

from app.viewer.windowing import CT_PRESETS, Windower, default_window, presets, volume_stats
from study.media.types import Media


def test_windower_maps_the_window_linearly_and_clips():
    w = Windower(center=100.0, width=200.0)  # 0 .. 200
    out = w(np.array([[-50.0, 0.0, 100.0, 200.0, 1e6]], np.float32))
    assert out.dtype == np.uint8
    assert out.tolist() == [[0, 0, 127, 255, 255]]
    assert w(np.array([[0, 200]], np.uint16)).tolist() == [[0, 255]]
    assert w(np.array([[-1000, 100]], np.int16)).tolist() == [[0, 127]]


def test_windower_turns_nan_black_without_warnings():
    out = Windower(0.0, 10.0)(np.array([np.nan, 5.0], np.float32))
    assert out.tolist() == [0, 255]


def test_zero_width_is_kept_positive():
    assert Windower(5.0, 0.0).width > 0


def test_presets_and_defaults():
    ct = Media(frames=np.linspace(-1000, 2000, 2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8), kind="series")
    stats = volume_stats(ct.frames)
    assert stats.ct_like and stats.minimum == -1000.0 and stats.maximum == 2000.0
    names = presets(ct, stats)
    assert all(names[k] == v for k, v in CT_PRESETS.items())
    assert default_window(ct, stats) == names["auto (1-99%)"]

    photo = Media(frames=np.zeros((1, 4, 4), np.uint8), kind="image")
    assert default_window(photo, None) == (127.5, 255.0)
    color = Media(frames=np.zeros((1, 4, 4, 3), np.uint8), kind="image")
    assert default_window(color, None) is None and presets(color, stats) == {}


def test_all_nan_volume_has_usable_stats():
    stats = volume_stats(np.full((2, 4, 4), np.nan, np.float32))
    assert stats.maximum > stats.minimum
