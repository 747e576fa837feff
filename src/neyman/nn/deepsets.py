"""Deep Sets on jet constituents: the Particle Flow and Energy Flow Networks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from neyman.nn.layers import (
    ParticleModule,
    activation_layer,
    check_dropout,
    check_positive,
    check_widths,
    dense_layers,
    keep_inputs,
    zero_padding,
)

__all__ = ["EFN", "EFN_PRESETS", "PFN", "PFN_PRESETS", "per_particle"]

PFN_PRESETS: dict[str, dict[str, object]] = {
    # about 2 MFLOP per jet of 100 constituents
    "lite": {"phi": (64, 64, 64), "f": (64, 64), "dropout": 0.0},
    # the defaults of Komiske, Metodiev, Thaler (and of their EnergyFlow package)
    "full": {"phi": (100, 100, 128), "f": (100, 100, 100), "dropout": 0.0},
}
"""Named hyper-parameter sets of :class:`PFN`."""

EFN_PRESETS: dict[str, dict[str, object]] = {
    "lite": {"phi": (64, 64, 64), "f": (64, 64), "dropout": 0.0},
    "full": {"phi": (100, 100, 128), "f": (100, 100, 100), "dropout": 0.0},
}
"""Named hyper-parameter sets of :class:`EFN`."""


def per_particle(n_inputs: int, widths: tuple[int, ...], activation: str) -> nn.Sequential:
    """Phi: ``[Linear -> act]*`` applied to each constituent (the latent ends with ``act`` too)."""
    layers: list[nn.Module] = []
    for w in widths:
        layers += [nn.Linear(n_inputs, w), activation_layer(activation)]
        n_inputs = w
    return nn.Sequential(*layers)


class _DeepSet(ParticleModule):
    """The two networks of a Deep Set: Φ per particle, then F on the sum of the latents.

    The subclasses check ``n_features`` (if they read features) before calling this,
    and decide what Φ sees and how the latents are weighted in ``forward``.
    """

    def __init__(
        self,
        n_features: int,
        n_inputs: int,
        n_outputs: int,
        *,
        phi: Sequence[int],
        f: Sequence[int],
        activation: str,
        dropout: float,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        check_positive("n_outputs", n_outputs)
        phi_widths = check_widths("phi", phi)
        check_dropout(dropout)
        self.phi = per_particle(n_inputs, phi_widths, activation)
        widths = check_widths("f", f, allow_empty=True)
        self.f = nn.Sequential(*dense_layers(phi_widths[-1], widths, n_outputs, activation=activation, dropout=dropout))


class PFN(_DeepSet):
    """Particle Flow Network: a sum of per-particle embeddings, then a dense network.

    Parameters
    ----------
    n_features
        Number of per-particle features.
    n_outputs
        Size of the output layer (set by the task).
    phi
        Widths of the per-particle network Φ; the last is the latent dimension ℓ.
    f
        Widths of the hidden layers of the jet-level network F.
    activation
        One of :data:`~neyman.nn.mlp.ACTIVATIONS`, used in Φ and F.
    dropout
        Dropout probability after each hidden layer of F.

    Notes
    -----
    ``PFN(jet) = F( sum_i m_i Φ(x_i) )`` with ``x_i`` the features of constituent
    ``i`` and ``m_i`` its mask, so the output is invariant under permutations of the
    constituents and blind to padding.  Reads only ``features`` (and ``mask``).
    P. T. Komiske, E. M. Metodiev, J. Thaler, "Energy flow networks: deep sets for
    particle jets", JHEP 01 (2019) 121, arXiv:1810.05165.
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        *,
        phi: Sequence[int] = (100, 100, 128),
        f: Sequence[int] = (100, 100, 100),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        check_positive("n_features", n_features)
        super().__init__(n_features, n_features, n_outputs, phi=phi, f=f, activation=activation, dropout=dropout)

    def forward(self, features: Tensor, points: Tensor, vectors: Tensor, mask: Tensor) -> Tensor:
        """Map the padded constituents of ``n_jets`` jets to ``(n_jets, n_outputs)``."""
        valid = mask > 0.5
        latent = self.phi(zero_padding(features, valid)) * valid.unsqueeze(-1).to(features.dtype)
        out: Tensor = self.f(latent.sum(dim=1))
        return keep_inputs(out, points, vectors)


class EFN(_DeepSet):
    """Energy Flow Network: the IRC-safe Deep Set of energy fractions and angles.

    Parameters
    ----------
    n_outputs
        Size of the output layer (set by the task).
    phi
        Widths of the angular network Φ; the last is the latent dimension ℓ.
    f
        Widths of the hidden layers of the jet-level network F.
    activation
        One of :data:`~neyman.nn.mlp.ACTIVATIONS`, used in Φ and F.
    dropout
        Dropout probability after each hidden layer of F.

    Notes
    -----
    ``EFN(jet) = F( sum_i z_i Φ(Δη_i, Δφ_i) )`` with the momentum fractions
    ``z_i = m_i pT_i / sum_j m_j pT_j``, ``pT = sqrt(px^2 + py^2)`` from ``vectors``
    and ``(Δη, Δφ)`` from ``points``.  The latent sum is linear in the energies and
    reads angles only through Φ, so it is infrared safe (a constituent with ``z = 0``
    adds nothing) and collinear safe (splitting a constituent into collinear pieces
    ``z = z_a + z_b`` at the same angles leaves it unchanged).  ``features`` are not
    read; every jet-level input is an energy flow polynomial-like observable.
    P. T. Komiske, E. M. Metodiev, J. Thaler, "Energy flow networks: deep sets for
    particle jets", JHEP 01 (2019) 121, arXiv:1810.05165.
    """

    def __init__(
        self,
        n_outputs: int,
        *,
        phi: Sequence[int] = (100, 100, 128),
        f: Sequence[int] = (100, 100, 100),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        # features are not read (one column is what example inputs carry); Φ sees (Δη, Δφ)
        super().__init__(1, 2, n_outputs, phi=phi, f=f, activation=activation, dropout=dropout)

    def forward(self, features: Tensor, points: Tensor, vectors: Tensor, mask: Tensor) -> Tensor:
        """Map the padded constituents of ``n_jets`` jets to ``(n_jets, n_outputs)``."""
        valid = mask > 0.5
        momenta = zero_padding(vectors, valid)
        pt = torch.sqrt(momenta[..., 0] ** 2 + momenta[..., 1] ** 2)
        # a jet without constituents gets z = 0 rather than 0/0
        z = pt / pt.sum(dim=1, keepdim=True).clamp(min=torch.finfo(pt.dtype).tiny)
        latent = (self.phi(zero_padding(points, valid)) * z.unsqueeze(-1)).sum(dim=1)
        out: Tensor = self.f(latent)
        return keep_inputs(out, features)
