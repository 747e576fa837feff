"""Torch modules: architecture only (no loss, no device moves)."""

from neyman.nn.mlp import ACTIVATIONS, INITIALISATIONS, MLP

__all__ = ["ACTIVATIONS", "INITIALISATIONS", "MLP"]
