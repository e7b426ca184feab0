"""Every report says what it describes: `readerstudy report` on a study of each kind (binary,
multiclass, numeric, grade distribution, specimen triage, region) opens its PDF with the same
front table (study, design, task, readers, cases, seed, AI model and operating point, software,
date of export), and results.json carries the same facts as ``"study"``.  The values are checked
against the study's own protocol, store and model.toml, from the PDF's extracted text."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from inference.spec import load_spec
from study.aioutput import AIOutput
from study.demo.conjunctiva import build_conjunctiva
from study.demo.cytology import build_cytology
from study.demo.motility import build_motility
from study.demo.octa import SPACING_MM, build_octa
from study.engine import ReadSubmission, StudyEngine
from study.export.cli import export_study
from study.export.front import software_version
from study.export.wording import plural
from study.protocol import load_protocol
from study.region import Region
from tests.aimodel import TEST_MODEL_SPEC, aided_reads_without_ai, attach_test_model
from tests.photostudy import write_photo_study
from tests.reading.specimen_helpers import make_specimen_study, put_specimen_ai, read_two_specimens

MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"
CYTOLOGY = ("normal", "CIN1", "CIN2+")


def _with_model(study: Path) -> dict:
    """Copy the demo model.toml the study names into the study folder; its [model] and sha256."""
    spec = load_protocol(study).model_spec
    name = Path(spec).parent.name
    (study / spec).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(MODELS / name / "model.toml", study / spec)
    doc = tomllib.loads((study / spec).read_text(encoding="utf-8"))
    return {**doc["model"], "sha256": doc["members"][0]["sha256"], "training": doc.get("training", {})}


def _read_all(study: Path, answer_for, reader: str = "cyto1") -> None:
    """Every session of ``reader``, a month apart (past any washout); "res9" enrolled, not reading."""
    now = [datetime.now(UTC)]
    engine = StudyEngine.open(study, clock=lambda: now[0])
    try:
        engine.store.add_reader(reader, "specialist", "1234")
        engine.store.add_reader("res9", "resident", "1234")  # enrolled, has not read yet
        for info in engine.sessions(reader):
            rs = engine.start(reader, info.index)
            while (item := rs.next_item()) is not None:
                t = now[0]
                rs.submit(
                    ReadSubmission(
                        item.case_id, displayed_at=t - timedelta(seconds=5), submitted_at=t, active_ms=5000,
                        **answer_for(engine.case(item.case_id)),
                    )
                )  # fmt: skip
            rs.close()
            now[0] += timedelta(days=31)
    finally:
        engine.close()


def binary(root: Path) -> tuple[Path, dict]:
    """A sequential binary study whose AI is the MRI demo's three-member ensemble (its id: the
    members' hashes hashed, as ``inference.spec.ModelSpec.model_id``)."""
    study = write_photo_study(root / "photo", n_cases=8, seed=13, title="Lesion photos")
    attach_test_model(study)
    (study / TEST_MODEL_SPEC).parent.mkdir(parents=True)
    shutil.copy(MODELS / "mri" / "model.toml", study / TEST_MODEL_SPEC)
    spec = load_spec(study / TEST_MODEL_SPEC, check_files=False)
    engine = StudyEngine.open(study)
    for c in engine.cases:
        p = 0.8 if c.truth == "1" else 0.2
        engine.store.put_ai_output(
            AIOutput(
                c.case_id, spec.model_id, "binary", ("absent", "present"), (1 - p, p), score=p,
                threshold=spec.threshold, threshold_rule="youden", positive=("present",),
            )
        )  # fmt: skip
    engine.close()
    _read_all(study, lambda c: {"answer": c.truth, "confidence": 90.0 if c.truth == "1" else 10.0})
    return study, {"name": spec.name, "sha256": spec.model_id}


def cytology(root: Path) -> tuple[Path, dict]:
    study = build_cytology(root / "cyto", seed=5, n=12)
    model = _with_model(study)
    engine = StudyEngine.open(study)
    for c in engine.cases:
        engine.store.put_ai_output(
            AIOutput(
                c.case_id, model["sha256"], "multiclass", CYTOLOGY, (0.1, 0.1, 0.8), predicted=c.truth, score=0.8,
                threshold=0.376, threshold_rule="youden", positive=("CIN2+",),
            )
        )  # fmt: skip
    engine.close()
    _read_all(study, lambda c: {"answer": c.truth})
    return study, model


