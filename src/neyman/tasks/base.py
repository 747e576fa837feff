"""The task interface: what is learned, and what a task says about its own results.

A task is independent of the model family.  Neural models minimise
:meth:`Task.loss` on raw network outputs; every model turns raw outputs into
scores with :meth:`Task.scores`.  A task also owns how its scores are judged: the
headline numbers of a training (:meth:`Task.headline_metrics`) and the complete
evaluation (:meth:`Task.evaluate`), each a pure function of scored events that
returns plain numbers or a frozen result; figures are drawn from those results
by :mod:`neyman.plotting`.

All losses are weighted per event.  The trainer normalises the training weights
to unit mean once, so a batch loss ``mean(w_i * l_i)`` is an unbiased estimate of
the weighted expected loss, also when some weights are negative (a per-batch
``sum(w l) / sum(w)`` would divide by a total that can be near zero or negative).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from neyman.table import TARGET

if TYPE_CHECKING:
    import torch

__all__ = ["EvaluationOptions", "ScoredEvents", "Task", "TaskEvaluation"]

ImportanceMetric = Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]
"""``m(scores, truth, weights)``: larger is better."""


@dataclass(frozen=True)
class ScoredEvents:
    """Scores, truth and weights of a set of events, with their split and fold.

    Attributes
    ----------
    scores
        ``(n_events,)`` for one score per event, ``(n_events, k)`` otherwise.
    truth
        Class indices or regression targets.
    weight
        Event weights (may be negative).
    split
        Split code of each event (0 train, 1 validation, 2 test).
    fold
        Fold whose model scored the event (-1 without k-fold).
    event_id
        Event numbers.
    """

    scores: np.ndarray
    truth: np.ndarray
    weight: np.ndarray
    split: np.ndarray
    fold: np.ndarray
    event_id: np.ndarray

    def part(self, code: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scores, truth and weights of the events of split ``code``."""
        sel = self.split == code
        return self.scores[sel], self.truth[sel], self.weight[sel]


@dataclass(frozen=True)
class EvaluationOptions:
    """What an evaluation is asked for, beyond the events themselves.

    Attributes
    ----------
    classes
        Class names (classification).
    working_point
        Score threshold of the confusion matrix and accuracy (binary).
    yields
        Expected signal and background yields ``(S, B)`` for a significance scan.
    sigma_b
        Relative background uncertainty of the Asimov significance.
    n_bootstrap
        Bootstrap replicas of the AUC uncertainty.
    seed
        Seed of the bootstrap.
    balanced
        Whether the training balanced the classes (the prior of f/(1-f)).
    true_log_ratio
        Known log-likelihood ratio of every event (synthetic data), or ``None``.
    by_values, by_name
        Regression: the values to bin the response in and their name (default: the target).
    discriminant
        Multi-class: the signal class and the background classes with their
        fractions of the mixture, for ``D = ln p_S / Σ f_j p_j``; ``None`` for none.
    sculpted
        Binary: the variable the tagger should not sculpt (``training.decorrelate``)
        as its name and its values for every event, or ``None``.
    model_uncertainty
        The model's uncertainty of the test events, ``(n_test, k)`` in the columns of
        :meth:`Task.uncertainty_names`, for a model that estimates it; else ``None``.
    """

    classes: tuple[str, ...] = ()
    working_point: float = 0.5
    yields: tuple[float, float] | None = None
    sigma_b: float = 0.0
    n_bootstrap: int = 200
    seed: int = 0
    balanced: bool = False
    true_log_ratio: np.ndarray | None = None
    by_values: np.ndarray | None = None
    by_name: str = "target"
    discriminant: tuple[str, dict[str, float]] | None = None
    sculpted: tuple[str, np.ndarray] | None = None
    model_uncertainty: np.ndarray | None = None


