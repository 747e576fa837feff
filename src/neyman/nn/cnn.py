"""A convolutional network on jet images."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor, nn

from neyman.exceptions import ConfigError
from neyman.nn.layers import check_dropout, check_positive, check_widths, dense_layers

__all__ = ["PRESETS", "JetCNN"]

PRESETS: dict[str, dict[str, object]] = {
    # about 4 MFLOP for a 33x33 image: a CPU-sized network that still learns prong structure
    "lite": {"channels": (16, 32, 32), "kernel_size": 3, "dense": (64,), "dropout": 0.1, "batch_norm": True},
    # after Komiske, Metodiev, Schwartz, JHEP 01 (2017) 110: three 64-filter layers of
    # 8x8, 4x4, 4x4 with 2x2 max pooling and a 128-unit dense layer (dropout our choice)
    "full": {"channels": (64, 64, 64), "kernel_size": (8, 4, 4), "dense": (128,), "dropout": 0.1, "batch_norm": False},
}
"""Named hyper-parameter sets: ``lite`` (CPU-sized) and ``full`` (the literature's)."""


class _DropFirstRowAndColumn(nn.Module):
    """Crop an even kernel's output (one pixel larger with symmetric padding) to "same" size.

    Equivalent to padding ``k/2 - 1`` before and ``k/2`` after, as torch's ``padding="same"``
    does; written as a crop because asymmetric padding exports to ONNX with warnings.
    """

    def forward(self, x: Tensor) -> Tensor:
        return x[:, :, 1:, 1:]


class JetCNN(nn.Module):
    """Convolutional network on (multi-channel) jet images.

    ``image -> [Conv2d -> (BatchNorm) -> ReLU -> MaxPool 2x2]* -> flatten ->
    [Linear -> ReLU -> (Dropout)]* -> Linear``.

    Parameters
    ----------
    in_channels
        Number of image channels (1 for a pT image; e.g. 2 for charged / neutral).
    image_size
        Pixels per side (``int``) or ``(height, width)``.
    n_outputs
        Size of the output layer (set by the task).
    channels
        Number of filters of each convolutional block.
    kernel_size
        Odd or even square kernel size, one for all blocks or one per block; the
        convolutions are zero-padded to keep the image size ("same" padding).
    dense
        Widths of the hidden dense layers after flattening.
    dropout
        Dropout probability after each hidden dense layer.
    batch_norm
        Batch normalisation after each convolution.

    Notes
    -----
    A jet image is the pT (or energy) deposited in a grid of pixels in the (η, φ)
    plane around the jet axis, ``I_ab = sum_{i in pixel ab} pT_i``.  Each block computes
    ``y_c = ReLU(b_c + sum_c' W_cc' * x_c')`` (``*`` the 2-d convolution) followed by a
    2x2 max pooling that rounds odd sizes up (``ceil``), so no edge pixel is dropped.
    The ``full`` preset follows P. T. Komiske, E. M. Metodiev, M. D. Schwartz,
    "Deep learning in color: towards automated quark/gluon jet discrimination",
    JHEP 01 (2017) 110, arXiv:1612.01551.
    """

    INPUT_NAMES: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(
        self,
        in_channels: int,
        image_size: int | tuple[int, int],
        n_outputs: int,
        *,
        channels: Sequence[int] = (32, 32, 32),
        kernel_size: int | Sequence[int] = 3,
        dense: Sequence[int] = (64,),
        dropout: float = 0.0,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive("in_channels", in_channels)
        height, width = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        self.image_size = (check_positive("image_size", height), check_positive("image_size", width))
        check_positive("n_outputs", n_outputs)
        widths = check_widths("channels", channels)
        kernels = (kernel_size,) * len(widths) if isinstance(kernel_size, int) else tuple(kernel_size)
        if len(kernels) != len(widths):
            raise ConfigError(f"kernel_size has {len(kernels)} entries for {len(widths)} convolutional blocks")
        for k in kernels:
            check_positive("kernel_size", k)
        check_dropout(dropout)

        blocks: list[nn.Module] = []
        previous = in_channels
        for out, k in zip(widths, kernels, strict=True):
            blocks.append(nn.Conv2d(previous, out, k, padding=k // 2, bias=not batch_norm))
            if k % 2 == 0:
                blocks.append(_DropFirstRowAndColumn())
            if batch_norm:
                blocks.append(nn.BatchNorm2d(out))
            blocks.append(nn.ReLU())
            blocks.append(nn.MaxPool2d(2, ceil_mode=True))
            previous = out
        self.features = nn.Sequential(*blocks)

        pooled_h, pooled_w = self.image_size
        for _ in widths:
            pooled_h, pooled_w = math.ceil(pooled_h / 2), math.ceil(pooled_w / 2)
        size = previous * pooled_h * pooled_w
        widths = check_widths("dense", dense, allow_empty=True)
        self.head = nn.Sequential(nn.Flatten(), *dense_layers(size, widths, n_outputs, dropout=dropout))

    def forward(self, image: Tensor) -> Tensor:
        """Map ``(n_jets, in_channels, height, width)`` images to ``(n_jets, n_outputs)``."""
        out: Tensor = self.head(self.features(image))
        return out

    def example_inputs(self, n_jets: int = 2, *, generator: torch.Generator | None = None) -> tuple[Tensor]:
        """Random non-negative images of the right shape, e.g. to trace or export the network."""
        return (torch.rand((n_jets, self.in_channels, *self.image_size), generator=generator),)
