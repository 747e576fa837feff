"""A particle transformer: self-attention over constituents with pairwise interaction bias."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neyman.exceptions import ConfigError
from neyman.nn.layers import (
    MaskedBatchNorm,
    ParticleModule,
    check_dropout,
    check_positive,
    check_widths,
    keep_inputs,
    large_negative,
    zero_padding,
)

__all__ = ["PRESETS", "ParticleTransformer", "pair_features"]

PRESETS: dict[str, dict[str, object]] = {
    # The CPU presets drop no attention weights: that dropout draws one random number per
    # head and pair (heads x n^2 per jet); without it ``tiny`` and ``lite`` train 1.23x and
    # 1.29x faster on two CPU cores at 100 constituents. Dropout on the residual branches stays.
    # below the lite network, for quick CPU runs (about 10 MFLOP per jet of 100 constituents)
    "tiny": {
        "embed_dim": 32,
        "num_heads": 4,
        "num_layers": 2,
        "num_class_layers": 1,
        "ffn_ratio": 2,
        "dropout": 0.1,
        "attention_dropout": 0.0,
        "pair_features": True,
        "pair_embed": (16,),
        "particle_embed": (64,),
    },
    "lite": {
        "embed_dim": 64,
        "num_heads": 4,
        "num_layers": 3,
        "num_class_layers": 1,
        "ffn_ratio": 4,
        "dropout": 0.1,
        "attention_dropout": 0.0,
        "pair_features": True,
        "pair_embed": (32, 32),
        "particle_embed": (128,),
    },
    # ParT of Qu, Li, Qian
    "full": {
        "embed_dim": 128,
        "num_heads": 8,
        "num_layers": 8,
        "num_class_layers": 2,
        "ffn_ratio": 4,
        "dropout": 0.1,
        "pair_features": True,
        "pair_embed": (64, 64, 64),
        "particle_embed": (128, 512),
    },
}
"""Named hyper-parameter sets: ``full`` is the paper's ParT, ``lite`` and ``tiny`` are for CPUs."""

N_PAIR_FEATURES = 4
# floor of the arguments of the logarithmic pair features
EPSILON = 1e-8
MIN_DELTA_R = 1e-4
"""Pairs closer than this (in rapidity and azimuth) are collinear: float32 resolves directions to ~1e-7."""


def _sinh(x: Tensor) -> Tensor:
    """``sinh x`` in float32 to ~1e-7 relative, from ops ONNX has (no ``Sinh`` in torch's exporter):
    the series ``x + x^3/6 + x^5/120`` where ``|x| < 0.1``, where ``(e^x - e^-x)/2`` would cancel."""
    small = x.abs() < 0.1
    series = x * (1 + x**2 / 6 * (1 + x**2 / 20))
    tame = torch.where(small, torch.ones_like(x), x)  # no overflow in the branch not taken
    return torch.where(small, series, (torch.exp(tame) - torch.exp(-tame)) / 2)


