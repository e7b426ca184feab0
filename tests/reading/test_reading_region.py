"""Region answers on the real reading screen: the contour editor driven with the mouse and keys
(place vertices, drag a vertex, brush, erase, undo, Enter submits), the aided read starting from
the AI's contour (accepted unchanged, or edited), mask overlays toggled, the AI's measurements.

Screenshots of unaided drawing and aided editing go to ``$REGION_SHOTS`` when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.reading.region_answer import RegionAnswer
from study.regionreads import region_reads
from tests.reading.helpers import open_session
from tests.reading.region_mouse import click, drag
from tests.regionstudy import SPACING_MM, write_region_study


def _shot(widget, name: str) -> None:
    folder = os.environ.get("REGION_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def key(screen, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(screen, k, modifier)


@pytest.fixture(autouse=True)
def _moves(every_mouse_move):
    yield


@pytest.fixture
def region_study(tmp_path):
    return write_region_study(tmp_path / "study", n=2, size=160)


def _answer(screen) -> RegionAnswer:
    assert isinstance(screen.state.answer, RegionAnswer)
    return screen.state.answer


def test_unaided_drawing_drag_brush_undo_and_submit(qtbot, engine_factory, region_study, now, mono):
    engine = engine_factory(region_study)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: screen.region_editor is not None and screen.region_editor.canvas is not None)
    a = _answer(screen)
    assert a.ready and a.start is None and not a.mask.any()
    assert screen.region_viewport().outline.isVisible() is False  # no AI contour unaided
    assert not screen.submit_button.isEnabled()
    square = [(40, 40), (110, 40), (110, 110), (40, 110)]
    for x, y in square:
        click(screen, x, y)
    assert a.pixels == 70 * 70 and a.edit_count == 4
    assert "Area 1.96 mm\u00b2" in screen.region_editor.area_label.text()  # 4900 px x 0.02^2 mm^2
    _shot(window, "unaided_drawing")
    # drag the vertex at (110, 110) out to (130, 130)
    drag(screen, (110, 110), (130, 130))
    assert a.mask[0, 120, 120] and a.pixels > 4900 and a.edit_count == 5
    before = a.pixels
    key(screen, Qt.Key.Key_B)  # brush: a blob outside the polygon
    assert screen.region_editor.tool == "brush"
    drag(screen, (20, 140), (30, 140))
    assert a.mask[0, 140, 25] and a.pixels > before and a.edit_count == 6
    key(screen, Qt.Key.Key_E)
    drag(screen, (60, 60), (70, 60))
    assert not a.mask[0, 60, 65] and a.edit_count == 7
    key(screen, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the eraser stroke
    assert a.mask[0, 60, 65] and a.edit_count == 8
    # the combined question, then Enter
    key(screen, Qt.Key.Key_2)
    key(screen, Qt.Key.Key_Up)
    assert screen.submit_button.isEnabled()
    submitted_mask = a.mask[0].copy()
    mono.advance(3)
    case = screen.state.item.case_id
    key(screen, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.state.item is None or screen.state.item.case_id != case)
    reads = {r.case_id: r for r in region_reads(region_study.path)}
    r = reads[case]
    assert np.array_equal(r.mask, submitted_mask) and r.mode == "unaided"
    assert r.accepted_unchanged is None and r.edit_count == 8 and r.likelihood == 55.0
    assert r.spacing_mm == (SPACING_MM, SPACING_MM)


def test_aided_read_starts_from_the_ai_contour(qtbot, engine_factory, tmp_path, now, mono):
    study = write_region_study(tmp_path / "aided", design="concurrent", n=2, size=160)
    study.put_ai()
    engine = engine_factory(study)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    vp = screen.region_viewport()
    edited = None
    for k in range(len(study.case_ids)):
        qtbot.waitUntil(lambda: screen.state.item is not None and not screen.state.loading)
        a = _answer(screen)
        case = screen.state.item.case_id
        # the AI's 64 x 64 map of the truth shifted 3 px, resampled to the image and cut at 0.5
        expected = np.roll(study.truth_masks[case], 3, axis=1)
        assert a.mask.shape == (1, *study.shapes[case]) and a.accepted_unchanged is True
        dice = 2 * (a.mask[0] & expected).sum() / (a.mask[0].sum() + expected.sum())
        assert dice > 0.9
        assert vp.outline.isVisible()  # the AI's contour as an overlay
        panel_text = screen.ai_panel.measure_label.text()
        assert "FAZ area" in panel_text and "circularity" in panel_text
        # the AI's score from its region, not a foreground share; no Grad-CAM controls for a mask
        assert "likelihood" in screen.ai_panel.main_label.text() and screen.ai_panel.bars is None
        assert screen.ai_panel.cam_button is None
        key(screen, Qt.Key.Key_C)  # no heat map of a region: C does nothing
        assert not screen.state.has_cam and not screen.state.cam_visible and not vp.overlay.enabled
        if case == "RG900":
            _shot(window, "aided_fundus")
        label = screen.keys_label  # the key hint: no line wraps in the side panel
        assert all(
            label.fontMetrics().horizontalAdvance(line) <= label.contentsRect().width()
            for line in label.text().split("\n")
        ), label.text()
        if k == 0:
            # overlay toggles: A hides / shows, O cycles outline -> fill -> both
            key(screen, Qt.Key.Key_A)
            assert not vp.outline.isVisible() and not vp.mask_visible
            key(screen, Qt.Key.Key_A)
            key(screen, Qt.Key.Key_O)
            assert vp.mask_style == "fill" and vp.mask_fill.isVisible() and not vp.outline.isVisible()
            key(screen, Qt.Key.Key_O)
            assert vp.mask_style == "both" and vp.outline.isVisible()
            _shot(window, "aided_start")
            key(screen, Qt.Key.Key_O)  # back to outline
        if k == 1:  # edit the AI's contour with the brush
            h, w = study.shapes[case]
            key(screen, Qt.Key.Key_B)
            drag(screen, (w * 0.1, h * 0.1), (w * 0.2, h * 0.1))
            assert a.accepted_unchanged is False and a.edit_count == 1
            _shot(window, "aided_editing")
            key(screen, Qt.Key.Key_V)
            edited = case
        key(screen, Qt.Key.Key_2 if k == 1 else Qt.Key.Key_1)
        key(screen, Qt.Key.Key_Up if k == 1 else Qt.Key.Key_Down)
        key(screen, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda c=case: screen.state.item is None or screen.state.item.case_id != c)
    assert screen.state.item is None
    reads = {r.case_id: r for r in region_reads(study.path)}
    assert set(reads) == set(study.case_ids)
    for case, r in reads.items():
        assert r.mode == "aided"
        assert (r.accepted_unchanged, r.edit_count) == ((False, 1) if case == edited else (True, 0))


def test_region_answer_state_without_qt():
    from study.protocol import Task

    t = [0.0]
    a = RegionAnswer(Task("region", region="FAZ"), clock=lambda: t[0])
    assert "Outline the FAZ" in a.problem
    a.begin((1, 20, 20), (0.5, 0.5))
    a.set_polygon(0, np.array([(2, 2), (12, 2), (12, 12), (2, 12)]))
    assert a.pixels == 100 and a.area_mm2 == 25.0 and a.complete
    t[0] = 2.5
    a.begin_stroke()
    a.stroke_to(0, np.array([(5, 5)]), 2, erase=True)
    assert a.end_stroke() and a.pixels < 100 and a.edit_ms == 2500 and a.edit_count == 2
    assert a.undo() and a.pixels == 100
    assert a.region().mask.shape == (20, 20) and a.accepted_unchanged is None
    assert a.fields().answer == "FAZ"


def test_series_is_outlined_slice_by_slice(qtbot, every_mouse_move):
    """On a series the editor edits the slice shown; each slice keeps its own plane."""
    from app.reading.region_editor import RegionEditorPanel
    from app.viewer.viewport import ViewportWidget
    from study.media.types import Media
    from study.protocol import Task

    frames = np.random.default_rng(0).random((5, 80, 80)).astype(np.float32) * 1000
    vp = ViewportWidget(controls=False)
    qtbot.addWidget(vp)
    vp.resize(500, 500)
    vp.show()
    vp.set_media(Media(frames, "series", spacing=(0.5, 0.5), window=(500.0, 1000.0)))
    answer = RegionAnswer(Task("region", region="lesion"))
    answer.begin((5, 80, 80), (0.5, 0.5), image_2d=False)
    editor = RegionEditorPanel(answer)
    qtbot.addWidget(editor)
    editor.attach(vp)

    class Screen:  # what the mouse helpers need of a reading screen
        def __init__(self):
            self.region_editor = editor

        def region_viewport(self):
            return vp

        def window(self):
            return vp

    screen = Screen()
    vp.set_slice(3)
    for x, y in [(10, 10), (40, 10), (40, 40), (10, 40)]:
        click(screen, x, y)
    assert answer.mask[3].sum() == 900 and answer.mask.sum() == 900
    vp.set_slice(1)
    assert len(editor._vertices()) == 0  # slice 1 has no region yet
    editor.set_tool("brush")
    drag(screen, (60, 60), (70, 60))
    assert answer.mask[1].any() and answer.mask[3].sum() == 900
    region = answer.region()
    assert region.mask.shape == (5, 80, 80) and region.area_mm2 == pytest.approx(answer.pixels * 0.25)


def test_points_placed_in_order_make_a_simple_polygon(qtbot, engine_factory, region_study, mono):
    """Five and more points clicked around a region close in the order they were placed (no bow-tie)."""
    engine = engine_factory(region_study)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: screen.region_editor is not None and screen.region_editor.canvas is not None)
    a = _answer(screen)
    hexagon = [(80, 30), (125, 55), (125, 105), (80, 130), (35, 105), (35, 55)]
    for x, y in hexagon:
        click(screen, x, y)
    xs, ys = np.array(hexagon, dtype=float).T
    shoelace = 0.5 * abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1)))
    assert abs(a.pixels - shoelace) < 0.05 * shoelace
    assert a.mask[0, 80, 45] and a.mask[0, 80, 115] and a.mask[0, 40, 80] and a.mask[0, 120, 80]
    vertices = screen.region_editor._vertices()
    assert np.allclose(vertices, hexagon, atol=1.0)  # the handles keep the order of placing


def test_the_fill_follows_a_vertex_drag_and_is_the_region_on_release(qtbot):
    """While a vertex is dragged the polygon draws the region's fill (the raster would be stale);
    on release the region is the new polygon.  Checked on the rendered pixels."""
    from PySide6.QtCore import QPointF

    from app.reading.region_answer import RegionAnswer
    from app.reading.region_editor import RegionEditorPanel
    from app.viewer.viewport import ViewportWidget
    from study.media.types import Media
    from study.protocol import Task

    vp = ViewportWidget(controls=False)
    qtbot.addWidget(vp)
    vp.resize(400, 400)
    with qtbot.waitExposed(vp):  # waits only as a context manager
        vp.show()
    vp.set_media(Media(np.zeros((1, 100, 100), np.uint8), "image"))
    answer = RegionAnswer(Task("region", region="FAZ"))
    answer.begin((1, 100, 100), (0.1, 0.1))
    editor = RegionEditorPanel(answer)
    qtbot.addWidget(editor)
    editor.attach(vp)

    def on_screen(x: float, y: float):
        return vp.graphics.mapFromScene(editor.canvas.mapToScene(QPointF(x, y)))

    qtbot.waitUntil(lambda: vp.graphics.viewport().rect().contains(on_screen(99, 99)))  # laid out

    def shown(x: float, y: float) -> tuple[int, int, int]:
        """The colour on screen at image pixel (x, y) (a black image: yellow means filled)."""
        p = on_screen(x, y)
        c = vp.graphics.grab().toImage().pixelColor(p.x(), p.y())
        return c.red(), c.green(), c.blue()

    for x, y in ((20, 20), (60, 20), (60, 60), (20, 60)):
        editor.on_canvas_clicked(x, y)
    before = answer.mask.sum()
    assert shown(40, 40)[0] > 50 and shown(65, 55) == (0, 0, 0)  # inside / outside the square
    handle = editor.roi.getHandles()[2]
    handle.movePoint(editor.canvas.mapToScene(QPointF(80.0, 80.0)), finish=False)  # (60, 60) -> (80, 80) px
    assert answer.mask.sum() == before  # the region is set when the drag ends ...
    assert shown(65, 55)[0] > 50 and shown(40, 40)[0] > 50  # ... but the fill follows the drag
    handle.movePoint(handle.scenePos(), finish=True)
    assert answer.mask.sum() > before and answer.mask[0, 55, 65]
    assert shown(65, 55)[0] > 50 and shown(90, 90) == (0, 0, 0)
    editor.set_tool("brush")  # the polygon is hidden: the raster draws the same region
    assert shown(65, 55)[0] > 50 and shown(40, 40)[0] > 50 and shown(90, 90) == (0, 0, 0)


@pytest.mark.parametrize("counts", [(8, 5), (5, 12), (12, 12), (6, 3)])
def test_a_new_outline_reuses_the_polygon_and_stays_one_closed_loop(qtbot, counts):
    """After a brush stroke (or undo, or a slice change) the polygon becomes the region's outline:
    its handles are moved and only the difference added or removed; the edges still join
    consecutive vertices in one closed loop, and dragging a vertex rasterizes the new polygon."""
    from PySide6.QtCore import QPointF

    from app.reading.region_answer import RegionAnswer
    from app.reading.region_editor import RegionEditorPanel
    from app.viewer.viewport import ViewportWidget
    from study.media.types import Media
    from study.protocol import Task

    vp = ViewportWidget(controls=False)
    qtbot.addWidget(vp)
    vp.resize(400, 400)
    vp.show()
    vp.set_media(Media(np.zeros((1, 100, 100), np.uint8), "image"))
    answer = RegionAnswer(Task("region", region="FAZ"))
    answer.begin((1, 100, 100), (0.1, 0.1))
    editor = RegionEditorPanel(answer)
    qtbot.addWidget(editor)
    editor.attach(vp)

    def ring(n: int, r: float) -> np.ndarray:
        a = np.linspace(0, 2 * np.pi, n, endpoint=False)
        return np.stack([50 + r * np.cos(a), 50 + r * np.sin(a)], axis=1)

    first, second = counts
    editor._set_roi(ring(first, 30))
    editor._set_roi(ring(second, 20))
    assert np.allclose(editor._vertices(), ring(second, 20), atol=1e-6)
    handles = editor.roi.getHandles()
    edges = {(s.handles[0]["item"], s.handles[1]["item"]) for s in editor.roi.segments}
    assert len(editor.roi.segments) == second
    assert edges == {(handles[i], handles[(i + 1) % second]) for i in range(second)}
    handles[0].movePoint(editor.canvas.mapToScene(QPointF(90.0, 50.0)), finish=True)  # (70, 50) -> (90, 50)
    assert answer.mask[0, 50, 85] and not answer.mask[0, 50, 95] and not answer.mask[0, 50, 25]


def test_a_region_drawn_but_not_submitted_is_back_at_resume(qtbot, engine_factory, region_study, mono):
    """Exit with a region drawn and the combined question half answered: at Resume the same
    region (editable), the answer so far and the edit count are back; the read stores them."""
    engine = engine_factory(region_study)
    window, screen = open_session(qtbot, engine, mono)
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: screen.region_editor is not None and screen.region_editor.canvas is not None)
    for x, y in [(40, 40), (110, 40), (110, 110), (40, 110)]:
        click(screen, x, y)
    key(screen, Qt.Key.Key_Up)  # likelihood only, no category yet
    a = _answer(screen)
    drawn, case = a.mask.copy(), screen.state.item.case_id
    assert a.edit_count == 4 and a.binary.confidence is not None
    mono.advance(3)
    qtbot.mouseClick(screen.exit_button, Qt.MouseButton.LeftButton)
    assert window.screen == "sessions"
    window.on_session_chosen(1)
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.item is not None and not screen.state.loading)
    qtbot.waitUntil(lambda: screen.region_editor is not None and screen.region_editor.canvas is not None)
    b = _answer(screen)
    assert screen.state.item.case_id == case
    qtbot.waitUntil(lambda: b.ready)
    assert np.array_equal(b.mask, drawn) and b.edit_count == 4 and b.binary.confidence == a.binary.confidence
    vertices = screen.region_editor._vertices()  # the outline is editable again (fitted to the mask)
    assert len(vertices) == 4
    assert all(
        np.abs(vertices - corner).max(axis=1).min() <= 1.0 for corner in [(40, 40), (110, 40), (110, 110), (40, 110)]
    )
    drag(screen, (110, 110), (130, 130))  # and it edits on from there (a fitted outline's vertex)
    key(screen, Qt.Key.Key_2)
    mono.advance(2)
    key(screen, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.state.item is None or screen.state.item.case_id != case)
    r = {r.case_id: r for r in region_reads(region_study.path)}[case]
    assert r.edit_count == 5 and r.mask[120, 120] and r.mask[50, 50] and r.likelihood == 55.0


def test_a_click_on_an_edge_adds_a_vertex_that_drags(qtbot, engine_factory, region_study, mono):
    """Once the polygon is closed (a vertex was dragged), a click on an edge adds a vertex there,
    and dragging it reshapes the region; a press on a vertex drags the vertex, not the edge."""
    window, screen = open_session(qtbot, engine_factory(region_study), mono)
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: screen.region_editor is not None and screen.region_editor.canvas is not None)
    a = _answer(screen)
    for x, y in [(40, 40), (110, 40), (110, 110), (40, 110)]:
        click(screen, x, y)
    drag(screen, (110, 110), (120, 120))
    assert len(screen.region_editor.roi.getHandles()) == 4 and a.mask[0, 115, 115]
    click(screen, 75, 40)  # the middle of the top edge
    assert len(screen.region_editor.roi.getHandles()) == 5
    drag(screen, (75, 40), (75, 20))
    assert a.mask[0, 30, 75] and not a.mask[0, 30, 45]


def test_every_vertex_drags_whether_placed_or_fitted_to_a_mask(qtbot, engine_factory, region_study, mono):
    """A press on any vertex drags that vertex (not the edges that meet there): for a polygon
    placed by clicks and for one fitted to a mask (after a brush stroke, or the AI's contour)."""
    window, screen = open_session(qtbot, engine_factory(region_study), mono)
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: screen.region_editor is not None and screen.region_editor.canvas is not None)
    a, editor = _answer(screen), screen.region_editor
    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    for t in angles:
        click(screen, 80 + 45 * np.cos(t), 80 + 45 * np.sin(t))

    def drag_each(count: int) -> int:
        moved = 0
        for k in range(count):
            x, y = editor._vertices()[k]
            before = a.edit_count
            drag(screen, (x, y), (x + 4 * np.sign(x - 80), y + 4 * np.sign(y - 80)))
            moved += a.edit_count == before + 1 and np.allclose(editor._vertices()[k], (x, y), atol=1.0) is False
        return moved

    assert drag_each(10) == 10
    key(screen, Qt.Key.Key_B)
    drag(screen, (80, 80), (90, 80))  # a brush stroke inside: the outline is fitted to the mask again
    key(screen, Qt.Key.Key_V)
    n = len(editor._vertices())
    assert n >= 4 and drag_each(n) == n
