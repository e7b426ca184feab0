"""Fidelity: what ``study.media.load`` gives equals what the reference decoder gives.

The corpus (issue 12):
* every image-bearing DICOM file of pydicom's test files and pydicom-data;
* generated DICOM series (BitsStored with an overlay in the high bits, signed,
  rescale per slice, MONOCHROME1), read through the project's fast series loader;
* a generated matrix of TIFF / PNG / JPEG variants (compression x photometric
  x bit depth x orientation) written with tifffile and Pillow;
* generated videos: display-matrix rotation 0/90/180/270, an edit list, a
  variable frame rate, odd sizes;
* every file of ``../shared/fieldcases/media/``.

References, each called directly here:
* DICOM: ``ds.pixel_array`` (pydicom's handlers: BitsStored masking, sign,
  YBR -> RGB), ``apply_modality_lut`` per frame (the frame's own
  Pixel Value Transformation for enhanced objects), ``apply_color_lut``;
  enhanced multi-frame frames in the order of their per-frame positions;
* Pillow: ``Image.open`` -> ``ImageOps.exif_transpose`` -> ``convert`` (the
  same mode rules a viewer uses: palette/CMYK/YCbCr/alpha to RGB, bilevel to L);
* TIFF that Pillow cannot open: tifffile's array;
* video: FFmpeg's own filters as its command-line player autorotates
  (``format=rgb24`` then ``transpose`` / ``hflip,vflip``), and the frames'
  presentation timestamps.

Every mismatch is collected; each test asserts the list is empty or equal to
``DELIBERATE`` (documented differences with their reasons).  Display-side
transforms the product applies on purpose (MONOCHROME1 inversion, colour
deeper than 8 bits shown at 8 bits) are applied to the reference too, and
named in each comparison.
"""

from __future__ import annotations

import fractions
import itertools
import math
import struct
import warnings
from pathlib import Path

import av
import numpy as np
import pydicom
import pytest
import tifffile
from PIL import Image, ImageOps
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

from study.media import MediaError, load
from tests.media.conftest import PYDICOM_DATA, PYDICOM_FILES, dicom_file, fieldcases_dir
from tests.media.test_media_corpus import EXPECTED_FAILURES

# Deliberate differences between product and reference, by file name, with the reason.
DELIBERATE: dict[str, str] = {}


# ------------------------------------------------------------------ DICOM reference


def _reference_ds(path: Path) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's notes on odd files, not errors
        ds = pydicom.dcmread(path, force=True)
    meta = getattr(ds, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta:
        implicit, little = ds.original_encoding
        if implicit is None:
            implicit, little = True, True
        ds.file_meta = meta or Dataset()
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
        )
    return ds


def _frame_item(ds: Dataset, seq: str, i: int) -> Dataset | None:
    for groups in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
        if groups in ds and len(ds[groups].value) > (i if groups.startswith("Per") else 0):
            g = ds[groups].value[i if groups.startswith("Per") else 0]
            if seq in g and len(g[seq].value):
                return g[seq].value[0]
    return None


def _modality(ds: Dataset, frames: np.ndarray) -> np.ndarray:
    """apply_modality_lut per frame; an enhanced frame's rescale comes from its functional groups."""
    if (
        "ModalityLUTSequence" in ds
        or "RescaleSlope" in ds
        or "RescaleIntercept" in ds
        or "PerFrameFunctionalGroupsSequence" not in ds
    ):
        return np.asarray(apply_modality_lut(frames, ds), dtype=np.float64)
    out = np.empty(frames.shape, np.float64)
    for i in range(len(frames)):
        item = _frame_item(ds, "PixelValueTransformationSequence", i)
        view = Dataset()
        if item is not None and "RescaleSlope" in item and item.RescaleSlope not in (None, ""):
            view.RescaleSlope = item.RescaleSlope
            view.RescaleIntercept = item.get("RescaleIntercept") or 0
        out[i] = apply_modality_lut(frames[i], view)
    return out


