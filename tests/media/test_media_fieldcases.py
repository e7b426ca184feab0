"""Every file of ../shared/fieldcases/media/ gives the right value its README names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from study.media import load
from tests.media.conftest import fieldcases_dir


@pytest.fixture(scope="module")
def media_dir() -> Path:
    return fieldcases_dir() / "media"


def test_lzw_rgb_tiff_equals_the_uncompressed_picture(media_dir: Path) -> None:
    lzw = load(media_dir / "c01_lzw_rgb.tif")
    plain = load(media_dir / "c01_none_rgb.tif")
    assert lzw.frames.shape == (1, 240, 320, 3) and lzw.frames.dtype == np.uint8
    assert np.array_equal(lzw.frames, plain.frames)
    assert lzw.frames.std() > 10  # a real picture, not a blank frame


def test_palette_tiff_goes_through_the_colour_map(media_dir: Path) -> None:
    media = load(media_dir / "palette.tif")
    f = media.frames[0]
    assert media.is_color
    assert tuple(f[f.shape[0] // 2, f.shape[1] // 2]) == (0, 255, 0)
    with Image.open(media_dir / "palette.tif") as im:
        assert np.array_equal(f, np.asarray(im.convert("RGB")))


def test_cmyk_tiff_is_converted_as_pillow_converts(media_dir: Path) -> None:
    media = load(media_dir / "cmyk.tif")
    f = media.frames[0]
    assert tuple(f[f.shape[0] // 2, f.shape[1] // 2]) == (200, 0, 0)
    with Image.open(media_dir / "cmyk.tif") as im:
        assert im.mode == "CMYK"
        assert np.array_equal(f, np.asarray(im.convert("RGB")))


def test_bilevel_tiff_is_a_black_and_white_image(media_dir: Path) -> None:
    media = load(media_dir / "bilevel.tif")
    assert media.frames.shape == (1, 40, 60) and media.frames.dtype == np.uint8
    assert set(np.unique(media.frames).tolist()) == {0, 255}
    with Image.open(media_dir / "bilevel.tif") as im:
        assert im.mode == "1"
        assert np.array_equal(media.frames[0], np.asarray(im.convert("L")))


def test_overlay_in_unused_high_bits_is_masked(media_dir: Path) -> None:
    path = media_dir / "c02_bitsstored12_overlay_highbits.dcm"
    media = load(path)
    reference = pydicom.dcmread(path).pixel_array
    assert float(media.frames.max()) == float(reference.max()) == 3843
    assert np.array_equal(media.frames[0], reference.astype(np.float32))


def test_series_fast_path_masks_the_high_bits_too(media_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "IM0001.dcm").write_bytes((media_dir / "c02_bitsstored12_overlay_highbits.dcm").read_bytes())
    media = load(folder)
    assert float(media.frames.max()) == 3843


def test_enhanced_mr_frames_are_shown_in_anatomical_order(media_dir: Path) -> None:
    path = media_dir / "c06_enhanced_mr_frames_unsorted.dcm"
    media = load(path)
    assert media.slice_positions == (0.0, 3.0, 6.0, 9.0, 12.0, 15.0)
    ds = pydicom.dcmread(path)
    stored_z = [float(f.PlanePositionSequence[0].ImagePositionPatient[2]) for f in ds.PerFrameFunctionalGroupsSequence]
    assert stored_z == [9.0, 12.0, 15.0, 0.0, 3.0, 6.0]
    order = np.argsort(stored_z)
    assert np.array_equal(media.frames, ds.pixel_array[order].astype(np.float32))
    assert any("re-ordered" in d for d in media.decisions)


def test_phone_video_with_display_matrix_is_upright(media_dir: Path) -> None:
    media = load(media_dir / "c03_phone_portrait_rot90.mp4")
    assert media.frames.shape[1:] == (64, 48, 3)  # 64 high x 48 wide, as players show it
    assert any("display matrix" in d for d in media.decisions)
