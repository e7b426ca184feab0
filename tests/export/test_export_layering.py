"""The statistics and export modules load neither Qt nor torch (nor pyplot's global state)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_stats_and_export_import_no_gui_or_torch():
    code = (
        "import json, sys\nimport study.stats.analysis, study.stats.simulate, study.stats.tasks, study.export.report, study.export.cli\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not {m.split(".")[0] for m in loaded} & {"PySide6", "pyqtgraph", "torch", "torchvision"}
    assert "matplotlib.pyplot" not in loaded
