"""Seeded corruption of real files: every result is a Media or a one-line MediaError."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from study.media import Media, MediaError, load
from tests.media.conftest import SKIMAGE_DATA, dicom_file

SOURCES = [
    dicom_file("MR_small.dcm"),
    dicom_file("emri_small_RLE.dcm"),
    dicom_file("MR_small_jp2klossless.dcm"),
    dicom_file("SC_rgb_jpeg_dcmtk.dcm"),
    dicom_file("OBXXXX1A.dcm"),
    SKIMAGE_DATA / "camera.png",
    SKIMAGE_DATA / "multipage_rgb.tif",
]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    mode = rng.choice(["flip", "zero", "cut", "insert"])
    if mode == "flip":
        for _ in range(rng.randint(1, 12)):
            i = rng.randrange(min(len(buf), 2000)) if rng.random() < 0.6 else rng.randrange(len(buf))
            buf[i] = rng.randrange(256)
    elif mode == "zero":
        i = rng.randrange(len(buf))
        buf[i : i + 64] = bytes(len(buf[i : i + 64]))
    elif mode == "cut":
        del buf[rng.randrange(1, len(buf)) :]
    else:
        i = rng.randrange(len(buf))
        buf[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(buf)


@pytest.mark.parametrize("seed", range(6))
def test_corrupted_copies_load_or_fail_cleanly(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    outcomes = {"loaded": 0, "refused": 0}
    for k in range(25):
        src = rng.choice(SOURCES)
        path = tmp_path / f"m{k}{src.suffix}"
        path.write_bytes(_mutate(src.read_bytes(), rng))
        try:
            media = load(path)
        except MediaError as err:
            assert err.path == str(path)
            assert err.cause and "\n" not in err.cause
            outcomes["refused"] += 1
        else:
            assert isinstance(media, Media)
            assert media.frames.ndim in (3, 4) and min(media.frames.shape[:3]) >= 1
            if media.frames.dtype == np.float32:
                assert media.window is not None
            outcomes["loaded"] += 1
    assert sum(outcomes.values()) == 25
