"""The reweighting library: the ratio map, the boosted reweighter, the two-sample test, closure numbers."""

import json

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.metrics import compare_histograms, comparison_edges, effective_sample_size
from neyman.reweighting import BoostedReweighter, RatioWeights, fit_ratio_weights, two_sample_auc


def _gaussians(n, shift, seed=0):
    gen = np.random.default_rng(seed)
    return gen.normal(size=(n, 2)), gen.normal(size=(n, 2)) + np.array([shift, 0.0])


def test_effective_sample_size_is_kish():
    assert effective_sample_size(np.ones(50)) == pytest.approx(50)
    assert effective_sample_size([1.0, 3.0]) == pytest.approx(16 / 10)
    assert effective_sample_size([0.0, 0.0]) == 0.0


def test_histogram_chi2_is_one_for_one_distribution_and_large_for_two():
    gen = np.random.default_rng(1)
    a, b, c = gen.normal(size=20_000), gen.normal(size=20_000), gen.normal(0.2, 1.0, size=20_000)
    cmp = compare_histograms([("a", a, None), ("b", b, None), ("c", c, None)], comparison_edges(a, b, c))
    assert cmp.densities.sum(axis=1) == pytest.approx(np.ones(3))
    chi2, ndf = cmp.chi2("a", "b")
    assert 0.5 < chi2 / ndf < 1.8
    chi2, ndf = cmp.chi2("a", "c")
    assert chi2 / ndf > 10


def test_ratio_weights_of_the_true_classifier_are_the_true_ratio():
    """With f = p_T/(p_S + p_T) exactly, calibration keeps a = 1, b = 0 and w = p_T/p_S."""
    xs, xt = _gaussians(40_000, 0.5)
    x = np.concatenate([xs[:, 0], xt[:, 0]])
    log_ratio = 0.5 * x - 0.125  # ln N(x; 0.5, 1) / N(x; 0, 1)
    f = 1.0 / (1.0 + np.exp(-log_ratio))
    y = np.r_[np.zeros(len(xs)), np.ones(len(xt))]
    ratio, clip = fit_ratio_weights(f, y, clip_quantile=None)
    assert ratio.slope == pytest.approx(1.0, abs=0.03)
    w = ratio(f[: len(xs)])
    np.testing.assert_allclose(np.log(w), log_ratio[: len(xs)], atol=0.05)
    assert np.mean(w) == pytest.approx(1.0) and clip.n_clipped == 0


def test_clipping_is_reported_and_the_weights_keep_mean_one():
    f = np.random.default_rng(2).uniform(0.01, 0.99, 10_000)
    y = np.r_[np.zeros(5_000), np.ones(5_000)]
    ratio, clip = fit_ratio_weights(f, y, calibrate=False, clip_quantile=0.99)
    w = ratio(f[:5000])
    assert clip.n_clipped == 50 and 0 < clip.weight_fraction < 0.2
    assert w.max() == pytest.approx(ratio.max_weight) and np.mean(w) == pytest.approx(1.0)
    again = RatioWeights.from_json(json.loads(json.dumps(ratio.to_json())), where="x")
    np.testing.assert_allclose(again(f), ratio(f))
    with pytest.raises(DataError, match="damaged"):
        RatioWeights.from_json({"slope": "nan", "offset": 0, "max_weight": None}, where="x")


def test_ratio_weights_refuse_a_sample_without_weight():
    with pytest.raises(DataError, match="positive total event weight"):
        fit_ratio_weights([0.4, 0.6], [0, 1], [0.0, 1.0])


