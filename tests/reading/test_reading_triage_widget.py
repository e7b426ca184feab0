"""The triage screen: ranked queue, filter, CAM on when opened, keys 1-3 confirm, time logged."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import select

from app.main_window import MainWindow
from study.store import reads_table
from study.store.schema import ReadRow
from tests.reading.helpers import PIN, make_study, open_session


def queue_cells(table) -> list[list[str]]:
    model = table.model()
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


def click_row(qtbot, table, row: int, column: int = 0) -> None:
    qtbot.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(table.model().index(row, column)).center()
    )


def test_triage_queue(qtbot, engine_factory, mono, tmp_path):
    folder = make_study(tmp_path / "cyto", "multiclass", design="concurrent", mode="triage", n=5)
    outs = folder.put_ai()
    window = MainWindow(engine_factory(folder), clock=mono)
    qtbot.addWidget(window)
    window.show()
    window.login_state.login("r1", PIN)
    window.on_logged_in("r1")
    window.on_session_chosen(1)
    assert window.screen == "triage"
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.item is not None and not screen.state.loading)
    table = screen.table
    model = table.model()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["#", "AI class", "AI P(CIN2+)", "Answer"]  # the score names its class
    header = table.horizontalHeader()
    assert header.sectionSize(2) >= header.fontMetrics().horizontalAdvance("AI P(CIN2+)") + 20  # not clipped
    cells = queue_cells(table)
    assert [row[0] for row in cells] == ["1", "2", "3", "4", "5"]
    scores = [float(row[2]) for row in cells]
    assert scores == sorted(scores, reverse=True)
    joined = " ".join(" ".join(r) for r in cells) + screen.progress_label.text()
    assert not any(cid in joined for cid in folder.case_ids)  # slides are named by rank only
    assert screen.remaining_label.text() == "5 of 5 slides to review"
    first = screen.state.item.case_id
    assert outs[first].score == max(o.score for o in outs.values())
    vp = screen.viewer.viewports()[0]
    assert vp.overlay.enabled and screen.ai_panel.cam_button.isChecked()  # CAM on when opened

    mono.advance(4)
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_3)  # confirm/override in one key
    qtbot.waitUntil(lambda: not screen.state.loading)
    assert screen.remaining_label.text() == "4 of 5 slides to review"
    assert queue_cells(table)[0][3] == "CIN2+"

    screen.filter_box.setCurrentText("normal")
    assert model.rowCount() == 2 and all(row[1] == "normal" for row in queue_cells(table))
    click_row(qtbot, table, 0)
    qtbot.waitUntil(lambda: not screen.state.loading)
    opened = screen.state.item.case_id
    assert outs[opened].predicted == "normal"
    mono.advance(2)
    qtbot.keyClick(screen, Qt.Key.Key_1)
    df = reads_table(folder.path).set_index("case")
    assert df.loc[first, "answer"] == "CIN2+" and df.loc[first, "seconds"] == 4.0
    assert df.loc[opened, "answer"] == "normal" and df.loc[opened, "seconds"] == 2.0
    assert bool(df.loc[opened, "cam_shown"])
    assert not screen.submit_button.isVisible()  # one key or one click per slide
    qtbot.waitUntil(lambda: not screen.state.loading)
    clicked = screen.state.item.case_id
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.mouseClick(screen.answer_panel.choice_group.button(1), Qt.MouseButton.LeftButton)
    assert reads_table(folder.path).set_index("case").loc[clicked, "answer"] == "CIN1"
    while screen.state.item is not None:
        qtbot.waitUntil(lambda: screen.state.item is None or not screen.state.loading)
        if screen.state.item is not None:
            qtbot.keyClick(screen, Qt.Key.Key_2)
    qtbot.waitUntil(lambda: window.screen == "summary")
    assert len(reads_table(folder.path)) == 5


def test_triage_resumes_with_done_slides(qtbot, engine_factory, mono, tmp_path):
    folder = make_study(tmp_path / "cyto", "multiclass", design="concurrent", mode="triage", n=5)
    folder.put_ai()

    def open_queue():
        return open_session(qtbot, engine_factory(folder), mono)

    window, screen = open_queue()
    for _ in range(2):
        qtbot.waitUntil(lambda: not screen.state.loading)
        qtbot.keyClick(screen, Qt.Key.Key_1)
    window.close()
    window, screen = open_queue()
    assert screen.remaining_label.text() == "3 of 5 slides to review"
    reviews = [row[3] for row in queue_cells(screen.table)]
    assert reviews == ["normal", "normal", "", "", ""]  # the reader's own answers
    assert screen.triage.current.rank == 3  # the most suspicious slide left


def test_reviewed_slide_is_reopened_and_corrected_with_a_reason(qtbot, engine_factory, mono, tmp_path):
    folder = make_study(tmp_path / "cyto", "multiclass", design="concurrent", mode="triage", n=3)
    folder.put_ai()
    _window, screen = open_session(qtbot, engine_factory(folder), mono)
    first = screen.state.item.case_id
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: not screen.state.loading)
    click_row(qtbot, screen.table, 0)  # the reviewed slide
    qtbot.waitUntil(lambda: screen.state.item.case_id == first and not screen.state.loading)
    assert screen.reason_field.isVisible() and screen.submit_button.isVisible()
    assert "You answered normal before" in screen.correction_label.text()
    qtbot.keyClick(screen, Qt.Key.Key_3)  # picks the class, saves nothing yet
    assert len(reads_table(folder.path)) == 1 and screen.state.item.case_id == first
    qtbot.keyClick(screen, Qt.Key.Key_Return)  # no reason: refused with a message
    assert "reason" in screen.problem_label.text()
    qtbot.keyClicks(screen.reason_field, "overlooked HSIL cells")
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen.reason_field, Qt.Key.Key_Return)
    assert reads_table(folder.path).set_index("case").loc[first, "answer"] == "CIN2+"
    assert queue_cells(screen.table)[0][3] == "CIN2+"
    assert not screen.reason_field.isVisible()


def test_correction_reason_keeps_every_letter_typed(qtbot, engine_factory, mono, tmp_path):
    """P, C, D and digits typed into the reason are the reason's letters, not pause / CAM / answer keys."""
    folder = make_study(tmp_path / "cyto", "multiclass", design="concurrent", mode="triage", n=3)
    folder.put_ai()
    engine = engine_factory(folder)
    _window, screen = open_session(qtbot, engine, mono)
    first = screen.state.item.case_id
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: not screen.state.loading)
    click_row(qtbot, screen.table, 0)
    qtbot.waitUntil(lambda: screen.state.item.case_id == first and not screen.state.loading)
    qtbot.keyClick(screen, Qt.Key.Key_3)
    cam_before = screen.ai_panel.cam_button.isChecked()
    reason = "typo: pressed 1, cells dyskaryotic? Clear CIN2+"
    qtbot.keyClicks(screen.reason_field, reason)
    assert screen.reason_field.text() == reason
    assert not screen.state.paused
    assert screen.ai_panel.cam_button.isChecked() == cam_before
    assert screen.keys_dialog is None or not screen.keys_dialog.isVisible()
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen.reason_field, Qt.Key.Key_Return)
    assert reads_table(folder.path).set_index("case").loc[first, "answer"] == "CIN2+"
    with engine.store.Session() as s:
        stored = s.execute(select(ReadRow.correction_reason).where(ReadRow.case_id == first)).scalars().all()
    assert stored == [None, reason]
