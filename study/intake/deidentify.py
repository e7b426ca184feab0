"""De-identified copies of the chosen volumes (DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile).

The work is done by ``dicognito`` (a maintained implementation of the
profile's replace actions): names, IDs, addresses, equipment, UIDs and dates
are replaced, consistently for the whole study because one ``Anonymizer`` with
one secret seed serves every file (the same original UID always maps to the
same new UID, so series and frame-of-reference links survive).  On top of it:

* then every attribute of PS3.15 Table E.1-1 (all 655 with an action other
  than K/C, edition 2026c, read from the maintained ``dicom-anonymizer``
  package rather than typed here) gets its Basic Profile action wherever it
  is, nested sequences included (:func:`apply_table`): X removed (also where
  X is one of the options), Z emptied (also Z/D), D a dummy value and U a
  study-consistent UID where dicognito left the original;
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
import warnings
from importlib.metadata import version
from pathlib import Path

import pydicom
from dicognito.anonymizer import Anonymizer
from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector
from pydicom.dataset import FileMetaDataset
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

from study.errors import StudyError
from study.intake.build import SECRET
from study.intake.volumes import Volume

PROFILE = "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile"
# PS3.15 Table E.1-1 as published in the standard's 2026c edition, as kept by the maintained
# dicom-anonymizer package (KitwareMedical; generated from the standard's own tables).
EDITION = "2026c"
TABLE: dict[str, list[tuple[int, ...]]] = dicom_anonymization_database_selector(f"dicomfields_{EDITION}")
# Basic Profile action per category: X (remove, also chosen where X is one option), Z (zero length, also for
# Z/D), D (dummy value), U (a UID consistent within the study).
ACTION = {
    "X_TAGS": "X",
    "X_Z_TAGS": "X",
    "X_D_TAGS": "X",
    "X_Z_D_TAGS": "X",
    "X_Z_U_STAR_TAGS": "X",
    "Z_TAGS": "Z",
    "Z_D_TAGS": "Z",
    "D_TAGS": "D",
    "U_TAGS": "U",
}
_EXACT: dict[int, str] = {}
_MASKED: list[tuple[int, int, int, int, str]] = []  # (group, element, group mask, element mask, action)
for _category, _action in ACTION.items():
    for _entry in TABLE[_category]:
        if len(_entry) == 2:
            _EXACT[(_entry[0] << 16) | _entry[1]] = _action
        else:
            _MASKED.append((*_entry, _action))
# Replaced by the case code after the profile is applied (both are Z in Table E.1-1).
_KEPT_AS_CODE = {0x00100010, 0x00100020}


def table_action(tag: int) -> str | None:
    """The Basic Profile action applied to a tag: "X", "Z", "D", "U", or None (not in Table E.1-1)."""
    action = _EXACT.get(int(tag))
    if action is None:
        group, element = int(tag) >> 16, int(tag) & 0xFFFF
        action = next((a for g, e, gm, em, a in _MASKED if group & gm == g and element & em == e), None)
    return action


def _dummy(vr: str) -> object:
    """A non-empty dummy value of a VR (action D)."""
    return {
        "DA": "19000101",
        "TM": "000000",
        "DT": "19000101000000",
        "AS": "000Y",
        "DS": "0",
        "IS": "0",
        "US": 0,
        "SS": 0,
        "UL": 0,
        "SL": 0,
        "UV": 0,
        "SV": 0,
        "FL": 0.0,
        "FD": 0.0,
        "AT": 0,
        "OB": b"\0\0",
        "OW": b"\0\0",
        "OF": b"\0\0\0\0",
        "OD": b"\0" * 8,
        "OL": b"\0" * 4,
        "OV": b"\0" * 8,
        "UN": b"\0\0",
        "PN": "DEID",
    }.get(vr, "DEID")


def _datasets(ds: pydicom.Dataset):
    """ds and every data set nested in its sequences."""
    yield ds
    for elem in ds:
        if elem.VR == "SQ" and elem.value is not None:
            for item in elem.value:
                yield from _datasets(item)


def _fingerprints(ds: pydicom.Dataset) -> set[tuple[int, str]]:
    """(tag, value) of every D/U attribute anywhere in ds: what counts as "unchanged" after dicognito."""
    return {(int(e.tag), repr(e.value)) for d in _datasets(ds) for e in d if table_action(e.tag) in ("D", "U")}


def apply_table(ds: pydicom.Dataset, before: set[tuple[int, str]], secret: str) -> None:
    """Apply Table E.1-1 to every attribute (nested ones too) that dicognito left as it was.

    X: removed; Z: emptied; D: a dummy value unless dicognito replaced it; U: a UID derived from the
    study's secret and the original (so it stays consistent) unless dicognito replaced it.
    """
    for d in list(_datasets(ds)):
        for elem in list(d):
            action = table_action(elem.tag)
            if action is None or int(elem.tag) in _KEPT_AS_CODE:
                continue
            if action == "X":
                del d[elem.tag]
            elif action == "Z":
                elem.value = [] if elem.VR == "SQ" else None
            elif (int(elem.tag), repr(elem.value)) not in before:
                continue  # dicognito replaced it
            elif action == "D":
                elem.value = [] if elem.VR == "SQ" else _dummy(elem.VR)
            else:  # U
                values = elem.value if isinstance(elem.value, (list, tuple)) else [elem.value]
                new = [generate_uid(entropy_srcs=[secret, str(v)]) for v in values]
                elem.value = new if len(new) > 1 else new[0]


def study_secret(study_dir: Path) -> str:
    """The study's de-identification seed: random, kept in ``intake-deid-secret.txt`` beside the
    key file (``intake-key.csv``) and, like it, part of the re-identification key
    (:data:`study.intake.build.IDENTIFYING`): a rerun with it gives the same pseudonyms (UIDs, names,
    dates), so it stays with the study's custodian and is removed before the folder is shared
    (with it and a guess at a source value, a pseudonym can be checked)."""
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
        self.secret = secret
        self.anonymizer = Anonymizer(seed=secret)
        self.files = 0
        self.volumes = 0

    @staticmethod
    def describe() -> str:
        n = sum(len(TABLE[c]) for c in ACTION)
        return (
            f"{PROFILE} via dicognito {version('dicognito')}, then every attribute of PS3.15 Table E.1-1 "
            f"(edition {EDITION}, {n} attributes, via dicom-anonymizer {version('dicom-anonymizer')}) "
            "removed, emptied or replaced; private attributes removed"
        )

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
            before = _fingerprints(ds)
            with warnings.catch_warnings():
                # dicognito 0.19 looks up the *Time partner of a date it shifts by keyword; for some
                # (LastMenstrualTime, EthicsCommitteeApprovalEffectivenessStartTime) pydicom 3.0 knows no
                # such keyword and warns.  Harmless (apply_table handles both), so only that warning is dropped.
                warnings.filterwarnings("ignore", message=r"(?s).*Invalid value '\w+' used with the 'in' operator")
                self.anonymizer.anonymize(ds)
            ds.remove_private_tags()
            apply_table(ds, before, self.secret)
            ds.PatientID = code
            ds.PatientName = code
            _complete_meta(ds)
            try:
                ds.save_as(folder / f"{i + 1:05d}.dcm", enforce_file_format=True)
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                raise StudyError([f"{src}: cannot write its de-identified copy: {type(exc).__name__}: {exc}"]) from None
            self.files += 1
        self.volumes += 1
