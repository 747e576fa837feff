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


def export(
    run: str | os.PathLike[str],
    *,
    format: str = "onnx",
    out: str | os.PathLike[str] | None = None,
    fold: int = 0,
    opset: int = 17,
) -> ExportResult:
    """Export a run's model with its preprocessing folded in, verified before it is written.

    The file is reported written only after ONNX Runtime reproduced the run's
    scores on real input events to 1e-5 (relative); a mismatch is an error and
    leaves no file behind (an earlier file of the same name stays intact).
    """
    if format != "onnx":
        raise ConfigError(f"unknown export format {format!r}; neyman exports 'onnx'")
    from neyman.export import export_onnx, verify_onnx
    from neyman.export.verify import reference_inputs
    from neyman.workflows.artifacts import load_run

    path = export_onnx(Path(run), None if out is None else Path(out), fold=fold, opset=opset)
    trained = load_run(Path(run))
    diff = verify_onnx(path, trained, reference_inputs(trained))
    return ExportResult(path=path, max_relative_difference=diff)
