"""The fixed-size constituent layouts of the public jet data sets, read as jagged constituents.

Two public layouts store each jet's constituents as zero-padded, fixed-size blocks:

* the top-tagging data set ("Landscape", Kasieczka et al., SciPost Phys. 7 (2019) 014):
  flat columns ``E_0, PX_0, PY_0, PZ_0, E_1, ...`` (the 200 hardest constituents),
  in a pandas frame under key ``table``;
* the quark/gluon data set of the Energy Flow Networks (Komiske, Metodiev, Thaler,
  JHEP 01 (2019) 121): an array ``X`` of shape ``(n_jets, M, 4)`` holding each
  constituent's ``pt, y, phi, pid`` (rapidity, azimuth, PDG id), or ``(n_jets, M, 3)``
  without the id.

``neyman generate`` writes both (``.h5`` and ``.npz``).  Reading a table in either
layout adds neyman's own jagged constituent columns (:data:`LANDSCAPE_COLUMNS`,
:data:`EFN_COLUMNS`) computed from the blocks, so that particle-set and image models
train on the public files as on generated Parquet.  Padding (a constituent whose
energy, or pT, is zero) is dropped, wherever it stands.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neyman.exceptions import DataError
from neyman.io.core import Backend, StoredTable, TableWriter
from neyman.optional import require
from neyman.table import Table

__all__ = [
    "EFN_COLUMNS",
    "LANDSCAPE_COLUMNS",
    "PDG_CHARGE",
    "PDG_MASS",
    "efn_mass",
    "efn_rapidity",
    "with_constituent_layouts",
]

PREFIX = "constituent_"
_KINEMATICS = ("E", "px", "py", "pz", "pt", "eta", "phi")
LANDSCAPE_COLUMNS = tuple(PREFIX + n for n in _KINEMATICS)
"""The jagged columns added to a table in the top-tagging layout (it holds no particle ids)."""
EFN_COLUMNS = (*LANDSCAPE_COLUMNS, PREFIX + "charge", PREFIX + "pdg_id")
"""The jagged columns added to a table holding an EFN-style ``X`` with particle ids."""
_LANDSCAPE_FIELDS = ("E", "PX", "PY", "PZ")
_EFN_ARRAY = "X"

PDG_MASS = {22: 0.0, 11: 0.000511, 13: 0.10566, 211: 0.13957, 321: 0.49368, 130: 0.49761, 310: 0.49761,
            2112: 0.93957, 2212: 0.93827, 3122: 1.11568, 3112: 1.19745, 3222: 1.18937, 3312: 1.32171,
            3322: 1.31486, 3334: 1.67245}  # fmt: skip
"""Masses (GeV) of the long-lived particles a jet's constituents are, by ``|PDG id|`` (others: massless)."""
PDG_CHARGE = {11: -1, 13: -1, 211: 1, 321: 1, 2212: 1, 3112: -1, 3222: 1, 3312: -1, 3334: -1}
"""Electric charge of the particle (not the antiparticle) by ``|PDG id|`` (others: neutral)."""


def _landscape_size(columns: Sequence[str], source: str) -> tuple[int, str]:
    """How many constituent blocks ``E_i, PX_i, PY_i, PZ_i`` (i = 0, 1, ...) the columns hold, and what is
    wrong with them: two or more of the four fields holding blocks in different numbers (a block of one
    field without the others would drop constituents, or give them no momentum)."""
    held = set(columns)
    counts = {}
    for field in _LANDSCAPE_FIELDS:
        n = 0
        while f"{field}_{n}" in held:
            n += 1
        counts[field] = n
    present = [n for n in counts.values() if n]
    if len(present) >= 2 and len(set(counts.values())) > 1:  # E_i alone may be anything (a layer's energy)
        listed = ", ".join(f"{field}_0..{field}_{n - 1}" if n else f"no {field}_i" for field, n in counts.items())
        return 0, (
            f"{source} holds the top-tagging layout's constituent blocks in unequal numbers ({listed}): every "
            "constituent needs its E, PX, PY and PZ; write the file again with all four for each"
        )
    return min(counts.values()), ""


@dataclass(frozen=True)
class _Layout:
    """Which public layout a table is in: its blocks and the columns they give."""

    raw: tuple[str, ...]
    derived: tuple[str, ...]
    size: int  # Landscape: constituents per jet; EFN: 0
    problem: str = ""  # why the blocks cannot give constituents (raised when they are asked for)

    def compute(self, raw: Table, first: int) -> dict[str, object]:
        """The jagged constituent columns from the rows ``raw`` (from row ``first`` of the file) of the raw columns."""
        if self.problem:
            raise DataError(self.problem)
        if self.size:
            n = len(raw)
            blocks = {
                field: np.stack([np.asarray(raw[f"{field}_{i}"], dtype=np.float64) for i in range(self.size)], axis=1)
                if n
                else np.zeros((0, self.size))
                for field in _LANDSCAPE_FIELDS
            }
            for field, values in blocks.items():
                _check_block(values, f"{field}_i", raw.source, first, negative=field == "E")
            energy, px, py, pz = (blocks[f] for f in _LANDSCAPE_FIELDS)
            return _jagged(energy > 0, {"E": energy, "px": px, "py": py, "pz": pz})
        x = np.asarray(raw[_EFN_ARRAY], dtype=np.float64)
        for k, name in enumerate(("pT", "rapidity", "φ", "PDG id")[: x.shape[-1]]):
            _check_block(x[..., k], f"{_EFN_ARRAY}[..., {k}] ({name})", raw.source, first, negative=k == 0)
        return _efn_columns(x)


