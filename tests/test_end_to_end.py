"""From reads submitted through the engine to the paper's numbers: the store's
reads table feeds `analyze` and `readerstudy report` with nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from study.aioutput import AIOutput
from study.engine import ReadSubmission, StudyEngine
from study.protocol import Task
from study.stats import analyze
from study.store import ai_table, reads_table
from tests.admin_cli import admin_env
from tests.aimodel import attach_test_model
from tests.photostudy import write_photo_study


def _study(root: Path, n: int) -> Path:
    return write_photo_study(
        root,
        n_cases=n,
        seed=3,
        task=Task("binary", labels=("benign", "malignant")),
        name="e2e",
        title="E2E",
        case_id=lambda i: f"c{i}",
        truth=lambda i: int(i % 3 == 0),
        patient_id=lambda i: f"p{i}",
    )


def test_reads_through_the_engine_reach_the_report(tmp_path):
    study = _study(tmp_path / "study", 30)
    clock_now = [datetime(2026, 1, 5, 8, tzinfo=UTC)]
    attach_test_model(study)
    engine = StudyEngine.open(study, clock=lambda: clock_now[0])
    rng = np.random.default_rng(0)
    truth = {c.case_id: int(c.truth) for c in engine.cases}
    for c in engine.cases:  # an AI that is right 90% of the time
        p = 0.85 if truth[c.case_id] else 0.15
        p = p if rng.random() < 0.9 else 1 - p
        engine.store.put_ai_output(
            AIOutput(
                c.case_id,
                "m1",
                "binary",
                ("benign", "malignant"),
                (1 - p, p),
                predicted="malignant" if p >= 0.5 else "benign",
                score=p,
            )
        )
    readers = {"s1": ("specialist", 0.85), "s2": ("specialist", 0.8), "r1": ("resident", 0.7), "r2": ("resident", 0.65)}
    for code, (group, _skill) in readers.items():
        engine.store.add_reader(code, group, "1234")
    for index, boost in [(1, 0.0), (2, 0.12)]:
        for code, (_, skill) in readers.items():
            rs = engine.start(code, index)
            while (item := rs.next_item()) is not None:
                right = rng.random() < min(skill + boost, 0.98)
                answer = truth[item.case_id] if right else 1 - truth[item.case_id]
                conf = float(np.clip(50 + (30 if answer else -30) + rng.normal(0, 15), 0, 100))
                now = clock_now[0]
                rs.submit(
                    ReadSubmission(item.case_id, str(answer), now, now + timedelta(seconds=20), 20000, confidence=conf)
                )
            rs.close()
        clock_now[0] += timedelta(days=29)
    engine.close()

    reads = reads_table(study)
    assert len(reads) == 4 * 30 * 2 and set(reads.modality) == {"unaided", "aided"}
    result = analyze(reads, ai=ai_table(study))
    out = tmp_path / "report"
    r = subprocess.run(
        [sys.executable, "-m", "app.cli", "report", str(study), "--out", str(out)],
        capture_output=True,
        text=True,
        env=admin_env(study),
    )
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} >= {"reads.csv", "metrics.csv", "metrics.xlsx", "results.json", "report.pdf"}
    saved = json.loads((out / "results.json").read_text())
    assert saved["mrmc"]["auc"]["difference"] == pytest.approx(result["mrmc"]["auc"]["difference"])
    by_reader = {(r["reader"], r["modality"]): r for r in saved["readers"]}
    s1 = reads[(reads.reader == "s1") & (reads.modality == "unaided")]
    tp = int(((s1.truth == 1) & (s1.decision == 1)).sum())
    assert by_reader[("s1", "unaided")]["tp"] == tp
    assert ("AI", "standalone") in by_reader
