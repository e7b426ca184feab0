"""Region statistics of a series in 3-D: Dice over the volume, HD95 between 3-D surfaces at
anisotropic voxel spacing, volumes in mm³ and mL, checked against hand counts on boxes and
against a brute-force distance computation; the voxel spacing from real DICOM slice positions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from skimage.segmentation import find_boundaries

from study.media import load
from study.media.types import Media
from study.region import NoVolumeError, RegionRead, case_voxel_mm, frames_are_times, series_voxel_mm, volume_text
from study.stats.regions import analyze_regions, case_metrics, dice, hd95, iou, surface_distances, volume_mm3
from tests.regionstudy import MR_SPACING, write_mr_series

VOXEL = (3.0, 0.5, 0.5)  # (slice, row, column) mm: 3 mm slices of 0.5 mm pixels


def _box(shift: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """A 4 x 4 x 4 box (64 voxels) in a (10, 10, 10) volume, corner at (2, 2, 2) + shift."""
    m = np.zeros((10, 10, 10), bool)
    z, y, x = (2 + s for s in shift)
    m[z : z + 4, y : y + 4, x : x + 4] = True
    return m


def test_two_boxes_one_slice_apart_by_hand():
    a, b = _box(), _box((1, 0, 0))
    # overlap: 3 of the 4 slices, 48 voxels
    assert dice(a, b) == 2 * 48 / (64 + 64) and iou(a, b) == 48 / 80
    # Each box's surface is 56 voxels (64 minus the 2 x 2 x 2 core).  From A to B: A's bottom
    # face (16) is one slice from B's bottom face: 3 mm; the 24 ring voxels of A's middle slices
    # and the 12 of its top ring lie on B's ring: 0; the 4 inside A's top face are one pixel
    # from B's ring: 0.5 mm.  B to A mirrors it.  Pooled 112: 72 at 0, 8 at 0.5, 32 at 3 mm.
    d = np.sort(surface_distances(a, b, VOXEL))
    assert d.tolist() == [0.0] * 72 + [0.5] * 8 + [3.0] * 32
    assert hd95(a, b, VOXEL) == 3.0  # the 95th percentile (rank 105.45 of 0..111) is a 3 mm one
    # slice by slice the boxes agree wherever both are drawn: the old in-plane HD95 saw nothing
    assert hd95(a, b, VOXEL[1:]) == 0.0


def test_anisotropic_spacing_prices_a_shift_by_its_axis():
    a = _box()
    # the same one-voxel shift: across slices it costs the 3 mm slice step ...
    assert hd95(a, _box((1, 0, 0)), VOXEL) == 3.0
    # ... along a row the 0.5 mm pixel (pooled 72 at 0, 40 at 0.5: the 4 voxels inside the
    # shifted face are 0.5 mm from the other box's ring as well)
    d = np.sort(surface_distances(a, _box((0, 0, 1)), VOXEL))
    assert d.tolist() == [0.0] * 72 + [0.5] * 40
    assert hd95(a, _box((0, 0, 1)), VOXEL) == 0.5
    # isotropic 1 mm voxels: both shifts cost 1 mm
    assert hd95(a, _box((1, 0, 0)), (1.0, 1.0, 1.0)) == hd95(a, _box((0, 0, 1)), (1.0, 1.0, 1.0)) == 1.0
    # two slices apart, the classic Hausdorff distance: A's bottom face is two slices (6 mm)
    # from B's nearest surface, its nearest being B's bottom face
    assert hd95(a, _box((2, 0, 0)), VOXEL, percentile=100) == 6.0


def _brute_hd(a: np.ndarray, b: np.ndarray, voxel, q: float) -> float:
    """The definition written out: inner boundary voxels (26-connected), scaled to mm, every
    pair's distance, nearest per voxel both ways, pooled, percentile."""
    pa = np.argwhere(find_boundaries(np.pad(a, 1), connectivity=3, mode="inner")) * np.asarray(voxel)
    pb = np.argwhere(find_boundaries(np.pad(b, 1), connectivity=3, mode="inner")) * np.asarray(voxel)
    dist = cdist(pa, pb)
    return float(np.percentile(np.concatenate([dist.min(axis=1), dist.min(axis=0)]), q))


