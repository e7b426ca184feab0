"""CamOverlay and MaskOutline: what they change in the rendered pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.viewer.overlay import map_index, outline_path


def hot_cam(n: int, size: int = 8) -> np.ndarray:
    """A CAM hot (1.0) in the top-left quarter, cold (0.0) elsewhere, at its own resolution."""
    cam = np.zeros((n, size, size), np.float16)
    cam[:, : size // 2, : size // 2] = 1.0
    return cam


def hot_and_cold(px: np.ndarray, vp) -> tuple[np.ndarray, np.ndarray]:
    """Pixels at the centre of the hot quarter and of the cold opposite quarter."""
    rect = vp.view_box.mapViewToScene(vp.image_extent).boundingRect()
    x0, y0, w, h = rect.x(), rect.y(), rect.width(), rect.height()
    hot = px[int(y0 + h / 4), int(x0 + w / 4)].astype(int)
    cold = px[int(y0 + 3 * h / 4), int(x0 + 3 * w / 4)].astype(int)
    return hot, cold


def test_toggle_with_c_changes_and_restores_pixels(viewport, make_series, pixels, qtbot):
    viewport.set_media(make_series(), overlay=hot_cam(20))
    with_cam = pixels(viewport)
    with qtbot.waitSignal(viewport.overlay_toggled) as sig:
        qtbot.keyClick(viewport, Qt.Key.Key_C)
    assert sig.args == [False]
    without = pixels(viewport)
    hot_on, cold_on = hot_and_cold(with_cam, viewport)
    hot_off, cold_off = hot_and_cold(without, viewport)
    assert np.abs(hot_on - hot_off).sum() > 60  # the hot spot was coloured
    assert np.array_equal(cold_on, cold_off)  # below threshold: image untouched
    qtbot.keyClick(viewport, Qt.Key.Key_C)
    assert viewport.overlay.enabled
    assert np.array_equal(pixels(viewport), with_cam)


def test_opacity_changes_pixels(viewport, make_series, pixels, qtbot):
    viewport.set_media(make_series(), overlay=hot_cam(20))
    viewport.overlay.set_opacity(0.2)
    faint, _ = hot_and_cold(pixels(viewport), viewport)
    with qtbot.waitSignal(viewport.overlay.opacity_changed) as sig:
        viewport.overlay.set_opacity(0.9)
    assert sig.args == [pytest.approx(0.9)]
    strong, _ = hot_and_cold(pixels(viewport), viewport)
    # jet at 1.0 is dark red: more opacity means more red than blue/green (memory order B, G, R)
    assert strong[2] - strong[0] > faint[2] - faint[0] + 40


def test_strength_scales_the_drawn_heat_and_keeps_the_reader_s_opacity(viewport, make_series, pixels, qtbot):
    """study.heat: the AI's score scales the heat on screen; the reader's slider value is kept."""
    viewport.set_media(make_series(), overlay=hot_cam(20))
    viewport.overlay.set_opacity(0.8)
    plain = pixels(viewport)
    full, _ = hot_and_cold(plain, viewport)
    viewport.overlay.set_strength(0.1)
    assert viewport.overlay.opacity() == pytest.approx(0.08) and viewport.overlay.chosen_opacity == 0.8
    faint, _ = hot_and_cold(pixels(viewport), viewport)
    viewport.overlay.set_enabled(False)
    bare, _ = hot_and_cold(pixels(viewport), viewport)
    viewport.overlay.set_enabled(True)
    assert np.abs(faint - bare).sum() < 0.2 * np.abs(full - bare).sum()  # a faint tint, not a blot
    with qtbot.waitSignal(viewport.overlay.opacity_changed) as sig:
        viewport.overlay.set_opacity(0.5)  # the reader's slider moves: still scaled
    assert sig.args == [pytest.approx(0.5)] and viewport.overlay.opacity() == pytest.approx(0.05)
    viewport.overlay.set_strength(1.0)
    assert viewport.overlay.opacity() == pytest.approx(0.5)


def test_threshold_and_colormap(viewport, make_series, pixels):
    viewport.set_media(make_series(), overlay=hot_cam(20) * np.float16(0.5))
    viewport.overlay.set_opacity(1.0)
    hot_jet, _ = hot_and_cold(pixels(viewport), viewport)
    viewport.overlay.set_colormap("inferno")
    hot_inferno, _ = hot_and_cold(pixels(viewport), viewport)
    assert not np.array_equal(hot_jet, hot_inferno)
    viewport.overlay.set_threshold(0.6)  # above the map's 0.5: nothing drawn
    hidden = pixels(viewport)
    viewport.overlay.set_enabled(False)
    assert np.array_equal(hidden, pixels(viewport))
    with pytest.raises(ValueError, match="unknown colormap"):
        viewport.overlay.set_colormap("rainbow")


def test_low_resolution_cam_covers_the_whole_image(viewport, make_series):
    viewport.set_media(make_series(h=64, w=48, spacing=(0.5, 0.8)), overlay=hot_cam(20, size=7))
    assert viewport.overlay.isVisible()
    img = viewport.image_item.sceneBoundingRect()
    cam = viewport.overlay.sceneBoundingRect()
    for a, b in ((img.x(), cam.x()), (img.y(), cam.y()), (img.width(), cam.width()), (img.height(), cam.height())):
        assert a == pytest.approx(b, abs=0.5)


def test_overlay_follows_slices(viewport, make_series, pixels):
    cam = np.zeros((20, 8, 8), np.float16)
    cam[5, :4, :4] = 1.0  # only slice 5 has a hot spot
    viewport.set_media(make_series(), overlay=cam)
    plain = make_series()
    viewport.set_slice(5)
    hot5, _ = hot_and_cold(pixels(viewport), viewport)
    viewport.overlay.set_enabled(False)
    bare5, _ = hot_and_cold(pixels(viewport), viewport)
    viewport.overlay.set_enabled(True)
    viewport.set_slice(6)
    hot6, _ = hot_and_cold(pixels(viewport), viewport)
    viewport.set_media(plain)
    viewport.set_slice(6)
    bare6, _ = hot_and_cold(pixels(viewport), viewport)
    assert not np.array_equal(hot5, bare5)
    assert np.array_equal(hot6, bare6)


def test_map_index_by_fraction():
    assert map_index(7, 20, 20) == 7
    assert map_index(7, 20, 1) == 0
    assert map_index(19, 20, 5) == 4
    assert map_index(0, 20, 5) == 0
    assert map_index(10, 21, 3) == 1


def test_mask_outline_draws_the_boundary(viewport, make_series, pixels):
    mask = np.zeros((1, 16, 16), bool)
    mask[0, 4:12, 4:12] = True
    path = outline_path(mask[0])
    r = path.boundingRect()
    assert (r.x(), r.y(), r.width(), r.height()) == (4, 4, 8, 8)
    assert outline_path(np.zeros((5, 5))).isEmpty()

    viewport.set_media(make_series())
    bare = pixels(viewport)
    viewport.set_mask(mask)
    drawn = pixels(viewport)
    changed = np.argwhere(np.any(bare != drawn, axis=2))
    assert len(changed) > 0
    # changed pixels lie on the square's border (in scene pixels), not inside it
    outline = viewport.view_box.mapViewToScene(viewport.outline.mapRectToParent(r)).boundingRect()
    inner = outline.adjusted(4, 4, -4, -4)
    ys, xs = changed[:, 0], changed[:, 1]
    inside_inner = (xs > inner.left()) & (xs < inner.right()) & (ys > inner.top()) & (ys < inner.bottom())
    assert not inside_inner.any()


def test_bad_overlay_shape_is_rejected(viewport, make_series):
    viewport.set_media(make_series())
    with pytest.raises(ValueError, match="overlay maps must be"):
        viewport.set_overlay(np.zeros((2, 3, 4, 5)))


def test_nan_in_a_cam_is_drawn_as_zero(viewport, make_series, pixels):
    cam = hot_cam(20).astype(np.float32)
    cam[:, 4:, 4:] = np.nan
    viewport.set_media(make_series(), overlay=cam)  # warnings are errors: no invalid-cast warning
    with_nan = pixels(viewport)
    viewport.set_overlay(np.nan_to_num(cam))
    assert np.array_equal(with_nan, pixels(viewport))
