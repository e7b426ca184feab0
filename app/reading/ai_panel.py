"""The AI panel of an aided read: prediction, probabilities, CAM controls.

It is built from an AIOutput only while an aided case is on screen; for an
unaided case ``show_output(None)`` removes every child so no AI text exists
anywhere in the window (not even hidden).  The CAM controls write into the
ReadingState (visibility, opacity, colormap) and the reading screen redraws the
viewer from there.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.reading.reading_state import ReadingState
from app.viewer.overlay import COLORMAPS
from study.aioutput import AIOutput


class _Bars(QWidget):
    """One row per label: name, bar, percentage; values are updated in place."""

    def __init__(self, labels: tuple[str, ...]) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        self.labels = labels
        self.rows: list[tuple[QProgressBar, QLabel]] = []
        for row, label in enumerate(labels):
            name = QLabel(label)
            name.setObjectName("barLabel")
            bar = QProgressBar()
            bar.setObjectName("probBar")
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setFixedHeight(10)
            pct = QLabel()
            pct.setObjectName("barValue")
            pct.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(pct, row, 2)
            self.rows.append((bar, pct))
        grid.setColumnStretch(1, 1)

    def set_values(self, values: tuple[float, ...], highlight: str) -> None:
        for label, (bar, pct), p in zip(self.labels, self.rows, values):
            bar.setValue(int(round(1000 * max(0.0, min(1.0, p)))))
            pct.setText(f"{100 * p:.0f} %")
            if bar.property("top") != (label == highlight):
                bar.setProperty("top", label == highlight)
                bar.style().unpolish(bar)
                bar.style().polish(bar)


def _fmt(v: float) -> str:
    return f"{v:.1f}" if abs(v) < 100 else f"{v:.0f}"


MEASUREMENT_NAMES = {"faz_area_mm2": ("FAZ area", "mm\u00b2"), "circularity": ("circularity", "")}


def measurement_text(measurements: dict[str, float]) -> str:
    """The AI's measurements of its region, one line each: "AI region area 0.31 mm²"."""
    lines = []
    for key, value in measurements.items():
        name, unit = MEASUREMENT_NAMES.get(key, (key.replace("_", " "), ""))
        lines.append(f"{name} {value:.3g}{' ' + unit if unit else ''}")
    return "\n".join(lines)


def operating_point_text(out: AIOutput, fallback_positive: tuple[str, ...] = ()) -> str:
    """The cut behind the AI's call, in one short line: "Cut-off: sarcoma ≥ 32 %"; "" without one.

    The call follows the model's operating point (chosen on a validation study), not the larger bar:
    with sarcoma at 32 % against leiomyoma at 68 % the model still calls sarcoma.  ``fallback_positive``:
    the positive labels when the stored output does not name them (outputs written before it did)."""
    if out.threshold is None or out.head not in ("binary", "multiclass") or not math.isfinite(out.threshold):
        return ""
    positive = out.positive or (out.labels[1:2] if out.head == "binary" else fallback_positive)
    if not positive:
        return ""
    return f"Cut-off: {' or '.join(positive)} ≥ {100 * out.threshold:.0f} %"


