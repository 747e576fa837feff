"""Bayesian layers: Gaussian weight posteriors learned by variational inference.

Butter's lecture derives the training loss from the posterior over the network's
weights; variational inference replaces the posterior by a factorised Gaussian
:math:`q_\\phi(\\omega) = \\prod_k \\mathcal N(\\omega_k; \\mu_k, \\sigma_k^2)` and
minimises

.. math::

    \\mathcal L = -\\sum_i \\langle \\log p(y_i | x_i, \\omega) \\rangle_{q}
                 + \\mathrm{KL}\\big(q_\\phi(\\omega) \\,\\|\\, p(\\omega)\\big),

the expectation estimated with one draw per batch through the reparameterisation
:math:`\\omega = \\mu + \\sigma \\epsilon`, :math:`\\epsilon \\sim \\mathcal N(0, 1)`
(Blundell et al., arXiv:1505.05424; Bollweg et al., arXiv:1904.10004).  A network
built of these layers gives a different function at every draw; the spread of its
outputs over draws is the model (epistemic) uncertainty, which shrinks with the
training data and grows away from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from neyman.exceptions import ConfigError
from neyman.nn.mlp import ACTIVATIONS

__all__ = ["BayesianLinear", "BayesianMLP", "kl_divergence", "set_sampling"]


def _softplus_inverse(value: float) -> float:
    return math.log(math.expm1(value))


class BayesianLinear(nn.Module):
    """An affine layer whose weights and biases are independent Gaussians.

    Parameters
    ----------
    n_inputs, n_outputs
        Layer sizes.
    prior_sigma
        Width of the zero-mean Gaussian prior on every weight and bias.
    initial_sigma
        Starting posterior width (small, so training starts near a deterministic net).

    Notes
    -----
    Each parameter has a mean :math:`\\mu` and :math:`\\sigma = \\mathrm{softplus}(\\rho)`.
    In training mode (and whenever :attr:`sample` is True) every forward pass draws
    fresh weights :math:`\\mu + \\sigma\\epsilon`; in evaluation mode with
    ``sample`` False it uses the means (the deterministic network an ONNX export
    holds).  :meth:`kl` is the closed form

    .. math::

        \\mathrm{KL}(\\mathcal N(\\mu, \\sigma^2) \\| \\mathcal N(0, s^2))
        = \\log\\frac{s}{\\sigma} + \\frac{\\sigma^2 + \\mu^2}{2 s^2} - \\frac12

    summed over the parameters.
    """

    def __init__(self, n_inputs: int, n_outputs: int, *, prior_sigma: float = 1.0, initial_sigma: float = 1e-3):
        super().__init__()
        if not prior_sigma > 0 or not initial_sigma > 0:
            raise ConfigError(f"prior and initial widths must be positive (got {prior_sigma}, {initial_sigma})")
        self.prior_sigma = float(prior_sigma)
        self.weight_mu = nn.Parameter(torch.empty(n_outputs, n_inputs))
        self.bias_mu = nn.Parameter(torch.zeros(n_outputs))
        rho = _softplus_inverse(initial_sigma)
        self.weight_rho = nn.Parameter(torch.full((n_outputs, n_inputs), rho))
        self.bias_rho = nn.Parameter(torch.full((n_outputs,), rho))
        # the posterior means start as the plain MLP's weights do: U(±1/√fan_in), PyTorch's default
        bound = 1.0 / math.sqrt(n_inputs)
        nn.init.uniform_(self.weight_mu, -bound, bound)
        self.sample = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x W^T + b`` with drawn weights (training or ``sample``) or the means."""
        if self.training or self.sample:
            w = self.weight_mu + nn.functional.softplus(self.weight_rho) * torch.randn_like(self.weight_mu)
            b = self.bias_mu + nn.functional.softplus(self.bias_rho) * torch.randn_like(self.bias_mu)
            return nn.functional.linear(x, w, b)
        return nn.functional.linear(x, self.weight_mu, self.bias_mu)

    def kl(self) -> torch.Tensor:
        """KL divergence of the weight posterior from the prior (closed form, see Notes)."""
        total = torch.zeros((), device=self.weight_mu.device)
        for mu, rho in ((self.weight_mu, self.weight_rho), (self.bias_mu, self.bias_rho)):
            sigma = nn.functional.softplus(rho)
            s2 = self.prior_sigma**2
            total = total + (math.log(self.prior_sigma) - torch.log(sigma) + (sigma**2 + mu**2) / (2 * s2) - 0.5).sum()
        return total


def kl_divergence(module: nn.Module) -> torch.Tensor:
    """Sum of :meth:`BayesianLinear.kl` over every Bayesian layer of ``module`` (0 without any)."""
    terms = [m.kl() for m in module.modules() if isinstance(m, BayesianLinear)]
    return torch.stack(terms).sum() if terms else torch.zeros(())


def set_sampling(module: nn.Module, sample: bool) -> None:
    """Make every Bayesian layer of ``module`` draw weights (``True``) or use their means in evaluation."""
    for m in module.modules():
        if isinstance(m, BayesianLinear):
            m.sample = sample


class BayesianMLP(nn.Module):
    """A multilayer perceptron of :class:`BayesianLinear` layers.

    Parameters
    ----------
    n_inputs, n_outputs
        Input features and outputs (set by the task).
    hidden
        Widths of the hidden layers.
    activation
        One of :data:`neyman.nn.mlp.ACTIVATIONS`.
    prior_sigma
        Width of the Gaussian prior on every weight.
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        *,
        hidden: Sequence[int] = (64, 64, 64),
        activation: str = "relu",
        prior_sigma: float = 1.0,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        layers: list[nn.Module] = []
        width = n_inputs
        for h in hidden:
            layers += [BayesianLinear(width, h, prior_sigma=prior_sigma), ACTIVATIONS[activation]()]
            width = h
        layers.append(BayesianLinear(width, n_outputs, prior_sigma=prior_sigma))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(n_events, n_inputs)`` to ``(n_events, n_outputs)`` with one draw of the weights."""
        out: torch.Tensor = self.layers(x)
        return out
