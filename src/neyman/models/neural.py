"""Neural models: a torch network driven by the :class:`~neyman.training.Trainer`.

:class:`NeuralModel` holds everything the families share (target scaling, weight
normalisation, batching, inference in chunks, safetensors persistence); a family
only says how its network is built.  The representation it reads (``tabular``
matrix, ``particles`` set or ``image``) is declared with the family in
:mod:`neyman.models.families`.
"""

from __future__ import annotations

import math
import warnings
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from neyman.exceptions import ConfigError, DataError, ModelError, NeymanWarning
from neyman.models.base import Arrays, Model
from neyman.models.families import LARGE_HIDDEN, MLPConfig
from neyman.nn.bayesian import BayesianLinear, BayesianMLP, kl_divergence, set_sampling
from neyman.nn.ensemble import Ensemble
from neyman.nn.mlp import MLP
from neyman.optional import require
from neyman.representations.particles import ParticleArrays
from neyman.tasks import Task
from neyman.training.decorrelation import Decorrelation, DecorrelationObjective
from neyman.training.devices import select_device
from neyman.training.trainer import BatchSource, History, Inputs, TensorBatches, Trainer, forward

__all__ = ["ImageModel", "MLPModel", "NeuralModel"]

WEIGHTS_FILE = "weights.safetensors"
_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)
"""The dropout layers MC dropout switches on at inference."""


