"""Start-up: the study window reaches the login screen without importing torch.

How fast it gets there is a budget, measured by ``python -m tests.benchmarks.startup``
(DESIGN.md: budgets are benchmarks, not timed tests, which fail on a loaded machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, sys
from PySide6.QtCore import QTimer
from app.commands.open_study import build_window
app, window = build_window(sys.argv[1])
window.show()
QTimer.singleShot(0, app.quit)  # one turn of the event loop: the login screen is drawn
app.exec()
print(json.dumps({"screen": window.screen, "torch": "torch" in sys.modules,
                  "torchvision": "torchvision" in sys.modules}))
"""


def test_app_starts_to_login_without_torch(study, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", READERSTUDY_CONFIG_DIR=str(tmp_path / "cfg"))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(study.path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=os.getcwd(),
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"screen": "login", "torch": False, "torchvision": False}
