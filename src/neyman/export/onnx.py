"""Export a trained run to one self-describing ONNX file.

The graph takes the RAW features and returns the scores: the fitted preprocessing
(fill of non-finite values, clip, log, standard/min-max scaling) is folded into the
graph in front of the model, so a C++ or firmware user feeds the same numbers the
input files hold.  See ``docs/deployment.md``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnx

from neyman.exceptions import ConfigError, ModelError
from neyman.export.graph import INPUT, OUTPUT, GraphBuilder, linear_ops, preprocessing_ops
from neyman.preprocessing import Preprocessor

if TYPE_CHECKING:
    from neyman.workflows.artifacts import TrainedRun

__all__ = ["METADATA_KEYS", "build_onnx", "export_onnx", "read_metadata"]

METADATA_KEYS = (
    "neyman_version",
    "family",
    "task",
    "features",
    "classes",
    "score_names",
    "preprocessing",
    "fill_value",
    "kfold",
    "fold",
    "input",
    "inputs",
    "representation",
    "inference_batch_size",
    "output",
    "config",
)
"""Keys of ``model.metadata_props``; lists and mappings are JSON strings."""

_MIN_OPSET = 13


def _output_shape(run: TrainedRun) -> list[int | str]:
    n = len(run.score_names)
    return ["batch"] if n == 1 else ["batch", n]


def build_onnx(run: TrainedRun, *, fold: int = 0, opset: int = 17) -> onnx.ModelProto:
    """Build the ONNX graph ``raw features -> scores`` of one fold of ``run``.

    Parameters
    ----------
    run
        A loaded run (:func:`neyman.workflows.artifacts.load_run`).
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
    if model.family in ("fisher", "logistic"):
        coef, intercept = getattr(model, "coef_", None), getattr(model, "intercept_", None)
        if coef is None or intercept is None:
            raise ModelError(f"the {model.family} model of {run.path} is not trained")
        scores = linear_ops(g, x, coef, intercept, run.task.name)
    elif model.family in ("xgboost", "lightgbm"):
        from neyman.export.trees import tree_ops

        scores = tree_ops(g, x, model, opset=opset)
    elif hasattr(model, "network"):
        from neyman.export.neural import network_ops

        scores = network_ops(g, x, model, opset=opset)
    else:
        raise ModelError(f"models of family {model.family!r} cannot be exported to ONNX yet")
    doc = (
        f"neyman {run.task.name} model ({model.family}) from {run.path.name}"
        + (f", fold {fold} of {run.kfold}" if run.kfold >= 2 else "")
        + ": raw features in, scores out; the preprocessing is part of the graph."
    )
    return _finish(g.model(scores, _output_shape(run), opset=opset, doc=doc), run, fold)


def _finish(onnx_model: onnx.ModelProto, run: TrainedRun, fold: int) -> onnx.ModelProto:
    """Attach the metadata and check the model."""
    _set_metadata(onnx_model, run, fold)
    try:
        onnx.checker.check_model(onnx_model, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ModelError(f"the ONNX graph built for {run.path} is invalid: {exc}") from exc
    return onnx_model


def _set_metadata(onnx_model: onnx.ModelProto, run: TrainedRun, fold: int) -> None:
    from neyman import __version__

    config = run.path / "config.yaml"
    values: dict[str, Any] = {
        "neyman_version": __version__,
        "family": run.models[fold].family,
        "task": run.task.name,
        "features": run.features,
        "classes": run.classes,
        "score_names": run.score_names,
        "preprocessing": run.preprocessors[fold].to_json(),
        "fill_value": run.fill_value,
        "kfold": run.kfold,
        "fold": fold,
        "input": input_names(run)[0],
        "inputs": input_names(run),
        "representation": {"type": "tabular"} if run.representation is None else run.representation.to_json(),
        "inference_batch_size": run.models[fold].inference_batch_size,
        "output": OUTPUT,
        "config": config.read_text(encoding="utf-8") if config.is_file() else "",
    }
    for key in METADATA_KEYS:
        value = values[key]
        text = value if isinstance(value, str) else json.dumps(value)
        onnx_model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=text))


def input_names(run: TrainedRun) -> list[str]:
    """Names of the exported graph's inputs."""
    if run.representation is None:
        return [INPUT]
    from neyman.export.jets import jet_input_names

    return jet_input_names(run)


def read_metadata(onnx_model: onnx.ModelProto) -> dict[str, Any]:
    """The neyman metadata of an exported model, JSON values decoded."""
    raw = {p.key: p.value for p in onnx_model.metadata_props}
    return decode_metadata(raw)


def decode_metadata(raw: dict[str, str]) -> dict[str, Any]:
    """Decode the ``metadata_props`` strings written by :func:`export_onnx`."""
    if "task" not in raw or "features" not in raw:
        raise ModelError("the ONNX file carries no neyman metadata (task, features); was it exported by neyman?")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("config", "input", "output", "task", "family", "neyman_version"):
            out[key] = value
        else:
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
    return out


def default_path(run: TrainedRun, fold: int) -> Path:
    """``<run>/model.onnx``, or ``<run>/model_fold<k>.onnx`` for a k-fold run."""
    return run.path / (f"model_fold{fold}.onnx" if run.kfold >= 2 else "model.onnx")


@contextlib.contextmanager
def _temporary(final: Path) -> Iterator[Path]:
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def export_onnx(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    fold: int = 0,
    opset: int = 17,
    x_raw: Any = None,
    n_check: int = 1000,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> Path:
    """Export a trained run to ONNX, check it against the run, and return the file.

    Parameters
    ----------
    run_dir
        A finished run directory written by :func:`neyman.train`.
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
        Tolerances of the check (see :func:`neyman.export.verify.verify_onnx`).

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
    from neyman.export.verify import reference_inputs, verify_onnx
    from neyman.workflows.artifacts import load_run

    run = load_run(Path(run_dir))
    fold = fold if run.kfold >= 2 else 0
    onnx_model = build_onnx(run, fold=fold, opset=opset)
    final = Path(out) if out is not None else default_path(run, fold)
    x = reference_inputs(run, n_events=n_check) if x_raw is None else x_raw
    with _temporary(final) as tmp:
        onnx.save_model(onnx_model, str(tmp))
        verify_onnx(tmp, run, x, rtol=rtol, atol=atol)
    return final
