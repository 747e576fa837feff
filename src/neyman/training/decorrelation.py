"""Training a binary tagger decorrelated from one variable (the jet mass).

Two objectives act inside the training loop (the third method, planing, only
changes the event weights: :func:`neyman.preprocessing.planing_weights`):

``disco``
    the classification loss plus ``λ`` times the squared distance correlation
    between the score and the variable on the background events of each batch
    (Kasieczka & Shih, arXiv:2001.05310);
``adversary``
    a second network predicts the variable's bin from the score of background
    events; the tagger is trained to classify *and* to defeat it (Louppe, Kagan &
    Cranmer, arXiv:1611.01046; Shimmin et al., arXiv:1703.03507), the adversary
    taking several steps on each batch before the tagger takes one.

The variable travels with the targets: a decorrelated training's batches hold
``(n, 2)`` targets, the class and the (standardised or binned) variable, which
:class:`DecorrelationObjective` packs and its loss unpacks; the trainer and the
batch sources are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from neyman.exceptions import ConfigError, DataError

__all__ = [
    "DECORRELATION_BATCH",
    "DECORRELATION_METHODS",
    "AdversarialPair",
    "Decorrelation",
    "DecorrelationObjective",
    "decorrelation_batch_size",
    "distance_correlation_loss",
]

DECORRELATION_METHODS = ("none", "planing", "disco", "adversary")
"""``none`` only records the variable (its sculpting is evaluated: the baseline)."""

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

ADVERSARY_STEPS = 5
"""Adversary updates per tagger step (see :class:`AdversarialPair`)."""
ADVERSARY_LR = 1e-3
"""The adversary's Adam learning rate."""

_DISCO_CHUNK = 2048
"""Background events per distance-correlation block (its memory is quadratic)."""

DECORRELATION_BATCH = 1024
"""The largest batch :func:`decorrelation_batch_size` plans."""


def decorrelation_batch_size(n_train: int) -> int:
    """The batch of a ``disco`` or ``adversary`` training on ``n_train`` events (none given).

    Notes
    -----
    Both penalties are statistics of the batch's background events: dCorr² of two
    independent variables estimated on :math:`n` events is about :math:`2.8/n`, not 0,
    so the sample-size plan of other trainings (:math:`n_\\mathrm{train}/200`, down to
    32) leaves the penalty mostly noise.  The batch is the power of two at or below
    :math:`n_\\mathrm{train}/16`, within :math:`[32, 1024]`: 1024 from 16k events on, and
    at least 16 steps per epoch below that.
    """
    return int(min(DECORRELATION_BATCH, max(32, 2 ** math.floor(math.log2(max(n_train, 1) / 16)))))