def pair_features(vectors: Tensor) -> Tensor:
    """The pairwise interaction features ``(ln ΔR, ln kT, ln z, ln m^2)`` of every pair.

    Parameters
    ----------
    vectors
        ``(n_jets, n, 4)`` four-momenta (px, py, pz, E) in GeV; padded rows all zero.

    Returns
    -------
    Tensor
        ``(n_jets, n, n, 4)``: for constituents ``i, j`` with rapidity ``y``, azimuth
        ``φ`` and transverse momentum ``pT``,
        ``ΔR = sqrt((y_i - y_j)^2 + (φ_i - φ_j)^2)`` (Δφ wrapped into [-π, π]),
        ``kT = min(pT_i, pT_j) ΔR``, ``z = min(pT_i, pT_j) / (pT_i + pT_j)`` and
        ``m^2 = (E_i + E_j)^2 - |p_i + p_j|^2``.  Every argument of a logarithm is
        clamped to at least 1e-8 (the diagonal and padded pairs sit at that floor), and
        ``ΔR`` to at least :data:`MIN_DELTA_R` (also in ``m^2``, as ``p_Ti p_Tj ΔR^2``); a
        particle's own ``m^2 = E^2 - |p|^2`` below ``1e-6 E^2`` is zero (float32 rounding).

    Notes
    -----
    Computed without the cancellations that float32 cannot afford (near-collinear
    pairs of GeV particles, whose ``m^2`` is a difference of numbers ~1e4 times larger,
    had ``ln m^2`` off by up to 16 and ``ln ΔR`` by up to 3, different again in ONNX
    Runtime): with ``m_T^2 = p_T^2 + m^2``,
    ``y = sign(p_z) ln((E + |p_z|) / m_T)`` and
    ``m_ij^2 = m_i^2 + m_j^2 + 4 m_Ti m_Tj sinh^2(Δy/2) + 4 p_Ti p_Tj sin^2(Δφ/2)
    + 2 (m_i^2 p_Tj^2 + m_j^2 p_Ti^2 + m_i^2 m_j^2) / (m_Ti m_Tj + p_Ti p_Tj)``,
    a sum of non-negative terms equal to the definition.
    """
    px, py, pz, energy = vectors.unbind(dim=-1)
    pt2 = px**2 + py**2
    pt = torch.sqrt(pt2)
    mass2 = energy**2 - pt2 - pz**2
    # float32 knows E^2 - p^2 to ~1e-7 E^2: below 1e-6 E^2 a mass is rounding (a massless cell's)
    mass2 = torch.where(mass2 > 1e-6 * energy**2, mass2, torch.zeros_like(mass2))
    mt = torch.sqrt(pt2 + mass2)
    rapidity = torch.sign(pz) * torch.log((energy + pz.abs()).clamp(min=EPSILON) / mt.clamp(min=EPSILON))
    # ONNX has no Atan2: torch exports atan(py / px) plus quadrant fixes, which is NaN at
    # px = py = 0 (padding); give such particles a direction, their pT is zero anyway
    phi = torch.atan2(py, torch.where(pt > 0, px, torch.ones_like(px)))
    delta_y = rapidity.unsqueeze(2) - rapidity.unsqueeze(1)
    delta_phi = phi.unsqueeze(2) - phi.unsqueeze(1)
    delta_phi = delta_phi - (2 * math.pi) * torch.round(delta_phi / (2 * math.pi))
    # float32 knows a direction to ~1e-7: closer pairs are collinear, and their ΔR (and m^2) noise
    delta_r2 = (delta_y**2 + delta_phi**2).clamp(min=MIN_DELTA_R**2)
    pt_min = torch.minimum(pt.unsqueeze(2), pt.unsqueeze(1))
    pt_sum = pt.unsqueeze(2) + pt.unsqueeze(1)
    pt_ij, mt_ij = pt.unsqueeze(2) * pt.unsqueeze(1), mt.unsqueeze(2) * mt.unsqueeze(1)
    m2_i, m2_j = mass2.unsqueeze(2), mass2.unsqueeze(1)
    masses = m2_i * pt2.unsqueeze(1) + m2_j * pt2.unsqueeze(2) + m2_i * m2_j
    pair_mass2 = (
        m2_i
        + m2_j
        + (4 * mt_ij * _sinh(delta_y / 2) ** 2 + 4 * pt_ij * torch.sin(delta_phi / 2) ** 2).maximum(
            pt_ij * MIN_DELTA_R**2
        )
        + 2 * masses / (mt_ij + pt_ij).clamp(min=EPSILON)
    )
    log_delta_r = 0.5 * torch.log(delta_r2)
    log_kt = torch.log((pt_min * torch.sqrt(delta_r2)).clamp(min=EPSILON))
    log_z = torch.log((pt_min / pt_sum.clamp(min=EPSILON)).clamp(min=EPSILON))
    log_mass2 = torch.log(pair_mass2.clamp(min=EPSILON))
    return torch.stack([log_delta_r, log_kt, log_z, log_mass2], dim=-1)