def conjunctiva(root: Path) -> tuple[Path, dict]:
    study = build_conjunctiva(root / "conj", seed=5, n=8)
    model = _with_model(study)
    with aided_reads_without_ai():  # attached, never precomputed: the report says 0 cases with outputs
        _read_all(study, lambda c: {"answer": "x", "value": float(c.truth)})
    return study, model


def motility(root: Path) -> tuple[Path, dict]:
    study = build_motility(root / "mot", seed=5, n=6)
    model = _with_model(study)
    with aided_reads_without_ai():
        _read_all(study, lambda c: {"answer": "A"})
    return study, model


def specimens(root: Path) -> tuple[Path, dict]:
    folder = make_specimen_study(root / "s", top_k=2)
    put_specimen_ai(folder)
    read_two_specimens(folder)
    return folder.path, {}  # its model.toml is not in the folder: the report says so


def octa(root: Path) -> tuple[Path, dict]:
    study = build_octa(root / "octa", seed=9, n=4)
    model = _with_model(study)
    engine = StudyEngine.open(study, clock=lambda: datetime.now(UTC))
    try:
        engine.store.add_reader("spec1", "specialist", "1234")
        truth = {c.case_id: np.asarray(Image.open(c.truth_mask).convert("1"), bool) for c in engine.cases}
        for case, t in truth.items():
            ai = np.roll(t, 2, axis=0).astype(np.float16)[None]
            engine.store.put_ai_output(
                AIOutput(case, model["sha256"], "segmentation", ("FAZ",), (0.05,), score=0.5, cams={"octa": ai})
            )
        rs = engine.start("spec1", 1)
        while (item := rs.next_item()) is not None:
            now = datetime.now(UTC)
            region = Region(ndimage.binary_dilation(truth[item.case_id], iterations=2), (SPACING_MM, SPACING_MM))
            rs.submit(
                ReadSubmission(item.case_id, "1", now - timedelta(seconds=4), now, 4000, confidence=70.0, region=region)
            )
    finally:
        engine.close()
    return study, model


def _pdf_text(pdf: Path) -> str:
    """Page 1 as laid out (a table row's item beside its value), whitespace collapsed."""
    text = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    return " ".join(text.split())


