"""Check an exported ONNX model against the run it came from, on real events."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from neyman.exceptions import ModelError
from neyman.export.metadata import read_metadata
from neyman.export.runtime import onnx_session
from neyman.preprocessing import check_finite
from neyman.runs import TrainedRun, as_model_input, load_run

__all__ = ["fold_scores", "verify_onnx"]


def fold_scores(run: TrainedRun, x_raw: Any, fold: int) -> np.ndarray:
    """Scores of the model of ``fold`` on raw inputs, as :meth:`TrainedRun.score` forms them."""
    if run.representation is None:
        x_raw = check_finite(np.asarray(x_raw, dtype=np.float64), run.features, fill_value=run.fill_value, trained=True)
    return run.models[fold].predict(as_model_input(run.preprocessors[fold].transform(x_raw)))


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
        An entry agrees when ``|onnx - run| <= atol + rtol * s``, with
        ``s = max(|run|, 0.01 max_column |run|)``: float32 networks round relative to
        the range of their output, so a value near zero is judged on that range.

    Returns
    -------
    float
        The largest relative difference ``|onnx - run| / s`` over the entries with
        ``s > atol``.

    Raises
    ------
    ModelError
        The scores disagree (the message gives the largest relative and absolute
        differences), or the file cannot be run.
    """
    import onnx

    run = run_dir if isinstance(run_dir, TrainedRun) else load_run(Path(run_dir))
    meta = read_metadata(onnx.load(str(path), load_external_data=False))
    if meta["features"] != run.features or meta["task"] != run.task.name:
        raise ModelError(f"{path} was not exported from {run.path} (features or task differ)")
    fold = int(meta.get("fold", 0))
    session = onnx_session(path)
    if run.representation is None:
        # the graph takes float32: the run is judged on the same rounded inputs
        feeds = {meta["input"]: np.asarray(x_raw, dtype=np.float32)}
        x_raw = feeds[meta["input"]].astype(np.float64)
    else:
        from neyman.export.metadata import float32_inputs

        feeds = float32_inputs(x_raw, session)
    expected = fold_scores(run, x_raw, fold)
    got = np.asarray(session.run(None, feeds)[0], dtype=np.float64)
    if got.shape != expected.shape:
        raise ModelError(f"{path} returns scores of shape {got.shape}; the run gives {expected.shape}")
    diff = np.abs(got - expected)
    # float32 networks round relative to their output's range, not to each value: a regression
    # output that happens to cross zero is compared on 1% of the largest output of its column
    scale = np.maximum(np.abs(expected), 1e-2 * np.max(np.abs(expected), axis=0, initial=0.0))
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
