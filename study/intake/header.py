"""One DICOM file's header as the few plain values indexing and role matching need.

``read_object`` opens the file once: the first 132 bytes decide whether it is
DICOM at all (:mod:`study.intake.sniff`), then pydicom parses the header only
(``stop_before_pixels``); the values come from the raw elements, not through
pydicom's per-element conversion, which would cost more than the read.  Where the header stops, the remaining file length is compared
with the pixel data the header promises, so a truncated slice is reported
here, without decoding.

b-value sources, in order: DiffusionBValue (0018,9087), Siemens (0019,100C),
GE (0043,1039, first value; GE adds 10^9 on some software versions), Philips
(2001,1003).  Orientation is the plane nearest the slice normal of
ImageOrientationPatient (PS3.3 C.7.6.2.1.1): "axial", "coronal", "sagittal".
"""

from __future__ import annotations

import io
import math
import os
import struct
from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.filereader import data_element_generator
from pydicom.tag import Tag

from study.intake.sniff import HEAD, is_dicom_head

_NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"}
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
_SIEMENS_B = Tag(0x0019, 0x100C)
_GE_B = Tag(0x0043, 0x1039)
_PHILIPS_B = Tag(0x2001, 0x1003)
_IN_MEMORY = 1 << 20  # bytes
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
    """ "axial" | "coronal" | "sagittal" from ImageOrientationPatient, "" when absent."""
    if iop is None or len(iop) != 6:
        return ""
    normal = np.cross(np.asarray(iop[:3], dtype=float), np.asarray(iop[3:], dtype=float))
    if not np.isfinite(normal).all() or not normal.any():
        return ""
    return PLANES[int(np.argmax(np.abs(normal)))]


Elements = dict  # tag -> raw element, from ``dict(ds.items())``


def _raw(ds: Elements, tag: int) -> object:
    """The element's value without pydicom's conversion and validation (bytes for a raw element), or None.

    Converting elements through pydicom (and even ``Dataset.get_item``) costs
    more than reading the header; the index needs ~30 plain values, parsed
    here from the raw elements pydicom's reader leaves in the dataset.
    """
    elem = ds.get(tag)
    return None if elem is None else elem.value


def _str(ds: Elements, tag: int) -> str:
    value = _raw(ds, tag)
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1").strip(" \x00")
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _numbers(ds: Elements, tag: int) -> tuple[float, ...] | None:
    """Values of a text-number element (IS, DS), or None when absent or not numbers."""
    value = _raw(ds, tag)
    if value is None:
        return None
    parts = (
        value.decode("latin-1").split("\\")
        if isinstance(value, bytes)
        else (list(value) if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else [value])
    )
    try:
        out = tuple(float(str(v).strip(" \x00")) for v in parts)
    except ValueError:
        return None
    return out if out and all(map(math.isfinite, out)) else None


def _first(values: tuple[float, ...] | None) -> float | None:
    return values[0] if values else None


def _binary(ds: Elements, tag: int, fmt: str) -> float | None:
    """First value of a binary number element (US "H", FL "f", FD "d")."""
    elem = ds.get(tag)
    if elem is None or elem.value is None:
        return None
    value = elem.value
    if isinstance(value, bytes):
        size = struct.calcsize(fmt)
        if len(value) < size:
            return None
        little = getattr(elem, "is_little_endian", True)
        number = struct.unpack(("<" if little is not False else ">") + fmt, value[:size])[0]
    else:
        number = _number(value)
    return None if number is None or not math.isfinite(number) else float(number)


def _number(value: object) -> float | None:
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        value = value[0] if len(value) else None
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def b_value_of(ds: Elements, dataset: Dataset | None = None) -> float | None:
    """The diffusion b-value in s/mm2 from the standard or a vendor tag, or None.

    ds: raw elements (``dict(dataset.items())``); dataset: the parsed dataset, for sequences.
    """
    b = _binary(ds, 0x00189087, "d")  # DiffusionBValue (FD)
    if b is None and 0x00189117 in ds:  # MRDiffusionSequence: pydicom parses sequences
        seq = (dataset if dataset is not None else Dataset(ds)).get("MRDiffusionSequence")
        b = _number(seq[0].get("DiffusionBValue")) if seq else None
    if b is None:
        b = _first(_numbers(ds, _SIEMENS_B))
    if b is None:
        b = _first(_numbers(ds, _GE_B))
        if b is not None and b >= 1e9:
            b -= 1e9  # GE stores b + 10^9 on some software versions
    if b is None:
        b = _binary(ds, _PHILIPS_B, "f")
    return None if b is None or math.isnan(b) else round(float(b), 3)


def _int(values: tuple[float, ...] | None) -> int | None:
    return None if not values else int(values[0])


