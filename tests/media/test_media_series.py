"""DICOM series folders built from real slices: sorting, geometry, and refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from study.media import MediaError, detect_kind, load
from tests.media.conftest import dicom_file, write_series


def _ranks(frames: np.ndarray) -> list[int]:
    """Which anatomical slice each frame is: slice k was written as template + 10*k."""
    base = pydicom.dcmread(dicom_file("MR_small.dcm")).pixel_array.astype(np.float32)
    return [int(round(float(np.mean(f - base)) / 10)) for f in frames]


def test_shuffled_oblique_series_is_sorted_along_the_slice_normal(series_dir: tuple[Path, list[float]]) -> None:
    folder, expected_positions = series_dir
    assert detect_kind(folder) == "series"
    media = load(folder)
    assert media.kind == "series"
    assert media.frames.shape == (12, 64, 64) and media.frames.dtype == np.float32
    assert _ranks(media.frames) == list(range(12))
    assert media.slice_positions == pytest.approx(expected_positions)
    assert media.slice_spacing == pytest.approx(3.0)
    assert media.spacing == (0.3125, 0.3125)
    ds = pydicom.dcmread(dicom_file("MR_small.dcm"))
    assert media.frame_of_reference == str(ds.FrameOfReferenceUID)
    assert media.window == (600.0, 1600.0)
    assert media.frames.flags.c_contiguous and not media.frames.flags.writeable


def test_each_slice_matches_plain_pydicom(series_dir: tuple[Path, list[float]]) -> None:
    folder, _ = series_dir
    media = load(folder)
    slices = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    normal = np.cross(
        np.array(slices[0].ImageOrientationPatient[:3], float), np.array(slices[0].ImageOrientationPatient[3:], float)
    )
    slices.sort(key=lambda ds: float(normal @ np.array(ds.ImagePositionPatient, float)))
    expected = np.stack([ds.pixel_array.astype(np.float32) for ds in slices])
    assert np.array_equal(media.frames, expected)


def test_without_positions_instance_number_orders_the_slices(tmp_path: Path) -> None:
    folder = tmp_path / "noipp"
    write_series(folder, 7, seed=5, positions=False)
    media = load(folder)
    assert _ranks(media.frames) == list(range(7))
    assert media.slice_positions is None


def test_non_dicom_files_in_the_folder_are_skipped(series_dir: tuple[Path, list[float]]) -> None:
    folder, _ = series_dir
    (folder / "README.txt").write_text("exported by the PACS\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    shutil.copy(dicom_file("test-SR.dcm"), folder / "report.dcm")  # a DICOM object without an image
    media = load(folder)
    assert media.n_frames == 12
    assert _ranks(media.frames) == list(range(12))


def test_two_series_in_one_folder_is_refused_with_their_sizes(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    write_series(folder, 5, seed=1)
    write_series(tmp_path / "other", 3, seed=2)
    for p in (tmp_path / "other").iterdir():
        shutil.copy(p, folder / f"X{p.name}")
    with pytest.raises(MediaError) as info:
        load(folder)
    assert "2 DICOM series (5, 3 images)" in info.value.cause
    assert "own folder" in info.value.cause


def test_truncated_slice_is_named(series_dir: tuple[Path, list[float]]) -> None:
    folder, _ = series_dir
    victim = sorted(folder.iterdir())[4]
    victim.write_bytes(victim.read_bytes()[:-500])
    with pytest.raises(MediaError) as info:
        load(folder)
    assert info.value.path == str(folder)
    assert info.value.cause.startswith(f"{victim.name}: truncated")


def test_slice_of_another_size_is_refused(series_dir: tuple[Path, list[float]]) -> None:
    folder, _ = series_dir
    path = sorted(folder.iterdir())[2]
    ds = pydicom.dcmread(path)
    ds.Rows, ds.Columns = 32, 128
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(MediaError, match="slice size differs"):
        load(folder)


def test_folder_with_one_multiframe_file_gives_its_frames(tmp_path: Path) -> None:
    folder = tmp_path / "cine"
    folder.mkdir()
    shutil.copy(dicom_file("emri_small.dcm"), folder / "emri.dcm")
    media = load(folder)
    assert media.kind == "multiframe" and media.frames.shape == (10, 64, 64)


def test_folder_of_colour_slices(tmp_path: Path) -> None:
    folder = tmp_path / "rgb"
    folder.mkdir()
    for k in range(3):
        ds = pydicom.dcmread(dicom_file("US1_UNCR.dcm"))
        ds.InstanceNumber = 3 - k
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        ds.save_as(folder / f"{k}.dcm", enforce_file_format=True)
    media = load(folder)
    assert media.frames.shape == (3, 480, 640, 3) and media.frames.dtype == np.uint8
    assert media.window is None


def test_empty_and_non_dicom_folders_fail(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MediaError, match="no DICOM images"):
        load(empty)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("x")
    with pytest.raises(MediaError, match="no DICOM images"):
        load(notes)


def test_reloading_after_the_first_volume_is_dropped_reuses_memory_safely(series_dir: tuple[Path, list[float]]) -> None:
    folder, _ = series_dir
    first = load(folder).frames.copy()
    kept = load(folder)
    again = load(folder)  # must not share memory with the live ``kept``
    assert not np.shares_memory(kept.frames, again.frames)
    assert np.array_equal(kept.frames, first) and np.array_equal(again.frames, first)


def test_per_slice_rescale_is_applied_to_each_slice(tmp_path: Path) -> None:
    """PET and some CT series carry a different slope on every slice."""
    folder = tmp_path / "pet"
    write_series(folder, 5, seed=9, oblique=False)
    for path in folder.iterdir():
        ds = pydicom.dcmread(path)
        ds.RescaleSlope = 0.5 + 0.25 * int(ds.InstanceNumber)
        ds.RescaleIntercept = -3
        ds.save_as(path, enforce_file_format=True)
    media = load(folder)
    slices = sorted((pydicom.dcmread(p) for p in folder.iterdir()), key=lambda ds: float(ds.ImagePositionPatient[2]))
    for frame, ds in zip(media.frames, slices, strict=True):
        expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        assert np.allclose(frame, expected)


def test_copied_file_is_read_once(series_dir: tuple[Path, list[float]]) -> None:
    folder, _ = series_dir
    first = sorted(folder.iterdir())[0]
    shutil.copy(first, folder / "ZZ copy of first")
    media = load(folder)
    assert media.n_frames == 12 and _ranks(media.frames) == list(range(12))


def test_two_images_at_one_position_are_refused(series_dir: tuple[Path, list[float]]) -> None:
    folder, _ = series_dir
    ds = pydicom.dcmread(sorted(folder.iterdir())[0])
    ds.SOPInstanceUID = pydicom.uid.generate_uid()  # a second echo at the same place
    ds.EchoTime = 90
    ds.save_as(folder / "echo2", enforce_file_format=True)
    with pytest.raises(MediaError, match="2 images share slice positions"):
        load(folder)


def test_localizer_of_another_orientation_is_refused(series_dir: tuple[Path, list[float]]) -> None:
    folder, _ = series_dir
    ds = pydicom.dcmread(sorted(folder.iterdir())[0])
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]  # sagittal
    ds.save_as(folder / "loc", enforce_file_format=True)
    with pytest.raises(MediaError, match="orientation differs"):
        load(folder)


@pytest.mark.parametrize("instances", ["ascending", "descending", "offset"])
def test_any_instance_numbering_gives_the_anatomical_order(tmp_path: Path, instances: str) -> None:
    folder = tmp_path / instances
    expected = write_series(folder, 9, seed=4, instances=instances)
    shutil.copy(dicom_file("test-SR.dcm"), folder / "IM0004.sr")  # a non-image slot in the middle
    media = load(folder)
    assert _ranks(media.frames) == list(range(9))
    assert media.slice_positions == pytest.approx(expected)


def test_images_all_at_one_position_are_a_cine_in_instance_order(tmp_path: Path) -> None:
    folder = tmp_path / "cine"
    write_series(folder, 6, seed=2, step=0.0, instances="descending")
    media = load(folder)
    assert media.slice_positions is None
    # descending instance numbers: InstanceNumber 1 is anatomical rank 5
    assert _ranks(media.frames) == [5, 4, 3, 2, 1, 0]
