"""Whole-slide images: the synthetic pyramids read back with tiffslide, and study.media.wsi over them."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import tiffslide

from study.media import detect_kind, load
from study.media.types import MediaError
from study.media.wsi import Slide, is_slide, open_slide
from tests.wsi_slides import TEST_SIZE


@pytest.mark.parametrize("layout", ["subifds", "svs"])
def test_demo_slide_is_a_tiled_jpeg_pyramid_that_tiffslide_reads(wsi_slides, layout):
    spec = wsi_slides[layout]
    with tiffslide.TiffSlide(spec.path) as ts:
        assert ts.dimensions == TEST_SIZE
        assert ts.level_dimensions == ((2048, 1536), (1024, 768), (512, 384))
        assert ts.level_downsamples == (1.0, 2.0, 4.0)
        assert float(ts.properties["tiffslide.mpp-x"]) == pytest.approx(0.5)
        assert ts.properties["tiffslide.vendor"] == ("aperio" if layout == "svs" else None)  # generic: no vendor
        assert ts.properties["tiffslide.level[1].tile-width"] == 256
    with tifffile.TiffFile(spec.path) as tf:
        page = tf.series[0].levels[0].pages[0]
        assert page.is_tiled and page.compression == tifffile.COMPRESSION.JPEG


@pytest.mark.parametrize("layout", ["subifds", "svs"])
def test_read_region_equals_tiffslide_and_pads_white_outside(wsi_slides, layout):
    path = wsi_slides[layout].path
    with open_slide(path) as slide, tiffslide.TiffSlide(path) as ts:
        assert slide.info.level_dimensions == ts.level_dimensions
        assert slide.info.mpp == (0.5, 0.5)
        for loc, level, size in [((300, 200), 0, (256, 200)), ((1000, 600), 1, (300, 100)), ((0, 0), 2, (512, 384))]:
            got = slide.read_region(loc, level, size)
            want = ts.read_region(loc, level, size, as_array=True)
            assert got.shape == (size[1], size[0], 3) and got.dtype == np.uint8
            np.testing.assert_array_equal(got, want)
        edge = slide.read_region((1900, 1400), 0, (300, 300))  # 148 x 136 inside, the rest off the slide
        np.testing.assert_array_equal(edge[:136, :148], ts.read_region((1900, 1400), 0, (148, 136), as_array=True))
        assert (edge[136:] == 255).all() and (edge[:, 148:] == 255).all()


def test_truth_regions_hold_the_dark_crowded_nuclei(wsi_slides):
    spec = wsi_slides["subifds"]
    with open_slide(spec.path) as slide:
        inside = [slide.read_region((r.x, r.y), 0, (r.width, r.height)) for r in spec.regions]
        dark_in = np.mean([(img.mean(axis=2) < 90).mean() for img in inside])
        whole = slide.read_region((0, 0), 0, spec.size)
    dark_all = (whole.mean(axis=2) < 90).mean()
    assert dark_in > 0.1, dark_in
    assert dark_in > 10 * dark_all


@pytest.mark.parametrize("layout", ["subifds", "svs"])
def test_slides_are_detected_as_wsi_and_load_as_their_thumbnail(wsi_slides, layout):
    path = wsi_slides[layout].path
    assert detect_kind(path) == "wsi"
    media = load(path)
    assert media.kind == "wsi" and media.source == str(path)
    assert media.frames.shape == (1, 768, 1024, 3)  # level 1: the largest that fits 1024
    assert media.spacing == pytest.approx((0.001, 0.001))  # 0.5 um x 2 in mm
    assert "whole-slide image" in media.decisions[0]
    with tiffslide.TiffSlide(path) as ts:
        np.testing.assert_array_equal(media.frames[0], ts.read_region((0, 0), 1, (1024, 768), as_array=True))


def test_plain_and_single_level_tiled_tiffs_stay_images(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "photo.tif", rgb, photometric="rgb")
    tifffile.imwrite(tmp_path / "tiled.tif", rgb[:256, :256], photometric="rgb", tile=(128, 128))
    for name in ("photo.tif", "tiled.tif"):
        assert not is_slide(tmp_path / name)
        assert detect_kind(tmp_path / name) == "image"
        assert load(tmp_path / name).kind == "image"


def test_bad_slides_give_errors_naming_file_and_cause(wsi_slides, tmp_path):
    with pytest.raises(MediaError, match="missing file"):
        open_slide(tmp_path / "nope.svs")
    png = tmp_path / "x.png"
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(png)
    with pytest.raises(MediaError, match=r"x\.png: cannot open as a whole-slide image"):
        open_slide(png)
    with open_slide(wsi_slides["svs"].path) as slide:
        with pytest.raises(MediaError, match=r"S2\.svs: level 3 out of range \(the slide has 3 levels\)"):
            slide.read_region((0, 0), 3, (10, 10))
        with pytest.raises(MediaError, match="size must be positive"):
            slide.read_region((0, 0), 0, (0, 10))
    # Truncated: the header survives, the tiles do not.
    data = wsi_slides["subifds"].path.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaError) as info:
        s = open_slide(cut)
        try:
            s.read_region((0, 0), 0, TEST_SIZE)
        finally:
            s.close()
    assert str(info.value).startswith(str(cut))


def test_slide_reads_from_several_threads_agree(wsi_slides):
    from concurrent.futures import ThreadPoolExecutor

    with open_slide(wsi_slides["subifds"].path) as slide:
        assert isinstance(slide, Slide)
        jobs = [((x * 256, y * 256), 0, (256, 256)) for x in range(6) for y in range(5)]
        serial = [slide.read_region(*j) for j in jobs]
        with ThreadPoolExecutor(4) as pool:
            parallel = list(pool.map(lambda j: slide.read_region(*j), jobs))
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)
