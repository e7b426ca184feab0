"""Synthetic whole-slide images for the media, viewer and inference tests (written once per session)."""

from __future__ import annotations

import pytest

from study.demo.wsi import SlideSpecimen, write_slide

TEST_SIZE = (2048, 1536)  # level 0; levels 1024, 512 follow
SEED = 5


@pytest.fixture(scope="session")
def wsi_slides(tmp_path_factory) -> dict[str, SlideSpecimen]:
    """{"subifds": generic pyramidal TIFF, "svs": Aperio layout}, 2048 x 1536 at 0.5 um/px."""
    folder = tmp_path_factory.mktemp("wsi")
    return {
        "subifds": write_slide(folder / "S1.tif", SEED, size=TEST_SIZE, layout="subifds", n_regions=2),
        "svs": write_slide(folder / "S2.svs", SEED + 1, size=TEST_SIZE, layout="svs", n_regions=2),
    }
