"""The contour editor's edits that a hand does out of order: Ctrl+Z while placing points, a new
outline (N) over an existing region, a tool or slice changed in the middle of a brush stroke."""

from __future__ import annotations

import numpy as np
import pytest

from app.reading.region_answer import RegionAnswer
from app.reading.region_editor import RegionEditorPanel
from app.viewer.viewport import ViewportWidget
from study.media.types import Media
from study.protocol import Task


@pytest.fixture
def editor(qtbot, request):
    frames = getattr(request, "param", 1)
    vp = ViewportWidget(controls=False)
    qtbot.addWidget(vp)
    vp.resize(400, 400)
    vp.show()
    vp.set_media(Media(np.zeros((frames, 100, 100), np.uint8), "series" if frames > 1 else "image"))
    answer = RegionAnswer(Task("region", region="FAZ"))
    answer.begin((frames, 100, 100), (0.1, 0.1), image_2d=frames == 1)
    panel = RegionEditorPanel(answer)
    qtbot.addWidget(panel)
    panel.attach(vp)
    return panel


SQUARE = [(20, 20), (60, 20), (60, 60), (20, 60)]


def place(editor, points) -> None:
    for x, y in points:
        editor.on_canvas_clicked(x, y)


def test_undo_while_placing_takes_back_the_last_point(editor):
    a = editor.state
    place(editor, SQUARE[:2])
    assert editor.undo_button.isEnabled()  # a stray point can be taken back before there is a region
    assert editor.undo() and len(editor._vertices()) == 1 and not a.mask.any()
    place(editor, SQUARE[1:])
    assert len(editor._vertices()) == 4 and a.pixels == 40 * 40
    assert editor.undo()  # the 4th point: the region is the triangle of the first three
    assert np.allclose(editor._vertices(), SQUARE[:3]) and 0 < a.pixels < 40 * 40
    assert editor.undo() and len(editor._vertices()) == 2 and not a.mask.any()
    place(editor, SQUARE[2:])  # placing goes on from the two kept
    assert np.allclose(editor._vertices(), SQUARE) and a.pixels == 40 * 40
    assert "Ctrl+Z" in editor.hint_label.text()


def test_n_starts_a_new_outline_over_a_region(editor):
    a = editor.state
    place(editor, SQUARE)
    editor.on_polygon_moved()  # (a vertex dragged: placing ended)
    place(editor, [(80, 80)])
    assert a.pixels == 40 * 40  # a click does not start another outline ...
    assert "N starts a new outline" in editor.hint_label.text()  # ... and the panel says how
    edits = a.edit_count
    assert editor.new_outline() and not a.mask.any() and a.edit_count == edits + 1
    place(editor, [(70, 70), (90, 70), (90, 90)])
    assert a.mask[0, 80, 85] and not a.mask[0, 40, 40]
    editor.state.undo()  # back over the new outline's region, then the clearing: the old square
    editor.state.undo()
    assert a.pixels == 40 * 40


def test_a_tool_switched_mid_stroke_ends_the_stroke_as_one_edit(editor):
    a = editor.state
    editor.set_tool("brush")
    editor.on_canvas_stroked([(30.0, 30.0), (31.0, 30.0)], "start")
    editor.on_canvas_stroked([(50.0, 30.0)], "move")
    painted = a.pixels
    assert painted > 0 and a.edit_count == 0
    editor.set_tool("outline")  # V before the button is let go
    assert a.edit_count == 1 and editor.undo_button.isEnabled()
    assert f"({painted} px)" in editor.area_label.text()
    editor.on_canvas_stroked([(70.0, 30.0)], "move")  # the rest of that drag paints nothing
    editor.on_canvas_stroked([(80.0, 30.0)], "finish")
    assert a.pixels == painted and a.edit_count == 1
    assert editor.undo() and not a.mask.any()


@pytest.mark.parametrize("editor", [3], indirect=True)
def test_a_stroke_stays_on_the_slice_it_began_on(editor):
    a, vp = editor.state, editor.viewport
    vp.set_slice(0)
    editor.set_tool("brush")
    editor.on_canvas_stroked([(30.0, 30.0), (31.0, 30.0)], "start")
    editor.on_canvas_stroked([(50.0, 30.0)], "move")
    vp.set_slice(1)  # PgDown during the drag
    editor.on_canvas_stroked([(60.0, 30.0)], "move")
    editor.on_canvas_stroked([(70.0, 30.0)], "finish")
    assert a.mask[0].any() and not a.mask[1].any() and not a.mask[0, 30, 60]
    assert a.edit_count == 1
    editor.on_canvas_stroked([(30.0, 50.0), (31.0, 50.0)], "start")  # the next stroke paints slice 1
    editor.on_canvas_stroked([(40.0, 50.0)], "finish")
    assert a.mask[1, 50, 35] and a.edit_count == 2


def test_a_vertex_menu_removes_the_vertex_and_the_region_follows(editor):
    """Right-click on a vertex: "Remove handle" (pyqtgraph's menu, built when first needed)."""
    a = editor.state
    place(editor, [*SQUARE[:3], (40, 80), SQUARE[3]])  # a square with a point below it
    assert a.mask[0, 65, 40]
    vertex = editor.roi.getHandles()[3]
    menu = vertex.getMenu()
    assert [act.text() for act in menu.actions()] == ["Remove handle"]
    vertex.removeClicked()
    assert len(editor._vertices()) == 4 and a.pixels == 40 * 40 and not a.mask[0, 65, 40]
