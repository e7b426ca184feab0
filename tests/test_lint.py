"""The tree stays clean: ruff's lint rules and its formatter, as configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if exe is None:
        pytest.fail("ruff is not installed (it is in the [test] extras)")
    return subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_ruff_lint_is_clean():
    proc = _ruff("check", "--output-format", "concise", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_clean():
    proc = _ruff("format", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_qtbot_wait_context_managers_are_used_as_such():
    """pytest-qt's ``waitExposed`` / ``waitActive`` wait only as ``with`` blocks around ``show()``;
    a bare call returns the context manager and waits for nothing (a timing test flaked so)."""
    import re

    bare = re.compile(r"^\s*qtbot\.wait(Exposed|Active)\(", re.M)
    found = [
        f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for text in [path.read_text(encoding="utf-8")]
        for m in bare.finditer(text)
    ]
    assert not found, "bare qtbot.waitExposed/waitActive (use `with`): " + ", ".join(found)
