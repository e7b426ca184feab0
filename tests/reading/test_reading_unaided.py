"""Issue 11: no AI value and no truth reaches an unaided read, for every design x mode x session.

Each combination of ``study.protocol.DESIGNS`` x ``study.protocol.MODES`` is
either refused by the protocol (a mode with no AI-free unaided form in a design
with unaided reads: the message names the file and the key) or walked through
the real window: every session of a reader, every case.  On each unaided case
the widgets (every text, the AI panel, the viewer's CAM overlays) and the
state object handed to the screen are checked; aided cases are checked to show
the AI, so the detector is shown to work.

Hook for the triage queue's unaided form: when ``UNAIDED_FORMS`` gains
"triage", the triage x sequential / crossover cases below are walked instead of
checked for refusal; ``ANSWER_KEYS`` says how a triage slide is answered.
"""

from __future__ import annotations

import types
from datetime import datetime

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from app.main_window import MainWindow
from app.reading.reading_state import ReadingState
from study.aioutput import AIOutput
from study.cases import Case
from study.engine import ReadingSession, SessionView, StudyEngine
from study.errors import StudyError
from study.protocol import DESIGNS, MODES, UNAIDED_FORMS
from study.store import Store
from tests.reading.helpers import AI_WORDS, PIN, make_study, screen_texts

KIND = {"reading": "binary", "triage": "multiclass"}
ANSWER_KEYS = {"reading": (Qt.Key.Key_2, Qt.Key.Key_Up, Qt.Key.Key_Return), "triage": (Qt.Key.Key_1,)}
FORBIDDEN_TYPES = (AIOutput, Case, StudyEngine, Store, ReadingSession, np.ndarray)
VIEW_SURFACE = {
    "name",
    "has_aided_cases",
    "next_item",
    "peek_next",
    "item",
    "ai_output",
    "mark_unavailable",
    "submit",
    "correct",
    "leave",
    "draft",  # the reader's own unsubmitted input to a case of this session, nothing else
    "progress",
    "answered",
    "unavailable",
    "of",
}


def reachable(root: object) -> list[object]:
    """Every object reachable from ``root`` through attributes (incl. private ones), slots,
    containers and bound methods; ``SessionView`` is the boundary (checked by its surface)."""
    seen: set[int] = set()
    stack, found = [root], []
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        found.append(obj)
        if isinstance(obj, (str, bytes, int, float, bool, type(None), datetime, type, types.FunctionType)):
            continue
        if isinstance(obj, (SessionView, QObject)):
            continue
        if isinstance(obj, dict):
            stack += [*obj.keys(), *obj.values()]
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            stack += list(obj)
            continue
        if isinstance(obj, types.MethodType):
            stack.append(obj.__self__)
            continue
        stack += list(getattr(obj, "__dict__", {}).values())
        for cls in type(obj).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if hasattr(obj, slot):
                    stack.append(getattr(obj, slot))
    return found


def assert_state_is_ai_free(state: ReadingState, outs: dict[str, AIOutput]) -> None:
    objects = reachable(state)
    bad = [type(o).__name__ for o in objects if isinstance(o, FORBIDDEN_TYPES)]
    assert not bad, f"the unaided reading state carries {bad}"
    scores = {out.score for out in outs.values()}
    assert not [o for o in objects if isinstance(o, float) and o in scores]
    view = state.session
    assert isinstance(view, SessionView)
    surface = {n for n in dir(view) if not n.startswith("_")}
    assert surface == VIEW_SURFACE  # no engine, store, truth or other readers' reads on offer


def assert_widgets_are_ai_free(window, screen, outs: dict[str, AIOutput]) -> None:
    joined = "\n".join(screen_texts(window))
    hit = AI_WORDS.search(joined)
    assert hit is None, joined[max(0, hit.start() - 60) : hit.end() + 20]
    for out in outs.values():
        assert f"{out.score:.2f}" not in joined and f"{100 * out.score:.0f} %" not in joined
    assert not screen.ai_panel.isVisible() and not screen.ai_panel.findChildren(QWidget)
    for vp in screen.viewer.viewports():
        assert vp.overlay.maps is None  # no CAM was handed to the viewer at all


def assert_widgets_show_ai(window, screen) -> None:
    """The same detectors fire on an aided case: the checks above can fail."""
    joined = "\n".join(screen_texts(window))
    assert AI_WORDS.search(joined) is not None and screen.ai_panel.isVisible()
    assert any(vp.overlay.maps is not None for vp in screen.viewer.viewports())


