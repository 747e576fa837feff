"""Model families by name: look a family's class up and build a model of it.

The families themselves are declared in :mod:`neyman.models.families`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from neyman.exceptions import ConfigError
from neyman.models.base import Model, model_class
from neyman.models.families import MODEL_FAMILIES
from neyman.tasks import Task

if TYPE_CHECKING:
    from neyman.training import Trainer
    from neyman.training.decorrelation import Decorrelation

__all__ = ["MODEL_FAMILIES", "build_model", "model_class"]


def build_model(
    family: str,
    task: Task,
    n_features: int,
    *,
    params: Mapping[str, Any] | BaseModel | None = None,
    seed: int = 0,
    trainer: Trainer | None = None,
    image_size: int | None = None,
    decorrelation: Decorrelation | None = None,
    features: Sequence[str] | None = None,
) -> Model:
    """An untrained model of ``family``.

    Parameters
    ----------
    family
        A declared family name (:data:`MODEL_FAMILIES`).
    task
        What the model learns.
    n_features
        Features per event (tabular), per particle (particles) or image channels.
    params
        Hyper-parameters: the family's params class (such as the ``model``
        section of a run configuration) or a mapping validated into it; None
        takes the declared defaults.
    seed
        Random seed.
    trainer
        The training loop of a neural family (default: a
        :class:`~neyman.training.Trainer` with its defaults); ignored by the others.
    image_size
        Pixels per side, for families that read images; ignored by the others.
    decorrelation
        The in-training decorrelation of a neural family (see
        :mod:`neyman.training.decorrelation`); refused by the others.
    features
        Feature names, for families whose hyper-parameters name columns
        (``feature_names`` among their ``input_arguments``); ignored by the others.

    Raises
    ------
    ConfigError
        Unknown family, invalid hyper-parameters, or a task the family cannot learn.
    """
    klass = model_class(family)
    inputs: dict[str, Any] = {}
    if klass.is_neural:
        inputs["trainer"] = trainer
        inputs["decorrelation"] = decorrelation
    elif decorrelation is not None:
        raise ConfigError(f"decorrelation by {decorrelation.method} trains networks; {family!r} is not one")
    if klass.representation == "image":
        inputs["image_size"] = image_size
    if "feature_names" in klass.input_arguments and features is not None:
        inputs["feature_names"] = list(features)
    return klass(task, n_features, params=params, seed=seed, **inputs)
