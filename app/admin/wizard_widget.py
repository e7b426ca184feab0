"""The new-study wizard: files -> cases (mapping, roles, preview, fixes) -> protocol -> create."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.admin.fit import ElidedLabel, scrolling_text
from app.admin.tone import show_message
from app.admin.wizard_protocol_page import ProtocolPage
from app.admin.wizard_state import WizardState, load_case_media
from app.viewer import HangingLayoutWidget
from app.workers import Worker, create_worker
from study import wizard

STEPS = ("1  Files", "2  Cases and media", "3  Protocol")
FIXED_COLUMNS = ("case_id", "truth", "patient_id")
BAD_ROW = QColor("#5a3a12")
MEDIA_CHOICES = {  # study.newstudy.MEDIA_MODES, in the researcher's words
    "copy": "copy into the study folder (self-contained, movable)",
    "link": "link into the study folder (symbolic links; the originals must stay)",
    "in-place": "leave where they are (paths relative to the study folder)",
}  # amber tint: readable with the dark theme's light text


def _path_row(edit: QLineEdit, button: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


class StudyWizardWidget(QWidget):
    study_created = Signal(Path)
    preview_shown = Signal()

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.preview_worker: Worker | None = None
        self.preview_case_id = ""
        self.preview_key: tuple | None = None  # (case id, media paths, mask) of the case last previewed
        self.write_worker: Worker | None = None
        self.writing = False  # Create's worker is writing the study: Create stays disabled
        self.decode_worker: Worker | None = None

        self.step_labels = [QLabel(s) for s in STEPS]
        steps = QHBoxLayout()
        steps.setSpacing(14)
        for i, label in enumerate(self.step_labels):
            label.setObjectName("wizardStep")
            if i:
                arrow = QLabel("›")
                arrow.setObjectName("hint")
                steps.addWidget(arrow)
            steps.addWidget(label)
        steps.addStretch(1)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._files_page())
        self.pages.addWidget(self._cases_page())
        self.protocol_page = ProtocolPage(state)
        self.protocol_page.edited.connect(self.on_protocol_edited)
        for e in (self.protocol_page.password, self.protocol_page.confirm):
            e.textEdited.connect(self.on_password_edited)
        self.pages.addWidget(self.protocol_page)

        self.problem_list = QListWidget()
        self.problem_list.setObjectName("problemList")
        self.problem_list.itemActivated.connect(self.on_problem_activated)
        self.problem_list.itemClicked.connect(self.on_problem_activated)
        self.message_label = QLabel()
        # Wrapped, so never wider than the window; at most 3 lines tall, all of it in the tooltip.
        self.message_label.setWordWrap(True)
        self.message_label.setMaximumHeight(3 * self.message_label.fontMetrics().lineSpacing() + 4)
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self.on_back_clicked)
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self.on_check_clicked)
        self.next_button = QPushButton("Next")
        self.next_button.setObjectName("submitButton")
        self.next_button.clicked.connect(self.on_next_clicked)
        nav = QHBoxLayout()
        nav.addWidget(self.message_label, 1)
        nav.addWidget(self.back_button)
        nav.addWidget(self.check_button)
        nav.addWidget(self.next_button)

        col = QVBoxLayout(self)
        col.addLayout(steps)
        col.addWidget(self.pages, 1)
        col.addWidget(self.problem_list)
        col.addLayout(nav)
        self.show_state()

    # -- pages ------------------------------------------------------------------------
    def _files_page(self) -> QWidget:
        page = QWidget()
        self.study_edit = QLineEdit(str(self.state.study_dir or ""))
        self.study_edit.setPlaceholderText("an empty folder for study.toml, cases.csv and the store")
        self.media_edit = QLineEdit()
        self.media_edit.setPlaceholderText("one file or folder per case, named by case id")
        self.truth_edit = QLineEdit()
        self.truth_edit.setPlaceholderText("CSV with case_id, truth[, patient_id][, truth_mask]")
        buttons = [QPushButton("Browse…") for _ in range(3)]
        buttons[0].clicked.connect(lambda: self._pick_dir(self.study_edit, "Study folder"))
        buttons[1].clicked.connect(lambda: self._pick_dir(self.media_edit, "Media folder"))
        buttons[2].clicked.connect(self.on_pick_truth_clicked)
        form = QFormLayout()
        form.addRow("Study folder", _path_row(self.study_edit, buttons[0]))
        form.addRow("Media folder", _path_row(self.media_edit, buttons[1]))
        form.addRow("Truth CSV", _path_row(self.truth_edit, buttons[2]))
        self.media_mode_box = QComboBox()
        for mode, text in MEDIA_CHOICES.items():
            self.media_mode_box.addItem(text, mode)
        form.addRow("Media", self.media_mode_box)
        hint = QLabel(
            "Each case is a file named after its case id (C017.png, C017.mp4, a DICOM file) or a folder "
            "(a DICOM series, or one sub-folder or file per viewport role, e.g. C017/T2axi/, C017/DWI/). "
            "Next reads the truth table and finds every case's media. For a region task (the reader "
            "outlines e.g. the FAZ) a truth_mask column gives each case's truth mask (PNG, or an .npy stack "
            "for a series), relative to the truth CSV."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        col = QVBoxLayout(page)
        col.addLayout(form)
        col.addWidget(hint)
        self.from_dicom_button = QPushButton("From a DICOM export…")  # intake: index, match roles by rules
        self.from_dicom_button.clicked.connect(self.on_from_dicom_clicked)
        col.addWidget(self.from_dicom_button)
        col.addStretch(1)
        return page

    def on_from_dicom_clicked(self) -> None:
        """The DICOM route: the match table in its own window, with this page's study folder and truth
        CSV; once every cell is decided it hands the cases back, and the wizard goes on to its Protocol
        page (design, task, seed, admin password) and creates the study as the folder route does."""
        from app.admin.wizard_match_page import open_match_dialog

        dialog = getattr(self, "match_dialog", None)
        if dialog is not None and self.state.created is None:
            dialog.show()  # the table as it was left: paths, choices, thumbnails
            dialog.raise_()
            return
        self.match_dialog = open_match_dialog(
            self, self.study_edit.text(), self.truth_edit.text(), self.on_export_matched
        )

    def on_export_matched(self, panel) -> None:  # type: ignore[no-untyped-def]
        """Every cell of the match table decided: its cases go to the Protocol page (nothing written yet)."""
        m = panel.state
        self.study_edit.setText(str(m.study_dir))
        self.truth_edit.setText(str(m.truth_csv))
        self.state.use_intake(m.study_dir.expanduser(), m.truth_csv, m.result, m.staged, m.media)
        self.step_labels[1].setText("2  Match (DICOM export)")
        self.pages.setCurrentIndex(2)
        self.protocol_page.show_state()
        self.check()
        self.show_state()

    def _cases_page(self) -> QWidget:
        page = QWidget()
        self.case_table = QTableWidget()
        self.case_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.case_table.itemChanged.connect(self.on_cell_edited)
        self.case_table.itemSelectionChanged.connect(self.on_case_selected)
        self.remove_button = QPushButton("Remove selected cases")
        self.remove_button.clicked.connect(self.on_remove_clicked)
        self.browse_media_button = QPushButton("Choose media for cell…")
        self.browse_media_button.setToolTip("pick the file (or, on cancel, the folder) for the selected media cell")
        self.browse_media_button.clicked.connect(self.on_browse_media_clicked)
        self.role_box = QComboBox()
        # as wide as a short role name, not the longest one (the list itself shows them whole)
        self.role_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.role_box.setMinimumContentsLength(8)
        self.role_edit = QLineEdit()
        self.role_edit.setPlaceholderText("new name, e.g. T2axi")
        self.role_edit.setMinimumWidth(180)
        self.rename_button = QPushButton("Rename role")
        self.rename_button.clicked.connect(self.on_rename_clicked)
        # Two rows: in one, the case tools and the role tools made the table side ~900 px at least.
        tools, role_tools = QHBoxLayout(), QHBoxLayout()
        tools.addWidget(self.remove_button)
        tools.addWidget(self.browse_media_button)
        tools.addStretch(1)
        role_tools.addWidget(QLabel("Viewport role"))
        role_tools.addWidget(self.role_box)
        role_tools.addWidget(self.role_edit, 1)
        role_tools.addWidget(self.rename_button)
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        lcol.addLayout(tools)
        lcol.addLayout(role_tools)
        lcol.addWidget(self.case_table, 1)
        hint = QLabel(
            "Double-click a cell to fix it (truth, patient, media path, truth mask); select a case to preview "
            "it (with its truth mask). Row numbers are lines of cases.csv."
        )
        hint.setObjectName("hint")
        lcol.addWidget(hint)
        hint.setWordWrap(True)
        self.preview = HangingLayoutWidget()
        self.preview_label = ElidedLabel("Preview")
        self.preview_label.setObjectName("sectionLabel")
        # Why a case cannot be shown takes the preview's place: wrapped, scrolling, never widening the window.
        self.preview_error = QLabel()
        self.preview_error.setObjectName("problemLabel")
        self.preview_stack = QStackedWidget()
        self.preview_stack.addWidget(self.preview)
        self.preview_error_area = scrolling_text(self.preview_error)
        self.preview_stack.addWidget(self.preview_error_area)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.addWidget(self.preview_label)
        rcol.addWidget(self.preview_stack, 1)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 700])
        col = QVBoxLayout(page)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(split)
        return page

    # -- view ---------------------------------------------------------------------------
    def show_state(self) -> None:
        s = self.state
        step = self.pages.currentIndex()
        for i, label in enumerate(self.step_labels):
            label.setProperty("current", i == step)
            label.setStyleSheet(
                "font-weight: bold; color: #7fb0ff; font-size: 12pt;"
                if i == step
                else "color: #8a94a0; font-size: 12pt;"
            )
        self.back_button.setEnabled(step > 0)
        self.next_button.setText("Create study" if step == len(STEPS) - 1 else "Next")
        self._enable_create()
        self.check_button.setVisible(step > 0)
        self._show_message()
        self.problem_list.clear()
        for p in s.problems:
            item = QListWidgetItem(p.message)
            item.setData(Qt.ItemDataRole.UserRole, p.row)
            self.problem_list.addItem(item)
        self.problem_list.setVisible(bool(s.problems))
        if s.problems:  # as tall as its lines, up to five; it scrolls beyond
            rows = min(len(s.problems), 5)
            self.problem_list.setFixedHeight(
                rows * max(self.problem_list.sizeHintForRow(0), 20) + 2 * self.problem_list.frameWidth() + 6
            )
        if step == 1:
            self._fill_cases()
            self._follow_selected_case()

    def _enable_create(self) -> None:
        """Create is disabled while it writes, and while the positive label is not chosen: a guess
        there would invert every statistic of the study (sensitivity becomes specificity)."""
        on_protocol = self.pages.currentIndex() == len(STEPS) - 1
        unchosen = on_protocol and wizard.positive_problem(self.state.settings) is not None
        self.next_button.setEnabled(not self.writing and not unchosen)
        self.next_button.setToolTip(wizard.positive_problem(self.state.settings) or "" if unchosen else "")

    def on_protocol_edited(self) -> None:
        listed = any(p.message.startswith(wizard.POSITIVE_UNCHOSEN) for p in self.state.problems)
        if listed and wizard.positive_problem(self.state.settings) is None:
            self.check()  # the choice is made: its line leaves the list at once
            self.show_state()
        else:
            self._enable_create()

    def on_password_edited(self) -> None:
        """A listed password problem leaves the list as soon as the typing mends it (it stayed
        until the next Check, saying "at least 6 characters" beside 8 typed)."""
        if any(p.message.startswith(wizard.PASSWORD_PROBLEM) for p in self.state.problems):
            self.check()
            self.show_state()

    def _show_message(self) -> None:
        show_message(self.message_label, self.state.message, self.state.message_ok)
        self.message_label.setToolTip(self.state.message)  # the label shows 3 lines at most

    def _columns(self) -> list[str]:
        """The table's columns: the fixed ones, one per role, and a region task's truth masks."""
        return [*FIXED_COLUMNS, *self.state.roles, *((wizard.MASK_COLUMN,) if self.state.shows_masks else ())]

    def _path_of(self, case: wizard.DraftCase, column: str) -> str:
        return case.truth_mask if column == wizard.MASK_COLUMN else case.path(column)

    def _fill_cases(self) -> None:
        s = self.state
        bad_rows = {p.row for p in s.problems if p.row is not None}
        cols = self._columns()
        t = self.case_table
        # Refilling clears the selection: the selected row (and the cell being edited) stays selected.
        selected = [i.row() for i in t.selectionModel().selectedRows()]
        current = (t.currentRow(), t.currentColumn())
        t.blockSignals(True)
        try:
            t.clear()
            t.setColumnCount(len(cols))
            t.setHorizontalHeaderLabels(cols)
            t.setRowCount(len(s.cases))
            # Row labels are cases.csv line numbers, as in the problem messages ("row 5").
            t.setVerticalHeaderLabels([str(r + 2) for r in range(len(s.cases))])
            for r, c in enumerate(s.cases):
                paths = [self._path_of(c, col) for col in cols[len(FIXED_COLUMNS) :]]
                values = [c.case_id, c.truth, c.patient_id, *map(self._short, paths, cols[len(FIXED_COLUMNS) :])]
                for k, v in enumerate(values):
                    item = QTableWidgetItem(v)
                    if k >= len(FIXED_COLUMNS):
                        item.setToolTip(paths[k - len(FIXED_COLUMNS)])
                    if r in bad_rows:
                        item.setBackground(BAD_ROW)
                    t.setItem(r, k, item)
            t.resizeColumnsToContents()
            if selected and selected[0] < len(s.cases):
                t.setCurrentCell(selected[0], max(0, min(current[1], len(cols) - 1)))
                t.selectRow(selected[0])
        finally:
            t.blockSignals(False)
        self.role_box.clear()
        self.role_box.addItems(list(s.roles))

    def _base(self, column: str) -> Path | None:
        """The folder a relative path typed in ``column`` is taken from: the media folder, or for
        truth masks the truth table's folder (as the truth table's own paths are)."""
        if column == wizard.MASK_COLUMN:
            return self.state.truth_csv.resolve().parent if self.state.truth_csv else None
        return self.state.media_dir

    def _short(self, path: str, column: str = "") -> str:
        """Paths relative to their folder (see ``_base``; full path in the tooltip)."""
        if not path:
            return ""
        try:
            return str(Path(path).resolve().relative_to(self._base(column).resolve()))
        except (ValueError, AttributeError):
            return path

    # -- navigation ------------------------------------------------------------------------
    def on_next_clicked(self) -> None:
        step = self.pages.currentIndex()
        if step == 0:
            self.step_labels[1].setText(STEPS[1])
            self.state.set_files(self.study_edit.text(), self.media_edit.text(), self.truth_edit.text())
            self.state.media_mode = self.media_mode_box.currentData()
            if self.state.scan():
                self.protocol_page.show_state()
                self.pages.setCurrentIndex(1)
        elif step == 1:
            self.pages.setCurrentIndex(2)
            self.protocol_page.show_state()
            self.check()  # this page's status names what Create would refuse, the empty password too
        else:
            self.create()
        self.show_state()

    def on_back_clicked(self) -> None:
        if self.state.intake is not None and self.pages.currentIndex() == len(STEPS) - 1:
            self.pages.setCurrentIndex(0)  # the DICOM route's cases are its match table's
            self.show_state()
            self.on_from_dicom_clicked()
            return
        self.pages.setCurrentIndex(max(0, self.pages.currentIndex() - 1))
        self.show_state()

    def on_check_clicked(self) -> None:
        self.check()
        job = self.state.decode_job()  # the structural check passed: decode every file, off the GUI thread
        if job is not None:
            if self.decode_worker is not None:
                self.decode_worker.cancel()
            self.check_button.setEnabled(False)
            self.decode_worker = create_worker(
                wizard.decode_media,
                *job,
                _connect={
                    "progress": self.on_decode_progressed,
                    "result_ready": self.on_media_decoded,
                    "errored": self.on_create_failed,
                    "finished": self.on_decode_finished,
                },
            )
            self.decode_worker.start()
        self.show_state()

    def on_decode_progressed(self, done_total: tuple[int, int]) -> None:
        self.state.on_decode_progress(done_total)
        self._show_message()

    def on_media_decoded(self, problems: list) -> None:
        self.state.on_decoded(problems)
        self.show_state()

    def on_decode_finished(self) -> None:
        self.state.on_decode_ended()
        self.check_button.setEnabled(True)

    def check(self) -> None:
        pp = self.protocol_page
        # The passwords are on page 3: checked there, as Create checks them.
        on_protocol = self.pages.currentIndex() == len(STEPS) - 1
        self.state.check(*((pp.password.text(), pp.confirm.text()) if on_protocol else ()))

    def create(self) -> None:
        pp = self.protocol_page
        job = self.state.create_job(pp.password.text(), pp.confirm.text())
        if job is None:
            return
        args, kwargs = job
        self.writing = True
        self.next_button.setEnabled(False)
        self.write_worker = create_worker(
            self.state.create_function,
            *args,
            **kwargs,
            _connect={"result_ready": self.on_created, "errored": self.on_create_failed},
        )
        self.write_worker.start()

    def on_created(self, protocol) -> None:
        self.state.on_created(protocol)
        self.writing = False
        self.show_state()
        self.study_created.emit(self.state.study_dir)

    def on_create_failed(self, exc: BaseException) -> None:
        self.state.on_create_failed(exc)
        self.writing = False
        self.show_state()

    def on_problem_activated(self, item: QListWidgetItem) -> None:
        row = item.data(Qt.ItemDataRole.UserRole)
        if row is None or not 0 <= row < len(self.state.cases):
            return
        self.pages.setCurrentIndex(1)
        self.show_state()
        self.case_table.selectRow(row)
        self.case_table.scrollToItem(self.case_table.item(row, 0))

    # -- editing -----------------------------------------------------------------------------
    def on_cell_edited(self, item: QTableWidgetItem) -> None:
        column = self._columns()[item.column()]
        value = item.text()
        base = self._base(column)
        if column not in FIXED_COLUMNS and value and not Path(value).is_absolute() and base:
            value = str(base / value)
        self.state.set_cell(item.row(), column, value)
        self.state.check()
        self.show_state()

    def on_browse_media_clicked(self) -> None:
        item = self.case_table.currentItem()
        if item is None or item.column() < len(FIXED_COLUMNS):
            self.state.message = "Select a media cell (a role column) first."
            self.show_state()
            return
        column = self._columns()[item.column()]
        start = str(self._base(column) or "")
        if column == wizard.MASK_COLUMN:
            path, _ = QFileDialog.getOpenFileName(self, "Truth mask", start, "Masks (*.png *.tif *.tiff *.npy)")
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Media file", start)
        if not path and column != wizard.MASK_COLUMN:
            path = QFileDialog.getExistingDirectory(self, "Media folder (DICOM series)", start)
        if path:
            item.setText(path)  # itemChanged -> on_cell_edited -> the state

    def on_remove_clicked(self) -> None:
        rows = {i.row() for i in self.case_table.selectionModel().selectedRows()}
        if rows:
            self.state.remove_rows(rows)
            self.show_state()

    def on_rename_clicked(self) -> None:
        if self.state.rename_role(self.role_box.currentText(), self.role_edit.text()):
            self.role_edit.clear()
        self.show_state()

    def on_case_selected(self) -> None:
        rows = self.case_table.selectionModel().selectedRows()
        if rows:
            self.preview_case(rows[0].row())

    def _preview_key(self, row: int) -> tuple:
        case = self.state.cases[row]
        return case.case_id, tuple(sorted(self.state.case_paths(row).items())), case.truth_mask

    def _follow_selected_case(self) -> None:
        """The preview shows the selected row as it is now: a fixed media cell (or a removed row) reloads it."""
        rows = self.case_table.selectionModel().selectedRows()
        row = rows[0].row() if rows else -1
        if 0 <= row < len(self.state.cases) and self._preview_key(row) != self.preview_key:
            self.preview_case(row)

    def preview_case(self, row: int) -> None:
        case = self.state.cases[row]
        self.preview_case_id = case.case_id
        self.preview_key = self._preview_key(row)
        self.preview_label.setText(f"Preview: {case.case_id} (loading…)")
        # Bound methods, not lambdas: Qt drops the connection if this widget is gone before the result.
        self.preview_worker = create_worker(
            load_case_media,
            self.state.case_paths(row),
            case.case_id,
            case.truth_mask if self.state.shows_masks else "",
            _connect={"result_ready": self.on_preview_loaded, "errored": self.on_preview_failed},
        )
        self.preview_worker.start()

    def on_preview_loaded(self, loaded: tuple) -> None:
        case_id, media, mask = loaded
        if case_id != self.preview_case_id:
            return  # a case selected before: its load finished after the current one started
        if not media:
            self.preview.clear()  # not the case shown before under this case's name
        else:
            self.preview.set_case([(role, media[role]) for role in self.state.roles if role in media])
            role = self.state.settings.region_role or self.state.roles[0]
            if mask is not None and role in media:
                self.show_truth_mask(media[role], mask, role)
            # Each series from its own middle slice (not synced: the planes may be orthogonal).
            sync, self.preview.sync_enabled = self.preview.sync_enabled, False
            for vp in self.preview.viewports():
                vp.set_slice(vp.n_frames // 2)
            self.preview.sync_enabled = sync
        self.preview_stack.setCurrentWidget(self.preview)
        self.preview_label.setText(f"Preview: {case_id}" + ("" if media else " (no media)"))
        self.preview_shown.emit()

    def show_truth_mask(self, media, mask, role: str) -> None:
        """The truth mask over the image it is drawn on, or why it does not fit (as `validate` says)."""
        n, h, w = media.frames.shape[:3]
        if mask.shape[-2:] != (h, w) or (mask.ndim == 3 and mask.shape[0] != n):
            # The role quoted: a role named "image" made this read "the image image".
            self.state.message, self.state.message_ok = (
                f"Truth mask of shape {mask.shape} does not match the {role!r} media, of shape "
                f"{(h, w) if n == 1 else (n, h, w)}.",
                False,
            )
            self._show_message()
            return
        self.preview.viewport(role).set_mask(mask)

    def on_preview_failed(self, exc: BaseException) -> None:
        self.preview.clear()
        self.preview_label.setText(f"Preview: {self.preview_case_id} (cannot show this case)")
        self.preview_error.setText(f"Cannot show this case: {exc}")
        self.preview_stack.setCurrentWidget(self.preview_error_area)
        self.preview_shown.emit()

    # -- file pickers ----------------------------------------------------------------------------
    def _pick_dir(self, edit: QLineEdit, title: str) -> None:
        path = QFileDialog.getExistingDirectory(self, title, edit.text())
        if path:
            edit.setText(path)

    def on_pick_truth_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Truth CSV", self.media_edit.text(), "CSV (*.csv)")
        if path:
            self.truth_edit.setText(path)
