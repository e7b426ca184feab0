"""Single and multi-frame DICOM: shapes, rescale, photometric handling, codecs, privacy."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.pixels import apply_color_lut
from pydicom.uid import UID

from study.media import MediaError, detect_kind, load
from tests.media.conftest import dicom_file


def test_mr_small_is_one_64x64_float_slice_in_modality_units() -> None:
    media = load(dicom_file("MR_small.dcm"))
    ds = pydicom.dcmread(dicom_file("MR_small.dcm"))
    assert media.kind == "dicom"
    assert media.frames.shape == (1, 64, 64) and media.frames.dtype == np.float32
    assert np.array_equal(media.frames[0], ds.pixel_array.astype(np.float32))
    assert media.spacing == (0.3125, 0.3125)
    assert media.window == (600.0, 1600.0)  # WindowCenter/Width from the file
    assert media.frame_of_reference == str(ds.FrameOfReferenceUID)
    assert media.fps is None and media.slice_positions is None


def test_ct_rescale_slope_and_intercept_are_applied() -> None:
    ds = pydicom.dcmread(dicom_file("CT_small.dcm"))
    assert float(ds.RescaleIntercept) == -1024.0
    media = load(dicom_file("CT_small.dcm"))
    expected = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert np.allclose(media.frames[0], expected)
    assert media.frames.min() < 0  # Hounsfield units, air is negative


def test_emri_small_is_a_ten_frame_multiframe() -> None:
    media = load(dicom_file("emri_small.dcm"))
    assert media.kind == "multiframe"
    assert media.frames.shape == (10, 64, 64) and media.frames.dtype == np.float32
    assert media.n_frames == 10


@pytest.mark.parametrize(
    ("compressed", "reference"),
    [
        ("MR_small_RLE.dcm", "MR_small.dcm"),
        ("MR_small_jp2klossless.dcm", "MR_small.dcm"),
        ("MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm"),
        ("MR_small_bigendian.dcm", "MR_small.dcm"),
        ("MR_small_implicit.dcm", "MR_small.dcm"),
        ("emri_small_RLE.dcm", "emri_small.dcm"),
        ("emri_small_jpeg_2k_lossless.dcm", "emri_small.dcm"),
        ("emri_small_jpeg_ls_lossless.dcm", "emri_small.dcm"),
        ("emri_small_big_endian.dcm", "emri_small.dcm"),
        ("693_J2KR.dcm", "693_UNCR.dcm"),
        ("MR2_J2KR.dcm", "MR2_UNCR.dcm"),
        ("RG3_J2KR.dcm", "RG3_UNCR.dcm"),
        ("US1_J2KR.dcm", "US1_UNCR.dcm"),
        ("SC_rgb_rle.dcm", "SC_rgb.dcm"),
        ("SC_rgb_rle_16bit.dcm", "SC_rgb_16bit.dcm"),
        ("SC_rgb_rle_2frame.dcm", "SC_rgb_2frame.dcm"),
        ("SC_rgb_expb_32bit_2frame.dcm", "SC_rgb_32bit_2frame.dcm"),
        ("OBXXXX1A_rle_2frame.dcm", "OBXXXX1A_2frame.dcm"),
        ("liver_expb.dcm", "liver.dcm"),
    ],
)
def test_lossless_encodings_decode_equal_to_their_uncompressed_twin(compressed: str, reference: str) -> None:
    a, b = load(dicom_file(compressed)), load(dicom_file(reference))
    assert a.frames.shape == b.frames.shape
    assert a.frames.dtype == b.frames.dtype
    assert np.array_equal(a.frames, b.frames)


@pytest.mark.parametrize(("lossy", "reference"), [("MR2_J2KI.dcm", "MR2_UNCR.dcm"), ("US1_J2KI.dcm", "US1_UNCR.dcm")])
def test_lossy_jpeg2000_is_close_to_its_original(lossy: str, reference: str) -> None:
    a, b = load(dicom_file(lossy)), load(dicom_file(reference))
    assert a.frames.shape == b.frames.shape
    diff = np.abs(a.frames.astype(np.float64) - b.frames.astype(np.float64))
    assert diff.mean() < 0.02 * float(b.frames.max())


def test_monochrome1_is_inverted_and_its_window_mirrored() -> None:
    path = dicom_file("RG1_UNCR.dcm")
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    stored = ds.pixel_array.astype(np.float64)
    media = load(path)
    top = 2.0**ds.BitsStored - 1  # no rescale in this file: pivot is the stored range
    assert np.array_equal(media.frames[0], (top - stored).astype(np.float32))
    # brightest stored value (dark on film) is now the darkest
    assert media.frames[0].flat[int(np.argmax(stored))] == media.frames.min()
    assert media.window == (top - float(ds.WindowCenter), float(ds.WindowWidth))


def test_monochrome2_keeps_its_polarity_with_a_fractional_rescale() -> None:
    ds = pydicom.dcmread(dicom_file("MR2_UNCR.dcm"))
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
    assert slope != 1.0
    expected = ds.pixel_array.astype(np.float64) * slope + intercept
    assert np.allclose(load(dicom_file("MR2_UNCR.dcm")).frames[0], expected, rtol=1e-6, atol=1e-4)


def test_ybr_ultrasound_cine_becomes_rgb_frames_at_its_frame_rate() -> None:
    path = dicom_file("examples_ybr_color.dcm")
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    media = load(path)
    assert media.kind == "multiframe"
    assert media.frames.shape == (30, 240, 320, 3) and media.frames.dtype == np.uint8
    assert media.fps == pytest.approx(1000.0 / float(ds.FrameTime))
    assert media.window is None


def test_uncompressed_ybr_full_matches_the_rgb_original() -> None:
    ybr = load(dicom_file("SC_ybr_full_uncompressed.dcm")).frames.astype(int)
    rgb = load(dicom_file("SC_rgb.dcm")).frames.astype(int)
    assert ybr.shape == rgb.shape == (1, 100, 100, 3)
    diff = np.abs(ybr - rgb)
    assert diff.max() <= 8 and diff.mean() < 1.0  # YCbCr round-trip rounding only


@pytest.mark.parametrize("name", ["OBXXXX1A.dcm", "examples_palette.dcm", "gdcm-US-ALOKA-16.dcm"])
def test_palette_colour_is_looked_up_into_8_bit_rgb(name: str) -> None:
    path = dicom_file(name)
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "PALETTE COLOR"
    media = load(path)
    expected = apply_color_lut(ds.pixel_array, ds)
    if expected.dtype != np.uint8:
        expected = (expected >> 8).astype(np.uint8)
    assert media.frames.shape == (1, *expected.shape)
    assert media.frames.dtype == np.uint8
    assert np.array_equal(media.frames[0], expected)
    assert len(np.unique(media.frames.reshape(-1, 3), axis=0)) > 8  # real colours, not grey


def test_deep_rgb_is_scaled_down_to_8_bit() -> None:
    eight = load(dicom_file("SC_rgb.dcm")).frames.astype(int)
    for name in ("SC_rgb_16bit.dcm", "SC_rgb_32bit.dcm"):
        deep = load(dicom_file(name)).frames
        assert deep.dtype == np.uint8
        assert np.abs(deep.astype(int) - eight).max() <= 1


def test_enhanced_ct_gives_per_frame_positions_and_slice_spacing() -> None:
    media = load(dicom_file("eCT_Supplemental.dcm"))
    assert media.frames.shape == (2, 512, 512)
    assert media.slice_positions is not None and len(media.slice_positions) == 2
    assert media.slice_spacing == pytest.approx(abs(media.slice_positions[1] - media.slice_positions[0]))


def test_file_without_transfer_syntax_in_meta_is_read_from_its_encoding() -> None:
    media = load(dicom_file("OT-PAL-8-face.dcm"))
    assert media.frames.shape == (1, 480, 640, 3)


def test_identifying_tags_never_leave_the_media_layer() -> None:
    for name in ("CT_small.dcm", "RG1_UNCR.dcm", "US1_UNCR.dcm"):
        ds = pydicom.dcmread(dicom_file(name))
        secrets = [
            str(ds.get(k))
            for k in ("PatientName", "PatientID", "PatientBirthDate", "InstitutionName", "AccessionNumber")
        ]
        secrets = [s for s in secrets if s and s != "None" and len(s) > 2]
        assert secrets, name
        media = load(dicom_file(name))
        text = " ".join(
            str(getattr(media, f.name)) for f in dataclasses.fields(media) if f.name not in ("frames", "source")
        )
        for s in secrets:
            assert s not in text
        assert not any(isinstance(getattr(media, f.name), pydicom.Dataset) for f in dataclasses.fields(media))


def _rewrite(tmp_path: Path, name: str, edit) -> Path:  # type: ignore[no-untyped-def]
    ds = pydicom.dcmread(dicom_file("MR_small.dcm"))
    edit(ds)
    out = tmp_path / name
    ds.save_as(out, enforce_file_format=False)
    return out


def test_unsupported_transfer_syntax_is_named(tmp_path: Path) -> None:
    def to_mpeg2(ds: pydicom.Dataset) -> None:
        ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.100")  # MPEG2 video in DICOM
        ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + bytes(64)])

    path = _rewrite(tmp_path, "mpeg2.dcm", to_mpeg2)
    with pytest.raises(MediaError, match="unsupported transfer syntax"):
        load(path)


def test_pixel_data_removed_is_no_pixel_data(tmp_path: Path) -> None:
    path = _rewrite(tmp_path, "nopix.dcm", lambda ds: delattr(ds, "PixelData"))
    with pytest.raises(MediaError, match="no pixel data"):
        load(path)


def test_truncated_copy_of_a_real_file_fails_cleanly(tmp_path: Path) -> None:
    data = dicom_file("CT_small.dcm").read_bytes()
    for cut in (len(data) - 1000, len(data) // 2, 400, 140):
        path = tmp_path / f"cut{cut}.dcm"
        path.write_bytes(data[:cut])
        with pytest.raises(MediaError) as info:
            load(path)
        assert info.value.path == str(path)
        assert "\n" not in info.value.cause


def test_absurd_header_size_is_refused_before_decoding(tmp_path: Path) -> None:
    def huge(ds: pydicom.Dataset) -> None:
        ds.Rows = ds.Columns = 65535
        ds.NumberOfFrames = 9999

    path = _rewrite(tmp_path, "huge.dcm", huge)
    with pytest.raises(MediaError, match="limit"):
        load(path)


def test_garbage_with_dicom_suffix_fails_cleanly(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    path = tmp_path / "noise.dcm"
    path.write_bytes(rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    assert detect_kind(path) == "dicom"
    with pytest.raises(MediaError):
        load(path)


def corrupt_rle(tmp_path: Path) -> Path:
    """emri_small_RLE.dcm with 64 bytes of one RLE segment zeroed: the Rust decoder panics."""
    data = bytearray(dicom_file("emri_small_RLE.dcm").read_bytes())
    data[28843 : 28843 + 64] = bytes(64)
    path = tmp_path / "corrupt_rle.dcm"
    path.write_bytes(bytes(data))
    return path


def test_decoder_panic_becomes_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot decode RLE Lossless"):
        load(corrupt_rle(tmp_path))


def test_ultrasound_spacing_comes_from_the_calibrated_region() -> None:
    path = dicom_file("examples_ybr_color.dcm")
    region = pydicom.dcmread(path).SequenceOfUltrasoundRegions[0]
    assert region.PhysicalUnitsXDirection == 3  # cm
    media = load(path)
    assert media.spacing == pytest.approx((float(region.PhysicalDeltaY) * 10, float(region.PhysicalDeltaX) * 10))


@pytest.mark.parametrize("name", ["MR-SIEMENS-DICOM-WithOverlays.dcm", "bad_sequence.dcm"])
def test_first_of_several_window_presets_is_the_default(name: str) -> None:
    ds = pydicom.dcmread(dicom_file(name))
    assert len(ds.WindowCenter) == 2
    assert load(dicom_file(name)).window == (float(ds.WindowCenter[0]), float(ds.WindowWidth[0]))


def test_without_window_tags_the_percentiles_set_the_window() -> None:
    path = dicom_file("CT_small.dcm")
    assert "WindowCenter" not in pydicom.dcmread(path)
    media = load(path)
    lo, hi = np.percentile(media.frames, [1, 99])
    center, width = media.window
    assert center == pytest.approx((lo + hi) / 2, rel=0.02, abs=2)
    assert width == pytest.approx(hi - lo, rel=0.02)