class NeuralModel(Model):
    """A torch network for any task (base of every neural family).

    Parameters
    ----------
    task, n_features, **kwargs
        See :class:`~neyman.models.base.Model` (``params``, ``seed`` and
        hyper-parameter overrides); ``n_features`` counts the features per event
        (tabular), per particle (particles) or the channels (image), and the
        hyper-parameters describe the family's network.
    trainer
        The training loop to use (default: :class:`~neyman.training.Trainer` defaults).
    decorrelation
        Train the tagger decorrelated from the variable given as
        :attr:`~neyman.models.Arrays.z` (binary task; see
        :mod:`neyman.training.decorrelation`), or None.

    Attributes
    ----------
    network
        The torch network.
    target_mean_, target_std_
        The standardisation ``(y - mean) / std`` of the targets the network learned
        (``0`` and ``1`` for tasks whose targets are not standardised).
    interval_scale_
        The factor on the predicted intervals of a model with an uncertainty
        (``σ`` and ``σ_model`` of the Gaussian regression), fitted on the
        validation events (:meth:`~neyman.tasks.Task.interval_scale`); 1 otherwise.

    Notes
    -----
    Tasks that declare ``standardise_target`` (regressions) are learned on targets
    standardised with the weighted mean and standard deviation of the training
    split; predictions (and, for ``gaussian``, the resolution) are returned in the
    original units.  Training weights are normalised to unit mean (see
    :mod:`neyman.tasks`).
    """

    inference_batch_size: ClassVar[int] = 1024
    state_attributes: ClassVar[tuple[str, ...]] = ("target_mean_", "target_std_", "interval_scale_")

    def __init__(
        self,
        task: Task,
        n_features: int,
        *,
        trainer: Trainer | None = None,
        decorrelation: Decorrelation | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(task, n_features, **kwargs)
        self.target_mean_ = 0.0
        self.target_std_ = 1.0
        self.interval_scale_ = 1.0
        self.trainer = trainer or Trainer(seed=self.seed, progress=False)
        if decorrelation is not None and task.output_head != "sigmoid":
            raise ConfigError(f"decorrelation trains a binary tagger (one sigmoid score); the task is {task.name!r}")
        self.decorrelation = decorrelation
        self._objective: DecorrelationObjective | None = None
        self.params = self._resolved_params()
        self.network = self._networks()
        self._check_uncertainty()

    @property
    def uncertainty(self) -> str:
        """How the model estimates its own uncertainty: ``none``, ``ensemble``, ``mc_dropout`` or ``bayesian``."""
        return str(getattr(self.params, "uncertainty", "none"))

    def _check_uncertainty(self) -> None:
        kind = self.uncertainty
        if kind == "bayesian" and not any(isinstance(m, BayesianLinear) for m in self.network.modules()):
            raise ConfigError(
                f"uncertainty: bayesian needs Bayesian layers, which the {self.family} model does not have; "
                "use model.type: mlp, or uncertainty: ensemble or mc_dropout"
            )
        if kind == "mc_dropout" and not any(isinstance(m, _DROPOUT) and m.p > 0 for m in self.network.modules()):
            raise ConfigError(
                f"uncertainty: mc_dropout samples dropout masks, and this {self.family} model has no dropout; "
                "set model.dropout (e.g. 0.1)"
            )

    def _resolved_params(self) -> Any:
        """The hyper-parameters with every choice that depends on the training made (saved with the model).

        A model loaded for prediction is built without the training's context (its
        decorrelation), so a choice made from that context must be in its saved
        parameters rather than made again.
        """
        return self.params

    def _networks(self) -> nn.Module:
        """The family's network, or an :class:`~neyman.nn.Ensemble` of ``params.ensemble`` of them."""
        members = []
        for m in range(int(getattr(self.params, "ensemble", 1))):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed + m)
                members.append(self.build_network())
        return members[0] if len(members) == 1 else Ensemble(members)

    @abstractmethod
    def build_network(self) -> nn.Module:
        """The family's network for ``self.n_features`` inputs and the task's outputs."""

    # -- inputs ----------------------------------------------------------------------
    def _tensors(self, x: Any) -> Inputs:
        """Torch inputs of the network from NumPy inputs of this family's representation."""
        if self.representation == "particles":
            if not isinstance(x, ParticleArrays):
                raise DataError(f"the {self.family} model reads particle sets, got {type(x).__name__}")
            if x.features.shape[2] != self.n_features:
                raise DataError(
                    f"the {self.family} model expects {self.n_features} features per particle, "
                    f"got {x.features.shape[2]}"
                )
            return tuple(torch.from_numpy(a) for a in x.tensors())
        x = np.asarray(x)
        expected = 2 if self.representation == "tabular" else 4
        if x.ndim != expected or x.shape[1] != self.n_features:
            shape = "(n, n_features)" if expected == 2 else "(n, channels, height, width)"
            raise DataError(
                f"the {self.family} model expects inputs of shape {shape} with {self.n_features} "
                f"features/channels, got {x.shape}"
            )
        return torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32))

    def predict(self, x: Any) -> np.ndarray:
        """Scores: probabilities (classification) or predictions (regression) of the
        family's inputs (matrix, images or :class:`~neyman.representations.ParticleArrays`)."""
        return self.task.scores(self.predict_raw(x))

    # -- training --------------------------------------------------------------------
    def _target_scale(self, train: Arrays) -> tuple[float, float]:
        if not self.task.standardise_target:
            return 0.0, 1.0
        w = train.w
        mean = float(np.sum(w * train.y) / np.sum(w))
        std = float(np.sqrt(np.sum(w * (train.y - mean) ** 2) / np.sum(w)))
        return mean, std if std > 0 else 1.0

    def _batches(self, data: Arrays, weight_norm: float, device: torch.device) -> TensorBatches:
        y = np.asarray(data.y, dtype=self.task.target_dtype)
        if self.task.standardise_target:
            y = ((y - self.target_mean_) / self.target_std_).astype(np.float32)
        w = torch.as_tensor((np.asarray(data.w, dtype=np.float64) / weight_norm).astype(np.float32))
        if self._objective is not None:
            assert data.z is not None
            return TensorBatches(self._tensors(data.x), self._objective.targets(y, data.z), w, device=device)
        return TensorBatches(self._tensors(data.x), torch.as_tensor(y), w, device=device)

    def fit(self, train: Arrays, val: Arrays | None = None, *, resume: bool = False) -> NeuralModel:
        """Train the network (``resume`` continues from the trainer's last checkpoint)."""
        self.target_mean_, self.target_std_ = self._target_scale(train)
        self._objective = None
        if self.decorrelation is not None:
            if train.z is None or (val is not None and len(val) and val.z is None):
                raise ModelError("a decorrelated training needs the variable's values (Arrays.z) of every split")
            self._objective = self.decorrelation.objective(train.z, train.y, train.w)
        weight_norm = float(np.mean(train.w))
        device = self.trainer.device
        self._check_weight_norm(weight_norm)
        tr = self._batches(train, weight_norm, device)
        va = self._batches(val, weight_norm, device) if val is not None and len(val) else None
        self.fit_batches(tr, va, resume=resume)
        if self.uncertainty != "none" and val is not None and len(val):
            self.interval_scale_ = self.task.interval_scale(
                self.predict(val.x), lambda: self.task.uncertainty(self.predict_draws(val.x)), val.y, val.w
            )
            if not 0.5 <= self.interval_scale_ <= 2.0:
                warnings.warn(
                    NeymanWarning(
                        f"the {self.family} model's {self.uncertainty} intervals needed a factor "
                        f"{self.interval_scale_:.3g} to cover 68% of the validation events: its uncertainty "
                        "is far from calibrated without that factor (predictions apply it)"
                    ),
                    stacklevel=2,
                )
        return self

    def fit_batches(
        self,
        train: BatchSource,
        val: BatchSource | None = None,
        *,
        target_mean: float | None = None,
        target_std: float | None = None,
        resume: bool = False,
    ) -> NeuralModel:
        """Train on ready-made batch sources (e.g. streamed from files).

        The batches must already hold preprocessed inputs, standardised targets
        (``(y - target_mean) / target_std`` for regression) and weights normalised
        to unit mean.  ``target_mean`` and ``target_std`` become
        :attr:`target_mean_` and :attr:`target_std_` (kept when not given).
        """
        self.interval_scale_ = 1.0
        if target_mean is not None:
            self.target_mean_ = float(target_mean)
        if target_std is not None:
            self.target_std_ = float(target_std)
        if self.decorrelation is not None and self._objective is None:
            raise ModelError("a decorrelated training reads its events with fit(), not from ready-made batches")
        if not isinstance(self.network, Ensemble):
            self.history = self._fit_one(self.network, train, val, resume=resume)
        else:
            self.history = self._fit_members(self.network, train, val, resume=resume)
        self.network.to("cpu")
        return self

    def _fit_one(self, network: nn.Module, train: BatchSource, val: BatchSource | None, *, resume: bool) -> Any:
        """Train one network on the task's loss, or on the decorrelated objective."""
        module: nn.Module = network
        loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] = self.task.loss
        if self._objective is not None:
            with torch.random.fork_rng(devices=[]):  # the adversary's initial weights follow the run's seed
                torch.manual_seed(self.trainer.seed)
                module, loss = self._objective.training(network, self.task.loss)
        if self.uncertainty == "bayesian":
            loss = _with_kl(loss, network, len(train))
        return self.trainer.fit(module, loss, train, val, resume=resume, eval_batch_size=self.inference_batch_size)

    def _fit_members(self, ensemble: Ensemble, train: BatchSource, val: BatchSource | None, *, resume: bool) -> Any:
        """Train every member on its own (seed + m, its own checkpoints); the first member's history is kept."""
        base_seed, base_dir = self.trainer.seed, self.trainer.checkpoint_dir
        histories = []
        try:
            for m, member in enumerate(ensemble.members):
                self.trainer.seed = base_seed + m
                self.trainer.checkpoint_dir = None if base_dir is None else base_dir / f"member_{m}"
                member_resume = (
                    resume and base_dir is not None and (base_dir / f"member_{m}" / "last.safetensors").is_file()
                )
                histories.append(self._fit_one(member, train, val, resume=member_resume))
        finally:
            self.trainer.seed, self.trainer.checkpoint_dir = base_seed, base_dir
        return histories[0]

    @staticmethod
    def _check_weight_norm(weight_norm: float) -> None:
        if not math.isfinite(weight_norm) or weight_norm <= 0:
            raise ModelError(f"the mean training weight is {weight_norm}; it must be positive")

    # -- inference -------------------------------------------------------------------
    @torch.no_grad()
    def predict_raw(self, x: Any, *, batch_size: int | None = None, device: str = "cpu") -> np.ndarray:
        """Raw outputs in the target's units, intervals scaled by :attr:`interval_scale_`."""
        raw = self._unscaled_raw(self.network, x, batch_size=batch_size, device=device)
        return np.asarray(self._scaled(raw[None])[0])

    def _unscaled_raw(
        self,
        network: nn.Module,
        x: Any,
        *,
        batch_size: int | None = None,
        device: str = "cpu",
        keep_mode: bool = False,
    ) -> np.ndarray:
        """Raw outputs of ``network`` in the target's units (``keep_mode``: leave its modules' modes as set)."""
        dev = select_device(device)
        net = network.to(dev)
        if not keep_mode:
            net.eval()
        if batch_size is None:
            batch_size = self.inference_batch_size
        outs = []
        inputs = self._tensors(x)
        n = len(inputs[0]) if isinstance(inputs, tuple) else len(inputs)
        for start in range(0, n, batch_size):
            if isinstance(inputs, tuple):
                batch: Inputs = tuple(t[start : start + batch_size].to(dev) for t in inputs)
            else:
                batch = inputs[start : start + batch_size].to(dev)
            outs.append(forward(net, batch).double().cpu().numpy())
        raw = np.concatenate(outs) if outs else np.zeros((0, self.task.n_outputs))
        return self.task.rescale_raw(raw, self.target_mean_, self.target_std_)

    def _scaled(self, draws: np.ndarray) -> np.ndarray:
        """Draws ``(n_draws, n_events, n_outputs)`` with the calibrated intervals (:attr:`interval_scale_`)."""
        scale = float(self.interval_scale_)
        return draws if scale == 1.0 else self.task.scaled_intervals(draws, scale)

    @torch.no_grad()
    def predict_draws(self, x: Any, *, seed: int = 0) -> np.ndarray:
        """Raw outputs of every member, dropout mask or weight draw, ``(draws, n_events, n_outputs)``.

        ``ensemble``: one draw per member; ``mc_dropout``: ``params.passes`` passes
        with dropout active (the rest of the network, batch normalisation included,
        in evaluation mode); ``bayesian``: ``params.passes`` draws of the weights
        from their posterior.  The draws of ``mc_dropout`` and ``bayesian`` are
        seeded: the same inputs give the same draws.  A calibrated model
        (:attr:`interval_scale_` ≠ 1) scales them about their mean
        (:meth:`~neyman.tasks.Task.scaled_intervals`).

        Raises
        ------
        ModelError
            The model has no uncertainty (``params.uncertainty: none``).
        """
        kind = self.uncertainty
        if kind == "none":
            raise ModelError(f"the {self.family} model has no uncertainty estimate (model.uncertainty: none)")
        if kind == "ensemble":
            assert isinstance(self.network, Ensemble)
            return self._scaled(np.stack([self._unscaled_raw(member, x) for member in self.network.members]))
        passes = int(getattr(self.params, "passes", 50))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.network.eval()
            _sampling(self.network, True)
            try:
                draws = [self._unscaled_raw(self.network, x, keep_mode=True) for _ in range(passes)]
            finally:
                _sampling(self.network, False)
        return self._scaled(np.stack(draws))

    # -- persistence -----------------------------------------------------------------
    def _save_weights(self, directory: Path) -> list[str]:
        from neyman.atomic import atomic_path

        st = require("safetensors.torch", purpose="save neural models")
        state = {k: v.detach().cpu().contiguous() for k, v in self.network.state_dict().items()}
        with atomic_path(directory / WEIGHTS_FILE) as tmp:
            st.save_file(state, str(tmp))
        return [WEIGHTS_FILE]

    def _load_weights(self, directory: Path) -> None:
        st = require("safetensors.torch", purpose="load neural models")
        try:
            state = st.load_file(str(directory / WEIGHTS_FILE))
            self.network.load_state_dict(state)
        except Exception as exc:  # safetensors/torch raise several unrelated types
            raise ModelError(f"cannot load {directory / WEIGHTS_FILE}: {exc}") from exc