def _blob(rng, shape, centre, radii) -> np.ndarray:
    zz, yy, xx = np.mgrid[: shape[0], : shape[1], : shape[2]]
    r = ((zz - centre[0]) / radii[0]) ** 2 + ((yy - centre[1]) / radii[1]) ** 2 + ((xx - centre[2]) / radii[2]) ** 2
    return r <= 1 + rng.normal(0, 0.15, shape)


@pytest.mark.parametrize("voxel", [(1.0, 1.0, 1.0), (3.0, 0.5, 0.5), (0.8, 0.3125, 0.25)])
def test_hd95_in_3d_matches_brute_force(voxel):
    rng = np.random.default_rng(7)
    a = _blob(rng, (9, 24, 24), (4, 12, 12), (3, 8, 7))
    b = _blob(rng, (9, 24, 24), (5, 11, 13), (3, 7, 8))
    for q in (95, 100):
        assert hd95(a, b, voxel, percentile=q) == pytest.approx(_brute_hd(a, b, voxel, q), rel=1e-9)


def test_a_region_touching_the_first_slice_has_its_surface_there():
    a = np.zeros((3, 6, 6), bool)
    a[0:2, 1:5, 1:5] = True  # starts on slice 0
    b = a.copy()
    b[0] = False  # the same, one slice shorter at the edge of the series
    assert hd95(a, b, VOXEL, percentile=100) == 3.0


def test_volume_and_case_rows_of_a_series():
    truth = {"C1": _box()}
    read = RegionRead("r1", "resident", 1, "unaided", "C1", _box((1, 0, 0)), VOXEL[1:], None, 3000, 2, None)
    (row,) = case_metrics([read], truth, voxel_mm={"C1": VOXEL})
    assert volume_mm3(_box(), VOXEL) == 64 * 3.0 * 0.5 * 0.5 == 48.0
    assert row["volume_mm3"] == row["truth_volume_mm3"] == 48.0 and row["volume_error_mm3"] == 0.0
    assert row["volume_ml"] == 0.048 and row["slice_mm"] == 3.0
    assert row["dice"] == 0.75 and row["hd95"] == 3.0 and row["hd95_dims"] == "3-D"
    assert row["area"] == 64 * 0.25 and row["area_unit"] == "mm²"  # the summed slice areas stay
    # without the case's voxel spacing it is taken slice by slice, as before
    (flat,) = case_metrics([read], truth)
    assert flat["hd95"] == 0.0 and "volume_mm3" not in flat and "hd95_dims" not in flat
    # a read stored with another pixel size than its series' is refused, not mixed
    other = RegionRead("r1", "resident", 1, "unaided", "C1", _box(), (0.4, 0.4), None, 3000, 2, None)
    with pytest.raises(ValueError, match=r"case C1, reader r1 \(unaided\).*\(0\.4, 0\.4\).*\(0\.5, 0\.5\)"):
        case_metrics([other], truth, voxel_mm={"C1": VOXEL})


def test_summaries_and_detection_use_the_volume():
    voxel = (5.0, 1.0, 1.0)  # 5 mm³ voxels: a 4 x 4 x 4 box is 320 mm³, under 1 mL
    truth, labels, reads = {}, {}, []
    for i in range(6):
        t = np.zeros((8, 12, 12), bool)
        t[1 : 3 + i % 4, 2:8, 2:8] = True
        truth[f"C{i}"], labels[f"C{i}"] = t, int(i % 4 >= 2)
        drawn = np.roll(t, 1, axis=2)  # one pixel to the right: same volume
        drawn[1, 2:4, 3:5] = False  # ... less 4 voxels (20 mm³)
        reads.append(RegionRead("r1", "resident", 1, "unaided", f"C{i}", drawn, None, None, 0, 1, None))
    res = analyze_regions(reads, truth, labels, voxel_mm={c: voxel for c in truth})
    assert res["volume"] == {"key": "volume_mm3", "unit": "mm³"}
    (entry,) = res["readers"]
    assert entry["volume_unit"] == "mm³" and entry["volume_error"]["mean"] == -20.0
    assert entry["volume_bland_altman"]["bias"] == -20.0
    det = {(d["reader"], d["mode"]): d for d in res["detection"]}
    # larger lesions are the diseased ones here: the volume separates them perfectly
    assert det[("truth", "truth")]["auc"] == 1.0 and det[("r1", "unaided")]["auc"] == 1.0
    # in mL once a truth volume reaches 1 mL
    big = analyze_regions(reads, truth, voxel_mm={c: (50.0, 1.0, 1.0) for c in truth})
    assert big["volume"] == {"key": "volume_ml", "unit": "mL"}
    assert big["readers"][0]["volume_error"]["mean"] == pytest.approx(-0.2)
    # 2-D images: no volume, the summaries as before
    flat = analyze_regions(reads, truth)
    assert flat["volume"] is None and "volume_error" not in flat["readers"][0]


