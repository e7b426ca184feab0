"""Nothing on the reading screen of an unaided read may reveal truth, ids or the AI.

Every widget of the window is walked (labels, buttons, fields, tooltips,
window title, table cells, the viewer's on-image corner labels), on every case
of the session.  Apart from the position and the clock, the text must be the
same whichever case is shown, so it cannot depend on the case's truth.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton, QComboBox, QLabel, QLineEdit, QTableWidget, QWidget,
)

from app.main_window import MainWindow
from tests.reading.helpers import PIN

AI_WORDS = re.compile(r"\bAI\b|predict|probab|heat map|CAM\b|grad|model|\d+ %", re.IGNORECASE)  # "72 %" is how the AI panel shows a probability


def screen_texts(window: MainWindow) -> list[str]:
    texts = [window.windowTitle()]
    for w in [window, *window.findChildren(QWidget)]:
        texts += [w.toolTip(), w.windowTitle(), w.accessibleName(), w.statusTip(), w.whatsThis()]
        if isinstance(w, (QLabel, QAbstractButton)):
            texts.append(w.text())
        elif isinstance(w, QLineEdit):
            texts += [w.text(), w.placeholderText()]
        elif isinstance(w, QComboBox):
            texts += [w.itemText(i) for i in range(w.count())]
        elif isinstance(w, QTableWidget):
            texts += [w.item(r, c).text() for r in range(w.rowCount()) for c in range(w.columnCount())
                      if w.item(r, c) is not None]
    viewer = window.reading.viewer
    texts += [vp.corner_text() for vp in viewer.viewports()]
    return [t for t in texts if t]


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
        assert texts and "Case %d of 4" % position in joined
        for secret in forbidden:
            assert secret not in joined
        hit = AI_WORDS.search(joined)
        assert hit is None, joined[max(0, hit.start() - 60):hit.end() + 20]
        for out in outs.values():
            assert f"{out.score:.2f}" not in joined
        normalised.append(sorted({re.sub(r"\d+", "#", t) for t in texts}))
        qtbot.keyClick(screen, Qt.Key.Key_2)
        qtbot.keyClick(screen, Qt.Key.Key_Up)
        qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert len(normalised) == 4
    for n in normalised[1:]:
        assert set(n) ^ set(normalised[0]) == set()
