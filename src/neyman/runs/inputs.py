"""Model inputs of a run: a feature matrix, particle sets or jet images, and their preprocessing.

A run's inputs are described by a representation spec (``None`` for a feature
matrix) and a fitted preprocessing; this module rebuilds both from what the run
saved and builds the inputs of a table the same way for training, evaluation,
prediction and export.  It never sees a configuration.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from neyman.preprocessing import Preprocessor, check_finite
from neyman.representations import (
    ImageScaling,
    ParticleArrays,
    ParticleScaler,
    RepresentationSpec,
    build_inputs,
    spec_from_json,
)
from neyman.table import Table

__all__ = [
    "InputPreprocessor",
    "ModelInput",
    "as_model_input",
    "input_size",
    "model_inputs",
    "preprocessor_from_json",
    "representation_from_json",
    "representation_json",
]

ModelInput = np.ndarray | ParticleArrays


class InputPreprocessor(Protocol):
    """Fitted on the training split, applied to every input (``fit``/``transform``/``to_json``)."""

    def fit(self, x: Any, sample_weight: np.ndarray | None = None) -> Any: ...

    def transform(self, x: Any) -> Any: ...

    def to_json(self) -> dict[str, Any]: ...


def representation_json(spec: RepresentationSpec | None) -> dict[str, Any]:
    """What ``model/metadata.json`` stores under ``representation``."""
    return {"type": "tabular"} if spec is None else spec.to_json()


def representation_from_json(data: dict[str, Any] | None) -> RepresentationSpec | None:
    """Inverse of :func:`representation_json` (runs written before representations: tabular)."""
    if not data or data.get("type") == "tabular":
        return None
    return spec_from_json(data)


def preprocessor_from_json(data: dict[str, Any]) -> InputPreprocessor:
    """A fitted preprocessing from ``preprocessing.json`` (any representation)."""
    kind = data.get("kind")
    if kind == "particles":
        return ParticleScaler.from_json(data)
    if kind == "image":
        return ImageScaling.from_json(data)
    return Preprocessor.from_json(data)


def model_inputs(
    table: Table,
    spec: RepresentationSpec | None,
    features: list[str],
    *,
    fill_value: float | None = None,
) -> ModelInput:
    """Unpreprocessed inputs of every row of ``table``: matrix, particle sets or images."""
    if spec is not None:
        return build_inputs(table, spec)
    x = table.to_numpy(features, dtype=np.float64)
    return check_finite(x, features, fill_value=fill_value, source=table.source)


def as_model_input(x: Any) -> ModelInput:
    """Preprocessed inputs in the dtype the models take (float32 matrices and images)."""
    return x if isinstance(x, ParticleArrays) else np.asarray(x, dtype=np.float32)


def input_size(x: ModelInput) -> int:
    """``n_features`` of a model: columns, features per particle, or image channels."""
    if isinstance(x, ParticleArrays):
        return x.shape[2]
    return int(x.shape[1])
