"""Floating-point operations of one forward pass, per jet."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from neyman.exceptions import ModelError
from neyman.nn.cnn import JetCNN
from neyman.nn.layers import ParticleModule, check_positive

__all__ = ["flops_per_jet"]


def flops_per_jet(module: nn.Module, n_constituents: int = 100, *, n_jets: int = 4) -> float:
    """Floating-point operations of one forward pass of ``module``, divided by the jets.

    Parameters
    ----------
    module
        A particle network (:class:`~neyman.nn.layers.ParticleModule`) or a
        :class:`~neyman.nn.cnn.JetCNN` (which uses its own image size).
    n_constituents
        Number of (real) constituents of each jet; ignored for images.
    n_jets
        Size of the batch the count is taken on (the result is per jet).

    Returns
    -------
    float
        FLOPs per jet as :class:`torch.utils.flop_counter.FlopCounterMode` counts them:
        matrix multiplications and convolutions only, 2 per multiply-accumulate.
        Element-wise operations, normalisations, softmax, top-k and gathers are not
        counted; they are cheap in FLOPs but not always in time.

    Notes
    -----
    The module is run once in evaluation mode on random inputs
    (every constituent real), and put back in the mode it was in.
    """
    check_positive("n_constituents", n_constituents)
    check_positive("n_jets", n_jets)
    generator = torch.Generator().manual_seed(0)
    if isinstance(module, JetCNN):
        inputs: tuple[torch.Tensor, ...] = module.example_inputs(n_jets, generator=generator)
    elif isinstance(module, ParticleModule):
        inputs = module.example_inputs(n_jets, n_constituents, generator=generator)
    else:
        raise ModelError(f"cannot count the FLOPs of a {type(module).__name__}: not a jet network of neyman.nn")
    device = next(module.parameters()).device
    was_training = module.training
    module.eval()
    try:
        # not under no_grad: FlopCounterMode's module tracker fails on views of parameters
        # (the transformer's expanded class token) created without autograd
        with FlopCounterMode(display=False) as counter:
            module(*(t.to(device) for t in inputs))
    finally:
        module.train(was_training)
    return float(counter.get_total_flops()) / n_jets
