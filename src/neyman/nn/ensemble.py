"""A deep ensemble: members trained apart, their raw outputs averaged into one network."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Ensemble"]


class Ensemble(nn.Module):
    """Average the raw outputs (logits) of independently trained member networks.

    Parameters
    ----------
    members
        Networks of one architecture taking the same inputs; each is trained on its
        own (with its own seed) before the ensemble is used.

    Notes
    -----
    With members :math:`z_1 \\dots z_N`, the ensemble's raw output is
    :math:`\\bar z(x) = \\frac1N \\sum_m z_m(x)`; a classifier's probability is then
    :math:`\\sigma(\\bar z)` (or the softmax of :math:`\\bar z`), the average in
    logit space.  For the Gaussian regression the means average and the
    log-resolutions average (a geometric mean of the members' :math:`\\sigma`).  The
    module is one graph, so an ONNX export holds every member.
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(members) < 1:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        """The mean raw output of the members on ``inputs``."""
        outputs = [member(*inputs) for member in self.members]
        return torch.stack(outputs, dim=0).mean(dim=0)
