"""The provenance file neyman writes beside a file it makes: ``<file>.provenance.json``.

``neyman generate`` records the process, seed and detector there, ``neyman sample`` the
run and condition, ``neyman predict`` the run and the columns it added, and each the size
and SHA-256 of the file as written.  Readers use it to replace only files neyman made and
nobody changed since (``--force``, :func:`not_replaceable`) and to keep neyman's own
columns out of a later training's features.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neyman.atomic import file_sha256, write_json
from neyman.exceptions import DataError

__all__ = ["not_replaceable", "provenance_path", "read_provenance", "refuse_foreign_provenance", "write_provenance"]


def provenance_path(out: str | os.PathLike[str]) -> Path:
    """Where the provenance of a file neyman writes goes: ``<file>.provenance.json``."""
    path = Path(out)
    return path.with_name(path.name + ".provenance.json")


def read_provenance(out: str | os.PathLike[str]) -> dict[str, Any]:
    """The record in ``<out>.provenance.json``: empty when there is none or it is not a JSON object."""
    try:
        record = json.loads(provenance_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_provenance(out: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Write ``record`` to ``<out>.provenance.json`` (atomically), with ``out``'s size and SHA-256 as ``file``.

    Call it once ``out`` is complete: the checksum is what :func:`not_replaceable`
    later compares the file with.
    """
    file = Path(out)
    return write_json(
        provenance_path(file), {**record, "file": {"bytes": file.stat().st_size, "sha256": file_sha256(file)}}
    )


def not_replaceable(out: str | os.PathLike[str], written_by: Callable[[dict[str, Any]], bool]) -> str:
    """Why ``--force`` may not replace ``out``: empty when it may.

    ``out`` may be replaced when its provenance says ``written_by`` wrote it and still
    describes it: the size and SHA-256 recorded when it was written are the file's now.
    A user's own file saved over a neyman output, with the old provenance left beside
    it, is not replaceable.

    Returns
    -------
    str
        ``""``, or the reason in words (``"changed since neyman wrote it"``, ...).
    """
    record = read_provenance(out)
    if record and not written_by(record):
        return f"its provenance says {record.get('command') or 'another neyman command'} wrote it"
    if not record:
        return "no provenance of it"
    written = record.get("file")
    if not isinstance(written, dict):
        return "its provenance predates neyman's checksums of the file"
    file = Path(out)
    if not file.is_file() or file.stat().st_size != written.get("bytes") or file_sha256(file) != written.get("sha256"):
        return "changed since neyman wrote it"
    return ""


def refuse_foreign_provenance(
    out: str | os.PathLike[str], written_by: Callable[[dict[str, Any]], bool], command: str, option: str
) -> None:
    """Refuse to write ``out`` when ``<out>.provenance.json`` exists and ``written_by`` did not write it.

    Call it before any work: the provenance is written last, beside the finished ``out``,
    and a user's own file of that name (notes, another tool's record) must survive.

    Raises
    ------
    DataError
        Naming the file, the command that writes there and the option to change.
    """
    side = provenance_path(out)
    try:
        exists = side.exists()
    except OSError as exc:  # a name the file system takes, but not with the provenance's suffix
        raise DataError(
            f"{out}: neyman writes its provenance beside it as {side.name}, which the file system refuses "
            f"({exc.strerror}): choose a shorter {option}"
        ) from None
    if exists and not written_by(read_provenance(out)):
        raise DataError(
            f"{side} exists and was not written by {command}, which writes the provenance of {Path(out).name} "
            f"there: choose another {option}, or move that file"
        )
