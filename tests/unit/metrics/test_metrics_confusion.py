"""Weighted confusion matrices against scikit-learn and the cut of a signal efficiency."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from neyman.exceptions import DataError
from neyman.metrics import (
    ConfusionMatrix,
    accuracy,
    confusion_matrix,
    multiclass_accuracy,
    multiclass_confusion,
    threshold_at_efficiency,
)


def _binary(n: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = 1.0 / (1.0 + np.exp(-rng.normal(loc=2.0 * labels - 1.0)))
    return scores, labels, rng.uniform(0.1, 3.0, n)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.8])
def test_binary_matrix_matches_sklearn(weighted, threshold):
    scores, labels, w = _binary(3000, seed=1)
    sample_weight = w if weighted else None
    cm = confusion_matrix(scores, labels, threshold=threshold, sample_weight=sample_weight)
    expected = skm.confusion_matrix(labels, scores >= threshold, sample_weight=sample_weight)
    np.testing.assert_allclose(cm.matrix, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(cm.counts, skm.confusion_matrix(labels, scores >= threshold))
    assert cm.class_names == ("background", "signal")
    assert cm.threshold == threshold
    predicted = scores >= threshold
    assert cm.sensitivity == pytest.approx(skm.recall_score(labels, predicted, sample_weight=sample_weight), abs=1e-9)
    assert cm.purity == pytest.approx(skm.precision_score(labels, predicted, sample_weight=sample_weight), abs=1e-9)
    assert cm.precision == cm.purity
    assert cm.specificity == pytest.approx(
        skm.recall_score(labels, predicted, pos_label=0, sample_weight=sample_weight), abs=1e-9
    )
    assert cm.accuracy == pytest.approx(accuracy(scores, labels, threshold=threshold, sample_weight=sample_weight))


def test_binary_matrix_by_hand_and_read_only():
    cm = confusion_matrix([0.1, 0.6, 0.4, 0.9, 0.5], [0, 0, 1, 1, 1], sample_weight=[1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(cm.matrix, [[1.0, 2.0], [3.0, 9.0]])
    np.testing.assert_array_equal(cm.counts, [[1, 1], [1, 2]])
    assert cm.sensitivity == pytest.approx(9.0 / 12.0)
    assert cm.specificity == pytest.approx(1.0 / 3.0)
    assert cm.purity == pytest.approx(9.0 / 11.0)
    assert cm.accuracy == pytest.approx(10.0 / 15.0)
    with pytest.raises(ValueError, match="read-only"):
        cm.matrix[0, 0] = 5.0
    nothing_selected = confusion_matrix([0.1, 0.2], [0, 1], threshold=0.9)
    assert math.isnan(nothing_selected.purity)


def test_negative_weights_cancel_in_the_matrix():
    scores, labels, w = _binary(500, seed=2)
    reference = confusion_matrix(scores, labels, sample_weight=w)
    doubled = confusion_matrix(
        np.concatenate([scores, scores[:100]]),
        np.concatenate([labels, labels[:100]]),
        sample_weight=np.concatenate([w, -w[:100]]),
    )
    expected = confusion_matrix(scores[100:], labels[100:], sample_weight=w[100:])
    np.testing.assert_allclose(doubled.matrix, expected.matrix, atol=1e-9)
    assert doubled.counts.sum() == 600
    assert reference.matrix.sum() == pytest.approx(w.sum())


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_matrix_matches_sklearn(weighted):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, 2000)
    logits = rng.normal(size=(2000, 4)) + 1.5 * np.eye(4)[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    w = rng.uniform(0.1, 2.0, 2000) if weighted else None
    cm = multiclass_confusion(probabilities, labels, n_classes=4, sample_weight=w)
    expected = skm.confusion_matrix(labels, probabilities.argmax(axis=1), labels=range(4), sample_weight=w)
    np.testing.assert_allclose(cm.matrix, expected, rtol=0, atol=1e-9)
    assert cm.threshold is None
    assert cm.class_names == ("class 0", "class 1", "class 2", "class 3")
    assert cm.accuracy == pytest.approx(multiclass_accuracy(probabilities, labels, sample_weight=w))
    with pytest.raises(DataError, match="defined for a binary confusion matrix; this one has 4 classes"):
        _ = cm.sensitivity


def test_multiclass_names_and_errors():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    cm = multiclass_confusion(p, [0, 1], n_classes=3, class_names=["qcd", "top", "w"])
    assert cm.class_names == ("qcd", "top", "w")
    np.testing.assert_array_equal(cm.counts, [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    with pytest.raises(DataError, match="probabilities has 3 columns but n_classes is 4"):
        multiclass_confusion(p, [0, 1], n_classes=4)
    with pytest.raises(DataError, match="class_names has 2 names but there are 3 classes"):
        multiclass_confusion(p, [0, 1], n_classes=3, class_names=["a", "b"])
    with pytest.raises(DataError, match=r"labels must be integer class indices in \[0, 3\)"):
        multiclass_confusion(p, [0, 3], n_classes=3)
    with pytest.raises(DataError, match="must have shape"):
        ConfusionMatrix(matrix=np.zeros((2, 2)), counts=np.zeros((2, 2)), class_names=("a", "b", "c"))


@pytest.mark.parametrize("efficiency", [0.05, 0.3, 0.5, 0.77, 1.0])
def test_threshold_reaches_the_efficiency_with_the_tightest_cut(efficiency):
    scores, labels, w = _binary(2000, seed=4)
    scores = np.round(scores, 2)  # ties
    cut = threshold_at_efficiency(scores, labels, efficiency, sample_weight=w)
    signal = labels == 1

    def eff(t):
        return w[signal & (scores >= t)].sum() / w[signal].sum()

    assert eff(cut) >= efficiency - 1e-12
    tighter = scores[signal & (scores > cut)]
    if len(tighter):
        assert eff(tighter.min()) < efficiency
    assert cut in scores[signal]


def test_threshold_unit_weights_exact_fractions():
    scores = np.arange(10, dtype=float)
    labels = np.ones(10)
    assert threshold_at_efficiency(scores, labels, 0.3) == 7.0
    assert threshold_at_efficiency(scores, labels, 0.31) == 6.0
    assert threshold_at_efficiency(scores, labels, 1.0) == 0.0
    # A +w/−w pair at a high score cancels.
    with_pair = np.concatenate([scores, [20.0, 20.0]])
    weights = np.concatenate([np.ones(10), [1.0, -1.0]])
    assert threshold_at_efficiency(with_pair, np.ones(12), 0.3, sample_weight=weights) == 7.0


def test_threshold_errors():
    with pytest.raises(DataError, match=r"efficiency must be in \(0, 1\], got 0"):
        threshold_at_efficiency([0.1, 0.2], [1, 1], 0)
    with pytest.raises(DataError, match="no signal events"):
        threshold_at_efficiency([0.1, 0.2], [0, 0], 0.5)