@dataclass(frozen=True)
class TaskEvaluation:
    """The evaluation of one task's scores: its numbers and what its figures show.

    Attributes
    ----------
    numbers
        Everything that goes into ``metrics.json`` (JSON-ready values).
    """

    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """Base class of tasks.

    Attributes
    ----------
    name
        Registry name (``binary``, ``multiclass``, ``regression``, ``gaussian``).
    is_classification
        Whether the target is a class index.
    truth_column
        The reserved table column holding what is learned (``label`` or ``target``).
    target_dtype
        NumPy dtype of the targets a model is trained on.
    output_head
        How raw outputs become scores, by name: ``sigmoid``, ``softmax``,
        ``identity``, ``gaussian`` (identity mean, ``exp`` of the clipped
        log-width) or ``density`` (``-ln p``, ``ln p``); the ONNX export builds
        the same head from it.
    standardise_target
        Whether neural models learn ``(y - mean) / std`` (regressions) and
        :meth:`rescale_raw` undoes it.
    fixed_classes
        Class names of a task with a fixed set of classes (binary: background,
        signal); empty when the data name them.
    neural_only
        Whether only neural models can learn the task (its loss is not one a
        boosted-tree library offers).
    summary
        What the task learns, in a few words (for messages and help texts).
    ranking_metric
        The test-split headline number that ranks models booked together, and
        whether larger is better (``("auc", True)``, ``("mse", False)``).
    evaluation_options
        The :class:`EvaluationOptions` a user may set for this task's evaluation
        (``working_point``, ``yields``, ``sigma_b``, ``by``); others are refused.
    reads_labels
        ``required`` (classifiers: every event has a class), ``optional``
        (unsupervised tasks: labels, when given, only judge the score; events
        without one are background) or ``no`` (regressions).
    objective
        What the model families that learn the task optimise: ``supervised``
        (the task's loss on targets), ``reconstruction`` (autoencoders) or
        ``density`` (normalizing flows); a family declares the objective it serves.
    importance_change
        What a feature's permutation importance measures, in words for reports
        (the change of :meth:`importance_metric` when the feature is shuffled).
    """

    name: ClassVar[str] = ""
    is_classification: ClassVar[bool] = False
    truth_column: ClassVar[str] = TARGET
    target_dtype: ClassVar[type[np.generic]] = np.float64
    output_head: ClassVar[str] = "identity"
    standardise_target: ClassVar[bool] = False
    fixed_classes: ClassVar[tuple[str, ...]] = ()
    neural_only: ClassVar[bool] = False
    summary: ClassVar[str] = ""
    evaluation_options: ClassVar[frozenset[str]] = frozenset()
    ranking_metric: ClassVar[tuple[str, bool]] = ("loss", False)
    reads_labels: ClassVar[str] = "no"
    objective: ClassVar[str] = "supervised"
    importance_change: ClassVar[str] = ""

    @property
    def n_outputs(self) -> int:
        """Size of the network's output layer."""
        raise NotImplementedError

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regressions)."""
        return 0

    def class_names(self, n_labels: int) -> list[str]:
        """Class names when the labels are integers ``0..n_labels-1`` of a label column."""
        return list(self.fixed_classes) or [f"class_{k}" for k in range(n_labels)]

    def score_names(self, classes: Sequence[str] = ()) -> list[str]:
        """Names of the score columns that :meth:`scores` returns.

        Parameters
        ----------
        classes
            Class names of the run (multi-class scores are named after them).
        """
        raise NotImplementedError

    def rescale_raw(self, raw: np.ndarray, mean: float, std: float) -> np.ndarray:
        """Raw outputs of a network trained on standardised targets, in the target's units.

        Notes
        -----
        A regression network trained on ``(y - m) / s`` predicts ``f``; the mean in
        the target's units is ``f s + m`` and a log-width ``log σ`` becomes
        ``log σ + log s``.  Classification outputs are returned unchanged.
        """
        return raw

    def scaled_intervals(self, draws: np.ndarray, scale: float) -> np.ndarray:
        """Draws of raw outputs ``(n_draws, n_events, n_outputs)`` with their intervals scaled by ``scale``.

        Tasks without predicted intervals return the draws unchanged (see
        :meth:`interval_scale`).
        """
        return draws

    def interval_scale(
        self, scores: np.ndarray, spread: Callable[[], np.ndarray], truth: np.ndarray, weights: np.ndarray
    ) -> float:
        """The factor that makes the predicted intervals cover their nominal fraction of ``truth``.

        ``scores`` are a model's scores of held-out events, ``spread`` computes
        its model uncertainty of them (:meth:`uncertainty`), called only by tasks
        that calibrate.  Tasks without predicted intervals return 1.
        """
        return 1.0

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Weighted mean loss of a batch of raw outputs."""
        raise NotImplementedError

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        """Turn raw outputs of shape ``(n_events, n_outputs)`` into scores."""
        raise NotImplementedError

    def combine_folds(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        """The raw output of the k-fold ensemble from its fold models' raw outputs: their mean.

        The mean of logits (or of regression outputs) is the ensemble's output; a task
        whose raw output must stay a normalised quantity combines otherwise.
        """
        return np.asarray(np.mean(outputs, axis=0))

    def uncertainty_names(self, classes: Sequence[str] = ()) -> list[str]:
        """Names of the model-uncertainty columns :meth:`uncertainty` returns (``score_std``, ...)."""
        return [f"{name}_std" for name in self.score_names(classes)]

    def uncertainty(self, draws: np.ndarray) -> np.ndarray:
        """The model's uncertainty per event from draws of its raw outputs.

        Parameters
        ----------
        draws
            ``(n_draws, n_events, n_outputs)``: ensemble members, dropout masks or
            weight draws of a Bayesian network.

        Returns
        -------
        numpy.ndarray
            ``(n_events, k)``, one column per :meth:`uncertainty_names`.

        Notes
        -----
        The standard deviation over draws of each score,
        :math:`\\sigma_s = \\sqrt{\\langle s^2 \\rangle - \\langle s \\rangle^2}`.
        """
        scores = np.stack([np.asarray(self.scores(d), dtype=np.float64).reshape(d.shape[0], -1) for d in draws])
        return np.asarray(scores.std(axis=0))

    def event_scores(self, score_matrix: np.ndarray) -> np.ndarray:
        """Scores in the shape :meth:`evaluate` takes, from one column per score name.

        One-score tasks give ``(n_events,)``; the others keep their columns.
        """
        m = np.asarray(score_matrix, dtype=np.float64)
        return m[:, 0] if m.ndim == 2 and len(self.score_names()) == 1 else m

    # -- what is learned from which events -----------------------------------------
    def learns_from(self, truth: np.ndarray) -> np.ndarray:
        """Which events the model may learn from (and the preprocessing be fitted on): all of them."""
        return np.ones(len(truth), dtype=bool)

    def training_weights(self, truth: np.ndarray, weights: np.ndarray, *, balance: bool) -> np.ndarray:
        """The weights a model trains with: the event weights, the classes balanced when asked.

        Notes
        -----
        Balancing scales each class to the same total weight
        (:func:`neyman.preprocessing.balance_classes`); it applies to tasks with
        classes only.
        """
        from neyman.preprocessing import balance_classes

        w = np.asarray(weights, dtype=np.float64)
        if balance and self.n_classes and len(truth):
            return balance_classes(truth, w, n_classes=self.n_classes)
        return w

    def check_inputs(self, x: Any, names: Sequence[str], *, given: Sequence[str] = ()) -> None:
        """Refuse inputs the task cannot learn from (beyond the checks every task makes); default: none.

        ``given`` names the columns the model is conditioned on (a conditional density's).
        """

    # -- judging the scores ---------------------------------------------------------
    def headline_metrics(
        self, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, *, classes: Sequence[str] = ()
    ) -> dict[str, float]:
        """The numbers a training reports for one set of events (``metrics.json``).

        Every task gives ``n_events`` and ``sum_weights``; the rest is the task's own
        (see the subclasses).
        """
        out = {"n_events": float(len(truth)), "sum_weights": float(np.sum(weights))}
        if len(truth):
            out.update(self._headline(np.asarray(scores), np.asarray(truth), np.asarray(weights), classes))
        return out

    def _headline(
        self, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, classes: Sequence[str]
    ) -> dict[str, float]:
        raise NotImplementedError

    def metric_names(self, classes: Sequence[str] = (), *, labelled: bool = True) -> list[str]:
        """Names of the numbers :meth:`headline_metrics` gives for one set of events.

        Found by judging a tiny example (every score column equal, truths cycling
        through the classes; all of class 0 when the run reads no labels, ``labelled``
        False), so the list never drifts from what a run writes.
        """
        n, k = 8, max(2, len(classes)) if labelled else 1
        cols = len(self.score_names(classes))
        truth = (np.arange(n) % k).astype(self.target_dtype)
        example = self.event_scores(np.full((n, cols), 1.0 / cols))
        return sorted(self.headline_metrics(example, truth, np.ones(n), classes=classes))

    def overtraining(self, events: ScoredEvents) -> dict[str, float]:
        """A quick overtraining indicator from the training and test events (empty when the task has none)."""
        return {}

    def evaluate(self, events: ScoredEvents, options: EvaluationOptions) -> TaskEvaluation:
        """The complete evaluation of the test events of ``events``."""
        raise NotImplementedError

    def core_evaluation(self, events: ScoredEvents, options: EvaluationOptions) -> TaskEvaluation:
        """The quick look a training leaves behind (the data of its core figures only)."""
        return TaskEvaluation()

    def importance_metric(self) -> ImportanceMetric:
        """The metric ``m(s, y, w)`` whose drop measures a feature's importance.

        It takes one value per event, as :meth:`importance_scores` forms them; a
        larger value is better.
        """
        raise NotImplementedError

    def importance_scores(self, scores: np.ndarray) -> np.ndarray:
        """One value per event for :meth:`importance_metric` (default: the first score)."""
        s = np.asarray(scores, dtype=np.float64)
        return s[:, 0] if s.ndim == 2 else s
