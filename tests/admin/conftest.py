"""Fixtures of the admin tests: real PNG case folders (scikit-image's data) and truth tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import skimage

DATA = Path(skimage.__file__).parent / "data"
PNGS = ("camera.png", "coins.png", "moon.png", "page.png", "text.png", "horse.png", "cell.png", "phantom.png")


@pytest.fixture
def photo_folder(tmp_path) -> tuple[Path, Path]:
    """(media_dir, truth_csv): eight one-image cases C001..C008, alternating truth."""
    media = tmp_path / "media"
    media.mkdir()
    lines = ["case_id,truth,patient_id"]
    for i, name in enumerate(PNGS, start=1):
        shutil.copy(DATA / name, media / f"C{i:03d}.png")
        lines.append(f"C{i:03d},{i % 2},P{(i + 1) // 2}")
    truth = tmp_path / "truth.csv"
    truth.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return media, truth


@pytest.fixture
def two_role_folder(tmp_path) -> tuple[Path, Path]:
    """(media_dir, truth_csv): four cases, each a folder with T2.png and DWI.png; 3-class truth."""
    media = tmp_path / "mri"
    lines = ["case_id,truth"]
    for i in range(4):
        case = media / f"M{i + 1}"
        case.mkdir(parents=True)
        shutil.copy(DATA / PNGS[i], case / "T2.png")
        shutil.copy(DATA / PNGS[i + 4], case / "DWI.png")
        lines.append(f"M{i + 1},{('normal', 'CIN1', 'CIN2+')[i % 3]}")
    truth = tmp_path / "truth3.csv"
    truth.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return media, truth
