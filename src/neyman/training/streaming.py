"""Batches streamed chunk by chunk, for training data larger than memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from neyman.training.trainer import Batch

__all__ = ["ChunkedBatches"]

ChunkLoader = Callable[[Any], tuple[np.ndarray, np.ndarray, np.ndarray]]


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
        already preprocessed.
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
        carry: Batch | None = None
        for c in order:
            x_np, y_np, w_np = self.load(self.chunks[c])
            x, y, w = torch.from_numpy(x_np), torch.from_numpy(y_np), torch.from_numpy(w_np)
            if shuffle:
                perm = torch.randperm(len(x), generator=generator)
                x, y, w = x[perm], y[perm], w[perm]
            if carry is not None:
                x, y, w = torch.cat([carry[0], x]), torch.cat([carry[1], y]), torch.cat([carry[2], w])
            x, y, w = x.to(self.device), y.to(self.device), w.to(self.device)
            full = len(x) - len(x) % batch_size
            for start in range(0, full, batch_size):
                yield x[start : start + batch_size], y[start : start + batch_size], w[start : start + batch_size]
            carry = (x[full:], y[full:], w[full:]) if full < len(x) else None
        if carry is not None and len(carry[0]):
            yield carry
