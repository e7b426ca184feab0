"""The wizard's DICOM route, driven with qtbot: match table (flagged cell shown, researcher picks),
then the Protocol page and the admin password, then Create, as the folder route ends."""

from __future__ import annotations

from pathlib import Path

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
    assert not panel.next_button.isEnabled()
    with qtbot.waitSignal(panel.matched, timeout=60_000):
        qtbot.mouseClick(panel.build_button, Qt.MouseButton.LeftButton)
    assert not panel.state.result.flagged and panel.next_button.isEnabled()
    assert "Every cell decided: 2 cases" in panel.message_label.text()
    assert not (tmp_path / "study").exists()  # matching writes nothing into the study folder
    panel.grab().save("/tmp/intake-wizard-match.png")


def test_the_wizard_opens_the_match_table(qtbot, tmp_path):
    from app.admin.wizard_state import WizardState
    from app.admin.wizard_widget import StudyWizardWidget

    wizard = StudyWizardWidget(WizardState())
    qtbot.addWidget(wizard)
    wizard.study_edit.setText(str(tmp_path / "s"))
    wizard.truth_edit.setText(str(tmp_path / "truth.csv"))
    qtbot.mouseClick(wizard.from_dicom_button, Qt.MouseButton.LeftButton)
    panel = wizard.match_dialog.findChild(WizardMatchPanel)
    qtbot.addWidget(wizard.match_dialog)
    assert panel is not None and panel.study_edit.text() == str(tmp_path / "s")
    assert panel.truth_edit.text() == str(tmp_path / "truth.csv")  # carried over from the Files page
    assert [b.text() for b in panel.browse_buttons] == ["Browse…"] * 4


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
    assert not panel.state.result.flagged
    cases = {c.case_id: c for c in panel.state.staged}
    assert cases[cell[0]].path("T2sag") == "" and cases[cell[0]].path("T2axi")  # the case, without a T2sag
    assert panel._boxes()[cell].currentData() == NONE  # the table shows the choice kept
    # Created through the wizard's write: the empty optional cell passes its checks.
    from study.intake.create import create_intake_study
    from study.wizard import StudySettings

    create_intake_study(
        tmp_path / "study", StudySettings("study", seed=3), panel.state.result, panel.state.staged, "pw-123456"
    )
    built = {c.case_id: c for c in load_cases(tmp_path / "study", load_protocol(tmp_path / "study"))}
    assert set(built[cell[0]].media) == {"T2axi", "DWI"}


