"""The wizard's window keeps its size whatever text it shows: an unreadable series (pydicom's
MR700 folder, a localizer among axial slices), a very long error, long messages; and its
status never says "ready to create" while Create would refuse (the admin password).

Screenshots go to ``$WIZARD_SHOTS`` when it is set."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pydicom.data
import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtWidgets import QApplication

from app.admin.wizard_state import NO_PROBLEMS_YET
from study.media import MediaError
from tests.admin.wizard_steps import wizard_on_cases
from tests.regionstudy import write_mr_series

MR700 = Path(pydicom.data.get_testdata_file("MR_small.dcm")).parent / "dicomdirtests" / "98892003" / "MR700"
LONG_PATH = "/" + "/".join(f"export{i:03d}_series_of_a_very_patient_scanner" for i in range(40))
LONG_ERROR = f"{LONG_PATH}/IM0001: " + "slice orientation differs from the rest " * 60


@pytest.fixture
def unreadable_series_folder(tmp_path) -> tuple[Path, Path]:
    """(media_dir, truth_csv): C001 holds the MR700 files (one slice's orientation differs: the
    series cannot be read), C002 and C003 are good series."""
    media = tmp_path / "media"
    shutil.copytree(MR700, media / "C001")
    for i, case in enumerate(("C002", "C003")):
        write_mr_series(media / case, seed=i)
    truth = tmp_path / "truth.csv"
    truth.write_text("case_id,truth,patient_id\nC001,1,P1\nC002,0,P2\nC003,1,P3\n", encoding="utf-8")
    return media, truth


def _shot(widget, name: str) -> None:
    folder = os.environ.get("WIZARD_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def _on_cases_page(qtbot, tmp_path, folder):
    shell, w = wizard_on_cases(qtbot, tmp_path / "study", *folder)
    with qtbot.waitExposed(shell):  # waits only as a context manager
        shell.show()
    return shell, w


def _laid_out() -> None:
    """Run the pending layout requests (a splitter and each parent re-lays out in its own posted event,
    one level per round; the wizard nests fewer than 10)."""
    for _ in range(10):
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def _buttons_inside(shell, w) -> bool:
    """Back, Check (not on the first page) and Next are shown and lie wholly inside the window."""
    _laid_out()
    inside = shell.rect()
    for b in (w.back_button, w.check_button, w.next_button):
        if b is w.check_button and w.pages.currentIndex() == 0:
            continue
        corners = (b.mapTo(shell, QPoint(0, 0)), b.mapTo(shell, QPoint(b.width() - 1, b.height() - 1)))
        if not (b.isVisible() and all(inside.contains(c) for c in corners)):
            return False
    return True


def test_an_unreadable_series_and_a_long_error_leave_the_window_as_it_was(qtbot, tmp_path, unreadable_series_folder):
    shell, w = _on_cases_page(qtbot, tmp_path, unreadable_series_folder)
    width, min_width = shell.width(), shell.minimumSizeHint().width()
    assert _buttons_inside(shell, w)
    assert shell.maximumSize() == shell.screen().availableGeometry().size()  # never larger than its screen
    print(f"wizard window {shell.width()} x {shell.height()}, minimum width {min_width} px")

    with qtbot.waitSignal(w.preview_shown, timeout=10_000):
        w.case_table.selectRow(0)
    _laid_out()
    assert w.preview_stack.currentWidget() is w.preview_error_area
    assert "C001" in w.preview_error.text() and "slice orientation differs" in w.preview_error.text()
    assert w.preview_label.text() == "Preview: C001 (cannot show this case)"
    assert shell.width() <= width and shell.minimumSizeHint().width() <= min_width
    assert _buttons_inside(shell, w)
    _shot(shell, "wizard_unreadable_series")

    # Far longer than any screen, with a path no line break can split.
    w.on_preview_failed(MediaError(LONG_PATH, LONG_ERROR))
    w.preview_label.setText(f"Preview: {LONG_PATH}")
    _laid_out()
    assert shell.width() <= width and shell.minimumSizeHint().width() <= min_width
    assert _buttons_inside(shell, w)
    assert w.preview_label.shown_text().endswith("…") and w.preview_label.toolTip() == w.preview_label.text()
    _shot(shell, "wizard_long_error")
    shell.resize(min_width, 700)  # and it can be made narrow again
    assert shell.width() == min_width and _buttons_inside(shell, w)

    with qtbot.waitSignal(w.preview_shown, timeout=10_000):
        w.case_table.selectRow(1)
    assert w.preview_stack.currentWidget() is w.preview and w.preview.roles == ["series"]
    assert w.preview_label.text() == "Preview: C002" and w.preview_label.toolTip() == ""


def test_no_status_text_widens_the_wizard(qtbot, tmp_path, unreadable_series_folder):
    shell, w = _on_cases_page(qtbot, tmp_path, unreadable_series_folder)
    for page in range(w.pages.count()):
        w.pages.setCurrentIndex(page)
        w.show_state()
        min_width, width = w.minimumSizeHint().width(), shell.width()
        # the smallest laptop screens are 1280 px wide; this page asked for 2117 px with the MR700 error
        assert min_width <= 1280
        for label in (w.message_label, w.preview_label, w.preview_error, w.protocol_page.spacing_note):
            before = label.text()
            label.setText(LONG_ERROR)
            _laid_out()
            assert w.minimumSizeHint().width() <= min_width, (page, label.objectName())
            assert shell.width() <= width and _buttons_inside(shell, w)
            label.setText(before)
    w.state.message, w.state.message_ok = LONG_ERROR, False
    w.show_state()  # the message line: three lines at most, the whole of it in the tooltip
    _laid_out()
    assert w.message_label.height() < 4 * w.message_label.fontMetrics().lineSpacing()
    assert w.message_label.toolTip() == LONG_ERROR and _buttons_inside(shell, w)


def test_the_protocol_page_never_says_ready_while_the_password_is_missing(qtbot, tmp_path, photo_folder):
    shell, w = _on_cases_page(qtbot, tmp_path, photo_folder)
    w.check_button.click()
    qtbot.waitUntil(lambda: w.check_button.isEnabled(), timeout=20_000)  # every file decoded
    # the cases are fine, but Create needs more: not "ready to create" yet
    assert w.problem_list.count() == 0
    assert w.message_label.text() == f"Every file of the 8 cases decodes. {NO_PROBLEMS_YET}"
    w.next_button.click()
    assert w.pages.currentIndex() == 2
    problems = [w.problem_list.item(i).text() for i in range(w.problem_list.count())]
    assert problems == ["admin password: must have at least 6 characters"]
    assert w.message_label.text() == "1 problem(s)." and w.message_label.objectName() == "problemLabel"
    page = w.protocol_page
    qtbot.keyClicks(page.password, "secret-1")
    qtbot.keyClicks(page.confirm, "secret-1")
    w.check_button.click()
    assert w.problem_list.count() == 0 and w.message_label.text() == "No problems: ready to create."
