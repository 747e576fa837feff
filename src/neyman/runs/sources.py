"""The input files of a run as it remembers them: to tell later whether they are still the same.

A run records, when it starts, each input file's path, size and SHA-256
(:func:`source_records`, in ``inputs.json`` of the run directory and in the model's
metadata).  Whatever later reads those files again in the run's name (``train
--resume``, ``evaluate`` of the run's own events, another trial of a tuning study)
first asks :func:`changed_sources`: a file replaced under the same name would
otherwise mix the events of two samples in one result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neyman.atomic import file_sha256
from neyman.io import parse_source

__all__ = ["changed_sources", "source_records"]


def source_records(sources: Sequence[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """Each ``(path, tree)`` as a run remembers it.

    Returns
    -------
    list of dict
        ``path`` (as given), ``tree``, ``absolute``, ``bytes`` and ``sha256`` of the
        file (the last two None for what is not a regular file).
    """
    records = []
    for path, tree in sources:
        file = Path(parse_source(path)[0])
        regular = file.is_file()
        records.append(
            {
                "path": path,
                "tree": tree,
                "absolute": str(file.resolve()),
                "bytes": file.stat().st_size if regular else None,
                "sha256": file_sha256(file) if regular else None,
            }
        )
    return records


def changed_sources(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The recorded files whose bytes are no longer those recorded, each with what changed.

    A record without a SHA-256 (a run written before they were kept, or no regular
    file) is not judged.  The size is compared first, so that an unchanged large file
    is hashed once and a changed one usually not at all.

    Returns
    -------
    list of str
        ``"PATH (why)"`` for each changed file; empty when all are the same.
    """
    changed = []
    for record in records:
        digest = record.get("sha256")
        if not digest:
            continue
        path = str(record.get("path"))
        file = Path(record["absolute"]) if record.get("absolute") else Path(parse_source(path)[0])
        if not file.is_file():
            changed.append(f"{path} (missing)")
        elif file.stat().st_size != record.get("bytes"):
            changed.append(f"{path} ({record.get('bytes')} bytes then, {file.stat().st_size} now)")
        elif file_sha256(file) != digest:
            changed.append(f"{path} (same size, other bytes: SHA-256 {digest[:12]}… then)")
    return changed
