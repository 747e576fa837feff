"""Neural models: a torch network driven by the :class:`~neyman.training.Trainer`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from neyman._optional import require
from neyman.exceptions import ModelError
from neyman.models.base import Arrays, Model
from neyman.nn.mlp import MLP
from neyman.tasks import Task
from neyman.training.devices import select_device
from neyman.training.trainer import BatchSource, TensorBatches, Trainer

__all__ = ["MLPModel"]

WEIGHTS_FILE = "weights.safetensors"


class MLPModel(Model):
    """A multilayer perceptron for any task.

    Parameters
    ----------
    task, n_features, seed
        See :class:`~neyman.models.base.Model`.
    trainer
        The training loop to use (default: :class:`~neyman.training.Trainer` defaults).
    **params
        Architecture: ``hidden``, ``activation``, ``dropout``, ``batch_norm``, ``init``
        (see :class:`~neyman.nn.MLP`).

    Notes
    -----
    Regression targets are standardised with the weighted mean and standard
    deviation of the training split; predictions (and, for ``gaussian``, the
    resolution) are returned in the original units.  Training weights are
    normalised to unit mean (see :mod:`neyman.tasks`).
    """

    family: ClassVar[str] = "mlp"

    def __init__(
        self,
        task: Task,
        n_features: int,
        *,
        seed: int = 0,
        trainer: Trainer | None = None,
        **params: Any,
    ) -> None:
        super().__init__(task, n_features, seed=seed, **params)
        self.trainer = trainer or Trainer(seed=seed, progress=False)
        arch = {k: v for k, v in params.items() if k in ("hidden", "activation", "dropout", "batch_norm", "init")}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.network = MLP(n_features, task.n_outputs, **arch)

    # -- training --------------------------------------------------------------------
    def _target_scale(self, train: Arrays) -> tuple[float, float]:
        if self.task.is_classification:
            return 0.0, 1.0
        w = train.w
        mean = float(np.sum(w * train.y) / np.sum(w))
        std = float(np.sqrt(np.sum(w * (train.y - mean) ** 2) / np.sum(w)))
        return mean, std if std > 0 else 1.0

    def _batches(self, data: Arrays, weight_norm: float, device: torch.device) -> TensorBatches:
        mean, std = self.params["target_mean"], self.params["target_std"]
        if self.task.is_classification:
            y = torch.as_tensor(np.asarray(data.y, dtype=np.int64))
        else:
            y = torch.as_tensor(((np.asarray(data.y, dtype=np.float64) - mean) / std).astype(np.float32))
        x = torch.as_tensor(np.ascontiguousarray(data.x, dtype=np.float32))
        w = torch.as_tensor((np.asarray(data.w, dtype=np.float64) / weight_norm).astype(np.float32))
        return TensorBatches(x, y, w, device=device)

    def fit(self, train: Arrays, val: Arrays | None = None, *, resume: bool = False) -> MLPModel:
        """Train the network (``resume`` continues from the trainer's last checkpoint)."""
        mean, std = self._target_scale(train)
        self.params["target_mean"], self.params["target_std"] = mean, std
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
    ) -> MLPModel:
        """Train on ready-made batch sources (e.g. streamed from files).

        The batches must already hold preprocessed inputs, standardised targets
        (``(y - target_mean) / target_std`` for regression) and weights normalised
        to unit mean.
        """
        if target_mean is not None:
            self.params["target_mean"] = target_mean
        if target_std is not None:
            self.params["target_std"] = target_std
        self.params.setdefault("target_mean", 0.0)
        self.params.setdefault("target_std", 1.0)
        self.history = self.trainer.fit(self.network, self.task.loss, train, val, resume=resume)
        self.network.to("cpu")
        return self

    @staticmethod
    def _check_weight_norm(weight_norm: float) -> None:
        if not math.isfinite(weight_norm) or weight_norm <= 0:
            raise ModelError(f"the mean training weight is {weight_norm}; it must be positive")

    # -- inference -------------------------------------------------------------------
    @torch.no_grad()
    def predict_raw(self, x: np.ndarray, *, batch_size: int = 65536, device: str = "cpu") -> np.ndarray:
        dev = select_device(device)
        net = self.network.to(dev).eval()
        outs = []
        xt = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32))
        for start in range(0, len(xt), batch_size):
            outs.append(net(xt[start : start + batch_size].to(dev)).double().cpu().numpy())
        raw = np.concatenate(outs) if outs else np.zeros((0, self.task.n_outputs))
        mean, std = self.params.get("target_mean", 0.0), self.params.get("target_std", 1.0)
        if self.task.name in ("regression", "gaussian"):
            raw[:, 0] = raw[:, 0] * std + mean
        if self.task.name == "gaussian":
            raw[:, 1] = raw[:, 1] + math.log(std)
        return raw

    # -- persistence -----------------------------------------------------------------
    def _save_weights(self, directory: Path) -> list[str]:
        from neyman._atomic import atomic_path

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
