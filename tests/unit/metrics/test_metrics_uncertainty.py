"""Bootstrap uncertainty of the AUC, TMVA's efficiency table and separation."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.metrics import auc_with_uncertainty, efficiency_table, roc_auc, roc_curve, separation
from neyman.metrics.uncertainty import _POISSON_ONE


def _sample(n: int, seed: int, *, shift: float = 1.0, decimals: int | None = None):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = rng.normal(loc=labels * shift, scale=1.0)
    if decimals is not None:
        scores = np.round(scores, decimals)
    return scores, labels, rng.uniform(0.2, 2.0, n)


def _hanley_mcneil(auc: float, n_signal: int, n_background: int) -> float:
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc**2 / (1.0 + auc)
    variance = (auc * (1 - auc) + (n_signal - 1) * (q1 - auc**2) + (n_background - 1) * (q2 - auc**2)) / (
        n_signal * n_background
    )
    return math.sqrt(variance)


def test_poisson_table_has_the_moments_of_poisson_one():
    counts = _POISSON_ONE.astype(np.float64)
    assert len(counts) == 2**16
    assert counts.mean() == pytest.approx(1.0, abs=1e-4)
    assert counts.var() == pytest.approx(1.0, abs=1e-4)
    frequencies = np.bincount(_POISSON_ONE) / len(counts)
    expected = np.exp(-1.0) / np.array([math.factorial(k) for k in range(len(frequencies))])
    np.testing.assert_allclose(frequencies, expected, atol=2**-16)


@pytest.mark.parametrize("decimals", [None, 1])
def test_nominal_auc_is_roc_auc(decimals):
    scores, labels, w = _sample(500, seed=3, decimals=decimals)
    auc, std = auc_with_uncertainty(scores, labels, sample_weight=w, n_bootstrap=20)
    assert auc == roc_auc(scores, labels, sample_weight=w)
    assert 0 < std < 0.1


def test_bootstrap_std_matches_hanley_mcneil_and_a_looped_bootstrap():
    scores, labels, _ = _sample(600, seed=4)
    auc, std = auc_with_uncertainty(scores, labels, n_bootstrap=400, seed=1)
    n_signal = int(labels.sum())
    assert std == pytest.approx(_hanley_mcneil(auc, n_signal, len(labels) - n_signal), rel=0.3)
    # The classic bootstrap (resampling events with replacement), looped here only.
    rng = np.random.default_rng(7)
    replicas = []
    for _ in range(400):
        pick = rng.integers(0, len(scores), len(scores))
        replicas.append(roc_auc(scores[pick], labels[pick]))
    assert std == pytest.approx(float(np.std(replicas, ddof=1)), rel=0.3)


def test_bootstrap_with_ties_and_weights_matches_a_looped_poisson_bootstrap():
    scores, labels, w = _sample(400, seed=5, decimals=1)
    _, std = auc_with_uncertainty(scores, labels, sample_weight=w, n_bootstrap=300, seed=2)
    rng = np.random.default_rng(11)
    looped = [roc_auc(scores, labels, sample_weight=w * rng.poisson(1.0, len(w))) for _ in range(300)]
    assert std == pytest.approx(float(np.std(looped, ddof=1)), rel=0.3)


def test_replica_aucs_equal_roc_auc_of_the_replica_weights():
    # With a single replica per block the counts are the first draws of the
    # generator; reproduce them to check each replica exactly.
    scores, labels, w = _sample(50, seed=6, decimals=1)
    rng = np.random.default_rng(0)
    y = labels.astype(bool)
    counts_signal = _POISSON_ONE[rng.integers(0, 2**16, size=(2, int(y.sum())), dtype=np.uint16)]
    counts_background = _POISSON_ONE[rng.integers(0, 2**16, size=(2, int((~y).sum())), dtype=np.uint16)]
    order = np.argsort(-scores[y], kind="stable")
    expected = []
    for r in range(2):
        replica_w = w.copy()
        signal_w = replica_w[y]
        signal_w[order] *= counts_signal[r]
        replica_w[y] = signal_w
        replica_w[~y] *= counts_background[r]
        expected.append(roc_auc(scores, labels, sample_weight=replica_w))
    _, std = auc_with_uncertainty(scores, labels, sample_weight=w, n_bootstrap=2, seed=0)
    assert std == pytest.approx(float(np.std(expected, ddof=1)), rel=1e-9)


def test_negative_weights_that_cancel_leave_auc_and_its_spread_unchanged_in_expectation():
    scores, labels, w = _sample(800, seed=8)
    extra_scores = np.random.default_rng(9).normal(size=200)
    extra_labels = np.random.default_rng(10).integers(0, 2, 200)
    # Each extra event appears twice, with weight +1 and −1: it contributes nothing.
    all_scores = np.concatenate([scores, extra_scores, extra_scores])
    all_labels = np.concatenate([labels, extra_labels, extra_labels])
    all_w = np.concatenate([w, np.ones(200), -np.ones(200)])
    auc, std = auc_with_uncertainty(all_scores, all_labels, sample_weight=all_w, n_bootstrap=300)
    assert auc == pytest.approx(roc_auc(scores, labels, sample_weight=w), abs=1e-12)
    _, reference_std = auc_with_uncertainty(scores, labels, sample_weight=w, n_bootstrap=300)
    # The cancelling pairs fluctuate independently in the bootstrap, so they add spread.
    assert std >= 0.8 * reference_std


def test_bootstrap_is_reproducible_and_seeded():
    scores, labels, _ = _sample(300, seed=12)
    assert auc_with_uncertainty(scores, labels, seed=3) == auc_with_uncertainty(scores, labels, seed=3)
    assert auc_with_uncertainty(scores, labels, seed=3)[1] != auc_with_uncertainty(scores, labels, seed=4)[1]


def test_bootstrap_errors():
    scores, labels, _ = _sample(10, seed=1)
    with pytest.raises(DataError, match="n_bootstrap must be an integer of at least 2, got 1"):
        auc_with_uncertainty(scores, labels, n_bootstrap=1)
    with pytest.raises(DataError, match="only signal"):
        auc_with_uncertainty(scores, np.ones(10))
    with pytest.raises(DataError, match="replicas have a positive total weight"):
        auc_with_uncertainty([0.1, 0.9], [0, 1], n_bootstrap=2, seed=2)


def test_bootstrap_of_a_million_events_is_fast():
    scores, labels, w = _sample(1_000_000, seed=13)
    start = time.perf_counter()
    auc, std = auc_with_uncertainty(scores, labels, sample_weight=w, n_bootstrap=200)
    elapsed = time.perf_counter() - start
    print(f"\nAUC bootstrap, 1M events x 200 replicas: {elapsed:.2f} s (AUC {auc:.5f} ± {std:.5f})")
    assert 0.0001 < std < 0.002


def test_efficiency_table_uses_the_curve_interpolation():
    scores, labels, w = _sample(5000, seed=14)
    roc = roc_curve(scores, labels, sample_weight=w)
    table = efficiency_table(roc)
    assert list(table) == ["rejection@eS=0.3", "rejection@eS=0.5", "eS@eB=0.01", "eS@eB=0.1", "eS@eB=0.3"]
    assert table["rejection@eS=0.5"] == roc.background_rejection(0.5)
    assert table["eS@eB=0.1"] == roc.signal_efficiency_at(0.1)
    assert table["eS@eB=0.01"] < table["eS@eB=0.1"] < table["eS@eB=0.3"]
    custom = efficiency_table(roc, signal_efficiencies=[0.9], background_efficiencies=())
    assert list(custom) == ["rejection@eS=0.9"]


def test_separation_closed_forms():
    # Disjoint distributions: 1; identical distributions: 0.
    assert separation([0.0, 0.1, 0.9, 1.0], [0, 0, 1, 1], bins=10) == pytest.approx(1.0)
    rng = np.random.default_rng(15)
    x = rng.normal(size=1000)
    assert separation(np.concatenate([x, x]), np.repeat([0, 1], 1000)) == pytest.approx(0.0, abs=1e-15)
    # Two bins: signal (3/4, 1/4), background (1/4, 3/4) → ½ · 2 · (½)² / 1 = 1/4.
    scores = [0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    assert separation(scores, labels, bins=2) == pytest.approx(0.25)
    # Weights act as counts.
    assert separation([0.0, 1.0, 0.0, 1.0], [1, 1, 0, 0], sample_weight=[1, 3, 3, 1], bins=2) == pytest.approx(0.25)


def test_separation_of_two_samples_of_one_distribution_stays_near_zero_at_every_size():
    """Each filled bin adds about (1/n_s + 1/n_b)/4: TMVA's 100 bins give 0.6 on 55 events per class."""
    rng = np.random.default_rng(17)
    for n in (110, 1000, 100_000):
        scores, labels = rng.random(n), rng.integers(0, 2, n)
        n_min = int(min(labels.sum(), n - labels.sum()))
        bins = min(100, int(np.sqrt(n_min)))
        expected = bins * (1 / labels.sum() + 1 / (n - labels.sum())) / 4
        assert separation(scores, labels) < 3 * expected and expected < 0.07
    assert separation(scores, labels) == separation(scores, labels, bins=100)  # TMVA's binning for large samples
    assert separation(rng.random(110), rng.integers(0, 2, 110), bins=100) > 0.3


def test_separation_with_cancelling_negative_weights():
    scores, labels, w = _sample(2000, seed=16)
    reference = separation(scores, labels, sample_weight=w, bins=20)
    extra = np.array([0.3, -0.2])
    value = separation(
        np.concatenate([scores, extra, extra]),
        np.concatenate([labels, [1, 0], [1, 0]]),
        sample_weight=np.concatenate([w, [2.0, 1.0], [-2.0, -1.0]]),
        bins=20,
    )
    assert value == pytest.approx(reference, rel=1e-12)


def test_separation_errors():
    with pytest.raises(DataError, match="bins must be a positive integer, got 0"):
        separation([0.0, 1.0], [0, 1], bins=0)
    with pytest.raises(DataError, match="NaN or infinite"):
        separation([0.0, np.inf], [0, 1])
    with pytest.raises(DataError, match=r"background events .* total weight of -1"):
        separation([0.0, 1.0], [0, 1], sample_weight=[-1.0, 1.0])