def test_boosted_reweighter_learns_a_gaussian_ratio_and_round_trips_through_json():
    xs, xt = _gaussians(30_000, 0.5)
    model = BoostedReweighter(seed=3).fit(xs, xt)
    test_s, _ = _gaussians(10_000, 0.5, seed=9)
    lw = model.log_weights(test_s)
    true = 0.5 * test_s[:, 0] - 0.125
    assert np.corrcoef(lw, true)[0, 1] > 0.95
    # the feature the ratio does not depend on is left alone
    assert abs(np.corrcoef(lw, test_s[:, 1])[0, 1]) < 0.1
    loaded = BoostedReweighter.from_json(json.loads(json.dumps(model.to_json())), where="model.json")
    np.testing.assert_array_equal(loaded.log_weights(test_s), lw)
    with pytest.raises(DataError, match="not a valid boosted reweighter"):
        BoostedReweighter.from_json({"kind": "boosted-reweighter", "settings": {}, "trees": [{}]}, where="m")
    with pytest.raises(DataError, match="fitted on 2 features"):
        model.log_weights(np.zeros((3, 5)))


def test_boosted_reweighter_of_identical_samples_is_one():
    xs, xt = _gaussians(20_000, 0.0, seed=4)
    w = BoostedReweighter().fit(xs, xt).predict_weights(xs)
    assert np.std(w) < 0.1 and np.mean(w) == pytest.approx(1.0, abs=0.05)


def test_two_sample_auc_tells_shifted_samples_apart_and_not_identical_ones():
    xs, xt = _gaussians(20_000, 0.0, seed=5)
    assert abs(two_sample_auc(xs, xt) - 0.5) < 0.02
    xs, xt = _gaussians(20_000, 0.5, seed=5)
    before = two_sample_auc(xs, xt)
    assert before > 0.6
    true = np.exp(0.5 * xs[:, 0] - 0.125)
    assert abs(two_sample_auc(xs, xt, true) - 0.5) < 0.02


def test_positive_weights_of_the_true_mean_keep_every_expectation():
    from neyman.reweighting import PositiveWeights, fit_positive_weights
    from neyman.testing import signed_weight_dataset

    t = signed_weight_dataset(100_000, seed=3)
    w, truth = np.asarray(t["weight"]), np.asarray(t["true_mean_weight"])
    assert 0.2 < np.mean(w < 0) < 0.3  # the sample is as negative as the benchmark needs
    mapping, report = fit_positive_weights(truth, w)
    new = mapping(truth)
    assert np.all(new > 0) and report.n_floored == 0
    assert np.sum(new) == pytest.approx(np.sum(w), rel=1e-12)
    assert report.n_negative_before == int(np.sum(w < 0))
    # E_q[w O(x)] = E_q[E[w|x] O(x)]: every feature's mean with the two sets of weights agrees
    # within the signed sample's statistical error
    for name in ("x00", "x01", "x02", "x04"):
        x = np.asarray(t[name])
        signed, positive = np.average(x, weights=w), np.average(x, weights=new)
        err = np.sqrt(np.sum((w * (x - signed)) ** 2)) / np.sum(w)
        assert abs(positive - signed) < 4 * err
    # the positive weights carry more information: a larger effective sample
    assert effective_sample_size(new) > 2.5 * effective_sample_size(w)
    again = PositiveWeights.from_json(json.loads(json.dumps(mapping.to_json())), where="x")
    np.testing.assert_array_equal(again(truth), new)


def test_positive_weights_floor_a_negative_regression_and_refuse_a_negative_total():
    from neyman.reweighting import PositiveWeights, fit_positive_weights

    g = np.array([1.0, -0.5, 2.0, 0.0])
    mapping, report = fit_positive_weights(g, np.array([1.0, -1.0, 3.0, 1.0]), floor_fraction=0.1)
    new = mapping(g)
    assert np.all(new > 0) and report.n_floored == 2
    assert np.sum(new) == pytest.approx(4.0)
    with pytest.raises(DataError, match="sum to -2"):
        fit_positive_weights(g, np.array([-1.0, -1.0, 0.0, 0.0]))
    with pytest.raises(DataError, match="damaged"):
        PositiveWeights.from_json({"scale": -1.0, "floor": 0.0}, where="x")


