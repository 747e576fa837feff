"""ParticleNet: dynamic graph convolutions on the k nearest neighbours of each constituent."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import cast

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
    dense_layers,
    keep_inputs,
    masked_mean,
    zero_padding,
)

__all__ = ["PRESETS", "EdgeConv", "ParticleNet", "nearest_neighbours"]

PRESETS: dict[str, dict[str, object]] = {
    # smaller than the paper's Lite (about 4 MFLOP per jet of 100 constituents)
    "tiny": {"k": 7, "edge_convs": ((16, 16, 16), (32, 32, 32)), "fc": (64,), "dropout": 0.1},
    # ParticleNet-Lite of Qu & Gouskos
    "lite": {"k": 7, "edge_convs": ((32, 32, 32), (64, 64, 64)), "fc": (128,), "dropout": 0.1},
    # ParticleNet of Qu & Gouskos
    "full": {"k": 16, "edge_convs": ((64, 64, 64), (128, 128, 128), (256, 256, 256)), "fc": (256,), "dropout": 0.1},
}
"""Named hyper-parameter sets: ``lite`` and ``full`` are the paper's two networks."""


def _neighbour_count(k: int, n_constituents: int) -> int:
    """``min(k, n_constituents)``, kept dynamic when traced for ONNX export."""
    if torch.onnx.is_in_onnx_export() and isinstance(n_constituents, Tensor):
        # under the exporter's tracer the size is a traced 0-d tensor; a torch clamp
        # keeps TopK's K a graph value, so the exported network also runs on fewer
        # than k constituents (min() would freeze the size seen at export)
        return cast(int, torch.clamp(n_constituents, max=k))
    return min(k, n_constituents)


def nearest_neighbours(coordinates: Tensor, valid: Tensor, k: int) -> Tensor:
    """Indices of the ``k`` nearest other constituents of each constituent.

    Parameters
    ----------
    coordinates
        ``(n_jets, n_constituents, n_dims)`` positions (finite everywhere).
    valid
        ``(n_jets, n_constituents)`` boolean mask of real constituents.
    k
        Number of neighbours; fewer (all constituents) when the set is smaller.

    Returns
    -------
    Tensor
        ``(n_jets, n_constituents, min(k, n_constituents))`` int64 indices.  Padded
        constituents and the constituent itself are placed at an infinite distance,
        so they are chosen only when a jet has fewer than ``k + 1`` real
        constituents; callers mask those edges out.
    """
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b: one batched matmul instead of a (P, P, D) tensor.  In float64:
    # in float32 the cancellation leaves errors far above the input's own rounding, and which of two
    # nearly equidistant neighbours is chosen would then depend on the runtime (torch vs ONNX Runtime)
    c = coordinates.double()
    squared = (c**2).sum(dim=-1)
    distance = squared.unsqueeze(2) + squared.unsqueeze(1) - 2.0 * c @ c.transpose(1, 2)
    index = torch.arange(coordinates.shape[1], device=coordinates.device)
    # exact ties are common (calorimeter cells sit on a grid): break them by index, identically everywhere
    distance = distance + index.to(distance.dtype) * 1e-12
    excluded = (~valid).unsqueeze(1) | (index.unsqueeze(1) == index.unsqueeze(0))
    # +inf is as far as it gets, in any precision, and topk orders it after every distance
    distance = distance.masked_fill(excluded, float("inf"))
    count = _neighbour_count(k, coordinates.shape[1])
    return distance.topk(count, dim=-1, largest=False, sorted=False).indices


