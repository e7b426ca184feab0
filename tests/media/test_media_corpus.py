"""Every file of the real DICOM corpora either loads sanely or fails with a clear MediaError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from study.media import MediaError, load
from tests.media.conftest import PYDICOM_DATA, PYDICOM_FILES, SKIMAGE_DATA

# Files that are not images (plans, reports, waveforms, non-DICOM helpers) or
# are broken on purpose, with a word the message must contain.
EXPECTED_FAILURES = {
    "ExplVR_BigEndNoMeta.dcm": "no pixel data",
    "ExplVR_LitEndNoMeta.dcm": "no pixel data",
    "JPEG-lossy.dcm": "cannot decode",  # corrupt JPEG stream (decodes only with GDCM's leniency)
    "JPEG2000-embedded-sequence-delimiter.dcm": "cannot decode",
    "MR_truncated.dcm": "truncated",
    "README.txt": "unknown format",
    "badVR.dcm": "invalid NumberOfFrames",  # '1A' over 15 frames of pixel data: pydicom refuses too
    "UN_sequence.dcm": "no pixel data",
    "crayons.icc": "unknown format",
    "dicomdirtests": "no DICOM images",
    "empty_charset_LEI.dcm": "no pixel data",
    "meta_missing_tsyntax.dcm": "no image size",
    "nested_priv_SQ.dcm": "no image size",
    "no_meta.dcm": "no pixel data",
    "no_meta_group_length.dcm": "no pixel data",
    "priv_SQ.dcm": "no pixel data",
    "reportsi.dcm": "no pixel data",
    "reportsi_with_empty_number_tags.dcm": "no pixel data",
    "rtplan.dcm": "no pixel data",
    "rtplan.dump": "unknown format",
    "rtplan_truncated.dcm": "no pixel data",
    "rtstruct.dcm": "no pixel data",
    "rtstruct.dump": "unknown format",
    "test-SR.dcm": "no pixel data",
    "test1.json": "unknown format",
    "test_PN.json": "unknown format",
    "waveform_ecg.dcm": "no pixel data",
    "zipMR.gz": "unknown format",
    "emri_small_jpeg_2k_lossless_too_short.dcm": "truncated",
}


def _corpus() -> list[Path]:
    items = sorted(PYDICOM_FILES.iterdir()) + sorted(p for p in PYDICOM_DATA.iterdir() if p.suffix == ".dcm")
    return [p for p in items if not p.name.startswith(("_", "."))]


CORPUS = _corpus()


def test_corpus_is_the_real_one() -> None:
    names = {p.name for p in CORPUS}
    assert len(CORPUS) > 140
    assert {"MR_small.dcm", "emri_small.dcm", "RG1_UNCR.dcm", "color3d_jpeg_baseline.dcm"} <= names
    assert set(EXPECTED_FAILURES) <= names


def _assert_sane(path: Path) -> None:
    media = load(path)
    f = media.frames
    assert media.kind in {"dicom", "multiframe", "series"}
    assert f.shape[0] == media.n_frames >= 1
    assert f.shape[1] >= 1 and f.shape[2] >= 1
    if media.is_color:
        assert f.shape[3] == 3 and f.dtype == np.uint8
        assert media.window is None
    else:
        assert f.ndim == 3 and f.dtype == np.float32
        assert np.isfinite(f).all()
        assert media.window is not None and media.window[1] > 0
    assert media.kind == ("multiframe" if media.n_frames > 1 else "dicom")
    assert all(s > 0 for s in media.spacing)
    assert not f.flags.writeable  # shared through the cache: nobody may scribble on it


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_file_loads_or_fails_clearly(path: Path) -> None:
    expected = EXPECTED_FAILURES.get(path.name)
    if expected is None:
        _assert_sane(path)
        return
    with pytest.raises(MediaError) as info:
        load(path)
    err = info.value
    assert err.path == str(path)
    assert str(err) == f"{path}: {err.cause}"
    assert expected in err.cause
    assert "\n" not in err.cause and len(err.cause) <= 300
    assert "Traceback" not in err.cause


SKIMAGE_IMAGES = sorted(p for p in SKIMAGE_DATA.iterdir() if p.suffix.lower() in {".png", ".jpg", ".tif", ".gif"})


@pytest.mark.parametrize("path", SKIMAGE_IMAGES, ids=[p.name for p in SKIMAGE_IMAGES])
def test_every_skimage_picture_loads(path: Path) -> None:
    media = load(path)
    assert media.kind == "image"
    assert media.frames.ndim in (3, 4) and media.frames.shape[0] >= 1
    if media.is_color:
        assert media.frames.dtype == np.uint8 and media.window is None
    else:
        assert media.window is not None