def distance_correlation_loss(x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Squared distance correlation of ``x`` and ``y`` with event weights, differentiable.

    Parameters
    ----------
    x, y
        Two variables of the same events, shape ``(n,)``.
    weights
        Non-negative event weights, shape ``(n,)``.

    Returns
    -------
    torch.Tensor
        A scalar in ``[0, 1]``.

    Notes
    -----
    The estimator of :func:`neyman.metrics.distance_correlation` (weighted,
    double-centred distance matrices):
    :math:`\\mathrm{dCorr}^2 = \\mathrm{dCov}^2(x,y) / \\sqrt{\\mathrm{dCov}^2(x,x)\\,\\mathrm{dCov}^2(y,y)}`
    with :math:`\\mathrm{dCov}^2(x,y) = \\sum_{ij} p_i p_j A_{ij} B_{ij}`.
    """
    p = weights.clamp(min=0)
    p = p / p.sum().clamp(min=torch.finfo(p.dtype).tiny)

    def centred(v: torch.Tensor) -> torch.Tensor:
        dist = (v[:, None] - v[None, :]).abs()
        row = dist @ p
        return dist - row[:, None] - row[None, :] + row @ p

    a, b = centred(x), centred(y)
    cov = p @ (a * b) @ p
    var = (p @ (a * a) @ p) * (p @ (b * b) @ p)
    return cov / var.clamp(min=1e-12).sqrt()


class AdversarialPair(nn.Module):
    """A tagger and the adversary that predicts the variable's bin from its score.

    Parameters
    ----------
    tagger
        The classifier (one logit per event); trained in place.
    n_bins
        Bins of the variable the adversary predicts.
    hidden
        Widths of the adversary's hidden layers (tanh).

    Notes
    -----
    The forward pass is the tagger's; the adversary reads the score
    :math:`s = \\sigma(a)` and the logit :math:`a` itself (:meth:`inputs`) in the
    loss: a tight working point lives at :math:`s \\to 1`, where the score alone
    compresses the events the cut keeps into a sliver.  The trainer's
    optimiser moves only the tagger (:meth:`parameter_groups`); the adversary is
    moved by its own optimiser, :data:`ADVERSARY_STEPS` steps on every batch before
    the tagger's step (:meth:`fit_adversary`), so that the tagger always plays
    against an adversary near its optimum for the current score, as the minimax
    argument of Louppe et al. requires.  (A slower adversary, e.g. one updated
    once per step through a gradient-reversal layer, is exploited instead of
    defeated: the tagger learns to fool its current guesses and the score becomes
    *more* correlated with the variable; measured on
    :func:`neyman.testing.mass_sculpting_dataset`.)  Only :attr:`tagger` is kept
    after the training.
    """

    def __init__(self, tagger: nn.Module, n_bins: int, hidden: tuple[int, ...] = (64, 64)) -> None:
        super().__init__()
        self.tagger = tagger
        layers: list[nn.Module] = []
        width = 2
        for h in hidden:
            layers += [nn.Linear(width, h), nn.Tanh()]
            width = h
        layers.append(nn.Linear(width, n_bins))
        self.adversary = nn.Sequential(*layers)
        self._optimizer: torch.optim.Optimizer | None = None

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]:
        """What the trainer's optimiser moves: the tagger only."""
        return [{"params": list(self.tagger.parameters()), "lr": lr}]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        """The tagger's logit (the loss asks the adversary itself)."""
        logit: torch.Tensor = self.tagger(*inputs)
        return logit

    @staticmethod
    def inputs(logit: torch.Tensor) -> torch.Tensor:
        """What the adversary reads of a logit ``(n, 1)``: ``[σ(a), a/4]``."""
        return torch.cat([torch.sigmoid(logit), logit / 4.0], dim=1)

    def fit_adversary(self, logit: torch.Tensor, bins: torch.Tensor, weights: torch.Tensor) -> None:
        """:data:`ADVERSARY_STEPS` steps of the adversary on fixed logits ``(n, 1)`` (weighted cross-entropy)."""
        if self._optimizer is None:
            self._optimizer = torch.optim.Adam(self.adversary.parameters(), lr=ADVERSARY_LR)
        x = self.inputs(logit.detach())
        with torch.enable_grad():
            for _ in range(ADVERSARY_STEPS):
                self._optimizer.zero_grad(set_to_none=True)
                per_event = nn.functional.cross_entropy(self.adversary(x), bins, reduction="none")
                (weights * per_event).mean().backward()  # type: ignore[no-untyped-call]
                self._optimizer.step()
        self._optimizer.zero_grad(set_to_none=True)


@dataclass(frozen=True)
class Decorrelation:
    """What to decorrelate a tagger from, and how.

    Attributes
    ----------
    method
        ``disco`` or ``adversary`` (the in-training objectives).
    strength
        ``λ`` of the penalty (disco) or of the adversary's term.
    bins
        Bins of the variable the adversary predicts (equal background quantiles).
    variable
        The variable's column name, for messages (empty when not known).
    """

    method: str
    strength: float
    bins: int = 10
    variable: str = ""

    def __post_init__(self) -> None:
        if self.method not in ("disco", "adversary"):
            raise ConfigError(f"a training objective decorrelates by disco or adversary, not {self.method!r}")
        if not (math.isfinite(self.strength) and self.strength >= 0):
            raise ConfigError(f"the decorrelation strength must be a finite number >= 0, got {self.strength}")

    def objective(self, variable: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> DecorrelationObjective:
        """The objective with the variable's scale or bins fitted on the training background.

        Raises
        ------
        DataError
            No background events, or a constant variable.
        """
        z = np.asarray(variable, dtype=np.float64)
        bkg = (np.asarray(labels) == 0) & (np.asarray(weights) > 0)
        zb = z[bkg]
        if len(zb) < 2 or not np.all(np.isfinite(zb)) or np.ptp(zb) == 0:
            name = f"{self.variable!r}" if self.variable else "the variable"
            raise DataError(
                "decorrelation needs training events of the background (label 0) with a positive weight and "
                f"finite, varying values of {name}: the training split has {len(zb)} such events"
                + (f" spanning {np.ptp(zb):g}" if len(zb) else "")
                + "; check the background's weights and the selection"
            )
        edges = np.unique(np.quantile(zb, np.linspace(0.0, 1.0, self.bins + 1))[1:-1])
        wb = np.asarray(weights, dtype=np.float64)[bkg]
        shares = np.bincount(np.searchsorted(edges, zb, side="right"), weights=wb, minlength=len(edges) + 1)
        shares = shares[shares > 0] / shares.sum()
        entropy = float(-np.sum(shares * np.log(shares)))
        return DecorrelationObjective(self, float(np.mean(zb)), float(np.std(zb)), edges, entropy)


@dataclass(frozen=True)
class DecorrelationObjective:
    """A :class:`Decorrelation` fitted to a training sample: targets, network and loss.

    Attributes
    ----------
    spec
        The method and its strength.
    loc, scale
        Standardisation of the variable (disco; the statistic is scale-free, this
        only keeps float32 well conditioned).
    edges
        Inner bin edges of the variable (adversary).
    entropy
        Entropy (nats) of the training background's distribution over those bins:
        ``ln K`` for K equally populated bins, less when ties merge quantiles.
    """

    spec: Decorrelation
    loc: float
    scale: float
    edges: np.ndarray
    entropy: float = 0.0

    def targets(self, labels: np.ndarray, variable: np.ndarray) -> torch.Tensor:
        """``(n, 2)`` float32 targets: the class and the standardised variable or its bin."""
        z = np.asarray(variable, dtype=np.float64)
        if not np.all(np.isfinite(z)):
            raise DataError("the decorrelation variable holds missing or infinite values")
        if self.spec.method == "adversary":
            second = np.searchsorted(self.edges, z, side="right").astype(np.float64)
        else:
            second = (z - self.loc) / (self.scale or 1.0)
        return torch.as_tensor(np.stack([np.asarray(labels, dtype=np.float64), second], axis=1).astype(np.float32))

    def training(self, network: nn.Module, base: LossFn) -> tuple[nn.Module, LossFn]:
        """The module the trainer optimises and its loss, around the task's ``base(outputs, labels, weights)``.

        Notes
        -----
        disco: the network, with
        :math:`L = L_\\mathrm{clf} + \\lambda\\,\\mathrm{dCorr}^2(s, m)` over the background
        events of the batch (blocks of at most 2048), :math:`s` the sigmoid score.

        adversary: an :class:`AdversarialPair`; in training, each batch first updates
        the adversary (:meth:`AdversarialPair.fit_adversary`), then the tagger
        minimises :math:`L_\\mathrm{clf} - \\lambda L_r + \\lambda H`, with :math:`L_r`
        the adversary's weighted cross-entropy on background events and
        :math:`H` the entropy of the background's distribution over the bins
        (:math:`\\ln K` for :math:`K` equally populated ones; times the background's
        share of the weight), so that the second term,
        :math:`\\lambda (H - L_r)`, estimates the information the score carries about
        the variable: 0 when decorrelated.
        """
        strength = self.spec.strength
        if self.spec.method == "disco":

            def disco(outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
                labels, z = targets[:, 0], targets[:, 1]
                loss = base(outputs, labels, weights)
                bkg = labels < 0.5
                score = torch.sigmoid(outputs[:, 0])[bkg]
                zb, wb = z[bkg], weights[bkg]
                starts = [i for i in range(0, len(zb), _DISCO_CHUNK) if len(zb) - i >= 2]
                blocks = [
                    distance_correlation_loss(*(v[i : i + _DISCO_CHUNK] for v in (score, zb, wb))) for i in starts
                ]
                if blocks and strength > 0:
                    loss = loss + strength * torch.stack(blocks).mean()
                return loss

            return network, disco
        pair = AdversarialPair(network, len(self.edges) + 1)
        entropy = self.entropy

        def adversary(outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
            labels, bins = targets[:, 0], targets[:, 1].long()
            bkg_weight = weights * (labels < 0.5).to(outputs.dtype)
            logit = outputs[:, :1]
            if torch.is_grad_enabled():  # a training step: the adversary catches up with the current score
                pair.fit_adversary(logit, bins, bkg_weight)
            per_event = nn.functional.cross_entropy(pair.adversary(pair.inputs(logit)), bins, reduction="none")
            information = bkg_weight.mean() * entropy - (bkg_weight * per_event).mean()
            return base(outputs, labels, weights) + strength * information

        return pair, adversary
