"""Unsupervised families: autoencoders (``task: autoencoder``), the normalizing flow (``task: density``)
and the jet-image generator (``task: generator``).

Both are :class:`~neyman.models.NeuralModel` subclasses trained by the same
trainer as every network: the network's forward pass *is* the per-event
objective (see :mod:`neyman.nn.autoencoder` and :mod:`neyman.nn.flows`), and the
task's loss is its weighted mean.  They know their feature names, because their
hyper-parameters refer to columns (per-feature weights, conditioning columns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from neyman.exceptions import ConfigError, DataError, ModelError
from neyman.models.base import Arrays
from neyman.models.families import (
    AutoencoderConfig,
    ConvAutoencoderConfig,
    FlowConfig,
    ImageGeneratorConfig,
    SetAutoencoderConfig,
    check_columns,
)
from neyman.models.neural import ImageModel, NeuralModel
from neyman.nn.autoencoder import Autoencoder, ConvAutoencoder, SetAutoencoder
from neyman.nn.autoregressive import ImageAutoregressive
from neyman.nn.flows import DensityFlow
from neyman.nn.generator import ImageFlowMatching
from neyman.nn.layers import image_fractions
from neyman.seeding import child_seed

__all__ = [
    "BOUND_MARGIN",
    "AutoencoderModel",
    "ConvAutoencoderModel",
    "FlowModel",
    "ImageGeneratorModel",
    "SetAutoencoderModel",
]

BOUND_MARGIN = 1e-3
"""A bounded feature's range is its training range widened by this fraction of its width on each side."""


class _Encoding(NeuralModel):
    """An autoencoder: its network has ``code`` (the latent code) and may have ``reconstruct``."""

    def _apply(self, method: str, x: Any) -> np.ndarray:
        """``network.<method>`` of the preprocessed inputs ``x``, batch by batch, as float64."""
        net = self.network
        if not hasattr(net, method):
            raise ModelError(f"the {self.family} model has no {method} (an ensemble has no single latent space)")
        net.eval()
        inputs = self._tensors(x)
        n = len(inputs[0]) if isinstance(inputs, tuple) else len(inputs)
        outs = []
        with torch.no_grad():
            for start in range(0, n, self.inference_batch_size):
                if isinstance(inputs, tuple):
                    out = getattr(net, method)(*(t[start : start + self.inference_batch_size] for t in inputs))
                else:
                    out = getattr(net, method)(inputs[start : start + self.inference_batch_size])
                outs.append(out.double().numpy())
        return np.concatenate(outs) if outs else np.zeros((0,))

    def encode(self, x: Any) -> np.ndarray:
        """Latent codes (a VAE's latent means) of preprocessed inputs, ``(n_events, latent)``."""
        return self._apply("code", x)

    def reconstruct(self, x: Any) -> np.ndarray:
        """Reconstructions of preprocessed inputs, in the same (preprocessed) units."""
        return self._apply("reconstruct", x)


class _Named(NeuralModel):
    """A network whose hyper-parameters name input columns."""

    input_arguments: ClassVar[tuple[str, ...]] = ("feature_names",)

    def __init__(self, task: Any, n_features: int, *, feature_names: Sequence[str] | None = None, **kwargs: Any):
        names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(n_features)]
        if len(names) != n_features:
            raise ConfigError(f"{len(names)} feature names for {n_features} features: {names}")
        self.feature_names = names
        super().__init__(task, n_features, **kwargs)

    def _columns(self, wanted: Sequence[str], what: str) -> list[int]:
        """Indices of the named columns; an unknown name is a configuration error."""
        check_columns(what, wanted, self.feature_names)
        return [self.feature_names.index(c) for c in wanted]