def _check_block(values: np.ndarray, what: str, source: str | None, first: int, *, negative: bool) -> None:
    """Refuse missing or infinite values in a block, and negative ones where they are unphysical (E, pT)."""
    bad = ~np.isfinite(values)
    kind = "missing or infinite"
    if not bad.any() and negative:
        bad, kind = values < 0, "negative"
    if bad.any():
        jets = np.flatnonzero(bad.any(axis=1))
        raise DataError(
            f"{source}: {int(bad.sum())} constituent values of {what} in {len(jets)} jets are {kind} (the first in "
            f"row {first + int(jets[0]) + 1}: {values[jets[0]][bad[jets[0]]][0]:g}); zero-padded blocks hold 0 for "
            "no constituent: fix the file"
        )


def _efn_columns(x: np.ndarray) -> dict[str, object]:
    """Constituent columns from an EFN block ``x`` = (pt, y, phi[, pid]) per constituent.

    Notes
    -----
    With :math:`m` the particle's mass from its PDG id (massless without one),
    :math:`m_T = \\sqrt{p_T^2 + m^2}`, :math:`E = m_T \\cosh y`, :math:`p_z = m_T \\sinh y`,
    :math:`p_x = p_T \\cos\\phi`, :math:`p_y = p_T \\sin\\phi`.
    """
    pt, rapidity, azimuth = x[..., 0], x[..., 1], x[..., 2]
    ids = np.rint(x[..., 3]).astype(np.int64) if x.shape[-1] > 3 else None
    charge = np.zeros_like(pt)
    if ids is not None:
        magnitude = np.abs(ids)
        for pdg, value in PDG_CHARGE.items():
            charge[magnitude == pdg] = value * np.sign(ids[magnitude == pdg])
    m_t = np.hypot(pt, np.zeros_like(pt) if ids is None else efn_mass(ids))
    fields = {
        "E": m_t * np.cosh(rapidity),
        "px": pt * np.cos(azimuth),
        "py": pt * np.sin(azimuth),
        "pz": m_t * np.sinh(rapidity),
    }
    if ids is not None:
        fields.update(charge=charge, pdg_id=ids.astype(np.float64))
    return _jagged(pt > 0, fields)


def efn_mass(pdg_id: np.ndarray) -> np.ndarray:
    """The mass (GeV) the EFN layout gives a constituent of this PDG id (:data:`PDG_MASS`; others 0)."""
    magnitude = np.abs(np.rint(np.asarray(pdg_id, dtype=np.float64))).astype(np.int64)
    mass = np.zeros(magnitude.shape)
    for pdg, value in PDG_MASS.items():
        mass[magnitude == pdg] = value
    return mass


def efn_rapidity(pt: np.ndarray, pz: np.ndarray, pdg_id: np.ndarray) -> np.ndarray:
    r"""The rapidity the EFN layout stores, so that reading it back gives this ``pz`` (and pseudorapidity).

    Notes
    -----
    :math:`y = \operatorname{asinh}(p_z / m_T)`, :math:`m_T = \sqrt{p_T^2 + m^2}` with the mass
    :math:`m` of the id (:func:`efn_mass`): a massless calorimeter cell written as a neutral
    hadron (130) gets the rapidity of a K⁰_L of its momentum.
    """
    m_t = np.hypot(np.asarray(pt, dtype=np.float64), efn_mass(pdg_id))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m_t > 0, np.arcsinh(np.asarray(pz, dtype=np.float64) / np.where(m_t > 0, m_t, 1.0)), 0.0)


def _jagged(real: np.ndarray, fields: dict[str, np.ndarray]) -> dict[str, object]:
    """Jagged columns of the entries ``real`` of padded ``(n_jets, size)`` fields, with pT, η and φ added."""
    ak = require("awkward", purpose="read the constituents of a public jet data set")
    counts = real.sum(axis=1)
    flat = {name: values[real] for name, values in fields.items()}
    pt = np.hypot(flat["px"], flat["py"])
    with np.errstate(divide="ignore", invalid="ignore"):
        flat["eta"] = np.where(pt > 0, np.arcsinh(np.divide(flat["pz"], pt, out=np.zeros_like(pt), where=pt > 0)), 0.0)
    flat["pt"] = pt
    flat["phi"] = np.arctan2(flat["py"], flat["px"])  # in (−π, π], also where the EFN layout stores [0, 2π)
    columns: dict[str, object] = {}
    for name, values in flat.items():
        dtype = np.int64 if name in ("pdg_id", "charge") else np.float64
        columns[PREFIX + name] = ak.unflatten(values.astype(dtype), counts)
    return columns


