"""Real test files for the media layer: pydicom's own, pydicom-data's, scikit-image's."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def _data_store_dir() -> Path:
    import data_store

    return Path(data_store.__file__).parent / "data"


def _skimage_dir() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent


PYDICOM_DATA = _data_store_dir()
SKIMAGE_DATA = _skimage_dir()


def dicom_file(name: str) -> Path:
    """A named file from either DICOM corpus."""
    for folder in (PYDICOM_FILES, PYDICOM_DATA):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(name)


def write_series(
    folder: Path,
    n: int = 12,
    *,
    seed: int = 0,
    template: str = "MR_small.dcm",
    step: float = 3.0,
    oblique: bool = True,
    series_uid: str | None = None,
    positions: bool = True,
    instances: str = "shuffled",
) -> list[float]:
    """Copies of a real slice along the normal, shuffled on disk and in InstanceNumber.

    Slice k (in anatomical order) has pixel values template + 10*k so the order
    can be read back from the pixels.  Returns the expected positions along
    the normal, ascending.
    """
    folder.mkdir(parents=True, exist_ok=True)
    base = pydicom.dcmread(dicom_file(template))
    pixels = base.pixel_array.astype(np.int32)
    rng = random.Random(seed)
    if oblique:  # a tilted plane: sorting on z alone would be wrong
        row = np.array([1.0, 0.0, 0.0])
        col = np.array([0.0, np.cos(0.4), np.sin(0.4)])
    else:
        row, col = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    normal = np.cross(row, col)
    origin = np.array([-12.5, 30.0, 7.25])
    ranks = list(range(n))
    rng.shuffle(ranks)  # file k holds anatomical slice ranks[k]
    numbers = list(range(1, n + 1))
    rng.shuffle(numbers)  # instance numbers unrelated to position
    by_rank = {"ascending": lambda r: r + 1, "descending": lambda r: n - r, "offset": lambda r: 1001 + r}
    uid = series_uid or generate_uid()
    for k, rank in enumerate(ranks):
        ds = base.copy()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SeriesInstanceUID = uid
        ds.ImageOrientationPatient = [*map(float, row), *map(float, col)]
        if positions:
            ds.ImagePositionPatient = [float(v) for v in origin + normal * step * rank]
        else:
            if "ImagePositionPatient" in ds:
                del ds.ImagePositionPatient
            ds.InstanceNumber = rank + 1
        if positions:
            ds.InstanceNumber = numbers[k] if instances == "shuffled" else by_rank[instances](rank)
        ds.PixelData = (pixels + 10 * rank).astype(base.pixel_array.dtype).tobytes()
        ds.save_as(folder / f"IM{k:04d}", enforce_file_format=True)  # no suffix, like scanner exports
    start = float(normal @ origin)
    return [start + step * r for r in range(n)]


@pytest.fixture
def series_dir(tmp_path: Path) -> tuple[Path, list[float]]:
    folder = tmp_path / "T2axi"
    return folder, write_series(folder)


def fieldcases_dir() -> Path:
    """``../shared/fieldcases`` beside the clone (CI and /work/main have it there).

    A worktree elsewhere may point ``READERSTUDY_FIELDCASES`` at it.  Missing is
    a failure, never a skip: these files are the acceptance cases of issue 12.
    """
    import os

    override = os.environ.get("READERSTUDY_FIELDCASES")
    root = Path(override) if override else Path(__file__).resolve().parents[2] / ".." / "shared" / "fieldcases"
    if not (root / "README.md").is_file():
        pytest.fail(f"field cases not found at {root} (expected ../shared/fieldcases beside the clone)")
    return root


from tests.wsi_slides import wsi_slides  # noqa: E402, F401 - a session fixture shared with other folders
