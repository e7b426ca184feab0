"""New studies are self-contained: media copied (default) or linked into the study folder, paths relative."""

from __future__ import annotations

import shutil

import pytest
from pydicom.data import get_testdata_file

from study import wizard
from study.cases import load_cases
from study.errors import StudyError
from study.media import load
from study.newstudy import new_study
from study.protocol import load_protocol


def _rows(study):
    return (study / "cases.csv").read_text().splitlines()


def test_readerstudy_new_copies_the_media_and_the_folder_moves(tmp_path, photo_folder):
    media, truth = photo_folder
    study = tmp_path / "study"
    new_study(study, media, truth, seed=3)
    assert _rows(study)[1] == "C001,1,P1,media/C001.png"
    assert (study / "media" / "C001.png").read_bytes() == (media / "C001.png").read_bytes()
    # Move the study away from the originals and delete those: it still opens, every case loads.
    moved = tmp_path / "elsewhere" / "study"
    moved.parent.mkdir()
    study.rename(moved)
    shutil.rmtree(media)
    cases = load_cases(moved, load_protocol(moved), check_media=True)
    assert len(cases) == 8 and load(cases[0].media["image"]).frames.shape[1:3] == (512, 512)


def test_link_and_in_place(tmp_path, photo_folder):
    media, truth = photo_folder
    linked = tmp_path / "linked"
    new_study(linked, media, truth, seed=3, media="link")
    link = linked / "media" / "C002.png"
    assert link.is_symlink() and link.resolve() == (media / "C002.png").resolve()
    assert _rows(linked)[2] == "C002,0,P1,media/C002.png"
    here = tmp_path / "here"
    new_study(here, media, truth, seed=3, media="in-place")
    assert not (here / "media").exists() and _rows(here)[1] == "C001,1,P1,../media/C001.png"


def test_wizard_copies_series_folders_keeping_the_layout(tmp_path, two_role_folder):
    media, truth = two_role_folder
    # A fifth case whose media is a DICOM series folder (a real pydicom test file).
    series = tmp_path / "series"
    (series / "S1").mkdir(parents=True)
    shutil.copy(get_testdata_file("CT_small.dcm"), series / "S1" / "1.dcm")
    (tmp_path / "t.csv").write_text("case_id,truth\nS1,1\n")
    s = wizard.scan(series, tmp_path / "t.csv")
    assert s.roles == ("series",)
    study = tmp_path / "ct"
    wizard.write_study(
        study, wizard.StudySettings(study_id="ct", seed=1, design="concurrent"), s.roles, s.cases, media_dir=series
    )
    assert _rows(study)[1] == "S1,1,S1,media/S1"
    assert (study / "media" / "S1" / "1.dcm").is_file()

    s = wizard.scan(media, truth)
    mri = tmp_path / "mri-study"
    settings = wizard.StudySettings(study_id="mri", seed=1, kind="multiclass", labels=("normal", "CIN1", "CIN2+"))
    wizard.write_study(mri, settings, s.roles, s.cases, media_dir=media)
    assert _rows(mri)[1] == "M1,normal,M1,media/M1/DWI.png,media/M1/T2.png"


def test_an_existing_file_in_the_way_is_named_and_nothing_is_written(tmp_path, photo_folder):
    media, truth = photo_folder
    study = tmp_path / "study"
    (study / "media").mkdir(parents=True)
    (study / "media" / "C005.png").write_bytes(b"someone else's file")
    with pytest.raises(StudyError, match=r"media/C005.png: already exists"):
        new_study(study, media, truth, seed=3)
    assert not (study / "study.toml").exists() and not (study / "cases.csv").exists()
    assert (study / "media" / "C005.png").read_bytes() == b"someone else's file"  # untouched


def test_a_bad_truth_is_named_in_the_truth_csv_and_nothing_is_written(tmp_path, photo_folder):
    media, truth = photo_folder
    rows = truth.read_text().splitlines()
    rows[2] = rows[2].replace(",0,", ",maybe,")  # C002
    truth.write_text("\n".join(rows) + "\n")
    study = tmp_path / "study"
    with pytest.raises(StudyError) as err:
        new_study(study, media, truth, seed=3)
    assert err.value.problems == [f"{truth}: row 3 (C002): truth 'maybe' is not 0, 1, 'negative' or 'positive'"]
    assert not study.exists() or not any(study.iterdir())


def test_copies_of_a_read_only_export_belong_to_the_study_owner(tmp_path):
    """The field case's slice folders are read-only (as on a CD or a shared export): their copies are not."""
    import stat as st
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    shared = next((p for p in (root.parent / "shared", root.parent.parent / "shared") if p.is_dir()), root / "shared")
    media = shared / "fieldcases" / "study" / "ima_named_slices"
    assert media.is_dir(), f"field case missing: {media}"  # fail, never skip
    study = tmp_path / "study"
    new_study(study, media, media.parent / "ima_named_slices_truth.csv", seed=3)
    copied = [study / "media", *(study / "media").rglob("*")]
    assert len(copied) == 1 + 2 + 10 and all(p.stat().st_mode & st.S_IWUSR for p in copied)
    assert _rows(study)[1:] == ["C001,1,C001,media/C001", "C002,0,C002,media/C002"]
    shutil.rmtree(study)  # the owner can delete the study
