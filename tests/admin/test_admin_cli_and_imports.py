"""The admin-password command, and the admin screens' imports (no torch until precompute runs)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from study.commands import admin_password
from study.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    admin_password.add_arguments(parser)
    return admin_password.run(parser.parse_args(argv))


def test_admin_password_command_sets_and_checks(photo_study, capsys, monkeypatch):
    from app.cli import main

    monkeypatch.setenv("READERSTUDY_ADMIN_PASSWORD", "admin-secret")  # the current one is required
    assert main(["admin-password", str(photo_study), "--password", "changed-pw"]) == 0
    assert "changed" in capsys.readouterr().out
    monkeypatch.setenv("READERSTUDY_ADMIN_PASSWORD", "changed-pw")
    store = Store.open(photo_study)
    try:
        assert store.check_admin_password("changed-pw") and not store.check_admin_password("admin-secret")
    finally:
        store.close()
    assert main(["admin-password", str(photo_study), "--password", "short"]) == 2
    assert "at least 6 characters" in capsys.readouterr().err


def test_admin_password_command_needs_a_study(tmp_path, capsys):
    assert _run([str(tmp_path), "--password", "whatever1"]) == 2
    assert "study.toml: file not found" in capsys.readouterr().err


def test_opening_the_admin_screens_does_not_import_torch():
    code = (
        "import json, sys\nimport app.admin, app.admin.shell, app.admin.model_widget\n"
        "print(json.dumps(sorted({k.split('.')[0] for k in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert not set(json.loads(out.stdout)) & {"torch", "torchvision", "pytorch_grad_cam"}