class AutoencoderModel(_Named, _Encoding):
    """A dense autoencoder or VAE (:class:`~neyman.nn.Autoencoder`) on standardised tabular features."""

    family: ClassVar[str] = "autoencoder"
    inference_batch_size: ClassVar[int] = 65536
    params: AutoencoderConfig

    def build_network(self) -> nn.Module:
        p = self.params
        weights = np.ones(self.n_features)
        for j, name in zip(self._columns(list(p.feature_weights), "feature_weights"), p.feature_weights, strict=True):
            weights[j] = p.feature_weights[name]
        return Autoencoder(
            self.n_features,
            latent=p.latent,
            hidden=tuple(p.hidden),
            activation=p.activation,
            feature_weights=weights.tolist(),
            **p.variational_options(),
        )

    def _single(self) -> Autoencoder:
        if not isinstance(self.network, Autoencoder):
            raise ModelError("latent codes and reconstructions are defined for one autoencoder, not an ensemble")
        return self.network

    @property
    def sampled_columns(self) -> list[str]:
        """The columns :meth:`sample` draws: every feature."""
        return list(self.feature_names)

    @property
    def can_sample(self) -> bool:
        """Whether :meth:`sample` can draw: a VAE can, a plain autoencoder has no latent prior."""
        return isinstance(self.network, Autoencoder) and self.network.variational

    @torch.no_grad()
    def sample(self, n: int, *, context: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
        r"""Draw ``n`` events from a VAE, in the preprocessed units it learned (``(n, n_features)``).

        Notes
        -----
        :math:`z \sim \mathcal N(0, 1)` in the latent space, decoded to the mean
        :math:`\hat x(z)` of the Gaussian decoder.  The preprocessing's inverse
        brings the draws to physical units (``neyman sample`` applies it).

        Raises
        ------
        ModelError
            The autoencoder is not variational (its latent space has no prior to
            draw from), or a context was given.
        """
        net = self._single().eval()
        if not net.variational:
            raise ModelError("a plain autoencoder has no latent prior to draw from: train with variational: true")
        if context is not None:
            raise ModelError("an autoencoder is not conditional: draw without condition columns")
        gen = torch.Generator().manual_seed(child_seed(seed, "vae-sample"))
        z = torch.randn(n, net.latent, generator=gen)
        return np.asarray(net.decoder(z).double().numpy())


class ConvAutoencoderModel(ImageModel, _Encoding):
    """A convolutional autoencoder or VAE (:class:`~neyman.nn.ConvAutoencoder`) on jet images.

    ``n_features`` is the number of image channels; ``image_size`` the pixels per side.
    """

    family: ClassVar[str] = "conv_autoencoder"
    inference_batch_size: ClassVar[int] = 4096
    params: ConvAutoencoderConfig

    def build_network(self) -> nn.Module:
        p = self.params
        return ConvAutoencoder(
            self.n_features,
            self.image_size,
            latent=p.latent,
            channels=tuple(p.channels),
            kernel_size=p.kernel_size,
            **p.variational_options(),
        )


class SetAutoencoderModel(_Encoding):
    """A permutation-invariant autoencoder (:class:`~neyman.nn.SetAutoencoder`) on particle sets.

    ``n_features`` is the number of per-particle features.
    """

    family: ClassVar[str] = "set_autoencoder"
    inference_batch_size: ClassVar[int] = 4096
    params: SetAutoencoderConfig

    def build_network(self) -> nn.Module:
        p = self.params
        return SetAutoencoder(
            self.n_features,
            latent=p.latent,
            phi=tuple(p.phi),
            hidden=tuple(p.hidden),
            decoded=p.decoded,
            activation=p.activation,
        )


class FlowModel(_Named):
    """A normalizing flow (:class:`~neyman.nn.DensityFlow`) on the raw features.

    The flow standardises its inputs itself, with the weighted mean and standard
    deviation of the training sample, so its log-density is that of the physical
    variables; the run's preprocessing is therefore ``none``.
    """

    family: ClassVar[str] = "flow"
    inference_batch_size: ClassVar[int] = 16384
    params: FlowConfig

    def build_network(self) -> nn.Module:
        p = self.params
        context = self._columns(p.condition, "condition")
        if len(context) == self.n_features:
            raise ConfigError("model.condition names every feature: leave at least one variable to model")
        return DensityFlow(
            self.n_features,
            context_columns=context,
            transform=p.transform,
            transforms=p.transforms,
            hidden=tuple(p.hidden),
            bins=p.bins,
        )

    can_sample: ClassVar[bool] = True

    @property
    def sampled_columns(self) -> list[str]:
        """The modelled columns (the features that are not conditions), in order: what :meth:`sample` draws."""
        return [c for c in self.feature_names if c not in self.params.condition]

    def _flow(self) -> DensityFlow:
        if not isinstance(self.network, DensityFlow):
            raise ModelError("a density model is one flow")
        return self.network

    def fit(self, train: Arrays, val: Arrays | None = None, *, resume: bool = False) -> FlowModel:
        """Set the standardisation from the training events, then maximise the likelihood.

        Notes
        -----
        A ``bounded`` column's range is that of the training events with positive
        weight, widened by :data:`BOUND_MARGIN` of its width on each side.  Then
        ``m_j = Σ w y_j / Σ w`` and ``s_j`` the weighted standard deviation of
        column ``j`` (logit-mapped if bounded) over those events.
        """
        x = np.asarray(train.x, dtype=np.float64)
        w = np.clip(np.asarray(train.w, dtype=np.float64), 0.0, None)
        if not w.sum() > 0:
            raise DataError("the training events of the flow have no positive weight")
        flow = self._flow()
        bounded = np.zeros(x.shape[1], dtype=bool)
        bounded[self._columns(self.params.bounded, "bounded")] = True
        used = x[w > 0]
        lower, upper = used.min(axis=0), used.max(axis=0)
        margin = BOUND_MARGIN * (upper - lower)
        flow.set_bounds(torch.as_tensor(lower - margin), torch.as_tensor(upper + margin), torch.as_tensor(bounded))
        y = flow.unbounded(torch.as_tensor(x, dtype=flow.lower.dtype))[0].double().numpy()
        mean = np.average(y, axis=0, weights=w)
        std = np.sqrt(np.average((y - mean) ** 2, axis=0, weights=w))
        flat = [self.feature_names[j] for j in np.flatnonzero(~(std > 0))]
        if flat and flat[0] in self.params.condition:
            raise DataError(
                f"the condition {flat[0]!r} holds one value in the training events: the flow cannot learn how the "
                "density changes with it; remove it from model.condition (and data.features), or train on events "
                "of several values"
            )
        if flat:
            raise DataError(
                f"feature {flat[0]!r} has no spread in the training events: a flow cannot model it; drop it from "
                "data.features"
            )
        flow.set_standardisation(torch.as_tensor(mean), torch.as_tensor(std))
        super().fit(train, val, resume=resume)
        return self

    @torch.no_grad()
    def sample(self, n: int, *, context: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
        """Draw ``n`` events of :attr:`sampled_columns`, in physical units.

        Parameters
        ----------
        n
            Events to draw.
        context
            ``(n, len(params.condition))`` values of the conditioning columns, in
            the order of ``params.condition`` (a conditional flow only).
        seed
            Seed of the draw: the same seed gives the same events.
        """
        flow = self._flow().eval()
        ctx = None
        if flow.n_context:
            if context is None:
                raise DataError(f"this density is conditional on {', '.join(self.params.condition)}: give their values")
            order = np.argsort(self._columns(self.params.condition, "condition"))
            ctx = torch.as_tensor(np.asarray(context, dtype=np.float32)[:, order])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(child_seed(seed, "flow-sample"))
            return np.asarray(flow.sample(n, ctx).double().numpy())


class ImageGeneratorModel(ImageModel):
    """A conditional jet-image generator on unnormalised images.

    The network is :class:`~neyman.nn.ImageAutoregressive` (``kind:
    autoregressive``, the default) or :class:`~neyman.nn.ImageFlowMatching`
    (``kind: flow_matching``).  ``n_features`` is the number of image channels;
    ``image_size`` the pixels per side.  The condition is each image's total
    intensity; the images must therefore keep it (``data.image.normalise: false``).
    """

    family: ClassVar[str] = "image_generator"
    inference_batch_size: ClassVar[int] = 4096
    can_sample: ClassVar[bool] = True
    params: ImageGeneratorConfig

    def build_network(self) -> nn.Module:
        p = self.params
        if p.kind == "flow_matching":
            return ImageFlowMatching(
                self.n_features, self.image_size, width=p.width, blocks=p.resolved_blocks(), steps=p.steps
            )
        return ImageAutoregressive(
            self.n_features,
            self.image_size,
            width=p.width,
            blocks=p.resolved_blocks(),
            components=p.components,
            dropout=p.dropout,
        )

    @classmethod
    def _saved_state(
        cls, params: dict[str, Any], state: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """As for every model; a generator saved before ``kind`` existed is a flow-matching one."""
        params, loaded = super()._saved_state(params, state)
        params.setdefault("kind", "flow_matching")
        return params, loaded

    def _generator(self) -> ImageAutoregressive | ImageFlowMatching:
        if not isinstance(self.network, ImageAutoregressive | ImageFlowMatching):
            raise ModelError("a generator is one network")
        return self.network

    @property
    def sampled_columns(self) -> list[str]:
        """``pixel_<i>_<j>`` (one channel) or ``pixel<c>_<i>_<j>``: row ``i`` (η′), column ``j`` (φ′)."""
        size, channels = self.image_size, self.n_features
        digits = len(str(size - 1))
        return [
            f"pixel{'' if channels == 1 else c}_{i:0{digits}d}_{j:0{digits}d}"
            for c in range(channels)
            for i in range(size)
            for j in range(size)
        ]

    def fit(self, train: Arrays, val: Arrays | None = None, *, resume: bool = False) -> ImageGeneratorModel:
        """Let the network set its representation from the training images, then train.

        Notes
        -----
        The network's ``prepare`` sees the training images of positive weight and
        their weights: the pixel order and standardisations of
        :class:`~neyman.nn.ImageAutoregressive`, or the floor and standardisation of
        :class:`~neyman.nn.ImageFlowMatching`.

        Raises
        ------
        DataError
            An image without intensity, or training images without positive weight.
        ConfigError
            Every image has the same total (normalised images): nothing to condition on.
        """
        net = self._generator()
        w = np.clip(np.asarray(train.w, dtype=np.float64), 0.0, None)
        if not w.sum() > 0:
            raise DataError("the training images of the generator have no positive weight")
        images = torch.as_tensor(np.asarray(train.x, dtype=np.float64)[w > 0])
        log_total = image_fractions(images)[1]
        if not torch.isfinite(log_total).all():
            raise DataError(
                f"{int((~torch.isfinite(log_total)).sum())} training images hold no intensity: select jets with "
                "constituents inside the image (data.selection) before training a generator"
            )
        if float(log_total.max() - log_total.min()) < 1e-6:
            raise ConfigError(
                "every training image has the same total intensity (normalised images): the generator is "
                "conditioned on the total; set data.image.normalise: false"
            )
        net.prepare(images, torch.as_tensor(w[w > 0]), seed=self.seed)
        super().fit(train, val, resume=resume)
        return self

    @torch.no_grad()
    def sample(self, n: int, *, context: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
        """Draw ``n`` images at the totals ``context`` ``(n, 1)``, flattened to :attr:`sampled_columns`.

        Raises
        ------
        DataError
            No totals, or a total that is not positive and finite.
        """
        if context is None:
            raise DataError(f"the generator draws images at given totals: give {self.params.condition[0]}")
        total = np.array(context, dtype=np.float64).reshape(n, -1)[:, 0]
        bad = ~(np.isfinite(total) & (total > 0))
        if bad.any():
            raise DataError(
                f"{self.params.condition[0]} must be positive and finite to draw an image at it, got {total[bad][0]}"
            )
        net = self._generator().eval()
        generator = torch.Generator().manual_seed(child_seed(seed, "image-sample"))
        out = []
        for start in range(0, n, self.inference_batch_size):
            part = torch.as_tensor(total[start : start + self.inference_batch_size], dtype=torch.float32)
            out.append(net.sample(part, generator=generator).reshape(len(part), -1).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.sampled_columns)))
