"""The per-reader forest panel: its caption never runs into the axes' tick labels, however few rows."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from study.export.figures import A4_PORTRAIT, draw_forest


def _result(n_readers: int) -> dict:
    rows = [
        {
            "reader": f"R{i}",
            "modality": mode,
            "n": 40,
            "sensitivity": 0.7,
            "sensitivity_ci95": (0.5, 0.85),
            "specificity": 0.9,
            "specificity_ci95": (0.8, 0.95),
        }
        for i in range(n_readers)
        for mode in ("unaided", "aided")
    ]
    return {"readers": rows, "groups": []}


@pytest.mark.parametrize("n_readers", [1, 2, 6])
def test_forest_caption_clears_the_tick_labels(n_readers):
    fig = Figure(figsize=A4_PORTRAIT)
    canvas = FigureCanvasAgg(fig)
    rows = 2 * n_readers
    height = min(0.8, 0.1 + 0.022 * rows)  # as the report's flow gives the panel (study.export.pdf)
    draw_forest(fig, (0.06, 0.3, 0.9, height), _result(n_readers))
    canvas.draw()
    renderer = canvas.get_renderer()
    (caption,) = fig.texts
    cap = caption.get_window_extent(renderer)
    for ax in fig.axes:
        for label in ax.get_xticklabels():
            box = label.get_window_extent(renderer)
            assert box.y0 > cap.y1, f"tick label {label.get_text()!r} overlaps the caption ({n_readers} readers)"
