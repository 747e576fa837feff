"""Model inputs of a run: a feature matrix, particle sets or jet images, and their preprocessing.

The configuration decides the representation (``data.representation``); this
module turns it into the plain specs of :mod:`neyman.representations` and builds
the inputs of a table the same way for training, evaluation and prediction.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from neyman.config import RunConfig
from neyman.preprocessing import Preprocessor, build_preprocessor, check_finite
from neyman.representations import (
    DEFAULT_PARTICLE_FEATURES,
    ImageScaling,
    ImageSpec,
    ParticleArrays,
    ParticleScaler,
    ParticleSpec,
    RepresentationSpec,
    build_inputs,
    spec_from_json,
)
from neyman.table import Table

__all__ = [
    "InputPreprocessor",
    "ModelInput",
    "as_model_input",
    "input_preprocessor",
    "input_size",
    "model_inputs",
    "preprocessor_from_json",
    "representation_from_json",
    "representation_json",
    "representation_spec",
]

ModelInput = np.ndarray | ParticleArrays


class InputPreprocessor(Protocol):
    """Fitted on the training split, applied to every input (``fit``/``transform``/``to_json``)."""

    def fit(self, x: Any, sample_weight: np.ndarray | None = None) -> Any: ...

    def transform(self, x: Any) -> Any: ...

    def to_json(self) -> dict[str, Any]: ...


def representation_spec(cfg: RunConfig) -> RepresentationSpec | None:
    """The particle or image spec of ``cfg`` (``None`` for tabular inputs)."""
    data = cfg.data
    if data.representation == "particles":
        p = data.particles
        return ParticleSpec(p.n_constituents, tuple(p.features or DEFAULT_PARTICLE_FEATURES), p.prefix)
    if data.representation == "image":
        return ImageSpec(**data.image.model_dump())
    return None


def representation_json(spec: RepresentationSpec | None) -> dict[str, Any]:
    """What ``model/metadata.json`` stores under ``representation``."""
    return {"type": "tabular"} if spec is None else spec.to_json()


def representation_from_json(data: dict[str, Any] | None) -> RepresentationSpec | None:
    """Inverse of :func:`representation_json` (runs written before representations: tabular)."""
    if not data or data.get("type") == "tabular":
        return None
    return spec_from_json(data)


def input_preprocessor(cfg: RunConfig, features: list[str]) -> InputPreprocessor:
    """The unfitted preprocessing of ``cfg``'s inputs."""
    rep = cfg.data.representation
    if rep == "particles":
        return ParticleScaler(clip=cfg.data.particles.clip)
    if rep == "image":
        return ImageScaling()
    p = cfg.preprocessing
    scaler = p.scaler or ("standard" if cfg.model.type == "mlp" else "none")
    return build_preprocessor(
        features,
        scaler=scaler,
        log=list(p.log),
        clip={k: list(v) for k, v in p.clip.items()},
        standard_clip=p.standard_clip,
    )


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
