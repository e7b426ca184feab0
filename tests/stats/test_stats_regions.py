"""Region statistics against scipy / scikit-image on known masks, and the study-level summaries."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import cdist, directed_hausdorff
from skimage.measure import perimeter as sk_perimeter

from study.region import RegionRead
from study.stats.auc import auc
from study.stats.regions import (
    aided_change,
    analyze_regions,
    area_mm2,
    as_mask,
    case_metrics,
    circularity,
    dice,
    hd95,
    inter_reader_dice,
    iou,
    mean_sd_ci,
    reader_summary,
    surface_distances,
)


def _disc(shape, cy, cx, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.hypot(yy - cy, xx - cx) < r


def _boundary_points(mask, spacing=(1.0, 1.0)):
    from skimage.segmentation import find_boundaries

    pts = np.argwhere(find_boundaries(mask, connectivity=2, mode="inner"))
    return pts * np.asarray(spacing)


def test_dice_and_iou_match_scipy_on_known_masks():
    a = np.zeros((20, 20), bool)
    b = np.zeros((20, 20), bool)
    a[2:12, 2:12] = True  # 100 px
    b[7:17, 7:17] = True  # 100 px, overlap 25
    assert dice(a, b) == pytest.approx(2 * 25 / 200)
    assert iou(a, b) == pytest.approx(25 / 175)
    # scipy's dice *dissimilarity* and jaccard *distance* on the flattened masks
    from scipy.spatial.distance import dice as sp_dice
    from scipy.spatial.distance import jaccard as sp_jaccard

    assert dice(a, b) == pytest.approx(1 - sp_dice(a.ravel(), b.ravel()))
    assert iou(a, b) == pytest.approx(1 - sp_jaccard(a.ravel(), b.ravel()))


def test_empty_masks_are_defined():
    e = np.zeros((8, 8), bool)
    f = e.copy()
    f[2:4, 2:4] = True
    assert dice(e, e) == 1.0 and iou(e, e) == 1.0 and hd95(e, e) == 0.0
    assert dice(e, f) == 0.0 and iou(e, f) == 0.0 and np.isnan(hd95(e, f))


def test_hausdorff_matches_scipy_directed_hausdorff():
    a = _disc((120, 140), 60, 60, 30)
    b = _disc((120, 140), 64, 75, 22)
    pa, pb = _boundary_points(a, (0.5, 0.25)), _boundary_points(b, (0.5, 0.25))
    classic = max(directed_hausdorff(pa, pb)[0], directed_hausdorff(pb, pa)[0])
    assert hd95(a, b, (0.5, 0.25), percentile=100) == pytest.approx(classic, rel=1e-9)


def test_hd95_matches_brute_force_percentile_of_pooled_surface_distances():
    rng = np.random.default_rng(4)
    a = _disc((90, 90), 45, 45, 20) | (rng.random((90, 90)) < 0.002)
    b = _disc((90, 90), 48, 40, 18)
    pa, pb = _boundary_points(a), _boundary_points(b)
    d = cdist(pa, pb)
    pooled = np.concatenate([d.min(1), d.min(0)])
    assert np.sort(surface_distances(a, b)) == pytest.approx(np.sort(pooled))
    assert hd95(a, b) == pytest.approx(np.percentile(pooled, 95))
    # shifting a disc by k pixels moves every boundary point by at most k
    s = np.roll(b, 3, axis=1)
    assert hd95(b, s) <= 3.0 + 1e-9 and hd95(b, s) >= 2.0


def test_area_and_circularity():
    disc = _disc((300, 300), 150, 150, 80)
    assert area_mm2(disc, (0.01, 0.02)) == pytest.approx(disc.sum() * 0.0002)
    assert area_mm2(disc, None) == disc.sum()
    assert circularity(disc) == pytest.approx(1.0, abs=0.03)
    # scikit-image's perimeter estimate gives the same order of circularity
    square = np.zeros((300, 300), bool)
    square[50:250, 50:250] = True
    sk = 4 * np.pi * square.sum() / sk_perimeter(square) ** 2
    assert circularity(square) == pytest.approx(sk, rel=0.25) and circularity(square) < circularity(disc)


def test_as_mask_resizes_ai_probabilities():
    small = np.zeros((1, 10, 10), np.float16)
    small[0, 3:7, 3:7] = 0.9
    m = as_mask(small, (40, 40))
    assert m.shape == (40, 40) and m.dtype == bool and 200 < m.sum() < 330


def test_mean_sd_ci_is_the_t_interval():
    x = [0.8, 0.9, 0.85, 0.95]
    s = mean_sd_ci(x)
    lo, hi = stats.t.interval(0.95, 3, loc=np.mean(x), scale=stats.sem(x))
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((lo, hi))


def _read(reader, mode, case, mask, group="g", likelihood=None):
    return RegionRead(
        reader, group, 1 if mode == "unaided" else 2, mode, case, mask, (0.1, 0.1), None, 0, 0, likelihood
    )


@pytest.fixture
def study():
    rng = np.random.default_rng(2)
    truth, labels, reads, ai = {}, {}, [], {}
    for i in range(16):
        label = i % 2
        r = 10 + 5 * label + rng.normal(0, 2.5)
        case = f"C{i:02d}"
        truth[case], labels[case] = _disc((64, 64), 32, 32, r), label
        ai[case] = _disc((64, 64), 32, 33, r + rng.normal(0, 0.7)).astype(np.float32)
        for reader, noise in (("r1", 2.0), ("r2", 3.0)):
            reads.append(
                _read(reader, "unaided", case, _disc((64, 64), 32 + rng.normal(0, noise), 32, r + rng.normal(0, noise)))
            )
            reads.append(_read(reader, "aided", case, _disc((64, 64), 32, 33, r + rng.normal(0, 0.5))))
    return truth, labels, reads, ai


def test_analyze_regions_summaries(study):
    truth, labels, reads, ai = study
    res = analyze_regions(reads, truth, labels, ai, spacing_mm=(0.1, 0.1))
    assert len(res["cases"]) == len(reads) + len(ai)
    by = {(s["reader"], s["mode"]): s for s in res["readers"]}
    assert set(by) == {("r1", "unaided"), ("r1", "aided"), ("r2", "unaided"), ("r2", "aided"), ("AI", "AI")}
    # aided reads start from the AI's contour: closer to the truth than unaided ones
    assert by[("r2", "aided")]["dice"]["mean"] > by[("r2", "unaided")]["dice"]["mean"]
    ba = by[("r1", "unaided")]["bland_altman"]
    rows = [r for r in res["cases"] if (r["reader"], r["mode"]) == ("r1", "unaided")]
    assert ba["bias"] == pytest.approx(np.mean([r["area"] - r["truth_area"] for r in rows]))
    change = {c["reader"]: c for c in res["aided_change"]}
    assert change["r2"]["n_pairs"] == 16 and change["r2"]["mean_change"] > 0
    d = [
        r_a["dice"] - r_u["dice"]
        for r_u, r_a in zip(
            [r for r in res["cases"] if (r["reader"], r["mode"]) == ("r2", "unaided")],
            [r for r in res["cases"] if (r["reader"], r["mode"]) == ("r2", "aided")],
        )
    ]
    assert change["r2"]["wilcoxon_p"] == pytest.approx(stats.wilcoxon(d).pvalue)
    det = {(d["reader"], d["mode"]): d for d in res["detection"]}
    ai_rows = [r for r in res["cases"] if r["reader"] == "AI"]
    expected = auc(np.array([labels[r["case_id"]] for r in ai_rows]), np.array([r["area"] for r in ai_rows]))
    assert det[("AI", "AI")]["auc"] == pytest.approx(expected) and det[("AI", "AI")]["auc"] > 0.8
    assert 0 <= det[("r1", "unaided")]["vs_ai"]["p"] <= 1
    assert det[("truth", "truth")]["auc"] > 0.8


def test_inter_reader_dice_and_paired_change_on_identical_reads():
    m = _disc((32, 32), 16, 16, 8)
    reads = [_read(r, mode, "C1", m) for r in ("a", "b", "c") for mode in ("unaided", "aided")]
    inter = inter_reader_dice(reads)
    assert inter["aided"]["pairs"] == {"a|b": 1.0, "a|c": 1.0, "b|c": 1.0}
    rows = analyze_regions(reads, {"C1": m})["cases"]
    (a, *_) = aided_change(rows)
    assert a["mean_change"] == 0.0 and np.isnan(a["wilcoxon_p"])  # no nonzero difference: no test


def test_missing_truth_names_the_case():
    with pytest.raises(KeyError, match="C9"):
        analyze_regions([_read("a", "aided", "C9", np.zeros((4, 4), bool))], {})


def test_bounded_mean_ci_stays_within_0_1_and_is_seeded():
    x = [0.0, 0.05, 0.95]  # a t-interval here is [-0.99, 1.66]
    s = mean_sd_ci(x, bounded=True)
    assert 0.0 <= s["ci_low"] < s["mean"] < s["ci_high"] <= 1.0
    assert s["ci_method"].startswith("percentile bootstrap") and str(s["ci_seed"]) in s["ci_method"]
    assert mean_sd_ci(x, bounded=True) == s  # the same seed, the same interval
    assert mean_sd_ci(x, bounded=True, seed=1)["ci_seed"] == 1


def test_no_interval_below_three_values():
    s = mean_sd_ci([0.036, 0.588], bounded=True)  # the Dice that printed [-3.178, 3.803]
    assert s["mean"] == pytest.approx(0.312) and s["ci_method"] == "n too small"
    assert np.isnan(s["ci_low"]) and np.isnan(s["ci_high"])
    assert mean_sd_ci([3.0, 5.0])["ci_method"] == "n too small"


def test_reader_summary_gives_dice_and_iou_a_bounded_interval():
    truth = np.zeros((20, 20), bool)
    truth[5:15, 5:15] = True
    rows = []
    for k in range(4):  # drawings from the truth itself to a tiny corner of it
        mask = np.zeros_like(truth)
        mask[5 : 15 - 3 * k, 5 : 15 - 3 * k] = True
        rows.extend(case_metrics([_read("r1", "unaided", f"c{k}", mask)], {f"c{k}": truth}))
    (entry,) = reader_summary(rows)
    for key in ("dice", "iou"):
        assert 0.0 <= entry[key]["ci_low"] <= entry[key]["ci_high"] <= 1.0
        assert entry[key]["ci_method"].startswith("percentile bootstrap")
    assert entry["hd95"]["ci_low"] >= 0 and entry["hd95"]["ci_method"].startswith("percentile bootstrap")
    assert entry["area_error"]["ci_method"] == "t"
