"""precompute(): resume, unreadable cases, progress, cancel; the CLI filling the real store."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from inference.precompute import MemorySink, precompute
from study.protocol import HangingProtocol, Protocol, Task, protocol_to_toml
from study.store import Store
from tests.admin_cli import ENV, PASSWORD, give_admin_password
from tests.inference.helpers import write_spec

MODEL = {
    "architecture": "mobilenet_v2",
    "width_mult": 0.5,
    "head": "binary",
    "labels": ["absent", "present"],
    "input_size": 64,
}


def _study(root: Path, n: int = 6) -> Path:
    """A study folder of PNG photos; case K002 is a corrupt file, K004's file is missing."""
    (root / "media").mkdir(parents=True)
    rng = np.random.default_rng(0)
    protocol = Protocol(
        "pre",
        "Precompute test",
        "concurrent",
        1,
        Task("binary", "Lesion?", ("absent", "present")),
        HangingProtocol(("photo",)),
        model_spec="models/m/model.toml",
    )
    (root / "study.toml").write_text(protocol_to_toml(protocol))
    rows = ["case_id,truth,patient_id,photo"]
    for i in range(n):
        name = f"media/K{i:03d}.png"
        if i == 2:
            (root / name).write_bytes(b"not a png at all")
        elif i != 4:
            Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).save(root / name)
        rows.append(f"K{i:03d},{i % 2},P{i},{name}")
    (root / "cases.csv").write_text("\n".join(rows) + "\n")
    write_spec(root / "models" / "m", MODEL, roles=("photo",))
    return root


def _cases(root: Path):
    from study.cases import load_cases
    from study.protocol import load_protocol

    return load_cases(root, load_protocol(root), check_media=False)


def test_resume_errors_progress_and_cancel(tmp_path):
    root = _study(tmp_path / "s")
    cases = _cases(root)
    sink = MemorySink()
    cancel = threading.Event()
    calls = []

    def progress(done, total, eta):
        calls.append((done, total, eta))
        if done == 2:
            cancel.set()  # stop after two cases, as a Ctrl-C or the GUI's cancel button would

    spec = root / "models" / "m" / "model.toml"
    first = precompute(spec, cases, sink, progress=progress, cancel=cancel)
    assert first.cancelled and first.computed == 2 and first.skipped == 0
    assert calls[0] == (0, 6, None) and calls[-1][:2] == (2, 6) and calls[-1][2] >= 0
    second = precompute(spec, cases, sink)
    assert not second.cancelled and second.skipped == 2 and second.computed == 2
    failed = dict(second.failed)
    assert set(failed) == {"K002", "K004"}
    assert "K002.png" in failed["K002"] and "K004.png" in failed["K004"]
    assert {c for _, c in sink.outputs} == {"K000", "K001", "K003", "K005"}
    out = next(iter(sink.outputs.values()))
    assert out.model_id == first.model_id and out.versions["grad-cam"].startswith("1.5")
    assert out.cams["photo"].shape == (1, 40, 56) and out.cams["photo"].dtype == np.float16
    third = precompute(spec, cases, sink)
    assert third.computed == 0 and third.skipped == 4 and len(third.failed) == 2


def test_cli_fills_the_store_and_resumes(tmp_path, capsys, monkeypatch):
    root = _study(tmp_path / "s")
    give_admin_password(root)  # precompute changes what aided readers see: an admin command
    monkeypatch.setenv(ENV, PASSWORD)
    assert main(["precompute", str(root)]) == 1  # two unreadable cases -> non-zero, the rest stored
    captured = capsys.readouterr()
    assert "4 computed, 0 already stored, 2 failed" in captured.out
    assert "unreadable case K002" in captured.err and "ETA" in captured.err
    store = Store.open(root)
    try:
        ids = store.ai_output_case_ids(next(iter(_model_ids(root))))
        assert ids == {"K000", "K001", "K003", "K005"}
        out = store.ai_output("K003")
        assert out.cams["photo"].shape == (1, 40, 56) and out.head == "binary"
        assert 0.0 <= out.score <= 1.0 and out.versions["torch"]
    finally:
        store.close()
    assert main(["precompute", str(root), "--device", "cpu"]) == 1
    assert "0 computed, 4 already stored, 2 failed" in capsys.readouterr().out


def test_cli_reports_spec_problems(tmp_path, capsys, monkeypatch):
    root = _study(tmp_path / "s")
    give_admin_password(root)
    monkeypatch.setenv(ENV, PASSWORD)
    spec = root / "models" / "m" / "model.toml"
    spec.write_text(spec.read_text().replace('role = "photo"', 'role = "DWI"'))
    assert main(["precompute", str(root)]) == 2
    assert "reads role(s) DWI that the study does not have" in capsys.readouterr().err
    assert main(["precompute", str(root), "--model", str(tmp_path / "none.toml")]) == 2
    assert "none.toml: file not found" in capsys.readouterr().err


def _model_ids(root: Path) -> set[str]:
    from inference.spec import load_spec

    return {load_spec(root / "models" / "m" / "model.toml").model_id}


def test_precompute_accepts_plain_case_objects(tmp_path):
    root = _study(tmp_path / "s", n=2)
    cases = [SimpleNamespace(case_id="x", media={"photo": str(root / "media" / "K000.png")})]
    report = precompute(root / "models" / "m" / "model.toml", cases, MemorySink())
    assert report.computed == 1 and report.cases_per_second > 0
    with pytest.raises(Exception, match="sha256 mismatch"):
        (root / "models" / "m" / "photo.pt").write_bytes(b"x")
        precompute(root / "models" / "m" / "model.toml", cases, MemorySink())
