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

__all__ = ["BOUND_EPSILON", "FLOW_TRANSFORMS", "DensityFlow"]

BOUND_EPSILON = 1e-6
"""A bounded variable's position in its range is clipped to ``[ε, 1 - ε]`` before the logit."""

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
    A variable given a range :math:`(a_j, b_j)` by :meth:`set_bounds` is first
    mapped onto the real line, :math:`y_j = \\mathrm{logit}\\, t_j` with
    :math:`t_j = (x_j - a_j) / (b_j - a_j)` (clipped to
    :math:`[10^{-6}, 1 - 10^{-6}]`); the others keep :math:`y_j = x_j`.  With the
    standardisation :math:`u = (y - m) / s` (set from the training sample by
    :meth:`set_standardisation`, in the units of :math:`y`) and the flow's
    bijection :math:`z = f(u; c)` onto a standard normal,

    .. math:: \\ln p(x \\mid c) = \\ln \\mathcal N(f(u; c); 0, 1)
              + \\ln \\left| \\det \\frac{\\partial f}{\\partial u} \\right|
              - \\sum_j \\ln s_j
              - \\sum_{j\\ \\mathrm{bounded}} \\ln\\bigl[(b_j - a_j)\\, t_j (1 - t_j)\\bigr] ,

    so the density is of the physical variables and vanishes at the bounds (a
    hard edge such as a mass at zero is then no tail for the flow to leak into).

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
        self._identity_start()
        self.variables: torch.Tensor
        self.context: torch.Tensor
        self.shift: torch.Tensor
        self.scale: torch.Tensor
        self.register_buffer("variables", torch.tensor(variables, dtype=torch.long))
        self.register_buffer("context", torch.tensor(context, dtype=torch.long))
        self.register_buffer("shift", torch.zeros(n_inputs))
        self.register_buffer("scale", torch.ones(n_inputs))
        self.lower: torch.Tensor
        self.width: torch.Tensor
        self.bounded: torch.Tensor
        self.register_buffer("lower", torch.zeros(n_inputs))
        self.register_buffer("width", torch.ones(n_inputs))
        self.register_buffer("bounded", torch.zeros(n_inputs, dtype=torch.bool))

    def _identity_start(self) -> None:
        """Start free transform parameters at zero, where the transforms are (nearly) the identity.

        A flow of one variable without context has no conditioner: zuko gives each
        transform raw parameters drawn at random, and a spline drawn so starts far from
        the identity (a standard normal sample's loss 14.5 nats instead of 1.44), which a
        short training did not recover (2.06 after 15 epochs, against the optimum 1.42).
        """
        with torch.no_grad():
            for name, parameter in self.flow.named_parameters():
                if ".phi." in name:  # the raw parameters of an element-wise transform
                    parameter.zero_()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[no-untyped-def]
        # flows saved before bounded variables existed: every variable unbounded
        for name in ("lower", "width", "bounded"):
            state_dict.setdefault(prefix + name, getattr(self, name).clone())
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def set_bounds(self, lower: torch.Tensor, upper: torch.Tensor, bounded: torch.Tensor) -> None:
        """Map the ``bounded`` input columns from ``(lower, upper)`` onto the real line (see Notes)."""
        bounded = torch.as_tensor(bounded, dtype=torch.bool)
        if bool(bounded[self.context].any()):
            raise ValueError("a conditioning column cannot be bounded")
        self.lower.copy_(torch.as_tensor(lower, dtype=self.lower.dtype))
        self.width.copy_(torch.as_tensor(upper, dtype=self.width.dtype) - self.lower)
        self.bounded.copy_(bounded)

    def unbounded(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The inputs with bounded columns logit-mapped (``y``), and ``Σ ln |dy/dx|`` per event."""
        t = ((x - self.lower) / self.width).clamp(BOUND_EPSILON, 1.0 - BOUND_EPSILON)
        y = torch.where(self.bounded, torch.log(t) - torch.log1p(-t), x)
        log_jacobian = torch.where(self.bounded, -torch.log(self.width * t * (1.0 - t)), torch.zeros_like(x))
        return y, log_jacobian.sum(dim=1)

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
        y, log_jacobian = self.unbounded(x)
        u = (y.index_select(1, self.variables) - shift) / scale
        context = x.index_select(1, self.context) if self.n_context else None
        log_p = self._distribution(context).log_prob(u) - scale.log().sum() + log_jacobian
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
        j = self.variables
        y = u * self.scale[j] + self.shift[j]
        bounded = self.lower[j] + self.width[j] * torch.sigmoid(y)
        return torch.where(self.bounded[j], bounded, y)
