"""The MRI demo written as a PACS-like export, and the demo study built from it by rules."""

from __future__ import annotations

import csv

import numpy as np
import pydicom

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
        expected = render_patient(5, index, case.truth == "1")[0]
        for role in ("T2axi", "DWI"):
            frames = load(case.media[role]).frames
            slope = 0.5 if role == "DWI" else 1.0
            want = np.clip(np.rint(expected[role][1] / slope), 0, None) * slope
            assert frames.shape == want.shape
            assert np.abs(frames - want).max() <= slope, role
    assert sorted(truth.values()) in (["0", "1"], ["0", "0"], ["1", "1"])


def test_readerstudy_demo_builds_the_mri_study_from_its_export(tmp_path):
    """build_mri (what `readerstudy demo` runs) = the export + `new --from-dicom` by rules, truth files keyed by code."""
    from study.demo.mri import ROLES, build_mri, protocol

    study = build_mri(tmp_path / "mri", seed=5, n=2)
    p = load_protocol(study)
    assert p.title == protocol(5).title and p.model_spec == "models/mri/model.toml"
    assert {m.role for m in p.hanging.match} == set(ROLES)
    assert (study / "matches.csv").is_file() and (study / "intake-key.csv").is_file()
    assert not (study / "intake-index.sqlite").exists()
    with open(study / "intake-key.csv", newline="") as fh:
        patient_of = {r["case"]: r["PatientID"] for r in csv.DictReader(fh)}
    export = study / "pacs-export"
    exported = {f.stat().st_ino: f for d in export.iterdir() for f in d.iterdir()}
    with open(study / "lesions.csv", newline="") as fh:
        lesions = list(csv.DictReader(fh))
    with open(study / "latent.csv", newline="") as fh:
        latent = {r["case_id"]: r for r in csv.DictReader(fh)}
    for case in load_cases(study, p):
        for role in ROLES:
            files = sorted((study / "media" / case.case_id / role).iterdir())
            assert len(files) == 16
            # Each media file is the export's own file (a hard link), from this case's patient folder.
            assert all(exported[f.stat().st_ino].parent.name == patient_of[case.case_id] for f in files)
        index = int(patient_of[case.case_id][4:]) - 1
        _, want_latent, masses = render_patient(5, index, case.truth == "1")
        assert latent[case.case_id]["label"] == ("sarcoma" if case.truth == "1" else "leiomyoma")
        assert float(latent[case.case_id]["t2"]) == want_latent["t2"]
        for role in ROLES:
            rows = [r for r in lesions if (r["case_id"], r["role"]) == (case.case_id, role)]
            assert {int(r["frame"]) for r in rows} == {k for k in range(16) if (masses[role][k] >= 0.5).any()}
            for r in rows:  # instance is the InstanceNumber of the file at that frame (b=1000 follows b=0)
                ds = pydicom.dcmread(files_of(study, case, role)[int(r["frame"])], stop_before_pixels=True)
                assert ds.InstanceNumber == int(r["instance"])


def files_of(study, case, role):
    return sorted((study / "media" / case.case_id / role).iterdir())


def test_b0_is_the_t2_volume_resampled_onto_the_dwi_stack():
    from study.demo.dicom_writer import SeriesGeometry
    from study.demo.mri import AXIAL
    from study.demo.mri_export import _resample

    g = SeriesGeometry(8, 6, 2.0, 3.0, 3.0, 5, *AXIAL, (1.0, -2.0, 4.0))
    px = np.random.default_rng(0).random((5, 8, 6)).astype(np.float32)
    np.testing.assert_allclose(_resample(g, px, g), px, atol=1e-5)  # onto itself: unchanged
    # Half a slice further along the normal: the mean of two neighbouring slices.
    half = SeriesGeometry(8, 6, 2.0, 3.0, 3.0, 4, *AXIAL, (1.0, -2.0, 4.0))  # slices at -0.5, 2.5, 5.5, 8.5
    np.testing.assert_allclose(_resample(g, px, half), (px[:-1] + px[1:]) / 2, atol=1e-5)