def _stored_range(ds: Dataset) -> tuple[int, int]:
    bits = int(ds.get("BitsStored") or ds.BitsAllocated)
    if int(ds.get("PixelRepresentation") or 0):
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def _anatomical_order(ds: Dataset, n: int) -> list[int]:
    """Frames by position along the normal when every frame has a distinct position in one plane."""
    if n < 2 or "PerFrameFunctionalGroupsSequence" not in ds:
        return list(range(n))
    along, normals = [], set()
    for i in range(n):
        pos = _frame_item(ds, "PlanePositionSequence", i)
        ori = _frame_item(ds, "PlaneOrientationSequence", i)
        iop = ori.get("ImageOrientationPatient") if ori is not None else ds.get("ImageOrientationPatient")
        if pos is None or iop is None or pos.get("ImagePositionPatient") is None:
            return list(range(n))
        normal = np.cross([float(v) for v in iop[:3]], [float(v) for v in iop[3:]])
        normal /= np.linalg.norm(normal)
        normals.add(tuple(np.round(normal, 3)))
        along.append(float(normal @ np.array([float(v) for v in pos.ImagePositionPatient])))
    if len(normals) > 1 or len({round(a, 3) for a in along}) < n:
        return list(range(n))
    return sorted(range(n), key=lambda i: (along[i], i))


