"""Issue 17: the triage screen by specimen: a gallery of fields ranked by the AI, digits and
clicks show a field with its own CAM, the fields opened and the decisive field are stored."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from study.specimen import FieldView
from tests.reading.helpers import PIN
from tests.reading.specimen_helpers import FIELD_SCORES, make_specimen_study, put_specimen_ai


def _open(qtbot, engine, clock):
    window = MainWindow(engine, clock=clock)
    qtbot.addWidget(window)
    window.show()
    window.login_state.login("r1", PIN)
    window.on_logged_in("r1")
    window.on_session_chosen(1)
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.item is not None and not screen.state.loading)
    return window, screen


def _shown_cam_row(screen) -> int:
    """Row of the peak of the CAM overlay on screen (the helpers' CAM of field j peaks at 2 + 3 j)."""
    vp = screen.viewer.viewports()[0]
    maps = np.asarray(vp.overlay._maps, dtype=np.float32)
    return int(np.unravel_index(np.argmax(maps[0]), maps[0].shape)[0])


def test_aided_gallery_ranks_fields_picks_top_k_and_logs_the_openings(qtbot, engine_factory, mono, tmp_path):
    folder = make_specimen_study(tmp_path / "spec", top_k=2)
    outs = put_specimen_ai(folder)
    engine = engine_factory(folder)
    window, screen = _open(qtbot, engine, mono)
    # The queue ranks specimens by the aggregated (max) score.
    first = screen.state.item.case_id
    assert outs[first].score == max(o.score for o in outs.values())
    i = folder.case_ids.index(first)
    scores = FIELD_SCORES[i]
    gallery = screen.triage.gallery
    panel = screen.gallery_panel
    assert gallery is not None and panel.isVisible()
    ranked = sorted(range(len(scores)), key=lambda j: -scores[j])
    assert [t.field_index for t in gallery.tiles] == ranked
    # Tiles show score, the top-2 are the AI's picks, each has a CAM box (on when opened).
    captions = [panel.captions[t.field_index].text() for t in gallery.tiles]
    assert captions[0].startswith(f"1  \u00b7  {scores[ranked[0]]:.2f}") and "AI pick" in captions[0]
    assert "AI pick" in captions[1] and "AI pick" not in captions[2]
    assert all(panel.cam_boxes[f].isChecked() for f in ranked)
    # It opens on the AI's first pick, with that field's own CAM.
    assert gallery.shown == ranked[0] and _shown_cam_row(screen) == 2 + 3 * ranked[0]

    mono.advance(2)
    qtbot.keyClick(screen, Qt.Key.Key_3)  # tile 3
    assert gallery.shown == ranked[2] and _shown_cam_row(screen) == 2 + 3 * ranked[2]
    mono.advance(3)
    qtbot.mouseClick(panel.tiles[ranked[1]], Qt.MouseButton.LeftButton)  # tile 2 by a click
    assert gallery.shown == ranked[1]
    vp = screen.viewer.viewports()[0]
    assert vp.overlay.enabled
    panel.cam_boxes[ranked[1]].setChecked(False)  # this field's CAM off
    assert not vp.overlay.isVisible() and not gallery.cam_visible(ranked[1])
    assert gallery.cam_visible(ranked[0])  # the others keep theirs
    qtbot.keyClick(screen, Qt.Key.Key_F1)  # the key card names the gallery's keys
    card = "\n".join(screen.keys_dialog.texts())
    assert "1-3" in card and "decided your answer" in card and "Ctrl+3" in card
    qtbot.keyClick(screen, Qt.Key.Key_F1)
    qtbot.keyClick(screen, Qt.Key.Key_D)  # the field on screen decided it
    assert "decisive" in panel.captions[ranked[1]].text()
    mono.advance(4)
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # Ctrl+3: CIN2+
    views = _views(engine, first)
    assert views == [
        FieldView(1, ranked[0], 2000, False, 1, True),
        FieldView(2, ranked[2], 3000, False, 3, False),
        FieldView(3, ranked[1], 4000, True, 2, True),
    ]
    from study.store import reads_table

    df = reads_table(folder.path).set_index("case")
    assert df.loc[first, "answer"] == "CIN2+" and df.loc[first, "seconds"] == 9.0
    window.close()


def _views(engine, case_id: str) -> list[FieldView]:
    from sqlalchemy import select

    from study.store.schema import FieldViewRow

    with engine.store.Session() as s:
        rows = s.execute(
            select(FieldViewRow).where(FieldViewRow.case_id == case_id).order_by(FieldViewRow.id)
        ).scalars()
        return [FieldView(r.seq, r.field_index, r.shown_ms, r.decisive, r.ai_rank, r.in_top_k) for r in rows]


def test_unaided_gallery_is_in_stored_order_without_scores_or_cams(qtbot, engine_factory, mono, tmp_path):
    folder = make_specimen_study(tmp_path / "spec", design="sequential")
    put_specimen_ai(folder)
    engine = engine_factory(folder)
    window, screen = _open(qtbot, engine, mono)
    item = screen.state.item
    assert item.mode == "unaided" and screen.state.ai is None
    gallery = screen.triage.gallery
    n = len(FIELD_SCORES[folder.case_ids.index(item.case_id)])
    assert [t.field_index for t in gallery.tiles] == list(range(n))
    assert not gallery.aided and not any(t.pick for t in gallery.tiles)
    panel = screen.gallery_panel
    assert not panel.cam_boxes
    assert all(panel.captions[j].text() == str(j + 1) for j in range(n))
    assert "stored order" in panel.hint.text()
    vp = screen.viewer.viewports()[0]
    assert not vp.overlay.isVisible()
    mono.advance(1)
    qtbot.keyClick(screen, Qt.Key.Key_2)
    assert gallery.shown == 1 and not vp.overlay.isVisible()
    qtbot.keyClick(screen, Qt.Key.Key_C)  # no CAM to show
    assert not vp.overlay.isVisible()
    mono.advance(2)
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert _views(engine, item.case_id) == [
        FieldView(1, 0, 1000, False, None, None),
        FieldView(2, 1, 2000, True, None, None),  # no mark: the field on screen at the answer
    ]
    window.close()


def test_gallery_state_without_qt():
    from app.reading.triage_gallery_state import GalleryState
    from study.protocol import HangingProtocol, Protocol
    from tests.reading.helpers import TASKS
    from tests.reading.specimen_helpers import specimen_output

    protocol = Protocol("x", "x", "concurrent", 1, TASKS["multiclass"], HangingProtocol(("photo",)))
    out = specimen_output(protocol, "c", 3)  # scores 0.3, 0.35, 0.1, 0.05, 0.5
    t = [0]
    g = GalleryState(5, out, 3, lambda: t[0])
    assert [x.field_index for x in g.tiles] == [4, 1, 0, 2, 3]
    assert [x.pick for x in g.tiles] == [True, True, True, False, False]
    g.open_first()
    t[0] = 500
    assert g.show_position(9) is None and g.show_position(4) == 2
    t[0] = 800
    g.show_field(4)  # reopened
    g.mark_decisive(2)
    t[0] = 1000
    assert g.views() == (
        FieldView(1, 4, 500, False, 1, True),
        FieldView(2, 2, 300, True, 4, False),
        FieldView(3, 4, 200, False, 1, True),
    )
    assert g.opened() == [4, 2, 4]
