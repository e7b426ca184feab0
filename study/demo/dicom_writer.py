"""Write one MR series as single-frame DICOM files (MR Image Storage, explicit
VR little endian, 16-bit MONOCHROME2) with consistent geometry and UIDs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, MRImageStorage, generate_uid

BITS_STORED = 12
MAX_STORED = (1 << BITS_STORED) - 1


def demo_uid(*parts: object) -> str:
    """A deterministic, unique UID: same seed and parts give the same UID."""
    return generate_uid(entropy_srcs=["readerstudy-demo", *map(str, parts)])


@dataclass(frozen=True)
class SeriesGeometry:
    """A stack of parallel slices.  row_dir/col_dir are ImageOrientationPatient."""

    rows: int
    cols: int
    spacing_mm: float  # in-plane, square pixels
    thickness_mm: float
    step_mm: float  # centre-to-centre slice distance (>= thickness: gap)
    n_slices: int
    row_dir: tuple[float, float, float]
    col_dir: tuple[float, float, float]
    center: tuple[float, float, float]

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.row_dir, self.col_dir)

    def origin(self, k: int) -> np.ndarray:
        """ImagePositionPatient of slice k: centre of the first (top-left) pixel.

        Slices are numbered in ascending position along the normal, the order
        the media layer sorts them in, so InstanceNumber agrees with it.
        """
        c = np.asarray(self.center, float) + (k - (self.n_slices - 1) / 2) * self.step_mm * self.normal
        return (
            c
            - (self.cols - 1) / 2 * self.spacing_mm * np.asarray(self.row_dir)
            - (self.rows - 1) / 2 * self.spacing_mm * np.asarray(self.col_dir)
        )

    def points(self, k: int) -> np.ndarray:
        """Patient coordinates (rows*cols, 3) of every pixel centre of slice k, row-major."""
        r, c = np.mgrid[0 : self.rows, 0 : self.cols]
        return (
            self.origin(k)
            + (c.reshape(-1, 1) * self.spacing_mm) * np.asarray(self.row_dir)
            + (r.reshape(-1, 1) * self.spacing_mm) * np.asarray(self.col_dir)
        )


@dataclass(frozen=True)
class SeriesInfo:
    description: str
    series_number: int
    sequence: str  # ScanningSequence, e.g. "SE" or "EP"
    echo_time: float
    repetition_time: float
    rescale_slope: float = 1.0
    b_value: float | None = None


def _element(tag: int, vr: str, value: bytes) -> bytes:
    """One data element in explicit VR little endian (value already padded to even length)."""
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr.encode()
    if vr in ("OB", "OW", "OF", "SQ", "UT", "UN"):
        return head + b"\x00\x00" + struct.pack("<I", len(value)) + value
    return head + struct.pack("<H", len(value)) + value


def _text(value: str, pad: bytes = b" ") -> bytes:
    raw = value.encode("ascii")
    return raw + pad if len(raw) % 2 else raw


def ds_str(value: float) -> str:
    """A decimal string (DS) of at most 16 characters, the same in every writer."""
    return f"{value:.4f}"


# Elements that differ between the slices of a series; everything else is encoded once.
_SOP_UID, _INSTANCE, _POSITION, _LOCATION, _PIXELS = 0x00080018, 0x00200013, 0x00200032, 0x00201041, 0x7FE00010
_MEDIA_SOP_UID = 0x00020003


def _encode(ds: Dataset) -> bytes:
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = False, True
    write_dataset(fp, ds)
    return fp.getvalue()


class _SeriesEncoder:
    """Encodes the slices of one series fast.

    A data set in explicit VR little endian is its elements concatenated in tag
    order, so pydicom encodes the elements shared by all slices once (from the
    template slice) and the few per-slice elements are packed by hand: pydicom's
    writer costs ~3 ms per file, which would dominate the demo build.  A test
    checks the bytes equal ``Dataset.save_as(..., enforce_file_format=True)``.
    """

    def __init__(self, template: Dataset) -> None:
        meta = FileMetaDataset(template.file_meta)
        fp = DicomBytesIO()
        fp.is_implicit_VR, fp.is_little_endian = False, True
        write_file_meta_info(fp, meta, enforce_standard=True)  # adds the elements the standard requires
        self.meta_parts = self._split(meta, {_MEDIA_SOP_UID}, skip={0x00020000})
        self.parts = self._split(template, {_SOP_UID, _INSTANCE, _POSITION, _LOCATION, _PIXELS})

    @staticmethod
    def _split(ds: Dataset, dynamic: set[int], skip: frozenset | set = frozenset()) -> list[bytes | int]:
        parts: list[bytes | int] = []
        run = Dataset()
        for elem in ds:  # iterates in tag order
            if elem.tag in skip:
                continue
            if elem.tag in dynamic:
                if len(run):
                    parts.append(_encode(run))
                    run = Dataset()
                parts.append(int(elem.tag))
            else:
                run.add(elem)
        if len(run):
            parts.append(_encode(run))
        return parts

    def encode(self, sop_uid: str, instance: int, position: list[str], location: str, pixels: bytes) -> bytes:
        dynamic = {
            _MEDIA_SOP_UID: _element(_MEDIA_SOP_UID, "UI", _text(sop_uid, b"\x00")),
            _SOP_UID: _element(_SOP_UID, "UI", _text(sop_uid, b"\x00")),
            _INSTANCE: _element(_INSTANCE, "IS", _text(str(instance))),
            _POSITION: _element(_POSITION, "DS", _text("\\".join(position))),
            _LOCATION: _element(_LOCATION, "DS", _text(location)),
            _PIXELS: _element(_PIXELS, "OW", pixels),
        }
        meta = b"".join(p if isinstance(p, bytes) else dynamic[p] for p in self.meta_parts)
        body = b"".join(p if isinstance(p, bytes) else dynamic[p] for p in self.parts)
        group_length = _element(0x00020000, "UL", struct.pack("<I", len(meta)))
        return b"\x00" * 128 + b"DICM" + group_length + meta + body


def _file_meta(sop_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    return meta


def slice_dataset(
    k: int,
    stored: np.ndarray,
    geom: SeriesGeometry,
    info: SeriesInfo,
    *,
    patient: dict,
    study_uid: str,
    series_uid: str,
    frame_uid: str,
    sop_uid: str,
    window: tuple[float, float],
) -> Dataset:
    """The complete data set of slice k (stored: uint16 (rows, cols))."""
    ds = Dataset()
    ds.file_meta = _file_meta(sop_uid)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = patient["study_date"]
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = patient["study_time"]
    ds.AccessionNumber = patient["accession"]
    ds.Modality = "MR"
    ds.Manufacturer = "readerstudy synthetic phantom"
    ds.InstitutionName = "DEMO"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "MRI PELVIS"
    ds.SeriesDescription = info.description
    ds.PatientName = patient["name"]
    ds.PatientID = patient["id"]
    ds.PatientBirthDate = patient["birth_date"]
    ds.PatientSex = "F"
    ds.BodyPartExamined = "PELVIS"
    ds.ScanningSequence = info.sequence
    ds.SequenceVariant = "SK"
    ds.MRAcquisitionType = "2D"
    ds.SliceThickness = geom.thickness_mm
    ds.SpacingBetweenSlices = geom.step_mm
    ds.RepetitionTime = info.repetition_time
    ds.EchoTime = info.echo_time
    ds.MagneticFieldStrength = 1.5
    if info.b_value is not None:
        ds.DiffusionBValue = info.b_value
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = info.series_number
    ds.InstanceNumber = k + 1
    origin = geom.origin(k)
    ds.ImagePositionPatient = [ds_str(v) for v in origin]
    ds.ImageOrientationPatient = [float(v) for v in (*geom.row_dir, *geom.col_dir)]
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = ds_str(origin @ geom.normal)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = geom.rows, geom.cols
    ds.PixelSpacing = [geom.spacing_mm, geom.spacing_mm]
    ds.BitsAllocated = 16
    ds.BitsStored = BITS_STORED
    ds.HighBit = BITS_STORED - 1
    ds.PixelRepresentation = 0
    ds.WindowCenter, ds.WindowWidth = window
    ds.RescaleIntercept = 0.0
    ds.RescaleSlope = info.rescale_slope
    ds.RescaleType = "US"
    ds.PixelData = stored.tobytes()
    ds["PixelData"].VR = "OW"  # what pydicom resolves OB/OW to for 16 bits; resolved here so it encodes alone
    return ds


def write_series(
    folder: Path,
    pixels: np.ndarray,
    geom: SeriesGeometry,
    info: SeriesInfo,
    *,
    patient: dict,
    study_uid: str,
    frame_uid: str,
    uid_key: tuple,
    series_uid: str | None = None,
    first_instance: int = 1,
    file_name: Callable[[int, str], str] | None = None,
) -> list[Path]:
    """Write pixels (n_slices, rows, cols) in modality units as IM0001.dcm ...

    patient: name, id, birth_date, study_date, study_time, accession.
    series_uid: put the slices into an existing series (default: a new one from
    uid_key); first_instance: InstanceNumber of slice 0 (a DWI's b=1000 images
    follow its b=0 images); file_name(k, sop_uid): the file name of slice k
    (vendor-style names in an export; default IM0001.dcm ...).
    """
    folder.mkdir(parents=True, exist_ok=True)
    stored = np.clip(np.rint(pixels / info.rescale_slope), 0, MAX_STORED).astype("<u2")
    series_uid = series_uid or demo_uid(*uid_key, "series")
    lo, hi = np.percentile(pixels, [1, 99.5])
    window = (round(float(lo + hi) / 2, 1), round(float(hi - lo), 1))
    template = slice_dataset(
        0,
        stored[0],
        geom,
        info,
        patient=patient,
        study_uid=study_uid,
        series_uid=series_uid,
        frame_uid=frame_uid,
        sop_uid=demo_uid(*uid_key, "instance", 0),
        window=window,
    )
    encoder = _SeriesEncoder(template)
    paths = []
    for k in range(geom.n_slices):
        origin = geom.origin(k)
        sop_uid = demo_uid(*uid_key, "instance", k)
        data = encoder.encode(
            sop_uid,
            first_instance + k,
            [ds_str(v) for v in origin],
            ds_str(origin @ geom.normal),
            stored[k].tobytes(),
        )
        path = folder / (file_name(k, sop_uid) if file_name else f"IM{k + 1:04d}.dcm")
        path.write_bytes(data)
        paths.append(path)
    return paths
