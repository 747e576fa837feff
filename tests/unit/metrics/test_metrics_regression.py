"""Weighted quantiles and the regression summary on samples with known answers."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.metrics import RegressionSummary, regression_summary, weighted_quantile


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 1000])
def test_weighted_quantile_with_unit_weights_is_numpy_inverted_cdf(n):
    rng = np.random.default_rng(n)
    values = rng.normal(size=n)
    q = np.linspace(0.0, 1.0, 401)
    expected = np.quantile(values, q, method="inverted_cdf")
    np.testing.assert_array_equal(weighted_quantile(values, q), expected)
    np.testing.assert_array_equal(weighted_quantile(values, q, sample_weight=np.ones(n)), expected)


def test_integer_weights_equal_repeated_events():
    rng = np.random.default_rng(1)
    values = np.round(rng.normal(size=200), 1)
    counts = rng.integers(1, 5, size=200)
    q = np.linspace(0.0, 1.0, 201)
    np.testing.assert_array_equal(
        weighted_quantile(values, q, sample_weight=counts.astype(float)),
        np.quantile(np.repeat(values, counts), q, method="inverted_cdf"),
    )


def test_weighted_quantile_shapes_and_errors():
    assert isinstance(weighted_quantile([3.0, 1.0, 2.0], 0.5), float)
    assert weighted_quantile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert weighted_quantile([1.0, 2.0, 3.0], [[0.0, 1.0]]).shape == (1, 2)
    # Zero-weight events never become a quantile.
    assert weighted_quantile([-100.0, 1.0, 2.0], 0.0, sample_weight=[0.0, 1.0, 1.0]) == 1.0
    with pytest.raises(DataError, match=r"quantiles must lie in \[0, 1\]"):
        weighted_quantile([1.0, 2.0], 1.5)
    with pytest.raises(DataError, match="sample_weight has 1 entries but values has 2"):
        weighted_quantile([1.0, 2.0], 0.5, sample_weight=[1.0])
    with pytest.raises(DataError, match="total weight of the events is -1"):
        weighted_quantile([1.0, 2.0], 0.5, sample_weight=[1.0, -2.0])


def test_summary_of_a_constant_offset():
    truth = np.linspace(0.0, 10.0, 101)
    summary = regression_summary(truth + 0.5, truth)
    assert summary.bias == pytest.approx(0.5)
    assert summary.median_bias == pytest.approx(0.5)
    assert summary.mse == pytest.approx(0.25)
    assert summary.rmse == pytest.approx(0.5)
    assert summary.resolution == pytest.approx(0.0, abs=1e-12)
    assert summary.pull_width is None
    assert set(summary.as_dict()) == {"mse", "rmse", "bias", "median_bias", "resolution"}


def test_gaussian_residuals_with_known_sigma_give_unit_pulls():
    rng = np.random.default_rng(2024)
    n = 400_000
    truth = rng.uniform(0.0, 100.0, n)
    sigma = rng.uniform(0.5, 3.0, n)
    pred = truth + sigma * rng.normal(size=n)
    summary = regression_summary(pred, truth, sigma=sigma, true_sigma=sigma)
    assert summary.pull_mean == pytest.approx(0.0, abs=0.01)
    assert summary.pull_width == pytest.approx(1.0, rel=0.03)
    assert summary.pull_width_robust == pytest.approx(1.0, rel=0.03)
    assert summary.coverage_68 == pytest.approx(math.erf(1 / math.sqrt(2)), abs=0.01)
    assert summary.coverage_95 == pytest.approx(0.95, abs=0.01)
    assert summary.sigma_ratio_median == pytest.approx(1.0)
    assert set(summary.as_dict()) == {f.name for f in fields(RegressionSummary)}


def test_gaussian_resolution_is_sigma_and_overestimated_sigma_narrows_pulls():
    rng = np.random.default_rng(3)
    n = 200_000
    truth = rng.normal(size=n)
    pred = truth + 2.0 * rng.normal(size=n)
    summary = regression_summary(pred, truth, sigma=np.full(n, 4.0), true_sigma=np.full(n, 2.0))
    assert summary.resolution == pytest.approx(2.0, rel=0.02)
    assert summary.rmse == pytest.approx(2.0, rel=0.02)
    assert summary.pull_width == pytest.approx(0.5, rel=0.03)
    assert summary.sigma_ratio_median == pytest.approx(2.0)


def test_integer_weights_equal_repeated_events_in_summary():
    rng = np.random.default_rng(4)
    truth = rng.normal(size=300)
    pred = truth + rng.normal(size=300)
    sigma = rng.uniform(0.5, 2.0, 300)
    counts = rng.integers(1, 4, 300)
    weighted = regression_summary(pred, truth, sigma=sigma, sample_weight=counts.astype(float))
    repeated = regression_summary(np.repeat(pred, counts), np.repeat(truth, counts), sigma=np.repeat(sigma, counts))
    for key, value in repeated.as_dict().items():
        assert weighted.as_dict()[key] == pytest.approx(value, rel=1e-10, abs=1e-12), key


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigma": [1.0, 0.0, 1.0]}, r"sigma must be positive, found 1 value\(s\) ≤ 0"),
        ({"true_sigma": [1.0, 1.0, 1.0]}, "pass sigma as well"),
        ({"sample_weight": [1.0, 1.0]}, "sample_weight has 2 entries but predictions has 3"),
        ({"sigma": [1.0, 1.0]}, "sigma has 2 entries but predictions has 3"),
    ],
)
def test_regression_summary_rejects_bad_input(kwargs, message):
    with pytest.raises(DataError, match=message):
        regression_summary([1.0, 2.0, 3.0], [1.0, 2.5, 3.5], **kwargs)


def test_regression_summary_rejects_nan_and_mismatched_targets():
    with pytest.raises(DataError, match="predictions contains 1 NaN or infinite"):
        regression_summary([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(DataError, match="targets has 1 entries but predictions has 2"):
        regression_summary([1.0, 2.0], [1.0])
