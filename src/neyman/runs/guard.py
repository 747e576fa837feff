"""The one guard of every path neyman writes: run names, output files and output folders.

- a run name is one path component, so a run stays inside its ``output_dir``;
- ``--force`` only ever replaces what neyman wrote: a run directory (it holds
  ``status.json`` with a run's state), a comparison folder (it holds the
  ``comparison.json`` of a comparison), an ONNX file;
- an output file is never written inside a run's own artefacts, and never over an
  existing file without ``force``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neyman.exceptions import ConfigError, DataError

__all__ = [
    "RUN_MARKER",
    "check_folders_above",
    "check_output_dir",
    "check_output_file",
    "check_run_name",
    "enclosing_run",
    "is_run",
    "is_temporary_name",
]

RUN_MARKER = "status.json"
"""The file every run directory holds from its first moment (its status)."""

RUN_STATES = ("running", "complete", "failed", "pruned")
"""The states a run's :data:`RUN_MARKER` records."""

_MARKER_KEYS = {RUN_MARKER: ("state", "time"), "comparison.json": ("rows", "reference")}
"""The keys neyman writes into each marker file: a file of that name without them is someone else's."""

_MARKER_BYTES = 1 << 20
"""Markers are a few hundred bytes; a larger file of that name is not one neyman wrote."""


MAX_RUN_NAME_BYTES = 240
"""A run name's most bytes: 255 less the staging name's '.', '.new-' and a process id of up to 7 digits."""


def check_run_name(name: str) -> str:
    """``name`` if it is one plain path component (no separator, not ``.``/``..``, not empty).

    Raises
    ------
    ConfigError
        The name would put the run outside its output directory.
    """
    if not name or name in (".", "..") or "/" in name or "\\" in name or name != name.strip() or "\0" in name:
        raise ConfigError(
            f"run name {name!r} must be one plain folder name (no '/', no spaces at its ends, not '.' or '..'): "
            "the run goes to "
            "output_dir/name; choose the folder with --output-dir and the name with --name"
        )
    if len(name.encode("utf-8", "surrogatepass")) > MAX_RUN_NAME_BYTES:
        raise ConfigError(
            f"run name {name[:60]!r}... ({len(name)} characters) is too long: a folder name holds 255 bytes, and a "
            f"run replaced with --force is staged as .NAME.new-PID beside it, so at most {MAX_RUN_NAME_BYTES}"
        )
    if is_temporary_name(name):
        raise ConfigError(f"run name {name!r} has the form of neyman's temporary names (.NAME.new-PID); choose another")
    return name


_TEMPORARY = re.compile(r"\..+\.(tmp|new|old)-\d+|\..+\.chunks")


def is_temporary_name(name: str) -> bool:
    """Whether ``name`` has the form of what neyman writes while it works (``.NAME.tmp-PID``,
    ``.NAME.new-PID``, ``.NAME.old-PID``, ``.NAME.chunks``), which it removes as its own leftovers."""
    return _TEMPORARY.fullmatch(name) is not None


def _written_by_neyman(marker: Path) -> bool:
    """Whether ``marker`` is a JSON object with the keys neyman writes into a file of its name.

    A folder of someone else's (a web project's ``status.json``) must never pass for a
    neyman output: ``--force`` deletes what does.
    """
    try:
        if not marker.is_file() or marker.stat().st_size > _MARKER_BYTES:
            return False
        record: Any = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    keys = _MARKER_KEYS.get(marker.name, ())
    if not isinstance(record, dict) or not all(k in record for k in keys):
        return False
    return marker.name != RUN_MARKER or record["state"] in RUN_STATES


def is_run(path: Path) -> bool:
    """Whether ``path`` is a neyman run directory (it holds :data:`RUN_MARKER` with a run's state)."""
    return _written_by_neyman(path / RUN_MARKER)


def _no_nul(path: str | os.PathLike[str]) -> Path:
    if "\0" in os.fspath(path):
        raise DataError(f"the path {os.fspath(path)!r} holds a NUL character, which no file name may hold")
    return Path(path)


