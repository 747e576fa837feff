"""Writing generated samples: finished chunks as they arrive, then the final file.

Chunks go to a hidden directory next to the output (``.<name>.chunks/``), one
Parquet file and one JSON record each, written under temporary names and renamed
when complete.  The directory's ``manifest.json`` pins the run (process, settings,
seed, detector, chunk size): a later run with the same request resumes from it and
skips finished chunks; a different request is refused rather than mixed in.  The
final file is assembled from the chunks, written atomically, and the chunk
directory removed; its provenance goes next to it (:func:`neyman.io.provenance_path`).

Output formats, by extension: Parquet (flat columns and jagged constituents),
HDF5 in the layout of the public top-tagging ("Landscape") data set (a pandas
``DataFrame`` under key ``table``, columns ``E_0, PX_0, PY_0, PZ_0, E_1, ...`` for
up to 200 constituents padded with zeros, then the flat columns and
``is_signal_new``; read with ``pandas.read_hdf(file, key="table")`` as that data
set is), ROOT (a TTree with jagged branches), or NumPy ``.npz`` in the layout of the
EFN quark/gluon data set (``X`` of shape ``(n, M, 4)`` holding each constituent's
``pt, y, phi, pid``, zero-padded to the largest multiplicity, and labels ``y``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.atomic import atomic_path, write_json
from neyman.exceptions import DataError
from neyman.io.constituents import efn_rapidity
from neyman.optional import require
from neyman.table import LABEL, Table

__all__ = [
    "LANDSCAPE_KEY",
    "OUTPUT_FORMATS",
    "ChunkStore",
    "output_format",
    "padded_constituents",
    "refuse_foreign_output",
    "write_sample",
]

OUTPUT_FORMATS = ("parquet", "hdf5", "root", "npz")
"""Formats ``neyman generate`` writes (chosen by the output file's extension)."""

_MANIFEST = "manifest.json"

_GENERATED = frozenset({"process", "classes", "pythia_version", "neyman_version"})
"""Keys of the provenance ``neyman generate`` writes beside a sample: a file without them is not one."""


def refuse_foreign_output(path: Path) -> None:
    """Refuse to replace an existing ``path`` that is not a sample neyman generated, as it wrote it.

    Raises
    ------
    DataError
        ``path`` exists without the provenance ``neyman generate`` writes beside a sample,
        or was changed since (:func:`neyman.io.not_replaceable`).
    """
    if path.exists() and (why := io.not_replaceable(path, lambda record: set(record) >= _GENERATED)):
        raise DataError(
            f"{path} exists and is not a sample neyman generated, as it wrote it ({why}); --force replaces only "
            "those: choose another --out, or remove the file yourself"
        )
    io.refuse_foreign_provenance(path, lambda record: set(record) >= _GENERATED, "neyman generate", "--out")


def output_format(path: Path, *, constituents: bool = True) -> str:
    """The output format of ``path`` from its extension, or a clear error.

    ``constituents`` says whether the sample stores jet constituents; the ``.npz``
    layout (the quark/gluon data set's) holds nothing else and is refused without them.
    """
    if not path.suffix:
        raise DataError(
            f"output {path} has no extension, which gives the format: use a .parquet, .h5, .root or .npz file name "
            f"(e.g. {path.with_suffix('.parquet')})"
        )
    fmt = io.detect_format(path, output=True)
    if fmt not in OUTPUT_FORMATS:
        raise DataError(
            f"cannot write generated events to {path}: format {fmt!r}; use a .parquet, .h5, .root or .npz file name"
        )
    if fmt == "npz" and not constituents:
        raise DataError(
            f"cannot write {path}: the .npz layout (the quark/gluon data set's) holds jet constituents, and this "
            "process stores none; write .parquet, .h5 or .root"
        )
    return fmt


class ChunkStore:
    """Finished chunks of one run, on disk next to the output file.

    Parameters
    ----------
    out
        The final output file.
    manifest
        JSON-serialisable description of the request; chunks are reused only by a
        run with an identical manifest.
    """

    def __init__(self, out: Path, manifest: dict[str, Any]) -> None:
        self.out = out
        self.directory = out.parent / f".{out.name}.chunks"
        self.manifest = json.loads(json.dumps(manifest))

    def open(self, *, replace: bool = False) -> dict[tuple[int, int], dict[str, Any]]:
        """Create the directory, or reopen it; return the records of finished chunks.

        Chunks of a different request are kept for that request (repeat its command to
        resume it) unless ``replace`` is given or none of them finished, in which case
        they are deleted and this request starts afresh.

        Raises
        ------
        DataError
            When the directory belongs to a different request (and ``replace`` is not
            given), or is unwritable.
        """
        path = self.directory / _MANIFEST
        if self.directory.exists() and not self.directory.is_dir():
            raise DataError(
                f"{self.directory} is a file, where neyman keeps the finished chunks of a run writing "
                f"{self.out.name}; it is not neyman's, so it is left alone: move it, or choose another --out"
            )
        if path.exists():
            try:
                found = json.loads(path.read_text())
            except (OSError, ValueError):
                found = None
            if found != self.manifest and (replace or found is None or not any(self.directory.glob("chunk-*.json"))):
                self.remove()
                return self.open()
            if found != self.manifest:
                assert isinstance(found, dict)
                differ = sorted(k for k in set(found) | set(self.manifest) if found.get(k) != self.manifest.get(k))
                raise DataError(
                    f"{self.directory} holds chunks of a different request (differs in: {', '.join(differ)}); "
                    f"pass --force to discard them, or repeat the original command to resume it"
                )
        else:
            if self.directory.is_dir() and any(self.directory.iterdir()):
                raise DataError(
                    f"{self.directory} holds files but no {_MANIFEST}: it is not a folder of chunks neyman wrote, "
                    f"and neyman never writes into it (nor deletes it); move it, or choose another --out"
                )
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                write_json(path, self.manifest)
            except OSError as exc:
                raise DataError(f"cannot write to {self.out.parent}: {exc}") from exc
        records: dict[tuple[int, int], dict[str, Any]] = {}
        for record_path in sorted(self.directory.glob("chunk-*.json")):
            record = json.loads(record_path.read_text())
            if self._table_path(record["label"], record["index"]).exists():
                records[(record["label"], record["index"])] = record
        return records

    def stored_manifest(self) -> dict[str, Any] | None:
        """The manifest of chunks left by an earlier run at this output, if any finished."""
        path = self.directory / _MANIFEST
        if not any(self.directory.glob("chunk-*.json")):
            return None
        try:
            found = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def _table_path(self, label: int, index: int) -> Path:
        return self.directory / f"chunk-{label}-{index:06d}.parquet"

    def save(self, table: Table, record: dict[str, Any]) -> None:
        """Store one finished chunk (its table first, then its record)."""
        label, index = record["label"], record["index"]
        io.write(table, self._table_path(label, index))
        write_json(self.directory / f"chunk-{label}-{index:06d}.json", record)

    def load(self, label: int, index: int) -> Table:
        """The table of a finished chunk."""
        return io.read(self._table_path(label, index))

    def remove(self) -> None:
        """Delete the chunk directory (after the final file is written)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    def remove_if_empty(self) -> None:
        """Delete the chunk directory if no chunk finished (a run that failed or stopped before any)."""
        if self.directory.is_dir() and not any(self.directory.glob("chunk-*.json")):
            self.remove()


def padded_constituents(table: Table, size: int) -> np.ndarray:
    """The ``(n, size, 4)`` array of constituent ``E, px, py, pz``, zero-padded (top-tagging layout)."""
    ak = require("awkward", purpose="pad jet constituents")
    parts = []
    for name in ("E", "px", "py", "pz"):
        jagged = table[f"constituent_{name}"]
        filled = ak.fill_none(ak.pad_none(jagged, size, axis=1, clip=True), 0.0)
        parts.append(np.asarray(ak.to_numpy(filled), dtype=np.float32).reshape(len(table), size))
    return np.stack(parts, axis=2)


def write_sample(table: Table, out: Path, *, max_constituents: int) -> Path:
    """Write the final sample to ``out`` in the format of its extension (atomically)."""
    fmt = output_format(out, constituents="constituent_pt" in table.column_names)
    if fmt == "hdf5":
        return _write_landscape(table, out, max_constituents=max_constituents)
    if fmt == "npz":
        return _write_efn(table, out)
    return io.write(table, out, tree="events")


def _write_efn(table: Table, out: Path) -> Path:
    """The EFN quark/gluon layout: ``X`` = (pt, rapidity, phi in [0, 2π), pid) per constituent, ``y``.

    The jet's flat columns are stored beside them under their own names (the data set's
    loaders read ``X`` and ``y`` only).  The rapidity is that of the constituent's momentum
    with the mass of its id (:func:`neyman.io.constituents.efn_rapidity`), the convention
    by which the layout is read back.
    """
    ak = require("awkward", purpose="write the EFN .npz layout")
    counts = ak.num(table["constituent_pt"], axis=1)
    flat = {k: ak.to_numpy(ak.flatten(table[f"constituent_{k}"])) for k in ("pt", "pz", "pdg_id")}
    rapidity = ak.unflatten(efn_rapidity(flat["pt"], flat["pz"], flat["pdg_id"]), counts)
    fields = (table["constituent_pt"], rapidity, table["constituent_phi"] % (2 * np.pi), table["constituent_pdg_id"])
    size = max(1, int(ak.max(ak.num(fields[0], axis=1), initial=1)))
    x = np.stack(
        [np.asarray(ak.to_numpy(ak.fill_none(ak.pad_none(f, size, axis=1), 0.0)), dtype=np.float64) for f in fields],
        axis=2,
    )
    arrays = {name: np.asarray(table[name]) for name in table.column_names if not name.startswith("constituent_")}
    arrays.update({"X": x, "y": np.asarray(table[LABEL])})
    with atomic_path(out) as tmp, tmp.open("wb") as handle:
        np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]
    return out


LANDSCAPE_KEY = "table"
"""The pandas key of the top-tagging data set's HDF5 files."""


def _write_landscape(table: Table, out: Path, *, max_constituents: int) -> Path:
    """The top-tagging data set's layout: one pandas frame, interleaved ``E_i, PX_i, PY_i, PZ_i``."""
    pd = require("pandas", purpose="write the top-tagging HDF5 layout")
    require("tables", purpose="write the top-tagging HDF5 layout (pandas HDFStore)")
    jagged = [name for name in table.column_names if name.startswith("constituent_")]
    columns: dict[str, np.ndarray] = {}
    if jagged:
        padded = padded_constituents(table, max_constituents)
        for i in range(padded.shape[1]):
            for k, name in enumerate(("E", "PX", "PY", "PZ")):
                columns[f"{name}_{i}"] = padded[:, i, k]
    flat = table.drop(jagged)
    for name in flat.column_names:
        columns[name] = np.asarray(flat[name])
    columns["is_signal_new"] = np.asarray(table[LABEL])
    frame = pd.DataFrame(columns)
    with atomic_path(out) as tmp:
        try:
            frame.to_hdf(tmp, key=LANDSCAPE_KEY, mode="w")
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot write {out}: {exc}") from exc
    return out