class AIPanel(QFrame):
    """Emits ``cam_changed`` after a CAM control changed the state."""

    cam_changed = Signal()

    def __init__(self, state: ReadingState, unit: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aiPanel")
        self.state = state
        self.unit = unit
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(14, 12, 14, 12)
        self._layout.setSpacing(8)
        self.cam_button: QPushButton | None = None
        self.heat_label: QLabel | None = None
        self.opacity_slider: QSlider | None = None
        self.colormap_box: QComboBox | None = None
        self.main_label: QLabel | None = None
        self.cut_label: QLabel | None = None
        self.interval_label: QLabel | None = None
        self.bars: _Bars | None = None
        self.measure_label: QLabel | None = None
        self._shape: tuple | None = None
        self.setVisible(False)

    def bind(self, state: ReadingState) -> None:
        self.state = state

    def _clear(self) -> None:
        while self._layout.count():
            child = self._layout.takeAt(0)
            widget = child.widget()
            if widget is not None:
                widget.setParent(None)  # out of the tree now: findChildren must not see it
                widget.deleteLater()
            elif child.layout() is not None:
                _delete_layout(child.layout())
        self.cam_button = self.heat_label = self.opacity_slider = self.colormap_box = None
        self.main_label = self.cut_label = self.interval_label = self.measure_label = None
        self.bars: _Bars | None = None

    def show_output(self, out: AIOutput | None) -> None:
        """Show ``out``; None removes every child (an unaided case has no AI text at all)."""
        if out is None:
            self._clear()
            self._shape = None
            self.setVisible(False)
            return
        is_value = out.head == "regression" or (out.value is not None and not out.probabilities)
        shape = (
            out.head,
            bool(operating_point_text(out, self._positive())),
            out.labels,
            is_value,
            bool(out.probabilities),
            out.interval is not None,
            bool(out.cams),
            bool(out.measurements),
        )
        if shape != self._shape:  # same model, next case: only the numbers change (fast switch)
            self._clear()
            self._build(out, is_value)
            self._shape = shape
        self._fill(out, is_value)
        self.setVisible(True)
        self.refresh()

    def _build(self, out: AIOutput, is_value: bool) -> None:
        title = QLabel("AI assistance")
        title.setObjectName("panelTitle")
        self._layout.addWidget(title)
        self.main_label = QLabel()
        self.main_label.setObjectName("aiValue" if is_value else "aiPrediction")
        self.main_label.setTextFormat(Qt.TextFormat.RichText if not is_value else Qt.TextFormat.PlainText)
        self._layout.addWidget(self.main_label)
        if not is_value and operating_point_text(out, self._positive()):
            self.cut_label = QLabel()
            self.cut_label.setObjectName("aiCutoff")
            self.cut_label.setToolTip(
                "The AI calls a case positive when its score reaches the model's operating point,"
                " chosen on a validation study; the call can differ from the larger bar."
            )
            self._layout.addWidget(self.cut_label)
        if is_value and out.interval is not None:
            self.interval_label = QLabel()
            self.interval_label.setObjectName("hint")
            self._layout.addWidget(self.interval_label)
        region = out.head == "segmentation"
        if not is_value and out.probabilities and not region:  # a region's foreground share is no answer
            self.bars = _Bars(out.labels)
            self._layout.addWidget(self.bars)
        if out.measurements:
            self.measure_label = QLabel()
            self.measure_label.setObjectName("aiMeasurements")
            self.measure_label.setWordWrap(True)
            self._layout.addWidget(self.measure_label)
        if out.cams and not region:
            self._add_cam_controls()
        elif region:
            hint = QLabel("A: show or hide the AI's region   O: outline / fill")
            hint.setObjectName("hint")
            hint.setWordWrap(True)  # the panel is narrower than the line
            self._layout.addWidget(hint)

    def _fill(self, out: AIOutput, is_value: bool) -> None:
        unit = f" {self.unit}" if self.unit else ""
        if is_value:
            value = out.value if out.value is not None else float("nan")
            self.main_label.setText(f"{_fmt(value)}{unit}" if math.isfinite(value) else "no value")
            if self.interval_label is not None and out.interval is not None:
                lo, hi = out.interval
                self.interval_label.setText(f"interval {_fmt(lo)}\u2013{_fmt(hi)}{unit}")
            return
        if out.head == "segmentation":
            # The region is drawn on the image; the panel gives the score derived from it, in the
            # words of the combined question (e.g. "Glaucoma?").  Without such a question the score
            # answers nothing the reader is asked (a foreground share, say): the region alone.
            task = self.state.protocol.task
            question = (getattr(task, "also_question", "") or "").rstrip("?") or "Score"
            score = out.score
            self.main_label.setText(
                f"AI {question.lower()} likelihood: <b>{round(100 * score)}</b> / 100"
                if math.isfinite(score) and getattr(task, "also", "") == "binary"
                else "AI region"
            )
        else:
            heading = "Most likely grade" if out.head == "grade_distribution" else "Prediction"
            self.main_label.setText(f"{heading}: <b>{out.predicted}</b>" if out.predicted else heading)
        if self.cut_label is not None:
            self.cut_label.setText(operating_point_text(out, self._positive()))
        if self.measure_label is not None:
            self.measure_label.setText(measurement_text(out.measurements))
        if self.bars is not None:
            self.bars.set_values(out.probabilities, out.predicted)

    def _positive(self) -> tuple[str, ...]:
        """The study's positive labels for a multiclass model (its collapse on a binary task, or the task's own)."""
        protocol = getattr(self.state, "protocol", None)
        if protocol is None:
            return ()
        return tuple(protocol.model_positive) or tuple(getattr(protocol.task, "positive", ()) or ())

    def _add_cam_controls(self) -> None:
        sep = QFrame()
        sep.setObjectName("separator")
        sep.setFrameShape(QFrame.Shape.HLine)
        self._layout.addWidget(sep)
        self.cam_button = QPushButton("Heat map   C")
        self.cam_button.setObjectName("camButton")
        self.cam_button.setCheckable(True)
        self.cam_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cam_button.setToolTip("Show where the model looked (Grad-CAM); key C")
        self.cam_button.clicked.connect(self.on_cam_clicked)
        self._layout.addWidget(self.cam_button)
        self.heat_label = QLabel()
        self.heat_label.setObjectName("aiHeatNote")
        self.heat_label.setWordWrap(True)
        self.heat_label.setToolTip(
            "The heat map is drawn as strongly as the AI scores the class it explains, against the"
            " model's cut-off: a case the AI calls negative shows faint heat or none."
        )
        self._layout.addWidget(self.heat_label)
        row = QHBoxLayout()
        opacity_label = QLabel("Opacity")
        opacity_label.setObjectName("hint")
        row.addWidget(opacity_label)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.opacity_slider.valueChanged.connect(self.on_opacity_changed)
        row.addWidget(self.opacity_slider, 1)
        self.colormap_box = QComboBox()
        self.colormap_box.addItems(COLORMAPS)
        self.colormap_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.colormap_box.currentTextChanged.connect(self.on_colormap_changed)
        row.addWidget(self.colormap_box)
        self._layout.addLayout(row)

    def on_cam_clicked(self, checked: bool) -> None:
        self.state.set_cam_visible(checked)
        self.refresh()
        self.cam_changed.emit()

    def on_opacity_changed(self, value: int) -> None:
        self.state.set_overlay(opacity=value / 100)
        self.cam_changed.emit()

    def on_colormap_changed(self, name: str) -> None:
        self.state.set_overlay(colormap=name)
        self.cam_changed.emit()

    def refresh(self) -> None:
        if self.cam_button is None:
            return
        widgets = (self.cam_button, self.opacity_slider, self.colormap_box)
        for w in widgets:
            w.blockSignals(True)
        self.cam_button.setChecked(self.state.cam_visible)
        self.opacity_slider.setValue(int(round(100 * self.state.overlay.opacity)))
        self.colormap_box.setCurrentText(self.state.overlay.colormap)
        for w in widgets:
            w.blockSignals(False)
        self.opacity_slider.setEnabled(self.state.cam_visible)
        self.colormap_box.setEnabled(self.state.cam_visible)
        note = self.state.heat.note
        self.heat_label.setText(note.replace(" %", "\u00a0%"))  # "100 %" never split over two lines
        self.heat_label.setVisible(bool(note))


def _delete_layout(layout) -> None:
    while layout.count():
        child = layout.takeAt(0)
        widget = child.widget()
        if widget is not None:
            widget.setParent(None)
            widget.deleteLater()
        elif child.layout() is not None:
            _delete_layout(child.layout())
    layout.deleteLater()
