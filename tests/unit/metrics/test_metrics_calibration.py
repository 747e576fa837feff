"""Reliability curve and Brier score against scikit-learn; the likelihood-ratio check."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from neyman.exceptions import DataError
from neyman.metrics import ReliabilityCurve, brier_score, likelihood_ratio_check, reliability_curve


def _calibrated(n: int, seed: int):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 1.0, n)
    labels = (rng.random(n) < p).astype(int)
    return p, labels, rng.uniform(0.1, 2.0, n)


@pytest.mark.parametrize("n_bins", [5, 10, 13])
def test_reliability_curve_matches_sklearn_unweighted(n_bins):
    p, labels, _ = _calibrated(3000, seed=1)
    p = np.round(p, 1)  # values on the bin edges
    curve = reliability_curve(p, labels, n_bins=n_bins)
    assert isinstance(curve, ReliabilityCurve)
    prob_true, prob_pred = calibration_curve(labels, p, n_bins=n_bins)
    filled = curve.bin_weight > 0
    np.testing.assert_allclose(curve.observed_fraction[filled], prob_true, rtol=0, atol=1e-9)
    np.testing.assert_allclose(curve.mean_predicted[filled], prob_pred, rtol=0, atol=1e-9)
    assert curve.bin_weight.sum() == 3000
    assert np.isnan(curve.mean_predicted[~filled]).all()


def test_reliability_curve_weighted_by_hand():
    curve = reliability_curve([0.1, 0.2, 0.7, 0.9], [0, 1, 1, 1], sample_weight=[3.0, 1.0, 2.0, 2.0], n_bins=2)
    np.testing.assert_allclose(curve.mean_predicted, [(0.3 + 0.2) / 4.0, (1.4 + 1.8) / 4.0])
    np.testing.assert_allclose(curve.observed_fraction, [0.25, 1.0])
    np.testing.assert_allclose(curve.bin_weight, [4.0, 4.0])


def test_reliability_of_a_calibrated_classifier_is_diagonal():
    p, labels, w = _calibrated(200_000, seed=2)
    curve = reliability_curve(p, labels, sample_weight=w)
    np.testing.assert_allclose(curve.observed_fraction, curve.mean_predicted, atol=0.01)


def test_reliability_negative_weights_cancel():
    p, labels, w = _calibrated(1000, seed=3)
    reference = reliability_curve(p, labels, sample_weight=w)
    curve = reliability_curve(
        np.concatenate([p, p[:200]]),
        np.concatenate([labels, labels[:200]]),
        sample_weight=np.concatenate([w, -w[:200]]),
    )
    expected = reliability_curve(p[200:], labels[200:], sample_weight=w[200:])
    np.testing.assert_allclose(curve.observed_fraction, expected.observed_fraction, atol=1e-12)
    assert not np.allclose(reference.observed_fraction, expected.observed_fraction)


@pytest.mark.parametrize("weighted", [False, True])
def test_brier_score_matches_sklearn(weighted):
    p, labels, w = _calibrated(2000, seed=4)
    sample_weight = w if weighted else None
    assert brier_score(p, labels, sample_weight=sample_weight) == pytest.approx(
        brier_score_loss(labels, p, sample_weight=sample_weight), abs=1e-9
    )
    assert brier_score([0.5, 0.5], [0, 1]) == 0.25
    # A +w/−w pair cancels.
    assert brier_score([0.2, 0.9, 0.9], [0, 1, 1], sample_weight=[1.0, 2.0, -2.0]) == pytest.approx(0.04)


def test_calibration_errors():
    with pytest.raises(DataError, match=r"probabilities must lie in \[0, 1\]"):
        brier_score([1.5], [1])
    with pytest.raises(DataError, match="n_bins must be a positive integer, got 0"):
        reliability_curve([0.5], [1], n_bins=0)
    with pytest.raises(DataError, match="total weight of the events is 0"):
        brier_score([0.5, 0.5], [0, 1], sample_weight=[1.0, -1.0])


def _gaussian_classifier(n: int, seed: int, prior: float):
    # Signal N(1, 1), background N(−1, 1): log p_S/p_B = 2x; the optimal
    # classifier for prior odds π is f = π e^{2x} / (1 + π e^{2x}).
    rng = np.random.default_rng(seed)
    n_signal = int(n * prior / (1.0 + prior))
    x = np.concatenate([rng.normal(1.0, 1.0, n_signal), rng.normal(-1.0, 1.0, n - n_signal)])
    true_log_ratio = 2.0 * x
    f = 1.0 / (1.0 + np.exp(-(true_log_ratio + np.log(prior))))
    return f, true_log_ratio


@pytest.mark.parametrize("prior", [1.0, 0.25])
def test_optimal_classifier_recovers_the_true_ratio(prior):
    f, truth = _gaussian_classifier(20_000, seed=5, prior=prior)
    check = likelihood_ratio_check(f, truth, prior_ratio=prior, n_bins=10)
    filled = check.bin_weight > 0
    assert filled.sum() == 10
    assert check.correlation == pytest.approx(1.0, abs=1e-9)
    # The estimate is exact per event; per bin its mean is the mean true ratio.
    low, high = truth.min(), truth.max()
    edges = np.linspace(low, high, 11)
    index = np.clip(np.digitize(truth, edges) - 1, 0, 9)
    expected = np.array([truth[index == k].mean() for k in range(10)])
    np.testing.assert_allclose(check.mean_estimate, expected, atol=1e-9)
    np.testing.assert_allclose(check.bin_centres, 0.5 * (edges[1:] + edges[:-1]))


def test_a_wrong_prior_shifts_the_estimate_and_noise_lowers_the_correlation():
    f, truth = _gaussian_classifier(20_000, seed=6, prior=1.0)
    shifted = likelihood_ratio_check(f, truth, prior_ratio=2.0, n_bins=8)
    np.testing.assert_allclose(
        shifted.mean_estimate - likelihood_ratio_check(f, truth, n_bins=8).mean_estimate, -np.log(2.0)
    )
    noisy_f = 1.0 / (1.0 + np.exp(-(truth + np.random.default_rng(7).normal(0.0, 2.0, len(truth)))))
    noisy = likelihood_ratio_check(noisy_f, truth, value_range=(-4.0, 4.0))
    assert 0.3 < noisy.correlation < 0.95
    assert noisy.bin_centres[0] == pytest.approx(-4.0 + 0.2)


def test_likelihood_ratio_check_errors():
    with pytest.raises(DataError, match="scores must be probabilities"):
        likelihood_ratio_check([2.0], [0.0])
    with pytest.raises(DataError, match="true_log_ratio has 1 entries but scores has 2"):
        likelihood_ratio_check([0.2, 0.3], [0.0])
    with pytest.raises(DataError, match="prior_ratio must be positive"):
        likelihood_ratio_check([0.2], [0.0], prior_ratio=0.0)
    with pytest.raises(DataError, match="value_range must be finite with low < high"):
        likelihood_ratio_check([0.2, 0.4], [0.0, 1.0], value_range=(1.0, 0.0))