def _layout(table: StoredTable) -> _Layout | None:
    """The public layout of ``table`` (None: neither, or it already holds constituent columns)."""
    columns = table.columns
    if any(c.startswith(PREFIX) for c in columns):
        return None
    size, problem = _landscape_size(columns, table.source)
    if problem:
        return _Layout((), LANDSCAPE_COLUMNS, 0, problem)
    if size:
        raw = tuple(f"{field}_{i}" for i in range(size) for field in _LANDSCAPE_FIELDS)
        return _Layout(raw, LANDSCAPE_COLUMNS, size)
    if _EFN_ARRAY in columns and table.num_entries() > 0:
        first = np.asarray(table.rows([_EFN_ARRAY], 0, 1)[_EFN_ARRAY])
        if first.ndim < 3:
            return None  # a feature matrix, not jets
        if first.ndim == 3 and first.shape[-1] in (3, 4) and first.dtype.kind == "f":
            return _Layout((_EFN_ARRAY,), EFN_COLUMNS if first.shape[-1] == 4 else LANDSCAPE_COLUMNS, 0)
        shape = "(n, " + ", ".join(str(d) for d in first.shape[1:]) + ")"
        return _Layout((), EFN_COLUMNS, 0, (
            f"{table.source}: its array {_EFN_ARRAY!r} ({first.dtype}, shape {shape}) is not the EFN layout of jet "
            f"constituents, real numbers of shape (n, M, 4) = pT, rapidity, φ, PDG id (or (n, M, 3) without the id)"
            + ("; it holds integers: were the values cast?" if first.dtype.kind in "iub" else "")
        ))  # fmt: skip
    return None


class _WithConstituents(StoredTable):
    """A table in a public layout, with the jagged constituent columns its blocks give."""

    def __init__(self, base: StoredTable, layout: _Layout) -> None:
        super().__init__(base.path, source=base.source)
        self.base = base
        self.layout = layout

    @property
    def columns(self) -> list[str]:
        """The table's columns, then the constituent columns."""
        return [*self.base.columns, *self.layout.derived]

    @property
    def index_columns(self) -> list[str]:
        """As the table's."""
        return self.base.index_columns

    def num_entries(self) -> int:
        """As the table's."""
        return self.base.num_entries()

    def select(
        self, columns: Sequence[str] | None, entry_start: int | None, entry_stop: int | None
    ) -> tuple[list[str], int, int]:
        """As the table's; "every column" means the stored ones (a copy of the file, e.g. with ``neyman
        predict``'s scores, keeps its layout and stays flat), the constituent columns being read by name."""
        return super().select(self.base.columns if columns is None else columns, entry_start, entry_stop)

    def _split(self, names: list[str]) -> tuple[list[str], bool]:
        derived = any(n in self.layout.derived for n in names)
        stored = [n for n in names if n not in self.layout.derived]
        return list(dict.fromkeys([*stored, *(self.layout.raw if derived else ())])), derived

    def _with(self, raw: Table, names: list[str], derived: bool, first: int) -> Table:
        added = self.layout.compute(raw, first) if derived else {}
        try:
            return Table({n: added[n] if n in added else raw[n] for n in names}, source=raw.source)
        except ValueError as exc:  # a block of another length than the table's: a damaged file
            raise DataError(f"{self.source}: the constituent blocks cannot be read: {exc}") from exc

    def rows(self, names: list[str], start: int, stop: int) -> Table:
        """The rows, constituent columns computed from the blocks."""
        stored, derived = self._split(names)
        return self._with(self.base.rows(stored, start, stop), names, derived, start)

    def stream(self, names: list[str], start: int, stop: int, step_size: int) -> Iterator[Table]:
        """The chunks, constituent columns computed from the blocks of each."""
        stored, derived = self._split(names)
        first = start
        for chunk in self.base.stream(stored, start, stop, step_size):
            yield self._with(chunk, names, derived, first)
            first += len(chunk)


def _with_constituents(table: StoredTable) -> StoredTable:
    """``table``, with the jagged constituent columns when it is in a public layout (see the module)."""
    layout = _layout(table)
    return table if layout is None else _WithConstituents(table, layout)


class _LayoutReader(Backend):
    """A format's backend whose tables in a public jet layout read with their constituent columns."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner

    @contextlib.contextmanager
    def open(self, path: Path, tree: str | None) -> Iterator[StoredTable]:
        """The table of the format's own backend, with the constituent columns of its layout."""
        with self.inner.open(path, tree) as table:
            yield _with_constituents(table)

    def open_writer(self, tmp: Path, *, final: Path, tree: str) -> TableWriter:
        """The format's own writer (the layouts are written by ``neyman generate``)."""
        return self.inner.open_writer(tmp, final=final, tree=tree)


def with_constituent_layouts(backend: Backend) -> Backend:
    """``backend`` reading a table in a public jet layout with the jagged constituent columns (see the module)."""
    return _LayoutReader(backend)
