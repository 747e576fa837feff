"""Jet taggers on constituents: a jet-image CNN and particle-set networks.

Each family is a :class:`~neyman.models.neural.NeuralModel` whose network comes
from :mod:`neyman.nn`; hyper-parameters are a named ``preset`` (``lite`` sized for
CPUs, ``full`` as in the paper) with individual keys overriding it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import nn

from neyman.exceptions import ConfigError
from neyman.models.neural import NeuralModel

__all__ = ["CNNModel", "EFNModel", "PFNModel", "ParticleNetModel", "TransformerModel"]

_NOT_ARCHITECTURE = frozenset({"preset", "image_size", "target_mean", "target_std"})


def _architecture(params: dict[str, Any], presets: dict[str, dict[str, Any]], family: str) -> dict[str, Any]:
    """The preset's hyper-parameters updated by the explicitly given ones."""
    name = params.get("preset") or "lite"
    if name not in presets:
        raise ConfigError(f"unknown {family} preset {name!r}; choose one of {', '.join(presets)}")
    chosen = {k: v for k, v in params.items() if k not in _NOT_ARCHITECTURE and v is not None}
    arch = {**presets[name], **chosen}
    # JSON gives lists; the networks take tuples of widths
    return {k: _tuples(v) for k, v in arch.items()}


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list | tuple) else value


class CNNModel(NeuralModel):
    """Convolutional network on jet images (``params``: ``preset``, ``image_size`` and
    the :class:`~neyman.nn.JetCNN` hyper-parameters); ``n_features`` is the number of channels."""

    family: ClassVar[str] = "cnn"
    representation: ClassVar[str] = "image"

    def build_network(self) -> nn.Module:
        from neyman.nn.cnn import PRESETS, JetCNN

        size = self.params.get("image_size")
        if not size:
            raise ConfigError("the cnn model needs params['image_size'] (pixels per side)")
        return JetCNN(self.n_features, int(size), self.task.n_outputs, **_architecture(self.params, PRESETS, "cnn"))


class PFNModel(NeuralModel):
    """Particle Flow Network (Deep Sets on per-particle features)."""

    family: ClassVar[str] = "pfn"
    representation: ClassVar[str] = "particles"

    def build_network(self) -> nn.Module:
        from neyman.nn.deepsets import PFN, PFN_PRESETS

        return PFN(self.n_features, self.task.n_outputs, **_architecture(self.params, PFN_PRESETS, "pfn"))


class EFNModel(NeuralModel):
    """Energy Flow Network: IRC-safe, reads only energy fractions and angles."""

    family: ClassVar[str] = "efn"
    representation: ClassVar[str] = "particles"

    def build_network(self) -> nn.Module:
        from neyman.nn.deepsets import EFN, EFN_PRESETS

        return EFN(self.task.n_outputs, **_architecture(self.params, EFN_PRESETS, "efn"))


class ParticleNetModel(NeuralModel):
    """ParticleNet: dynamic-graph convolutions on k nearest neighbours."""

    family: ClassVar[str] = "particlenet"
    representation: ClassVar[str] = "particles"

    def build_network(self) -> nn.Module:
        from neyman.nn.particlenet import PRESETS, ParticleNet

        return ParticleNet(self.n_features, self.task.n_outputs, **_architecture(self.params, PRESETS, "particlenet"))


class TransformerModel(NeuralModel):
    """Particle transformer with pairwise interaction features and class-token pooling."""

    family: ClassVar[str] = "transformer"
    representation: ClassVar[str] = "particles"
    # the pairwise embedding holds n^2 x width activations per jet: ~1 GB per 256 jets
    # of 100 constituents in the lite preset
    inference_batch_size: ClassVar[int] = 256

    def build_network(self) -> nn.Module:
        from neyman.nn.transformer import PRESETS, ParticleTransformer

        arch = _architecture(self.params, PRESETS, "transformer")
        return ParticleTransformer(self.n_features, self.task.n_outputs, **arch)
