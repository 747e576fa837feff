"""Explicit random-number generators derived from one user seed."""

from __future__ import annotations

import numpy as np

from neyman.exceptions import ConfigError

__all__ = ["check_seed", "child_seed", "rng"]


def check_seed(seed: int, option: str = "--seed") -> int:
    """``seed``, refused unless it is an integer in [0, 2^63) (NumPy's seeds are non-negative).

    Raises
    ------
    ConfigError
        Naming ``option`` and the value.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise ConfigError(f"{option} must be an integer in [0, 2^63), got {seed!r}")
    return int(seed)


def rng(seed: int, *stream: int | str) -> np.random.Generator:
    """Return an independent NumPy generator for ``seed`` and a named stream.

    Parameters
    ----------
    seed
        The run's seed.
    stream
        Labels that make independent streams (e.g. ``"split"``, fold number).
    """
    return np.random.default_rng(child_seed(seed, *stream))


def child_seed(seed: int, *stream: int | str) -> int:
    """Derive a 63-bit integer seed for a named stream of ``seed``.

    A string word of the stream counts by its first 8 bytes (``"sideband-flow-0"`` and
    ``"sideband-flow-1"`` are one stream): give what tells streams apart as a word of its own,
    ``child_seed(seed, "sideband-flow", half)``. Longer names are not hashed whole, so that the
    seeds of earlier runs, generated samples included, stay what they were.
    """
    words = [int(seed)] + [s if isinstance(s, int) else int.from_bytes(s.encode(), "little") % (2**63) for s in stream]
    return int(np.random.SeedSequence(words).generate_state(1, dtype=np.uint64)[0] >> 1)
