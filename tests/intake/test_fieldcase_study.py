"""The shared field case ``study/ima_named_slices``: Siemens-named slices make one series role per case."""

from __future__ import annotations

import csv
from pathlib import Path

from study.cases import load_cases
from study.media import load
from study.newstudy import find_case_media
from study.protocol import load_protocol
from tests.intake.conftest import cli, fieldcases_dir, write_series


def test_ima_named_slices_make_one_five_slice_series_per_case(tmp_path):
    src = fieldcases_dir() / "study"
    out = tmp_path / "ima"
    r = cli(
        "new",
        out,
        "--from-folder",
        src / "ima_named_slices",
        "--truth",
        src / "ima_named_slices_truth.csv",
        "--seed",
        "3",
    )
    assert r.returncode == 0, r.stderr
    protocol = load_protocol(out)
    assert protocol.hanging.roles == ("series",)
    cases = load_cases(out, protocol)
    assert [c.case_id for c in cases] == ["C001", "C002"]
    for case in cases:
        # the slices are copied into the study folder (self-contained), all five, names kept
        assert Path(case.media["series"]) == (out / "media" / case.case_id).resolve()
        names = sorted(p.name for p in Path(case.media["series"]).iterdir())
        assert names == sorted(p.name for p in (src / "ima_named_slices" / case.case_id).iterdir())
        media = load(case.media["series"])
        assert media.kind == "series" and media.n_frames == 5
    with open(out / "cases.csv", newline="") as fh:
        assert [row["truth"] for row in csv.DictReader(fh)] == ["1", "0"]
    ok = cli("validate", out)
    assert ok.returncode == 0, ok.stderr


def test_dicom_recognised_by_content_whatever_the_name(tmp_path):
    """storescp's MR.<UID>, IM0001, 1.2.840...dcm and preamble-less files: one series each."""
    names = {"A": "MR.{uid}", "B": "IM{i:04d}", "C": "{uid}.dcm", "D": "slice{i}.IMA"}
    for case, pattern in names.items():
        write_series(tmp_path / case, 4, name=pattern, study_uid=f"1.2.3.{ord(case)}", preamble=case != "B")
    (tmp_path / "A" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    for case in names:
        assert find_case_media(tmp_path, case) == {"series": tmp_path / case}
        assert load(tmp_path / case).n_frames == 4