def dicom_reference(path: Path) -> tuple[np.ndarray, str]:
    """Reference frames for a DICOM file and a note naming the display transforms applied."""
    ds = _reference_ds(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arr = ds.pixel_array
    n = int(ds.get("NumberOfFrames") or 1)
    spp = int(ds.get("SamplesPerPixel") or 1)
    pi = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    color = spp == 3 or pi == "PALETTE COLOR"
    if (arr.ndim == 2 and not color) or (arr.ndim == 3 and spp == 3 and n == 1) or (arr.ndim == 2 and color):
        arr = arr[np.newaxis]
    note = ""
    if color:
        if pi == "PALETTE COLOR":
            arr = apply_color_lut(arr, ds)
            bits = arr.dtype.itemsize * 8
        else:
            bits = int(ds.get("BitsStored") or arr.dtype.itemsize * 8)
        if arr.dtype != np.uint8:
            arr = (np.clip(arr.astype(np.int64), 0, None) >> max(bits - 8, 0)).astype(np.uint8)
            note = "colour deeper than 8 bits shown at its top 8 bits"
    else:
        arr = _modality(ds, arr)
        if pi == "MONOCHROME1":
            lo, hi = _stored_range(ds)
            slope = float(ds.get("RescaleSlope") or 1.0)
            intercept = float(ds.get("RescaleIntercept") or 0.0)
            a, b = lo * slope + intercept, hi * slope + intercept
            arr = min(a, b) + max(a, b) - arr
            note = "MONOCHROME1 inverted (bright = high)"
    return arr[_anatomical_order(ds, n)], note


def compare(product: np.ndarray, reference: np.ndarray) -> str | None:
    """None when equal (float32 product vs float64 reference: to float32 rounding), else what differs."""
    if product.shape != reference.shape:
        return f"shape {product.shape} != reference {reference.shape}"
    if product.dtype.kind == "f" or reference.dtype.kind == "f":
        p, r = product.astype(np.float64), reference.astype(np.float64)
        nan_p, nan_r = np.isnan(p), np.isnan(r)
        if not np.array_equal(nan_p, nan_r):
            return "NaN at different pixels"
        ok = np.isclose(p, r, rtol=2e-7, atol=1e-6) | nan_p
        bad = int(ok.size - np.count_nonzero(ok))
        if bad:
            worst = float(np.nanmax(np.abs(p - r)))
            return f"{bad} pixels differ (max |diff| {worst:g})"
        return None
    if product.dtype != reference.dtype and not np.can_cast(reference.dtype, product.dtype):
        return f"dtype {product.dtype} cannot hold reference {reference.dtype}"
    diff = int(np.count_nonzero(product.astype(np.int64) != reference.astype(np.int64)))
    return f"{diff} pixels differ" if diff else None


def _dicom_corpus() -> list[Path]:
    items = sorted(PYDICOM_FILES.iterdir()) + sorted(p for p in PYDICOM_DATA.iterdir() if p.suffix == ".dcm")
    return [p for p in items if not p.name.startswith(("_", ".")) and p.is_file() and p.name not in EXPECTED_FAILURES]


DICOM_CORPUS = _dicom_corpus()


def _mismatches_over(paths: list[Path]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in paths:
        try:
            media = load(path)
        except MediaError as err:
            found[path.name] = f"product refused: {err.cause}"
            continue
        try:
            reference, _ = dicom_reference(path)
        except Exception as exc:  # noqa: BLE001 - listed, then judged against DELIBERATE
            found[path.name] = f"reference failed: {type(exc).__name__}: {exc}"
            continue
        problem = compare(media.frames, reference)
        if problem:
            found[path.name] = problem
    return found


def test_the_dicom_corpus_is_the_whole_image_bearing_set() -> None:
    assert len(DICOM_CORPUS) > 110
    assert {"MR_small.dcm", "CT_small.dcm", "emri_small.dcm", "RG1_UNCR.dcm", "OBXXXX1A.dcm"} <= {
        p.name for p in DICOM_CORPUS
    }


@pytest.mark.slow
def test_every_corpus_dicom_equals_pydicom() -> None:
    found = _mismatches_over(DICOM_CORPUS)
    assert {k: v for k, v in found.items() if k not in DELIBERATE} == {}
    assert not set(DELIBERATE) - set(found)  # no stale entries


SMALL_DICOM = [
    "MR_small.dcm",  # plain 16-bit signed
    "CT_small.dcm",  # rescale intercept
    "MR_small_bigendian.dcm",
    "MR_small_padded.dcm",
    "RG1_UNCR.dcm",  # BitsStored 15 of 16
    "MR2_UNCI.dcm",
    "emri_small.dcm",  # multi-frame
    "SC_rgb.dcm",
    "SC_ybr_full_uncompressed.dcm",
    "SC_rgb_jpeg_dcmd.dcm",
    "OBXXXX1A.dcm",  # palette colour
    "liver_1frame.dcm",
    "MR-SIEMENS-DICOM-WithOverlays.dcm",  # overlay bits
    "SC_rgb_16bit.dcm",
    "rtdose.dcm",  # per-frame grid scaling
]


def test_a_quick_cross_section_of_the_dicom_corpus_equals_pydicom() -> None:
    paths = [dicom_file(n) for n in SMALL_DICOM]
    assert _mismatches_over(paths) == {}


# --------------------------------------------------- generated series: the fast path


def _series_variant(folder: Path, variant: str) -> list[Path]:
    base = pydicom.dcmread(dicom_file("MR_small.dcm"))
    pixels = base.pixel_array.astype(np.int64) - int(base.pixel_array.min())  # 0..max, fits 12 bits
    folder.mkdir()
    rng = np.random.default_rng(7)
    files = []
    uid = generate_uid()
    for k in rng.permutation(6):
        ds = base.copy()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SeriesInstanceUID = uid
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.ImagePositionPatient = [0.0, 0.0, 4.0 * float(k)]
        ds.InstanceNumber = int(k) + 1
        values = (pixels + 50 * int(k)) % 4096
        if variant == "bitsstored12_overlay":
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
            raw = (values | (0xF000 * (np.arange(values.size).reshape(values.shape) % 3 == 0))).astype("<u2")
        elif variant == "signed_stored12":
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 1
            raw = ((values - 2048) & 0x0FFF).astype("<u2")  # two's complement in 12 bits, high bits zero
        elif variant == "signed16_rescale":
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
            ds.RescaleSlope, ds.RescaleIntercept = f"{0.5 + 0.25 * int(k)}", f"{-1024 + int(k)}"
            raw = (values - 2048).astype("<i2")
        elif variant == "monochrome1":
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
            ds.PhotometricInterpretation = "MONOCHROME1"
            raw = values.astype("<u2")
        else:
            raise AssertionError(variant)
        ds.PixelData = raw.tobytes()
        path = folder / f"IM{int(k) * 7 % 6:04d}"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files


@pytest.mark.parametrize("variant", ["bitsstored12_overlay", "signed_stored12", "signed16_rescale", "monochrome1"])
def test_the_fast_series_loader_equals_pydicom_file_by_file(tmp_path: Path, variant: str) -> None:
    files = _series_variant(tmp_path / variant, variant)
    media = load(tmp_path / variant)
    by_z = sorted(files, key=lambda p: float(pydicom.dcmread(p).ImagePositionPatient[2]))
    reference = np.concatenate([dicom_reference(p)[0] for p in by_z])
    assert compare(media.frames, reference) is None
    for p in by_z[:2]:  # and each file alone, through load_dicom_file
        assert compare(load(p).frames, dicom_reference(p)[0]) is None


def test_enhanced_frames_with_their_own_rescale_and_window_are_sorted_together(tmp_path: Path) -> None:
    src = fieldcases_dir() / "media" / "c06_enhanced_mr_frames_unsorted.dcm"
    ds = pydicom.dcmread(src)
    for i, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        pvt, voi = Dataset(), Dataset()
        pvt.RescaleSlope, pvt.RescaleIntercept, pvt.RescaleType = f"{1 + i}", f"{-10 * i}", "US"
        voi.WindowCenter, voi.WindowWidth = f"{100 + i}", f"{200 + i}"
        item.PixelValueTransformationSequence = [pvt]
        item.FrameVOILUTSequence = [voi]
    del ds.SharedFunctionalGroupsSequence[0].PixelValueTransformationSequence
    path = tmp_path / "enhanced.dcm"
    ds.save_as(path)
    media = load(path)
    reference, _ = dicom_reference(path)
    assert compare(media.frames, reference) is None
    stored_z = [float(f.PlanePositionSequence[0].ImagePositionPatient[2]) for f in ds.PerFrameFunctionalGroupsSequence]
    order = np.argsort(stored_z, kind="stable")
    assert media.frame_windows == tuple((100.0 + i, 200.0 + i) for i in order)


# ------------------------------------------------------------- still images


def pillow_reference(path: Path) -> np.ndarray:
    """Every page through exif_transpose and the viewer's mode rules, stacked (N, H, W[, 3])."""
    out = []
    with Image.open(path) as im:
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            up = ImageOps.exif_transpose(im)
            if up.mode in ("1", "LA", "La"):
                up = up.convert("L")
            elif up.mode not in ("L", "I;16", "I;16B", "I;16L", "I", "F", "RGB"):
                up = up.convert("RGB")
            a = np.asarray(up)
            out.append(a.astype(a.dtype.newbyteorder("=")) if a.dtype.byteorder == ">" else a)
    return np.stack(out)


def _picture(h: int = 37, w: int = 53) -> np.ndarray:
    """An asymmetric RGB test picture (a transpose or flip shows)."""
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * 255 // (w - 1)), (y * 255 // (h - 1)), ((x + 2 * y) * 7) % 256], -1).astype(np.uint8)
    rgb[:5, :9] = (255, 0, 0)  # a marker in the top-left corner
    return rgb


TIFF_COMPRESSIONS = [None, "lzw", "deflate", "packbits", "zstd", "lzma", "jpeg", "webp", "jpeg2000"]
TIFF_KINDS = ["bilevel", "grey8", "grey16", "float32", "miniswhite8", "rgb8", "rgb16", "rgba8", "palette8", "cmyk8"]


def _tiff_data(kind: str) -> tuple[np.ndarray, dict]:
    rgb = _picture()
    grey = rgb[..., 0]
    if kind == "bilevel":
        return grey > 128, {"photometric": "minisblack"}
    if kind == "grey8":
        return grey, {"photometric": "minisblack"}
    if kind == "grey16":
        return grey.astype(np.uint16) * 257 + 3, {"photometric": "minisblack"}
    if kind == "float32":
        return (grey.astype(np.float32) - 100.5) / 7.0, {"photometric": "minisblack"}
    if kind == "miniswhite8":
        return grey, {"photometric": "miniswhite"}
    if kind == "rgb8":
        return rgb, {"photometric": "rgb"}
    if kind == "rgb16":
        return rgb.astype(np.uint16) * 257, {"photometric": "rgb"}
    if kind == "rgba8":
        return np.dstack([rgb, grey]), {"photometric": "rgb", "extrasamples": ["unassalpha"]}
    if kind == "palette8":
        cmap = np.zeros((3, 256), np.uint16)
        cmap[0], cmap[1], cmap[2] = (
            np.arange(256) * 256,
            (255 - np.arange(256)) * 256,
            (np.arange(256) * 37 % 256) * 256,
        )
        return grey, {"photometric": "palette", "colormap": cmap}
    if kind == "cmyk8":
        k = np.dstack([rgb, 255 - grey])
        return k, {"photometric": "separated", "inkset": 1}
    raise AssertionError(kind)


def _tiff_matrix(tmp: Path) -> list[tuple[Path, str]]:
    written = []
    for comp, kind in itertools.product(TIFF_COMPRESSIONS, TIFF_KINDS):
        data, kw = _tiff_data(kind)
        path = tmp / f"{kind}_{comp}.tif"
        try:
            tifffile.imwrite(path, data, compression=comp, **kw)
        except Exception:  # noqa: BLE001, S112 - the codec cannot hold this kind (JPEG of floats, ...): not in the corpus
            continue
        written.append((path, kind))
    for code in range(1, 9):  # the Orientation tag on grey, RGB and 16-bit
        for kind in ("grey8", "rgb8", "grey16"):
            data, kw = _tiff_data(kind)
            path = tmp / f"{kind}_orient{code}.tif"
            tifffile.imwrite(path, data, compression="lzw", extratags=[(274, "H", 1, code, True)], **kw)
            written.append((path, kind))
    # Written by Pillow/libtiff: CCITT fax bilevel (tifffile has no codec: Pillow reads it),
    # JPEG-in-TIFF as YCbCr, palette and CMYK with LZW.
    rgb = Image.fromarray(_picture())
    pillow_tiffs = {
        "bilevel_group4": (rgb.convert("1"), "group4"),
        "bilevel_group3": (rgb.convert("1"), "group3"),
        "ycbcr_jpeg": (rgb, "jpeg"),
        "palette_lzw": (rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=9), "tiff_lzw"),
        "cmyk_deflate": (rgb.convert("CMYK"), "tiff_adobe_deflate"),
        "rgba_packbits": (rgb.convert("RGBA"), "packbits"),
    }
    for name, (im, comp) in pillow_tiffs.items():
        path = tmp / f"pillow_{name}.tif"
        im.save(path, compression=comp)
        written.append((path, name))
    for comp in (None, "jpeg"):  # YCbCr samples: tifffile decodes JPEG ones, Pillow converts raw ones
        path = tmp / f"ycbcr_{comp}.tif"
        tifffile.imwrite(path, _picture(36, 52), photometric="ycbcr", compression=comp)
        written.append((path, "ycbcr"))
    pages = np.stack([_picture()[..., i] for i in range(3)])
    tifffile.imwrite(tmp / "pages3.tif", pages, photometric="minisblack")  # multi-page
    written.append((tmp / "pages3.tif", "grey8"))
    return written


def tiff_reference(path: Path) -> tuple[np.ndarray, str]:
    """Pillow when it opens the file; else tifffile's array with the photometric display transforms.

    Those transforms (named in the returned note) are TIFF 6.0's own meaning of
    the samples: PALETTE through the colour map (16-bit entries >> 8, as Pillow
    reads them), MINISWHITE inverted over the stored bits, colour deeper than
    8 bits shown at its top 8 of BitsPerSample bits.
    """
    try:
        return pillow_reference(path), "Pillow"
    except (OSError, ValueError, SyntaxError):
        pass
    with tifffile.TiffFile(path) as tf:
        page = tf.pages[0]
        arr = tf.series[0].asarray()
        bits, photometric = int(page.bitspersample), int(page.photometric)
        colormap = page.tags.valueof(320)
    arr = arr[np.newaxis] if arr.ndim == (3 if photometric in (2, 5, 6) else 2) else arr
    notes = ["tifffile"]
    if photometric == 3:
        lut = np.asarray(colormap).reshape(3, -1)
        arr = (lut >> 8 if lut.max() > 255 else lut).astype(np.uint8).T[arr]
        notes.append("through the colour map")
    elif photometric == 0:
        arr = ((1 << bits) - 1 - arr.astype(np.int64)).astype(arr.dtype)
        notes.append("MINISWHITE inverted")
    if arr.ndim == 4:
        arr = arr[..., :3]
        if arr.dtype == np.uint16:
            arr = (arr >> (bits - 8)).astype(np.uint8)
            notes.append("colour at its top 8 bits")
    return arr, ", ".join(notes)


def test_generated_tiff_matrix_equals_pillow_or_tifffile(tmp_path: Path) -> None:
    corpus = _tiff_matrix(tmp_path)
    assert len(corpus) > 80
    found, references = {}, set()
    for path, _kind in corpus:
        media = load(path)
        reference, which = tiff_reference(path)
        references.add(which)
        if path.name.startswith("float32") and media.frames.dtype.kind == "f":
            reference = reference.astype(np.float32)
        problem = compare(media.frames, reference)
        if problem:
            found[path.name] = f"{problem} (reference: {which})"
    assert {k: v for k, v in found.items() if k not in DELIBERATE} == {}
    assert {"Pillow", "tifffile"} <= {r.split(",")[0] for r in references}  # both references were exercised


def _exif(code: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = code
    return exif


def _pillow_matrix(tmp: Path) -> list[Path]:
    rgb = Image.fromarray(_picture())
    images = {
        "L": rgb.convert("L"),
        "1": rgb.convert("1"),
        "P": rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=17),
        "RGB": rgb,
        "RGBA": rgb.convert("RGBA"),
        "LA": rgb.convert("LA"),
        "I;16": Image.fromarray(np.asarray(rgb.convert("L")).astype(np.uint16) * 255),
        "CMYK": rgb.convert("CMYK"),
    }
    out = []
    for mode, im in images.items():
        path = tmp / f"png_{mode.replace(';', '')}.png"
        if mode != "CMYK":
            im.save(path)
            out.append(path)
        if mode in ("L", "RGB", "CMYK"):
            for sub in (0, 1, 2):  # 4:4:4, 4:2:2, 4:2:0
                jpg = tmp / f"jpeg_{mode}_sub{sub}.jpg"
                im.save(jpg, quality=90, subsampling=sub)
                out.append(jpg)
    for code in range(1, 9):
        for mode in ("RGB", "L"):
            jpg = tmp / f"jpeg_{mode}_exif{code}.jpg"
            images[mode].save(jpg, quality=95, exif=_exif(code))
            out.append(jpg)
        png = tmp / f"png_RGB_exif{code}.png"
        images["RGB"].save(png, exif=_exif(code))
        out.append(png)
    frames = [Image.fromarray(_picture()[..., i]).convert("P") for i in range(3)]
    frames[0].save(tmp / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    out.append(tmp / "anim.gif")
    return out


def test_generated_png_and_jpeg_matrix_equals_pillow(tmp_path: Path) -> None:
    corpus = _pillow_matrix(tmp_path)
    found = {}
    for path in corpus:
        problem = compare(load(path).frames, pillow_reference(path))
        if problem:
            found[path.name] = problem
    assert {k: v for k, v in found.items() if k not in DELIBERATE} == {}
    rotated = load(tmp_path / "jpeg_RGB_exif6.jpg")
    assert rotated.frames.shape[1:3] == (53, 37) and any("EXIF orientation 6" in d for d in rotated.decisions)


def test_nan_and_inf_in_a_float_image_are_kept_as_no_value(tmp_path: Path) -> None:
    data = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)
    data[:3] = np.nan
    data[5, 5], data[6, 6] = np.inf, -np.inf
    path = tmp_path / "nan.tif"
    tifffile.imwrite(path, data)
    media = load(path)
    assert media.nonfinite == 3 * 30 + 2
    expected = np.where(np.isfinite(data), data, np.nan)
    assert compare(media.frames, expected[np.newaxis]) is None
    center, width = media.window
    assert math.isfinite(center) and math.isfinite(width) and width > 0


# ------------------------------------------------------------------ videos


def ffmpeg_reference(path: Path) -> tuple[np.ndarray, list[float]]:
    """PyAV's decoded RGB frames, turned by FFmpeg's own filters as its player autorotates, and their times.

    The display-matrix turn is done by FFmpeg (``transpose=clock|cclock`` or
    ``hflip,vflip``, what ``ffmpeg``/``ffplay`` insert for a rotated stream),
    not by numpy, so the product's rotation is checked against an independent one.
    """
    frames, times = [], []
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        graph = sink = None
        for frame in c.decode(stream):
            rgb = frame.to_ndarray(format="rgb24")
            if graph is None:
                rot = round(frame.rotation) % 360
                graph = av.filter.Graph()
                chain = [
                    graph.add_buffer(
                        width=rgb.shape[1], height=rgb.shape[0], format="rgb24", time_base=stream.time_base
                    )
                ]
                if rot == 90:
                    chain.append(graph.add("transpose", "cclock"))
                elif rot == 270:
                    chain.append(graph.add("transpose", "clock"))
                elif rot == 180:
                    chain += [graph.add("hflip"), graph.add("vflip")]
                sink = graph.add("buffersink")
                for a, b in zip(chain, [*chain[1:], sink], strict=True):
                    a.link_to(b)
                graph.configure()
            times.append(float(frame.time))
            again = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            again.pts, again.time_base = frame.pts, stream.time_base
            graph.push(again)
            frames.append(sink.pull().to_ndarray(format="rgb24"))
    return np.stack(frames), [t - times[0] for t in times]


def _write_video(
    path: Path,
    *,
    w: int = 64,
    h: int = 48,
    n: int = 10,
    times: list[float] | None = None,
    shift_frames: int = 0,
    codec: str = "libx264",
    rate: int = 15,
) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height = w, h
        stream.pix_fmt = {"libx264": "yuv420p", "mpeg4": "yuv420p", "libx264rgb": "bgr24"}.get(codec, "yuv444p")
        if codec == "libx264":
            stream.options = {"bf": "0"}
        stream.codec_context.time_base = fractions.Fraction(1, 1000)
        packets = []
        for i in range(n):
            img = np.zeros((h, w, 3), np.uint8)
            img[..., 0] = 20 * i
            img[: h // 4, : w // 3] = 255  # top-left marker: any turn or flip shows
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = int((times[i] if times else i / rate) * 1000)
            frame.time_base = fractions.Fraction(1, 1000)
            packets += list(stream.encode(frame))
        packets += list(stream.encode())
        shift = round(shift_frames / rate / packets[0].time_base) if shift_frames else 0
        for p in packets:
            p.pts -= shift
            p.dts -= shift
            out.mux(p)


def set_display_rotation(path: Path, degrees: int) -> None:
    """Write a rotation into the MP4 track header's display matrix (ISO 14496-12 tkhd), as phones do."""
    data = bytearray(path.read_bytes())
    i = data.index(b"tkhd")
    version = data[i + 4]
    offset = i + 8 + (32 if version == 1 else 20) + 16
    c, s = round(math.cos(math.radians(degrees))), round(math.sin(math.radians(degrees)))
    data[offset : offset + 36] = struct.pack(">9i", c << 16, s << 16, 0, -s << 16, c << 16, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_rotated_video_equals_ffmpeg_autorotate(tmp_path: Path, degrees: int) -> None:
    path = tmp_path / f"rot{degrees}.mp4"
    _write_video(path)
    set_display_rotation(path, degrees)
    media = load(path)
    reference, _ = ffmpeg_reference(path)
    assert compare(media.frames, reference) is None
    assert media.frames.shape[1:3] == ((48, 64) if degrees in (0, 180) else (64, 48))
    from study.media import open_video

    with open_video(path) as clip:
        assert clip.shape == media.frames.shape[1:]
        assert np.array_equal(clip[3], media.frames[3]) and np.array_equal(clip[0], media.frames[0])


def test_trimmed_mp4_with_an_edit_list_is_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "trimmed.mp4"
    _write_video(path, shift_frames=3)
    with av.open(str(path)) as c:
        assert c.streams.video[0].frames == 10  # the sample table holds the 3 frames before the cut
    media = load(path)
    reference, times = ffmpeg_reference(path)
    assert media.n_frames == 7
    assert compare(media.frames, reference) is None
    assert media.frame_times == pytest.approx(times)
    assert any("edit list" in d for d in media.decisions)
    from study.media import open_video

    with open_video(path) as clip:
        assert len(clip) == 7 and np.array_equal(clip[6], media.frames[6])


def test_variable_frame_rate_gives_per_frame_times(tmp_path: Path) -> None:
    path = tmp_path / "vfr.mp4"
    stamps = [0.0, 0.05, 0.1, 0.3, 0.35, 0.4, 0.7, 0.75, 0.8, 0.85]
    _write_video(path, times=stamps)
    media = load(path)
    reference, times = ffmpeg_reference(path)
    assert compare(media.frames, reference) is None
    assert media.frame_times == pytest.approx(stamps, abs=1e-3)
    assert media.frame_times == pytest.approx(times)
    from study.media import open_video

    with open_video(path) as clip:
        assert clip.frame_times == pytest.approx(times)


@pytest.mark.parametrize(
    ("w", "h", "codec", "suffix"), [(33, 17, "mpeg4", ".mkv"), (35, 21, "libx264rgb", ".mp4"), (31, 9, "ffv1", ".mkv")]
)
def test_odd_sized_video_equals_ffmpeg(tmp_path: Path, w: int, h: int, codec: str, suffix: str) -> None:
    path = tmp_path / f"odd{suffix}"
    try:
        _write_video(path, w=w, h=h, codec=codec, n=5)
    except av.error.FFmpegError:
        pytest.fail(f"{codec} could not write a {w}x{h} video")
    media = load(path)
    reference, _ = ffmpeg_reference(path)
    assert media.frames.shape[1:3] == (h, w)
    assert compare(media.frames, reference) is None


# ---------------------------------------------------------------- field cases


def test_every_field_case_file_equals_its_reference_decoder() -> None:
    folder = fieldcases_dir() / "media"
    files = sorted(folder.iterdir())
    assert len(files) >= 8
    found = {}
    for path in files:
        media = load(path)
        if path.suffix == ".dcm":
            reference, _ = dicom_reference(path)
        elif path.suffix == ".mp4":
            reference, _ = ffmpeg_reference(path)
        else:
            reference, _ = tiff_reference(path)
        problem = compare(media.frames, reference)
        if problem:
            found[path.name] = problem
    assert found == {}


def test_float_pixel_data_with_nan_equals_pydicom_and_is_counted(tmp_path: Path) -> None:
    ds = pydicom.dcmread(dicom_file("MR_small.dcm"))
    values = ds.pixel_array.astype(np.float32) / 3.0
    values[:4] = np.nan
    values[10, 10] = np.inf
    del ds.PixelData
    for key in ("BitsStored", "HighBit", "PixelRepresentation", "RescaleSlope", "RescaleIntercept"):
        if key in ds:
            delattr(ds, key)
    ds.BitsAllocated = 32
    ds.FloatPixelData = values.tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = tmp_path / "float.dcm"
    ds.save_as(path, enforce_file_format=True)
    media = load(path)
    assert media.nonfinite == 4 * values.shape[1] + 1
    expected = np.where(np.isfinite(values), values, np.nan)[np.newaxis]
    assert compare(media.frames, expected) is None
    reference, _ = dicom_reference(path)
    assert compare(media.frames, np.where(np.isfinite(reference), reference, np.nan)) is None
