"""Answer panels, one per task kind, each bound to an AnswerState.

A panel writes the reader's input into its state, emits ``answer_changed``,
and redraws itself from the state in ``refresh`` (also after keyboard input
handled by the reading screen).  Controls never take keyboard focus, so digits,
arrows and Enter always reach the reading screen; only the numeric field does.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

from app.reading.answers import (
    AnswerState,
    BinaryAnswer,
    GradeAnswer,
    MulticlassAnswer,
    NumericAnswer,
)


def _choice_button(key: str, text: str) -> QPushButton:
    button = QPushButton(f"{key}   {text}")
    button.setObjectName("choiceButton")
    button.setCheckable(True)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setMinimumHeight(40)
    return button


class AnswerPanel(QWidget):
    answer_changed = Signal()

    def __init__(self, state: AnswerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state

    def bind(self, state: AnswerState) -> None:
        """Show a fresh answer of the same task (the next case)."""
        self.state = state
        self.refresh()

    def refresh(self) -> None:
        raise NotImplementedError

    def take_focus(self) -> bool:
        """Give keyboard focus to a field if the panel has one."""
        return False

    def _changed(self) -> None:
        self.refresh()
        self.answer_changed.emit()


class _ChoicesPanel(AnswerPanel):
    """Exclusive buttons "1 label", "2 label", ... ; the state says which is on."""

    def _build_choices(self, texts: tuple[str, ...], layout: QVBoxLayout) -> None:
        self.choice_group = QButtonGroup(self)
        self.choice_group.setExclusive(False)  # the state decides; we only mirror it
        for i, text in enumerate(texts):
            button = _choice_button(str(i + 1), text)
            self.choice_group.addButton(button, i)
            layout.addWidget(button)
        self.choice_group.idClicked.connect(self.on_choice_clicked)

    def on_choice_clicked(self, index: int) -> None:
        self.state.select(index)  # type: ignore[attr-defined]
        self._changed()

    def _mirror_choice(self, index: int | None) -> None:
        for i, button in enumerate(self.choice_group.buttons()):
            button.setChecked(i == index)


class LikelihoodSlider(QSlider):
    """A horizontal slider for a rating that may be "not set".

    Unset (``unset`` property true): the thumb is not drawn and the value rests
    at the neutral midpoint, so nothing of the previous case's rating is shown.
    A click anywhere on the track moves the thumb to the point clicked (not one
    page step towards it) and keeps it there for a drag; that value is emitted
    by ``value_picked`` even when it equals the resting value.
    """

    value_picked = Signal(int)

    def _value_at(self, x: float) -> int:
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self)
        span = max(1, groove.width() - handle.width())
        pos = int(round(x - groove.x() - handle.width() / 2))
        return QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), pos, span, opt.upsideDown)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            value = self._value_at(event.position().x())
            self.setValue(value)  # the thumb is now under the pointer: the press grabs it for a drag
            self.value_picked.emit(value)
        super().mousePressEvent(event)


class BinaryAnswerPanel(_ChoicesPanel):
    state: BinaryAnswer

    def __init__(self, state: BinaryAnswer, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._build_choices(state.labels, layout)
        lo, hi = state.scale
        layout.addSpacing(10)
        head = QHBoxLayout()
        head.addWidget(QLabel(f"Likelihood of {state.labels[1]}"))
        head.addStretch(1)
        self.confidence_value = QLabel()
        self.confidence_value.setObjectName("confidenceValue")
        head.addWidget(self.confidence_value)
        layout.addLayout(head)
        self.slider = LikelihoodSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("likelihoodSlider")
        self.slider.setRange(lo, hi)
        self.slider.setSingleStep(state.step)
        self.slider.setPageStep(state.step * 2)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(state.step if hi - lo <= 10 else 25)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.neutral = (lo + hi + 1) // 2  # where the hidden thumb rests while the rating is unset
        self.slider.setValue(self.neutral)
        # value_picked: a click (to the point clicked); valueChanged: the drag after it.
        self.slider.value_picked.connect(self.on_slider_moved)
        self.slider.valueChanged.connect(self.on_slider_moved)
        layout.addWidget(self.slider)
        ends = QHBoxLayout()
        low_text, high_text = (f"{lo}  surely {state.labels[0]}", f"surely {state.labels[1]}  {hi}")
        for text, align in ((low_text, Qt.AlignmentFlag.AlignLeft), (high_text, Qt.AlignmentFlag.AlignRight)):
            end = QLabel(text)
            end.setObjectName("hint")
            end.setAlignment(align)
            ends.addWidget(end)
        layout.addLayout(ends)
        self.refresh()

    def on_slider_moved(self, value: int) -> None:
        self.state.set_confidence(value)
        self._changed()

    def refresh(self) -> None:
        self._mirror_choice(self.state.label_index)
        c = self.state.confidence
        self.confidence_value.setText("not set" if c is None else str(c))
        if self.slider.property("unset") != (c is None):
            self.slider.setProperty("unset", c is None)  # no thumb drawn (style.qss)
            self.slider.style().unpolish(self.slider)
            self.slider.style().polish(self.slider)
        shown = self.neutral if c is None else c  # never the previous case's rating
        if self.slider.value() != shown:
            self.slider.blockSignals(True)
            self.slider.setValue(shown)
            self.slider.blockSignals(False)
            self.slider.update()


class MulticlassAnswerPanel(_ChoicesPanel):
    state: MulticlassAnswer

    def __init__(self, state: MulticlassAnswer, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._build_choices(state.labels, layout)
        self.refresh()

    def refresh(self) -> None:
        self._mirror_choice(self.state.index)


class GradeAnswerPanel(_ChoicesPanel):
    """A single grade by key, or a split of 100 % over the grades with spin boxes."""

    state: GradeAnswer

    def __init__(self, state: GradeAnswer, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._build_choices(state.grades, layout)
        self.split_button = QPushButton("Split over grades\u2026")
        self.split_button.setObjectName("linkButton")
        self.split_button.setCheckable(True)
        self.split_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.split_button.toggled.connect(self.on_split_toggled)
        layout.addSpacing(6)
        layout.addWidget(self.split_button)
        self.split_box = QWidget()
        grid = QGridLayout(self.split_box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.spins: list[QSpinBox] = []
        for i, grade in enumerate(state.grades):
            spin = QSpinBox()
            spin.setRange(0, 100)
            spin.setSingleStep(5)
            spin.setSuffix(" %")
            spin.valueChanged.connect(lambda v, i=i: self.on_share_changed(i, v))
            grid.addWidget(QLabel(grade), 0, i, alignment=Qt.AlignmentFlag.AlignHCenter)
            grid.addWidget(spin, 1, i)
            self.spins.append(spin)
        self.split_total = QLabel()
        self.split_total.setObjectName("hint")
        grid.addWidget(self.split_total, 2, 0, 1, len(state.grades))
        layout.addWidget(self.split_box)
        self.refresh()

    def on_split_toggled(self, on: bool) -> None:
        self.state.set_split_mode(on)
        self._changed()

    def on_share_changed(self, index: int, value: int) -> None:
        self.state.set_share(index, value)
        self._changed()

    def refresh(self) -> None:
        split = self.state.split_mode
        self._mirror_choice(None if split else self.state.index)
        self.split_box.setVisible(split)
        self.split_button.blockSignals(True)
        self.split_button.setChecked(split)
        self.split_button.blockSignals(False)
        for spin, share in zip(self.spins, self.state.shares):
            if spin.value() != share:
                spin.blockSignals(True)
                spin.setValue(share)
                spin.blockSignals(False)
        self.split_total.setText(f"total {sum(self.state.shares)} % of 100 %")


class _FieldKeys(QObject):
    """Lets the reading screen's keys (Enter, up/down) through a focused field; letters are typed
    into it (C and P are the screen's only outside the field)."""

    def __init__(self, forward, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._forward = forward

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (
                Qt.Key.Key_Up,
                Qt.Key.Key_Down,
                Qt.Key.Key_Return,
                Qt.Key.Key_Enter,
            ):
                return self._forward(event)
        return False


class NumericAnswerPanel(AnswerPanel):
    state: NumericAnswer

    def __init__(self, state: NumericAnswer, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.field = QLineEdit()
        self.field.setObjectName("numericField")
        self.field.setPlaceholderText("value")
        self.field.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.field.textEdited.connect(self.on_text_edited)
        row.addWidget(self.field, 1)
        unit = QLabel(state.unit)
        unit.setObjectName("unitLabel")
        row.addWidget(unit)
        layout.addLayout(row)
        self.range_label = QLabel(f"range {state.range_text}" if state.range_text else "")
        self.range_label.setObjectName("hint")
        layout.addWidget(self.range_label)
        self.refresh()

    def forward_keys_to(self, handler) -> None:
        """``handler(QKeyEvent) -> bool`` gets Enter and the up/down arrows typed in the field."""
        self._filter = _FieldKeys(handler, self)
        self.field.installEventFilter(self._filter)

    def on_text_edited(self, text: str) -> None:
        self.state.set_text(text)
        self._mark_validity()  # no full refresh: setText would move the cursor while typing
        self.answer_changed.emit()

    def take_focus(self) -> bool:
        self.field.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def refresh(self) -> None:
        if self.field.text() != self.state.text:
            self.field.setText(self.state.text)
        self._mark_validity()

    def _mark_validity(self) -> None:
        bad = bool(self.state.text.strip()) and not self.state.complete
        self.field.setProperty("invalid", bad)
        self.field.style().unpolish(self.field)
        self.field.style().polish(self.field)


def panel_for(state: AnswerState) -> AnswerPanel:
    from app.reading.region_answer import RegionAnswer

    if isinstance(state, RegionAnswer):
        from app.reading.region_editor import RegionEditorPanel

        return RegionEditorPanel(state)
    if isinstance(state, BinaryAnswer):
        return BinaryAnswerPanel(state)
    if isinstance(state, MulticlassAnswer):
        return MulticlassAnswerPanel(state)
    if isinstance(state, GradeAnswer):
        return GradeAnswerPanel(state)
    if isinstance(state, NumericAnswer):
        return NumericAnswerPanel(state)
    raise TypeError(type(state).__name__)
