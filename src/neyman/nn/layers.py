"""Building blocks shared by the jet networks: masking, masked batch norm, checks.

Every particle network takes the same four tensors (see :data:`PARTICLE_INPUT_NAMES`)
and derives from :class:`ParticleModule`, so the trainer, the FLOP counter and the
ONNX exporter can treat them alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neyman.exceptions import ConfigError, close_matches
from neyman.nn.mlp import ACTIVATIONS

__all__ = [
    "PARTICLE_DYNAMIC_AXES",
    "PARTICLE_INPUT_NAMES",
    "MaskedBatchNorm",
    "ParticleModule",
    "activation_layer",
    "check_dropout",
    "check_positive",
    "check_widths",
    "example_particle_inputs",
    "image_fractions",
    "keep_inputs",
    "large_negative",
    "masked_mean",
    "weighted_moments",
    "zero_padding",
]

PARTICLE_INPUT_NAMES: tuple[str, str, str, str] = ("features", "points", "vectors", "mask")
"""Names (and order) of the inputs of every particle network, as in the ONNX graph."""

PARTICLE_DYNAMIC_AXES: dict[str, dict[int, str]] = {
    "features": {0: "n_jets", 1: "n_constituents"},
    "points": {0: "n_jets", 1: "n_constituents"},
    "vectors": {0: "n_jets", 1: "n_constituents"},
    "mask": {0: "n_jets", 1: "n_constituents"},
}
"""``dynamic_axes`` of the particle inputs for ``torch.onnx.export`` (add the output's)."""


def activation_layer(name: str) -> nn.Module:
    """A new activation module by name (one of :data:`~neyman.nn.mlp.ACTIVATIONS`)."""
    if name not in ACTIVATIONS:
        raise ConfigError(
            f"unknown activation {name!r}{close_matches(name, ACTIVATIONS)}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[name]()


def dense_layers(
    n_inputs: int, widths: tuple[int, ...], n_outputs: int, *, activation: str = "relu", dropout: float = 0.0
) -> list[nn.Module]:
    """A dense head: ``[Linear -> act -> (Dropout)]* -> Linear`` as a list of modules."""
    layers: list[nn.Module] = []
    for w in widths:
        layers += [nn.Linear(n_inputs, w), activation_layer(activation)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        n_inputs = w
    layers.append(nn.Linear(n_inputs, n_outputs))
    return layers


def check_positive(name: str, value: int) -> int:
    """Return ``value`` or raise :class:`ConfigError` when it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_widths(name: str, widths: Sequence[int], *, allow_empty: bool = False) -> tuple[int, ...]:
    """Return ``widths`` as a tuple of positive integers, or raise :class:`ConfigError`."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
        raise ConfigError(f"{name} must be a sequence of layer widths, got {widths!r}")
    out = tuple(widths)
    if not out and not allow_empty:
        raise ConfigError(f"{name} needs at least one layer width, got {widths!r}")
    for w in out:
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ConfigError(f"{name} must hold positive integer widths, got {widths!r}")
    return out


def check_dropout(value: float) -> float:
    """Return ``value`` or raise :class:`ConfigError` when it is not in ``[0, 1)``."""
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {value}")
    return float(value)


def image_fractions(images: Tensor) -> tuple[Tensor, Tensor]:
    """Per-pixel fractions ``q = p / T`` ``(n, n_pixels)`` and ``ln T`` ``(n,)`` of images ``(n, ...)``."""
    flat = images.flatten(1).clamp(min=0.0)
    total = flat.sum(dim=1)
    return flat / total.clamp(min=torch.finfo(flat.dtype).tiny)[:, None], torch.log(total)


def weighted_moments(values: Tensor, weight: Tensor) -> tuple[float, float]:
    """Mean and standard deviation of ``values`` with ``weight`` (broadcast to them, any normalisation)."""
    w = torch.broadcast_to(weight, values.shape).double()
    w = w / w.sum()
    mean = (w * values.double()).sum()
    return float(mean), float((w * (values.double() - mean) ** 2).sum().sqrt())


def zero_padding(x: Tensor, valid: Tensor) -> Tensor:
    """``x`` with every padded constituent set to exactly zero.

    ``torch.where`` rather than a product, so that NaN or inf written into padded
    slots cannot leak (``0 * inf`` is NaN).  ``valid`` is a boolean tensor with the
    shape of ``x`` less its last axis.
    """
    return torch.where(valid.unsqueeze(-1), x, torch.zeros_like(x))


def masked_mean(x: Tensor, weight: Tensor, dim: int) -> Tensor:
    """Mean of ``x`` over ``dim`` counting only entries of weight 1.

    ``weight`` (0/1, float) has the shape of ``x`` less its last (channel) axis;
    rows without any valid entry give zero rather than NaN.
    """
    total = (x * weight.unsqueeze(-1)).sum(dim=dim)
    count = weight.sum(dim=dim).clamp(min=1.0).unsqueeze(-1)
    return total / count


class MaskedBatchNorm(nn.Module):
    """Batch normalisation over the last (channel) axis that ignores padded entries.

    Parameters
    ----------
    num_features
        Number of channels ``C``.
    eps
        Added to the variance before the square root.
    momentum
        Weight of the current batch in the running averages.

    Notes
    -----
    ``y = gamma (x - mu) / sqrt(sigma^2 + eps) + beta`` per channel.  In training,
    ``mu`` and ``sigma^2`` are the mean and (biased) variance of the valid entries
    only, so the amount of padding in a batch does not change the normalisation;
    they update the running averages (unbiased variance, as in
    :class:`torch.nn.BatchNorm1d`) that evaluation and the exported graph use.  The
    valid entries are gathered into one ``(n_valid, C)`` block for torch's fused
    batch-norm kernel, and the padded entries of the output are zero in training
    and the affine image of the input in evaluation: callers must not read them.
    With fewer than two valid entries a training batch is normalised with the
    running statistics and leaves them unchanged.
    """

    running_mean: Tensor
    running_var: Tensor

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.num_features = check_positive("num_features", num_features)
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: Tensor, valid: Tensor | None = None) -> Tensor:
        """Normalise ``x`` of shape ``(..., C)``; ``valid`` (boolean, shape ``(...)``) defaults to all."""
        flat = x.reshape(-1, self.num_features)
        if self.training:
            index = None if valid is None else valid.reshape(-1).nonzero().squeeze(1)
            rows = flat if index is None else flat.index_select(0, index)
            if rows.shape[0] > 1:
                rows = F.batch_norm(
                    rows,
                    self.running_mean,
                    self.running_var,
                    self.weight,
                    self.bias,
                    training=True,
                    momentum=self.momentum,
                    eps=self.eps,
                )
                if index is not None:
                    rows = rows.new_zeros((flat.shape[0], self.num_features)).index_copy(0, index, rows)
                return rows.view(x.shape)
        out = F.batch_norm(
            flat, self.running_mean, self.running_var, self.weight, self.bias, training=False, eps=self.eps
        )
        return out.view(x.shape)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class ParticleModule(nn.Module):
    """Base of the particle networks: the common input signature.

    ``forward(features, points, vectors, mask)`` with

    - ``features``: ``(n_jets, n_constituents, n_features)`` standardised per-particle features,
    - ``points``: ``(n_jets, n_constituents, 2)`` (Δη, Δφ) to the jet axis,
    - ``vectors``: ``(n_jets, n_constituents, 4)`` (px, py, pz, E) in GeV,
    - ``mask``: ``(n_jets, n_constituents)`` 1.0 for real constituents, 0.0 for padding,

    returning ``(n_jets, n_outputs)`` raw values.  A network that does not need an
    input still accepts it.
    """

    INPUT_NAMES: ClassVar[tuple[str, ...]] = PARTICLE_INPUT_NAMES
    n_features: int

    def example_inputs(
        self, n_jets: int = 2, n_constituents: int = 16, *, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Plausible random inputs (all constituents real), e.g. to trace or export the network."""
        return example_particle_inputs(n_jets, n_constituents, self.n_features, generator=generator)


def example_particle_inputs(
    n_jets: int,
    n_constituents: int,
    n_features: int,
    *,
    n_real: Sequence[int] | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Random but physically consistent particle inputs.

    Parameters
    ----------
    n_jets, n_constituents, n_features
        The shape of the padded batch.
    n_real
        Number of real constituents of each jet (default: all); the rest is padding,
        zero in every input.
    generator
        Source of the random numbers.

    Returns
    -------
    tuple of Tensor
        ``(features, points, vectors, mask)`` as :class:`ParticleModule` takes them:
        massless constituents with exponentially falling pT around a jet axis at
        (η, φ) = (0.5, 0.3), ordered by decreasing pT.
    """
    shape = (n_jets, n_constituents)
    pt = torch.empty(shape).exponential_(0.1, generator=generator) + 0.5
    pt = pt.sort(dim=1, descending=True).values
    deta = 0.3 * torch.randn(shape, generator=generator)
    dphi = 0.3 * torch.randn(shape, generator=generator)
    eta, phi = deta + 0.5, dphi + 0.3
    vectors = torch.stack([pt * torch.cos(phi), pt * torch.sin(phi), pt * torch.sinh(eta), pt * torch.cosh(eta)], -1)
    points = torch.stack([deta, dphi], dim=-1)
    features = torch.randn((*shape, n_features), generator=generator)
    if n_real is None:
        mask = torch.ones(shape)
    else:
        if len(n_real) != n_jets:
            raise ConfigError(f"n_real has {len(n_real)} entries for {n_jets} jets")
        mask = (torch.arange(n_constituents).unsqueeze(0) < torch.tensor(list(n_real)).unsqueeze(1)).float()
    keep = mask.unsqueeze(-1)
    return features * keep, points * keep, vectors * keep, mask


def large_negative(dtype: torch.dtype) -> float:
    """A logit that removes an entry from a softmax: -1e9, or the lowest finite value of ``dtype``.

    Finite rather than ``-inf``, so that a row whose entries are all masked gives a
    uniform, finite softmax instead of NaN; ``exp(-1e9 - max)`` underflows to exactly 0,
    so a masked entry has exactly zero weight in every other row.
    """
    return max(-1e9, torch.finfo(dtype).min)


def keep_inputs(out: Tensor, *unused: Tensor) -> Tensor:
    """``out`` unchanged, but tied to inputs the network does not read.

    torch's ONNX exporter drops graph inputs that the output does not depend on; a
    network that ignores one of the common inputs would then export a graph with a
    different signature.  Reshaping the output with the batch size read from each
    unused input keeps it in the graph, costs nothing and never reads its values
    (so garbage there cannot leak into the output).
    """
    for tensor in unused:
        out = out.reshape(tensor.shape[0], -1)
    return out
