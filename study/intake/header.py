"""One DICOM file's header as the few plain values indexing and role matching need.

``read_object`` opens the file once: the first 132 bytes decide whether it is
DICOM at all (:mod:`study.intake.sniff`), then pydicom parses the header only
(``stop_before_pixels``; long values such as Siemens CSA headers are deferred,
never read).  Where the header stops, the remaining file length is compared
with the pixel data the header promises, so a truncated slice is reported
here, without decoding.

b-value sources, in order: DiffusionBValue (0018,9087), Siemens (0019,100C),
GE (0043,1039, first value; GE adds 10^9 on some software versions), Philips
(2001,1003).  Orientation is the plane nearest the slice normal of
ImageOrientationPatient (PS3.3 C.7.6.2.1.1): "axial", "coronal", "sagittal".
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from study.intake.sniff import HEAD, is_dicom_head

_NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"}
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
_SIEMENS_B = Tag(0x0019, 0x100C)
_GE_B = Tag(0x0043, 0x1039)
_PHILIPS_B = Tag(0x2001, 0x1003)
_DEFER = 4096  # bytes: longer values (CSA headers, icons) are never read
PLANES = ("sagittal", "coronal", "axial")  # by the largest component of the normal (x, y, z)


@dataclass(frozen=True)
class DicomObject:
    """Header summary of one DICOM file (identifying values stay with the researcher, never a reader)."""

    path: str
    sop_class: str
    sop_uid: str
    patient_id: str = ""
    patient_name: str = ""
    accession: str = ""
    study_uid: str = ""
    study_date: str = ""
    study_description: str = ""
    series_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    protocol_name: str = ""
    sequence_name: str = ""
    modality: str = ""
    body_part: str = ""
    image_type: tuple[str, ...] = ()
    orientation: tuple[float, ...] | None = None  # ImageOrientationPatient, 6 direction cosines
    position: tuple[float, ...] | None = None  # ImagePositionPatient, mm
    instance: int | None = None
    frames: int = 1
    rows: int = 0
    columns: int = 0
    b_value: float | None = None  # s/mm2
    echo: float | None = None  # EchoNumbers, else EchoTime (ms)
    temporal: float | None = None  # TemporalPositionIdentifier, else TriggerTime
    burned_in: str = ""  # BurnedInAnnotation: "YES" / "NO" / ""
    has_pixels: bool = False

    @property
    def plane(self) -> str:
        return plane_of(self.orientation)

    @property
    def is_secondary_capture(self) -> bool:
        return self.sop_class.startswith(SECONDARY_CAPTURE_PREFIX)


class NotDicom(Exception):
    """The file's content is not DICOM (not an error: exports hold READMEs, thumbnails, ...)."""


class BrokenObject(Exception):
    """The file is DICOM but cannot be used; ``str(err)`` is the cause."""