def walk(qtbot, window, index: int, mode: str, outs) -> list[str]:
    window.on_session_chosen(index)
    screen = window.reading
    modes = []
    while screen.state.item is not None:
        qtbot.waitUntil(lambda: screen.state.item is None or not screen.state.loading)
        if screen.state.item is None:
            break
        item_mode = screen.state.item.mode
        modes.append(item_mode)
        if item_mode == "unaided":
            assert screen.state.ai is None and not screen.state.has_cam
            assert_widgets_are_ai_free(window, screen, outs)
            assert_state_is_ai_free(screen.state, outs)
            qtbot.keyClick(screen, Qt.Key.Key_C)  # the heat-map key shows nothing either
            assert_widgets_are_ai_free(window, screen, outs)
        else:
            assert_widgets_show_ai(window, screen)
        position = screen.state.item.position
        for key in ANSWER_KEYS[mode]:
            qtbot.keyClick(screen, key)
            if key == Qt.Key.Key_Return and screen.state.warned:
                qtbot.keyClick(screen, key)  # confirm a contradiction warning
        assert screen.state.item is None or screen.state.item.position != position or mode == "triage"
    if all(m == "unaided" for m in modes):
        # A session without aided cases has no AI source: nothing was even prefetched.
        assert not screen.state.session.has_aided_cases
        assert all(loaded.ai is None for loaded in screen.prefetcher._ready.values())
    return modes


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("design", DESIGNS)
def test_no_ai_in_any_unaided_read(qtbot, engine_factory, tmp_path, mono, now, design, mode):
    folder = make_study(tmp_path / f"{design}-{mode}", KIND[mode], design=design, mode=mode, n=4)
    if design != "concurrent" and mode not in UNAIDED_FORMS:
        with pytest.raises(StudyError) as err:
            engine_factory(folder)
        message = str(err.value)
        assert "study.toml" in message and "study.mode" in message and repr(mode) in message
        return
    outs = folder.put_ai()
    engine = engine_factory(folder)
    window = MainWindow(engine, clock=mono)
    qtbot.addWidget(window)
    window.show()
    assert window.login_state.login("r1", PIN) == "r1"
    window.on_logged_in("r1")
    seen = []
    for info in engine.sessions("r1"):
        now.advance(days=folder.protocol.washout_days + 1)  # past the washout, no override
        seen += walk(qtbot, window, info.index, mode, outs)
        window.on_exit_requested()
    expected = {"concurrent": {"aided"}}.get(design, {"unaided", "aided"})
    assert set(seen) == expected and len(seen) == 4 * len(engine.sessions("r1"))


def test_session_view_gives_no_ai_for_unaided_items_whatever_is_asked(engine_factory, tmp_path):
    folder = make_study(tmp_path / "x", design="crossover", n=6)
    folder.put_ai()
    engine = engine_factory(folder)
    view = SessionView(engine.start("r1", 1))
    items = [view.item(cid) for cid in folder.case_ids]
    unaided = [i for i in items if i.mode == "unaided"]
    assert unaided and all(view.ai_output(i) is None for i in unaided)
    forged = [type(i)(i.case_id, i.position, i.total, "aided", i.media) for i in unaided]
    assert all(view.ai_output(i) is None for i in forged)  # the session's plan decides, not the item
    assert all(view.ai_output(i) is not None for i in items if i.mode == "aided")


# -- region answers (issue 16) ------------------------------------------------------------
def assert_region_read_is_ai_free(screen, outs: dict[str, AIOutput]) -> None:
    """An unaided region read: no AI contour to start from, none on screen, nothing float in the
    state (the AI's region is float16 probabilities; the reader's own mask and its undo steps are
    bool, and may be there)."""
    answer = screen.state.answer
    assert answer.start is None and answer.accepted_unchanged is None
    objects = reachable(screen.state)
    bad = [type(o).__name__ for o in objects if isinstance(o, FORBIDDEN_TYPES) and not isinstance(o, np.ndarray)]
    assert not bad, f"the unaided reading state carries {bad}"
    arrays = [o for o in objects if isinstance(o, np.ndarray)]
    assert all(a.dtype == bool for a in arrays), [a.dtype for a in arrays]
    for vp in screen.viewer.viewports():
        assert vp.overlay.maps is None and vp.outline._masks is None and vp.mask_fill._masks is None


