"""No AI value reaches the triage screen of an unaided read, for every design and session.

For each design (sequential, crossover, concurrent) and each of a reader's
sessions, the real triage window is walked slide by slide.  On every slide
read unaided: every text of the window (labels, buttons, tooltips, queue
cells and headers, combo items, the viewer's corner labels) is free of AI
words and of every AI score; the queue has no AI column, no AI filter; no
viewport holds a CAM; and the triage state object holds no AIOutput at all.
On aided slides the AI must be there (so the walk can tell the two apart).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from study.aioutput import AIOutput
from tests.reading.helpers import AI_WORDS, PIN, make_study, screen_texts

PLANS = {"sequential": (1, 2), "crossover": (1, 2), "concurrent": (1,)}


def holds_ai(obj, seen=None) -> bool:
    """An AIOutput reachable from the app's objects (the engine and store are not walked)."""
    seen = seen if seen is not None else set()
    if obj is None or isinstance(obj, (str, bytes, int, float, bool)) or id(obj) in seen:
        return False
    seen.add(id(obj))
    if isinstance(obj, AIOutput):
        return True
    if isinstance(obj, dict):
        return any(holds_ai(k, seen) or holds_ai(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return any(holds_ai(v, seen) for v in obj)
    if type(obj).__module__.startswith("app.") and hasattr(obj, "__dict__"):
        return any(holds_ai(v, seen) for v in vars(obj).values())
    return False


def score_texts(out: AIOutput) -> set[str]:
    texts = {f"{out.score:.2f}", f"{100 * out.score:.0f} %", f"{100 * out.score:.0f}%"}
    texts |= {f"{100 * p:.0f} %" for p in out.probabilities}
    return texts


@pytest.mark.parametrize("design", sorted(PLANS))
def test_no_ai_reaches_an_unaided_triage_read(qtbot, engine_factory, tmp_path, mono, design):
    folder = make_study(tmp_path / design, "multiclass", design=design, mode="triage", n=6)
    outs = folder.put_ai()
    engine = engine_factory(folder)
    window = MainWindow(engine, clock=mono)
    qtbot.addWidget(window)
    window.show()
    window.login_state.login("r1", PIN)
    window.on_logged_in("r1")
    seen_modes = set()
    for index in PLANS[design]:
        if index > 1:
            engine.override_washout("r1", index, "test walk", actor="admin")
        window.on_session_chosen(index)
        assert window.screen == "triage"
        screen = window.reading
        while screen.state.item is not None:
            qtbot.waitUntil(lambda screen=screen: not screen.state.loading)
            mode = screen.state.item.mode
            seen_modes.add((index, mode))
            joined = "\n".join(screen_texts(window))
            model = screen.queue_model
            headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
            cams = [vp.overlay.maps is not None for vp in screen.viewer.viewports()]
            if mode == "unaided":
                hit = AI_WORDS.search(joined)
                assert hit is None, (design, index, joined[max(0, hit.start() - 60) : hit.end() + 20])
                for out in outs.values():
                    assert not any(t in joined for t in score_texts(out)), (design, index, out.score)
                assert headers == ["#", "Answer"]
                assert screen.filter_box.count() == 0 and not screen.filter_box.isVisible()
                assert not any(cams) and not screen.ai_panel.isVisible()
                assert screen.state.ai is None and not holds_ai(screen.triage)
                qtbot.keyClick(screen, Qt.Key.Key_C)  # no CAM to show: nothing changes
                assert not any(vp.overlay.enabled for vp in screen.viewer.viewports())
                # The unaided queue is the reader's own seeded order, not the AI's.
                session = screen.triage.session
                assert [model.case_id(r) for r in range(model.rowCount())] == [
                    c for c in session.order if session.modes[c] == "unaided"
                ]
            else:
                assert "AI class" in headers and any(cams) and screen.ai_panel.isVisible()
            with qtbot.waitSignal(screen.read_submitted):
                qtbot.keyClick(screen, Qt.Key.Key_2)
        qtbot.waitUntil(lambda: window.screen == "summary")
        window.summary.back_requested.emit()
    expected = {
        "sequential": {(1, "unaided"), (2, "aided")},
        "crossover": {(1, "unaided"), (1, "aided"), (2, "unaided"), (2, "aided")},
        "concurrent": {(1, "aided")},
    }[design]
    assert seen_modes == expected
