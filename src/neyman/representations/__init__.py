"""Model inputs built from jet constituents: padded particle sets and jet images.

``tabular`` inputs (a feature matrix) need no builder; :func:`build_inputs`
turns a table into the inputs of the other two representations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neyman.exceptions import ConfigError
from neyman.representations.images import IMAGE_OBSERVABLES, ImageSpec, image_observables, jet_images, pixelise
from neyman.representations.particles import (
    CONSTITUENT_PREFIX,
    DEFAULT_PARTICLE_FEATURES,
    KINEMATIC_PARTICLE_FEATURES,
    PARTICLE_FEATURES,
    ParticleArrays,
    ParticleSpec,
    padded_constituents,
    particle_arrays,
)
from neyman.representations.scaling import ImageScaling, ParticleScaler
from neyman.table import Table

__all__ = [
    "CONSTITUENT_PREFIX",
    "DEFAULT_PARTICLE_FEATURES",
    "IMAGE_OBSERVABLES",
    "KINEMATIC_PARTICLE_FEATURES",
    "PARTICLE_FEATURES",
    "ImageScaling",
    "ImageSpec",
    "ParticleArrays",
    "ParticleScaler",
    "ParticleSpec",
    "RepresentationSpec",
    "build_inputs",
    "image_observables",
    "jet_images",
    "padded_constituents",
    "particle_arrays",
    "pixelise",
    "spec_from_json",
]

RepresentationSpec = ParticleSpec | ImageSpec


def build_inputs(table: Table, spec: RepresentationSpec) -> ParticleArrays | np.ndarray:
    """Particle sets or jet images of every jet of ``table``."""
    if isinstance(spec, ParticleSpec):
        return particle_arrays(table, spec)
    return jet_images(table, spec)


def spec_from_json(data: dict[str, Any]) -> RepresentationSpec:
    """A representation spec from its JSON form (``type``: ``particles`` or ``image``)."""
    kind = data.get("type")
    if kind == "particles":
        return ParticleSpec.from_json(data)
    if kind == "image":
        return ImageSpec.from_json(data)
    raise ConfigError(f"unknown representation type {kind!r}; expected 'particles' or 'image'")
