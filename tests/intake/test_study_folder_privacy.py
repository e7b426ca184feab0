"""A de-identified intake study folder holds no identifier of the source outside its re-identification key.

Built by `readerstudy new --from-dicom --deidentify` from a real export (vendor names, a DICOMDIR,
localizers, a secondary capture, broken files, and a patient left out of the truth table); then
every byte of every file in the study folder (the store's SQLite too, its text dump and its raw
pages) is searched for every patient name, ID, accession number, study UID and study date the
export holds.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pydicom

from study.intake.build import IDENTIFYING, INDEX, KEY, MATCHES, SECRET
from study.intake.index import default_index_path
from tests.intake.conftest import build_export, cli, write_series
from tests.intake.test_match import RULES

TWO_ROLES = (
    RULES.replace('"T2axi", "T2sag", "DWI"', '"T2axi", "DWI"').split("[hanging.match.T2sag]")[0]
    + "[hanging.match.DWI]"
    + RULES.split("[hanging.match.DWI]")[1]
)


def source_identifiers(export: Path) -> set[str]:
    """Every PatientName (and each part of it), PatientID, AccessionNumber, StudyInstanceUID and
    StudyDate in the export's DICOM files, read by pydicom (files that are not DICOM are skipped)."""
    out: set[str] = set()
    for path in export.rglob("*"):
        if not path.is_file() or path.name == "DICOMDIR":
            continue
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except Exception:  # noqa: BLE001, S112 - the export's broken files: nothing to collect
            continue
        name = str(ds.get("PatientName", ""))
        # each part of the name too, but a short number (the demo's DEMO^0001) is in every case code
        out |= {name, *(part for part in name.split("^") if not (part.isdigit() and len(part) < 5))}
        for keyword in ("PatientID", "AccessionNumber", "StudyInstanceUID", "StudyDate"):
            out.add(str(ds.get(keyword, "")))
    # The fixture's first study UID is pydicom's Implementation Class UID, which every file pydicom
    # writes carries in its file meta (0002,0012): that one occurrence names pydicom, not the patient.
    return {v for v in out if len(v) >= 3} - {pydicom.uid.PYDICOM_IMPLEMENTATION_UID}


def texts_of(path: Path) -> list[bytes]:
    """The file's raw bytes; for an SQLite file also the text dump of every table (deleted rows
    can linger in free pages: the raw bytes catch those, the dump catches the rest)."""
    raw = path.read_bytes()
    out = [raw]
    if raw.startswith(b"SQLite format 3\0"):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            out.append("\n".join(db.iterdump()).encode("utf-8"))
        finally:
            db.close()
    return out


def found(value: str, text: bytes) -> bool:
    """``value`` in ``text`` as a whole value: a UID or number not as the start of a longer one
    (the study UID 1.2.826.0.1.3680043.8.498.1 is a prefix of every pydicom-made UID)."""
    return re.search(rb"(?<![0-9.])" + re.escape(value.encode()) + rb"(?![0-9])", text) is not None


def test_a_deidentified_study_folder_names_no_patient_outside_its_key(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    export = tmp_path / "export"
    build_export(export)
    # A third patient with her own name, ID, accession and study, not in the truth table: left out.
    write_series(
        export / "other",
        3,
        study_uid="1.2.826.0.1.3680043.8.498.33",
        patient="PAT3",
        patient_name="Roe^Richarda",
        accession="ACC3",
        description="t2_tse_tra",
    )
    secrets_of_source = source_identifiers(export)
    assert {"PAT1", "PAT2", "PAT3", "Doe", "Roe^Richarda", "ACC1", "ACC2", "ACC3", "20240115"} <= secrets_of_source
    assert {"1.2.826.0.1.3680043.8.498.2", "1.2.826.0.1.3680043.8.498.33"} <= secrets_of_source
    (tmp_path / "rules.toml").write_text(TWO_ROLES)
    (tmp_path / "truth.csv").write_text("PatientID,truth\nPAT1,1\nPAT2,0\n")
    study = tmp_path / "study"
    r = cli(
        "new",
        study,
        "--from-dicom",
        export,
        "--truth",
        tmp_path / "truth.csv",
        "--rules",
        tmp_path / "rules.toml",
        "--deidentify",
        "--seed",
        "2",
    )
    assert r.returncode == 0, r.stderr
    # The command says which files identify and what to do with them.
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("identifying:")]
    assert f"{KEY}, {MATCHES}, {SECRET}" in line and "custodian" in line and "before the folder is shared" in line
    # The header index is in the user's cache, as `readerstudy index` keeps it; not in the study folder.
    assert not (study / INDEX).exists() and default_index_path(export).is_file()
    assert str(tmp_path / "cache") in str(default_index_path(export))
    files = sorted(p for p in study.rglob("*") if p.is_file())
    assert any(p.suffix == ".dcm" for p in files) and (study / "readerstudy.sqlite") in files
    leaks = []
    for path in files:
        if path.parent == study and path.name in IDENTIFYING:
            continue
        for text in texts_of(path):
            leaks += [f"{path.relative_to(study)}: {v!r}" for v in secrets_of_source if found(v, text)]
    assert not leaks, leaks
    # The key files do identify (that is what they are for), and only they are named.
    assert "PAT1" in (study / KEY).read_text() and "ACC2" in (study / MATCHES).read_text()
    assert (study / SECRET).is_file()
    assert "PAT3" not in (study / KEY).read_text() + (study / MATCHES).read_text()


