"""Public benchmark layouts: the UCI SUSY and HIGGS data sets.

Both are CSV files (often gzip-compressed) *without* a header row: the first
column is the class label (1 for signal, 0 for background), the others are the
features named in

    P. Baldi, P. Sadowski, D. Whiteson, "Searching for exotic particles in
    high-energy physics with deep learning", Nature Communications 5, 4308 (2014).

The features are split, as in the paper, into *low-level* ones (kinematics
measured by the detector) and *high-level* ones (functions of the low-level ones
derived by physicists to discriminate signal from background).  Read them with
``format="uci-susy"`` or ``format="uci-higgs"``; the label becomes the ``label``
column (``int64``) and the features ``float64`` columns with the snake-case names
below.  Writing with the same format produces the headerless layout, e.g. for
generated events.
"""

from __future__ import annotations

import contextlib
import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from neyman.exceptions import DataError, close_matches
from neyman.io.core import Backend, StoredTable, TableWriter, reading
from neyman.table import LABEL, Table

if TYPE_CHECKING:
    from neyman.io.csv import CsvLayout

__all__ = ["FEATURE_SETS", "HIGGS", "SUSY", "Benchmark", "feature_set"]

_HEADER_BYTES = 1 << 20


@dataclass(frozen=True)
class Benchmark(Backend):
    """A headerless CSV layout: the label, then named low- and high-level features.

    Parameters
    ----------
    name
        The format name, e.g. ``"uci-susy"``.
    title
        The human name used in messages.
    low_level, high_level
        The feature names in file order.
    """

    name: str
    title: str
    low_level: tuple[str, ...]
    high_level: tuple[str, ...]
    feature_sets: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        sets = {
            "low-level": list(self.low_level),
            "high-level": list(self.high_level),
            "all": [*self.low_level, *self.high_level],
        }
        object.__setattr__(self, "feature_sets", sets)

    @property
    def features(self) -> list[str]:
        """Every feature, in file order."""
        return [*self.low_level, *self.high_level]

    @property
    def columns(self) -> list[str]:
        """``label`` followed by the features: the columns of the file."""
        return [LABEL, *self.features]

    # -- reading --------------------------------------------------------------------
    def _layout(self) -> CsvLayout:
        from neyman.io.csv import CsvLayout

        return CsvLayout(delimiter=",", names=tuple(self.columns), floats=True, kind=self.title)

    def check(self, path: Path) -> None:
        """Check the first line: the right number of numeric fields, no header row.

        Raises
        ------
        DataError
            Naming the file, the expected and the found number of columns.
        """
        with reading(path, self.title, (OSError, EOFError, ValueError)), open(path, "rb") as raw:
            magic = raw.read(2)
            raw.seek(0)
            if magic == b"\x1f\x8b":
                with gzip.open(raw) as fh:
                    line = fh.readline(_HEADER_BYTES)
            else:
                line = raw.readline(_HEADER_BYTES)
            text = line.decode("ascii").strip()
        fields = text.split(",") if text else []
        expected = len(self.columns)
        if len(fields) != expected:
            raise DataError(
                f"{path} has {len(fields)} columns in its first line but the {self.title} layout "
                f"({self.name}) has {expected}: the label and {expected - 1} features. Is it the "
                "right file? Use format='csv' for a file with a header row"
            )
        try:
            [float(x) for x in fields]
        except ValueError:
            raise DataError(
                f"the first line of {path} is not numeric ({text[:60]!r}...); {self.title} files "
                "have no header row. Use format='csv' for a file with column names"
            ) from None

    def _finish(self, table: Table) -> Table:
        if LABEL not in table:
            return table
        values = table[LABEL]
        labels = values.astype(np.int64)
        if not np.array_equal(labels, values):
            bad = values[labels != values][:3]
            raise DataError(f"{table.source}: the label column holds non-integer values {bad}")
        return table.with_column(LABEL, labels)

    def open(self, path: Path, tree: str | None) -> contextlib.AbstractContextManager[StoredTable]:
        """The file ``path`` in this layout, after :meth:`check` (``tree`` is ignored)."""
        from neyman.io.csv import CsvTable

        self.check(path)
        return contextlib.nullcontext(CsvTable(path, self._layout(), finish=self._finish))

    # -- writing --------------------------------------------------------------------
    def open_writer(self, tmp: Path, *, final: Path, tree: str) -> TableWriter:
        """A writer of the headerless layout on ``tmp`` (gzip when ``final`` ends in ``.gz``)."""
        from neyman.io.csv import CsvWriter

        return CsvWriter(tmp, final=final, tree=tree, layout=self._layout(), check=self.prepare)

    def prepare(self, table: Table, *, path: Path) -> Table:
        """Check that ``table`` has exactly this layout's columns and order them.

        The label must be 0 or 1; the features are written as ``float64``.
        """
        wanted = self.columns
        missing = [c for c in wanted if c not in table]
        if missing:
            parts = [f"{c!r}{close_matches(c, table.column_names)}" for c in missing]
            raise DataError(
                f"cannot write {path} in the {self.title} layout: missing column(s) "
                f"{', '.join(parts)}; it needs {LABEL!r} and the features {self.features}"
            )
        extra = [c for c in table.column_names if c not in wanted]
        if extra:
            raise DataError(
                f"cannot write {path} in the {self.title} layout: it has no place for column(s) "
                f"{extra}; drop them first (table.select(...)) or write another format"
            )
        labels = np.asarray(table[LABEL])
        if not np.isin(labels, (0, 1)).all():
            bad = sorted(set(labels[~np.isin(labels, (0, 1))].tolist()))[:5]
            raise DataError(
                f"cannot write {path} in the {self.title} layout: labels must be 0 "
                f"(background) or 1 (signal), found {bad}"
            )
        columns = {LABEL: labels.astype(np.int64)}
        columns.update({c: np.asarray(table[c], dtype=np.float64) for c in self.features})
        return Table(columns, source=table.source)