@pytest.mark.parametrize("build", [binary, cytology, conjunctiva, motility, specimens, octa], ids=lambda f: f.__name__)
def test_every_report_kind_opens_with_the_study_it_describes(build, tmp_path):
    study, model = build(tmp_path)
    protocol = load_protocol(study)
    before = datetime.now(UTC).replace(microsecond=0)
    paths = export_study(study, tmp_path / "out")
    after = datetime.now(UTC)
    results = paths["region_results.json" if protocol.task.kind == "region" else "results.json"]
    facts = json.loads(results.read_text(encoding="utf-8"))["study"]
    text = _pdf_text(paths["report.pdf"])

    # results.json: the protocol's own values
    assert (facts["study_id"], facts["title"], facts["seed"]) == (protocol.study_id, protocol.title, protocol.seed)
    assert facts["design"]["name"] == protocol.design and facts["design"]["modes"] == list(protocol.modes)
    if protocol.design != "concurrent":
        assert facts["design"]["washout_days"] == protocol.washout_days
    assert facts["task"]["kind"] == protocol.task.kind and facts["task"]["question"] == protocol.task.question
    assert facts["protocol_sha256"] == hashlib.sha256((study / "study.toml").read_bytes()).hexdigest()
    assert facts["software"]["readerstudy"] == software_version() != "unknown"
    exported = datetime.strptime(facts["exported_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= exported <= after
    enrolled = {"binary": 2, "cytology": 2, "conjunctiva": 2, "motility": 2, "specimens": 2, "octa": 1}[build.__name__]
    assert facts["readers"]["enrolled"] == enrolled and facts["read"]["readers"] == 1

    # the PDF's first page: the same facts, in words
    for words in (
        f"{protocol.study_id}: {protocol.title}",
        f'"{protocol.task.question}"' if protocol.task.question else protocol.task.kind,
        f"{plural(enrolled, 'reader')} enrolled",
        f"{facts['cases']['in_study']} in the study; {facts['read']['cases']} read",
        f"Randomization seed {protocol.seed} (case order of every reader and session",
        f"Exported {facts['exported_at'][:10]}",
        f"by readerstudy {software_version()}",
        f"study.toml sha256 {facts['protocol_sha256']}",
    ):
        assert words in text, words
    assert {"concurrent": "concurrent: aided reads only", "crossover": "crossover: each case read once per mode"}.get(
        protocol.design, f"sequential: unaided, then aided after a {protocol.washout_days}-day washout"
    ) in text
    for label in protocol.task.labels or protocol.task.grades:
        assert label in text
    if protocol.task.kind == "multiclass":
        assert f"positive {', '.join(protocol.task.positive)}" in text
    if protocol.task.kind == "binary":
        assert f"positive {protocol.task.labels[1]}; confidence on {protocol.task.confidence}" in text
    if protocol.mode == "triage":
        assert "read as a triage queue" in text

    # the AI: the model.toml's name and weights hash, or why they are missing
    ai = facts["ai"]
    if model:
        assert (ai["name"], ai["weights_sha256"]) == (model["name"], model["sha256"])
        assert model["name"] in text and f"AI weights sha256 {model['sha256']}" in text and not ai["problems"]
        if build is binary:  # the MRI ensemble: its id is not one file's hash, and the table says so
            assert ai["members"] == 3 and "(ensemble of 3: sha256 of its members' hashes)" in text
    else:
        assert ai["name"] == "" and "model.toml not found" in ai["problems"][0] and "model.toml not found" in text
    outputs = {"binary": 8, "cytology": 12, "conjunctiva": 0, "motility": 0, "specimens": 4, "octa": 4}[build.__name__]
    assert ai["outputs"]["cases"] == outputs and f"{outputs} cases with stored outputs" in text


def test_the_operating_point_says_how_it_was_chosen(tmp_path):
    """A multiclass AI cut at model.toml's threshold: value, labels called, rule and the validation study."""
    study, model = cytology(tmp_path)
    paths = export_study(study, tmp_path / "out")
    point = json.loads(paths["results.json"].read_text(encoding="utf-8"))["study"]["ai"]["operating_point"]
    training = model["training"]
    chosen = f"chosen by youden on a validation study of {training['n_validation']} cases (seed {training['validation_seed']})"
    assert point == {
        "value": model["threshold"],
        "source": "the model's operating point, youden",
        "positive": ["CIN2+"],
        "chosen_on": chosen,
    }
    assert f"AI operating point score >= {model['threshold']:g} calls CIN2+" in _pdf_text(paths["report.pdf"])
    assert chosen in _pdf_text(paths["report.pdf"])


def test_outputs_from_other_weights_than_the_named_model_are_said(tmp_path):
    """The stored outputs were computed with other weights than the model.toml now named: both hashes shown."""
    study = build_conjunctiva(tmp_path / "conj", seed=5, n=4)
    model = _with_model(study)
    engine = StudyEngine.open(study)
    for i, c in enumerate(engine.cases):  # values that differ: a constant AI has no correlation
        engine.store.put_ai_output(AIOutput(c.case_id, "f" * 64, "regression", value=10.0 + i, score=10.0 + i))
    engine.close()
    _read_all(study, lambda c: {"answer": "x", "value": float(c.truth)})
    paths = export_study(study, tmp_path / "out")
    ai = json.loads(paths["results.json"].read_text(encoding="utf-8"))["study"]["ai"]
    assert ai["outputs"]["model_ids"] == {"f" * 64: 4}
    assert ai["problems"] and "f" * 64 in ai["problems"][0] and model["sha256"] in ai["problems"][0]
    text = _pdf_text(paths["report.pdf"])
    assert "AI note" in text and "the stored outputs come from weights" in text


def test_a_waived_washout_is_stated_as_a_deviation(tmp_path):
    """A session opened before its washout ended (an audited admin override) departs from the design:
    the front table and results.json say so, with reader, session and reason."""
    study, _ = binary(tmp_path)
    paths = export_study(study, tmp_path / "plain")
    assert json.loads(paths["results.json"].read_text())["study"]["design"]["washout_waived"] == []
    assert "Washout waived" not in _pdf_text(paths["report.pdf"])
    engine = StudyEngine.open(study)
    try:
        engine.override_washout("cyto1", 2, "pilot: aided read the same day", actor="pi")
    finally:
        engine.close()
    paths = export_study(study, tmp_path / "waived")
    (waiver,) = json.loads(paths["results.json"].read_text())["study"]["design"]["washout_waived"]
    assert (waiver["reader"], waiver["session"], waiver["reason"], waiver["by"]) == (
        "cyto1",
        2,
        "pilot: aided read the same day",
        "pi",
    )
    assert "Washout waived cyto1 session 2 (pilot: aided read the same day)" in _pdf_text(paths["report.pdf"])
