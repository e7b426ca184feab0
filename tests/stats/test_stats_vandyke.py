"""OR-Hillis MRMC against published results on the Van Dyke data.

Reference: Smith & Hillis, MRMCaov for R (JSS manuscript, docs/jss/MRMCaov.tex,
printed R output): empirical AUC with DeLong covariances; empirical AUC with
jackknife covariances, fixed readers (which prints the jackknife Var, Cov1-3);
fixed cases; binary sensitivity at rating >= 3 with jackknife.  Values are
printed to 7 significant digits, so the tolerance is rel 1e-6 (abs 1e-9 near 0).
"""

import pytest

from study.stats.mrmc import mrmc

TOL = {"rel": 2e-6, "abs": 1e-9}

READER_AUCS = {  # MRMCaov "Single reader 95% CIs", empirical_auc
    "trt0": [0.9196457, 0.8587762, 0.9038647, 0.9731079, 0.8297907],
    "trt1": [0.9478261, 0.9053140, 0.9217391, 0.9993559, 0.9299517],
}


def test_reader_aucs_and_means(vandyke):
    res = mrmc(vandyke, "auc")
    for mod, aucs in READER_AUCS.items():
        assert list(res["per_reader"][mod].values()) == pytest.approx(aucs, abs=5e-8)
    assert res["estimates"]["trt0"] == pytest.approx(0.8970370, **TOL)
    assert res["estimates"]["trt1"] == pytest.approx(0.9408374, **TOL)
    assert res["difference"] == pytest.approx(-0.04380032, **TOL)
    assert res["variance_components"]["ms_t"] == pytest.approx(0.004796171, **TOL)
    assert res["variance_components"]["ms_tr"] == pytest.approx(0.0005510306, **TOL)


def test_delong_rrrc(vandyke):
    res = mrmc(vandyke, "auc", cov="delong")
    vc = res["variance_components"]
    assert vc["error"] == pytest.approx(0.0007921325, **TOL)
    assert vc["cov1"] == pytest.approx(0.0003420090, **TOL)
    assert vc["cov2"] == pytest.approx(0.0003395265, **TOL)
    assert vc["cov3"] == pytest.approx(0.0002358497, **TOL)
    assert vc["reader"] == pytest.approx(0.0015364254, **TOL)
    assert vc["treatment_reader"] == pytest.approx(0.0002045840, **TOL)
    assert res["f"] == pytest.approx(4.484854, **TOL)
    assert (res["df1"], res["df2"]) == (1, pytest.approx(15.06611, **TOL))
    assert res["p"] == pytest.approx(0.05123303, **TOL)
    assert res["se"] == pytest.approx(0.0206825, **TOL)
    assert res["ci95"] == pytest.approx([-0.0878671960, 0.0002665519], **TOL)
    one = res["single_modality"]["trt0"]
    assert (one["se"], one["df"]) == (pytest.approx(0.03307642, **TOL), pytest.approx(12.59597, **TOL))
    assert one["ci95"] == pytest.approx([0.8253461, 0.9687280], **TOL)
    two = res["single_modality"]["trt1"]
    assert two["ci95"] == pytest.approx([0.8942155, 0.9874592], **TOL)


