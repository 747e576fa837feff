"""Permutation importance and the weighted correlation matrix."""

from __future__ import annotations

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.metrics import correlation_matrix, permutation_importance


def _two_feature_problem(n: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    informative = rng.normal(loc=1.5 * labels)
    noise = rng.normal(size=n)
    return np.column_stack([noise, informative]), labels


def test_informative_feature_ranks_above_noise():
    x, labels = _two_feature_problem(4000, seed=1)
    calls = []

    def predict(features):
        calls.append(features.shape)
        # A model that uses both inputs, the noise only a little.
        return features[:, 1] + 0.1 * features[:, 0]

    importance = permutation_importance(predict, x, labels, feature_names=["noise", "informative"], n_repeats=4)
    assert list(importance) == ["noise", "informative"]
    mean_noise, std_noise = importance["noise"]
    mean_informative, std_informative = importance["informative"]
    assert mean_informative > 0.2
    assert abs(mean_noise) < 0.02
    assert mean_informative > mean_noise + 10 * (std_informative + std_noise)
    assert len(calls) == 1 + 2 * 4


def test_an_ignored_feature_has_exactly_zero_importance_and_input_is_untouched():
    x, labels = _two_feature_problem(500, seed=2)
    original = x.copy()
    importance = permutation_importance(lambda f: f[:, 1], x, labels, n_repeats=2, seed=3)
    assert importance["x0"] == (0.0, 0.0)
    np.testing.assert_array_equal(x, original)
    # Same seed, same answer.
    assert importance == permutation_importance(lambda f: f[:, 1], x, labels, n_repeats=2, seed=3)


def test_custom_metric_and_weights_are_passed_through():
    x, labels = _two_feature_problem(300, seed=4)
    w = np.random.default_rng(5).uniform(0.5, 2.0, 300)
    seen = []

    def weighted_accuracy(scores, y, sample_weight):
        seen.append(sample_weight)
        return float(np.sum(sample_weight * ((scores > 0.75) == y)) / np.sum(sample_weight))

    importance = permutation_importance(
        lambda f: f[:, 1], x, labels, metric=weighted_accuracy, sample_weight=w, n_repeats=1
    )
    assert importance["x1"][0] > 0.1
    assert importance["x1"][1] == 0.0
    assert all(np.array_equal(s, w) for s in seen)


def test_predictions_of_shape_n_by_1_are_accepted():
    x, labels = _two_feature_problem(200, seed=6)
    importance = permutation_importance(lambda f: f[:, 1:2], x, labels, n_repeats=1)
    assert importance["x1"][0] > 0


def test_permutation_importance_errors():
    x, labels = _two_feature_problem(50, seed=7)
    with pytest.raises(DataError, match=r"predict must return one score per event, shape \(50,\)"):
        permutation_importance(lambda f: f, x, labels)
    with pytest.raises(DataError, match="feature_names has 1 names but x has 2 columns"):
        permutation_importance(lambda f: f[:, 0], x, labels, feature_names=["a"])
    with pytest.raises(DataError, match="n_repeats must be a positive integer"):
        permutation_importance(lambda f: f[:, 0], x, labels, n_repeats=0)
    with pytest.raises(DataError, match=r"labels must have shape \(50,\)"):
        permutation_importance(lambda f: f[:, 0], x, labels[:10])


def test_correlation_matrix_unweighted_is_corrcoef():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(1000, 4)) @ rng.normal(size=(4, 4))
    np.testing.assert_allclose(correlation_matrix(x), np.corrcoef(x.T), rtol=0, atol=1e-12)


def test_correlation_matrix_integer_weights_are_repeated_events():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(300, 3))
    x[:, 2] += x[:, 0]
    counts = rng.integers(1, 4, 300)
    np.testing.assert_allclose(
        correlation_matrix(x, sample_weight=counts.astype(float)),
        np.corrcoef(np.repeat(x, counts, axis=0).T),
        atol=1e-12,
    )


def test_correlation_matrix_negative_weights_cancel_and_constant_columns():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(400, 2))
    extra = rng.normal(size=(50, 2)) * 10
    w = rng.uniform(0.5, 2.0, 400)
    result = correlation_matrix(
        np.concatenate([x, extra, extra]), sample_weight=np.concatenate([w, np.ones(50), -np.ones(50)])
    )
    np.testing.assert_allclose(result, correlation_matrix(x, sample_weight=w), atol=1e-10)
    with_constant = correlation_matrix(np.column_stack([x, np.ones(400)]))
    assert np.isnan(with_constant[2]).all()
    assert np.isnan(with_constant[:, 2]).all()
    assert with_constant[0, 0] == 1.0
    with pytest.raises(DataError, match="x must be 2-dimensional"):
        correlation_matrix(np.ones(3))


def test_missing_values_are_permuted_along():
    x, labels = _two_feature_problem(400, seed=11)
    x[::7, 0] = np.nan
    importance = permutation_importance(lambda f: np.nan_to_num(f[:, 1]), x, labels, n_repeats=2)
    assert importance["x0"] == (0.0, 0.0)
    assert importance["x1"][0] > 0.1
