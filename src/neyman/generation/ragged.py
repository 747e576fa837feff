"""Index arithmetic for ragged data stored flat (all items of all groups concatenated).

A ragged array is a flat array plus ``counts`` (items per group); these helpers
turn counts into offsets and gather whole groups, without loops over groups.
"""

from __future__ import annotations

import numpy as np

__all__ = ["segments", "starts"]


def starts(counts: np.ndarray) -> np.ndarray:
    """Offset of each group's first item: ``[0, c0, c0+c1, ...]`` (same length as ``counts``)."""
    counts = np.asarray(counts, dtype=np.int64)
    offsets: np.ndarray = np.cumsum(counts) - counts
    return offsets


def segments(first: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Flat indices ``first[i], first[i]+1, ..., first[i]+counts[i]-1`` for all ``i``, concatenated."""
    counts = np.asarray(counts, dtype=np.int64)
    index: np.ndarray = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(
        np.asarray(first, dtype=np.int64) - starts(counts), counts
    )
    return index
