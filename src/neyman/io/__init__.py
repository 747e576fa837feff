"""Readers and writers: files <-> :class:`~neyman.table.Table`, and nothing else.

Module map (one module per format; each is imported only when a file of its
format is read or written, so ``import neyman.io`` stays cheap)::

    root        ROOT TTrees via uproot (flat -> NumPy, jagged -> Awkward)
    parquet     Parquet via pyarrow (list columns -> Awkward)
    hdf5        HDF5 via h5py (a group of column datasets, or a compound dataset)
    csv         .csv / .tsv / .txt text, optionally gzip-compressed
    numpy       .npy structured arrays and .npz archives
    datasets    public benchmark layouts: UCI SUSY and HIGGS
    provenance  the ``<file>.provenance.json`` neyman writes beside a file it makes
    core        what the formats share (the Backend base, column checks, ranges, chunks, writers)

Every reader supports column projection (``columns=``), an entry range
(``entry_start``/``entry_stop``, Python slice semantics) and chunked iteration
(:func:`iterate`), so files larger than memory can be streamed.  Every writer is
atomic: the file appears under its name only once complete.

Numbers stored as text (CSV cells, string columns of the other formats) are read
strictly (:class:`neyman.io.core.TextColumns`): a column of numbers becomes
``float64`` (empty, ``nan``, ``NA`` cells are NaN; ``inf`` is infinite), a column
of text stays text, and a column mixing the two is a
:class:`~neyman.exceptions.DataError` naming the file, the row, the column and the
cell.  A damaged file of any format is a ``DataError`` naming the file too.

Examples
--------
>>> from neyman import io
>>> table = io.read("signal.root:Events", columns=["jet_pt", "jet_eta"])  # doctest: +SKIP
>>> for chunk in io.iterate("big.parquet", step_size=50_000):  # doctest: +SKIP
...     ...
>>> io.write(table, "skim.parquet")  # doctest: +SKIP
"""

from __future__ import annotations

from neyman.io import datasets
from neyman.io.core import TableWriter
from neyman.io.datasets import FEATURE_SETS, feature_set
from neyman.io.dispatch import (
    EXTENSIONS,
    FORMATS,
    available_columns,
    detect_format,
    index_columns,
    iterate,
    num_entries,
    open_writer,
    parse_source,
    read,
    write,
)
from neyman.io.provenance import (
    not_replaceable,
    provenance_path,
    read_provenance,
    refuse_foreign_provenance,
    write_provenance,
)

__all__ = [
    "EXTENSIONS",
    "FEATURE_SETS",
    "FORMATS",
    "TableWriter",
    "available_columns",
    "datasets",
    "detect_format",
    "feature_set",
    "index_columns",
    "iterate",
    "not_replaceable",
    "num_entries",
    "open_writer",
    "parse_source",
    "provenance_path",
    "read",
    "read_provenance",
    "refuse_foreign_provenance",
    "write",
    "write_provenance",
]
