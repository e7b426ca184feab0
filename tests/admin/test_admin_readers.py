"""Readers screen: enrol a reader, see progress and washout, override it (audited), audit chain and CSV."""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from app.admin.readers_state import ReadersState
from app.admin.readers_widget import ReadersPanel
from app.admin.tables import cell_texts
from study.engine import StudyEngine


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(photo_study):
    e = StudyEngine.open(photo_study, clock=Clock())
    yield e
    e.close()


def test_add_reader_override_washout_and_audit(qtbot, engine, finish_session, tmp_path):
    panel = ReadersPanel(ReadersState(engine))
    qtbot.addWidget(panel)
    qtbot.keyClicks(panel.code_edit, "res1")
    panel.group_box.setCurrentText("resident")
    qtbot.keyClicks(panel.pin_edit, "1234")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert [r.code for r in engine.store.readers()] == ["res1"]
    assert cell_texts(panel.table)[0][:3] == ["res1", "resident", "not started 0/8"]
    added = panel.add_message_label
    assert added.text() == "Added reader res1." and added.objectName() == "successLabel"

    qtbot.keyClicks(panel.code_edit, "res1")
    qtbot.keyClicks(panel.pin_edit, "1234")
    panel.add_button.click()
    assert "already exists" in added.text() and added.objectName() == "problemLabel"
    assert panel.message_label.text() == ""  # not below the table, far from the form
    # Sign-in is exact: the same code in other letters, or a code with a space, would be a second reader.
    for code, message in [
        ("RES1", "reader RES1: the code 'res1' exists already; codes that differ only in upper/lower case"),
        ("res 2", "reader code 'res 2': must not contain spaces (e.g. 'res2')"),
    ]:
        panel.code_edit.clear()
        panel.pin_edit.clear()
        qtbot.keyClicks(panel.code_edit, code)
        qtbot.keyClicks(panel.pin_edit, "1234")
        panel.add_button.click()
        assert added.text().startswith(message) and added.objectName() == "problemLabel"
    assert [r.code for r in engine.store.readers()] == ["res1"]

    finish_session(engine, "res1", 1)
    engine.clock.now += timedelta(days=3)
    panel.on_refresh_clicked()
    assert cell_texts(panel.table)[0][2:] == ["done 8/8", "washout: 25.0 days left"]
    assert (panel.total_bar.value(), panel.total_bar.maximum()) == (8, 16)
    panel.select_session("res1", 2)
    assert panel.override_button.isEnabled()
    panel.override_button.click()
    assert "reason is required" in panel.override_message_label.text() and added.text() == ""
    qtbot.keyClicks(panel.reason_edit, "reader leaves the hospital next week")
    with qtbot.waitSignal(panel.changed):
        qtbot.mouseClick(panel.override_button, Qt.MouseButton.LeftButton)
    # open by the washout, still closed for want of the AI (no model attached): the cell says so
    assert cell_texts(panel.table)[0][3].startswith("not started 0/8 \u00b7 needs the AI's outputs")
    if os.environ.get("READERSTUDY_SHOTS"):
        panel.resize(1200, 700)
        panel.grab().save(os.path.join(os.environ["READERSTUDY_SHOTS"], "readers_ai_closed.png"))
    assert [s.state for s in engine.sessions("res1")] == ["done", "not started"]
    override = [r for r in engine.store.audit_rows() if r["action"] == "washout.override"]
    assert len(override) == 1 and "leaves the hospital" in override[0]["payload"]

    panel.verify_button.click()
    assert panel.audit_label.text().startswith("Audit chain intact")
    out = tmp_path / "audit.csv"
    panel.export_audit(out)
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert [r["action"] for r in rows] == [r["action"] for r in engine.store.audit_rows()]
    assert "washout.override" in {r["action"] for r in rows}


def test_verify_reports_a_tampered_chain(qtbot, engine):
    from sqlalchemy import text

    state = ReadersState(engine)
    state.add_reader("spec1", "specialist", "9999")
    with engine.store.transaction() as s:
        s.execute(text("UPDATE audit_log SET payload = '{}' WHERE action = 'reader.added'"))
    panel = ReadersPanel(state)
    qtbot.addWidget(panel)
    panel.verify_button.click()
    assert "BROKEN" in panel.audit_label.text()


def test_group_must_be_one_of_the_study_groups(engine):
    state = ReadersState(engine)
    assert not state.add_reader("x1", "nurse", "1234")
    assert "not one of the study's groups" in state.message and engine.store.readers() == []


def test_add_reader_problems_show_under_the_form(qtbot, engine):
    """A refused PIN is said under the Add reader button, inside its box, in the problem colour."""
    panel = ReadersPanel(ReadersState(engine))
    qtbot.addWidget(panel)
    panel.resize(1280, 800)
    with qtbot.waitExposed(panel):  # waits only as a context manager
        panel.show()
    qtbot.keyClicks(panel.code_edit, "res1")
    panel.group_box.setCurrentText("resident")
    qtbot.keyClicks(panel.pin_edit, "12")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    label = panel.add_message_label
    assert label.text() == "reader res1: PIN must have at least 4 characters" and label.isVisible()
    assert label.objectName() == "problemLabel" and not panel.message_label.isVisible()
    form = panel.add_button.parentWidget()  # the "Add a reader" box
    assert form.isAncestorOf(label)
    button = panel.add_button.mapTo(panel, panel.add_button.rect().bottomLeft())
    top = label.mapTo(panel, label.rect().topLeft())
    assert 0 <= top.y() - button.y() < 30  # right under the button


def test_a_session_closed_for_want_of_the_ai_says_why(engine, finish_session):
    """No model attached: the reader's aided session is open by the washout, not by the AI; the
    Readers tab says why it cannot start, as the reader's session list does."""
    engine.store.add_reader("res1", "resident", "1234")
    finish_session(engine, "res1", 1)
    engine.override_washout("res1", 2, "leaves next week", actor="pi")
    state = ReadersState(engine)
    unaided, aided = state.lines[0].sessions
    assert unaided.text == "done 8/8"
    assert (
        aided.text
        == "not started 0/8 \u00b7 needs the AI's outputs: no model attached (Study administration \u2192 Model)"
    )


def test_codes_of_an_older_store_that_collide_are_named(qtbot, engine, monkeypatch):
    """Codes that differ only in case or spaces are refused now; a store made before holds them."""
    from study.store import Store

    with monkeypatch.context() as m:
        m.setattr(Store, "reader_code_problem", lambda self, code: None)
        for code in ("spec1", "SPEC1", "res 2"):
            engine.store.add_reader(code, "specialist", "1234")
    panel = ReadersPanel(ReadersState(engine))
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    panel.show()
    qtbot.waitExposed(panel)
    warning = panel.code_warning_label
    assert warning.isVisible() and warning.text() == (
        "Warning: Reader codes 'spec1' and 'SPEC1' differ only in upper/lower case or spaces: they count as "
        "two readers in the statistics (if they are one person, read on under one code)."
    )
    panel.grab().save("/tmp/readers_code_warning.png")
    engine.store.add_reader("res3", "resident", "1234")
    panel.on_refresh_clicked()
    assert "'res3'" not in warning.text()  # only the colliding pair


def test_no_code_warning_without_collisions(qtbot, engine):
    engine.store.add_reader("spec1", "specialist", "1234")
    panel = ReadersPanel(ReadersState(engine))
    qtbot.addWidget(panel)
    assert panel.code_warning_label.text() == "" and panel.code_warning_label.isHidden()
