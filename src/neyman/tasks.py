"""What is learned: the loss, the output head and how raw outputs become scores.

A task is independent of the model family.  Neural models minimise
:meth:`Task.loss` on raw network outputs; every model turns raw outputs into
scores with :meth:`Task.scores`.

All losses are weighted per event.  The trainer normalises the training weights
to unit mean once, so a batch loss ``mean(w_i * l_i)`` is an unbiased estimate of
the weighted expected loss, also when some weights are negative (a per-batch
``sum(w l) / sum(w)`` would divide by a total that can be near zero or negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from neyman.exceptions import ConfigError

if TYPE_CHECKING:
    import torch

__all__ = [
    "TASKS",
    "BinaryTask",
    "GaussianTask",
    "MulticlassTask",
    "RegressionTask",
    "Task",
    "make_task",
]

_LOG_SIGMA_MIN = -12.0
_LOG_SIGMA_MAX = 12.0


@dataclass(frozen=True)
class Task:
    """Base class of tasks.

    Attributes
    ----------
    name
        Registry name (``binary``, ``multiclass``, ``regression``, ``gaussian``).
    is_classification
        Whether the target is a class index.
    """

    name: ClassVar[str] = ""
    is_classification: ClassVar[bool] = False

    @property
    def n_outputs(self) -> int:
        """Size of the network's output layer."""
        raise NotImplementedError

    def score_names(self) -> list[str]:
        """Names of the score columns that :meth:`scores` returns."""
        raise NotImplementedError

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Weighted mean loss of a batch of raw outputs."""
        raise NotImplementedError

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        """Turn raw outputs of shape ``(n_events, n_outputs)`` into scores."""
        raise NotImplementedError


@dataclass(frozen=True)
class BinaryTask(Task):
    """Signal vs background with the weighted binary cross-entropy.

    Notes
    -----
    The network outputs a logit ``a(x)``; the score is ``s = 1 / (1 + e^{-a})`` and
    the loss per event is

    .. math:: \\ell = -[y \\log s + (1 - y) \\log(1 - s)].

    Minimising it makes ``s(x) / (1 - s(x))`` an estimate of the likelihood ratio
    ``p_S(x) / p_B(x)`` times the ratio of class priors, so ``a(x)`` is the log
    likelihood ratio up to a constant.
    """

    name: ClassVar[str] = "binary"
    is_classification: ClassVar[bool] = True

    @property
    def n_outputs(self) -> int:
        return 1

    def score_names(self) -> list[str]:
        return ["score"]

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        per_event = F.binary_cross_entropy_with_logits(outputs[:, 0], targets.to(outputs.dtype), reduction="none")
        return (weights * per_event).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        logits = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)[:, 0]
        return np.asarray(1.0 / (1.0 + np.exp(-logits)))


@dataclass(frozen=True)
class MulticlassTask(Task):
    """One of ``k`` classes with the weighted softmax cross-entropy.

    Notes
    -----
    ``p_k(x) = softmax(a(x))_k`` and ``l = -log p_y(x)``.  Scores are the class
    probabilities; a two-class discriminant such as the X→bb̄ tagger's
    ``log(p_A / (f p_B + (1-f) p_C))`` is built from them
    (:func:`neyman.metrics.multiclass_discriminant`).
    """

    n_classes: int = 3
    name: ClassVar[str] = "multiclass"
    is_classification: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.n_classes < 2:
            raise ConfigError(f"a multiclass task needs at least 2 classes, got {self.n_classes}")

    @property
    def n_outputs(self) -> int:
        return self.n_classes

    def score_names(self) -> list[str]:
        return [f"score_{k}" for k in range(self.n_classes)]

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        per_event = F.cross_entropy(outputs, targets.long(), reduction="none")
        return (weights * per_event).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        a = np.asarray(outputs, dtype=np.float64)
        a = a - a.max(axis=1, keepdims=True)
        e = np.exp(a)
        return np.asarray(e / e.sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class RegressionTask(Task):
    """Regression with the weighted mean squared error.

    Notes
    -----
    ``l = (f(x) - y)^2``: the negative log-likelihood of a Gaussian of fixed width,
    so ``f(x)`` estimates the conditional mean ``E[y | x]``.
    """

    name: ClassVar[str] = "regression"

    @property
    def n_outputs(self) -> int:
        return 1

    def score_names(self) -> list[str]:
        return ["prediction"]

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return (weights * (outputs[:, 0] - targets) ** 2).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        return np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)[:, 0]


@dataclass(frozen=True)
class GaussianTask(Task):
    """Heteroscedastic regression: the network predicts a mean and a resolution.

    Notes
    -----
    The network outputs ``(mu(x), log sigma(x))`` and minimises the Gaussian
    negative log-likelihood

    .. math:: \\ell = \\frac{(y - \\mu(x))^2}{2 \\sigma(x)^2} + \\log \\sigma(x),

    so ``sigma(x)`` learns the event-by-event resolution and the pulls
    ``(y - mu) / sigma`` of a well-trained model follow a unit Gaussian.
    """

    name: ClassVar[str] = "gaussian"

    @property
    def n_outputs(self) -> int:
        return 2

    def score_names(self) -> list[str]:
        return ["prediction", "sigma"]

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        mu = outputs[:, 0]
        log_sigma = outputs[:, 1].clamp(_LOG_SIGMA_MIN, _LOG_SIGMA_MAX)
        per_event = 0.5 * ((targets - mu) * (-log_sigma).exp()) ** 2 + log_sigma
        return (weights * per_event).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        out = np.asarray(outputs, dtype=np.float64)
        sigma = np.exp(np.clip(out[:, 1], _LOG_SIGMA_MIN, _LOG_SIGMA_MAX))
        return np.stack([out[:, 0], sigma], axis=1)


TASKS: dict[str, type[Task]] = {t.name: t for t in (BinaryTask, MulticlassTask, RegressionTask, GaussianTask)}


def make_task(name: str, *, n_classes: int = 2) -> Task:
    """Build a task by registry name.

    Parameters
    ----------
    name
        One of ``binary``, ``multiclass``, ``regression``, ``gaussian``.
    n_classes
        Number of classes (multiclass only).
    """
    if name == "multiclass":
        return MulticlassTask(n_classes=n_classes)
    if name in TASKS:
        return TASKS[name]()
    from neyman.exceptions import close_matches

    raise ConfigError(f"unknown task {name!r}{close_matches(name, TASKS)}; choose one of {', '.join(TASKS)}")