class _PairEmbedding(nn.Module):
    """Pairwise features -> one attention bias per head, ``(n_jets, heads, n, n)``."""

    def __init__(self, widths: tuple[int, ...], num_heads: int) -> None:
        super().__init__()
        sizes = (N_PAIR_FEATURES, *widths)
        self.input_norm = MaskedBatchNorm(N_PAIR_FEATURES)
        self.linears = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(sizes))
        self.norms = nn.ModuleList(MaskedBatchNorm(w) for w in widths)
        self.out = nn.Linear(sizes[-1], num_heads)

    def forward(self, vectors: Tensor, valid: Tensor) -> Tensor:
        n_jets, n = valid.shape[0], valid.shape[1]
        index = torch.arange(n, device=valid.device)
        pair_valid = valid.unsqueeze(2) & valid.unsqueeze(1) & (index.unsqueeze(1) != index.unsqueeze(0))
        h = pair_features(vectors).reshape(-1, N_PAIR_FEATURES)
        if self.training:
            # only real pairs (often a small fraction of n^2) go through the network
            keep = pair_valid.reshape(-1).nonzero().squeeze(1)
            h = h[keep]
        h = self.input_norm(h)
        for linear, norm in zip(self.linears, self.norms, strict=True):
            h = F.gelu(norm(linear(h)))
        h = self.out(h)
        # self-pairs and pairs with padding get no bias (padded keys are masked anyway)
        if self.training:
            h = h.new_zeros((pair_valid.numel(), h.shape[1])).index_copy(0, keep, h)
        else:
            h = zero_padding(h, pair_valid.reshape(-1))
        return h.view(n_jets, n, n, -1).permute(0, 3, 1, 2)


class _Attention(nn.Module):
    """Multi-head attention written out, with an additive per-head bias and key masking."""

    def __init__(self, dim: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.query = nn.Linear(dim, dim)
        self.key_value = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, query: Tensor, context: Tensor, key_valid: Tensor, bias: Tensor | None) -> Tensor:
        n_jets, dim = query.shape[0], query.shape[-1]
        q = self.query(query).reshape(n_jets, -1, self.num_heads, self.head_dim).transpose(1, 2)
        kv = self.key_value(context).reshape(n_jets, -1, 2, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        scores = (q * self.head_dim**-0.5) @ kv[0].transpose(-2, -1)
        if bias is not None:
            scores = scores + bias
        scores = scores.masked_fill(~key_valid, large_negative(scores.dtype))
        weights = self.dropout(scores.softmax(dim=-1))
        out: Tensor = self.out((weights @ kv[1]).transpose(1, 2).reshape(n_jets, -1, dim))
        return out


class _FeedForward(nn.Module):
    """``Linear -> GELU -> Dropout -> LayerNorm -> Linear`` (the inner norm as in NormFormer / ParT)."""

    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.LayerNorm(hidden), nn.Linear(hidden, dim)
        )

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.layers(x)
        return out


class _Block(nn.Module):
    """Pre-LayerNorm attention block; the query is the whole set or the class token."""

    def __init__(self, dim: int, num_heads: int, ffn_ratio: int, dropout: float, attention_dropout: float) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(dim)
        self.attention = _Attention(dim, num_heads, attention_dropout)
        self.post_attention_norm = nn.LayerNorm(dim)
        self.ffn_norm = nn.LayerNorm(dim)
        self.ffn = _FeedForward(dim, ffn_ratio * dim, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: Tensor, key_valid: Tensor, bias: Tensor | None = None, context: Tensor | None = None
    ) -> Tensor:
        """Self-attention over ``x`` or, with ``context``, ``x`` attending to ``[x, context]``."""
        if context is None:
            h = self.attention_norm(x)
            h = self.attention(h, h, key_valid, bias)
        else:
            u = self.attention_norm(torch.cat([x, context], dim=1))
            h = self.attention(u[:, : x.shape[1]], u, key_valid, bias)
        x = x + self.dropout(self.post_attention_norm(h))
        out: Tensor = x + self.dropout(self.ffn(self.ffn_norm(x)))
        return out


