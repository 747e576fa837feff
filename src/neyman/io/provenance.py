"""The provenance file neyman writes beside a file it makes: ``<file>.provenance.json``.

``neyman generate`` records the process, seed and detector there, ``neyman sample`` the
run and condition, ``neyman predict`` the run and the columns it added, and each the size
and SHA-256 of the file as written.  Readers use it to replace only files neyman made and
nobody changed since (``--force``, :func:`current_provenance`) and to keep neyman's own
columns out of a later training's features.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from neyman.atomic import file_sha256, write_json

__all__ = ["current_provenance", "provenance_path", "read_provenance", "write_provenance"]


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

    Call it once ``out`` is complete: the checksum is what :func:`current_provenance`
    later compares the file with.
    """
    file = Path(out)
    return write_json(
        provenance_path(file), {**record, "file": {"bytes": file.stat().st_size, "sha256": file_sha256(file)}}
    )


def current_provenance(out: str | os.PathLike[str]) -> dict[str, Any]:
    """The provenance of ``out`` while it still describes the file: empty otherwise.

    Empty when there is none, when ``out`` was changed or replaced since neyman wrote it
    (another size or SHA-256), or when the record predates the checksums.  ``--force``
    replaces a file only when this holds the command that may replace it: a user's own
    file written over a neyman output, with the old provenance left beside it, is kept.
    """
    record = read_provenance(out)
    written = record.get("file")
    file = Path(out)
    if not isinstance(written, dict) or not file.is_file() or file.stat().st_size != written.get("bytes"):
        return {}
    return record if file_sha256(file) == written.get("sha256") else {}
