"""Mask overlays (the AI's region, a reader's region): outline or fill, colour, opacity, on / off
with A, style with O, and on a series slice by slice — checked in the rendered pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt


def quarter_masks(n: int, h: int = 64, w: int = 48) -> np.ndarray:
    """Slice k: the top-left quarter on even slices, nothing on odd ones."""
    m = np.zeros((n, h, w), bool)
    m[::2, : h // 2, : w // 2] = True
    return m


def inside_and_outside(px: np.ndarray, vp) -> tuple[np.ndarray, np.ndarray]:
    """(B, G, R) at the centre of the top-left quarter and of the opposite quarter."""
    rect = vp.view_box.mapViewToScene(vp.image_extent).boundingRect()
    x0, y0, w, h = rect.x(), rect.y(), rect.width(), rect.height()
    return px[int(y0 + h / 4), int(x0 + w / 4)].astype(int), px[int(y0 + 3 * h / 4), int(x0 + 3 * w / 4)].astype(int)


def test_fill_colours_the_inside_only_and_follows_the_slice(viewport, make_series, pixels, qtbot):
    viewport.set_media(make_series(n=4))
    bare = pixels(viewport)
    viewport.set_mask(quarter_masks(4))
    viewport.set_mask_style("fill", color="#00ff00", opacity=0.6)
    viewport.set_slice(2)
    filled = pixels(viewport)
    viewport.set_mask(None)
    plain2 = pixels(viewport)
    viewport.set_mask(quarter_masks(4))
    inside, outside = inside_and_outside(filled, viewport)
    inside0, outside0 = inside_and_outside(plain2, viewport)
    assert inside[1] - inside0[1] > 60 and inside[2] <= inside0[2]  # (B, G, R): green added inside
    assert np.array_equal(outside, outside0)  # the image outside is untouched
    viewport.set_slice(3)  # an odd slice: no region there
    on_empty = pixels(viewport)
    viewport.set_mask(None)
    assert np.array_equal(on_empty, pixels(viewport))
    assert bare.shape == filled.shape


def test_a_toggles_and_o_cycles_the_style(viewport, make_series, pixels, qtbot):
    viewport.set_media(make_series(n=2), mask=quarter_masks(2))
    assert viewport.mask_style == "outline" and viewport.outline.isVisible() and not viewport.mask_fill.isVisible()
    with qtbot.waitSignal(viewport.mask_toggled) as sig:
        qtbot.keyClick(viewport, Qt.Key.Key_A)
    assert sig.args == [False] and not viewport.outline.isVisible() and not viewport.mask_fill.isVisible()
    qtbot.keyClick(viewport, Qt.Key.Key_A)
    shown = []
    for _ in range(3):
        qtbot.keyClick(viewport, Qt.Key.Key_O)
        shown.append((viewport.mask_style, viewport.outline.isVisible(), viewport.mask_fill.isVisible()))
    assert shown == [("fill", False, True), ("both", True, True), ("outline", True, False)]
    with pytest.raises(ValueError, match="mask style 'dotted'"):
        viewport.set_mask_style("dotted")


def test_opacity_changes_the_fill_strength(viewport, make_series, pixels):
    viewport.set_media(make_series(n=1), mask=quarter_masks(1))
    viewport.set_mask_style("fill", color="#ff0000", opacity=0.2)
    faint = inside_and_outside(pixels(viewport), viewport)[0]
    viewport.set_mask_style(opacity=0.9)
    strong = inside_and_outside(pixels(viewport), viewport)[0]
    assert strong[2] > faint[2] + 50 and strong[0] < faint[0] and viewport.mask_fill.fill_opacity == pytest.approx(0.9)
