"""Export a trained run to one self-describing ONNX file.

The graph takes the RAW features and returns the scores: the fitted preprocessing
(fill of non-finite values, clip, log, standard/min-max scaling) is folded into the
graph in front of the model, so a C++ or firmware user feeds the same numbers the
input files hold.  See ``docs/deployment.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx

from neyman.atomic import atomic_path
from neyman.exceptions import ConfigError, ModelError
from neyman.export.graph import FLOAT64_HEADS, GraphBuilder, linear_ops, preprocessing_ops
from neyman.export.metadata import attach_metadata
from neyman.export.verify import verify_onnx
from neyman.preprocessing import Preprocessor
from neyman.runs import TrainedRun, load_run
from neyman.runs.guard import check_output_file

__all__ = ["OnnxExport", "build_onnx", "default_path", "export_onnx", "write_onnx"]

_MIN_OPSET = 13


DENSITY_ATOL = 1e-4
"""The check's absolute tolerance of a flow's ln p: p to 0.01% (a conditional spline flow in
float32 differs from the run's by up to 6e-5; one without condition by a few 1e-6)."""


def _output_shape(run: TrainedRun) -> list[int | str]:
    n = len(run.score_names)
    return ["batch"] if n == 1 else ["batch", n]


def _linear_scores(g: GraphBuilder, x: str, run: TrainedRun, fold: int, opset: int) -> str:
    model = run.models[fold]
    coef, intercept = getattr(model, "coef_", None), getattr(model, "intercept_", None)
    if coef is None or intercept is None:
        raise ModelError(f"the {model.family} model of {run.path} is not trained")
    return linear_ops(g, x, coef, intercept, run.task.output_head)


def _tree_scores(g: GraphBuilder, x: str, run: TrainedRun, fold: int, opset: int) -> str:
    from neyman.export.trees import tree_ops

    return tree_ops(g, x, run.models[fold], opset=opset)


def _reweighter_scores(g: GraphBuilder, x: str, run: TrainedRun, fold: int, opset: int) -> str:
    from neyman.export.trees import reweighter_ops

    return reweighter_ops(g, x, run.models[fold])


def _network_scores(g: GraphBuilder, x: str, run: TrainedRun, fold: int, opset: int) -> str:
    from neyman.export.neural import network_ops

    return network_ops(g, x, run.models[fold], opset=opset)


TABULAR_EXPORTERS = {
    "linear": _linear_scores,
    "trees": _tree_scores,
    "reweight_trees": _reweighter_scores,
    "network": _network_scores,
}
"""Builders of the scores of a tabular run's model from its preprocessed features ``x``, by
the export kind its family declares (:mod:`neyman.models.families`)."""


def build_onnx(run: TrainedRun, *, fold: int = 0, opset: int = 17) -> onnx.ModelProto:
    """Build the ONNX graph ``raw features -> scores`` of one fold of ``run``.

    Parameters
    ----------
    run
        A loaded run (:func:`neyman.runs.load_run`).
    fold
        The fold whose model and preprocessing are exported (0 without k-fold).
    opset
        ONNX default-domain opset (at least 13).
    """
    if not _MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ConfigError(f"opset must be between {_MIN_OPSET} and {onnx.defs.onnx_opset_version()}, got {opset}")
    if not 0 <= fold < len(run.models):
        raise ConfigError(f"{run.path} has {len(run.models)} fold model(s); fold {fold} does not exist")
    if run.representation is not None:
        from neyman.export.jets import jet_network_onnx

        onnx_model = jet_network_onnx(run, fold, opset)
        onnx_model.doc_string = (
            f"neyman {run.task.name} model ({run.models[fold].family}) from {run.path.name}: raw "
            f"{run.representation.to_json()['type']} inputs in (see metadata 'representation'), scores out"
        )
        return _finish(onnx_model, run, fold)
    model, preprocessor = run.models[fold], run.preprocessors[fold]
    if not isinstance(preprocessor, Preprocessor):
        raise ModelError(f"{run.path}: a tabular run needs a feature-matrix preprocessing")
    g = GraphBuilder()
    x = preprocessing_ops(g, preprocessor, fill_value=run.fill_value)
    exporter = TABULAR_EXPORTERS.get(model.export_kind)
    if exporter is None:
        raise ModelError(f"models of family {model.family!r} cannot be exported to ONNX yet")
    scores = exporter(g, x, run, fold, opset)
    doc = (
        f"neyman {run.task.name} model ({model.family}) from {run.path.name}"
        + (f", fold {fold} of {run.kfold}" if run.kfold >= 2 else "")
        + ": raw features in, scores out; the preprocessing is part of the graph."
    )
    float64 = run.task.output_head in FLOAT64_HEADS
    return _finish(g.model(scores, _output_shape(run), opset=opset, doc=doc, float64=float64), run, fold)


def _finish(onnx_model: onnx.ModelProto, run: TrainedRun, fold: int) -> onnx.ModelProto:
    """Attach the metadata and check the model."""
    attach_metadata(onnx_model, run, fold)
    try:
        onnx.checker.check_model(onnx_model, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ModelError(f"the ONNX graph built for {run.path} is invalid: {exc}") from exc
    return onnx_model


def default_path(run: TrainedRun, fold: int) -> Path:
    """``<run>/model.onnx``, or ``<run>/model_fold<k>.onnx`` for a k-fold run."""
    return run.path / (f"model_fold{fold}.onnx" if run.kfold >= 2 else "model.onnx")


@dataclass(frozen=True)
class OnnxExport:
    """A written, verified ONNX file.

    Attributes
    ----------
    path
        The file.
    max_relative_difference
        Largest relative difference between ONNX Runtime's scores and the run's
        on the check events (:func:`neyman.export.verify.verify_onnx`).
    """

    path: Path
    max_relative_difference: float


def write_onnx(
    run: TrainedRun,
    out: str | os.PathLike[str] | None = None,
    *,
    fold: int = 0,
    opset: int = 17,
    x_raw: Any = None,
    n_check: int = 1000,
    rtol: float | None = None,
    atol: float | None = None,
    force: bool = False,
) -> OnnxExport:
    """Build, verify and write the ONNX file of one fold of a loaded run.

    The graph is written under a temporary name, run with ONNX Runtime on real
    events and compared with the run's own scores, and renamed into place only
    when they agree; parameters as in :func:`export_onnx`.
    """
    if run.kfold < 2 and fold != 0:
        raise ConfigError(f"{run.path} was not trained with k-fold, so it has no fold {fold}; drop --fold")
    final = Path(out) if out is not None else default_path(run, fold)
    check_output_file(final, force=force, suffix=".onnx", what="the ONNX export", ours=_is_export, owner=run.path)
    if final.suffix.lower() != ".onnx":
        example = final.with_suffix(".onnx")
        raise ConfigError(f"--out {final}: an ONNX export's file name ends in .onnx (e.g. {example})")
    onnx_model = build_onnx(run, fold=fold, opset=opset)
    x = run.reference_inputs(n_events=n_check) if x_raw is None else x_raw
    if rtol is None:  # attention and edge convolutions sum hundreds of float32 terms per layer
        rtol = 1e-5 if run.representation is None else 1e-4
    if atol is None:  # ln p: its absolute error is p's relative one, float32 splines' 1e-5 per transform
        atol = DENSITY_ATOL if run.task.name == "density" else 1e-6
    with atomic_path(final) as tmp:
        onnx.save_model(onnx_model, str(tmp))
        diff = verify_onnx(tmp, run, x, rtol=rtol, atol=atol)
    return OnnxExport(path=final, max_relative_difference=diff)


def _is_export(path: Path) -> bool:
    """Whether ``path`` is an ONNX file neyman exported (its metadata says so)."""
    try:
        keys = {p.key for p in onnx.load_model(str(path), load_external_data=False).metadata_props}
    except Exception:  # whatever it is, it is not an export to replace
        return False
    return {"neyman_version", "task", "features"} <= keys


def export_onnx(
    run_dir: str | os.PathLike[str] | TrainedRun,
    out: str | os.PathLike[str] | None = None,
    *,
    fold: int = 0,
    opset: int = 17,
    x_raw: Any = None,
    n_check: int = 1000,
    rtol: float | None = None,
    atol: float | None = None,
    force: bool = False,
) -> Path:
    """Export a trained run to ONNX, check it against the run, and return the file.

    Parameters
    ----------
    run_dir
        A finished run directory written by :func:`neyman.train` (or the loaded run).
    out
        Output file; default ``<run_dir>/model.onnx`` (``model_fold<k>.onnx`` with k-fold).
    fold
        For a k-fold run, the fold whose model is exported (each fold's model was
        trained without the events of its fold); ignored otherwise.
    opset
        ONNX default-domain opset.
    x_raw
        Raw inputs to check the export on (feature matrix, particle arrays or
        images); by default up to ``n_check`` events read from the run's input files.
    n_check
        Events read for the check when ``x_raw`` is not given.
    rtol, atol
        Tolerances of the check (see :func:`neyman.export.verify.verify_onnx`); ``rtol``
        defaults to 1e-5 for tabular models and 1e-4 for constituent models, whose
        float32 layers sum over every pair or neighbour of a jet's particles; ``atol`` to
        1e-6, and to :data:`DENSITY_ATOL` for a density's log-density (an absolute error
        of ln p is a relative error of p).
    force
        Replace an existing ``.onnx`` file at ``out`` (any other file is never replaced,
        and nothing is written among a run's own files).

    Returns
    -------
    pathlib.Path
        The file, written only after the ONNX Runtime scores matched the run's.

    Raises
    ------
    ModelError
        The run cannot be loaded or converted, or the check failed; no file is
        left behind and an earlier file at ``out`` is untouched.
    """
    run = run_dir if isinstance(run_dir, TrainedRun) else load_run(Path(run_dir))
    return write_onnx(
        run, out, fold=fold, opset=opset, x_raw=x_raw, n_check=n_check, rtol=rtol, atol=atol, force=force
    ).path
