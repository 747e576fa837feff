"""Discovery significances against closed forms and the cut scan."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.metrics import (
    SignificanceScan,
    asimov_significance,
    s_over_sqrt_s_plus_b,
    significance_scan,
    simple_significance,
)
from neyman.metrics.significance import MIN_BACKGROUND_EVENTS


def test_closed_forms_for_s10_b100():
    # Z_A = √(2(110 ln 1.1 − 10)) = √(2 · 0.48412...) = 0.98399...
    expected = math.sqrt(2.0 * (110.0 * math.log(1.1) - 10.0))
    assert asimov_significance(10.0, 100.0) == pytest.approx(expected, rel=1e-14)
    assert asimov_significance(10.0, 100.0) == pytest.approx(0.98399, abs=1e-5)
    assert simple_significance(10.0, 100.0) == pytest.approx(1.0)
    assert s_over_sqrt_s_plus_b(10.0, 100.0) == pytest.approx(10.0 / math.sqrt(110.0))
    assert isinstance(asimov_significance(10.0, 100.0), float)


def test_asimov_with_background_uncertainty_by_hand():
    s, b, rel = 10.0, 100.0, 0.1
    var = (rel * b) ** 2
    expected = math.sqrt(
        2.0
        * (
            (s + b) * math.log((s + b) * (b + var) / (b * b + (s + b) * var))
            - b * b / var * math.log(1.0 + var * s / (b * (b + var)))
        )
    )
    assert asimov_significance(s, b, sigma_b=rel) == pytest.approx(expected, rel=1e-12)
    # A 10% uncertainty on 100 events (σ = 10) costs a lot: s/√(b + σ²) = 10/√200 to leading order.
    assert asimov_significance(s, b, sigma_b=rel) == pytest.approx(10.0 / math.sqrt(200.0), rel=0.05)
    # Continuous in σ → 0 and decreasing in σ.
    assert asimov_significance(s, b, sigma_b=1e-6) == pytest.approx(asimov_significance(s, b), rel=1e-6)
    z = asimov_significance(s, b, sigma_b=np.array([0.0, 0.01, 0.1, 0.5]))
    assert np.all(np.diff(z) < 0)


def test_asimov_limits():
    # s ≪ b: Z_A → s/√b.
    assert asimov_significance(1.0, 1e6) == pytest.approx(1e-3, rel=1e-6)
    assert asimov_significance(0.0, 5.0) == 0.0
    # s ≫ b: Z_A ≪ s/√b.
    assert asimov_significance(100.0, 1.0) < simple_significance(100.0, 1.0) / 3
    # Also with an uncertainty: s ≪ b → s/√(b + σ²).
    assert asimov_significance(1.0, 1e4, sigma_b=0.01) == pytest.approx(1.0 / math.sqrt(2e4), rel=1e-3)
    # σ_b → ∞: no significance is left, and no overflow on the way (σ_b b squared passes 1e308)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = [asimov_significance(10.0, 100.0, sigma_b=r) for r in (0.1, 10.0, 1e10, 1e300)]
    assert z[0] > z[1] > z[2] > 0 and z[3] == 0.0


def test_vectorised_and_broadcast():
    s = np.array([1.0, 5.0, 10.0])
    b = np.array([[10.0], [100.0]])
    z = asimov_significance(s, b)
    assert isinstance(z, np.ndarray)
    assert z.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert z[i, j] == pytest.approx(asimov_significance(float(s[j]), float(b[i, 0])))
    np.testing.assert_allclose(simple_significance(s, 4.0), s / 2.0)
    np.testing.assert_allclose(s_over_sqrt_s_plus_b(s, 6.0), s / np.sqrt(s + 6.0))


def test_significance_errors():
    with pytest.raises(DataError, match="background yield b must be positive"):
        asimov_significance(1.0, 0.0)
    with pytest.raises(DataError, match="signal yield s must be non-negative"):
        simple_significance(-1.0, 1.0)
    with pytest.raises(DataError, match=r"sigma_b .* must be finite and ≥ 0"):
        asimov_significance(1.0, 1.0, sigma_b=-0.1)
    with pytest.raises(DataError, match="do not broadcast"):
        s_over_sqrt_s_plus_b([1.0, 2.0], [1.0, 2.0, 3.0])


def _scan_sample(n: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = rng.normal(loc=2.0 * labels, scale=1.0)
    return scores, labels, rng.uniform(0.5, 1.5, n)


def test_scan_yields_and_significances():
    scores, labels, w = _scan_sample(5000, seed=1)
    scan = significance_scan(scores, labels, signal_yield=50.0, background_yield=1000.0, sample_weight=w)
    assert isinstance(scan, SignificanceScan)
    assert len(scan.cuts) == 200
    assert np.all(np.diff(scan.cuts) > 0)
    assert scan.cuts[0] == scores.min()
    assert scan.cuts[-1] == scores.max()
    k = 57
    cut = scan.cuts[k]
    signal, background = labels == 1, labels == 0
    eff_s = w[signal & (scores >= cut)].sum() / w[signal].sum()
    eff_b = w[background & (scores >= cut)].sum() / w[background].sum()
    assert scan.signal_efficiency[k] == pytest.approx(eff_s, rel=1e-12)
    assert scan.background_efficiency[k] == pytest.approx(eff_b, rel=1e-12)
    assert scan.signal[k] == pytest.approx(50.0 * eff_s)
    assert scan.background[k] == pytest.approx(1000.0 * eff_b)
    assert scan.asimov[k] == pytest.approx(asimov_significance(50.0 * eff_s, 1000.0 * eff_b))
    assert scan.simple[k] == pytest.approx(simple_significance(50.0 * eff_s, 1000.0 * eff_b))
    assert scan.s_over_sqrt_s_plus_b[k] == pytest.approx(s_over_sqrt_s_plus_b(50.0 * eff_s, 1000.0 * eff_b))
    # The loosest cut keeps everything.
    assert scan.signal_efficiency[0] == pytest.approx(1.0)
    assert scan.background_efficiency[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="read-only"):
        scan.asimov[0] = 1.0


def test_scan_best_points_are_the_maxima():
    scores, labels, w = _scan_sample(5000, seed=2)
    scan = significance_scan(
        scores, labels, signal_yield=20.0, background_yield=500.0, sample_weight=w, sigma_b=0.05, n_points=100
    )
    assert set(scan.best) == {"asimov", "simple", "s_over_sqrt_s_plus_b"}
    background = labels == 0
    kept = np.array([(w[background] * (scores[background] >= c)).sum() for c in scan.cuts])
    kept2 = np.array([(w[background] ** 2 * (scores[background] >= c)).sum() for c in scan.cuts])
    populated = kept**2 >= MIN_BACKGROUND_EVENTS * kept2  # a best point is no fluctuation of a few events
    assert not populated.all()
    for name in scan.best:
        values = np.where(populated, getattr(scan, name), np.nan)
        best = scan.best[name]
        assert best.significance == pytest.approx(np.nanmax(values))
        i = int(np.nanargmax(values))
        assert best.cut == scan.cuts[i]
        assert best.signal_efficiency == scan.signal_efficiency[i]
        assert best.background_efficiency == scan.background_efficiency[i]
        assert best.signal == pytest.approx(20.0 * best.signal_efficiency)
        assert best.background == pytest.approx(500.0 * best.background_efficiency)
    assert scan.best["asimov"].significance == pytest.approx(
        asimov_significance(scan.best["asimov"].signal, scan.best["asimov"].background, sigma_b=0.05)
    )
    # A tight cut is better than no cut for a small signal.
    assert scan.best["asimov"].cut > scores.min()
    # Where no background is left the significances are NaN, not an error.
    assert np.isnan(scan.simple[-1]) or scan.background[-1] > 0


def test_the_best_cut_is_no_cancellation_of_a_few_signed_background_weights():
    """Two background events of weights -0.43 and +0.73 above a cut: b is tiny, s/sqrt(b) huge and meaningless."""
    rng = np.random.default_rng(7)
    labels = np.r_[np.ones(2000), np.zeros(4000)].astype(int)
    scores = np.r_[rng.normal(1.5, 1.0, 2000), rng.normal(0.0, 1.0, 3998), [4.5, 4.6]]
    weights = np.r_[np.ones(2000), rng.choice([-0.5, 1.0], 3998, p=[0.2, 0.8]), [-0.43, 0.73]]
    scan = significance_scan(scores, labels, signal_yield=50.0, background_yield=1000.0, sample_weight=weights)
    best = scan.best["simple"]
    background = labels == 0
    above = background & (scores >= best.cut)
    assert weights[above].sum() ** 2 / (weights[above] ** 2).sum() >= MIN_BACKGROUND_EVENTS
    assert best.significance < np.nanmax(scan.simple)  # the unpopulated maximum is passed over


def test_scan_weights_only_shape_and_cancel():
    scores, labels, w = _scan_sample(2000, seed=3)
    kwargs = {"signal_yield": 10.0, "background_yield": 100.0, "n_points": 50}
    reference = significance_scan(scores, labels, sample_weight=w, **kwargs)
    scaled = significance_scan(scores, labels, sample_weight=7.0 * w, **kwargs)
    np.testing.assert_allclose(scaled.asimov, reference.asimov, rtol=1e-12)
    # Events duplicated with +w and −w cancel (inside the score range, so the cuts stay).
    extra_scores = np.clip(scores[:100], scores.min(), scores.max())
    cancelled = significance_scan(
        np.concatenate([scores, extra_scores, extra_scores]),
        np.concatenate([labels, labels[:100], labels[:100]]),
        sample_weight=np.concatenate([w, w[:100], -w[:100]]),
        **kwargs,
    )
    np.testing.assert_allclose(cancelled.cuts, reference.cuts)
    np.testing.assert_allclose(cancelled.signal_efficiency, reference.signal_efficiency, atol=1e-12)
    np.testing.assert_allclose(cancelled.asimov, reference.asimov, rtol=1e-9, atol=1e-12)


def test_scan_errors():
    scores, labels, _ = _scan_sample(100, seed=4)
    with pytest.raises(DataError, match=r"signal_yield .* must be positive and finite, got 0"):
        significance_scan(scores, labels, signal_yield=0.0, background_yield=1.0)
    with pytest.raises(DataError, match="n_points must be an integer of at least 2, got 1"):
        significance_scan(scores, labels, signal_yield=1.0, background_yield=1.0, n_points=1)
    with pytest.raises(DataError, match=r"background events \(label 0\) have a total weight of 0"):
        significance_scan(scores, np.ones(100), signal_yield=1.0, background_yield=1.0)
