"""qtbot drives the wizard from a folder of real PNGs to a study the engine opens; login gates the screens."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.admin import open_admin
from app.admin.admin_widget import AdminWidget
from study.cases import load_cases
from study.protocol import load_protocol
from study.store import Store
from tests.admin.wizard_steps import wizard_on_cases


def test_wizard_creates_a_study_from_a_folder(qtbot, tmp_path, photo_folder):
    media, truth = photo_folder
    truth.write_text(truth.read_text().replace("C003,1,", "C003,yes,"))  # a bad truth to fix in place
    study = tmp_path / "new-study"
    shell = open_admin(study)
    qtbot.addWidget(shell)
    w = shell.wizard
    assert shell.currentWidget() is w
    w.media_edit.setText(str(media))
    w.truth_edit.setText(str(truth))
    assert w.media_mode_box.currentData() == "copy"  # self-contained by default
    qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    assert w.pages.currentIndex() == 1
    assert w.case_table.rowCount() == 8
    assert [w.case_table.horizontalHeaderItem(c).text() for c in range(4)] == [
        "case_id",
        "truth",
        "patient_id",
        "image",
    ]
    assert w.case_table.item(0, 3).text() == "C001.png"

    with qtbot.waitSignal(w.preview_shown, timeout=10_000):
        w.case_table.selectRow(1)
    assert w.preview.roles == ["image"] and w.preview.viewport("image").media.frames.shape[1:3] == (303, 384)

    w.check_button.click()
    assert w.problem_list.count() == 1
    problem = w.problem_list.item(0)
    assert "cases.csv: row 4 (C003)" in problem.text() and "'yes'" in problem.text()
    w.on_problem_activated(problem)
    assert w.case_table.selectionModel().selectedRows()[0].row() == 2
    w.case_table.item(2, 1).setText("1")  # fixed in place
    assert w.state.cases[2].truth == "1" and w.problem_list.count() == 0

    qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    page = w.protocol_page
    assert page.study_id.text() == "new-study" and page.kind.currentData() == "binary"
    # Every design has reads with the AI: the page says they wait for a model (attached after Create).
    assert not page.aided_note.isHidden() and page.aided_note.text().startswith(
        "Session 2 is read with the AI: it opens only when a model is attached and its outputs are precomputed"
    )
    page.design.setCurrentText("crossover")
    assert page.aided_note.text().startswith("Both sessions hold cases read with the AI: they open only when")
    page.washout.setValue(14)
    qtbot.keyClicks(page.groups, "specialist, resident")
    page.time_limit.setValue(120)
    seed = page.seed.value()
    qtbot.keyClicks(page.password, "pw-123456")
    qtbot.keyClicks(page.confirm, "pw-12345")
    problems = lambda: [w.problem_list.item(i).text() for i in range(w.problem_list.count())]
    # Check catches the mismatch as Create does, in the same words.
    qtbot.mouseClick(w.check_button, Qt.MouseButton.LeftButton)
    # The table is sound, so Check decodes every file in a worker; the password problem stays in view.
    assert w.message_label.text() == "1 problem(s). Decoding the media: 0 of 8 cases\u2026"
    qtbot.waitUntil(lambda: w.check_button.isEnabled(), timeout=20_000)
    assert problems() == ["admin password: the two entries differ"]
    assert w.message_label.text() == "1 problem(s)." and w.message_label.objectName() == "problemLabel"
    w.next_button.click()
    assert problems() == ["admin password: the two entries differ"] and not (study / "study.toml").exists()
    qtbot.keyClicks(page.confirm, "6")
    qtbot.mouseClick(w.check_button, Qt.MouseButton.LeftButton)  # the files decoded already: not again
    assert problems() == [] and w.message_label.text() == "No problems: ready to create."
    assert w.message_label.objectName() == "successLabel"  # a success is not shown in the warning colour
    with qtbot.waitSignal(w.study_created, timeout=10_000):
        qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)

    p = load_protocol(study)
    assert (p.design, p.washout_days, p.groups, p.time_limit_seconds, p.seed) == (
        "crossover",
        14,
        ("specialist", "resident"),
        120,
        seed,
    )
    assert [c.truth for c in load_cases(study, p)][2] == "1"
    # The media were copied into the study folder; cases.csv points there, relative to the study.
    assert (study / "cases.csv").read_text().splitlines()[1] == "C001,1,P1,media/C001.png"
    assert (study / "media" / "C001.png").read_bytes() == (media / "C001.png").read_bytes()
    assert "media copied into it" in w.message_label.text() and w.message_label.objectName() == "successLabel"
    assert "Next: attach a model and precompute (Study administration \u2192 Model)" in w.message_label.text()
    assert isinstance(shell.currentWidget(), AdminWidget)
    store = Store.open(study)
    try:
        assert store.check_admin_password("pw-123456")
    finally:
        store.close()


def test_wizard_multiclass_and_role_rename(qtbot, tmp_path, two_role_folder):
    media, truth = two_role_folder
    shell = open_admin(tmp_path / "cyto")
    qtbot.addWidget(shell)
    w = shell.wizard
    w.media_edit.setText(str(media))
    w.truth_edit.setText(str(truth))
    w.next_button.click()
    w.role_box.setCurrentText("T2")
    qtbot.keyClicks(w.role_edit, "T2axi")
    w.rename_button.click()
    assert w.state.roles == ("DWI", "T2axi") and w.case_table.horizontalHeaderItem(4).text() == "T2axi"
    w.next_button.click()
    page = w.protocol_page
    assert page.kind.currentData() == "multiclass" and page.labels.text() == "CIN1, CIN2+, normal"
    page.positive.clear()
    qtbot.keyClicks(page.positive, "CIN2+, CIN3")
    w.check_button.click()
    assert any("task.positive" in w.problem_list.item(i).text() for i in range(w.problem_list.count()))
    page.positive.clear()
    qtbot.keyClicks(page.positive, "CIN2+")
    page.design.setCurrentText("concurrent")
    assert not page.washout.isEnabled()
    qtbot.keyClicks(page.password, "secret1")
    qtbot.keyClicks(page.confirm, "secret1")
    with qtbot.waitSignal(w.study_created, timeout=10_000):
        w.next_button.click()
    p = load_protocol(tmp_path / "cyto")
    assert p.task.kind == "multiclass" and p.task.positive == ("CIN2+",) and p.hanging.roles == ("DWI", "T2axi")


def test_login_gates_the_admin_screens(qtbot, photo_study):
    shell = open_admin(photo_study)
    qtbot.addWidget(shell)
    login = shell.login
    assert shell.currentWidget() is login
    qtbot.keyClicks(login.password_edit, "wrong-one")
    login.login_button.click()
    assert login.message_label.text() == "Wrong admin password." and shell.admin is None
    qtbot.keyClicks(login.password_edit, "admin-secret")
    with qtbot.waitSignal(login.logged_in):
        qtbot.keyClick(login.password_edit, Qt.Key.Key_Return)
    assert shell.currentWidget() is shell.admin
    assert shell.admin.tabs.count() == 3


def test_a_study_without_admin_password_cannot_be_claimed_in_the_app(qtbot, tmp_path, photo_folder):
    from study.newstudy import new_study

    media, truth = photo_folder
    new_study(tmp_path / "cli", media, truth, seed=1)  # made before `new` required a password
    shell = open_admin(tmp_path / "cli")
    qtbot.addWidget(shell)
    login = shell.login
    assert not login.login_button.isVisibleTo(login) and not login.password_edit.isVisibleTo(login)
    assert "readerstudy admin-password" in login.explain.text()
    assert not login.state.log_in("first-pass") and shell.admin is None
    store = Store.open(tmp_path / "cli")
    try:
        assert not store.has_admin_password()
    finally:
        store.close()


def test_a_broken_study_shows_its_problems(qtbot, photo_study):
    toml = photo_study / "study.toml"
    toml.write_text(toml.read_text().replace('design = "sequential"', 'design = "sometimes"'))
    shell = open_admin(photo_study)
    qtbot.addWidget(shell)
    assert shell.currentWidget() is shell.error_label
    assert "study.design: 'sometimes' is not one of" in shell.error_label.text()


def test_check_decodes_the_media_and_create_refuses_a_file_that_does_not(qtbot, tmp_path, photo_folder):
    """A truncated PNG passes the structural check (it exists, its name says image); Check decodes it
    in a worker and names case, file and cause on its row; Create refuses it and writes nothing."""
    media, truth = photo_folder
    broken = media / "C005.png"
    broken.write_bytes(broken.read_bytes()[:300])
    study = tmp_path / "new-study"
    shell, w = wizard_on_cases(qtbot, study, media, truth)
    w.check_button.click()
    assert not w.check_button.isEnabled()  # decoding
    qtbot.waitUntil(lambda: w.check_button.isEnabled(), timeout=20_000)
    texts = [w.problem_list.item(i).text() for i in range(w.problem_list.count())]
    assert len(texts) == 1 and texts[0].startswith("case C005 / image: ") and str(broken) in texts[0]
    assert w.message_label.text() == "1 problem(s); 1 file(s) the reading screen could not show."
    w.on_problem_activated(w.problem_list.item(0))
    assert w.case_table.selectionModel().selectedRows()[0].row() == 4

    w.next_button.click()  # the protocol page
    qtbot.keyClicks(w.protocol_page.password, "pw-123456")
    qtbot.keyClicks(w.protocol_page.confirm, "pw-123456")
    w.next_button.click()  # Create: refused at once, the file is known not to decode
    texts = [w.problem_list.item(i).text() for i in range(w.problem_list.count())]
    assert any(t.startswith("case C005 / image: ") for t in texts)
    assert not (study / "study.toml").exists() and not (study / "cases.csv").exists()


def test_the_preview_follows_the_selected_row_s_current_media(qtbot, tmp_path, photo_folder):
    """A case without media previews as empty (not the case before); fixing its media cell shows the new file."""
    media, truth = photo_folder
    shell, w = wizard_on_cases(qtbot, tmp_path / "new-study", media, truth)
    with qtbot.waitSignal(w.preview_shown, timeout=10_000):
        w.case_table.selectRow(2)  # C003: moon.png, 512 x 512
    assert w.preview.viewport("image").media.frames.shape[1:3] == (512, 512)

    w.case_table.item(4, 3).setText("")  # C005 loses its media
    with qtbot.waitSignal(w.preview_shown, timeout=10_000):
        w.case_table.selectRow(4)
    assert w.preview_label.text() == "Preview: C005 (no media)"
    assert all(vp.media is None for vp in w.preview.viewports())  # not C003's image under C005's name

    with qtbot.waitSignal(w.preview_shown, timeout=10_000):
        w.case_table.item(4, 3).setText("C006.png")  # horse.png, 328 x 400; the row stays selected
    assert w.case_table.selectionModel().selectedRows()[0].row() == 4
    assert w.preview_label.text() == "Preview: C005"
    assert w.preview.viewport("image").media.frames.shape[1:3] == (328, 400)


def test_wizard_reads_a_semicolon_truth_table_with_decimal_commas(qtbot, tmp_path, photo_folder):
    """Excel in a decimal-comma locale saves "CSV" with ';' between values: the wizard reads it, 9,5 is 9.5."""
    media, truth = photo_folder
    lines = truth.read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    truth.write_text("case_id;truth;patient_id\n" + "".join(f"{c};{i + 7},5;{p}\n" for i, (c, _, p) in enumerate(rows)))
    shell, w = wizard_on_cases(qtbot, tmp_path / "new-study", media, truth)
    assert w.pages.currentIndex() == 1, w.message_label.text()
    assert [w.case_table.item(r, 1).text() for r in range(3)] == ["7.5", "8.5", "9.5"]
    assert w.protocol_page.kind.currentData() == "numeric"