def test_slice_spacing_comes_from_positions_not_slice_thickness(tmp_path):
    # slices 1.5 mm apart, SliceThickness 0.8 mm (gaps between slices)
    write_mr_series(tmp_path / "gaps", n=4, offsets=(0.0, 1.5, 3.0, 4.5))
    media = load(tmp_path / "gaps")
    assert series_voxel_mm(media) == pytest.approx((1.5, *MR_SPACING))
    assert series_voxel_mm(media, 0.25) == pytest.approx((1.5, 0.25, 0.25))  # the task's pixel size wins


def test_series_without_a_usable_spacing_is_refused_naming_the_folder(tmp_path):
    write_mr_series(tmp_path / "missing", n=4, offsets=(0.0, 0.8, 2.4, 3.2))  # the third slice lost
    with pytest.raises(ValueError, match=r"missing: slices are not evenly spaced .*0\.8 to 1\.6 mm"):
        series_voxel_mm(load(tmp_path / "missing"))
    write_mr_series(tmp_path / "noplace", n=4, positions=False)
    with pytest.raises(
        ValueError,
        match=r"noplace: no slice spacing .*4 slices have no distinct positions.*ImagePositionPatient.*SliceThickness",
    ):
        series_voxel_mm(load(tmp_path / "noplace"))
    write_mr_series(tmp_path / "nopixel", n=4, spacing=False)
    with pytest.raises(ValueError, match=r"nopixel: no pixel spacing .*spacing_mm"):
        series_voxel_mm(load(tmp_path / "nopixel"))
    assert series_voxel_mm(load(tmp_path / "nopixel"), 0.3) == pytest.approx((0.8, 0.3, 0.3))


def test_frames_in_time_are_no_volume(tmp_path):
    write_mr_series(tmp_path / "mr", n=4)
    assert not frames_are_times(load(tmp_path / "mr"))
    frames = np.zeros((4, 8, 8), np.float32)
    assert frames_are_times(Media(frames, "video", fps=25.0))
    assert frames_are_times(Media(frames, "multiframe", frame_times=(0.0, 0.04, 0.08, 0.12)))  # a cine


def test_the_reading_screen_and_exports_get_a_voxel_or_the_reason_in_a_few_words(tmp_path):
    """``case_voxel_mm``: a volume only for a series of 2+ planes in space; ``NoVolumeError.why``
    is what the live label says; ``volume_text`` switches to mL at 1 mL, as the report."""
    write_mr_series(tmp_path / "mr", n=4, offsets=(0.0, 2.0, 4.0, 6.0))
    series = load(tmp_path / "mr")
    assert case_voxel_mm(series, 4) == pytest.approx((2.0, *MR_SPACING))
    assert case_voxel_mm(series, 1) is None  # one plane: an image's area
    cine = Media(np.zeros((4, 8, 8), np.float32), "multiframe", fps=30.0, slice_positions=(0.0, 1.0, 2.0, 3.0))
    assert case_voxel_mm(cine, 4) is None  # frames in time are no volume, whatever their positions
    for folder, kwargs, why in (
        ("lost", {"offsets": (0.0, 0.8, 2.4, 3.2)}, "uneven slice spacing"),
        ("noplace", {"positions": False}, "no slice positions"),
        ("nopixel", {"spacing": False}, "pixel size unknown"),
    ):
        write_mr_series(tmp_path / folder, n=4, **kwargs)
        with pytest.raises(NoVolumeError) as err:
            case_voxel_mm(load(tmp_path / folder), 4)
        assert err.value.why == why and str(tmp_path / folder) in str(err.value)
    assert volume_text(999.994) == "999.99 mm\u00b3" and volume_text(1000.0) == "1.00 mL"
    assert volume_text(1464.84375) == "1.46 mL"