def plane_of(iop: tuple[float, ...] | None) -> str:
    """"axial" | "coronal" | "sagittal" from ImageOrientationPatient, "" when absent."""
    if iop is None or len(iop) != 6:
        return ""
    normal = np.cross(np.asarray(iop[:3], dtype=float), np.asarray(iop[3:], dtype=float))
    if not np.isfinite(normal).all() or not normal.any():
        return ""
    return PLANES[int(np.argmax(np.abs(normal)))]


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _floats(ds: Dataset, keyword: str, n: int) -> tuple[float, ...] | None:
    value = ds.get(keyword)
    try:
        out = tuple(float(v) for v in value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return out if out is not None and len(out) == n else None


def _number(value: object) -> float | None:
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        value = value[0] if len(value) else None
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _private_number(ds: Dataset, tag: Tag, binary_float: bool) -> float | None:
    if tag not in ds:
        return None
    value = ds[tag].value
    if isinstance(value, bytes):  # VR UN (implicit VR files): decode by the vendor's known VR
        if binary_float:
            return struct.unpack("<f", value[:4])[0] if len(value) >= 4 else None
        value = value.decode("ascii", "replace").strip(" \x00").split("\\")[0]
    return _number(value)


def b_value_of(ds: Dataset) -> float | None:
    """The diffusion b-value in s/mm2 from the standard or a vendor tag, or None."""
    b = _number(ds.get("DiffusionBValue"))
    if b is None:
        seq = ds.get("MRDiffusionSequence")
        if seq:
            b = _number(seq[0].get("DiffusionBValue"))
    if b is None:
        b = _private_number(ds, _SIEMENS_B, binary_float=False)
    if b is None:
        b = _private_number(ds, _GE_B, binary_float=False)
        if b is not None and b >= 1e9:
            b -= 1e9  # GE stores b + 10^9 on some software versions
    if b is None:
        b = _private_number(ds, _PHILIPS_B, binary_float=True)
    return None if b is None or math.isnan(b) else round(float(b), 3)


def _int(ds: Dataset, keyword: str) -> int | None:
    n = _number(ds.get(keyword))
    return None if n is None else int(n)


def summarize(ds: Dataset, path: str) -> DicomObject:
    """The DicomObject of a parsed header."""
    meta = getattr(ds, "file_meta", None)
    sop_class = _text(ds, "SOPClassUID") or (_text(meta, "MediaStorageSOPClassUID") if meta is not None else "")
    echo = _number(ds.get("EchoNumbers"))
    if echo is None:
        echo = _number(ds.get("EchoTime"))
    temporal = _number(ds.get("TemporalPositionIdentifier"))
    if temporal is None:
        temporal = _number(ds.get("TriggerTime"))
    image_type = ds.get("ImageType")
    return DicomObject(
        path=path,
        sop_class=sop_class,
        sop_uid=_text(ds, "SOPInstanceUID"),
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        accession=_text(ds, "AccessionNumber"),
        study_uid=_text(ds, "StudyInstanceUID"),
        study_date=_text(ds, "StudyDate"),
        study_description=_text(ds, "StudyDescription"),
        series_uid=_text(ds, "SeriesInstanceUID"),
        series_number=_int(ds, "SeriesNumber"),
        series_description=_text(ds, "SeriesDescription"),
        protocol_name=_text(ds, "ProtocolName"),
        sequence_name=_text(ds, "SequenceName"),
        modality=_text(ds, "Modality"),
        body_part=_text(ds, "BodyPartExamined"),
        image_type=tuple(str(v).upper() for v in image_type) if isinstance(image_type, (list, pydicom.multival.MultiValue))
        else ((str(image_type).upper(),) if image_type else ()),
        orientation=_floats(ds, "ImageOrientationPatient", 6),
        position=_floats(ds, "ImagePositionPatient", 3),
        instance=_int(ds, "InstanceNumber"),
        frames=_int(ds, "NumberOfFrames") or 1,
        rows=_int(ds, "Rows") or 0,
        columns=_int(ds, "Columns") or 0,
        b_value=b_value_of(ds),
        echo=echo,
        temporal=temporal,
        burned_in=_text(ds, "BurnedInAnnotation").upper(),
        has_pixels="Rows" in ds,
    )


def _expected_pixel_bytes(ds: Dataset) -> int | None:
    try:
        n = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1) or 1)
        n *= int(_number(ds.get("NumberOfFrames")) or 1)
        return n * int(ds.BitsAllocated) // 8
    except (AttributeError, TypeError, ValueError):
        return None


def read_object(path: str) -> DicomObject:
    """Parse one file's header.  Raises NotDicom (not a DICOM file) or BrokenObject (DICOM, unusable)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD)
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                raise BrokenObject("empty file (0 bytes)")
            if not is_dicom_head(head, size):
                raise NotDicom(path)
            fh.seek(0)
            try:
                ds = pydicom.dcmread(fh, stop_before_pixels=True, defer_size=_DEFER, force=True)
            except Exception as exc:  # noqa: BLE001 - pydicom raises many types on damaged headers
                raise BrokenObject(f"unreadable DICOM header: {type(exc).__name__}: {str(exc)[:120]}") from None
            stop = fh.tell()
    except OSError as exc:
        raise BrokenObject(f"cannot open: {exc.strerror or exc}") from None
    try:
        obj = summarize(ds, path)
    except Exception as exc:  # noqa: BLE001 - a malformed value (e.g. text in an IS element)
        raise BrokenObject(f"malformed header value: {type(exc).__name__}: {str(exc)[:120]}") from None
    if obj.sop_class == DICOMDIR_CLASS:
        return obj
    if not obj.sop_uid:
        raise BrokenObject("no SOPInstanceUID (truncated or damaged header)")
    if obj.has_pixels:
        syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "1.2.840.10008.1.2")
        expected = _expected_pixel_bytes(ds) if syntax in _NATIVE else None
        if stop >= size:
            raise BrokenObject("truncated: the file ends before its pixel data")
        element_header = 8 if syntax == "1.2.840.10008.1.2" else 12  # tag (+ VR, reserved) + length
        present = size - stop - element_header
        if expected is not None and present < expected:
            raise BrokenObject(f"truncated: {max(present, 0)} of {expected} pixel bytes present")
    return obj
