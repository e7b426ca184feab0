"""WsiViewerWidget driven with qtbot: pyramid levels, off-thread tiles, pan, zoom, heatmap, top-k jumps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.viewer import HangingLayoutWidget
from app.viewer.wsi_tiles import DISPLAY_TILE, TileCache, TileKey, choose_level, read_tile, tile_box, tiles_for_view
from app.viewer.wsi_view import WsiViewerWidget
from study.media import load
from study.media.wsi import open_slide
from study.wsi_scores import SlideScores, from_cams, to_cams, top_tiles

TILE0 = 256  # score-map cell, level-0 pixels


def _scores(spec) -> SlideScores:
    """A hand-made score map: 0.9 on the truth regions' cells, 0.1 on the rest."""
    w, h = spec.size
    gh, gw = -(-h // TILE0), -(-w // TILE0)
    score = np.full((gh, gw), 0.1, np.float32)
    for k, r in enumerate(spec.regions):
        score[(r.y + r.height // 2) // TILE0, (r.x + r.width // 2) // TILE0] = 0.9 - 0.1 * k
    top = top_tiles(score, 3)
    return SlideScores(score, TILE0, top, np.zeros((3, 8, 8), np.float32), spec.size)


@pytest.fixture
def viewer(qtbot):
    w = WsiViewerWidget()
    qtbot.addWidget(w)
    w.resize(900, 600)
    with qtbot.waitExposed(w):  # waits only as a context manager
        w.show()
    yield w
    w.clear()


def _wait_tiles(qtbot, w: WsiViewerWidget) -> None:
    qtbot.waitUntil(lambda: set(w.wanted_tiles) <= w.shown_tiles and not w.loading, timeout=10000)


# -- tile logic (no Qt) ------------------------------------------------------------
def test_level_and_tiles_follow_the_zoom(wsi_slides):
    with open_slide(wsi_slides["svs"].path) as slide:
        info = slide.info
        assert [choose_level(info, p) for p in (0.5, 1.0, 1.9, 2.0, 3.9, 4.0, 40.0)] == [0, 0, 0, 1, 1, 2, 2]
        keys = tiles_for_view(info, 1, (0, 0, 2048, 1536))
        assert sorted(keys) == [TileKey(1, c, r) for c in range(2) for r in range(2)]
        assert tiles_for_view(info, 0, (600, 600, 10, 10)) == [TileKey(0, 1, 1)]
        assert tile_box(info, TileKey(1, 1, 1)) == (1024.0, 1024.0, 1024.0, 512.0)  # edge tile: 512 x 256 level px
        tile = read_tile(slide, TileKey(1, 1, 1))
        assert tile.shape == (256, 512, 3)
        np.testing.assert_array_equal(tile, slide.read_region((1024, 1024), 1, (512, 256)))


def test_tile_cache_is_least_recently_used():
    cache = TileCache(max_tiles=2)
    a, b, c = TileKey(0, 0, 0), TileKey(0, 1, 0), TileKey(0, 2, 0)
    cache.put(a, np.zeros(1))
    cache.put(b, np.ones(1))
    assert cache.get(a) is not None  # a is now the most recent
    cache.put(c, np.ones(1))
    assert a in cache and c in cache and b not in cache and len(cache) == 2
    with pytest.raises(ValueError, match="at least 1"):
        TileCache(0)


def test_scores_round_trip_through_ai_output_cams(wsi_slides):
    spec = wsi_slides["subifds"]
    scores = _scores(spec)
    cams = to_cams("slide", scores)
    back = from_cams("slide", {k: v.astype(np.float16) for k, v in cams.items()}, spec.size)  # as the store keeps them
    assert back.tile_size == TILE0 and [(t.row, t.col) for t in back.top] == [(t.row, t.col) for t in scores.top]
    np.testing.assert_allclose(back.score_map, scores.score_map, atol=1e-3)
    assert from_cams("other", cams, spec.size) is None
    big = SlideScores(np.zeros((10, 3000), np.float32), 256, (), np.zeros((0, 0, 0)), (1, 1))
    with pytest.raises(ValueError, match="exceeds 2048"):
        to_cams("slide", big)


# -- the widget ---------------------------------------------------------------
def test_first_view_shows_the_whole_slide_then_its_tiles(qtbot, viewer, wsi_slides):
    with qtbot.waitSignal(viewer.tiles_loaded, timeout=10000):
        viewer.set_slide(str(wsi_slides["subifds"].path))
    thumb = viewer.thumbnail_item.pixmap()  # never an empty view while tiles load
    assert (thumb.width(), thumb.height()) == (512, 384) and viewer.thumbnail_item.scale() == 4.0
    _wait_tiles(qtbot, viewer)
    # 900 px wide view (minus the side panel) over 2048 px: ~3 level-0 px per screen px -> level 1.
    assert viewer.current_level == 1
    assert viewer.shown_tiles == {TileKey(1, c, r) for c in range(2) for r in range(2)}
    with open_slide(wsi_slides["subifds"].path) as slide:
        np.testing.assert_array_equal(viewer.cache.get(TileKey(1, 0, 0)), read_tile(slide, TileKey(1, 0, 0)))
    assert not viewer.top_list.isVisible()  # no AI given: no heatmap controls
    # Another slide of the same size: same view range, its own tiles all the same.
    with qtbot.waitSignal(viewer.tiles_loaded, timeout=10000):
        viewer.set_slide(str(wsi_slides["svs"].path))
    _wait_tiles(qtbot, viewer)
    assert viewer.shown_tiles == {TileKey(1, c, r) for c in range(2) for r in range(2)}
    with open_slide(wsi_slides["svs"].path) as slide:
        np.testing.assert_array_equal(viewer.cache.get(TileKey(1, 1, 1)), read_tile(slide, TileKey(1, 1, 1)))


def test_zoom_switches_level_and_pan_fetches_new_tiles(qtbot, viewer, wsi_slides):
    viewer.set_slide(str(wsi_slides["svs"].path))
    _wait_tiles(qtbot, viewer)
    with qtbot.waitSignal(viewer.level_changed, timeout=5000) as sig:
        viewer.zoom_by(4.0)
    assert sig.args == [0]
    n = viewer.slide.info.level_count
    assert viewer.level_label.text().startswith(f"level 1 of {n} (1:1)")  # counted from 1: full resolution
    _wait_tiles(qtbot, viewer)
    assert viewer.shown_tiles and all(k.level == 0 for k in viewer.shown_tiles)
    before = viewer.box.viewRect()
    first = set(viewer.wanted_tiles)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    after = viewer.box.viewRect()
    assert after.x() == pytest.approx(before.x() + 0.4 * before.width()) and after.y() == pytest.approx(before.y())
    viewer.pan_by(1.5, 0.0)
    _wait_tiles(qtbot, viewer)
    assert set(viewer.wanted_tiles) != first
    # Back to where we were: every tile is cached, so no decode is requested.
    viewer.box.setRange(before, padding=0)
    assert set(viewer.wanted_tiles) <= viewer.shown_tiles
    assert not viewer.loading
    qtbot.keyClick(viewer, Qt.Key.Key_0)  # whole slide again
    assert viewer.current_level == 1


def test_mouse_wheel_zooms(qtbot, viewer, wsi_slides):
    viewer.set_slide(str(wsi_slides["svs"].path))
    width = viewer.box.viewRect().width()
    for _ in range(6):
        viewer.box.scaleBy((0.8, 0.8))
    assert viewer.box.viewRect().width() < width * 0.3
    assert viewer.current_level == 0


def test_heatmap_toggle_opacity_and_top_tile_jumps(qtbot, viewer, wsi_slides):
    spec = wsi_slides["subifds"]
    scores = _scores(spec)
    viewer.set_slide(str(spec.path), scores)
    assert viewer.top_list.isVisible() and viewer.top_list.count() == 3
    assert viewer.heatmap.isVisible()
    np.testing.assert_array_equal(viewer.heatmap.maps[0], scores.score_map)
    with qtbot.waitSignal(viewer.heatmap_toggled) as sig:
        qtbot.keyClick(viewer, Qt.Key.Key_H)
    assert sig.args == [False] and not viewer.heatmap.isVisible()
    assert not any(box.isVisible() for box in viewer._boxes)  # the AI's picks go with the heatmap
    qtbot.keyClick(viewer, Qt.Key.Key_H)
    assert viewer.heatmap.isVisible()
    viewer.opacity_slider.setValue(80)
    assert viewer.heatmap.opacity() == pytest.approx(0.8)
    # Click the second of the AI's picks: the view zooms onto that tile.
    item = viewer.top_list.item(1)
    with qtbot.waitSignal(viewer.region_opened) as sig:
        rect = viewer.top_list.visualItemRect(item)
        qtbot.mouseClick(viewer.top_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sig.args == [1]
    x, y, w, h = scores.top[1].box(TILE0)
    view = viewer.box.viewRect()
    assert view.contains(x + w / 2, y + h / 2) and view.width() < 3 * w
    assert viewer.current_level == 0
    _wait_tiles(qtbot, viewer)
    # Digit 1 jumps to the most suspicious tile, which holds a truth region.
    qtbot.keyClick(viewer, Qt.Key.Key_1)
    x, y, w, h = scores.top[0].box(TILE0)
    assert viewer.box.viewRect().contains(x + w / 2, y + h / 2)
    assert any(r.contains(x + w / 2, y + h / 2) for r in spec.regions)
    viewer.grab().save("/tmp/wsi_viewer_top1.png")


def test_unaided_shows_no_ai(qtbot, viewer, wsi_slides):
    spec = wsi_slides["subifds"]
    viewer.set_slide(str(spec.path), _scores(spec))
    viewer.set_scores(None)
    assert not viewer.heatmap.isVisible() and not viewer.top_list.isVisible() and viewer.top_list.count() == 0
    qtbot.keyClick(viewer, Qt.Key.Key_1)  # nothing to jump to: no error
    with pytest.raises(IndexError):
        viewer.open_top(0)


def test_a_broken_tile_is_reported_not_swallowed(qtbot, viewer, wsi_slides, tmp_path):
    data = wsi_slides["subifds"].path.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: int(len(data) * 0.5)])
    try:
        viewer.set_slide(str(cut))
    except Exception as err:  # noqa: BLE001 - the header itself may already be cut
        assert str(cut) in str(err)
        return
    with qtbot.waitSignal(viewer.tile_failed, timeout=10000) as sig:
        viewer.zoom_by(8.0)
        viewer.box.setRange(viewer.box.viewRect().translated(0, 1000))
    assert str(cut) in sig.args[0]
    assert viewer.message_label.isVisible()


def test_hanging_layout_shows_a_slide_role_in_the_slide_viewer(qtbot, wsi_slides):
    spec = wsi_slides["subifds"]
    layout = HangingLayoutWidget()
    qtbot.addWidget(layout)
    layout.resize(1000, 600)
    layout.show()
    media = load(spec.path)
    layout.set_case({"slide": media}, to_cams("slide", _scores(spec)))
    viewer = layout.slide_viewer("slide")
    assert viewer is not None and viewer.isVisible()
    assert not layout.viewport("slide").isVisible()
    assert viewer.top_list.count() == 3
    with qtbot.waitSignal(layout.overlay_toggled):
        layout.set_overlays_visible(False)
    assert not viewer.heatmap.isVisible()
    _wait_tiles(qtbot, viewer)
    layout.grab().save("/tmp/wsi_layout.png")
    # The next case is a photo: the image viewport comes back.
    photo = load(spec.path).frames[0][:64, :64]
    from study.media.types import Media

    layout.set_case({"slide": Media(frames=photo[np.newaxis].copy(), kind="image")})
    assert layout.slide_viewer("slide") is None
    assert layout.viewport("slide").isVisible() and not viewer.isVisible()
    layout.clear()


def test_view_cli_opens_a_slide(wsi_slides, tmp_path, qapp):
    import argparse

    from app.viewer import cli

    png = tmp_path / "shot.png"
    args = argparse.Namespace(path=str(wsi_slides["svs"].path), overlay=None, screenshot=str(png))
    assert cli.run(args) == 0
    assert png.stat().st_size > 1000
    assert DISPLAY_TILE == 512
    cam = tmp_path / "cam.npy"
    np.save(cam, np.zeros((1, 4, 4), np.float32))
    args.overlay = str(cam)
    assert cli.run(args) == 2
