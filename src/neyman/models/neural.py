"""Neural models: a torch network driven by the :class:`~neyman.training.Trainer`.

:class:`NeuralModel` holds everything the families share (target scaling, weight
normalisation, batching, inference in chunks, safetensors persistence); a family
only says how its network is built.  The representation it reads (``tabular``
matrix, ``particles`` set or ``image``) is declared with the family in
:mod:`neyman.models.families`.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from neyman.exceptions import DataError, ModelError
from neyman.models.base import Arrays, Model
from neyman.models.families import LARGE_HIDDEN, MLPConfig
from neyman.nn.ensemble import Ensemble
from neyman.nn.mlp import MLP
from neyman.optional import require
from neyman.representations.particles import ParticleArrays
from neyman.tasks import Task
from neyman.training.devices import select_device
from neyman.training.trainer import BatchSource, Inputs, TensorBatches, Trainer, forward

__all__ = ["MLPModel", "NeuralModel"]

WEIGHTS_FILE = "weights.safetensors"


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

    Attributes
    ----------
    network
        The torch network.
    target_mean_, target_std_
        The standardisation ``(y - mean) / std`` of the targets the network learned
        (``0`` and ``1`` for tasks whose targets are not standardised).

    Notes
    -----
    Tasks that declare ``standardise_target`` (regressions) are learned on targets
    standardised with the weighted mean and standard deviation of the training
    split; predictions (and, for ``gaussian``, the resolution) are returned in the
    original units.  Training weights are normalised to unit mean (see
    :mod:`neyman.tasks`).
    """

    inference_batch_size: ClassVar[int] = 1024
    state_attributes: ClassVar[tuple[str, ...]] = ("target_mean_", "target_std_")

    def __init__(self, task: Task, n_features: int, *, trainer: Trainer | None = None, **kwargs: Any) -> None:
        super().__init__(task, n_features, **kwargs)
        self.target_mean_ = 0.0
        self.target_std_ = 1.0
        self.trainer = trainer or Trainer(seed=self.seed, progress=False)
        self.network = self._networks()

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
        return TensorBatches(self._tensors(data.x), torch.as_tensor(y), w, device=device)

    def fit(self, train: Arrays, val: Arrays | None = None, *, resume: bool = False) -> NeuralModel:
        """Train the network (``resume`` continues from the trainer's last checkpoint)."""
        self.target_mean_, self.target_std_ = self._target_scale(train)
        weight_norm = float(np.mean(train.w))
        device = self.trainer.device
        self._check_weight_norm(weight_norm)
        tr = self._batches(train, weight_norm, device)
        va = self._batches(val, weight_norm, device) if val is not None and len(val) else None
        return self.fit_batches(tr, va, resume=resume)

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
        if target_mean is not None:
            self.target_mean_ = float(target_mean)
        if target_std is not None:
            self.target_std_ = float(target_std)
        if not isinstance(self.network, Ensemble):
            self.history = self.trainer.fit(
                self.network, self.task.loss, train, val, resume=resume, eval_batch_size=self.inference_batch_size
            )
        else:
            self.history = self._fit_members(self.network, train, val, resume=resume)
        self.network.to("cpu")
        return self

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
                histories.append(
                    self.trainer.fit(
                        member,
                        self.task.loss,
                        train,
                        val,
                        resume=member_resume,
                        eval_batch_size=self.inference_batch_size,
                    )
                )
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
        dev = select_device(device)
        net = self.network.to(dev).eval()
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

    def build_network(self) -> nn.Module:
        p = self.params
        return MLP(
            self.n_features,
            self.task.n_outputs,
            hidden=tuple(p.hidden if p.hidden is not None else LARGE_HIDDEN),
            activation=p.activation,
            dropout=p.dropout or 0.0,
            batch_norm=p.batch_norm,
            init=p.init,
        )
