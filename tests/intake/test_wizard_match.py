"""The wizard's match table, driven with qtbot: flagged cell shown, researcher picks, study built."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.admin.wizard_match_page import DECIDE, MatchState, WizardMatchPanel
from study.cases import load_cases
from study.protocol import load_protocol
from tests.intake.conftest import build_export
from tests.intake.test_match import RULES


def test_match_table_flags_missing_and_builds_after_a_choice(qtbot, tmp_path, monkeypatch):
    import threading

    import app.admin.wizard_match_page as page

    threads = []
    decode = page.middle_slice
    monkeypatch.setattr(
        page, "middle_slice", lambda v, size=160: threads.append(threading.current_thread()) or decode(v, size)
    )
    build_export(tmp_path / "export")
    (tmp_path / "rules.toml").write_text(RULES)
    (tmp_path / "truth.csv").write_text("PatientID,truth\nPAT1,1\nPAT2,0\n")
    panel = WizardMatchPanel(MatchState())
    qtbot.addWidget(panel)
    panel.resize(1100, 420)
    qtbot.keyClicks(panel.study_edit, str(tmp_path / "study"))
    qtbot.keyClicks(panel.export_edit, str(tmp_path / "export"))
    qtbot.keyClicks(panel.truth_edit, str(tmp_path / "truth.csv"))
    qtbot.keyClicks(panel.rules_edit, str(tmp_path / "rules.toml"))
    with qtbot.waitSignal(panel.matched, timeout=60_000):
        qtbot.mouseClick(panel.build_button, Qt.MouseButton.LeftButton)
    assert not panel.state.result.wrote_cases
    bar = panel.progress_bar
    assert not bar.isHidden() and bar.value() == bar.maximum() == 39 and bar.format() == "headers read: 39/39"
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert headers == ["Case", "T2axi", "T2sag", "DWI"]
    codes = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert all(code.startswith("C") for code in codes) and "PAT1" not in "".join(codes)
    flagged = [
        (r, c)
        for r in range(panel.table.rowCount())
        for c in (1, 2, 3)
        if panel.table.cellWidget(r, c).currentText() == DECIDE
    ]
    assert len(flagged) == 1 and flagged[0][1] == 2
    r = flagged[0][0]
    dwi_text = panel.table.cellWidget(r, 3).currentText()
    assert "b=800" in dwi_text and "score 3" in dwi_text
    # The cell to decide shows a thumbnail of each candidate (no rule matched: every volume of the case),
    # decoded off the GUI thread.
    code = panel.table.item(r, 0).text()
    case = next(c for c in panel.state.result.cases if c.code == code)
    assert panel.shown_cell == (code, "T2sag")
    qtbot.waitUntil(lambda: all(not t.icon().isNull() for t in panel.tiles.values()), timeout=30_000)
    assert set(panel.tiles) == {v.volume_id for v in case.unit.volumes} and len(panel.tiles) > 1
    assert all(not tile.icon().isNull() for tile in panel.tiles.values())
    assert threads and threading.main_thread() not in threads
    panel.grab().save(str(tmp_path / "match-flagged.png"))
    box = panel.table.cellWidget(r, 2)
    pick = next(i for i in range(box.count()) if "T2 TSE AX" in box.itemText(i))
    qtbot.mouseClick(panel.tiles[box.itemData(pick)], Qt.MouseButton.LeftButton)  # a thumbnail chooses
    assert box.currentIndex() == pick and panel.tiles[box.itemData(pick)].isChecked()
    # Another cell (the DWI, scored): one tile per scored candidate, best first.
    dwi_box = panel.table.cellWidget(r, 3)
    with qtbot.waitSignal(panel.candidates_shown, timeout=30_000) as shown:
        dwi_box.setCurrentIndex(1)
    assert shown.args == [code, "DWI"]
    want = [c.volume.volume_id for c in next(x for x in case.results if x.role == "DWI").candidates]
    assert list(panel.tiles) == want and len(want) >= 2
    assert [vid for vid, t in panel.tiles.items() if t.isChecked()] == [dwi_box.currentData()]
    panel.grab().save("/tmp/intake-wizard-candidates.png")
    # Pressing another cell's box (without changing it) shows that cell's candidates.
    other = panel.table.cellWidget(1 - r, 1)
    qtbot.mouseClick(other, Qt.MouseButton.LeftButton)
    assert panel.shown_cell == (panel.table.item(1 - r, 0).text(), "T2axi")
    other.hidePopup()
    with qtbot.waitSignal(panel.matched, timeout=60_000):
        qtbot.mouseClick(panel.build_button, Qt.MouseButton.LeftButton)
    assert panel.state.result.wrote_cases, panel.state.result.flagged
    assert "cases.csv written: 2 cases" in panel.message_label.text()
    assert len(load_cases(tmp_path / "study", load_protocol(tmp_path / "study"))) == 2
    panel.grab().save("/tmp/intake-wizard-match.png")


def test_the_wizard_opens_the_match_table(qtbot, tmp_path):
    from app.admin.wizard_state import WizardState
    from app.admin.wizard_widget import StudyWizardWidget

    wizard = StudyWizardWidget(WizardState())
    qtbot.addWidget(wizard)
    wizard.study_edit.setText(str(tmp_path / "s"))
    qtbot.mouseClick(wizard.from_dicom_button, Qt.MouseButton.LeftButton)
    panel = wizard.match_dialog.findChild(WizardMatchPanel)
    qtbot.addWidget(wizard.match_dialog)
    assert panel is not None and panel.study_edit.text() == str(tmp_path / "s")


def test_a_cancelled_index_stops_with_a_message_and_resumes(tmp_path):
    import threading

    import pytest

    from study.errors import StudyError

    build_export(tmp_path / "export")
    (tmp_path / "rules.toml").write_text(RULES)
    (tmp_path / "truth.csv").write_text("PatientID,truth\nPAT1,1\nPAT2,0\n")
    state = MatchState(tmp_path / "s", tmp_path / "export", tmp_path / "truth.csv", tmp_path / "rules.toml")
    stop = threading.Event()
    seen = []

    def progress(done, total, left):
        seen.append(done)
        stop.set()

    stop.set()
    with pytest.raises(StudyError, match="indexing cancelled; run again to resume"):
        state.run(progress, stop)
    stop.clear()
    result = state.run(lambda d, t, left: seen.append(d))
    assert result.index.n_read == 39 and not result.index.cancelled and seen[-1] == 39


def test_an_optional_role_is_resolved_as_none_in_the_table(qtbot, tmp_path):
    from study.intake.build import NONE

    build_export(tmp_path / "export")
    (tmp_path / "rules.toml").write_text(
        RULES.replace("[hanging.match.T2sag]\n", "[hanging.match.T2sag]\noptional = true\n")
    )
    (tmp_path / "truth.csv").write_text("PatientID,truth\nPAT1,1\nPAT2,0\n")
    state = MatchState(tmp_path / "study", tmp_path / "export", tmp_path / "truth.csv", tmp_path / "rules.toml")
    panel = WizardMatchPanel(state)
    qtbot.addWidget(panel)
    for edit, value in zip(
        (panel.study_edit, panel.export_edit, panel.truth_edit, panel.rules_edit),
        (state.study_dir, state.export_dir, state.truth_csv, state.rules_toml),
        strict=True,
    ):
        edit.setText(str(value))
    with qtbot.waitSignal(panel.matched, timeout=60_000):
        qtbot.mouseClick(panel.build_button, Qt.MouseButton.LeftButton)
    boxes = panel._boxes()
    (cell,) = [k for k, b in boxes.items() if b.currentText() == DECIDE]
    assert cell[1] == "T2sag"
    assert all(boxes[(code, "T2axi")].findData(NONE) == -1 for code, _ in boxes)  # required: no "none"
    box = boxes[cell]
    box.setCurrentIndex(box.findData(NONE))
    with qtbot.waitSignal(panel.matched, timeout=60_000):
        qtbot.mouseClick(panel.build_button, Qt.MouseButton.LeftButton)
    assert panel.state.result.wrote_cases, panel.state.result.flagged
    cases = {c.case_id: c for c in load_cases(tmp_path / "study", load_protocol(tmp_path / "study"))}
    assert set(cases[cell[0]].media) == {"T2axi", "DWI"}
    assert panel._boxes()[cell].currentData() == NONE  # the table shows the choice kept
