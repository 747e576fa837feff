"""Weighted classification metrics against scikit-learn and hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from neyman.exceptions import DataError
from neyman.metrics import (
    RocCurve,
    accuracy,
    background_rejection,
    binary_cross_entropy,
    multiclass_accuracy,
    multiclass_cross_entropy,
    multiclass_discriminant,
    roc_auc,
    roc_curve,
    signal_efficiency_at,
)


def _sample(n: int, seed: int, *, decimals: int | None = None):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = rng.normal(loc=labels * 1.0, scale=1.0)
    if decimals is not None:
        scores = np.round(scores, decimals)
    weights = rng.uniform(0.05, 3.0, n)
    return scores, labels, weights


def _pairwise_auc(scores, labels, weights):
    """P(s_signal > s_background) with ties counting one half, by brute force."""
    sig, bkg = labels == 1, labels == 0
    diff = scores[sig][:, None] - scores[bkg][None, :]
    wins = (diff > 0) + 0.5 * (diff == 0)
    pair_w = weights[sig][:, None] * weights[bkg][None, :]
    return float(np.sum(wins * pair_w) / (weights[sig].sum() * weights[bkg].sum()))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("decimals", [None, 1])
def test_roc_curve_matches_sklearn(weighted, decimals):
    scores, labels, w = _sample(2000, seed=1, decimals=decimals)
    sample_weight = w if weighted else None
    roc = roc_curve(scores, labels, sample_weight=sample_weight)
    fpr, tpr, thr = skm.roc_curve(labels, scores, sample_weight=sample_weight, drop_intermediate=False)
    np.testing.assert_allclose(roc.fpr, fpr, rtol=0, atol=1e-9)
    np.testing.assert_allclose(roc.tpr, tpr, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(roc.thresholds, thr)
    assert roc.thresholds[0] == np.inf
    assert (roc.fpr[0], roc.tpr[0]) == (0.0, 0.0)
    assert (roc.fpr[-1], roc.tpr[-1]) == (1.0, 1.0)
    if decimals is not None:
        assert len(roc.thresholds) == len(np.unique(scores)) + 1


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_roc_auc_matches_sklearn_and_pairwise_definition(weighted, decimals):
    scores, labels, w = _sample(1500, seed=2, decimals=decimals)
    sample_weight = w if weighted else None
    auc = roc_auc(scores, labels, sample_weight=sample_weight)
    assert auc == pytest.approx(skm.roc_auc_score(labels, scores, sample_weight=sample_weight), abs=1e-9)
    ones = np.ones(len(scores))
    assert auc == pytest.approx(_pairwise_auc(scores, labels, w if weighted else ones), abs=1e-9)


def test_roc_accepts_boolean_labels_and_infinite_scores():
    scores = np.array([np.inf, np.inf, 1.0, -np.inf, 0.5])
    labels = np.array([True, False, True, False, False])
    roc = roc_curve(scores, labels)
    np.testing.assert_array_equal(roc.thresholds, [np.inf, np.inf, 1.0, 0.5, -np.inf])
    np.testing.assert_allclose(roc.tpr, [0, 0.5, 1, 1, 1])
    np.testing.assert_allclose(roc.fpr, [0, 1 / 3, 1 / 3, 2 / 3, 1])


def test_negative_weights_cancel_exactly():
    scores, labels, w = _sample(500, seed=3, decimals=2)
    rng = np.random.default_rng(4)
    extra = rng.choice(len(scores), size=200, replace=False)
    v = rng.uniform(0.1, 5.0, len(extra))
    all_scores = np.concatenate([scores, scores[extra], scores[extra]])
    all_labels = np.concatenate([labels, labels[extra], labels[extra]])
    all_weights = np.concatenate([w, v, -v])
    order = rng.permutation(len(all_scores))
    all_scores, all_labels, all_weights = all_scores[order], all_labels[order], all_weights[order]

    reference = roc_curve(scores, labels, sample_weight=w)
    roc = roc_curve(all_scores, all_labels, sample_weight=all_weights)
    np.testing.assert_array_equal(roc.thresholds, reference.thresholds)
    np.testing.assert_allclose(roc.tpr, reference.tpr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(roc.fpr, reference.fpr, rtol=0, atol=1e-12)
    assert roc_auc(all_scores, all_labels, sample_weight=all_weights) == pytest.approx(
        roc_auc(scores, labels, sample_weight=w), abs=1e-12
    )


def test_negative_weight_background_event_lowers_background_efficiency():
    scores = np.array([0.9, 0.6, 0.8, 0.7, 0.3])
    labels = np.array([1, 1, 0, 0, 0])
    weights = np.array([1.0, 1.0, 2.0, -1.0, 1.0])  # background total: 2
    roc = roc_curve(scores, labels, sample_weight=weights)
    np.testing.assert_array_equal(roc.thresholds, [np.inf, 0.9, 0.8, 0.7, 0.6, 0.3])
    np.testing.assert_allclose(roc.fpr, [0, 0, 1.0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(roc.tpr, [0, 0.5, 0.5, 0.5, 1.0, 1.0])
    # Pairs: 0.9 beats every background (2 - 1 + 1 = 2), 0.6 beats 0.3 only (1); / (2 * 2).
    assert roc.auc() == pytest.approx(0.75, abs=1e-15)
    assert _pairwise_auc(scores, labels, weights) == pytest.approx(0.75)


def test_negative_weights_random_sample_matches_pairwise_definition():
    scores, labels, w = _sample(800, seed=5, decimals=1)
    rng = np.random.default_rng(6)
    w = np.where(rng.random(len(w)) < 0.2, -0.3 * w, w)
    assert roc_auc(scores, labels, sample_weight=w) == pytest.approx(_pairwise_auc(scores, labels, w), abs=1e-12)


def test_zero_weight_events_are_ignored():
    scores, labels, w = _sample(300, seed=7)
    w[::3] = 0.0
    keep = w != 0
    roc = roc_curve(scores, labels, sample_weight=w)
    ref = roc_curve(scores[keep], labels[keep], sample_weight=w[keep])
    np.testing.assert_array_equal(roc.tpr, ref.tpr)
    np.testing.assert_array_equal(roc.fpr, ref.fpr)


@pytest.mark.parametrize(
    ("scores", "labels", "weights", "message"),
    [
        ([0.1, 0.2, 0.3], [1, 1, 1], None, r"only signal \(1\) events \(3 of them\)"),
        ([0.1, 0.2], [0, 0], None, r"only background \(0\) events"),
        ([0.1, 0.2, 0.3], [1, 0, 0], [1.0, 0.0, 0.0], r"background events \(label 0\).* 0;"),
        ([0.1, 0.2, 0.3], [1, 0, 1], [1.0, 1.0, -2.5], r"signal events \(label 1\).* -1.5"),
        ([0.1, np.nan, 0.3], [1, 0, 1], None, r"scores contains 1 NaN value"),
        ([0.1, 0.2, 0.3], [1, 0], None, r"labels has 2 entries but scores has 3"),
        ([0.1, 0.2], [1, 0], [1.0], r"sample_weight has 1 entries but scores has 2"),
        ([0.1, 0.2], [1, 2], None, r"must be 0 \(background\) or 1 \(signal\), found \[2\]"),
        ([], [], None, r"empty"),
    ],
)
def test_roc_curve_rejects_bad_input(scores, labels, weights, message):
    with pytest.raises(DataError, match=message):
        roc_curve(scores, labels, sample_weight=weights)


def test_roc_curve_is_read_only():
    roc = roc_curve([0.1, 0.9], [0, 1])
    with pytest.raises(ValueError, match="read-only"):
        roc.tpr[0] = 1.0


def test_background_rejection_and_signal_efficiency_on_hand_built_curve():
    roc = RocCurve(
        signal_efficiency=[0.0, 0.2, 0.6, 1.0],
        background_efficiency=[0.0, 0.01, 0.1, 1.0],
        thresholds=[np.inf, 3.0, 2.0, 1.0],
    )
    assert background_rejection(roc, 0.2) == pytest.approx(100.0)
    # Halfway between 0.2 and 0.6: eps_B = 0.01 + 0.5 * 0.09.
    assert background_rejection(roc, 0.4) == pytest.approx(1 / 0.055)
    assert background_rejection(roc, 1.0) == pytest.approx(1.0)
    assert background_rejection(roc, 0.0) == math.inf
    assert roc.background_rejection(0.4) == background_rejection(roc, 0.4)
    assert signal_efficiency_at(roc, 0.055) == pytest.approx(0.4)
    assert signal_efficiency_at(roc, 0.01) == pytest.approx(0.2)
    assert signal_efficiency_at(roc, 1.0) == pytest.approx(1.0)
    assert roc.signal_efficiency_at(0.055) == pytest.approx(0.4)
    with pytest.raises(DataError, match=r"signal_efficiency must be in \[0, 1\], got 1.5"):
        background_rejection(roc, 1.5)


def test_working_points_take_the_best_cut_on_flat_stretches():
    flat_signal = RocCurve(
        signal_efficiency=[0.0, 0.5, 0.5, 1.0],
        background_efficiency=[0.0, 0.1, 0.3, 1.0],
        thresholds=[np.inf, 3.0, 2.0, 1.0],
    )
    assert background_rejection(flat_signal, 0.5) == pytest.approx(10.0)
    flat_background = RocCurve(
        signal_efficiency=[0.0, 0.3, 0.6, 1.0],
        background_efficiency=[0.0, 0.1, 0.1, 1.0],
        thresholds=[np.inf, 3.0, 2.0, 1.0],
    )
    assert signal_efficiency_at(flat_background, 0.1) == pytest.approx(0.6)


def test_background_rejection_on_a_real_curve_matches_interpolation():
    scores, labels, w = _sample(5000, seed=8)
    roc = roc_curve(scores, labels, sample_weight=w)
    fpr, tpr, _ = skm.roc_curve(labels, scores, sample_weight=w)
    expected = 1 / np.interp(0.5, tpr, fpr)
    assert background_rejection(roc, 0.5) == pytest.approx(expected, rel=1e-3)


def test_accuracy_matches_sklearn():
    scores, labels, w = _sample(1000, seed=9)
    probabilities = 1 / (1 + np.exp(-scores))
    expected = skm.accuracy_score(labels, probabilities >= 0.5, sample_weight=w)
    assert accuracy(probabilities, labels, sample_weight=w) == pytest.approx(expected, abs=1e-12)
    assert accuracy(scores, labels, threshold=0.0) == pytest.approx(
        skm.accuracy_score(labels, scores >= 0.0), abs=1e-12
    )


def test_binary_cross_entropy_matches_sklearn_log_loss():
    scores, labels, w = _sample(1000, seed=10)
    p = 1 / (1 + np.exp(-scores))
    assert binary_cross_entropy(p, labels, sample_weight=w) == pytest.approx(
        skm.log_loss(labels, p, sample_weight=w), abs=1e-12
    )
    assert binary_cross_entropy(p, labels) == pytest.approx(skm.log_loss(labels, p), abs=1e-12)


def test_binary_cross_entropy_clips_and_rejects_logits():
    value = binary_cross_entropy([0.0, 1.0], [1, 0])
    assert np.isfinite(value) and value > 30
    with pytest.raises(DataError, match="not logits"):
        binary_cross_entropy([-2.0, 3.0], [0, 1])
    with pytest.raises(DataError, match="total weight of the events is 0"):
        binary_cross_entropy([0.2, 0.3], [0, 1], sample_weight=[0.0, 0.0])


def test_multiclass_metrics_match_sklearn():
    rng = np.random.default_rng(11)
    logits = rng.normal(size=(600, 3))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 3, 600)
    w = rng.uniform(0.1, 2.0, 600)
    assert multiclass_accuracy(p, labels, sample_weight=w) == pytest.approx(
        skm.accuracy_score(labels, p.argmax(axis=1), sample_weight=w), abs=1e-12
    )
    assert multiclass_cross_entropy(p, labels, sample_weight=w) == pytest.approx(
        skm.log_loss(labels, p, sample_weight=w, labels=[0, 1, 2]), abs=1e-12
    )
    with pytest.raises(DataError, match=r"class indices in \[0, 3\).*found \[3\]"):
        multiclass_accuracy(p[:2], [0, 3])


def test_multiclass_discriminant_by_hand():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.0, 0.5, 0.5]])
    d = multiclass_discriminant(p, signal=0, backgrounds={1: 0.25, 2: 0.75})
    expected_first = math.log(0.7 / (0.25 * 0.2 + 0.75 * 0.1))
    expected_second = math.log(0.1 / (0.25 * 0.3 + 0.75 * 0.6))
    np.testing.assert_allclose(d[:2], [expected_first, expected_second], rtol=1e-14)
    assert np.isfinite(d[2]) and d[2] < -700


@pytest.mark.parametrize(
    ("signal", "backgrounds", "message"),
    [
        (0, {1: 0.5, 2: 0.4}, r"must sum to 1.*sum 0.9"),
        (0, {1: 1.5, 2: -0.5}, "non-negative"),
        (0, {0: 0.5, 2: 0.5}, "also listed among the backgrounds"),
        (0, {3: 1.0}, r"class index 3 is not in \[0, 3\)"),
        (0, {}, "at least one background"),
    ],
)
def test_multiclass_discriminant_rejects_bad_fractions(signal, backgrounds, message):
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(DataError, match=message):
        multiclass_discriminant(p, signal=signal, backgrounds=backgrounds)
