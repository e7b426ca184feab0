"""`readerstudy demo`: builds every study, copies shipped models, enrols readers,
stays headless; and every small build is a valid study whose media all load."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC
from pathlib import Path

from app.commands import demo
from study import protocol as protocol_module
from study.cases import load_cases
from study.demo import DEMO_READERS, GENERATOR_VERSION, STUDIES, build_all
from study.media import load
from study.protocol import load_protocol
from study.specimen import field_paths
from study.store import Store
from tests.demo.conftest import SEED

ROOT = Path(__file__).resolve().parents[2]


def test_small_builds_are_valid_studies_whose_media_load(small_study):
    assert set(STUDIES) == {"mri", "cytology", "motility", "conjunctiva", "octa"}
    # octa's region task needs the region answer kind (branch wip-segread); test_demo_octa checks its file
    region_kind = "region" in getattr(protocol_module, "ALL_TASK_KINDS", protocol_module.TASK_KINDS)
    for name in (n for n in STUDIES if region_kind or n != "octa"):
        folder = small_study(name)
        p = load_protocol(folder)
        cases = load_cases(folder, p)  # checks truth against the task and that media exist
        assert len(cases) == STUDIES[name]
        for case in cases:
            for role in p.hanging.roles:
                for path in field_paths(case.media[role]):  # a specimen (cytology) lists several fields
                    assert load(path).n_frames >= 1
        info = json.loads((folder / "demo.json").read_text())
        assert (info["seed"], info["version"], info["complete"], info["study"]) == (SEED, GENERATOR_VERSION, True, name)
        assert p.model_spec == f"models/{name}/model.toml"


def _args(root: Path, **kw) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    return parser.parse_args(["--build", str(root), "--small", "--no-open", *kw.get("extra", [])])


def test_build_all_names_and_roots(tmp_path):
    built = build_all(tmp_path / "root", seed=5, small=True, names=("conjunctiva",))
    assert built == {"conjunctiva": tmp_path / "root" / "conjunctiva"}
    assert len(load_cases(built["conjunctiva"], load_protocol(built["conjunctiva"]))) == STUDIES["conjunctiva"]


def test_command_copies_models_and_enrols_readers(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("study.demo.STUDIES", {"mri": 2, "cytology": 3})  # keep it quick
    models = tmp_path / "shipped"
    (models / "cytology").mkdir(parents=True)
    (models / "cytology" / "model.toml").write_text("# fake spec\n")
    (models / "cytology" / "weights.pt").write_bytes(b"\0" * 10)
    monkeypatch.setattr(demo, "models_dir", lambda: models)
    ran = []
    monkeypatch.setattr(demo, "_precompute", lambda study_dir, out: ran.append(study_dir.name))
    assert demo.run(_args(tmp_path / "demo")) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "demo" / "cytology" / "models" / "cytology" / "weights.pt").is_file()
    assert ran == ["cytology"]  # precompute only where a model was shipped
    assert "mri: no demo model shipped" in out and "PIN 1234" in out
    # The washout is waived where there is one: cytology is read aided only, in one session.
    assert "spec1 may start the aided session right after the unaided one in mri (washout waived, audited)" in out
    # Each study says it is ready before any model runs: the app opens on the first one.
    assert out.index("ready: mri ") < out.index("ready: cytology ") < out.index("PIN 1234")
    # A rebuild replaces the earlier demo build (and its store) without complaint.
    assert demo.run(_args(tmp_path / "demo")) == 0
    assert len(load_cases(tmp_path / "demo" / "cytology", load_protocol(tmp_path / "demo" / "cytology"))) == 3
    for name in ("mri", "cytology"):
        store = Store.open(tmp_path / "demo" / name)
        try:
            assert {(r.code, r.group) for r in store.readers()} == set(DEMO_READERS)
        finally:
            store.close()


def test_command_only_builds_the_named_studies(tmp_path, monkeypatch):
    monkeypatch.setattr("study.demo.STUDIES", {"mri": 2, "cytology": 2, "motility": 2, "conjunctiva": 2})
    monkeypatch.setattr(demo, "models_dir", lambda: tmp_path / "none")
    assert demo.run(_args(tmp_path / "demo", extra=["--only", "motility"])) == 0
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["motility"]


def test_command_refuses_to_overwrite_a_foreign_folder(tmp_path, capsys):
    (tmp_path / "demo" / "mri").mkdir(parents=True)
    (tmp_path / "demo" / "mri" / "notes.txt").write_text("mine")
    assert demo.run(_args(tmp_path / "demo")) == 2
    assert "not a demo study" in capsys.readouterr().err
    assert (tmp_path / "demo" / "mri" / "notes.txt").read_text() == "mine"


def test_command_is_headless_and_enrols_the_demo_readers(tmp_path):
    code = (
        "import sys; from app.cli import main; "
        f"rc = main(['demo', '--build', {str(tmp_path)!r}, '--small', '--no-open', '--no-precompute', "
        "'--only', 'conjunctiva']); "
        "bad = [m for m in ('PySide6', 'torch', 'pyqtgraph') if m in sys.modules]; "
        "print('loaded', bad); sys.exit(rc or (3 if bad else 0))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "loaded []" in proc.stdout
    store = Store.open(tmp_path / "conjunctiva")
    try:
        assert {(r.code, r.group) for r in store.readers()} == set(DEMO_READERS)
    finally:
        store.close()


def test_rerunning_the_demo_keeps_reads_and_the_tour_reader_reaches_the_aided_read(tmp_path, monkeypatch):
    from datetime import datetime

    from study.engine import ReadSubmission, StudyEngine

    monkeypatch.setattr("study.demo.STUDIES", {"mri": 2})
    monkeypatch.setattr(demo, "_precompute", lambda study_dir, out: None)
    root = tmp_path / "demo"
    assert demo.run(_args(root, extra=["--only", "mri"])) == 0
    engine = StudyEngine.open(root / "mri")
    rs = engine.start(demo.TOUR_READER, 1)
    while (item := rs.next_item()) is not None:
        now = datetime.now(UTC)
        rs.submit(ReadSubmission(item.case_id, "1", now, now, 100, confidence=60))
    rs.close()
    # Washout waived for the tour reader only, and on the record.
    assert [s.state for s in engine.sessions(demo.TOUR_READER)] == ["done", "not started"]
    assert engine.sessions("spec2")[1].state == "locked"
    assert engine.store.check_admin_password(demo.DEMO_ADMIN_PASSWORD)
    engine.close()
    assert demo.run(_args(root, extra=["--only", "mri"])) == 0  # a second `make demo`
    engine = StudyEngine.open(root / "mri")
    assert engine.sessions(demo.TOUR_READER)[0].state == "done"
    assert engine.store.verify_chain().ok
    assert sum(r["action"] == "washout.override" for r in engine.store.audit_rows()) == 1
    engine.close()
