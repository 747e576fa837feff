"""Weighted Kolmogorov–Smirnov test and the overtraining check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.metrics import kolmogorov_sf, ks_test, overtraining_check


def _kolmogorov_reference(lam: float) -> float:
    return 2.0 * sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 200))


@pytest.mark.parametrize("lam", [0.3, 0.5, 0.8, 0.99, 1.0, 1.2, 1.36, 2.0, 3.0])
def test_kolmogorov_sf_known_values(lam):
    if lam >= 0.5:  # the plain series is accurate here
        assert kolmogorov_sf(lam) == pytest.approx(_kolmogorov_reference(lam), rel=1e-10, abs=1e-300)
    assert 0.0 <= float(kolmogorov_sf(lam)) <= 1.0


def test_kolmogorov_sf_critical_values_and_shape():
    # The classic critical values: 5% at 1.3581, 1% at 1.6276.
    assert float(kolmogorov_sf(1.3581)) == pytest.approx(0.05, abs=1e-4)
    assert float(kolmogorov_sf(1.6276)) == pytest.approx(0.01, abs=1e-4)
    assert float(kolmogorov_sf(0.0)) == 1.0
    assert float(kolmogorov_sf(0.1)) == pytest.approx(1.0, abs=1e-15)
    values = kolmogorov_sf(np.array([[0.0, 0.5], [1.0, 10.0]]))
    assert values.shape == (2, 2)
    assert np.all(np.diff(values.ravel()) <= 0)
    # The two series agree where they meet.
    assert float(kolmogorov_sf(np.nextafter(1.0, 0.0))) == pytest.approx(float(kolmogorov_sf(1.0)), rel=1e-12)
    with pytest.raises(DataError, match="λ ≥ 0"):
        kolmogorov_sf(-0.1)


def test_scipy_reference_if_available():
    stats = pytest.importorskip("scipy.stats")
    lam = np.linspace(0.05, 3.0, 60)
    np.testing.assert_allclose(kolmogorov_sf(lam), stats.kstwobign.sf(lam), rtol=1e-10, atol=1e-14)
    rng = np.random.default_rng(0)
    for n_a, n_b, shift in [(500, 700, 0.1), (2000, 3000, 0.05), (300, 300, 0.2), (1000, 1500, 0.0)]:
        a = rng.normal(size=n_a)
        b = np.round(rng.normal(shift, size=n_b), 2)
        statistic, p_value = ks_test(a, b)
        reference = stats.ks_2samp(a, b, method="asymp")
        assert statistic == pytest.approx(reference.statistic, abs=1e-12)
        # The Kolmogorov limit is a few per cent above scipy's finite-n distribution.
        assert p_value == pytest.approx(reference.pvalue, rel=0.1)


def test_identical_samples_give_zero_and_one():
    x = np.random.default_rng(1).normal(size=1000)
    assert ks_test(x, x) == (0.0, 1.0)
    w = np.random.default_rng(2).uniform(0.5, 2.0, 1000)
    statistic, p_value = ks_test(x, x, weight_a=w, weight_b=3.0 * w)
    assert statistic == pytest.approx(0.0, abs=1e-12)
    assert p_value == 1.0
    # Same values in a different order with integer weights = repeated events.
    assert ks_test(np.repeat(x[:10], 3), x[:10], weight_b=np.full(10, 3.0))[0] == pytest.approx(0.0, abs=1e-15)


def test_shifted_gaussians_give_a_tiny_p_value():
    rng = np.random.default_rng(3)
    statistic, p_value = ks_test(rng.normal(size=2000), rng.normal(0.5, size=2000))
    assert statistic > 0.15
    assert p_value < 1e-10


def test_statistic_by_hand():
    # F_a jumps to 1 at 1; F_b is ½ at 1 → D = ½.  n_e = 1·2/3.
    statistic, p_value = ks_test([1.0], [1.0, 2.0])
    assert statistic == 0.5
    assert p_value == pytest.approx(float(kolmogorov_sf(0.5 * math.sqrt(2.0 / 3.0))))
    # Disjoint samples: D = 1.
    assert ks_test([0.0, 1.0], [5.0, 6.0])[0] == 1.0


def test_weights_enter_the_cdf_and_the_effective_size():
    a, b = np.array([0.0, 1.0]), np.array([0.0, 1.0])
    statistic, p_value = ks_test(a, b, weight_a=[3.0, 1.0], weight_b=[1.0, 3.0])
    assert statistic == pytest.approx(0.5)
    n_eff = 16.0 / 10.0
    assert p_value == pytest.approx(float(kolmogorov_sf(math.sqrt(n_eff / 2.0) * 0.5)))


def test_negative_weights_that_cancel_leave_the_statistic_unchanged():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=500), rng.normal(0.2, size=600)
    extra = rng.normal(size=50)
    plain = ks_test(a, b)
    with_pairs = ks_test(
        np.concatenate([a, extra, extra]), b, weight_a=np.concatenate([np.ones(500), np.ones(50), -np.ones(50)])
    )
    assert with_pairs[0] == pytest.approx(plain[0], abs=1e-12)
    # The pairs lower the effective size (Σw)²/Σw², hence raise the p-value.
    assert with_pairs[1] > plain[1]


def test_ks_errors():
    with pytest.raises(DataError, match="no events of sample b"):
        ks_test([1.0], [])
    with pytest.raises(DataError, match="sample_weight has 1 entries but a has 2"):
        ks_test([1.0, 2.0], [1.0], weight_a=[1.0])
    with pytest.raises(DataError, match="total weight of the events of sample a is -1"):
        ks_test([1.0], [1.0], weight_a=[-1.0])


def test_overtraining_check_flags_a_memorising_classifier():
    rng = np.random.default_rng(5)
    train_labels = rng.integers(0, 2, 3000)
    test_labels = rng.integers(0, 2, 3000)
    test_scores = rng.normal(test_labels, 1.0)
    honest = overtraining_check(rng.normal(train_labels, 1.0), train_labels, test_scores, test_labels)
    assert set(honest) == {
        "signal_ks_statistic",
        "signal_ks_p_value",
        "background_ks_statistic",
        "background_ks_p_value",
    }
    assert honest["signal_ks_p_value"] > 1e-3
    assert honest["background_ks_p_value"] > 1e-3
    # An overtrained classifier separates its training events better.
    overtrained = overtraining_check(rng.normal(2.0 * train_labels, 0.7), train_labels, test_scores, test_labels)
    assert overtrained["signal_ks_p_value"] < 1e-6
    assert overtrained["background_ks_p_value"] < 1e-6


def test_overtraining_check_matches_per_class_ks_with_weights():
    rng = np.random.default_rng(6)
    train_scores, test_scores = rng.normal(size=400), rng.normal(size=500)
    train_labels, test_labels = rng.integers(0, 2, 400), rng.integers(0, 2, 500)
    train_w, test_w = rng.uniform(0.5, 2, 400), rng.uniform(0.5, 2, 500)
    result = overtraining_check(
        train_scores, train_labels, test_scores, test_labels, train_weight=train_w, test_weight=test_w
    )
    for name, label in (("signal", 1), ("background", 0)):
        a, b = train_labels == label, test_labels == label
        expected = ks_test(train_scores[a], test_scores[b], weight_a=train_w[a], weight_b=test_w[b])
        assert (result[f"{name}_ks_statistic"], result[f"{name}_ks_p_value"]) == expected


def test_overtraining_check_needs_both_classes():
    with pytest.raises(DataError, match=r"no signal events \(label 1\) of the test sample"):
        overtraining_check([0.1, 0.9], [0, 1], [0.2, 0.3], [0, 0])
