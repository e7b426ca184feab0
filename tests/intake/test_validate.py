"""`readerstudy validate` decodes every file; bad files in a series, gaps and escaping paths are named."""

from __future__ import annotations

from pathlib import Path

from study.cases import load_cases
from study.intake.validate import series_file_problems, slice_gaps, validate_study
from study.protocol import load_protocol
from tests.intake.conftest import cli, write_series

TOML = """[study]
id = "v"
title = "v"
design = "concurrent"
seed = 1
{roots}
[task]
kind = "binary"
labels = ["neg", "pos"]

[hanging]
roles = ["T2"]
"""


def make_study(root: Path, cases: dict[str, str], roots: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "study.toml").write_text(TOML.format(roots=roots))
    lines = ["case_id,truth,patient_id,T2"] + [f"{c},{i % 2},{c},{p}" for i, (c, p) in enumerate(cases.items())]
    (root / "cases.csv").write_text("\n".join(lines) + "\n")
    return root


def bad_series(study: Path) -> dict[str, str]:
    """One good series and one of each bad kind; returns case -> path in cases.csv."""
    m = study / "media"
    for name in ("good", "empty", "text", "trunc", "gap"):
        write_series(m / name, 6, study_uid="1.2.3", name="MR.{uid}", preamble=name != "good")
    (m / "empty" / "MR.1.2.3.99").write_bytes(b"")
    (m / "text" / "notes.dcm").write_text("exported by PACS viewer 3.1\n")
    victim = sorted((m / "trunc").iterdir())[2]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) - 40])
    fourth = [p for p in (m / "gap").iterdir() if load_z(p) == 9.0]
    fourth[0].unlink()
    return {"C1": "media/good", "C2": "media/empty", "C3": "media/text", "C4": "media/trunc", "C5": "media/gap"}


def load_z(path: Path) -> float:
    import pydicom

    return float(pydicom.dcmread(path, stop_before_pixels=True).ImagePositionPatient[2])


def test_each_bad_file_kind_makes_its_series_invalid(tmp_path):
    study = make_study(tmp_path / "s", {})
    cases = bad_series(study)
    make_study(study, cases)
    protocol = load_protocol(study)
    seen = []
    findings = validate_study(
        study, protocol, load_cases(study, protocol), progress=lambda d, t, left: seen.append((d, t))
    )
    by_case = {f.case_id: f for f in findings}
    assert set(by_case) == {"C2", "C3", "C4", "C5"}
    assert by_case["C2"].path.endswith("MR.1.2.3.99") and "empty file (0 bytes)" in by_case["C2"].cause
    assert by_case["C3"].path.endswith("notes.dcm") and "not a DICOM file" in by_case["C3"].cause
    assert "truncated" in by_case["C4"].cause and by_case["C4"].cause.startswith("series invalid")
    assert "gap in slice positions between 6.00 and 12.00 mm" in by_case["C5"].cause
    assert by_case["C5"].line().startswith("C5 / T2: ")
    assert seen[-1] == (5, 5)


def test_validate_command_prints_one_line_per_failure(tmp_path):
    study = make_study(tmp_path / "s", {})
    make_study(study, bad_series(study))
    r = cli("validate", study)
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert [e.split(" / ")[0] for e in errors] == ["error: C2", "error: C3", "error: C4", "error: C5"]
    assert "INVALID: 4 problem(s) in 4 of 5 cases" in r.stderr and "validate: cases decoded: 5/5" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_clean_series_passes_and_a_readme_is_not_a_slice(tmp_path):
    write_series(tmp_path / "x", 5, study_uid="1.2.3")
    (tmp_path / "x" / "README.txt").write_text("export notes")
    assert series_file_problems(tmp_path / "x") == []
    assert slice_gaps((0.0, 3.0, 6.0, 9.0)) == [] and len(slice_gaps((0.0, 3.0, 9.0, 12.0))) == 1


def test_paths_leaving_the_study_folder_need_a_media_root(tmp_path):
    outside = tmp_path / "pacs" / "series1"
    write_series(outside, 3, study_uid="1.2.3")
    study = make_study(tmp_path / "s", {"C1": "../pacs/series1", "C2": str(outside)})
    protocol = load_protocol(study)
    findings = validate_study(study, protocol, load_cases(study, protocol))
    assert [(f.case_id, "leaves the study folder" in f.cause, "absolute path" in f.cause) for f in findings] == [
        ("C1", True, False),
        ("C2", False, True),
    ]
    make_study(study, {"C1": "../pacs/series1", "C2": str(outside)}, roots='media_roots = ["../pacs"]')
    protocol = load_protocol(study)
    assert protocol.media_roots == ("../pacs",)
    assert validate_study(study, protocol, load_cases(study, protocol)) == []
    assert cli("validate", study, "--quiet").returncode == 0


def test_a_truth_mask_of_another_size_names_its_role_once(tmp_path):
    """A role named "image" read "does not match the image image (20, 30)"."""
    import numpy as np
    from PIL import Image

    from study import wizard
    from study.cases import Case
    from study.intake.validate import check_truth_mask

    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "C1.png")
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(tmp_path / "C1_mask.png")
    settings = wizard.StudySettings("v", kind="region", region="lesion", question="Outline the lesion")
    protocol = wizard.build_protocol(settings, ("image",))
    case = Case("C1", "", "C1", {"image": str(tmp_path / "C1.png")}, str(tmp_path / "C1_mask.png"))
    [finding] = check_truth_mask(case, protocol)
    assert finding.cause == "mask shape (10, 10) does not match the 'image' media, of shape (20, 30)"
