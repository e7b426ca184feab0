"""Contour editing speed: ``python -m tests.benchmarks.region`` prints one JSON line.

On a 1024 x 1024 image in a 900 x 900 viewport with the region editor attached
(``app.reading.region_editor``), each step is one editing action plus a full
render of the viewport (``grab()``, offscreen), timed as wall and process-CPU ms:

* ``place``: a vertex placed by a click (32 of them around a circle; from the
  third on, the region is re-rasterized);
* ``drag``: one mouse-move of a vertex drag (the polygon moves; the region is
  rasterized when the drag ends, timed as ``drag_finish``);
* ``brush``: one mouse-move of a brush stroke (a disc painted along the move, the
  fill redrawn); ``brush_finish``: the stroke ends (an undo step, the polygon fitted
  again to the region).

Budget (issue 16): repaint p95 <= 16.7 ms while drawing or editing (place, drag,
brush).  A benchmark, not a test: it reports, it does not assert.  The machine's
load average is printed with the figures (2 cores shared by several engineers).
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

SIZE = 1024


def percentiles(ms: list[float]) -> dict[str, float]:
    p50, p95 = np.percentile(ms, [50, 95])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2), "n": len(ms)}


class Steps:
    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, action, render) -> None:
        t0, c0 = time.perf_counter(), time.process_time()
        action()
        render()
        self.wall.append((time.perf_counter() - t0) * 1000)
        self.cpu.append((time.process_time() - c0) * 1000)

    def report(self) -> dict:
        return {"wall": percentiles(self.wall), "cpu": percentiles(self.cpu)}


def run() -> dict:
    from PySide6.QtCore import QPointF

    from app.reading.region_answer import RegionAnswer
    from app.reading.region_editor import RegionEditorPanel
    from app.viewer.viewport import ViewportWidget
    from study.media.types import Media
    from study.protocol import Task

    # The app imports the editor's libraries in the background while the reader logs in
    # (``MainWindow``): timed here once, cold, then the edits run with them loaded.
    from study.regiongeometry import load_libraries

    t0 = time.perf_counter()
    load_libraries()
    results = {"libraries_import_ms": round((time.perf_counter() - t0) * 1000, 1)}
    rng = np.random.default_rng(0)
    frames = (rng.random((1, SIZE, SIZE)) * 255).astype(np.uint8)
    vp = ViewportWidget(controls=False)
    vp.resize(900, 900)
    vp.show()
    vp.set_media(Media(frames, "image"))
    answer = RegionAnswer(Task("region", region="FAZ"))
    answer.begin((1, SIZE, SIZE), (0.01, 0.01))
    editor = RegionEditorPanel(answer)
    editor.attach(vp)

    def render() -> None:
        vp.graphics.grab()

    render()  # first paint: layout, handle shapes

    place = Steps()
    angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    for a in angles:
        x, y = SIZE / 2 + 300 * np.cos(a), SIZE / 2 + 300 * np.sin(a)
        place.time(lambda x=x, y=y: editor.on_canvas_clicked(x, y), render)
    results["place"] = place.report()

    drag, finish = Steps(), Steps()
    for k in range(20):
        handle = editor.roi.getHandles()[k % len(editor.roi.getHandles())]
        start = handle.scenePos()
        for i in range(1, 11):
            pos = start + QPointF(2.0 * i, 1.5 * i)
            drag.time(lambda pos=pos, h=handle: h.movePoint(pos, finish=False), render)
        finish.time(lambda h=handle: h.movePoint(h.scenePos(), finish=True), render)
    results["drag"] = drag.report()
    results["drag_finish"] = finish.report()

    editor.set_tool("brush")
    brush, brush_end = Steps(), Steps()
    for k in range(10):
        y = 200 + 60 * k
        editor.on_canvas_stroked([(100.0, y), (101.0, y)], "start")
        for i in range(1, 31):
            brush.time(lambda i=i, y=y: editor.on_canvas_stroked([(100.0 + 25 * i, y)], "move"), render)
        brush_end.time(lambda y=y: editor.on_canvas_stroked([(850.0, y)], "finish"), render)
    results["brush"] = brush.report()
    results["brush_finish"] = brush_end.report()
    results["edits"] = answer.edit_count
    vp.close()
    return results


def main() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    load_before = os.getloadavg()
    results = run()
    results |= {
        "image": f"{SIZE}x{SIZE}",
        "budget_p95_ms": 16.7,
        "loadavg_before": [round(v, 2) for v in load_before],
        "loadavg_after": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    app.processEvents()
    print(json.dumps(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
