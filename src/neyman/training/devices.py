"""The one place where neyman chooses a device and a thread count."""

from __future__ import annotations

import torch

from neyman.exceptions import ConfigError

__all__ = ["configure_threads", "select_device"]


def select_device(name: str = "auto") -> torch.device:
    """Return the torch device for ``name``.

    Parameters
    ----------
    name
        ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"training.device: unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"training.device: {name!r} was asked for but CUDA is not available; use device: auto or cpu")
    return device


def configure_threads(threads: int | None) -> None:
    """Set the number of CPU threads torch uses for intra-op parallelism (``None``: leave)."""
    if threads is not None:
        if threads < 1:
            raise ConfigError(f"training.threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
