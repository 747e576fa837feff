"""The provenance file neyman writes beside a file it makes: ``<file>.provenance.json``.

``neyman generate`` records the process, seed and detector there, ``neyman sample`` the
run and condition, ``neyman predict`` the run and the columns it added.  Readers use it
to replace only files neyman made (``--force``) and to keep neyman's own columns out of
a later training's features.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["provenance_path", "read_provenance"]


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