class EdgeConv(nn.Module):
    """One EdgeConv block of ParticleNet.

    Parameters
    ----------
    in_channels
        Number of input features per constituent.
    widths
        Widths of the shared edge MLP; the last is the number of output features.
    k
        Number of nearest neighbours.

    Notes
    -----
    For constituent ``i`` with neighbours ``j`` (the ``k`` nearest in the given
    coordinates), ``x'_i = ReLU( mean_j h(x_i, x_j - x_i) + BN(W_s x_i) )`` where ``h``
    is ``[Linear -> BN -> ReLU]*`` on the edge features.  The mean runs over real
    neighbours only (a jet with fewer than ``k + 1`` constituents uses those it has).
    The first linear layer of ``h`` is applied per constituent before the gather,
    ``W (x_i, x_j - x_i) = (W_a - W_b) x_i + W_b x_j``, which is the same map at
    ``1/k`` of the cost.  In training the edge network runs on the real edges only,
    so batch statistics count real edges and padding costs no time; in evaluation
    (and in an exported graph) it runs on every edge and padded ones are weighted out.
    """

    def __init__(self, in_channels: int, widths: Sequence[int], *, k: int) -> None:
        super().__init__()
        self.in_channels = check_positive("in_channels", in_channels)
        self.k = check_positive("k", k)
        sizes = check_widths("edge_convs", widths)
        self.edge = nn.Linear(2 * in_channels, sizes[0], bias=False)
        self.linears = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(sizes))
        self.norms = nn.ModuleList(MaskedBatchNorm(w) for w in sizes)
        self.shortcut = nn.Linear(in_channels, sizes[-1], bias=False)
        self.shortcut_norm = MaskedBatchNorm(sizes[-1])

    def forward(self, coordinates: Tensor, x: Tensor, valid: Tensor) -> Tensor:
        """Map ``x`` ``(n_jets, n, in_channels)`` to ``(n_jets, n, widths[-1])``, zero at padding."""
        n_jets, n = x.shape[0], x.shape[1]
        neighbours = nearest_neighbours(coordinates, valid, self.k)
        centre_part = self.edge.weight[:, : self.in_channels]
        neighbour_part = self.edge.weight[:, self.in_channels :]
        centre = F.linear(x, centre_part - neighbour_part).reshape(n_jets * n, -1)
        neighbour = F.linear(x, neighbour_part).reshape(n_jets * n, -1)
        position = torch.arange(n, device=x.device).view(1, -1, 1)
        offset = torch.arange(n_jets, device=x.device).view(-1, 1, 1) * n
        neighbour_row = (neighbours + offset).reshape(-1)
        # an edge counts when both ends are real and it is not a self-loop (chosen only
        # for jets with fewer than k + 1 constituents)
        edge_valid = valid.unsqueeze(-1) & valid.reshape(-1)[neighbour_row].view(neighbours.shape)
        edge_valid = edge_valid & (neighbours != position)
        if self.training:
            # the edge network runs on real edges only: padding costs nothing and the
            # batch statistics are those of real edges
            keep = edge_valid.reshape(-1).nonzero().squeeze(1)
            centre_row = (position + offset).expand_as(neighbours).reshape(-1)
            # index_select, not x[index]: the backward of advanced indexing accumulates the
            # gradient of a constituent chosen by several neighbours with atomic adds on CPU,
            # in an order that varies from run to run; index_add is reproducible
            h = centre.index_select(0, centre_row[keep]) + neighbour.index_select(0, neighbour_row[keep])
        else:
            # every edge, so the exported graph has no data-dependent shapes
            h = (centre.unsqueeze(1) + neighbour[neighbour_row].view(n_jets * n, -1, centre.shape[1])).flatten(0, 1)
        for i, norm in enumerate(self.norms):
            if i > 0:
                h = self.linears[i - 1](h)
            h = F.relu(norm(h))
        if self.training:
            edges = h.new_zeros((neighbour_row.shape[0], h.shape[1])).index_copy(0, keep, h)
        else:
            edges = zero_padding(h, edge_valid.reshape(-1))
        total = edges.view(n_jets, n, -1, h.shape[1]).sum(dim=2)
        count = edge_valid.sum(dim=2, keepdim=True).clamp(min=1).to(total.dtype)
        out = F.relu(total / count + self.shortcut_norm(self.shortcut(x), valid))
        return zero_padding(out, valid)


class ParticleNet(ParticleModule):
    """ParticleNet: a jet as a point cloud, learned by dynamic graph convolutions.

    Parameters
    ----------
    n_features
        Number of per-particle features.
    n_outputs
        Size of the output layer (set by the task).
    k
        Number of nearest neighbours of each constituent (at least 1).
    edge_convs
        Widths of the edge MLP of each :class:`EdgeConv` block.
    fc
        Widths of the hidden fully connected layers after pooling.
    dropout
        Dropout probability after each hidden fully connected layer.

    Notes
    -----
    The first EdgeConv block finds the ``k`` nearest neighbours of each constituent
    in ``points`` = (Δη, Δφ), ``ΔR^2_ij = Δη^2_ij + Δφ^2_ij``; each later block finds
    them in the feature space the previous block learned (the graph is dynamic).
    After the blocks, ``x_jet = (1 / n) sum_{i real} x_i`` (global average pooling
    over the ``n`` real constituents) feeds ``[Linear -> ReLU -> Dropout]* -> Linear``.
    Padded constituents are the farthest candidates of every neighbour search (a
    real constituent picks them only when its jet has fewer than ``k + 1``), and they
    never enter a mean or a batch-norm statistic, so the output is invariant under
    permutations and blind to padding, in training as in evaluation.  ``vectors``
    is not read.
    H. Qu, L. Gouskos, "ParticleNet: jet tagging via particle clouds",
    Phys. Rev. D 101 (2020) 056019, arXiv:1902.08570.
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        *,
        k: int = 16,
        edge_convs: Sequence[Sequence[int]] = ((64, 64, 64), (128, 128, 128), (256, 256, 256)),
        fc: Sequence[int] = (256,),
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.n_features = check_positive("n_features", n_features)
        check_positive("n_outputs", n_outputs)
        self.k = check_positive("k", k)
        check_dropout(dropout)
        if not edge_convs:
            raise ConfigError("edge_convs needs at least one EdgeConv block, e.g. ((64, 64, 64),)")
        blocks = []
        channels = n_features
        for widths in edge_convs:
            blocks.append(EdgeConv(channels, widths, k=k))
            channels = check_widths("edge_convs", widths)[-1]
        self.edge_convs = nn.ModuleList(blocks)
        widths = check_widths("fc", fc, allow_empty=True)
        self.head = nn.Sequential(*dense_layers(channels, widths, n_outputs, dropout=dropout))

    def forward(self, features: Tensor, points: Tensor, vectors: Tensor, mask: Tensor) -> Tensor:
        """Map the padded constituents of ``n_jets`` jets to ``(n_jets, n_outputs)``."""
        valid = mask > 0.5
        x = zero_padding(features, valid)
        coordinates = zero_padding(points, valid)
        for block in self.edge_convs:
            x = block(coordinates, x, valid)
            coordinates = x
        pooled = masked_mean(x, valid.to(x.dtype), dim=1)
        out: Tensor = self.head(pooled)
        return keep_inputs(out, vectors)