def test_jackknife_rrrc_and_fixed_readers(vandyke):
    res = mrmc(vandyke, "auc", cov="jackknife")
    vc = res["variance_components"]
    assert vc["error"] == pytest.approx(0.0008022883, **TOL)
    assert vc["cov1"] == pytest.approx(0.0003466137, **TOL)
    assert vc["cov2"] == pytest.approx(0.0003440748, **TOL)
    assert vc["cov3"] == pytest.approx(0.0002390284, **TOL)
    assert vc["reader"] == pytest.approx(0.0015349993, **TOL)
    assert vc["treatment_reader"] == pytest.approx(0.0002004025, **TOL)
    # RRRC with these published components: F = MS(T) / (MS(T:R) + r(Cov2 - Cov3)),
    # Hillis ddf; the widely quoted OR-DBM result is F = 4.46, ddf = 15.3, p = 0.052.
    den = 0.0005510306 + 5 * (0.0003440748 - 0.0002390284)
    assert res["f"] == pytest.approx(0.004796171 / den, rel=1e-6)
    assert res["df2"] == pytest.approx(den**2 / (0.0005510306**2 / 4), rel=1e-6)
    assert (round(res["f"], 2), round(res["df2"], 1), round(res["p"], 3)) == (4.46, 15.3, 0.052)
    fr = res["fixed_readers"]
    assert fr["chi2"] == pytest.approx(5.475953, **TOL)
    assert fr["p"] == pytest.approx(0.01927984, **TOL)
    assert fr["pairwise"][0]["se"] == pytest.approx(0.01871748, **TOL)
    assert fr["pairwise"][0]["ci95"] == pytest.approx([-0.08048591, -0.00711473], **TOL)
    assert fr["single_modality"]["trt0"]["se"] == pytest.approx(0.02428971, **TOL)
    assert fr["single_modality"]["trt1"]["ci95"] == pytest.approx([0.9079564, 0.9737183], **TOL)
    per_reader = [(r["difference"], r["se"], r["p"]) for r in fr["per_reader"]]
    expected = [
        (-0.02818035, 0.02551213, 0.26933885),
        (-0.04653784, 0.02630183, 0.07683102),
        (-0.01787440, 0.03120965, 0.56683414),
        (-0.02624799, 0.01729129, 0.12901715),
        (-0.10016103, 0.04405746, 0.02300099),
    ]
    for got, want in zip(per_reader, expected):
        assert got == pytest.approx(want, rel=1e-6)
    se = fr["single_reader_se"]
    assert se["trt0"]["1"] == pytest.approx(0.0301255164, rel=1e-6)
    assert se["trt1"]["4"] == pytest.approx(0.0007213348, rel=1e-6)


def test_fixed_cases(vandyke):
    fc = mrmc(vandyke, "auc")["fixed_cases"]
    assert fc["f"] == pytest.approx(8.704, rel=1e-6)
    assert (fc["df1"], fc["df2"]) == (1, 4)
    assert fc["p"] == pytest.approx(0.04195875, **TOL)
    assert fc["pairwise"][0]["se"] == pytest.approx(0.01484629, **TOL)
    assert fc["single_modality"]["trt0"]["ci95"] == pytest.approx([0.8280981, 0.9659760], **TOL)


def test_sensitivity_as_figure_of_merit(vandyke):
    """MRMCaov: binary_sens(truth, rating >= 3), jackknife covariances."""
    res = mrmc(vandyke, "sensitivity")
    assert res["estimates"] == {"trt0": pytest.approx(0.8222222, **TOL), "trt1": pytest.approx(0.92, **TOL)}
    vc = res["variance_components"]
    assert vc["error"] == pytest.approx(0.0023681257, **TOL)
    assert vc["cov1"] == pytest.approx(0.0009943883, **TOL)
    assert vc["cov2"] == pytest.approx(0.0010145903, **TOL)
    assert vc["cov3"] == pytest.approx(0.0006604938, **TOL)
    assert vc["reader"] == pytest.approx(0.0049747475, **TOL)
    assert vc["treatment_reader"] == pytest.approx(0.0007828283, **TOL)
    assert res["f"] == pytest.approx(6.689493, **TOL)
    assert res["df2"] == pytest.approx(15.71732, **TOL)
    assert res["p"] == pytest.approx(0.02008822, **TOL)
    assert res["ci95"] == pytest.approx([-0.1780371, -0.0175185], **TOL)
    one, two = res["single_modality"]["trt0"], res["single_modality"]["trt1"]
    assert (one["se"], one["df"]) == (pytest.approx(0.05893747, **TOL), pytest.approx(14.456811, **TOL))
    assert one["ci95"] == pytest.approx([0.6961876, 0.9482568], **TOL)
    assert two["df"] == pytest.approx(7.575855, **TOL)
    assert two["ci95"] == pytest.approx([0.8328691, 1.0], **TOL)  # clipped at 1 as printed


def test_sample_size_reproduces_rjafroc_vignette(vandyke):
    """RJafroc sample-size vignette (Van Dyke pilot, observed effect, RRRC, 80% power):
    10 readers need 163 cases; J = 6, K = 251 is the design it quotes for 80% power."""
    from study.stats.sample_size import cases_for_power, power

    res = mrmc(vandyke, "auc")
    vc, d = res["variance_components"], abs(res["difference"])
    assert cases_for_power(d, 10, vc, 114)["cases"] == 163
    assert power(d, 6, 251, vc, 114)["power"] == pytest.approx(0.80, abs=0.01)
    assert power(d, 6, 120, vc, 114)["power"] < power(d, 6, 251, vc, 114)["power"]
