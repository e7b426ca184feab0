"""2-D photos and micrographs through Pillow and tifffile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from study.media import MediaError, detect_kind, load
from tests.media.conftest import SKIMAGE_DATA


def test_retina_photo_is_rgb_uint8() -> None:
    media = load(SKIMAGE_DATA / "retina.jpg")
    assert media.kind == "image"
    assert media.frames.shape == (1, 1411, 1411, 3) and media.frames.dtype == np.uint8
    assert media.window is None and media.fps is None


def test_immunohistochemistry_png_matches_pillow() -> None:
    path = SKIMAGE_DATA / "ihc.png"
    media = load(path)
    with Image.open(path) as im:
        expected = np.asarray(im.convert("RGB"))
    assert np.array_equal(media.frames[0], expected)


def test_grey_png_keeps_uint8_with_full_range_window() -> None:
    media = load(SKIMAGE_DATA / "camera.png")
    assert media.frames.shape == (1, 512, 512) and media.frames.dtype == np.uint8
    assert media.window == (127.5, 255.0)


def test_multipage_tiff_pages_are_frames() -> None:
    grey = load(SKIMAGE_DATA / "multipage.tif")
    rgb = load(SKIMAGE_DATA / "multipage_rgb.tif")
    assert grey.frames.shape == (2, 15, 10)
    assert rgb.frames.shape == (2, 10, 10, 3) and rgb.frames.dtype == np.uint8


def test_16_bit_grey_tiff_and_png_keep_their_values(tmp_path: Path) -> None:
    with Image.open(SKIMAGE_DATA / "camera.png") as im:
        camera = np.asarray(im).astype(np.uint16) * 257
    tif = tmp_path / "camera16.tif"
    tifffile.imwrite(tif, camera)
    png = tmp_path / "camera16.png"
    Image.fromarray(camera).save(png)
    for path in (tif, png):
        media = load(path)
        assert media.frames.dtype == np.uint16
        assert np.array_equal(media.frames[0], camera)
        center, width = media.window  # percentile window of the 16-bit range
        assert 0 < width <= 65535 and 0 < center < 65535


def test_16_bit_rgb_tiff_is_scaled_to_uint8(tmp_path: Path) -> None:
    with Image.open(SKIMAGE_DATA / "astronaut.png") as im:
        rgb8 = np.asarray(im.convert("RGB"))
    path = tmp_path / "astro16.tif"
    tifffile.imwrite(path, rgb8.astype(np.uint16) * 257, photometric="rgb")
    media = load(path)
    assert media.frames.dtype == np.uint8
    assert np.array_equal(media.frames[0], rgb8)


def test_rgba_and_palette_pngs_become_rgb(tmp_path: Path) -> None:
    with Image.open(SKIMAGE_DATA / "chelsea.png") as im:
        rgb = im.convert("RGB")
        rgb.convert("RGBA").save(tmp_path / "rgba.png")
        rgb.convert("P").save(tmp_path / "pal.png")
    for name in ("rgba.png", "pal.png"):
        media = load(tmp_path / name)
        assert media.frames.shape == (1, 300, 451, 3) and media.frames.dtype == np.uint8


def test_phone_photo_is_turned_upright_from_exif(tmp_path: Path) -> None:
    with Image.open(SKIMAGE_DATA / "rocket.jpg") as im:
        exif = im.getexif()
        exif[0x0112] = 6  # Orientation: rotate 90 CW to display
        im.save(tmp_path / "phone.jpg", exif=exif)
    media = load(tmp_path / "phone.jpg")
    assert media.frames.shape == (1, 640, 427, 3)  # stored 427 x 640, shown rotated


@pytest.mark.parametrize("name", ["retina.jpg", "coins.png"])
def test_truncated_image_fails_cleanly(tmp_path: Path, name: str) -> None:
    data = (SKIMAGE_DATA / name).read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 3])
    assert detect_kind(path) == "image"
    with pytest.raises(MediaError) as info:
        load(path)
    assert "truncated" in info.value.cause or "corrupt" in info.value.cause


def test_unknown_missing_empty_and_folderless_paths(tmp_path: Path) -> None:
    npy = SKIMAGE_DATA / "lfw_subset.npy"
    with pytest.raises(MediaError, match="unknown format"):
        load(npy)
    with pytest.raises(MediaError, match="missing file"):
        load(tmp_path / "nope.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(MediaError, match="empty file"):
        load(tmp_path / "empty.png")


def test_png_header_with_garbage_body_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    with pytest.raises(MediaError):
        load(path)


def test_tiff_header_claiming_millions_of_rows_is_refused_without_decoding(tmp_path: Path) -> None:
    """A one-byte flip in ImageLength once made tifffile grind through ~1M phantom strips."""
    data = bytearray((SKIMAGE_DATA / "multipage_rgb.tif").read_bytes())
    data[44] = 49  # ImageLength 10 -> 3,211,274
    path = tmp_path / "tall.tif"
    path.write_bytes(bytes(data))
    with pytest.raises(MediaError, match="far more than a 5278-byte file can hold"):
        load(path)