class ParticleTransformer(ParticleModule):
    """Particle transformer (ParT): attention over constituents with interaction features.

    Parameters
    ----------
    n_features
        Number of per-particle features.
    n_outputs
        Size of the output layer (set by the task).
    embed_dim
        Width ``d`` of the particle (and class token) representation.
    num_heads
        Number of attention heads; must divide ``embed_dim``.
    num_layers
        Number of particle-attention blocks.
    num_class_layers
        Number of class-attention blocks (at least 1).
    ffn_ratio
        Hidden width of the feed-forward networks as a multiple of ``embed_dim``.
    dropout
        Dropout probability on the residual branches and inside the feed-forward networks.
    attention_dropout
        Dropout probability on the attention weights; ``None`` (the default) takes
        ``dropout``.  It costs one random draw per head and pair of constituents.
    pair_features
        Add the embedded pairwise features of ``vectors`` as attention bias.
    pair_embed
        Widths of the pointwise network that embeds the pairwise features (then a
        linear map to ``num_heads`` channels).
    particle_embed
        Hidden widths of the per-particle embedding before the final map to
        ``embed_dim`` (ParT: ``(128, 512)`` then 128).

    Notes
    -----
    Each constituent is embedded, ``x_i = MLP(features_i)``.  A particle-attention
    block updates ``x <- x + LN(MHA(LN(x), U)); x <- x + FFN(LN(x))`` where each head
    computes ``softmax(q k^T / sqrt(d_h) + U_h + M) v`` with ``M_ij`` = -1e9 (finite, so
    a row of padding stays finite) for a padded key ``j`` and 0 otherwise, and
    ``U_h,ij`` an embedding of the pairwise features ``(ln ΔR, ln kT, ln z, ln m^2)``
    (:func:`pair_features`).  A learned class token
    ``c`` then attends to ``[c, x]`` in the class-attention blocks (CaiT); the output is
    ``Linear(LN(c))``.  Padded constituents never enter a real query's softmax, so the
    output is invariant under permutations and blind to padding.  ``points`` is not
    read (pairs come from ``vectors``).
    H. Qu, C. Li, S. Qian, "Particle Transformer for jet tagging", ICML 2022,
    arXiv:2202.03772.
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        *,
        embed_dim: int = 128,
        num_heads: int = 8,
        num_layers: int = 8,
        num_class_layers: int = 2,
        ffn_ratio: int = 4,
        dropout: float = 0.1,
        attention_dropout: float | None = None,
        pair_features: bool = True,
        pair_embed: Sequence[int] = (64, 64, 64),
        particle_embed: Sequence[int] = (128, 512),
    ) -> None:
        super().__init__()
        self.n_features = check_positive("n_features", n_features)
        check_positive("n_outputs", n_outputs)
        check_positive("embed_dim", embed_dim)
        check_positive("num_heads", num_heads)
        if embed_dim % num_heads:
            raise ConfigError(
                f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads}); "
                f"e.g. embed_dim={num_heads * max(1, round(embed_dim / num_heads))}"
            )
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 0:
            raise ConfigError(f"num_layers must be a non-negative integer, got {num_layers!r}")
        check_positive("num_class_layers", num_class_layers)
        check_positive("ffn_ratio", ffn_ratio)
        check_dropout(dropout)
        attention_dropout = dropout if attention_dropout is None else attention_dropout
        check_dropout(attention_dropout)
        self.num_heads = num_heads

        embed: list[nn.Module] = []
        width = n_features
        for i, w in enumerate((*check_widths("particle_embed", particle_embed, allow_empty=True), embed_dim)):
            if i > 0:
                embed.append(nn.LayerNorm(width))
            embed += [nn.Linear(width, w), nn.GELU()]
            width = w
        self.embed = nn.Sequential(*embed)
        self.pair_embed = _PairEmbedding(check_widths("pair_embed", pair_embed), num_heads) if pair_features else None
        block = (embed_dim, num_heads, ffn_ratio, dropout, attention_dropout)
        self.blocks = nn.ModuleList(_Block(*block) for _ in range(num_layers))
        self.class_blocks = nn.ModuleList(_Block(*block) for _ in range(num_class_layers))
        self.class_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        nn.init.trunc_normal_(self.class_token, std=0.02)
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, n_outputs)

    def forward(self, features: Tensor, points: Tensor, vectors: Tensor, mask: Tensor) -> Tensor:
        """Map the padded constituents of ``n_jets`` jets to ``(n_jets, n_outputs)``."""
        valid = mask > 0.5
        # padded rows are reset to zero after every step, so nothing can grow (or turn
        # NaN) there and reach a real row through a zero attention weight (0 * NaN = NaN)
        x = zero_padding(self.embed(zero_padding(features, valid)), valid)
        bias = None if self.pair_embed is None else self.pair_embed(zero_padding(vectors, valid), valid)
        key_valid = valid.view(valid.shape[0], 1, 1, -1)
        for block in self.blocks:
            x = zero_padding(block(x, key_valid, bias), valid)
        token = self.class_token.expand(x.shape[0], -1, -1)
        # the class token is always a valid key of its own query
        token_valid = torch.cat([torch.ones_like(valid[:, :1]), valid], dim=1).view(valid.shape[0], 1, 1, -1)
        for block in self.class_blocks:
            token = block(token, token_valid, None, x)
        out: Tensor = self.head(self.norm(token[:, 0]))
        return keep_inputs(out, points) if self.pair_embed is not None else keep_inputs(out, points, vectors)
