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

_Events = tuple[tuple[torch.Tensor, ...], torch.Tensor, torch.Tensor]
"""Inputs (one tensor or several), labels and weights of some events."""


class ChunkedBatches:
    """Training batches read from storage one chunk at a time.

    Each epoch visits the chunks in a new random order and shuffles the events
    within each chunk, so memory holds one chunk (plus less than a batch carried
    over to the next), never the data set.  Chunks of several files (``groups``:
    the file of each chunk) are mixed: the files are read side by side, one chunk of
    each at a time (memory then holds one chunk per file), at one speed relative to
    their numbers of events, so that a batch holds every file's events in about
    their global proportions, and not one file's (with one file per class, one
    class) after another's.

    Notes
    -----
    Mixing, with ``N_g`` the training events of file ``g`` and its chunks in a random
    order: event ``i`` (from 0) of a shuffled chunk that follows ``M`` events of its
    file sits at ``f = (M + i + 1/2) / N_g``; the events of all files come out in
    blocks ordered by ``f`` (a block ends where the first held chunk ends), each
    block shuffled, so every file advances by the same fraction of its events.

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
    groups
        The file (any label) of each chunk, and its number of training events: ``(file,
        events)`` per chunk.  Without, or with one file, chunks are taken one by one.
    """

    def __init__(
        self,
        chunks: Sequence[Any],
        load: ChunkLoader,
        *,
        n_events: int,
        device: torch.device,
        groups: Sequence[tuple[Any, int]] | None = None,
    ) -> None:
        self.chunks = list(chunks)
        self.load = load
        self.n_events = n_events
        self.device = device
        self.groups = list(groups) if groups is not None else None
        if self.groups is not None and len(self.groups) != len(self.chunks):
            raise ValueError(f"{len(self.groups)} groups for {len(self.chunks)} chunks")

    def __len__(self) -> int:
        return self.n_events

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None) -> Iterator[Batch]:
        carry: _Events | None = None
        single = True
        for part, single in self._parts(shuffle, generator, batch_size):
            xs, y, w = part
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

    def _loaded(self, c: int) -> tuple[_Events, bool]:
        """Chunk ``c`` as tensors, and whether its ``x`` is one array (not a tuple)."""
        x_np, y_np, w_np = self.load(self.chunks[c])
        xs = tuple(torch.from_numpy(a) for a in (x_np if isinstance(x_np, tuple) else (x_np,)))
        return (xs, torch.from_numpy(y_np), torch.from_numpy(w_np)), not isinstance(x_np, tuple)

    def _parts(
        self, shuffle: bool, generator: torch.Generator | None, batch_size: int
    ) -> Iterator[tuple[_Events, bool]]:
        """The events in the order they are batched: whole chunks, or blocks mixed from every file."""
        files = sorted({g for g, _ in self.groups}, key=str) if self.groups else []
        if not shuffle or len(files) < 2:
            order = (
                torch.randperm(len(self.chunks), generator=generator).tolist() if shuffle else range(len(self.chunks))
            )
            for c in order:
                yield self._loaded(c)
            return
        assert self.groups is not None
        # the files are read side by side at one relative speed: the event at fraction f of its file's events
        # (its chunks permuted) comes out beside the other files' events near f, wherever the cuts keep them
        queues, total = {}, {}
        for g in files:
            members = [c for c, (h, _) in enumerate(self.groups) if h == g]
            queues[g] = [members[i] for i in torch.randperm(len(members), generator=generator).tolist()]
            total[g] = max(sum(self.groups[c][1] for c in members), 1)
        read = dict.fromkeys(files, 0)  # events of each file loaded so far
        held: dict[Any, tuple[_Events, float, float, int]] = {}  # events, their span of fractions, taken
        single = True
        while True:
            for g in files:
                if g not in held and queues[g]:
                    c = queues[g].pop(0)
                    (xs, y, w), single = self._loaded(c)
                    perm = torch.randperm(len(y), generator=generator)  # a slice of it is then a sample
                    start = read[g] / total[g]
                    read[g] += self.groups[c][1]
                    held[g] = ((tuple(a[perm] for a in xs), y[perm], w[perm]), start, read[g] / total[g], 0)
            if not held:
                return
            edge = min(end for _, _, end, _ in held.values())
            pieces = []
            for g in list(held):
                (xs, y, w), start, end, taken = held[g]
                # event i of n sits at start + (i + 1/2) / n (end - start): those before the edge go now
                upto = len(y) if end <= edge else int(np.ceil((edge - start) / (end - start) * len(y) - 0.5))
                upto = max(taken, min(upto, len(y)))
                if upto > taken:
                    pieces.append((tuple(a[taken:upto] for a in xs), y[taken:upto], w[taken:upto]))
                if end <= edge:
                    del held[g]
                else:
                    held[g] = ((xs, y, w), start, end, upto)
            if pieces:
                mixed = (
                    tuple(torch.cat([p[0][i] for p in pieces]) for i in range(len(pieces[0][0]))),
                    torch.cat([p[1] for p in pieces]),
                    torch.cat([p[2] for p in pieces]),
                )
                yield mixed, single
