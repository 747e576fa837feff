"""Normalizing flows on tabular features, built on ``zuko``.

:class:`DensityFlow` wraps a masked autoregressive flow (MAF) or a neural spline
flow (NSF) behind a fixed affine standardisation of its inputs.  Its ``forward``
returns the log-density of the *physical* features, the standardisation's
Jacobian included, so a trained flow's density integrates to one over the
original variables and an ONNX export of ``forward`` is that log-density.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from neyman.optional import require

__all__ = ["FLOW_TRANSFORMS", "DensityFlow"]

FLOW_TRANSFORMS = ("nsf", "maf")
"""Neural spline flow (monotonic rational-quadratic splines), masked autoregressive flow (affine)."""


class DensityFlow(nn.Module):
    """A (conditional) normalizing flow whose forward pass is ``ln p(x | c)``.

    Parameters
    ----------
    n_inputs
        Columns of the input matrix: the variables whose density is learned and
        the conditioning variables.
    context_columns
        Indices of the conditioning columns ``c`` (none: an unconditional density).
    transform
        ``nsf`` or ``maf``.
    transforms
        Number of autoregressive transforms (their order reversed in turn).
    hidden
        Widths of each transform's masked network.
    bins
        Spline bins (``nsf``).

    Notes
    -----
    With the standardisation :math:`u = (x - m) / s` (set from the training sample
    by :meth:`set_standardisation`) and the flow's bijection :math:`z = f(u; c)`
    onto a standard normal,

    .. math:: \\ln p(x \\mid c) = \\ln \\mathcal N(f(u; c); 0, 1)
              + \\ln \\left| \\det \\frac{\\partial f}{\\partial u} \\right|
              - \\sum_j \\ln s_j .

    The spline transforms act on ``[-5, 5]`` in standardised units and are the
    identity outside, so far tails keep a Gaussian density.
    """

    def __init__(
        self,
        n_inputs: int,
        *,
        context_columns: Sequence[int] = (),
        transform: Literal["nsf", "maf"] = "nsf",
        transforms: int = 4,
        hidden: Sequence[int] = (128, 128),
        bins: int = 8,
    ) -> None:
        super().__init__()
        zuko = require("zuko", purpose="normalizing flows (task: density)")
        context = sorted(set(context_columns))
        variables = [j for j in range(n_inputs) if j not in context]
        self.n_features, self.n_context = len(variables), len(context)
        kwargs = {"transforms": transforms, "hidden_features": tuple(hidden)}
        if transform == "nsf":
            self.flow = zuko.flows.NSF(self.n_features, self.n_context, bins=bins, **kwargs)
        else:
            self.flow = zuko.flows.MAF(self.n_features, self.n_context, **kwargs)
        self.variables: torch.Tensor
        self.context: torch.Tensor
        self.shift: torch.Tensor
        self.scale: torch.Tensor
        self.register_buffer("variables", torch.tensor(variables, dtype=torch.long))
        self.register_buffer("context", torch.tensor(context, dtype=torch.long))
        self.register_buffer("shift", torch.zeros(n_inputs))
        self.register_buffer("scale", torch.ones(n_inputs))

    def set_standardisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Set the affine standardisation ``(x - mean) / std`` of every input column."""
        self.shift.copy_(torch.as_tensor(mean, dtype=self.shift.dtype))
        self.scale.copy_(torch.as_tensor(std, dtype=self.scale.dtype))

    def _distribution(self, context: torch.Tensor | None) -> torch.distributions.Distribution:
        """The flow's distribution of the standardised variables (given the raw context)."""
        if self.n_context == 0:
            return self.flow()  # type: ignore[no-any-return]
        assert context is not None
        u = (context - self.shift[self.context]) / self.scale[self.context]
        return self.flow(u)  # type: ignore[no-any-return]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n_events, 1)``: the log-density of the variables given the context columns."""
        shift, scale = self.shift[self.variables], self.scale[self.variables]
        u = (x.index_select(1, self.variables) - shift) / scale
        context = x.index_select(1, self.context) if self.n_context else None
        log_p = self._distribution(context).log_prob(u) - scale.log().sum()
        return log_p[:, None]

    @torch.no_grad()
    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        """Draw ``n`` events of the variables (one per row of the raw ``context``), in physical units."""
        if self.n_context:
            if context is None or len(context) != n:
                raise ValueError(f"a conditional flow draws one event per context row: give {n} rows")
            u = self._distribution(context).sample()
        else:
            u = self._distribution(None).sample((n,))
        return u * self.scale[self.variables] + self.shift[self.variables]