def _gaussian_log_ratios(grid, *samples):
    """ln w(x, θ) = θ x - θ²/2 of p(x|θ) = N(θ, 1) against θ_0 = 0, ``(n_grid, n_events)`` per sample."""
    return [grid[:, None] * x[None, :] - grid[:, None] ** 2 / 2 for x in samples]


def test_parameter_fit_with_the_exact_ratio_has_pulls_of_unit_width():
    """p(x|θ) = N(θ, 1): ln w(x, θ) = θ x - θ²/2 against θ_0 = 0; the fit's pulls are N(0, 1)."""
    from neyman.reweighting import fit_parameter_scan

    gen = np.random.default_rng(5)
    grid = np.linspace(-0.3, 0.5, 41)
    pulls = []
    for _ in range(200):
        data, reference = gen.normal(0.1, 1.0, size=2000), gen.normal(size=20_000)
        fit = fit_parameter_scan(grid, *_gaussian_log_ratios(grid, data, reference))
        assert not fit.at_edge
        assert fit.uncertainty == pytest.approx(1 / np.sqrt(2000), rel=0.1)  # the Cramér-Rao bound
        pulls.append((fit.estimate - 0.1) / fit.uncertainty)
    # the reference's own fluctuation adds 2000/20000 of the variance: width sqrt(1.1) = 1.05
    assert abs(np.mean(pulls)) < 0.25 and 0.9 < np.std(pulls) < 1.2


@pytest.mark.slow  # 11 s of the default run (2 workers: 589 s, near the 10-minute limit); --run-slow
def test_parameter_fit_of_weighted_data_has_the_weighted_samples_uncertainty():
    """Weights in other units change nothing; Exp(1) weights give the error of N_eff events, and pulls of width 1."""
    from neyman.reweighting import fit_parameter_scan

    gen = np.random.default_rng(6)
    grid = np.linspace(-0.3, 0.5, 41)
    pulls = []
    for k in range(100):
        zd, zr = _gaussian_log_ratios(grid, gen.normal(0.1, 1.0, size=2000), gen.normal(size=200_000))
        w = gen.exponential(size=2000)
        fit = fit_parameter_scan(grid, zd, zr, data_weight=w)
        # the weighted mean's error sqrt(sum w^2)/sum w (1.41/sqrt(N) for Exp(1) weights, not 1/sqrt(sum w))
        assert fit.uncertainty == pytest.approx(np.sqrt(np.sum(w**2)) / np.sum(w), rel=0.02)
        if k == 0:
            for scale in (0.01, 100.0):
                again = fit_parameter_scan(grid, zd, zr, data_weight=scale * w)
                assert again.uncertainty == pytest.approx(fit.uncertainty, rel=1e-9)
                assert again.estimate == pytest.approx(fit.estimate, rel=1e-9)
        pulls.append((fit.estimate - 0.1) / fit.uncertainty)
    assert abs(np.mean(pulls)) < 0.3 and 0.85 < np.std(pulls) < 1.15


def test_parameter_fit_refuses_a_short_grid_and_flags_an_edge():
    from neyman.reweighting import fit_parameter_scan

    with pytest.raises(DataError, match="at least 3 increasing"):
        fit_parameter_scan([0.0, 1.0], np.zeros((2, 3)), np.zeros((2, 3)))
    grid = np.linspace(0.0, 0.2, 11)
    data = np.random.default_rng(1).normal(1.0, 1.0, 500)  # θ = 1, far outside the grid
    ref = np.random.default_rng(2).normal(size=5000)
    fit = fit_parameter_scan(grid, *_gaussian_log_ratios(grid, data, ref))
    assert fit.at_edge and fit.grid[np.argmin(fit.nll)] == pytest.approx(0.2)
    assert fit.estimate == pytest.approx(0.2)  # a bound at the edge, never the parabola's extrapolation beyond it
