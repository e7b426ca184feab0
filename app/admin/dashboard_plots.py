"""pyqtgraph plots of the dashboard: ROC with unaided -> aided arrows, forest of sens/spec."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.admin.dashboard_state import ForestRow, RocSeries

AI_COLOR = "#d62728"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
MODE_STYLES = [Qt.PenStyle.DashLine, Qt.PenStyle.SolidLine, Qt.PenStyle.DotLine]


def _style_plot(plot: pg.PlotItem) -> None:
    plot.showGrid(x=True, y=True, alpha=0.15)
    for side in ("left", "bottom"):
        ax = plot.getAxis(side)
        ax.setPen(pg.mkPen("#444"))
        ax.setTextPen(pg.mkPen("#222"))


class RocPlotWidget(pg.PlotWidget):
    """Empirical ROC per reader and modality; each reader's operating points joined by an arrow."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.plot_item = self.getPlotItem()
        _style_plot(self.plot_item)
        self.plot_item.setLabel("bottom", "1 − specificity")
        self.plot_item.setLabel("left", "Sensitivity")
        self.plot_item.setAspectLocked(True)
        self.plot_item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        self.legend = self.plot_item.addLegend(offset=(-10, -10), labelTextColor="#222", brush=pg.mkBrush(255, 255, 255, 220))
        self.points: dict[tuple[str, str], tuple[float, float]] = {}  # what is drawn, for tests and tooltips
        self.arrows: list[tuple[str, tuple[float, float], tuple[float, float]]] = []

    def show_roc(self, curves: list[RocSeries], ai: RocSeries | None, points: dict[tuple[str, str], tuple[float, float]],
                 readers: list[str], modalities: list[str]) -> None:
        self.plot_item.clear()
        self.legend.clear()
        self.points, self.arrows = {}, []
        self.plot_item.plot([0, 1], [0, 1], pen=pg.mkPen("#bbb", width=1))
        color = {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(readers)}
        for c in curves:
            style = MODE_STYLES[modalities.index(c.modality) % len(MODE_STYLES)]
            self.plot_item.plot(c.fpf, c.tpf, pen=pg.mkPen(color[c.reader], width=1, style=style))
        if ai is not None:
            self.plot_item.plot(ai.fpf, ai.tpf, pen=pg.mkPen(AI_COLOR, width=3), name="AI")
        for r in readers:
            a = points.get((r, modalities[0]))
            b = points.get((r, modalities[1])) if len(modalities) > 1 else None
            for m, p, filled in ((modalities[0], a, False), (modalities[-1], b, True)):
                if p is None or not all(map(math.isfinite, p)):
                    continue
                self.points[(r, m)] = p
                brush = pg.mkBrush(color[r]) if filled else pg.mkBrush("w")
                self.plot_item.plot([p[0]], [p[1]], pen=None, symbol="o", symbolSize=9, symbolBrush=brush,
                                    symbolPen=pg.mkPen(color[r], width=2), name=r if not filled or a is None else None)
            if a is not None and b is not None and a != b:
                line = pg.PlotCurveItem([a[0], b[0]], [a[1], b[1]], pen=pg.mkPen(color[r], width=2))
                self.plot_item.addItem(line)
                pg.CurveArrow(line, index=1, headLen=12, tipAngle=35, brush=color[r], pen=pg.mkPen(color[r]))
                self.arrows.append((r, a, b))
        ai_point = points.get(("AI", "standalone"))
        if ai_point is not None:
            self.points[("AI", "standalone")] = ai_point
            self.plot_item.plot([ai_point[0]], [ai_point[1]], pen=None, symbol="star", symbolSize=16,
                                symbolBrush=pg.mkBrush(AI_COLOR), symbolPen=pg.mkPen(AI_COLOR))
        self.plot_item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)


class ForestPlotWidget(pg.GraphicsLayoutWidget):
    """Per reader x modality: sensitivity and specificity with Wilson 95% CIs, one row each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.sens_plot = self.addPlot(row=0, col=0, title="<span style='color:#222'>Sensitivity (95% CI)</span>")
        self.spec_plot = self.addPlot(row=0, col=1, title="<span style='color:#222'>Specificity (95% CI)</span>")
        self.spec_plot.setYLink(self.sens_plot)
        for p in (self.sens_plot, self.spec_plot):
            _style_plot(p)
            p.setXRange(0, 1, padding=0.02)
            p.setMouseEnabled(x=False, y=False)
        self.spec_plot.getAxis("left").setStyle(showValues=False)
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
                c = colors.get(r.modality, "#333")
                plot.plot([lo, hi], [y, y], pen=pg.mkPen(c, width=2))
                plot.plot([v], [y], pen=None, symbol="s", symbolSize=7, symbolBrush=pg.mkBrush(c), symbolPen=None)
            plot.getAxis("left").setTicks(ticks)
            plot.setYRange(-0.7, n - 0.3, padding=0)
            plot.setXRange(0, 1, padding=0.02)
