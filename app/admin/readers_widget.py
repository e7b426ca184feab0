"""Readers and sessions: enrol readers, watch progress and washouts, override, audit."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.admin.readers_state import ReadersState
from app.admin.tables import readonly_table
from app.admin.tone import show_message

REFRESH_MS = 10_000
# Dark tints that keep light text readable in the app's dark theme.
STATE_COLORS = {"done": "#1e3b28", "in progress": "#3d3318", "locked": "#2b2f36", "not started": "#1a1d22"}


class ReadersPanel(QWidget):
    changed = Signal()  # after any action that changed the store

    def __init__(self, state: ReadersState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state

        add_box = QGroupBox("Add a reader")
        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText("e.g. spec4")
        self.group_box = QComboBox()
        self.group_box.setEditable(not state.groups)
        self.group_box.addItems(list(state.groups))
        self.pin_edit = QLineEdit()
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setPlaceholderText("at least 4 characters")
        self.add_button = QPushButton("Add reader")
        self.add_button.clicked.connect(self.on_add_clicked)
        form = QFormLayout(add_box)
        form.addRow("Reader code", self.code_edit)
        form.addRow("Group", self.group_box)
        form.addRow("PIN", self.pin_edit)
        form.addRow("", self.add_button)
        # What Add reader did, under its button (not below the table, far from the form).
        self.add_message_label = QLabel()
        self.add_message_label.setWordWrap(True)
        form.addRow(self.add_message_label)

        override_box = QGroupBox("Open a session before its washout ends")
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("reason (kept in the audit log)")
        self.override_button = QPushButton("Override washout")
        self.override_button.setEnabled(False)
        self.override_button.clicked.connect(self.on_override_clicked)
        self.override_hint = QLabel("Select a locked session in the table.")
        self.override_hint.setObjectName("hint")
        self.override_hint.setWordWrap(True)
        ocol = QVBoxLayout(override_box)
        ocol.addWidget(self.override_hint)
        ocol.addWidget(self.reason_edit)
        ocol.addWidget(self.override_button)
        self.override_message_label = QLabel()
        self.override_message_label.setWordWrap(True)
        ocol.addWidget(self.override_message_label)

        audit_box = QGroupBox("Audit log")
        self.verify_button = QPushButton("Verify audit chain")
        self.verify_button.clicked.connect(self.on_verify_clicked)
        self.export_button = QPushButton("Export audit log (CSV)…")
        self.export_button.clicked.connect(self.on_export_clicked)
        self.audit_label = QLabel()
        self.audit_label.setWordWrap(True)
        acol = QVBoxLayout(audit_box)
        acol.addWidget(self.verify_button)
        acol.addWidget(self.export_button)
        acol.addWidget(self.audit_label)

        side = QVBoxLayout()
        side.addWidget(add_box)
        side.addWidget(override_box)
        side.addWidget(audit_box)
        side.addStretch(1)

        self.table = readonly_table(stretch_last=True)
        self.table.setSelectionBehavior(self.table.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(self.table.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self.on_selection_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.on_refresh_clicked)
        self.total_bar = QProgressBar()
        self.total_bar.setFormat("%v of %m reads (%p%)")
        self.message_label = QLabel()
        self.message_label.setObjectName("problemLabel")
        self.message_label.setWordWrap(True)
        head = QHBoxLayout()
        title = QLabel("Progress per reader and session (refreshes every 10 s)")
        title.setObjectName("sectionLabel")
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.refresh_button)
        main = QVBoxLayout()
        main.addLayout(head)
        main.addWidget(self.total_bar)
        self.code_warning_label = QLabel()
        self.code_warning_label.setObjectName("problemLabel")
        self.code_warning_label.setWordWrap(True)
        main.addWidget(self.code_warning_label)
        main.addWidget(self.table, 1)
        main.addWidget(self.message_label)

        row = QHBoxLayout(self)
        row.addLayout(main, 3)
        row.addLayout(side, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.on_refresh_clicked)
        self.timer.start()
        self.show_state()

    # -- view -------------------------------------------------------------------
    def show_state(self) -> None:
        s = self.state
        keep = self.selected_session()
        self.table.clear()
        self.table.setColumnCount(2 + len(s.session_names))
        self.table.setHorizontalHeaderLabels(
            ["Reader", "Group", *[f"Session {i + 1}: {n}" for i, n in enumerate(s.session_names)]]
        )
        self.table.setRowCount(len(s.lines))
        for r, line in enumerate(s.lines):
            self.table.setItem(r, 0, QTableWidgetItem(line.code))
            self.table.setItem(r, 1, QTableWidgetItem(line.group))
            for c, cell in enumerate(line.sessions, start=2):
                item = QTableWidgetItem(cell.text)
                item.setData(Qt.ItemDataRole.UserRole, (line.code, cell.index))
                item.setBackground(QColor(STATE_COLORS.get(cell.state, "#1a1d22")))
                item.setForeground(QColor("#e6e9ed"))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        done, total = s.totals
        self.total_bar.setMaximum(max(total, 1))
        self.total_bar.setValue(done)
        self.total_bar.setFormat(f"{done} of {total} reads (%p%)" if total else "no readers yet")
        warnings = "\n".join(f"Warning: {w[0].upper()}{w[1:]}." for w in s.code_warnings)
        self.code_warning_label.setText(warnings)
        self.code_warning_label.setVisible(bool(warnings))
        self.audit_label.setText(s.audit_text)
        self.audit_label.setProperty("ok", bool(s.audit_ok))
        self.audit_label.setStyleSheet("color: #7ddc8a;" if s.audit_ok else "color: #ff7b72; font-weight: bold;")
        labels = {"add": self.add_message_label, "override": self.override_message_label}
        shown_in = labels.get(s.message_about, self.message_label)
        for label in (self.message_label, *labels.values()):
            show_message(label, s.message if label is shown_in else "", s.message_ok)
            label.setVisible(bool(label.text()))
        if keep is not None and any(line.code == keep[0] for line in s.lines):
            self.select_session(*keep)
        self.on_selection_changed()

    def selected_session(self) -> tuple[str, int] | None:
        items = self.table.selectedItems()
        if not items:
            return None
        return items[0].data(Qt.ItemDataRole.UserRole)

    def select_session(self, reader: str, index: int) -> None:
        row = next(i for i, line in enumerate(self.state.lines) if line.code == reader)
        self.table.setCurrentCell(row, 1 + index)

    # -- slots ------------------------------------------------------------------
    def on_selection_changed(self) -> None:
        sel = self.selected_session()
        cell = None
        if sel is not None:
            line = next(x for x in self.state.lines if x.code == sel[0])
            cell = next(c for c in line.sessions if c.index == sel[1])
        ok = cell is not None and cell.can_override
        self.override_button.setEnabled(ok)
        self.override_hint.setText(
            f"{sel[0]}, session {sel[1]}: {cell.text}" if ok else "Select a session locked by its washout in the table."
        )

    def on_refresh_clicked(self) -> None:
        self.state.refresh()
        self.show_state()

    def on_add_clicked(self) -> None:
        if self.state.add_reader(self.code_edit.text(), self.group_box.currentText().strip(), self.pin_edit.text()):
            self.code_edit.clear()
            self.pin_edit.clear()
            self.changed.emit()
        self.show_state()

    def on_override_clicked(self) -> None:
        sel = self.selected_session()
        if sel and self.state.override_washout(sel[0], sel[1], self.reason_edit.text()):
            self.reason_edit.clear()
            self.changed.emit()
        self.show_state()

    def on_verify_clicked(self) -> None:
        self.state.verify_chain()
        self.show_state()

    def on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export audit log", str(self.state.engine.study_dir / "audit.csv"), "CSV (*.csv)"
        )
        if path:
            self.export_audit(Path(path))

    def export_audit(self, path: Path) -> None:
        self.state.export_audit(path)
        self.show_state()
