"""The import rules of DESIGN.md, checked two ways: import-linter contracts
(static, transitive) and a real import in a fresh interpreter (sys.modules)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_import_linter_contracts_are_kept():
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import json, sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(json.dumps(sorted({k.split('.')[0] for k in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


STUDY_MODULES = [
    "study.protocol",
    "study.cases",
    "study.engine",
    "study.store",
    "study.media",
    "study.commands.status",
    "study.newstudy",
]


@pytest.mark.parametrize("module", STUDY_MODULES)
def test_study_imports_neither_qt_nor_torch(module):
    loaded = _loaded_after_import([module])
    assert not loaded & {"PySide6", "pyqtgraph", "torch", "torchvision", "pytorch_grad_cam"}


def test_inference_imports_no_qt_and_no_sqlalchemy():
    pkgs = [p.stem for p in (ROOT / "inference").glob("*.py") if p.stem != "__init__"]
    loaded = _loaded_after_import([f"inference.{p}" for p in pkgs] or ["inference"])
    assert not loaded & {"PySide6", "pyqtgraph", "sqlalchemy"}


def test_cli_help_imports_nothing_heavy():
    loaded = _loaded_after_import(["app.cli"])
    assert not loaded & {"PySide6", "torch", "sqlalchemy", "pandas"}
