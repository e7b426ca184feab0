"""--deidentify: PS3.15 Annex E basic profile copies, consistent UIDs, burned-in refused, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from study.cases import load_cases
from study.errors import StudyError
from study.intake.deidentify import Deidentifier
from study.intake.index import index_export
from study.media import load
from study.protocol import load_protocol
from study.store import Store
from tests.intake.conftest import build_export, cli, write_series
from tests.intake.test_match import RULES

# Attributes of PS3.15 Table E.1-1 (Basic Profile actions D, Z, X, U and combinations), with a test value each.
ANNEX_E = {
    "PatientName": "Doe^Jane",
    "PatientID": "PAT1",
    "PatientBirthDate": "19700101",
    "PatientSex": "F",
    "PatientAge": "054Y",
    "PatientSize": 1.62,
    "PatientWeight": 61.0,
    "PatientAddress": "1 Elm St",
    "OtherPatientIDs": "MRN-1234",
    "OtherPatientNames": "Roe^Jane",
    "PatientBirthName": "Smith^Jane",
    "PatientMotherBirthName": "Smith^Mary",
    "PatientTelephoneNumbers": "555-0100",
    "EthnicGroup": "X",
    "Occupation": "Teacher",
    "AdditionalPatientHistory": "prior myomectomy",
    "PatientComments": "anxious",
    "MedicalAlerts": "latex",
    "Allergies": "penicillin",
    "PregnancyStatus": 4,
    "SmokingStatus": "NO",
    "MilitaryRank": "Major",
    "BranchOfService": "Navy",
    "CountryOfResidence": "Wonderland",
    "AccessionNumber": "ACC1",
    "StudyID": "STUDY77",
    "StudyDate": "20240115",
    "StudyTime": "093000",
    "SeriesDate": "20240115",
    "AcquisitionDate": "20240115",
    "ContentDate": "20240115",
    "InstitutionName": "General Hospital",
    "InstitutionAddress": "2 Main St",
    "InstitutionalDepartmentName": "MRI",
    "ReferringPhysicianName": "House^Greg",
    "PerformingPhysicianName": "Grey^Meredith",
    "NameOfPhysiciansReadingStudy": "Wilson^James",
    "OperatorsName": "Tech^Tom",
    "PhysiciansOfRecord": "Cuddy^Lisa",
    "RequestingPhysician": "Foreman^Eric",
    "StationName": "MRI-01",
    "DeviceSerialNumber": "SN-998877",
    "StudyDescription": "Pelvis",
    "SeriesDescription": "t2_tse_tra",
    "ProtocolName": "t2_tse_tra",
    "ImageComments": "patient moved",
    "RequestedProcedureDescription": "MRI pelvis",
    "ReasonForStudy": "mass",
    "PerformedProcedureStepDescription": "pelvis",
    "PerformedProcedureStepID": "PPS1",
    "RequestedProcedureID": "RP1",
    "FrameOfReferenceUID": None,
    "StudyInstanceUID": None,
    "SeriesInstanceUID": None,
    "SOPInstanceUID": None,
}


def _fill(path, values):
    ds = pydicom.dcmread(path)
    for k, v in values.items():
        if v is not None:
            setattr(ds, k, v)
    ds.add_new((0x0029, 0x0010), "LO", "SIEMENS CSA HEADER")
    ds.add_new((0x0029, 0x1010), "OB", b"PATIENT Doe^Jane" * 4)
    ds.save_as(path)
    return ds


def test_no_attribute_of_the_profile_survives_and_uids_stay_consistent(tmp_path):
    series = write_series(tmp_path / "src", 3, study_uid="1.2.826.0.1.3680043.8.498.77", b_value=1000, b_tag="siemens")
    originals = [_fill(p, ANNEX_E) for p in sorted((tmp_path / "src").iterdir())]
    volume = index_export(tmp_path / "src", tmp_path / "i.sqlite").volumes[0]
    deid = Deidentifier("secret-1")
    deid.copy_volume(volume, tmp_path / "out", "C0007")
    copies = [pydicom.dcmread(p) for p in sorted((tmp_path / "out").iterdir())]
    assert len(copies) == 3 and deid.files == 3
    for orig, copy in zip(originals, copies, strict=True):
        for keyword in ANNEX_E:
            original = str(orig.get(keyword))
            assert keyword not in copy or str(copy.get(keyword)) != original, f"{keyword} survived: {original}"
        assert not any(elem.tag.is_private for elem in copy)
        assert copy.PatientID == "C0007" and copy.DiffusionBValue == 1000.0
        assert "DICOGNITO" in str(copy.DeidentificationMethod)
        assert (copy.pixel_array == orig.pixel_array).all()
    assert len({c.SeriesInstanceUID for c in copies}) == 1 and copies[0].SeriesInstanceUID != series
    assert len({c.StudyInstanceUID for c in copies}) == 1 and len({c.SOPInstanceUID for c in copies}) == 3
    again = Deidentifier("secret-1")
    again.copy_volume(volume, tmp_path / "out2", "C0007")
    assert pydicom.dcmread(min((tmp_path / "out2").iterdir())).SeriesInstanceUID == copies[0].SeriesInstanceUID
    assert load(tmp_path / "out").n_frames == 3


def test_burned_in_annotation_is_refused_with_the_file_named(tmp_path):
    write_series(tmp_path / "src", 2, study_uid="1.2.3", series_uid=generate_uid())
    victim = sorted((tmp_path / "src").iterdir())[1]
    ds = pydicom.dcmread(victim)
    ds.BurnedInAnnotation = "YES"
    ds.save_as(victim)
    volume = index_export(tmp_path / "src", tmp_path / "i.sqlite").volumes[0]
    with pytest.raises(StudyError, match=f"{victim}: BurnedInAnnotation is YES"):
        Deidentifier("s").copy_volume(volume, tmp_path / "out", "C0001")
    assert not (tmp_path / "out").exists()


def test_new_from_dicom_with_deidentify_writes_copies_and_audits(tmp_path):
    build_export(tmp_path / "export")
    (tmp_path / "rules.toml").write_text(
        RULES.replace('"T2axi", "T2sag", "DWI"', '"T2axi", "DWI"').split("[hanging.match.T2sag]")[0]
        + "[hanging.match.DWI]"
        + RULES.split("[hanging.match.DWI]")[1]
    )
    (tmp_path / "truth.csv").write_text("PatientID,truth\nPAT1,1\nPAT2,0\n")
    study = tmp_path / "study"
    r = cli(
        "new",
        study,
        "--from-dicom",
        tmp_path / "export",
        "--truth",
        tmp_path / "truth.csv",
        "--rules",
        tmp_path / "rules.toml",
        "--deidentify",
        "--seed",
        "2",
    )
    assert r.returncode == 0, r.stderr
    assert "de-identified 18 files of 4 volumes" in r.stdout
    cases = load_cases(study, load_protocol(study))
    for case in cases:
        for path in case.media.values():
            files = sorted(Path(path).iterdir())
            assert all(not f.is_symlink() for f in files)
            ds = pydicom.dcmread(files[0])
            assert ds.PatientID == case.case_id and "PAT" not in str(ds.PatientName) and "Doe" not in str(ds)
    store = Store.open(study)
    try:
        rows = [r for r in store.audit_rows() if r["action"] == "deidentify"]
        payload = json.loads(rows[0]["payload"]) if isinstance(rows[0]["payload"], str) else rows[0]["payload"]
        assert len(rows) == 1 and payload["files"] == 18 and "Annex E" in payload["profile"]
        assert store.verify_chain().ok
    finally:
        store.close()


def _table_value(tag: int, vr: str, n: int):
    """A distinctive, identifying-looking test value of a VR for attribute number n."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    if vr == "SQ":
        item = Dataset()
        item.PatientName = f"Nested^{n}"
        item.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{n}.5"
        return Sequence([item])
    return {
        "DA": "19700101",
        "TM": "093000",
        "DT": "19700101093000",
        "AS": "054Y",
        "DS": str(1000 + n),
        "IS": str(1000 + n),
        "UI": f"1.2.826.0.1.3680043.8.498.{n}.1",
        "PN": f"Doe^Jane{n}",
        "CS": f"SECRET{n}",
        "AE": f"AE{n}",
        "UR": f"http://secret.example/{n}",
        "SH": f"Secret {n}",
        "US": 1000 + n,
        "SS": 1000 + n,
        "UL": 1000 + n,
        "SL": 1000 + n,
        "UV": 1000 + n,
        "SV": 1000 + n,
        "FL": 1000.5 + n,
        "FD": 1000.5 + n,
        "AT": 0x00100010,
    }.get(vr, b"SECRET%04d" % n if vr in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") else f"Secret text {n}")


def _every_table_attribute() -> list[tuple[int, str, str]]:
    """(tag, VR, action) for every attribute of Table E.1-1 (a repeating group: its first group)."""
    from pydicom.datadict import dictionary_has_tag, dictionary_VR

    from study.intake.deidentify import ACTION, TABLE

    out = []
    for category, action in ACTION.items():
        for entry in TABLE[category]:
            tag = (entry[0] << 16) | entry[1]
            if len(entry) == 4 and entry[3] == 0:  # a whole group (curves, 50xx): its Curve Data
                tag |= 0x3000
            vr = dictionary_VR(tag) if dictionary_has_tag(tag) else "LO"  # newer than pydicom's dictionary
            out.append((tag, vr.split(" or ")[-1], action))
    return out


def test_every_attribute_of_table_e1_1_gets_its_action(tmp_path):
    """All 655 attributes of PS3.15 Table E.1-1 (2026c) with a D/Z/X/U action, set at once: none survives."""
    from pydicom.datadict import keyword_for_tag
    from pydicom.dataelem import DataElement

    from study.intake.deidentify import EDITION, table_action

    attributes = _every_table_attribute()
    assert EDITION == "2026c" and len(attributes) == 655 and len({t for t, _, _ in attributes}) == 655
    assert {a for _, _, a in attributes} == {"X", "Z", "D", "U"}
    assert table_action(0x60023000) == "X" and table_action(0x50203000) == "X"  # repeating groups: 60xx, 50xx
    write_series(tmp_path / "src", 2, study_uid="1.2.826.0.1.3680043.8.498.77")
    original = {}
    for path in sorted((tmp_path / "src").iterdir()):
        ds = pydicom.dcmread(path)
        for n, (tag, vr, _) in enumerate(attributes):
            if tag >> 16 in (0x0000, 0x0002):  # command set (never in a file); file meta (checked below)
                continue
            if tag >> 16 == 0x0028 and tag in ds:  # keep the image decodable
                continue
            if tag not in ds:
                ds[tag] = DataElement(tag, vr, _table_value(tag, vr, n))
        ds.save_as(path, enforce_file_format=True)
        original[path.name] = pydicom.dcmread(path)
    # Every attribute is in the source file but the command set's two and the file meta's SOP UID.
    assert sum(tag in next(iter(original.values())) for tag, _, _ in attributes) == 655 - 3
    volume = index_export(tmp_path / "src", tmp_path / "i.sqlite").volumes[0]
    Deidentifier("secret-2").copy_volume(volume, tmp_path / "out", "C0003")
    copies = [pydicom.dcmread(p) for p in sorted((tmp_path / "out").iterdir())]
    survived = []
    for orig, copy in zip(original.values(), copies, strict=True):
        assert copy.PatientID == copy.PatientName == "C0003"
        for tag, _vr, action in attributes:
            name = keyword_for_tag(tag) or hex(tag)
            if tag == 0x00020003:
                assert copy.file_meta.MediaStorageSOPInstanceUID == copy.SOPInstanceUID != orig.SOPInstanceUID
                continue
            if tag not in orig or tag in (0x00100010, 0x00100020):  # absent: the command set; the IDs: checked above
                continue
            if action == "X" and tag in copy:
                survived.append(f"{name}: X but present")
            elif action == "Z" and tag in copy and copy[tag].value not in (None, "", b"", []):
                survived.append(f"{name}: Z but {copy[tag].value!r}")
            elif action in ("D", "U") and (tag not in copy or str(copy[tag].value) == str(orig[tag].value)):
                survived.append(f"{name}: {action} but {'removed' if tag not in copy else 'unchanged'}")
        nested = [e for seq in copy.iterall() if seq.VR == "SQ" for item in seq.value for e in item]
        assert not any(str(e.value).startswith("Nested^") or str(e.value).endswith(".5") for e in nested)
        assert (copy.pixel_array == orig.pixel_array).all()
    assert not survived, survived[:20]
    assert load(tmp_path / "out").n_frames == 2
