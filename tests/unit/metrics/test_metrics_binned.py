"""Binned regression response against per-bin regression summaries and known answers."""

from __future__ import annotations

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.metrics import binned_response, regression_summary


def _regression(n: int, seed: int):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(20.0, 200.0, n)
    sigma = 0.05 * truth + 2.0
    predictions = truth * 1.02 + rng.normal(0.0, sigma)
    return predictions, truth, sigma, rng.uniform(0.5, 2.0, n)


def test_each_bin_equals_the_regression_summary_of_its_events():
    pred, truth, sigma, w = _regression(20_000, seed=1)
    edges = np.array([20.0, 50.0, 100.0, 150.0, 200.0])
    result = binned_response(pred, truth, truth, bins=edges, sample_weight=w, sigma=sigma)
    for k in range(4):
        inside = (truth >= edges[k]) & (truth < edges[k + 1])
        summary = regression_summary(pred[inside], truth[inside], sigma=sigma[inside], sample_weight=w[inside])
        assert result["count"][k] == inside.sum()
        assert result["weight"][k] == pytest.approx(w[inside].sum())
        assert result["bias"][k] == summary.median_bias
        assert result["resolution"][k] == pytest.approx(summary.resolution, rel=1e-12)
        assert result["pull_mean"][k] == pytest.approx(summary.pull_mean, rel=1e-9, abs=1e-12)
        assert result["pull_width"][k] == pytest.approx(summary.pull_width, rel=1e-9)
        assert result["coverage_68"][k] == pytest.approx(summary.coverage_68, rel=1e-12)
        assert result["coverage_95"][k] == pytest.approx(summary.coverage_95, rel=1e-12)
        response = np.sum(w[inside] * pred[inside] / truth[inside]) / w[inside].sum()
        assert result["response"][k] == pytest.approx(response, rel=1e-12)
    np.testing.assert_array_equal(result["bin_low"], edges[:-1])
    np.testing.assert_array_equal(result["bin_high"], edges[1:])


def test_known_response_resolution_and_calibrated_pulls():
    pred, truth, sigma, _ = _regression(200_000, seed=2)
    result = binned_response(pred, truth, truth, bins=6, sigma=sigma)
    np.testing.assert_allclose(result["response"], 1.02, atol=0.005)
    assert np.all(np.abs(result["bias"] - 0.02 * result["bin_centre"]) < 0.1 * result["resolution"])
    np.testing.assert_allclose(result["resolution"], 0.05 * result["bin_centre"] + 2.0, rtol=0.05)
    # The 2% scale bias shifts the pulls; without it they are unit normal in every bin.
    unbiased = binned_response(pred - 0.02 * truth, truth, truth, bins=6, sigma=sigma)
    np.testing.assert_allclose(unbiased["pull_mean"], 0.0, atol=0.02)
    np.testing.assert_allclose(unbiased["pull_width"], 1.0, atol=0.02)
    np.testing.assert_allclose(unbiased["coverage_68"], 0.6827, atol=0.01)
    np.testing.assert_allclose(unbiased["coverage_95"], 0.95, atol=0.01)
    assert np.all(result["coverage_68"] < unbiased["coverage_68"])
    assert result["bin_low"][0] == truth.min()
    assert result["bin_high"][-1] == truth.max()
    assert result["count"].sum() == len(truth)  # the maximum lands in the last bin


def test_events_outside_and_empty_bins():
    pred, truth = np.array([1.0, 2.0, 3.0, 10.0]), np.array([1.5, 2.0, 2.0, 9.0])
    result = binned_response(pred, truth, truth, bins=[0.0, 2.0, 4.0, 6.0])
    np.testing.assert_array_equal(result["count"], [1, 2, 0])
    assert result["bias"][0] == pytest.approx(-0.5)
    assert np.isnan(result["bias"][2])
    assert np.isnan(result["response"][2])
    assert "pull_width" not in result


def test_negative_weights_cancel_per_bin():
    pred, truth, sigma, w = _regression(3000, seed=3)
    reference = binned_response(pred, truth, truth, bins=5, sample_weight=w, sigma=sigma)
    extra = slice(0, 300)
    # Duplicates with +w and −w inside the same range: the bins do not move.
    result = binned_response(
        np.concatenate([pred, pred[extra], pred[extra]]),
        np.concatenate([truth, truth[extra], truth[extra]]),
        np.concatenate([truth, truth[extra], truth[extra]]),
        bins=5,
        sample_weight=np.concatenate([w, w[extra], -w[extra]]),
        sigma=np.concatenate([sigma, sigma[extra], sigma[extra]]),
    )
    for key in ("weight", "response", "pull_mean", "coverage_68", "coverage_95"):
        np.testing.assert_allclose(result[key], reference[key], rtol=1e-9, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(result["pull_width"], reference["pull_width"], rtol=1e-6)


def test_binned_response_errors():
    with pytest.raises(DataError, match="by has 1 entries but predictions has 2"):
        binned_response([1.0, 2.0], [1.0, 2.0], [1.0], bins=2)
    with pytest.raises(DataError, match="bin edges must be at least two strictly increasing numbers"):
        binned_response([1.0], [1.0], [1.0], bins=[1.0, 1.0])
    with pytest.raises(DataError, match="sigma must be positive"):
        binned_response([1.0], [1.0], [1.0], bins=1, sigma=[0.0])
    with pytest.raises(DataError, match="bins must be a positive number of bins"):
        binned_response([1.0], [1.0], [1.0], bins=0)
