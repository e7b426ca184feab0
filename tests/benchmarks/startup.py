"""Start-up speed: ``python -m tests.benchmarks.startup`` prints one JSON line.

Times a fresh process from launch to the study window's login screen drawn
(one turn of the event loop), torch not imported, against a baseline measured
in the same run: a fresh process that only imports PySide6 and draws one empty
QWidget.  Budget (DESIGN.md): <= 3 s.  Median of 3 runs of each; a benchmark,
not a test (tests/reading/test_reading_startup.py checks what is imported).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET, RUNS = 3.0, 3

APP = """
import sys
from PySide6.QtCore import QTimer
from app.commands.open_study import build_window
app, window = build_window(sys.argv[1])
window.show()
QTimer.singleShot(0, app.quit)
app.exec()
assert window.screen == "login" and "torch" not in sys.modules
"""

BARE = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget()
w.show()
QTimer.singleShot(0, app.quit)
app.exec()
"""


def _time(script: str, *args: str, env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, *args], check=True, env=env, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    from tests.reading.helpers import make_study

    with tempfile.TemporaryDirectory() as tmp:
        study = make_study(Path(tmp) / "study")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", READERSTUDY_CONFIG_DIR=str(Path(tmp) / "cfg"))
        _time(APP, str(study.path), env=env)  # warm-up: first open creates the store, fills OS caches
        app = [_time(APP, str(study.path), env=env) for _ in range(RUNS)]
        bare = [_time(BARE, env=env) for _ in range(RUNS)]
    seconds, baseline = statistics.median(app), statistics.median(bare)
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "seconds": round(seconds, 3),
                "bare_qt_seconds": round(baseline, 3),
                "ratio_to_bare_qt": round(seconds / baseline, 2),
                "budget_seconds": BUDGET,
                "within_budget": seconds <= BUDGET,
            }
        )
    )


if __name__ == "__main__":
    main()
