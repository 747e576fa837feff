"""Write files so that a reader never sees a half-written one.

Everything neyman writes goes to a temporary name in the destination directory and
is renamed into place only when complete; a failure removes the temporary file and
leaves any earlier file untouched.  :func:`file_sha256` is the one checksum of a
file, recorded when an artefact is written and compared when it is read back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = [
    "atomic_path",
    "changed_files",
    "file_sha256",
    "finite_json",
    "json_sha256",
    "pid_alive",
    "remove_stale",
    "remove_stale_below",
    "stale_siblings",
    "temporary_target",
    "write_json",
    "write_text",
]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    Parameters
    ----------
    path
        The final destination. Its parent directory is created if needed.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(final)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


_START_TOLERANCE = 0.25
"""Seconds of slack between a process's start time and a file's time (both clocks tick in 10 ms)."""


def _started_after(pid: int, moment: float) -> bool:
    """Whether the process (or thread) ``pid`` started after ``moment`` (seconds since the epoch).

    Such a process cannot be the one that wrote a file last modified at ``moment``: its
    number was reused after the writer died.  ``False`` where ``/proc`` cannot tell.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        # the fields after the command name in brackets start at field 3; the start time is field 22
        ticks = int(stat[stat.rindex(")") + 2 :].split()[19])
        started = time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return False
    return started > moment + _START_TOLERANCE


def stale_siblings(path: str | os.PathLike[str], kinds: tuple[str, ...] = ("tmp", "new", "old")) -> list[Path]:
    """What killed processes left while writing ``path``: its siblings ``.NAME.KIND-PID``.

    ``tmp`` is a file being written, ``new`` and ``old`` a run directory being replaced
    (the new one staged, the earlier one moved aside). A sibling is stale when its
    process ``PID`` no longer exists, or exists but started after the leftover was last
    modified (a busy machine gives a dead writer's number to a new process or thread
    within seconds). Those of live writers (another neyman writing the same output now)
    and of this process are not listed.
    """
    final = Path(path)
    if not final.parent.is_dir():
        return []
    prefix = f".{final.name}."
    found = []
    for sibling in final.parent.iterdir():
        kind, _, pid = sibling.name.removeprefix(prefix).partition("-")
        if not sibling.name.startswith(prefix) or kind not in kinds or not pid.isdigit():
            continue
        if int(pid) == os.getpid():
            continue
        try:
            modified = sibling.lstat().st_mtime
        except FileNotFoundError:  # another writer removed it meanwhile
            continue
        if pid_alive(int(pid)) and not _started_after(int(pid), modified):
            continue
        found.append(sibling)
    return found


def remove_stale(path: str | os.PathLike[str]) -> list[Path]:
    """Remove what killed processes left while writing ``path`` (:func:`stale_siblings`); return it.

    Parameters
    ----------
    path
        The final name of a file or folder neyman writes.
    """
    removed: list[Path] = []
    for sibling in stale_siblings(path):
        if sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)
        removed.append(sibling)
    return removed


def remove_stale_below(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that killed writers left anywhere below ``folder`` (``.NAME.tmp-PID``).

    A process killed inside a run (a tuning trial, say) leaves its half-written file
    where no later write of the same name will look; whoever resumes the work sweeps
    the folder.  Files of live writers are kept (:func:`stale_siblings`).
    """
    removed: list[Path] = []
    root = Path(folder)
    if not root.is_dir():
        return removed
    for leftover in root.rglob(".*.tmp-*"):
        target = temporary_target(leftover)
        if target is not None:
            removed += remove_stale(target)
    return removed


def temporary_target(path: str | os.PathLike[str]) -> Path | None:
    """The file a temporary name of :func:`atomic_path` (``.NAME.tmp-PID``) stands for, or None for another name."""
    file = Path(path)
    hidden, _, pid = file.name.rpartition(".tmp-")
    if not hidden.startswith(".") or len(hidden) < 2 or not pid.isdigit():
        return None
    return file.with_name(hidden[1:])


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Atomically write ``data`` as indented JSON to ``path``."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def json_sha256(data: Any) -> str:
    """The SHA-256 of a JSON value written canonically (sorted keys, no spaces), as 64 hex digits.

    The value is first passed through JSON and back, so that a record and the same
    record read from its file (:func:`write_json`) give the same digest.
    """
    value = json.loads(json.dumps(data, default=_jsonable))
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as 64 lower-case hex digits (read in 4 MiB blocks).

    Parameters
    ----------
    path
        The file.

    Raises
    ------
    OSError
        The file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def changed_files(root: str | os.PathLike[str], checksums: Mapping[str, str]) -> list[str]:
    """The files of ``checksums`` that are missing or whose bytes no longer match.

    Parameters
    ----------
    root
        The folder the names are relative to.
    checksums
        POSIX paths relative to ``root`` and the SHA-256 (:func:`file_sha256`)
        recorded when each file was written.

    Returns
    -------
    list of str
        The names, in the order of ``checksums``, whose file is missing, unreadable
        or of another SHA-256; empty when every file matches.

    Raises
    ------
    ValueError
        A name is absolute or leaves ``root`` (``..``), or a digest is not a string:
        the record itself is damaged.
    """
    changed = []
    for name, expected in checksums.items():
        parts = PurePosixPath(name).parts if isinstance(name, str) else ()
        if not parts or PurePosixPath(name).is_absolute() or ".." in parts or "\\" in name:
            raise ValueError(f"{name!r} is not a path inside the folder")
        if not isinstance(expected, str):
            raise ValueError(f"the checksum of {name!r} is not a string")
        try:
            matches = file_sha256(Path(root, *parts)) == expected.lower()
        except OSError:
            matches = False
        if not matches:
            changed.append(name)
    return changed


def finite_json(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every non-finite float replaced by its text (``"inf"``, ``"nan"``).

    JSON has no infinity or NaN; metrics such as a rejection with no background
    passing are infinite, and this keeps ``metrics.json`` valid JSON.
    """
    import math

    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out[k] = finite_json(v)
        elif isinstance(v, list):
            out[k] = [finite_json(x) if isinstance(x, dict) else x for x in v]
        elif isinstance(v, float) and not math.isfinite(v):
            out[k] = str(v)
        else:
            out[k] = v
    return out


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
