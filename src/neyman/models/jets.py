"""Jet taggers on constituents: a jet-image CNN and particle-set networks.

Each family is a :class:`~neyman.models.neural.NeuralModel` whose network comes
from :mod:`neyman.nn`; hyper-parameters are a named ``preset`` (``lite`` sized for
CPUs, ``full`` as in the paper) with individual keys overriding it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from torch import nn

from neyman.exceptions import ConfigError
from neyman.models.families import (
    CNNConfig,
    EFNConfig,
    ParticleNetConfig,
    PFNConfig,
    PresetParams,
    TransformerConfig,
)
from neyman.models.neural import ImageModel, NeuralModel

__all__ = ["CNNModel", "EFNModel", "PFNModel", "ParticleNetModel", "TransformerModel"]


def _architecture(params: PresetParams, presets: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The preset's hyper-parameters updated by the explicitly given ones."""
    if params.preset not in presets:
        raise ConfigError(f"unknown {params.type} preset {params.preset!r}; choose one of {', '.join(presets)}")
    chosen = params.model_dump(exclude={"type", "preset", "ensemble", "uncertainty", "passes"}, exclude_none=True)
    arch = {**presets[params.preset], **chosen}
    # the hyper-parameters hold lists; the networks take tuples of widths
    return {k: _tuples(v) for k, v in arch.items()}


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list | tuple) else value


class CNNModel(ImageModel):
    """Convolutional network on jet images; ``n_features`` is the number of channels.

    Parameters
    ----------
    task, n_features, **kwargs
        See :class:`~neyman.models.neural.NeuralModel`; the hyper-parameters are
        :class:`~neyman.models.families.CNNConfig` (a preset and the
        :class:`~neyman.nn.JetCNN` hyper-parameters).
    image_size
        Pixels per side of the images.
    """

    family: ClassVar[str] = "cnn"
    params: CNNConfig

    def build_network(self) -> nn.Module:
        from neyman.nn.cnn import PRESETS, JetCNN

        return JetCNN(self.n_features, self.image_size, self.task.n_outputs, **_architecture(self.params, PRESETS))


class PFNModel(NeuralModel):
    """Particle Flow Network (Deep Sets on per-particle features)."""

    family: ClassVar[str] = "pfn"
    params: PFNConfig

    def build_network(self) -> nn.Module:
        from neyman.nn.deepsets import PFN, PFN_PRESETS

        return PFN(self.n_features, self.task.n_outputs, **_architecture(self.params, PFN_PRESETS))


class EFNModel(NeuralModel):
    """Energy Flow Network: IRC-safe, reads only energy fractions and angles."""

    family: ClassVar[str] = "efn"
    params: EFNConfig

    def build_network(self) -> nn.Module:
        from neyman.nn.deepsets import EFN, EFN_PRESETS

        return EFN(self.task.n_outputs, **_architecture(self.params, EFN_PRESETS))


class ParticleNetModel(NeuralModel):
    """ParticleNet: dynamic-graph convolutions on k nearest neighbours."""

    family: ClassVar[str] = "particlenet"
    params: ParticleNetConfig

    def build_network(self) -> nn.Module:
        from neyman.nn.particlenet import PRESETS, ParticleNet

        return ParticleNet(self.n_features, self.task.n_outputs, **_architecture(self.params, PRESETS))


class TransformerModel(NeuralModel):
    """Particle transformer with pairwise interaction features and class-token pooling."""

    family: ClassVar[str] = "transformer"
    # the pairwise embedding holds n^2 x width activations per jet: ~1 GB per 256 jets
    # of 100 constituents in the lite preset
    inference_batch_size: ClassVar[int] = 256
    params: TransformerConfig

    def build_network(self) -> nn.Module:
        from neyman.nn.transformer import PRESETS, ParticleTransformer

        return ParticleTransformer(self.n_features, self.task.n_outputs, **_architecture(self.params, PRESETS))
