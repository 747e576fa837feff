from __future__ import annotations

import numpy as np
import pytest

from neyman.exceptions import ConfigError, DataError
from neyman.preprocessing import balance_classes, bootstrap_counts, check_weights, event_weights
from neyman.table import Table


def test_event_weights() -> None:
    t = Table({"w": np.array([1.0, -0.5, 2.0]), "pt": np.zeros(3)}, source="mc.root")
    np.testing.assert_array_equal(event_weights(t, weight_column="w", scale=2.0), [2.0, -1.0, 4.0])
    np.testing.assert_array_equal(event_weights(t), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(event_weights(t, scale=0.5), [0.5, 0.5, 0.5])
    with pytest.raises(DataError, match=r"no weight column 'ww' in mc\.root.*did you mean 'w'"):
        event_weights(t, weight_column="ww")
    with pytest.raises(ConfigError):
        event_weights(t, weight_column="w", scale=float("inf"))


def test_event_weights_non_finite() -> None:
    t = Table({"w": np.array([1.0, np.nan, np.inf])})
    with pytest.raises(DataError, match="2 non-finite"):
        event_weights(t, weight_column="w")


def test_balance_with_negative_weights() -> None:
    gen = np.random.default_rng(2)
    labels = np.repeat([0, 1, 2], [300, 100, 50])
    weights = gen.normal(1.0, 1.0, len(labels)) * np.repeat([0.1, 3.0, 1.0], [300, 100, 50])
    assert (weights < 0).any()
    out = balance_classes(labels, weights)
    target = weights.sum() / 3
    for c in range(3):
        assert out[labels == c].sum() == pytest.approx(target, rel=1e-12)
    np.testing.assert_array_equal(np.sign(out), np.sign(weights))
    assert out.sum() == pytest.approx(weights.sum(), rel=1e-12)
    # one positive factor per class: shapes are unchanged
    for c in range(3):
        ratio = out[labels == c] / weights[labels == c]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)


def test_balance_float_labels_and_n_classes() -> None:
    out = balance_classes(np.array([0.0, 1.0, 1.0]), np.array([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(out, [2.0, 2.0 / 3, 4.0 / 3])
    with pytest.raises(DataError, match="class 2 has 0"):
        balance_classes([0, 1], [1.0, 1.0], n_classes=3)
    with pytest.raises(DataError, match="class indices"):
        balance_classes([0.5, 1.0], [1.0, 1.0])


def test_balance_rejects_class_with_non_positive_sum() -> None:
    labels = np.array([0, 0, 1, 1])
    weights = np.array([1.0, 2.0, 0.5, -1.5])
    with pytest.raises(DataError, match=r"class 1 has -1"):
        balance_classes(labels, weights)


def test_check_weights() -> None:
    check_weights(np.array([1.0, -0.2, 0.5]))
    check_weights(np.array([1.0, -0.2, 0.5]), labels=np.array([0, 1, 1]))
    with pytest.raises(DataError, match="total weight"):
        check_weights(np.array([1.0, -2.0]))
    with pytest.raises(DataError, match=r"class 3 has -0\.5"):
        check_weights(np.array([2.0, -0.5, 1.0]), labels=np.array([0, 3, 0]))
    with pytest.raises(DataError, match="non-finite"):
        check_weights(np.array([1.0, np.nan]))


def test_missing_column_names_close_matches_and_the_columns():
    from neyman.preprocessing.selection import missing_column

    table = Table({"weight": np.ones(2)}, source="f.root")
    error = missing_column(table, "wieght", "no weight column")
    assert str(error).startswith("no weight column 'wieght' in f.root")
    assert str(error).endswith("available: weight")
    assert str(missing_column(Table({}), "w", "no column")) == "no column 'w'; available: (none)"


def test_bootstrap_counts_are_poisson_one_and_fixed_by_seed_source_and_entry() -> None:
    from scipy import stats

    entries = np.arange(400_000)
    counts = bootstrap_counts(1, 0, entries)
    assert counts.mean() == pytest.approx(1.0, abs=0.005) and counts.var() == pytest.approx(1.0, abs=0.01)
    observed = np.bincount(counts.astype(int), minlength=6)[:6]
    expected = stats.poisson.pmf(np.arange(6), 1.0) * len(entries)
    assert stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > 1e-3
    # an event's count does not depend on how the file is read in chunks
    chunked = np.concatenate([bootstrap_counts(1, 0, c) for c in np.array_split(entries, 7)])
    np.testing.assert_array_equal(chunked, counts)
    # other replicas, other sources, neighbouring entries: independent counts
    for other in (bootstrap_counts(2, 0, entries), bootstrap_counts(1, 1, entries), counts[1:]):
        assert abs(np.corrcoef(counts[: len(other)], other)[0, 1]) < 0.01
    with pytest.raises(ConfigError, match="bootstrap seed"):
        bootstrap_counts(-1, 0, entries)
