"""`readerstudy index`: every object by content, grouped into volumes; broken ones listed; kept and resumed."""

from __future__ import annotations

import itertools
import json

from study.intake.index import default_index_path, index_export
from tests.intake.conftest import build_export, cli, write_slice


def test_export_is_grouped_into_patients_studies_series_and_volumes(tmp_path):
    uids = build_export(tmp_path / "export")
    idx = index_export(tmp_path / "export", tmp_path / "idx.sqlite")
    assert [p.patient_id for p in idx.patients] == ["PAT1", "PAT2"]
    pat1 = idx.patients[0].studies[0]
    by_series = {s.series_uid: s for s in pat1.series}
    assert [s.number for s in pat1.series] == [1, 2, 3, 4, 99]
    loc = by_series[uids["loc"]]
    assert sorted(v.orientation for v in loc.volumes) == ["axial", "coronal", "sagittal"]
    assert {v.kind for v in loc.volumes} == {"localizer"}
    t2axi = by_series[uids["t2axi"]].volumes
    assert [(v.orientation, v.n_images, v.kind) for v in t2axi] == [("axial", 5, "image")]
    assert t2axi[0].files[0].endswith("IM0001") and t2axi[0].files[-1].endswith("IM0005")
    assert [(v.orientation, v.n_images) for v in by_series[uids["t2sag"]].volumes] == [("sagittal", 5)]
    dwi = by_series[uids["dwi"]].volumes
    assert [(v.b_value, v.n_images, v.problems) for v in dwi] == [(0.0, 5, ()), (1000.0, 5, ())]
    assert by_series[uids["sc"]].volumes[0].kind == "secondary capture"
    pat2 = idx.patients[1].studies[0]
    assert [[(v.b_value, v.n_images) for v in s.volumes] for s in pat2.series] == [[(None, 4)], [(0.0, 4), (800.0, 4)]]
    assert idx.broken == ((str(tmp_path / "export" / "flat" / "IM9999"), "empty file (0 bytes)"),)
    assert idx.n_read == idx.n_files == 3 + 5 + 5 + 10 + 1 + 13 + 2  # 13 = 12 slices + DICOMDIR; README, IM9999


def test_rerun_reads_only_new_files_and_a_cancelled_run_resumes(tmp_path):
    build_export(tmp_path / "export")
    asked = itertools.count()
    first = index_export(tmp_path / "export", tmp_path / "idx.sqlite", cancelled=lambda: next(asked) >= 10)
    assert first.cancelled and first.n_read == 10 < first.n_files
    second = index_export(tmp_path / "export", tmp_path / "idx.sqlite")
    assert not second.cancelled and second.n_read == second.n_files - first.n_read
    write_slice(tmp_path / "export" / "late" / "x.dcm", study_uid="9.9", series_uid="9.9.1", patient="PAT3")
    third = index_export(tmp_path / "export", tmp_path / "idx.sqlite")
    assert third.n_read == 1 and [p.patient_id for p in third.patients] == ["PAT1", "PAT2", "PAT3"]
    assert [v.files for v in third.volumes] == [
        v.files for v in index_export(tmp_path / "export", tmp_path / "fresh.sqlite").volumes
    ]


def test_broken_objects_are_listed_with_file_and_cause(tmp_path):
    good = tmp_path / "e" / "a.dcm"
    write_slice(good, study_uid="1.2", series_uid="1.2.3")
    data = good.read_bytes()
    (tmp_path / "e" / "trunc").write_bytes(data[:-30])
    (tmp_path / "e" / "header").write_bytes(data[:200])
    (tmp_path / "e" / "text.dcm").write_text("not an image")
    idx = index_export(tmp_path / "e", tmp_path / "i.sqlite")
    causes = dict(idx.broken)
    assert causes[str(tmp_path / "e" / "trunc")] == "truncated: 98 of 128 pixel bytes present"
    assert causes[str(tmp_path / "e" / "text.dcm")] == "named as DICOM but its content is not DICOM"
    assert str(tmp_path / "e" / "header") in causes and len(idx.volumes) == 1