def _with_kl(
    loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor], network: nn.Module, n_train: int
) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """The variational loss: the task's mean loss plus the weights' KL term per training event.

    Notes
    -----
    The negative ELBO of :math:`N` events divided by :math:`N`:
    :math:`\\frac1N \\sum_i \\ell_i + \\mathrm{KL}(q \\| p) / N`, with the batch mean
    estimating the first term (see :mod:`neyman.nn.bayesian`).
    """

    def variational(outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return loss(outputs, targets, weights) + kl_divergence(network).to(outputs.device) / n_train

    return variational


def _sampling(network: nn.Module, on: bool) -> None:
    """Switch dropout to training mode and Bayesian layers to drawing weights (or both back)."""
    set_sampling(network, on)
    for m in network.modules():
        if isinstance(m, _DROPOUT):
            m.train(on)


class ImageModel(NeuralModel):
    """A network on jet images: ``n_features`` counts the channels, ``image_size`` the pixels per side."""

    input_arguments: ClassVar[tuple[str, ...]] = ("image_size",)

    def __init__(self, task: Task, n_features: int, *, image_size: int | None = None, **kwargs: Any) -> None:
        if not image_size:
            raise ConfigError(f"the {self.family} model needs image_size (pixels per side)")
        self.image_size = int(image_size)
        super().__init__(task, n_features, **kwargs)


class MLPModel(NeuralModel):
    """A multilayer perceptron on tabular features.

    The hyper-parameters (:class:`~neyman.models.families.MLPConfig`) are
    ``hidden``, ``activation``, ``dropout``, ``batch_norm`` and ``init`` (see
    :class:`~neyman.nn.MLP`).  Widths and dropout left unset are planned from the
    sample by a training (:meth:`MLPConfig.planned`); a model built directly takes
    ``LARGE_HIDDEN`` without dropout.
    """

    family: ClassVar[str] = "mlp"
    inference_batch_size: ClassVar[int] = 65536
    params: MLPConfig

    def refit_settings(self, growth: float) -> dict[str, dict[str, Any]] | None:
        """The best epoch's number of passes, without early stopping (one network, not decorrelated).

        Only the tabular network refits: image and particle networks keep their
        validation, and so does a network with an uncertainty (its intervals are
        calibrated on the validation events).

        Notes
        -----
        With the best validation loss at epoch ``k``, the refit makes ``k`` passes
        over ``growth`` times as many events (``growth · k`` epochs' worth of
        steps), its learning-rate schedule spanning those ``k`` epochs.
        """
        history = self.history
        if isinstance(self.network, Ensemble) or self.decorrelation is not None or self.uncertainty != "none":
            return None
        if not isinstance(history, History) or history.best_epoch < 1:
            return None
        return {"training": {"epochs": history.best_epoch, "early_stopping": {"patience": 0}}}

    def _resolved_params(self) -> MLPConfig:
        """``activation`` and ``init`` of ``auto`` resolved for this training (ReLU and He's for a decorrelated one).

        Bayesian layers take no ``init`` (their prior sets the start), so it stays ``auto`` for them.
        """
        p = self.params
        decorrelated = self.decorrelation is not None
        update: dict[str, str] = {"activation": p.resolved_activation(decorrelated=decorrelated)}
        if p.uncertainty != "bayesian":
            update["init"] = p.resolved_init(decorrelated=decorrelated)
        return p.model_copy(update=update)

    def build_network(self) -> nn.Module:
        p = self.params
        if p.uncertainty == "bayesian":
            return BayesianMLP(
                self.n_features,
                self.task.n_outputs,
                hidden=tuple(p.hidden if p.hidden is not None else LARGE_HIDDEN),
                activation=p.resolved_activation(decorrelated=self.decorrelation is not None),
                prior_sigma=p.prior_sigma,
            )
        return MLP(
            self.n_features,
            self.task.n_outputs,
            hidden=tuple(p.hidden if p.hidden is not None else LARGE_HIDDEN),
            activation=p.resolved_activation(decorrelated=self.decorrelation is not None),
            dropout=p.dropout or 0.0,
            batch_norm=p.batch_norm,
            init=p.resolved_init(decorrelated=self.decorrelation is not None),
        )