def summarize(
    dataset: Dataset | None, path: str, ds: Elements | None = None, meta: Elements | None = None
) -> DicomObject:
    """The DicomObject of a parsed header: a Dataset, or its raw elements ``ds`` and file meta ``meta``."""
    if ds is None:
        assert dataset is not None
        ds = dict(dataset.items())
    if meta is None:
        meta = _meta(dataset) if dataset is not None else {}
    sop_class = _str(ds, 0x00080016) or _str(meta, 0x00020002)
    echo = _first(_numbers(ds, 0x00180086))  # EchoNumbers
    if echo is None:
        echo = _first(_numbers(ds, 0x00180081))  # EchoTime
    temporal = _first(_numbers(ds, 0x00200100))  # TemporalPositionIdentifier
    if temporal is None:
        temporal = _first(_numbers(ds, 0x00181060))  # TriggerTime
    image_type = _str(ds, 0x00080008)
    iop = _numbers(ds, 0x00200037)
    ipp = _numbers(ds, 0x00200032)
    rows = _binary(ds, 0x00280010, "H")
    columns = _binary(ds, 0x00280011, "H")
    return DicomObject(
        path=path,
        sop_class=sop_class,
        sop_uid=_str(ds, 0x00080018),
        patient_id=_str(ds, 0x00100020),
        patient_name=_str(ds, 0x00100010),  # researcher's view only: raw bytes, no character-set decoding
        accession=_str(ds, 0x00080050),
        study_uid=_str(ds, 0x0020000D),
        study_date=_str(ds, 0x00080020),
        study_description=_str(ds, 0x00081030),
        series_uid=_str(ds, 0x0020000E),
        series_number=_int(_numbers(ds, 0x00200011)),
        series_description=_str(ds, 0x0008103E),
        protocol_name=_str(ds, 0x00181030),
        sequence_name=_str(ds, 0x00180024),
        modality=_str(ds, 0x00080060),
        body_part=_str(ds, 0x00180015),
        image_type=tuple(v.strip().upper() for v in image_type.split("\\")) if image_type else (),
        orientation=iop if iop is not None and len(iop) == 6 else None,
        position=ipp if ipp is not None and len(ipp) == 3 else None,
        instance=_int(_numbers(ds, 0x00200013)),
        frames=_int(_numbers(ds, 0x00280008)) or 1,
        rows=int(rows or 0),
        columns=int(columns or 0),
        b_value=b_value_of(ds, dataset),
        echo=echo,
        temporal=temporal,
        burned_in=_str(ds, 0x00280301).upper(),
        has_pixels=rows is not None,
    )


def _meta(dataset: Dataset) -> Elements:
    meta = getattr(dataset, "file_meta", None)
    return dict(meta.items()) if meta is not None else {}


def _expected_pixel_bytes(ds: Elements, obj: DicomObject) -> int | None:
    samples = _binary(ds, 0x00280002, "H") or 1  # SamplesPerPixel
    bits = _binary(ds, 0x00280100, "H")  # BitsAllocated
    if not bits or not obj.rows or not obj.columns:
        return None
    return int(obj.rows * obj.columns * samples * obj.frames * bits) // 8


_STOP_AT_PIXELS = 0x7FE00000  # group 7FE0: (Float/Double) Pixel Data
_EXPLICIT_BIG, _DEFLATED = "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"


def _not_meta(tag: int, vr: object, length: int) -> bool:
    return tag >> 16 != 2


def _at_pixels(tag: int, vr: object, length: int) -> bool:
    return tag >= _STOP_AT_PIXELS


def _elements_of(buf: io.BytesIO) -> tuple[Elements, Elements, int] | None:
    """(file meta, dataset elements, offset of the pixel data) of a Part 10 file in memory.

    pydicom's own element parser (``data_element_generator``) without building a
    Dataset: that construction costs a third of a header read and the index
    never needs it.  None for what only ``dcmread`` handles (no preamble,
    big endian, deflate): the caller then uses ``dcmread``.
    """
    if buf.getbuffer()[128:132] != b"DICM":
        return None
    buf.seek(132)
    meta = {e.tag: e for e in data_element_generator(buf, False, True, stop_when=_not_meta)}
    syntax = _str(meta, 0x00020010)
    if not syntax or syntax in (_EXPLICIT_BIG, _DEFLATED):
        return None
    implicit = syntax == "1.2.840.10008.1.2"
    elements = {e.tag: e for e in data_element_generator(buf, implicit, True, stop_when=_at_pixels)}
    return meta, elements, buf.tell()


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
            fh.seek(HEAD if size <= _IN_MEMORY else 0)
            # A small file is parsed from memory: pydicom's many tell()/read() calls on a
            # buffered file cost more than one read of the whole file.
            source = io.BytesIO(head + fh.read()) if size <= _IN_MEMORY else fh
            try:
                parsed = _elements_of(source) if isinstance(source, io.BytesIO) else None
                if parsed is None:
                    source.seek(0)
                    ds = pydicom.dcmread(source, stop_before_pixels=True, force=True)
                    parsed = (_meta(ds), dict(ds.items()), source.tell())
            except Exception as exc:  # noqa: BLE001 - pydicom raises many types on damaged headers
                raise BrokenObject(f"unreadable DICOM header: {type(exc).__name__}: {str(exc)[:120]}") from None
    except OSError as exc:
        raise BrokenObject(f"cannot open: {exc.strerror or exc}") from None
    meta, elements, stop = parsed
    try:
        obj = summarize(None, path, elements, meta)
    except Exception as exc:  # noqa: BLE001 - a malformed value (e.g. text in an IS element)
        raise BrokenObject(f"malformed header value: {type(exc).__name__}: {str(exc)[:120]}") from None
    if obj.sop_class == DICOMDIR_CLASS:
        return obj
    if not obj.sop_uid:
        raise BrokenObject("no SOPInstanceUID (truncated or damaged header)")
    if obj.has_pixels:
        syntax = _str(meta, 0x00020010) or "1.2.840.10008.1.2"  # TransferSyntaxUID
        expected = _expected_pixel_bytes(elements, obj) if syntax in _NATIVE else None
        if stop >= size:
            raise BrokenObject("truncated: the file ends before its pixel data")
        element_header = 8 if syntax == "1.2.840.10008.1.2" else 12  # tag (+ VR, reserved) + length
        present = size - stop - element_header
        if expected is not None and present < expected:
            raise BrokenObject(f"truncated: {max(present, 0)} of {expected} pixel bytes present")
    return obj
