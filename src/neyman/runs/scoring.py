"""Scoring a table with anything that scores: a loaded run or an exported ONNX model."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from neyman.exceptions import DataError
from neyman.table import Table

__all__ = ["Scorer", "score_table"]


class Scorer(Protocol):
    """Anything that scores a table: a loaded run or an ONNX model."""

    @property
    def score_names(self) -> list[str]: ...

    def score(self, table: Table) -> np.ndarray: ...


def score_table(
    run: Scorer,
    table: Table,
    *,
    prefix: str = "",
    scores: np.ndarray | None = None,
    names: list[str] | None = None,
) -> Table:
    """Return ``table`` with the run's score columns appended.

    ``scores`` and ``names`` replace the run's own scores and their names (already
    computed ones, or weights derived from them).
    """
    scores = (run.score(table) if scores is None else scores).reshape(len(table), -1)
    names = [prefix + n for n in (run.score_names if names is None else names)]
    clash = [n for n in names if n in table]
    if clash:
        raise DataError(
            f"{table.source or 'the input'} already has column(s) {clash}; pass a prefix "
            "(--prefix) so the scores get other names"
        )
    return table.with_columns(**{n: scores[:, j] for j, n in enumerate(names)})
