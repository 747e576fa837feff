import numpy as np
import pytest
import torch

from neyman.exceptions import ConfigError
from neyman.tasks import BinaryTask, GaussianTask, MulticlassTask, RegressionTask, make_task


def test_binary_loss_is_weighted_bce():
    task = BinaryTask()
    logits = torch.tensor([[0.3], [-1.2], [2.0]])
    y = torch.tensor([1, 0, 1])
    w = torch.tensor([1.0, 2.0, -0.5])
    p = torch.sigmoid(logits[:, 0])
    expected = (w * -(y * p.log() + (1 - y) * (1 - p).log())).mean()
    assert torch.allclose(task.loss(logits, y, w), expected)
    assert np.allclose(task.scores(logits.numpy()), p.numpy())


def test_multiclass_scores_are_softmax():
    task = MulticlassTask(k=3)
    a = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    s = task.scores(a)
    assert np.allclose(s.sum(axis=1), 1)
    assert np.allclose(s[1], 1 / 3)
    loss = task.loss(torch.tensor(a), torch.tensor([2, 0]), torch.ones(2, dtype=torch.float64))
    assert float(loss) == pytest.approx(np.mean([-np.log(s[0, 2]), -np.log(s[1, 0])]))


def test_gaussian_nll_minimum_is_at_true_sigma():
    # for y ~ N(0, 0.7) the NLL as a function of a constant sigma is minimal at 0.7
    gen = torch.Generator().manual_seed(0)
    y = 0.7 * torch.randn(200_000, generator=gen)
    task = GaussianTask()
    sigmas = np.linspace(0.4, 1.0, 61)
    losses = [
        float(
            task.loss(
                torch.stack([torch.zeros_like(y), torch.full_like(y, np.log(s))], 1),
                y,
                torch.ones_like(y),
            )
        )
        for s in sigmas
    ]
    assert sigmas[int(np.argmin(losses))] == pytest.approx(0.7, abs=0.02)
    assert task.scores(np.array([[1.0, np.log(0.5)]]))[0, 1] == pytest.approx(0.5)


def test_regression_loss_and_registry():
    task = make_task("regression")
    assert isinstance(task, RegressionTask)
    out = torch.tensor([[1.0], [3.0]])
    assert float(task.loss(out, torch.tensor([0.0, 0.0]), torch.ones(2))) == pytest.approx(5.0)
    with pytest.raises(ConfigError, match="did you mean 'binary'"):
        make_task("binari")


def test_binary_scores_of_extreme_logits_warn_of_nothing():
    import warnings

    logits = np.array([[-1000.0], [-5.0], [0.0], [5.0], [1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the plain 1/(1 + e^{-z}) overflows below z = -709
        scores = make_task("binary").scores(logits)
    assert np.allclose(scores, [0.0, 1 / (1 + np.exp(5.0)), 0.5, 1 / (1 + np.exp(-5.0)), 1.0], rtol=1e-12, atol=0)


def test_a_kfold_gaussian_ensemble_is_the_mixture_of_its_folds():
    """Two folds predicting N(0, 1) and N(2, 1): the mixture has mean 1 and variance 1 + 1 (not the mean of ln σ)."""
    task = GaussianTask()
    folds = [np.array([[0.0, 0.0], [5.0, np.log(2.0)]]), np.array([[2.0, 0.0], [5.0, np.log(2.0)]])]
    combined = task.scores(task.combine_folds(folds))
    np.testing.assert_allclose(combined[:, 0], [1.0, 5.0])
    np.testing.assert_allclose(combined[:, 1], [np.sqrt(2.0), 2.0])
    # the mixture's own moments, drawn
    rng = np.random.default_rng(0)
    draws = np.r_[rng.normal(0.0, 1.0, 200_000), rng.normal(2.0, 1.0, 200_000)]
    assert draws.std() == pytest.approx(combined[0, 1], rel=0.01)


def test_a_balanced_classifier_is_judged_calibrated_at_the_mix_it_was_trained_for():
    """1 signal in 10, a score calibrated at equal priors: the curve follows the diagonal only at that mix."""
    from neyman.preprocessing import TEST
    from neyman.tasks.base import EvaluationOptions, ScoredEvents

    rng = np.random.default_rng(4)
    y = (rng.random(200_000) < 0.1).astype(np.int64)
    x = rng.normal(size=len(y)) + y
    score = 1 / (1 + np.exp(-(x - 0.5)))  # p(S | x) at equal priors for unit Gaussians one apart
    n = len(y)
    events = ScoredEvents(score, y, np.ones(n), np.full(n, TEST), np.full(n, -1), np.arange(n))
    for balanced in (True, False):
        ev = BinaryTask().evaluate(events, EvaluationOptions(classes=("b", "s"), balanced=balanced, n_bootstrap=2))
        predicted, observed = ev.reliability
        off = np.nanmax(np.abs(observed - predicted)[predicted > 0.2])
        assert ev.reliability_balanced is balanced
        assert (off < 0.03) if balanced else (off > 0.3)
