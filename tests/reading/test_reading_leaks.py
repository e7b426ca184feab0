"""Nothing on the reading screen of an unaided read may reveal truth, ids or the AI.

Every widget of the window is walked (labels, buttons, fields, tooltips,
window title, table cells, the viewer's on-image corner labels), on every case
of the session.  Apart from the position and the clock, the text must be the
same whichever case is shown, so it cannot depend on the case's truth.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt

from app.main_window import MainWindow
from tests.reading.helpers import AI_WORDS, PIN, make_study, open_session, screen_texts


def test_unaided_screen_leaks_nothing(qtbot, engine_factory, study, mono):
    outs = study.put_ai()  # the AI exists in the store; the unaided read must not show it
    window = MainWindow(engine_factory(study), clock=mono)
    qtbot.addWidget(window)
    window.show()
    qtbot.keyClicks(window.login.code_field, "r1")
    qtbot.keyClicks(window.login.pin_field, PIN)
    qtbot.keyClick(window.login.pin_field, Qt.Key.Key_Return)
    window.on_session_chosen(1)
    screen = window.reading
    forbidden = {*study.case_ids, *study.patients.values(), str(study.path), "media/"}
    normalised = []
    while screen.state.item is not None:
        position = screen.state.item.position
        qtbot.waitUntil(lambda: not screen.state.loading)
        texts = screen_texts(window)
        joined = "\n".join(texts)
        assert texts and f"Case {position} of 4" in joined
        for secret in forbidden:
            assert secret not in joined
        hit = AI_WORDS.search(joined)
        assert hit is None, joined[max(0, hit.start() - 60) : hit.end() + 20]
        for out in outs.values():
            assert f"{out.score:.2f}" not in joined
        normalised.append(sorted({re.sub(r"\d+", "#", t) for t in texts}))
        qtbot.keyClick(screen, Qt.Key.Key_2)
        qtbot.keyClick(screen, Qt.Key.Key_Up)
        qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert len(normalised) == 4
    for n in normalised[1:]:
        assert set(n) ^ set(normalised[0]) == set()


def test_crossover_session_shows_ai_only_on_aided_cases(qtbot, engine_factory, tmp_path, mono):
    folder = make_study(tmp_path / "x", design="crossover", n=6)
    folder.put_ai()
    window, screen = open_session(qtbot, engine_factory(folder), mono, wait=False)
    modes = []
    while screen.state.item is not None:
        qtbot.waitUntil(lambda: not screen.state.loading)
        mode = screen.state.item.mode
        modes.append(mode)
        joined = "\n".join(screen_texts(window))
        assert screen.ai_panel.isVisible() == (mode == "aided")
        assert (AI_WORDS.search(joined) is not None) == (mode == "aided")
        if mode == "unaided":
            qtbot.keyClick(screen, Qt.Key.Key_C)  # no CAM to show: nothing changes
            assert not any(vp.overlay.enabled for vp in screen.viewer.viewports())
        for key in (Qt.Key.Key_1, Qt.Key.Key_Down, Qt.Key.Key_Return):
            qtbot.keyClick(screen, key)
    assert sorted(set(modes)) == ["aided", "unaided"]
