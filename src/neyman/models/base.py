"""The one interface every model family implements."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from neyman._atomic import write_json
from neyman.exceptions import DataError, ModelError
from neyman.representations.particles import ParticleArrays
from neyman.tasks import Task, make_task

__all__ = ["Arrays", "Model"]

MODEL_FILE = "model.json"


@dataclass(frozen=True)
class Arrays:
    """Preprocessed inputs of one split.

    Attributes
    ----------
    x
        Inputs: features ``(n_events, n_features)`` float32, images
        ``(n_events, channels, height, width)`` or particle sets
        (:class:`~neyman.representations.ParticleArrays`).
    y
        Class indices (int64) or regression targets (float64), ``(n_events,)``.
    w
        Event weights, ``(n_events,)``; may be negative.
    """

    x: np.ndarray | ParticleArrays
    y: np.ndarray
    w: np.ndarray

    def __post_init__(self) -> None:
        if not len(self.x) == len(self.y) == len(self.w):
            raise DataError(
                f"features, targets and weights differ in length ({len(self.x)}, {len(self.y)}, {len(self.w)})"
            )

    def __len__(self) -> int:
        return len(self.x)


class Model(ABC):
    """A trainable, savable model of one family.

    Subclasses set :attr:`family`, take their hyper-parameters as keyword
    arguments (stored in :attr:`params`, JSON-serialisable) and implement
    :meth:`fit`, :meth:`predict_raw`, :meth:`_save_weights` and :meth:`_load_weights`.
    """

    family: ClassVar[str] = ""
    inference_batch_size: ClassVar[int] = 65536
    """Events per forward pass when scoring (and when a network evaluates its validation
    loss); families with large per-event activations lower it to bound memory."""

    def __init__(self, task: Task, n_features: int, *, seed: int = 0, **params: Any) -> None:
        self.task = task
        self.n_features = n_features
        self.seed = seed
        self.params = params
        self.history: Any = None

    @abstractmethod
    def fit(self, train: Arrays, val: Arrays | None = None) -> Model:
        """Train on ``train`` (``val`` for early stopping); returns ``self``."""

    @abstractmethod
    def predict_raw(self, x: Any) -> np.ndarray:
        """Raw outputs ``(n_events, task.n_outputs)`` (logits, margins, values) of inputs ``x``
        (a feature matrix; neural families also take images or particle sets)."""

    def predict(self, x: Any) -> np.ndarray:
        """Scores: probabilities (classification) or predictions (regression)."""
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != self.n_features:
            got = x.shape if isinstance(x, np.ndarray) else type(x).__name__
            raise DataError(f"the {self.family} model expects inputs of shape (n, {self.n_features}), got {got}")
        return self.task.scores(self.predict_raw(x))

    @abstractmethod
    def _save_weights(self, directory: Path) -> list[str]:
        """Write the learned state into ``directory``; return the file names."""

    @abstractmethod
    def _load_weights(self, directory: Path) -> None:
        """Read the learned state from ``directory``."""

    def save(self, directory: str | Path) -> Path:
        """Save into ``directory``: weights plus ``model.json`` (family, task, params)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = self._save_weights(directory)
        n_classes = getattr(self.task, "n_classes", 2)
        write_json(
            directory / MODEL_FILE,
            {
                "family": self.family,
                "task": self.task.name,
                "n_classes": n_classes,
                "n_features": self.n_features,
                "seed": self.seed,
                "params": self.params,
                "files": files,
            },
        )
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Model:
        """Load a model saved by :meth:`save` (any family, via the registry)."""
        from neyman.models.registry import model_class

        directory = Path(directory)
        meta_path = directory / MODEL_FILE
        if not meta_path.is_file():
            raise ModelError(f"{directory} holds no saved model ({MODEL_FILE} is missing)")
        try:
            meta = json.loads(meta_path.read_text())
            klass = model_class(meta["family"])
            task = make_task(meta["task"], n_classes=meta.get("n_classes", 2))
            model = klass(task, int(meta["n_features"]), seed=int(meta.get("seed", 0)), **meta["params"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"{meta_path} is damaged: {exc}") from exc
        for name in meta.get("files", []):
            if not (directory / name).is_file():
                raise ModelError(f"{directory} is incomplete: {name} is missing")
        model._load_weights(directory)
        return model