_JETS = tuple(f"jet_{i}_{quantity}" for i in range(1, 5) for quantity in ("pt", "eta", "phi", "b_tag"))

SUSY = Benchmark(
    name="uci-susy",
    title="UCI SUSY",
    low_level=(
        "lepton_1_pt",
        "lepton_1_eta",
        "lepton_1_phi",
        "lepton_2_pt",
        "lepton_2_eta",
        "lepton_2_phi",
        "missing_energy_magnitude",
        "missing_energy_phi",
    ),
    high_level=(
        "met_rel",
        "axial_met",
        "m_r",
        "m_tr_2",
        "r",
        "mt2",
        "s_r",
        "m_delta_r",
        "dphi_r_b",
        "cos_theta_r1",
    ),
)
"""UCI SUSY: chargino pairs decaying via W bosons to two leptons and missing energy
(signal) against W-boson pairs (background); 8 low-level and 10 high-level features."""

HIGGS = Benchmark(
    name="uci-higgs",
    title="UCI HIGGS",
    low_level=(
        "lepton_pt",
        "lepton_eta",
        "lepton_phi",
        "missing_energy_magnitude",
        "missing_energy_phi",
        *_JETS,
    ),
    high_level=("m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb"),
)
"""UCI HIGGS: a heavy neutral Higgs boson decaying via W bosons and a light Higgs to
bottom quarks (signal) against top-quark pairs (background); 21 low-level and 7
high-level features."""

BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (SUSY, HIGGS)}

FEATURE_SETS: dict[str, dict[str, list[str]]] = {
    name: {k: list(v) for k, v in b.feature_sets.items()} for name, b in BENCHMARKS.items()
}
"""``FEATURE_SETS[format][name]``: the ``low-level``, ``high-level`` and ``all`` feature lists."""


def feature_set(format: str, name: str) -> list[str]:
    """The feature names of a named set of a benchmark layout.

    Parameters
    ----------
    format
        ``"uci-susy"`` or ``"uci-higgs"``.
    name
        ``"low-level"``, ``"high-level"`` or ``"all"``.

    Returns
    -------
    list of str
        The column names, in file order (a new list each call).

    Raises
    ------
    DataError
        For an unknown format or set name; the message lists the valid ones.

    Examples
    --------
    >>> len(feature_set("uci-susy", "high-level"))
    10
    """
    sets = FEATURE_SETS.get(format)
    if sets is None:
        raise DataError(
            f"no named feature sets for format {format!r}{close_matches(format, FEATURE_SETS)}; "
            f"benchmark formats: {', '.join(FEATURE_SETS)}"
        )
    if name not in sets:
        raise DataError(
            f"unknown feature set {name!r} for {format}{close_matches(name, sets)}; valid names: {', '.join(sets)}"
        )
    return list(sets[name])