def test_index_command_prints_the_tree_and_json(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    build_export(tmp_path / "export")
    r = cli("index", tmp_path / "export")
    assert r.returncode == 0, r.stderr
    assert "patient PAT1 Doe^Jane" in r.stdout and "ep2d_diff_b0_1000 axial b=1000 (5 images)" in r.stdout
    assert "[localizer]" in r.stdout and "1 broken; 39 read this run" in r.stdout
    assert f"broken: {tmp_path / 'export' / 'flat' / 'IM9999'}: empty file (0 bytes)" in r.stderr
    assert "index: headers read: 39/39" in r.stderr
    again = cli("index", tmp_path / "export", "--json", "--quiet")
    data = json.loads(again.stdout)
    assert data["read_this_run"] == 0 and len(data["volumes"]) == 3 + 1 + 1 + 2 + 1 + 3 == 11


def test_header_summary_equals_the_one_from_a_full_pydicom_dataset(tmp_path):
    """read_object parses raw elements; summarize(dcmread(...)) is the reference for every file of the export."""
    import dataclasses

    import pydicom

    from study.intake.header import (
        DICOMDIR_CLASS,
        BrokenObject,
        NotDicom,
        read_object,
        summarize,
    )

    build_export(tmp_path / "export")
    compared = 0
    for path in sorted(p for p in (tmp_path / "export").rglob("*") if p.is_file()):
        try:
            fast = read_object(str(path))
        except (BrokenObject, NotDicom):  # README, empty file: covered elsewhere
            continue
        ref = summarize(pydicom.dcmread(path, stop_before_pixels=True, force=True), str(path))
        if fast.sop_class != DICOMDIR_CLASS:
            assert dataclasses.asdict(fast) == dataclasses.asdict(ref), path
            compared += 1
    assert compared == 36


def test_an_index_that_cannot_be_written_is_a_clear_error(tmp_path):
    import pytest

    from study.errors import StudyError

    write_slice(tmp_path / "e" / "a.dcm", study_uid="1.2", series_uid="1.2.3")
    with pytest.raises(StudyError, match="no-such-dir/i.sqlite: cannot write the index .*--index FILE"):
        index_export(tmp_path / "e", tmp_path / "no-such-dir" / "i.sqlite")
    assert len(index_export(tmp_path / "e", tmp_path / "i.sqlite").volumes) == 1


def test_the_default_index_lives_in_the_user_cache_one_per_export_never_in_the_export(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    build_export(tmp_path / "export")
    build_export(tmp_path / "other")
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "export").rglob("*"))
    first = index_export(tmp_path / "export")
    assert first.n_read == first.n_files > 0
    # the export is only read (a CD or a read-only share works the same)
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "export").rglob("*")) == before
    kept = default_index_path(tmp_path / "export")
    assert kept.is_file() and kept.parent == cache / "readerstudy" / "index" and kept.name.startswith("export-")
    # the same folder however it is spelled reuses its index; another folder has its own
    assert index_export(tmp_path / "other" / ".." / "export").n_read == 0
    assert default_index_path(tmp_path / "other") != kept
    assert index_export(tmp_path / "other").n_read == first.n_files
    # --index still puts it where asked
    index_export(tmp_path / "export", tmp_path / "mine.sqlite")
    assert (tmp_path / "mine.sqlite").is_file()


def test_an_unusable_cache_folder_is_a_clear_error(tmp_path, monkeypatch):
    import pytest

    from study.errors import StudyError

    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    write_slice(tmp_path / "e" / "a.dcm", study_uid="1.2", series_uid="1.2.3")
    with pytest.raises(StudyError, match="cannot make the index folder .*--index FILE"):
        index_export(tmp_path / "e")