def test_the_dicom_route_asks_protocol_and_password_before_it_writes_and_never_rebuilds(qtbot, tmp_path):
    """Files page -> match table -> Protocol page (question, labels, design, seed, admin password) ->
    Create through write_study -> the admin window, as the folder route; de-identified copies."""
    import json

    from app.admin import open_admin
    from app.admin.admin_widget import AdminWidget
    from study.store import Store

    build_export(tmp_path / "export")
    (tmp_path / "rules.toml").write_text(RULES)
    (tmp_path / "truth.csv").write_text("PatientID,truth\nPAT1,1\nPAT2,0\n")
    study = tmp_path / "study"
    shell = open_admin(study)
    qtbot.addWidget(shell)
    shell.resize(1400, 900)
    w = shell.wizard
    qtbot.keyClicks(w.truth_edit, str(tmp_path / "truth.csv"))
    qtbot.mouseClick(w.from_dicom_button, Qt.MouseButton.LeftButton)
    dialog = w.match_dialog
    qtbot.addWidget(dialog)
    panel = dialog.findChild(WizardMatchPanel)
    assert panel.study_edit.text() == str(study) and panel.truth_edit.text() == str(tmp_path / "truth.csv")
    qtbot.keyClicks(panel.export_edit, str(tmp_path / "export"))
    qtbot.keyClicks(panel.rules_edit, str(tmp_path / "rules.toml"))
    panel.media_box.setCurrentIndex(panel.media_box.findData("deidentify"))
    with qtbot.waitSignal(panel.matched, timeout=60_000):
        qtbot.mouseClick(panel.build_button, Qt.MouseButton.LeftButton)
    (cell,) = [k for k, b in panel._boxes().items() if b.currentText() == DECIDE]
    box = panel._boxes()[cell]
    box.setCurrentIndex(next(i for i in range(box.count()) if "T2 TSE AX" in box.itemText(i)))
    assert not panel.next_button.isEnabled()
    with qtbot.waitSignal(panel.matched, timeout=60_000):
        qtbot.mouseClick(panel.build_button, Qt.MouseButton.LeftButton)
    assert "nothing is written into the study folder before Create" in panel.message_label.text()
    dialog.grab().save(str(tmp_path / "dicom-route-match.png"))
    assert not study.exists()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    # The dialog is gone; the wizard is on its Protocol page with the export's cases and roles.
    assert not dialog.isVisible() and w.pages.currentIndex() == 2
    assert w.state.roles == ("T2axi", "T2sag", "DWI") and len(w.state.cases) == 2
    # Back returns to the match table as it was left (choices kept); Next comes back here.
    qtbot.mouseClick(w.back_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and w.pages.currentIndex() == 0 and panel.next_button.isEnabled()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and w.pages.currentIndex() == 2
    page = w.protocol_page
    assert page.study_id.text() == "study" and page.kind.currentData() == "binary"
    page.question.clear()
    qtbot.keyClicks(page.question, "Sarcoma?")
    page.negative.clear()
    qtbot.keyClicks(page.negative, "leiomyoma")
    page.positive_label.clear()
    qtbot.keyClicks(page.positive_label, "sarcoma")
    page.design.setCurrentText("crossover")
    seed = page.seed.value()
    problems = lambda: [w.problem_list.item(i).text() for i in range(w.problem_list.count())]  # noqa: E731
    # Create without an admin password: refused, nothing written.
    qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    assert "admin password: must have at least 6 characters" in problems() and not study.exists()
    qtbot.keyClicks(page.password, "pw-123456")
    qtbot.keyClicks(page.confirm, "pw-123456")
    w.grab().save(str(tmp_path / "dicom-route-protocol.png"))
    with qtbot.waitSignal(w.study_created, timeout=60_000):
        qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    p = load_protocol(study)
    assert (p.task.question, p.task.labels, p.design, p.seed) == (
        "Sarcoma?",
        ("leiomyoma", "sarcoma"),
        "crossover",
        seed,
    )
    assert {m.role for m in p.hanging.match} == {"T2axi", "T2sag", "DWI"}  # the rules, for a CLI rerun
    cases = load_cases(study, p)
    assert len(cases) == 2 and all(Path(m).is_relative_to(study / "media") for c in cases for m in c.media.values())
    assert all(not f.is_symlink() for f in (study / "media").rglob("*"))  # de-identified copies, not links
    assert "PAT" not in (study / "cases.csv").read_text()
    assert {"intake-key.csv", "matches.csv", "intake-deid-secret.txt"} <= {f.name for f in study.iterdir()}
    assert "Identifying: intake-key.csv, matches.csv, intake-deid-secret.txt" in w.message_label.text()
    assert isinstance(shell.currentWidget(), AdminWidget)
    named = shell.admin.identifying_label  # the admin window names the key files, every time it opens
    assert named.isVisibleTo(shell.admin) and "intake-key.csv, matches.csv, intake-deid-secret.txt" in named.text()
    store = Store.open(study)
    try:
        assert store.check_admin_password("pw-123456")
        (row,) = [r for r in store.audit_rows() if r["action"] == "deidentify"]
        payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
        assert payload["cases"] == 2 and payload["files"] > 0 and store.verify_chain().ok
    finally:
        store.close()
    # Never rebuilt over: the match table refuses the created study, and so does Create.
    written = {f: f.read_bytes() for f in (study / "cases.csv", study / "study.toml", study / "matches.csv")}
    w.on_from_dicom_clicked()
    again = w.match_dialog.findChild(WizardMatchPanel)
    qtbot.addWidget(w.match_dialog)
    again.export_edit.setText(str(tmp_path / "export"))
    again.rules_edit.setText(str(tmp_path / "rules.toml"))
    qtbot.mouseClick(again.build_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "already exists; choose an empty study folder" in again.message_label.text())
    assert {f: f.read_bytes() for f in written} == written
