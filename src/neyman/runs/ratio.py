"""A reweighting run's record: how its classifier's score becomes a weight (``reweighting.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neyman.atomic import file_sha256, write_json
from neyman.exceptions import RunDirectoryError
from neyman.reweighting import PositiveWeights, RatioWeights
from neyman.runs.directory import RunDirectory

__all__ = ["RATIO_FILE", "WeightMap", "read_ratio_weights", "write_ratio_weights"]

WeightMap = RatioWeights | PositiveWeights
"""How a reweighting run's model output becomes a weight: a classifier's score
(``p_T/p_S``) or a regressed mean weight (positive weights)."""

RATIO_FILE = "reweighting.json"
"""Written by ``neyman reweight`` beside the run's model."""


def write_ratio_weights(run: RunDirectory, weights: WeightMap, record: dict[str, Any]) -> Path:
    """Write ``reweighting.json``: the output-to-weight map and the reweighting's numbers.

    The record carries the SHA-256 of the run's ``model/metadata.json``, so a run
    trained again over the same directory never uses a stale map.
    """
    out = {"weights": weights.to_json(), "metadata_sha256": file_sha256(run.metadata), **record}
    return write_json(run.path / RATIO_FILE, out)


def read_ratio_weights(path: str | Path) -> tuple[WeightMap, dict[str, Any]] | None:
    """The output-to-weight map and record of a reweighting run; ``None`` for other runs.

    Raises
    ------
    RunDirectoryError
        ``reweighting.json`` is damaged or belongs to an earlier training of the directory.
    """
    run = RunDirectory(Path(path))
    f = run.path / RATIO_FILE
    if not f.is_file():
        return None
    try:
        record = json.loads(f.read_text(encoding="utf-8"))
        kind = PositiveWeights if record["weights"].get("kind") == "positive" else RatioWeights
        weights: WeightMap = kind.from_json(record["weights"], where=str(f))
        stored = record["metadata_sha256"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RunDirectoryError(f"{f} is damaged ({exc}); run neyman reweight again") from None
    if not run.metadata.is_file() or stored != file_sha256(run.metadata):
        raise RunDirectoryError(
            f"{f} was written for another training of {run.path} (model/metadata.json changed since); "
            "run neyman reweight again"
        )
    return weights, record
