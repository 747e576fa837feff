"""Tiny input files in every supported format, for tests and tutorials."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neyman import io
from neyman.table import LABEL, Table
from neyman.testing.synthetic import likelihood_ratio_dataset

__all__ = ["EXTENSIONS", "write_labelled_file", "write_signal_background"]

EXTENSIONS = {"root": ".root", "parquet": ".parquet", "hdf5": ".h5", "csv": ".csv", "npz": ".npz"}


def _path(directory: Path, stem: str, fmt: str) -> Path:
    return Path(directory) / f"{stem}{EXTENSIONS[fmt]}"


def write_labelled_file(
    directory: str | Path, fmt: str, *, n_events: int = 2000, seed: int = 0, n_features: int = 6
) -> Path:
    """One file with features ``x00 ...``, ``label``, ``weight``, ``event_id`` and ``true_log_lr``."""
    table = likelihood_ratio_dataset(n_events, n_features=n_features, seed=seed)
    path = _path(Path(directory), "labelled", fmt)
    io.write(table, path, tree="events")
    return path


def write_signal_background(
    directory: str | Path, fmt: str, *, n_events: int = 2000, seed: int = 0, n_features: int = 6
) -> tuple[Path, Path]:
    """Separate signal and background files (TMVA style) without a label column."""
    table = likelihood_ratio_dataset(n_events, n_features=n_features, seed=seed)
    label = np.asarray(table[LABEL])
    paths = []
    for stem, cls in (("signal", 1), ("background", 0)):
        part: Table = table.take(label == cls).drop([LABEL])
        path = _path(Path(directory), stem, fmt)
        io.write(part, path, tree="events")
        paths.append(path)
    return paths[0], paths[1]
