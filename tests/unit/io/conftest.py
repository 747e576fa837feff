"""Small tables for the reader/writer tests, made with an explicit random generator."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from neyman.table import Table


def make_events(n: int = 1000, seed: int = 7) -> Table:
    """A flat table with float64, float32 and int64 columns."""
    rng = np.random.default_rng(seed)
    return Table(
        {
            "jet_pt": rng.exponential(40.0, n),
            "jet_eta": rng.normal(0.0, 1.5, n).astype(np.float32),
            "label": rng.integers(0, 2, n),
            "event_id": np.arange(n, dtype=np.int64),
        }
    )


@pytest.fixture
def events() -> Table:
    return make_events()


def _assert_same(read: Table, expected: Table, *, text: bool = False) -> None:
    """Equal columns and values; text formats store float32 as decimal text."""
    assert read.column_names == expected.column_names
    for name in expected.column_names:
        got, want = read[name], expected[name]
        assert len(got) == len(want), name
        if text and want.dtype == np.float32:
            np.testing.assert_array_equal(got.astype(np.float32), want)
        else:
            assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
            np.testing.assert_array_equal(got, want)


@pytest.fixture
def make_table() -> Callable[..., Table]:
    return make_events


@pytest.fixture
def assert_same() -> Callable[..., None]:
    return _assert_same
