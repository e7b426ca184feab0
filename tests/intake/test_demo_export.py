"""The MRI demo written as a PACS-like export, and the demo study built from it by rules."""

from __future__ import annotations

import csv

import numpy as np

from study.cases import load_cases
from study.demo.mri_export import build_mri_from_export, render_patient
from study.media import load
from study.protocol import load_protocol


def test_demo_export_builds_the_mri_study_by_rules(tmp_path):
    result = build_mri_from_export(tmp_path / "mri", tmp_path / "export", seed=5, n=2)
    assert result.wrote_cases and not result.flagged, result.flagged
    per_patient = [sorted(p.name for p in d.iterdir()) for d in sorted((tmp_path / "export").iterdir())]
    names = per_patient[0]
    assert sum(n.startswith("MR.") for n in names) == 32  # one DWI series: 16 at b=0 + 16 at b=1000
    assert any(n.endswith(".IMA") and ".LOCALIZER." in n for n in names) and len(names) == 2 + 16 * 6
    vols = result.index.patients[0].volumes
    assert {(v.series_description, v.b_value) for v in vols if v.series_number == 5} == {
        ("ep2d_diff b0 b1000 AX", 0.0),
        ("ep2d_diff b0 b1000 AX", 1000.0),
    }
    assert {v.kind for v in vols if v.series_number == 1} == {"localizer"}
    with open(tmp_path / "mri" / "matches.csv", newline="") as fh:
        chosen = {(r["PatientID"], r["role"]): r["volume"] for r in csv.DictReader(fh)}
    assert chosen[("DEMO0001", "DWI")].endswith("axial b=1000 echo 72 (16 images)")
    assert chosen[("DEMO0001", "T2sag")].startswith("#2 T2 TSE SAG sagittal")
    protocol = load_protocol(tmp_path / "mri")
    cases = load_cases(tmp_path / "mri", protocol)
    with open(tmp_path / "mri" / "intake-key.csv", newline="") as fh:
        patient_of = {r["case"]: r["PatientID"] for r in csv.DictReader(fh)}
    truth = {"DEMO0001": None, "DEMO0002": None}
    for case in cases:
        index = int(patient_of[case.case_id][4:]) - 1
        truth[patient_of[case.case_id]] = case.truth
        expected = render_patient(5, index, case.truth == "1")
        for role in ("T2axi", "DWI"):
            frames = load(case.media[role]).frames
            slope = 0.5 if role == "DWI" else 1.0
            want = np.clip(np.rint(expected[role][1] / slope), 0, None) * slope
            assert frames.shape == want.shape
            assert np.abs(frames - want).max() <= slope, role
    assert sorted(truth.values()) in (["0", "1"], ["0", "0"], ["1", "1"])
