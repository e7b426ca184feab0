"""pyqtgraph plots of the dashboard: ROC with unaided -> aided arrows, forest of sens/spec;
Bland-Altman and grade-distribution bars for the non-binary tasks."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.admin.dashboard_state import BlandAltmanSeries, ForestRow, RocSeries

AI_COLOR = "#d62728"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
MODE_STYLES = [Qt.PenStyle.DashLine, Qt.PenStyle.SolidLine, Qt.PenStyle.DotLine]


BACKGROUND = "#14161a"  # the app's dark base colour
TEXT = "#c9d0d8"


def _style_plot(plot: pg.PlotItem) -> None:
    plot.showGrid(x=True, y=True, alpha=0.2)
    for side in ("left", "bottom"):
        ax = plot.getAxis(side)
        ax.setPen(pg.mkPen("#5a626d"))
        ax.setTextPen(pg.mkPen(TEXT))
        ax.enableAutoSIPrefix(False)  # rates stay 0..1, never "(x0.001)"


class RocPlotWidget(pg.GraphicsLayoutWidget):
    """Empirical ROC per reader and modality with each reader's operating points joined by an arrow
    (unaided, open circle -> aided, filled), the AI's curve and point; left the whole curve, right
    a zoom on the operating points (as in the PDF report)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.full = self.addPlot(row=0, col=0, title=f"<span style='color:{TEXT}'>ROC, arrows per reader</span>")
        self.zoom = self.addPlot(row=0, col=1, title=f"<span style='color:{TEXT}'>Operating points (zoomed)</span>")
        for p in (self.full, self.zoom):
            _style_plot(p)
            p.setLabel("bottom", "1 − specificity")
            p.setLabel("left", "Sensitivity")
        self.full.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        self.legend = self.zoom.addLegend(
            offset=(-10, -10), labelTextColor=TEXT, brush=pg.mkBrush(20, 22, 26, 220), pen=pg.mkPen("#3a4049")
        )
        self.points: dict[tuple[str, str], tuple[float, float]] = {}  # what is drawn, for tests and tooltips
        self.arrows: list[tuple[str, tuple[float, float], tuple[float, float]]] = []

    def show_roc(
        self,
        curves: list[RocSeries],
        ai: RocSeries | None,
        points: dict[tuple[str, str], tuple[float, float]],
        readers: list[str],
        modalities: list[str],
    ) -> None:
        self.legend.clear()
        self.points, self.arrows = {}, []
        for plot in (self.full, self.zoom):
            self._draw(plot, curves, ai, points, readers, modalities, legend=plot is self.zoom)
        self.full.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        if self.points:
            xs, ys = zip(*self.points.values())
            self.zoom.setRange(
                xRange=(max(0.0, min(xs) - 0.03), min(1.0, max(xs) + 0.04)),
                yRange=(max(0.0, min(ys) - 0.05), min(1.0, max(ys) + 0.03)),
                padding=0.02,
            )

    def _draw(self, plot: pg.PlotItem, curves, ai, points, readers, modalities, legend: bool) -> None:
        plot.clear()
        plot.plot([0, 1], [0, 1], pen=pg.mkPen("#4a515b", width=1))
        color = {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(readers)}
        for c in curves:
            style = MODE_STYLES[modalities.index(c.modality) % len(MODE_STYLES)]
            plot.plot(c.fpf, c.tpf, pen=pg.mkPen(color[c.reader], width=1, style=style))
        if ai is not None:
            plot.plot(ai.fpf, ai.tpf, pen=pg.mkPen(AI_COLOR, width=3), name="AI" if legend else None)
        for r in readers:
            a = points.get((r, modalities[0]))
            b = points.get((r, modalities[1])) if len(modalities) > 1 else None
            for m, p, filled in ((modalities[0], a, False), (modalities[-1], b, True)):
                if p is None or not all(map(math.isfinite, p)):
                    continue
                self.points[(r, m)] = p
                brush = pg.mkBrush(color[r]) if filled else pg.mkBrush(BACKGROUND)
                plot.plot(
                    [p[0]],
                    [p[1]],
                    pen=None,
                    symbol="o",
                    symbolSize=9,
                    symbolBrush=brush,
                    symbolPen=pg.mkPen(color[r], width=2),
                    name=r if legend and filled else None,
                )
            if a is not None and b is not None and a != b:
                line = pg.PlotCurveItem([a[0], b[0]], [a[1], b[1]], pen=pg.mkPen(color[r], width=2))
                plot.addItem(line)
                pg.CurveArrow(line, index=1, headLen=12, tipAngle=35, brush=color[r], pen=pg.mkPen(color[r]))
                if legend:
                    self.arrows.append((r, a, b))
        ai_point = points.get(("AI", "standalone"))
        if ai_point is not None:
            self.points[("AI", "standalone")] = ai_point
            plot.plot(
                [ai_point[0]],
                [ai_point[1]],
                pen=None,
                symbol="star",
                symbolSize=16,
                symbolBrush=pg.mkBrush(AI_COLOR),
                symbolPen=pg.mkPen(AI_COLOR),
            )


