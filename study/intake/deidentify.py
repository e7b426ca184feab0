"""De-identified copies of the chosen volumes (DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile).

The work is done by ``dicognito`` (a maintained implementation of the
profile's replace actions): names, IDs, addresses, equipment, UIDs and dates
are replaced, consistently for the whole study because one ``Anonymizer`` with
one secret seed serves every file (the same original UID always maps to the
same new UID, so series and frame-of-reference links survive).  On top of it:

* attributes the Basic Profile removes (action X) that dicognito keeps, such
  as descriptions, comments and patient demographics (``REMOVE`` below,
  keywords from PS3.15 Table E.1-1), are removed;
* private attributes are removed (the profile removes them unless a "retain
  safe private" option applies); a vendor b-value is first copied into the
  standard DiffusionBValue so the DWI copy keeps it;
* PatientID and PatientName become the case's opaque code;
* BurnedInAnnotation = YES is refused: text burned into the pixels cannot be
  removed by header de-identification (the profile's Clean Pixel Data option
  is not offered), so the researcher must decide (exclude the volume, or clean
  the pixels elsewhere).

The run is recorded in the study's audit log by the caller.
"""

from __future__ import annotations

import secrets
from importlib.metadata import version
from pathlib import Path

import pydicom
from dicognito.anonymizer import Anonymizer
from pydicom.dataset import FileMetaDataset
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from study.errors import StudyError
from study.intake.volumes import Volume

PROFILE = "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile"
SECRET = "intake-deid-secret.txt"
# Table E.1-1 attributes with action X (remove) in the Basic Profile that dicognito does not remove.
REMOVE = (
    "StudyDescription",
    "SeriesDescription",
    "ProtocolName",
    "PatientAge",
    "PatientSex",
    "PatientSize",
    "PatientWeight",
    "PatientComments",
    "ImageComments",
    "AdditionalPatientHistory",
    "AdmittingDiagnosesDescription",
    "DerivationDescription",
    "EthnicGroup",
    "MedicalAlerts",
    "Allergies",
    "PregnancyStatus",
    "SmokingStatus",
    "PatientState",
    "RequestAttributesSequence",
    "PerformedProcedureStepDescription",
    "RequestedProcedureDescription",
    "ReasonForStudy",
    "StudyComments",
    "InterpretationText",
    "OtherPatientNames",
    "PatientBirthName",
    "PatientMotherBirthName",
    "CountryOfResidence",
    "RegionOfResidence",
    "PatientAddress",
    "OperatorsName",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "PhysiciansOfRecord",
    "RequestingPhysician",
    "ReferencedStudySequence",
    "ReferencedPatientSequence",
    "ReferencedPerformedProcedureStepSequence",
    "SourceImageSequence",
    "ReferencedImageSequence",
    "ContentCreatorName",
    "AcquisitionComments",
    "TextComments",
    "DeviceSerialNumber",
    "PlateID",
    "DetectorID",
    "GantryID",
    "CassetteID",
    "InstitutionalDepartmentName",
    "BodyPartExamined",
    "StationName",
    "IssuerOfPatientID",
    "PatientBirthTime",
    "MilitaryRank",
)


def study_secret(study_dir: Path) -> str:
    """The study's de-identification seed: random, kept beside the key file with the researcher."""
    path = Path(study_dir) / SECRET
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_hex(16)
    path.write_text(value + "\n", encoding="utf-8")
    return value


def _read(src: str, **kw) -> pydicom.Dataset:
    try:
        return pydicom.dcmread(src, force=True, **kw)
    except Exception as exc:  # noqa: BLE001 - pydicom raises many types on damaged files
        raise StudyError([f"{src}: cannot read for de-identification: {type(exc).__name__}: {exc}"]) from None


def _complete_meta(ds: pydicom.Dataset) -> None:
    """A raw dataset (no preamble, no group 0002) gets the file meta a Part 10 file needs."""
    meta = ds.file_meta if hasattr(ds, "file_meta") and ds.file_meta is not None else FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit, little = ds.original_encoding if ds.original_encoding[0] is not None else (True, True)
        meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
        )
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta = meta
    if not ds.preamble:
        ds.preamble = b"\0" * 128


class Deidentifier:
    """Writes de-identified copies; one instance per study run, so UIDs stay consistent."""

    def __init__(self, secret: str) -> None:
        self.anonymizer = Anonymizer(seed=secret)
        self.files = 0
        self.volumes = 0

    @staticmethod
    def describe() -> str:
        return f"{PROFILE} via dicognito {version('dicognito')}; private attributes and {len(REMOVE)} X-action attributes removed"

    def copy_volume(self, volume: Volume, folder: Path, code: str) -> None:
        """Write the volume's files, de-identified, into ``folder`` (replaced if present)."""
        for src in volume.files:
            burned = _read(src, stop_before_pixels=True)
            if str(burned.get("BurnedInAnnotation", "")).upper() == "YES":
                raise StudyError(
                    [
                        (
                            f"{src}: BurnedInAnnotation is YES: identifying text may be burned into the "
                            f"pixels; case {code} cannot be de-identified by header (choose another volume "
                            "or skip the case in matches.csv)"
                        )
                    ]
                )
        if folder.exists():
            for old in folder.iterdir():
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for i, src in enumerate(volume.files):
            ds = _read(src)
            if volume.b_value is not None and "DiffusionBValue" not in ds:
                ds.DiffusionBValue = float(volume.b_value)
            self.anonymizer.anonymize(ds)
            ds.remove_private_tags()
            for keyword in REMOVE:
                if keyword in ds:
                    delattr(ds, keyword)
            ds.PatientID = code
            ds.PatientName = code
            _complete_meta(ds)
            try:
                ds.save_as(folder / f"{i + 1:05d}.dcm", enforce_file_format=True)
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                raise StudyError([f"{src}: cannot write its de-identified copy: {type(exc).__name__}: {exc}"]) from None
            self.files += 1
        self.volumes += 1