@pytest.mark.parametrize("design", DESIGNS)
def test_no_ai_in_any_unaided_region_read(qtbot, engine_factory, tmp_path, mono, now, design, every_mouse_move):
    from tests.reading.region_mouse import drag
    from tests.regionstudy import write_region_study

    folder = write_region_study(tmp_path / f"region-{design}", design=design, n=3, retina=False)
    outs = folder.put_ai()
    engine = engine_factory(folder)
    window = MainWindow(engine, clock=mono)
    qtbot.addWidget(window)
    window.show()
    assert window.login_state.login("r1", PIN) == "r1"
    window.on_logged_in("r1")
    seen = []
    for info in engine.sessions("r1"):
        now.advance(days=folder.protocol.washout_days + 1)
        window.on_session_chosen(info.index)
        screen = window.reading
        while screen.state.item is not None:
            qtbot.waitUntil(lambda s=screen: s.state.item is None or not s.state.loading)
            if screen.state.item is None:
                break
            mode = screen.state.item.mode
            seen.append(mode)
            if mode == "unaided":
                assert_widgets_are_ai_free(window, screen, outs)
                assert_region_read_is_ai_free(screen, outs)
                for key in (Qt.Key.Key_C, Qt.Key.Key_A, Qt.Key.Key_O):  # heat map, AI region: nothing
                    qtbot.keyClick(screen, key)
                assert_widgets_are_ai_free(window, screen, outs)
                assert_region_read_is_ai_free(screen, outs)
                qtbot.keyClick(screen, Qt.Key.Key_B)
                drag(screen, (40, 40), (80, 60))
            else:
                assert_widgets_show_ai(window, screen)
                assert screen.state.answer.start is not None and screen.region_viewport().outline.isVisible()
            position = screen.state.item.position
            for key in (Qt.Key.Key_2, Qt.Key.Key_Up, Qt.Key.Key_Return):
                qtbot.keyClick(screen, key)
            assert screen.state.item is None or screen.state.item.position != position
        window.on_exit_requested()
    expected = {"concurrent": {"aided"}}.get(design, {"unaided", "aided"})
    assert set(seen) == expected and len(seen) == 3 * len(engine.sessions("r1"))


@pytest.mark.parametrize("design", ["sequential", "crossover"])
def test_no_ai_in_unaided_specimen_galleries(qtbot, engine_factory, tmp_path, mono, now, design):
    """Issue 17: a specimen's gallery in an unaided read: stored order, no field score, no pick,
    no CAM, nothing of the AI reachable from the state or the gallery; aided galleries do show it."""
    from tests.reading.specimen_helpers import make_specimen_study, put_specimen_ai

    folder = make_specimen_study(tmp_path / design, design=design)
    outs = put_specimen_ai(folder)
    field_scores = {f"{f.score:.2f}" for out in outs.values() for f in out.fields}
    engine = engine_factory(folder)
    window = MainWindow(engine, clock=mono)
    qtbot.addWidget(window)
    window.show()
    assert window.login_state.login("r1", PIN) == "r1"
    window.on_logged_in("r1")
    seen = []
    for info in engine.sessions("r1"):
        now.advance(days=folder.protocol.washout_days + 1)
        window.on_session_chosen(info.index)
        screen = window.reading
        while True:
            qtbot.waitUntil(lambda s=screen: s.state.item is None or not s.state.loading)
            if screen.state.item is None:
                break
            gallery = screen.triage.gallery
            assert gallery is not None
            mode = screen.state.item.mode
            seen.append(mode)
            if mode == "unaided":
                assert [t.field_index for t in gallery.tiles] == sorted(t.field_index for t in gallery.tiles)
                assert not gallery.aided and not any(t.pick for t in gallery.tiles)
                assert not screen.gallery_panel.cam_boxes
                assert_widgets_are_ai_free(window, screen, outs)
                assert_state_is_ai_free(screen.state, outs)
                bad = [type(o).__name__ for o in reachable(gallery) if isinstance(o, FORBIDDEN_TYPES)]
                assert not bad
                texts = "\n".join(screen_texts(window))
                for score in field_scores:
                    assert score not in texts
                qtbot.keyClick(screen, Qt.Key.Key_2)  # another field: still nothing of the AI
                qtbot.keyClick(screen, Qt.Key.Key_C)
                assert_widgets_are_ai_free(window, screen, outs)
            else:
                assert gallery.aided and screen.gallery_panel.cam_boxes
                assert_widgets_show_ai(window, screen)
            qtbot.keyClick(screen, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
        window.on_exit_requested()
    assert set(seen) == {"unaided", "aided"}
