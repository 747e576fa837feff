"""The multilayer perceptron."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from neyman.exceptions import ConfigError, close_matches

__all__ = ["ACTIVATIONS", "INITIALISATIONS", "MLP"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "softplus": nn.Softplus,
}
INITIALISATIONS = ("he", "xavier", "lecun", "default")

# gain used by He initialisation for each activation (torch's calculate_gain names)
_GAIN_NAME = {
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "selu": "selu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
}


class MLP(nn.Module):
    """Fully connected network ``x -> [Linear -> (BatchNorm) -> act -> (Dropout)]* -> Linear``.

    Parameters
    ----------
    n_inputs
        Number of input features.
    n_outputs
        Size of the output layer (set by the task).
    hidden
        Widths of the hidden layers, e.g. ``(200, 100)``.
    activation
        One of :data:`ACTIVATIONS`.
    dropout
        Dropout probability after each hidden activation (``AlphaDropout`` for SELU,
        which keeps its self-normalisation).
    batch_norm
        Batch normalisation after each hidden linear layer.
    init
        Weight initialisation: ``he`` (Kaiming normal, for the ReLU family),
        ``xavier`` (Glorot uniform, for tanh/sigmoid), ``lecun`` (normal with
        variance 1/fan_in, for SELU) or ``default`` (PyTorch's).

    Notes
    -----
    Each hidden layer computes ``x^(l) = sigma(W^(l) x^(l-1) + b^(l))``; the output
    layer is affine, the task applies the output activation in its loss.
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        *,
        hidden: Sequence[int] = (64, 64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
        init: str = "he",
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ConfigError(
                f"unknown activation {activation!r}{close_matches(activation, ACTIVATIONS)}; "
                f"choose one of {', '.join(ACTIVATIONS)}"
            )
        if init not in INITIALISATIONS:
            raise ConfigError(f"unknown initialisation {init!r}; choose one of {', '.join(INITIALISATIONS)}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = []
        width = n_inputs
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.AlphaDropout(dropout) if activation == "selu" else nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)
        self._initialise(init, activation)

    def _initialise(self, init: str, activation: str) -> None:
        if init == "default":
            return
        for module in self.modules():
            if not isinstance(module, nn.Linear):
                continue
            if init == "he":
                # He's variance 2/fan_in targets rectifiers; leaky ReLU gets its own gain
                nn.init.kaiming_normal_(
                    module.weight, nonlinearity="leaky_relu" if activation == "leaky_relu" else "relu"
                )
            elif init == "xavier":
                nn.init.xavier_uniform_(module.weight)
            else:  # lecun
                nn.init.normal_(module.weight, std=1.0 / math.sqrt(module.in_features))
            nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(n_events, n_inputs)`` to ``(n_events, n_outputs)``."""
        out: torch.Tensor = self.layers(x)
        return out
