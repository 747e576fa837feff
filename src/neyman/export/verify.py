"""Check an exported ONNX model against the run it came from, on real events."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neyman.exceptions import DataError, ModelError
from neyman.preprocessing import check_finite

if TYPE_CHECKING:
    from neyman.workflows.artifacts import TrainedRun

__all__ = ["fold_scores", "reference_inputs", "verify_onnx"]


def fold_scores(run: TrainedRun, x_raw: Any, fold: int) -> np.ndarray:
    """Scores of the model of ``fold`` on raw inputs, as :meth:`TrainedRun.score` forms them."""
    from neyman.workflows.inputs import as_model_input

    if run.representation is None:
        x_raw = check_finite(np.asarray(x_raw, dtype=np.float64), run.features, fill_value=run.fill_value)
    return run.models[fold].predict(as_model_input(run.preprocessors[fold].transform(x_raw)))


def reference_inputs(run: TrainedRun, *, n_events: int = 1000) -> Any:
    """Up to ``n_events`` raw inputs from the run's input files (spread over the sources).

    A feature matrix for tabular runs (rows with non-finite values are dropped
    when the run has no ``fill_value``: the run itself refuses them), particle
    arrays or images for constituent-based runs.
    """
    import yaml

    from neyman import io

    try:
        config = yaml.safe_load((run.path / "config.yaml").read_text(encoding="utf-8")) or {}
        sources = list(config["data"]["sources"])
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(
            f"cannot find the input files of {run.path} in its config.yaml ({exc}); pass x_raw= to check the export"
        ) from exc
    per_source = max(1, math.ceil(n_events / max(len(sources), 1)))
    columns = run.features if run.representation is None else run.representation.columns
    parts = []
    tables = []
    for source in sources:
        try:
            table = io.read(source["path"], tree=source.get("tree"), columns=columns, entry_stop=per_source)
        except (DataError, OSError, KeyError, TypeError) as exc:
            raise ModelError(
                f"cannot read events of {source.get('path')!r} to check the ONNX export ({exc}); "
                "pass x_raw= with a few raw events"
            ) from exc
        if run.representation is not None:
            tables.append(table)
            continue
        parts.append(table.to_numpy(run.features, dtype=np.float64))
    if run.representation is not None:
        from neyman.representations import build_inputs
        from neyman.table import Table

        return build_inputs(Table.concat(tables), run.representation)[:n_events]
    x = np.concatenate(parts) if parts else np.empty((0, len(run.features)))
    if run.fill_value is None:
        x = x[np.isfinite(x).all(axis=1)]
    if not len(x):
        raise ModelError(f"the input files of {run.path} gave no events to check the ONNX export on; pass x_raw=")
    return x[:n_events]


def _session(path: str | os.PathLike[str]) -> Any:
    from neyman._optional import require

    ort = require("onnxruntime", purpose="run ONNX models")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # warnings about shape annotations of unused tree outputs
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped exceptions
        raise ModelError(f"ONNX Runtime cannot load {path}: {exc}") from exc


def verify_onnx(
    path: str | os.PathLike[str],
    run_dir: str | os.PathLike[str] | TrainedRun,
    x_raw: Any,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> float:
    """Run the ONNX file with ONNX Runtime and compare it to the run's scores.

    Parameters
    ----------
    path
        The exported ONNX file.
    run_dir
        The run it was exported from (or the loaded run).
    x_raw
        Raw inputs of real events: feature matrix ``(n_events, n_features)``, or
        particle arrays / images for constituent-based runs.
    rtol, atol
        An entry agrees when ``|onnx - run| <= atol + rtol * |run|``.

    Returns
    -------
    float
        The largest relative difference ``|onnx - run| / |run|`` over the entries
        with ``|run| > atol``.

    Raises
    ------
    ModelError
        The scores disagree (the message gives the largest relative and absolute
        differences), or the file cannot be run.
    """
    import onnx

    from neyman.export.onnx import read_metadata
    from neyman.workflows.artifacts import TrainedRun, load_run

    run = run_dir if isinstance(run_dir, TrainedRun) else load_run(Path(run_dir))
    meta = read_metadata(onnx.load(str(path), load_external_data=False))
    if meta["features"] != run.features or meta["task"] != run.task.name:
        raise ModelError(f"{path} was not exported from {run.path} (features or task differ)")
    fold = int(meta.get("fold", 0))
    expected = fold_scores(run, x_raw, fold)
    if run.representation is None:
        feeds = {meta["input"]: np.asarray(x_raw, dtype=np.float32)}
    else:
        from neyman.export.jets import float32_inputs

        feeds = float32_inputs(x_raw)
    got = np.asarray(_session(path).run(None, feeds)[0], dtype=np.float64)
    if got.shape != expected.shape:
        raise ModelError(f"{path} returns scores of shape {got.shape}; the run gives {expected.shape}")
    diff = np.abs(got - expected)
    scale = np.abs(expected)
    big = scale > atol
    max_rel = float(np.max(diff[big] / scale[big])) if big.any() else 0.0
    bad = ~(diff <= atol + rtol * scale)
    if bad.any():
        raise ModelError(
            f"the ONNX export {Path(path).name} of {run.path} does not reproduce the run's scores: "
            f"{int(bad.sum())} of {bad.size} values differ beyond rtol={rtol:g}, atol={atol:g} "
            f"(max relative difference {max_rel:.3g}, max absolute difference {float(diff.max()):.3g})"
        )
    return max_rel
