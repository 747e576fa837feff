"""``neyman export``: a run directory to a verified, self-describing ONNX file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from neyman.exceptions import ConfigError

__all__ = ["ExportResult", "export"]


@dataclass(frozen=True)
class ExportResult:
    """The written file and its measured agreement with the run."""

    path: Path
    max_relative_difference: float
    uncertainty_left_out: tuple[str, ...] = ()
    """The run's model-uncertainty columns, which the graph does not compute (``neyman predict RUN`` does)."""


def export(
    run: str | os.PathLike[str],
    *,
    format: str = "onnx",
    out: str | os.PathLike[str] | None = None,
    fold: int = 0,
    opset: int = 17,
    force: bool = False,
) -> ExportResult:
    """Export a run's model with its preprocessing folded in, verified before it is written.

    The file is reported written only after ONNX Runtime reproduced the run's
    scores on real input events to 1e-5 (relative); a mismatch is an error and
    leaves no file behind (an earlier file of the same name stays intact).  An
    existing file is replaced only with ``force`` and only if it is an ``.onnx``
    file; nothing is written among the run's own files.
    """
    if format != "onnx":
        raise ConfigError(f"unknown export format {format!r}; neyman exports 'onnx'")
    from neyman.export.onnx import write_onnx
    from neyman.runs import load_run

    target = None if out is None else Path(out)
    trained = load_run(Path(run))
    written = write_onnx(trained, target, fold=fold, opset=opset, force=force)
    return ExportResult(written.path, written.max_relative_difference, tuple(trained.uncertainty_names))
