"""Real DICOM exports written with pydicom, shaped like what a PACS or scanner gives."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    MRImageStorage,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from study.intake.index import close_fileset

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


@pytest.fixture(autouse=True)
def _user_cache_in_tmp(tmp_path_factory, monkeypatch):
    """The intake keeps export indexes in the user's cache: in the tests, a fresh one (subprocesses
    inherit it), never the real ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def fieldcases_dir() -> Path:
    """The shared field cases (``../shared/fieldcases`` beside the checkout); fail, never skip, if absent."""
    root = Path(__file__).resolve().parents[2]
    candidates = [Path(os.environ["READERSTUDY_FIELDCASES"])] if "READERSTUDY_FIELDCASES" in os.environ else []
    candidates += [root.parent / "shared" / "fieldcases", root.parent.parent / "shared" / "fieldcases"]
    for c in candidates:
        if c.is_dir():
            return c
    pytest.fail(f"shared field cases not found (looked in {', '.join(map(str, candidates))})")


def write_slice(
    path: Path,
    *,
    patient: str = "PAT1",
    patient_name: str = "Doe^Jane",
    study_uid: str,
    series_uid: str,
    series_number: int = 1,
    description: str = "t2_tse_tra",
    orientation: tuple[float, ...] = AXIAL,
    z: float = 0.0,
    instance: int = 1,
    b_value: float | None = None,
    b_tag: str = "standard",
    echo: int | None = None,
    localizer: bool = False,
    secondary_capture: bool = False,
    preamble: bool = True,
    accession: str = "ACC1",
    size: int = 8,
    value: int = 100,
) -> str:
    """Write one single-frame MR slice (real pixels) and return its SOPInstanceUID."""
    meta = FileMetaDataset()
    sop_class = SecondaryCaptureImageStorage if secondary_capture else MRImageStorage
    sop = generate_uid()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128 if preamble else None)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop
    ds.PatientID = patient
    ds.PatientName = patient_name
    ds.PatientBirthDate = "19700101"
    ds.AccessionNumber = accession
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = study_uid + ".9"
    ds.StudyDate = "20240115"
    ds.StudyTime = "093000"
    ds.StudyID = "1"
    ds.StudyDescription = "Pelvis"
    ds.InstitutionName = "General Hospital"
    ds.ReferringPhysicianName = "House^Greg"
    ds.Modality = "OT" if secondary_capture else "MR"
    ds.SeriesNumber = series_number
    ds.SeriesDescription = description
    ds.ProtocolName = description
    ds.InstanceNumber = instance
    ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER" if localizer else "M"]
    ds.ImageOrientationPatient = list(orientation)
    normal = np.cross(orientation[:3], orientation[3:])
    ds.ImagePositionPatient = [float(v) for v in normal * z]
    ds.SliceLocation = z
    ds.PixelSpacing = [1.0, 1.0]
    ds.SliceThickness = 3.0
    if echo is not None:
        ds.EchoNumbers = echo
        ds.EchoTime = 10.0 * echo
    if b_value is not None:
        if b_tag == "standard":
            ds.DiffusionBValue = float(b_value)
        elif b_tag == "siemens":
            ds.add_new((0x0019, 0x0010), "LO", "SIEMENS MR HEADER")
            ds.add_new((0x0019, 0x100C), "IS", str(int(b_value)))
        elif b_tag == "ge":
            ds.add_new((0x0043, 0x0010), "LO", "GEMS_PARM_01")
            ds.add_new((0x0043, 0x1039), "IS", [int(b_value) + 1000000000, 0, 0, 0])
        elif b_tag == "philips":
            ds.add_new((0x2001, 0x0010), "LO", "Philips Imaging DD 001")
            ds.add_new((0x2001, 0x1003), "FL", float(b_value))
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ramp = np.add.outer(np.arange(size), np.arange(size)) * (400 // size)  # a gradient: thumbnails show something
    ds.PixelData = (ramp + value + instance).astype(np.uint16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=preamble)
    return sop


def write_series(
    folder: Path,
    n: int,
    *,
    name: str = "IM{i:04d}",
    study_uid: str,
    series_uid: str | None = None,
    spacing: float = 3.0,
    start_instance: int = 1,
    **kw,
) -> str:
    """n slices at z = 0, spacing, ...; returns the SeriesInstanceUID."""
    series_uid = series_uid or generate_uid()
    for i in range(n):
        inst = start_instance + i
        fname = name.format(i=inst, uid=generate_uid())
        write_slice(folder / fname, study_uid=study_uid, series_uid=series_uid, z=i * spacing, instance=inst, **kw)
    return series_uid


def read(path: Path) -> pydicom.Dataset:
    return pydicom.dcmread(path, stop_before_pixels=True)


def cli(*args) -> subprocess.CompletedProcess:
    """Run ``readerstudy ARGS`` as a user does, in a subprocess; `new` takes the study's admin
    password from the documented environment variable."""
    from tests.admin_cli import ENV, PASSWORD

    return subprocess.run(
        [sys.executable, "-m", "app.cli", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        env={**os.environ, ENV: PASSWORD},
    )


def write_dicomdir_patient(root: Path, patient: str, study_uid: str, b_tag: str = "ge") -> None:
    """A DICOMDIR file set (pydicom's FileSet) with a T2 axial and a two-b-value DWI series."""
    from pydicom.fileset import FileSet

    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        write_series(staging / "t2", 4, study_uid=study_uid, patient=patient, description="T2 TSE AX", accession="ACC2")
        dwi = generate_uid()
        for b in (0, 800):
            write_series(
                staging / f"dwi{b}",
                4,
                study_uid=study_uid,
                series_uid=dwi,
                patient=patient,
                description="DWI",
                series_number=4,
                b_value=b,
                b_tag=b_tag,
                start_instance=1 + b,
                accession="ACC2",
            )
        fs = FileSet()
        for f in sorted(staging.rglob("*")):
            if f.is_file():
                fs.add(pydicom.dcmread(f))
        fs.write(root)
        close_fileset(fs)


def build_export(root: Path) -> dict[str, str]:
    """A PACS-like export: flat folder with several series and vendor names, a DICOMDIR set, broken files.

    PAT1 (flat/): 3-plane localizer (MR.<UID>), T2 axial (IM0001, no preamble), T2 sagittal (*.IMA),
    DWI b=0 + b=1000 at the same positions (1.2.840...dcm, Siemens b tag), one secondary capture.
    PAT2 (dicomdir/): DICOMDIR with T2 axial and DWI b=0 + b=800 (GE b tag).
    Returns names -> SeriesInstanceUID.
    """
    flat = root / "flat"
    s1 = "1.2.826.0.1.3680043.8.498.1"
    uids = {}
    loc = generate_uid()
    for i, o in enumerate((AXIAL, SAGITTAL, CORONAL)):
        write_slice(
            flat / f"MR.{generate_uid()}",
            study_uid=s1,
            series_uid=loc,
            series_number=1,
            description="localizer",
            orientation=o,
            instance=i + 1,
            localizer=True,
        )
    uids["loc"] = loc
    uids["t2axi"] = write_series(
        flat, 5, name="IM{i:04d}", study_uid=s1, series_number=2, description="t2_tse_tra", preamble=False
    )
    uids["t2sag"] = write_series(
        flat,
        5,
        name="PAT1.MR.T2_SAG.0003.{i:04d}.IMA",
        study_uid=s1,
        series_number=3,
        description="t2_tse_sag",
        orientation=SAGITTAL,
    )
    dwi = generate_uid()
    for b in (0, 1000):
        write_series(
            flat,
            5,
            name="{uid}.dcm",
            study_uid=s1,
            series_uid=dwi,
            series_number=4,
            description="ep2d_diff_b0_1000",
            b_value=b,
            b_tag="siemens",
            start_instance=1 + b,
        )
    uids["dwi"] = dwi
    uids["sc"] = write_series(
        flat, 1, name="SC{i}", study_uid=s1, series_number=99, description="report", secondary_capture=True
    )
    write_dicomdir_patient(root / "dicomdir", "PAT2", "1.2.826.0.1.3680043.8.498.2")
    (root / "flat" / "README.txt").write_text("Exported by PACS\n")
    (root / "flat" / "IM9999").write_bytes(b"")
    return uids
