"""Batches streamed chunk by chunk, for training data larger than memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from neyman.training.trainer import Batch

__all__ = ["ChunkedBatches"]

ChunkLoader = Callable[[Any], tuple[Any, np.ndarray, np.ndarray]]
"""``load(chunk) -> (x, y, w)``: ``x`` one array, or a tuple of arrays (particle sets)."""


class ChunkedBatches:
    """Training batches read from storage one chunk at a time.

    Each epoch visits the chunks in a new random order and shuffles the events
    within each chunk, so memory holds one chunk (plus less than a batch carried
    over to the next), never the data set.  With chunks of a few hundred thousand
    events the mixing is close to a global shuffle for event-level tabular data.

    Parameters
    ----------
    chunks
        Opaque chunk descriptions handed to ``load`` (e.g. ``(source, start, stop)``).
    load
        ``load(chunk) -> (x, y, w)`` NumPy arrays of that chunk's training events,
        already preprocessed; ``x`` may be a tuple of arrays sharing their first axis.
    n_events
        Total number of training events over all chunks.
    device
        Where batches are sent.
    """

    def __init__(self, chunks: Sequence[Any], load: ChunkLoader, *, n_events: int, device: torch.device) -> None:
        self.chunks = list(chunks)
        self.load = load
        self.n_events = n_events
        self.device = device

    def __len__(self) -> int:
        return self.n_events

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None) -> Iterator[Batch]:
        order = torch.randperm(len(self.chunks), generator=generator).tolist() if shuffle else range(len(self.chunks))
        carry: tuple[tuple[torch.Tensor, ...], torch.Tensor, torch.Tensor] | None = None
        single = True
        for c in order:
            x_np, y_np, w_np = self.load(self.chunks[c])
            single = not isinstance(x_np, tuple)
            xs = tuple(torch.from_numpy(a) for a in (x_np if isinstance(x_np, tuple) else (x_np,)))
            y, w = torch.from_numpy(y_np), torch.from_numpy(w_np)
            if shuffle:
                perm = torch.randperm(len(y), generator=generator)
                xs, y, w = tuple(a[perm] for a in xs), y[perm], w[perm]
            if carry is not None:
                xs = tuple(torch.cat([old, new]) for old, new in zip(carry[0], xs, strict=True))
                y, w = torch.cat([carry[1], y]), torch.cat([carry[2], w])
            xs, y, w = tuple(a.to(self.device) for a in xs), y.to(self.device), w.to(self.device)
            full = len(y) - len(y) % batch_size
            for start in range(0, full, batch_size):
                stop = start + batch_size
                xb = tuple(a[start:stop] for a in xs)
                yield (xb[0] if single else xb), y[start:stop], w[start:stop]
            carry = (tuple(a[full:] for a in xs), y[full:], w[full:]) if full < len(y) else None
        if carry is not None and len(carry[1]):
            yield (carry[0][0] if single else carry[0]), carry[1], carry[2]