def check_folders_above(path: str | os.PathLike[str]) -> None:
    """Refuse an output path below an existing file (``notes.csv/model.onnx``): no folder can be made there."""
    out = _no_nul(path)
    for folder in out.parents:
        if folder.exists() and not folder.is_dir():
            raise DataError(f"{out} cannot be written: {folder} is a file, not a folder; choose another output path")


def enclosing_run(path: Path) -> Path | None:
    """The run directory that ``path`` lies in (or is), if any, with symbolic links resolved."""
    path = Path(os.path.realpath(_no_nul(path)))
    for candidate in [path, *path.parents]:
        if candidate.is_dir() and is_run(candidate):
            return candidate
    return None


def check_output_file(
    path: str | os.PathLike[str],
    *,
    force: bool,
    suffix: str,
    what: str,
    ours: Callable[[Path], bool] | None = None,
    owner: Path | None = None,
) -> Path:
    """An output file path that may be written: not a folder, not in a run's artefacts, not over a file.

    Parameters
    ----------
    path
        Where the output goes.
    force
        Replace an existing file of this kind (``suffix``).
    suffix
        The file kind neyman writes there (``.onnx``): ``force`` replaces only such a file.
    what
        The output's name for messages (``the ONNX export``).
    ours
        Whether an existing file is one neyman wrote (an export's metadata); ``force``
        replaces only such a file.
    owner
        The run the output comes from: only its own directory may hold it
        (``RUN/<name><suffix>``); without, no run directory may.

    Raises
    ------
    DataError
        ``path`` is a folder, lies in a run directory other than as one of its
        owner's exports, has the form of neyman's temporary names, or exists
        (without ``force``, or of another kind).
    """
    out = _no_nul(path)
    check_folders_above(out)
    if out.is_dir():
        raise DataError(f"{out} is a folder; give {what} a file name (e.g. {out / ('model' + suffix)})")
    if is_temporary_name(out.name):
        raise DataError(f"{out}: the name has the form of neyman's temporary files (.NAME.tmp-PID); choose another")
    run = enclosing_run(out.parent)
    mine = owner is not None and run == Path(os.path.realpath(owner))
    if run is not None and (not mine or Path(os.path.realpath(out.parent)) != run or out.suffix != suffix):
        where = f"may only go to {run}/<name>{suffix}" if mine else "goes outside the run directories of other runs"
        raise DataError(
            f"{out} is inside the run directory {run}: {what} {where}, never over or among a run's own files"
        )
    if out.exists():
        if out.suffix != suffix:
            raise DataError(f"{out} exists and is not a {suffix} file neyman wrote; {what} never replaces it")
        if not force:
            raise DataError(f"{out} exists; pass --force to replace it (or choose another --out)")
        if ours is not None and not ours(out):
            raise DataError(
                f"{out} exists and is not a {suffix} file neyman wrote (its own record is missing); --force "
                "replaces only neyman's own: choose another --out"
            )
    return out


def check_output_dir(path: str | os.PathLike[str], *, force: bool, marker: str, what: str) -> Path:
    """An output folder that may be written: new, empty, or (with ``force``) an earlier one of its kind.

    Parameters
    ----------
    path
        The folder.
    force
        Replace the contents of an earlier output of this kind.
    marker
        The file every such output holds (``comparison.json``).
    what
        The output's name for messages.

    Raises
    ------
    DataError
        ``path`` is a file, a run directory, a folder of something else, or an
        earlier output without ``force``.
    """
    out = _no_nul(path)
    check_folders_above(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out} is a file; give {what} a folder")
    run = enclosing_run(out.parent)
    if run is not None:
        raise DataError(f"{out} is inside the run directory {run}; give {what} a folder outside the runs")
    if is_temporary_name(out.name):
        raise DataError(f"{out}: the name has the form of neyman's temporary folders; choose another")
    if out.is_dir() and any(out.iterdir()):
        if is_run(out):
            raise DataError(f"{out} is a run directory; give {what} a folder of its own")
        if not _written_by_neyman(out / marker):
            raise DataError(
                f"{out} holds other files (no {marker} that neyman wrote); {what} only goes to a new or empty folder"
            )
        if not force:
            raise DataError(f"{out} holds {what} already; pass --force to replace it (or choose another --out)")
    return out