def leaks_in(study: Path, identifiers: set[str]) -> list[str]:
    """Every (file, identifier) found in the study folder outside its re-identification key."""
    out = []
    for path in sorted(p for p in study.rglob("*") if p.is_file()):
        if path.parent == study and path.name in IDENTIFYING:
            continue
        for text in texts_of(path):
            out += [f"{path.relative_to(study)}: {v!r}" for v in identifiers if found(v, text)]
    return out


def test_the_mri_demo_export_deidentified_names_nobody_outside_the_key(tmp_path, monkeypatch):
    """The MRI demo's PACS-like export (Siemens and storescp names, localizers, a two-b-value DWI)."""
    from study.demo.mri_export import DEMO_RULES, write_mri_export

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    patients = write_mri_export(tmp_path / "export", seed=5, n=2)
    identifiers = source_identifiers(tmp_path / "export")
    assert {"DEMO0001", "DEMO0002", "DEMO^0001"} <= identifiers and len(identifiers) >= 8
    (tmp_path / "R.toml").write_text(DEMO_RULES)
    (tmp_path / "T.csv").write_text("PatientID,truth\n" + "".join(f"{p[0]},{p[1]}\n" for p in patients))
    study = tmp_path / "nc-dcm"
    args = ("new", study, "--from-dicom", tmp_path / "export", "--truth", tmp_path / "T.csv")
    r = cli(*args, "--rules", tmp_path / "R.toml", "--deidentify")
    assert r.returncode == 0, r.stderr
    assert sum(1 for _ in (study / "media").rglob("*.dcm")) == 2 * 3 * 16
    assert not leaks_in(study, identifiers), leaks_in(study, identifiers)
    assert not (study / INDEX).exists() and default_index_path(tmp_path / "export").is_file()


def test_a_rerun_removes_an_index_an_older_version_left_in_the_study_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    build_export(tmp_path / "export")
    (tmp_path / "rules.toml").write_text(TWO_ROLES)
    (tmp_path / "truth.csv").write_text("PatientID,truth\nPAT1,1\nPAT2,0\n")
    study = tmp_path / "study"
    args = ("new", study, "--from-dicom", tmp_path / "export", "--truth", tmp_path / "truth.csv")
    assert cli(*args, "--rules", tmp_path / "rules.toml", "--seed", "2").returncode == 0
    # What an older version left: its index, naming every patient, inside the study folder.
    old = sqlite3.connect(study / INDEX)
    old.execute("CREATE TABLE files (path TEXT, data TEXT)")
    old.execute("INSERT INTO files VALUES ('x', 'Doe^Jane PAT1')")
    old.commit()
    old.close()
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert not (study / INDEX).exists()
    assert f"{study / INDEX}: removed" in again.stderr
    # Without --deidentify the command says the folder is not de-identified.
    assert "this folder is not de-identified" in again.stdout


def test_a_rerun_with_a_wrong_admin_password_rewrites_nothing(tmp_path):
    build_export(tmp_path / "export")
    (tmp_path / "rules.toml").write_text(TWO_ROLES)
    (tmp_path / "truth.csv").write_text("PatientID,truth\nPAT1,1\nPAT2,0\n")
    study = tmp_path / "study"
    args = ("new", study, "--from-dicom", tmp_path / "export", "--truth", tmp_path / "truth.csv")
    assert cli(*args, "--rules", tmp_path / "rules.toml", "--seed", "2").returncode == 0
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (study / "cases.csv", study / MATCHES, study / KEY)}
    links = sorted(p.name for p in (study / "media").rglob("*"))
    again = cli(*args, "--admin-password", "not-the-password")
    assert again.returncode != 0 and "admin password" in again.stderr
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in before} == before
    assert sorted(p.name for p in (study / "media").rglob("*")) == links