class ForestPlotWidget(pg.GraphicsLayoutWidget):
    """Per reader x modality: sensitivity and specificity with Wilson 95% CIs, one row each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.sens_plot = self.addPlot(row=0, col=0, title=f"<span style='color:{TEXT}'>Sensitivity (95% CI)</span>")
        self.spec_plot = self.addPlot(row=0, col=1, title=f"<span style='color:{TEXT}'>Specificity (95% CI)</span>")
        self.spec_plot.setYLink(self.sens_plot)
        for p in (self.sens_plot, self.spec_plot):
            _style_plot(p)
            p.setXRange(0, 1, padding=0.02)
            p.setMouseEnabled(x=False, y=False)
        self.spec_plot.hideAxis("left")  # the reader labels are on the sensitivity plot
        self.ci.layout.setColumnStretchFactor(0, 5)
        self.ci.layout.setColumnStretchFactor(1, 4)
        self.rows: list[ForestRow] = []

    def show_rows(self, rows: list[ForestRow], modalities: list[str]) -> None:
        self.rows = rows
        colors = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(modalities)}
        colors["standalone"] = AI_COLOR
        n = len(rows)
        ys = np.arange(n)[::-1].astype(float)
        ticks = [[(float(y), r.label) for y, r in zip(ys, rows)]]
        for plot, key in ((self.sens_plot, "sensitivity"), (self.spec_plot, "specificity")):
            plot.clear()
            for y, r in zip(ys, rows):
                v, (lo, hi) = getattr(r, key), getattr(r, f"{key}_ci")
                if not math.isfinite(v):
                    continue
                c = colors.get(r.modality, TEXT)
                plot.plot([lo, hi], [y, y], pen=pg.mkPen(c, width=2))
                plot.plot([v], [y], pen=None, symbol="s", symbolSize=7, symbolBrush=pg.mkBrush(c), symbolPen=None)
            plot.getAxis("left").setTicks(ticks)
            plot.setYRange(-0.7, n - 0.3, padding=0)
            plot.setXRange(0, 1, padding=0.02)


def _title(text: str) -> str:
    return f"<span style='color:{TEXT}'>{text}</span>"


class BlandAltmanPlotWidget(pg.GraphicsLayoutWidget):
    """Mean of read and truth against their difference, with the bias and 95% limits of agreement."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.plot = self.addPlot(title=_title("Bland-Altman"))
        _style_plot(self.plot)
        self.series: BlandAltmanSeries | None = None  # what is drawn, for tests

    def show_series(self, series: BlandAltmanSeries, label: str, unit: str = "") -> None:
        self.series = series
        u = f" ({unit})" if unit else ""
        p = self.plot
        p.clear()
        p.setTitle(_title(f"Bland-Altman: {label}"))
        p.setLabel("bottom", f"Mean of read and truth{u}", color=TEXT)
        p.setLabel("left", f"Read − truth{u}", color=TEXT)
        p.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen("#4a515b", width=1)))  # no difference
        p.plot(
            series.means,
            series.differences,
            pen=None,
            symbol="o",
            symbolSize=8,
            symbolBrush=pg.mkBrush(PALETTE[0]),
            symbolPen=pg.mkPen("#dfe6ee", width=1),
        )
        for y, name, style, color in (
            (series.bias, "bias", Qt.PenStyle.SolidLine, "#e6e6e6"),
            (series.loa[0], "lower LoA (−1.96 SD)", Qt.PenStyle.DashLine, PALETTE[1]),
            (series.loa[1], "upper LoA (+1.96 SD)", Qt.PenStyle.DashLine, PALETTE[1]),
        ):
            if not math.isfinite(y):
                continue
            line = pg.InfiniteLine(
                pos=y,
                angle=0,
                pen=pg.mkPen(color, width=2, style=style),
                label=f"{name} {y:.2f}",
                labelOpts={"position": 0.9, "color": color, "anchors": [(1, 1), (1, 1)]},
            )
            p.addItem(line)
        lows = [v for v in (*series.differences, *series.loa) if math.isfinite(v)]
        if lows:
            pad = 0.15 * (max(lows) - min(lows) or 1.0)
            p.setYRange(min(lows) - pad, max(lows) + pad, padding=0)
        if len(series.means):
            p.setXRange(float(np.min(series.means)), float(np.max(series.means)), padding=0.08)


class GradeBarsPlotWidget(pg.GraphicsLayoutWidget):
    """Grouped bars: the mean predicted distribution beside the raters' mean, per grade."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.plot = self.addPlot(title=_title("Mean grade distribution"))
        _style_plot(self.plot)
        self.plot.setMouseEnabled(x=False, y=False)
        self.legend = self.plot.addLegend(
            offset=(-10, 10), labelTextColor=TEXT, brush=pg.mkBrush(20, 22, 26, 220), pen=pg.mkPen("#3a4049")
        )
        self.heights: tuple[np.ndarray, np.ndarray] | None = None  # (predicted, raters), for tests

    def show_bars(self, grades: list[str], predicted: np.ndarray, raters: np.ndarray, label: str) -> None:
        self.heights = (predicted, raters)
        p = self.plot
        p.clear()
        self.legend.clear()
        p.setTitle(_title(f"Mean grade distribution: {label}"))
        x = np.arange(len(grades), dtype=float)
        for offset, values, color, name in ((-0.2, predicted, PALETTE[0], label), (0.2, raters, PALETTE[1], "raters")):
            bars = pg.BarGraphItem(
                x=x + offset, height=values, width=0.38, brush=pg.mkBrush(color), pen=pg.mkPen(color)
            )
            p.addItem(bars)
            self.legend.addItem(bars, name)
        p.getAxis("bottom").setTicks([[(float(i), g) for i, g in enumerate(grades)]])
        p.setLabel("bottom", "Grade", color=TEXT)
        p.setLabel("left", "Mean share of the distribution", color=TEXT)
        p.setXRange(-0.6, len(grades) - 0.4, padding=0)
        p.setYRange(0, max(0.1, float(np.max(np.concatenate([predicted, raters]))) * 1.2), padding=0)
