"""Wizard page 3: design, task, readers, seed, time limit and the admin password.

A region task (the reader outlines e.g. the FAZ) asks what is outlined, on which
viewport role, the pixel size (the DICOM's own when the media give one) and an
optional combined yes/no question with its likelihood scale."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.admin.wizard_state import WizardState
from study import wizard
from study.protocol import ALL_TASK_KINDS, CONFIDENCE_SCALES, DESIGNS, SYNC_MODES

KIND_NAMES = {
    "binary": "binary (yes / no + confidence)",
    "multiclass": "multiclass",
    "grade_distribution": "grade distribution",
    "numeric": "numeric value",
    "region": "region (outline on the image)",
}
ALSO_NAMES = {"": "none: the region only", "binary": "yes / no + likelihood (e.g. Glaucoma?)"}


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


def _spin(lo: int, hi: int, suffix: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setSuffix(suffix)
    return s


class ProtocolPage(QWidget):
    edited = Signal()

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("protocolPage")
        self.state = state
        self.study_id = QLineEdit()
        self.title = QLineEdit()
        self.design = QComboBox()
        self.design.addItems(list(DESIGNS))
        self.washout = _spin(0, 365, " days")
        self.groups = QLineEdit()
        self.groups.setPlaceholderText("comma-separated, e.g. specialist, resident")
        self.seed = _spin(0, 2**31 - 1)
        self.seed_button = QPushButton("New seed")
        self.seed_button.clicked.connect(self.on_new_seed_clicked)
        self.time_limit = _spin(0, 3600, " s per case")
        self.time_limit.setSpecialValueText("no limit")
        self.sync = QComboBox()
        self.sync.addItems(list(SYNC_MODES))

        study_box = QGroupBox("Study and design")
        f1 = QFormLayout(study_box)
        f1.addRow("Study id", self.study_id)
        f1.addRow("Title", self.title)
        f1.addRow("Design", self.design)
        f1.addRow("Washout", self.washout)
        f1.addRow("Reader groups", self.groups)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.seed_button)
        f1.addRow("Randomization seed", seed_row)
        f1.addRow("Time limit", self.time_limit)
        f1.addRow("Slice sync", self.sync)
        self.aided_note = QLabel()
        self.aided_note.setObjectName("hint")
        self.aided_note.setWordWrap(True)
        f1.addRow("", self.aided_note)

        self.kind = QComboBox()
        for k in ALL_TASK_KINDS:
            self.kind.addItem(KIND_NAMES[k], k)
        self.question = QLineEdit()
        self.negative, self.positive_label = QLineEdit(), QLineEdit()
        self.confidence = QComboBox()
        self.confidence.addItems(list(CONFIDENCE_SCALES))
        self.labels, self.positive = QLineEdit(), QLineEdit()
        self.labels.setPlaceholderText("comma-separated, e.g. normal, CIN1, CIN2+")
        self.positive.setPlaceholderText("labels counted positive, e.g. CIN2+")
        self.grades = QLineEdit()
        self.unit = QLineEdit()
        self.lo, self.hi = QDoubleSpinBox(), QDoubleSpinBox()
        for s in (self.lo, self.hi):
            s.setRange(-1e6, 1e6)
            s.setDecimals(2)
        self._region_widgets()
        self.kind_pages = QStackedWidget()
        for rows in (
            [
                ("Negative label", self.negative),
                ("Positive label", self.positive_label),
                ("Confidence scale", self.confidence),
            ],
            [("Labels", self.labels), ("Positive labels", self.positive)],
            [("Grades", self.grades)],
            [("Unit", self.unit), ("Minimum", self.lo), ("Maximum", self.hi)],
            [
                ("Region", self.region),
                ("Drawn on", self.region_role),
                ("Pixel size", self.spacing),
                ("", self.spacing_note),
                ("Combined question", self.also),
                ("Asked as", self.also_question),
                ("Negative label", self.also_negative),
                ("Positive label", self.also_positive),
                ("Likelihood scale", self.also_confidence),
            ],
        ):
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            for label, w in rows:
                form.addRow(label, w)
            self.kind_pages.addWidget(page)
        task_box = QGroupBox("Task")
        f2 = QFormLayout(task_box)
        f2.addRow("Kind", self.kind)
        f2.addRow("Question", self.question)
        # Which truth label is the disease, when the words do not say it: asked, never preselected.
        self.positive_choice = QComboBox()
        self.positive_choice.setObjectName("positiveChoice")
        self.positive_choice.setPlaceholderText("choose\u2026 (no default)")
        self.positive_choice.currentIndexChanged.connect(self.on_positive_chosen)
        self.label_counts = QLabel()
        self.label_counts.setObjectName("hint")
        self.label_counts.setWordWrap(True)
        f2.addRow("Positive (the disease)", self.positive_choice)
        f2.addRow("", self.label_counts)
        f2.addRow(self.kind_pages)

        self.password, self.confirm = QLineEdit(), QLineEdit()
        for e in (self.password, self.confirm):
            e.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("at least 6 characters")
        pw_box = QGroupBox("Admin password of this study")
        f3 = QFormLayout(pw_box)
        f3.addRow("Password", self.password)
        f3.addRow("Repeat", self.confirm)

        left = QVBoxLayout()
        left.addWidget(study_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(task_box)
        right.addWidget(pw_box)
        right.addStretch(1)
        row = QHBoxLayout(self)
        row.addLayout(left, 1)
        row.addLayout(right, 1)

        self.show_state()
        for w in (
            self.study_id,
            self.title,
            self.groups,
            self.question,
            self.negative,
            self.positive_label,
            self.labels,
            self.positive,
            self.grades,
            self.unit,
            self.region,
            self.also_question,
            self.also_negative,
            self.also_positive,
        ):
            w.textEdited.connect(self.on_form_edited)
        for w in (
            self.design,
            self.kind,
            self.confidence,
            self.sync,
            self.region_role,
            self.also,
            self.also_confidence,
        ):
            w.currentIndexChanged.connect(self.on_form_edited)
        for w in (self.washout, self.seed, self.time_limit, self.lo, self.hi, self.spacing):
            w.valueChanged.connect(self.on_form_edited)

    def _region_widgets(self) -> None:
        self.region = QLineEdit()
        self.region.setPlaceholderText("what the reader outlines, e.g. FAZ, optic disc, lesion")
        self.region_role = QComboBox()  # the viewport roles of the cases
        self.spacing = QDoubleSpinBox()
        self.spacing.setRange(0.0, 100.0)
        self.spacing.setDecimals(4)
        self.spacing.setSingleStep(0.001)
        self.spacing.setSuffix(" mm")
        self.spacing.setToolTip(
            "Size of one pixel in mm, for areas in mm\u00b2. Leave at 0 to use the media's own "
            "(DICOM PixelSpacing); photos carry none, so their areas stay in pixels."
        )
        self.spacing_note = QLabel()
        self.spacing_note.setObjectName("hint")
        self.spacing_note.setWordWrap(True)
        self.also = QComboBox()
        for value, text in ALSO_NAMES.items():
            self.also.addItem(text, value)
        self.also_question = QLineEdit()
        self.also_question.setPlaceholderText("e.g. Glaucoma?")
        self.also_negative, self.also_positive = QLineEdit(), QLineEdit()
        self.also_confidence = QComboBox()
        self.also_confidence.addItems(list(CONFIDENCE_SCALES))

    def show_state(self) -> None:
        """Put the state's settings into the form (signals blocked: this is not an edit)."""
        s = self.state.settings
        widgets = self.findChildren(QWidget)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.study_id.setText(s.study_id)
            self.title.setText(s.title)
            self.design.setCurrentText(s.design)
            self.washout.setValue(s.washout_days)
            self.washout.setEnabled(s.design != "concurrent")
            self.aided_note.setText(self.state.aided_note)
            self.groups.setText(", ".join(s.groups))
            self.seed.setValue(s.seed)
            self.time_limit.setValue(s.time_limit_seconds)
            self.sync.setCurrentText(s.sync)
            self.kind.setCurrentIndex(ALL_TASK_KINDS.index(s.kind))
            self.kind_pages.setCurrentIndex(ALL_TASK_KINDS.index(s.kind))
            self.question.setText(s.question)
            if s.kind == "binary" and len(s.labels) == 2:
                self.negative.setText("" if s.positive_to_choose else s.labels[0])
                self.positive_label.setText("" if s.positive_to_choose else s.labels[1])
            self.confidence.setCurrentText(s.confidence)
            if s.kind == "multiclass":
                self.labels.setText(", ".join(s.labels))
                self.positive.setText(", ".join(s.positive))
            self.grades.setText(", ".join(s.grades))
            self.unit.setText(s.unit)
            self.lo.setValue(s.min if s.min is not None else 0.0)
            self.hi.setValue(s.max if s.max is not None else 100.0)
            self._show_region(s)
            self._show_positive_choice(s)
        finally:
            for w in widgets:
                w.blockSignals(False)

    def _show_positive_choice(self, s: wizard.StudySettings) -> None:
        """The "which is positive" row: the truth labels with their counts, shown when they need a
        choice and the task asks a yes/no question; the choice made so far (none at first)."""
        pair = self.state.truth_labels
        counts = wizard.label_counts([c.truth for c in self.state.cases])
        items = [f"{label} ({n} case{'s' * (n != 1)})" for label, n in ((x, counts.get(x, 0)) for x in pair)]
        if [self.positive_choice.itemText(i) for i in range(self.positive_choice.count())] != items:
            self.positive_choice.clear()
            for label, text in zip(pair, items, strict=True):
                self.positive_choice.addItem(text, label)
        chosen = s.labels[1] if not s.positive_to_choose and set(s.labels) == set(pair) else None
        self.positive_choice.setCurrentIndex(self.positive_choice.findData(chosen) if chosen else -1)
        self.label_counts.setText(
            f"{self.state.label_counts}. Which is the disease? The statistics count it as positive." if pair else ""
        )
        yes_no = s.kind == "binary" or (s.kind == "region" and s.also == "binary")
        form = self.positive_choice.parentWidget().layout()
        for w in (self.positive_choice, self.label_counts):
            form.setRowVisible(w, bool(pair) and yes_no)
        hint = "set by the choice above" if s.positive_to_choose else ""
        for e in (self.negative, self.positive_label, self.also_negative, self.also_positive):
            e.setPlaceholderText(hint)

    def on_positive_chosen(self, index: int) -> None:
        """The researcher says which truth label is positive: the label fields follow."""
        if index < 0 or not self.state.truth_labels:
            return
        neg, pos = wizard.choose_positive(self.state.truth_labels, self.positive_choice.itemData(index))
        for edit, text in ((self.negative, neg), (self.positive_label, pos), (self.also_negative, neg)):
            edit.setText(text)
        self.also_positive.setText(pos)  # both kinds' fields: switching kind keeps the choice
        self.on_form_edited()

    def _show_region(self, s) -> None:
        self.region.setText(s.region)
        self.region_role.clear()
        self.region_role.addItems(list(self.state.roles))
        self.region_role.setCurrentText(s.region_role)
        self.spacing.setValue(s.spacing_mm or 0.0)
        self.also.setCurrentIndex(list(ALSO_NAMES).index(s.also))
        self.also_question.setText(s.also_question)
        if s.kind == "region" and len(s.labels) == 2:
            self.also_negative.setText("" if s.positive_to_choose else s.labels[0])
            self.also_positive.setText("" if s.positive_to_choose else s.labels[1])
        self.also_confidence.setCurrentText(s.confidence)
        self._show_region_hints(s)

    def _show_region_hints(self, s) -> None:
        """The spacing the media give (or that they give none), and the combined question's fields
        only when there is one."""
        role = s.region_role or (self.state.roles[0] if self.state.roles else "")
        media, note = self.state.media_spacing(role) if s.kind == "region" and role else (None, "")
        # 0 means: no number typed; then the media's own spacing, else areas in pixels
        self.spacing.setSpecialValueText("from the DICOM" if media else "unknown (areas in pixels)")
        if s.spacing_mm is not None and media:
            note += f" The {s.spacing_mm:g} mm typed here wins over it."
        self.spacing_note.setText(note)
        form = self.kind_pages.widget(ALL_TASK_KINDS.index("region")).layout()
        for w in (self.also_question, self.also_negative, self.also_positive, self.also_confidence):
            form.setRowVisible(w, bool(s.also))

    def on_form_edited(self, *_args) -> None:
        kind = self.kind.currentData()
        old = self.state.settings
        outline = f"Outline the {self.region.text().strip() or 'region'}"
        if kind == "region" != old.kind and self.question.text().strip() in ("", "Positive?"):
            self.question.setText(outline)  # a yes/no question makes no sense over a drawing
        elif kind == "region" and self.question.text().strip() == f"Outline the {old.region or 'region'}":
            self.question.setText(outline)  # the default instruction follows the region's name
        to_choose: tuple[str, ...] = ()
        if kind in ("binary", "region"):
            neg, pos = (
                (self.also_negative, self.also_positive) if kind == "region" else (self.negative, self.positive_label)
            )
            typed = (neg.text().strip(), pos.text().strip())
            if self.state.truth_labels and typed == ("", ""):  # nothing chosen nor typed: still to choose
                labels = to_choose = self.state.truth_labels
            else:  # chosen above, or typed by the researcher: their words
                labels = (typed[0] or "negative", typed[1] or "positive")
        elif kind == "multiclass":
            labels = _words(self.labels.text())
        else:
            labels = self.state.settings.labels
        self.state.update(
            study_id=self.study_id.text().strip(),
            title=self.title.text().strip(),
            design=self.design.currentText(),
            washout_days=self.washout.value(),
            groups=_words(self.groups.text()),
            seed=self.seed.value(),
            time_limit_seconds=self.time_limit.value(),
            sync=self.sync.currentText(),
            kind=kind,
            question=self.question.text().strip(),
            labels=labels,
            confidence=(self.also_confidence if kind == "region" else self.confidence).currentText(),
            positive=_words(self.positive.text()),
            grades=_words(self.grades.text()),
            unit=self.unit.text().strip(),
            min=self.lo.value() if kind == "numeric" else None,
            max=self.hi.value() if kind == "numeric" else None,
            region=self.region.text().strip(),
            region_role=self.region_role.currentText(),
            spacing_mm=self.spacing.value() or None,
            also=self.also.currentData(),
            also_question=self.also_question.text().strip(),
            positive_to_choose=to_choose,
        )
        self.kind_pages.setCurrentIndex(ALL_TASK_KINDS.index(kind))
        self.positive_choice.blockSignals(True)
        try:
            self._show_positive_choice(self.state.settings)
        finally:
            self.positive_choice.blockSignals(False)
        self._show_region_hints(self.state.settings)
        self.washout.setEnabled(self.design.currentText() != "concurrent")
        self.aided_note.setText(self.state.aided_note)
        self.edited.emit()

    def on_new_seed_clicked(self) -> None:
        self.state.new_seed()
        self.show_state()
