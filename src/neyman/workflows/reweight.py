"""``neyman reweight``: weights ``p_target / p_source`` for a source sample, learned by a classifier.

The reweighter is a k-fold binary run (source = class 0, target = class 1, equal
class totals) written by :func:`neyman.train`, so its report, export and
``neyman predict`` come with it; this workflow adds the map from score to weight
(``reweighting.json``), the source's out-of-fold weights (``weights.parquet``) and
the closure report (``reweighting.html``).

With ``positive`` the run is instead a k-fold regression of a sample's signed event
weight; the regressed mean weight, normalised, replaces the signed weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.atomic import finite_json
from neyman.config import refuse_owned_overrides
from neyman.exceptions import ConfigError, DataError
from neyman.models.families import ratio_model
from neyman.runs import RunDirectory, WeightMap, write_ratio_weights
from neyman.table import EVENT_ID, LABEL, WEIGHT, Table
from neyman.workflows.steps.data import SOURCE
from neyman.workflows.steps.reweighting import (
    OWNED_KEYS,
    check_closure,
    check_coverage,
    check_fold_events,
    check_numeric,
    checked_weights,
    column_matrix,
    compare_columns,
    default_features,
    file_columns,
    weights_table,
    write_closure_report,
)
from neyman.workflows.train import train

__all__ = ["ReweightResult", "reweight"]


@dataclass(frozen=True)
class ReweightResult:
    """What a reweighting produced.

    Attributes
    ----------
    run_dir
        The run directory (a k-fold classifier run with the reweighting files).
    summary
        The content of ``reweighting.json``: the calibration, the clipping, the
        effective sample size, the two-sample AUCs and every variable's χ²/ndf.
    report
        ``reweighting.html``.
    seconds
        Wall time.
    """

    run_dir: Path
    summary: dict[str, Any]
    report: Path
    seconds: float


@dataclass(frozen=True)
class _Inputs:
    source: tuple[str, str | None]
    target: tuple[str, str | None]
    features: list[str]
    check: list[str]
    weight: str | None


def _checked_inputs(
    source: str, target: str, features: Sequence[str], check: Sequence[str], weight: str | None, kfold: int
) -> _Inputs:
    """The two files, the features and the closure variables, checked before anything is written."""
    src, tgt = io.parse_source(str(source)), io.parse_source(str(target))
    cols = {"source": file_columns(*src, "source"), "target": file_columns(*tgt, "target")}
    if not features:
        only = sorted((set(cols["source"]) ^ set(cols["target"])) - {weight})
        if only:
            raise DataError(
                f"source {src[0]} and target {tgt[0]} have different columns ({', '.join(only[:8])} in one only); "
                "name the columns to reweight in with --features"
            )
        features = default_features(src, cols["source"], {weight, *check})
    for role, path in (("source", src[0]), ("target", tgt[0])):
        for kind, names in (("--features", features), ("--check", check), ("--weight", [weight] if weight else [])):
            missing = [c for c in names if c not in cols[role]]
            if missing:
                raise DataError(f"{role} {path} has no column {missing[0]!r} (given in {kind}); it has {cols[role]}")
        tree = src[1] if role == "source" else tgt[1]
        check_numeric((path, tree), {"a feature": list(features), "a --check variable": list(check)}, role)
        if weight:
            checked_weights(path, tree, weight, role)
        check_fold_events((path, tree), kfold, f"{role} {path}", "reweighting")
    twice = sorted(set(features) & set(check))
    if twice:
        raise ConfigError(f"{twice[0]!r} is both a feature and a --check variable; closure needs unused variables")
    check_coverage(src, tgt, list(features))
    return _Inputs(src, tgt, list(features), list(check), weight)


def _event_weights(inputs: _Inputs, role: str, n: int) -> np.ndarray:
    path, tree = inputs.source if role == "source" else inputs.target
    return np.ones(n) if inputs.weight is None else checked_weights(path, tree, inputs.weight, role)


def _config(
    inputs: _Inputs, model: str, kfold: int, seed: int, name: str, output_dir: str, *, two_samples: bool
) -> dict[str, Any]:
    def source(where: tuple[str, str | None], label: str) -> dict[str, Any]:
        return {"path": where[0], "tree": where[1], "label": label}

    return {
        "name": name,
        "output_dir": output_dir,
        "seed": seed,
        "data": {
            "sources": [source(inputs.source, "source"), source(inputs.target, "target")],
            "classes": ["source", "target"],
            "features": inputs.features,
            "weight": inputs.weight,
        },
        "task": {"type": "binary", "balance_classes": True},
        "model": ratio_model(model, two_samples=two_samples),
        "split": {"kfold": kfold},
    }


def _calibrated(run: RunDirectory, calibrate: bool, clip_quantile: float | None) -> tuple[Any, Any, Table]:
    """The score-to-weight map fitted on the out-of-fold scores, and the source events' predictions."""
    from neyman.reweighting import fit_ratio_weights

    preds = io.read(run.predictions)
    ratio, clip = fit_ratio_weights(
        np.asarray(preds["score"]),
        np.asarray(preds[LABEL]),
        np.asarray(preds[WEIGHT]),
        calibrate=calibrate,
        clip_quantile=clip_quantile,
    )
    return ratio, clip, preds.take(np.asarray(preds[SOURCE]) == 0)


def _closure(inputs: _Inputs, weights: np.ndarray, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every variable's histograms and χ²/ndf before and after, and the two-sample AUCs."""
    from neyman.metrics import effective_sample_size
    from neyman.reweighting import two_sample_auc

    columns = inputs.features + inputs.check
    xs, xt = column_matrix(inputs.source, columns), column_matrix(inputs.target, columns)
    ws, wt = _event_weights(inputs, "source", len(xs)), _event_weights(inputs, "target", len(xt))
    if len(weights) != len(xs):
        raise DataError(f"source {inputs.source[0]} changed while it was reweighted ({len(xs)} events now)")
    samples = [("source", xs, ws), ("reweighted source", xs, ws * weights), ("target", xt, wt)]
    comparisons, chi2 = compare_columns(columns, samples, ("source", "target"))
    nf = len(inputs.features)
    numbers = {
        "n_source": len(xs),
        "n_target": len(xt),
        "effective_sample_size": effective_sample_size(ws * weights),
        "effective_sample_fraction": effective_sample_size(ws * weights) / max(effective_sample_size(ws), 1e-300),
        "two_sample_auc_before": two_sample_auc(xs[:, :nf], xt[:, :nf], ws, wt, seed=seed),
        "two_sample_auc_after": two_sample_auc(xs[:, :nf], xt[:, :nf], ws * weights, wt, seed=seed),
        "chi2_per_ndf": chi2,
    }
    return numbers, comparisons


def _positive_closure(
    inputs: _Inputs, signed: np.ndarray, positive: np.ndarray
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every variable's histograms with the signed and the positive weights, and the sample sizes."""
    from neyman.metrics import effective_sample_size

    columns = inputs.features + inputs.check
    x = column_matrix(inputs.source, columns)
    if len(x) != len(signed):
        raise DataError(f"{inputs.source[0]} changed while its weights were made positive ({len(x)} events now)")
    samples = [("events, no weights", x, None), ("positive weights", x, positive), ("signed weights", x, signed)]
    comparisons, chi2 = compare_columns(columns, samples, ("events, no weights", "signed weights"))
    ess = effective_sample_size(signed), effective_sample_size(positive)
    numbers = {
        "n_events": len(x),
        "effective_sample_size_signed": ess[0],
        "effective_sample_size_positive": ess[1],
        "effective_sample_gain": ess[1] / max(ess[0], 1e-300),
        "chi2_per_ndf": chi2,
    }
    return numbers, comparisons


def _ratio_report(run: RunDirectory, numbers: dict[str, Any], comparisons: dict[str, Any], w: np.ndarray) -> Path:
    rows = [[k, numbers[k]] for k in ("n_source", "n_target", "effective_sample_size", "effective_sample_fraction")]
    rows += [[k, numbers[k]] for k in ("two_sample_auc_before", "two_sample_auc_after")]
    rows += [[f"clipping: {k}", v] for k, v in numbers["clipping"].items()]
    text = (
        "w = p_target/p_source of every source event, from the model that did not train on it. "
        "A two-sample AUC near 0.5 after reweighting means a fresh classifier cannot tell the samples apart.",
        "'before' compares the source with the target, 'after' the reweighted source.",
    )
    return write_closure_report(run, rows, numbers, comparisons, w, text)


def _positive_report(run: RunDirectory, numbers: dict[str, Any], comparisons: dict[str, Any], w: np.ndarray) -> Path:
    keys = ("n_events", "effective_sample_size_signed", "effective_sample_size_positive", "effective_sample_gain")
    rows = [[k, numbers[k]] for k in keys] + [[f"floor: {k}", v] for k, v in numbers["floor"].items()]
    text = (
        "Each event's weight is the mean weight around it, E[w|x], regressed by the model that did not "
        "train on the event and normalised to the original total. (Σw)²/Σw² is the effective sample size.",
        "'before' compares the events without weights with the signed sample, 'after' the positive weights; "
        "both should agree with the signed sample within its statistical uncertainty.",
    )
    return write_closure_report(run, rows, numbers, comparisons, w, text)


def _checked_positive(
    path: str, features: Sequence[str], check: Sequence[str], weight: str | None, kfold: int
) -> _Inputs:
    """The file with signed weights, its features and closure variables, checked before anything is written."""
    if weight is None:
        raise ConfigError("--positive needs --weight COLUMN: the signed event weights to make positive")
    where = io.parse_source(str(path))
    cols = file_columns(*where, "--positive")
    named = {"--weight": [weight], "--features": list(features), "--check": list(check)}
    for kind, names in named.items():
        missing = [c for c in names if c not in cols]
        if missing:
            raise DataError(f"{where[0]} has no column {missing[0]!r} (given in {kind}); it has {cols}")
    features = list(features) or default_features(where, cols, {weight, *check})
    check_numeric(where, {"a feature": features, "a --check variable": list(check)}, "--positive")
    if weight in features:
        raise ConfigError(f"the weight column {weight!r} cannot also be a feature")
    check_fold_events(where, kfold, where[0], "regression of its weights")
    checked_weights(where[0], where[1], weight, "--positive")
    twice = sorted(set(features) & set(check))
    if twice:
        raise ConfigError(f"{twice[0]!r} is both a feature and a --check variable; closure needs unused variables")
    return _Inputs(where, where, features, list(check), weight)


_Written = tuple[RunDirectory, dict[str, Any], Path]


def _finish(
    run: RunDirectory,
    inputs: _Inputs,
    weighted: tuple[WeightMap, np.ndarray, np.ndarray],
    closure: Callable[[], tuple[dict[str, Any], dict[str, Any]]],
    extra: dict[str, Any],
    report: Callable[[RunDirectory, dict[str, Any], dict[str, Any], np.ndarray], Path],
) -> _Written:
    """Write the weight map, ``weights.parquet``, the closure and the report; a failure marks the run failed."""
    mapping, ids, weights = weighted
    try:
        write_ratio_weights(run, mapping, {"features": inputs.features})
        io.write(weights_table(inputs.source, ids, weights), run.path / "weights.parquet")
        numbers, comparisons = closure()
        numbers.update(weights=mapping.to_json(), features=inputs.features, check=inputs.check, **extra)
        summary = finite_json(numbers)
        write_ratio_weights(run, mapping, summary)
        return run, summary, report(run, numbers, comparisons, weights)
    except BaseException as exc:
        run.set_status("failed", error=f"{type(exc).__name__}: {exc}")
        raise


def _positive(inputs: _Inputs, cfg: dict[str, Any], overrides: Sequence[str], force: bool, floor: float) -> _Written:
    """Regress the signed weight k-fold, then write the positive weights and their closure."""
    from neyman.reweighting import fit_positive_weights

    path, tree = inputs.source
    source = {"path": path, "tree": tree}
    cfg["data"].update(sources=[source], target=inputs.weight, weight=None, classes=None)
    cfg["task"] = {"type": "regression"}
    run = RunDirectory(train(cfg, overrides=overrides, force=force, made_by="reweight").run_dir)
    preds = io.read(run.predictions)
    preds = preds.take(np.argsort(np.asarray(preds[EVENT_ID]), kind="stable"))
    signed = _event_weights(inputs, "source", len(preds))
    mapping, floored = fit_positive_weights(np.asarray(preds["prediction"]), signed, floor_fraction=floor)
    weights = mapping(np.asarray(preds["prediction"]))
    ids = np.asarray(preds[EVENT_ID])
    closure = partial(_positive_closure, inputs, signed, weights)
    return _finish(run, inputs, (mapping, ids, weights), closure, {"floor": floored.__dict__}, _positive_report)


def _ratio(
    inputs: _Inputs, cfg: dict[str, Any], overrides: Sequence[str], force: bool, opts: tuple[bool, float | None, int]
) -> _Written:
    """Train the source-vs-target classifier k-fold, then write the weights and their closure."""
    calibrate, clip_quantile, seed = opts
    run = RunDirectory(train(cfg, overrides=overrides, force=force, made_by="reweight").run_dir)
    ratio, clip, preds = _calibrated(run, calibrate, clip_quantile)
    weights = ratio(np.asarray(preds["score"]))
    ids = np.asarray(preds[EVENT_ID])
    closure = partial(_closure, inputs, weights, seed)
    written = _finish(run, inputs, (ratio, ids, weights), closure, {"clipping": clip.__dict__}, _ratio_report)
    check_closure(written[1])
    return written


def _check_numbers(kfold: int, clip_quantile: float | None, floor_fraction: float) -> None:
    """Refuse folds, a clipping quantile or a weight floor outside their ranges."""
    if kfold < 2:
        raise ConfigError(f"--kfold must be at least 2 (got {kfold}): every event needs a model that never saw it")
    if clip_quantile is not None and not 0.0 < clip_quantile <= 1.0:
        raise ConfigError(
            f"--clip-quantile {clip_quantile}: give the quantile of the weights to clip at, in (0, 1] (e.g. 0.999; "
            "1: no clip)"
        )
    if not 0.0 <= floor_fraction < 1.0:
        raise ConfigError(
            f"--floor {floor_fraction}: give the smallest positive weight as a fraction of the mean weight, in [0, 1) "
            "(e.g. 0.001; 0: allow zeros)"
        )


def reweight(
    source: str | None = None,
    target: str | None = None,
    *,
    positive: str | None = None,
    features: Sequence[str] = (),
    check: Sequence[str] = (),
    weight: str | None = None,
    model: str | None = None,
    kfold: int = 5,
    calibrate: bool = True,
    clip_quantile: float | None = 0.999,
    floor_fraction: float = 1e-3,
    output_dir: str = "runs",
    name: str | None = None,
    seed: int = 42,
    overrides: Sequence[str] = (),
    force: bool = False,
) -> ReweightResult:
    """Learn weights that make ``source`` look like ``target``, or positive weights for ``positive``.

    Parameters
    ----------
    source, target
        Input files (``file.root:tree`` names the tree) of the same kind of events.
    positive
        Instead of ``source``/``target``: one file whose signed ``weight`` column is
        replaced by positive weights with the same expectation everywhere.
    features
        Columns the weights depend on (default: every one-number-per-event column
        the files share, except the event weight, label and event number).
    check
        Further columns not used by the model: their closure tests it.
    weight
        Event-weight column (negative weights allowed; required with ``positive``).
    model
        Model family (``mlp``, ``xgboost``, ``lightgbm``, ...); default ``mlp``, and
        ``xgboost`` for ``positive`` (a regression whose target is mostly noise: boosted
        trees average it locally and stop on it robustly).
    kfold
        Folds: every event is weighted by the model that did not train on it.
    calibrate, clip_quantile
        Platt-calibrate the log-odds; clip the weights at this quantile (``None``: no clip).
    floor_fraction
        ``positive``: the smallest weight, as a fraction of the mean weight.
    output_dir, name, seed, overrides, force
        As for :func:`neyman.train` (``overrides`` such as ``model.hidden=[64,64]``).

    Notes
    -----
    With equal class totals the cross-entropy minimum is ``f = p_T/(p_S + p_T)``, so
    ``w = f/(1 - f) = p_T/p_S`` (:class:`neyman.reweighting.RatioWeights`).  The
    positive weights are the regressed mean weight ``E[w|x]``, the minimum of
    ``Σ (g(x_i) - w_i)²`` (:class:`neyman.reweighting.PositiveWeights`).  The
    effective sample size is ``(Σ w)² / Σ w²``.
    """
    t0 = time.perf_counter()
    if (positive is None) == (source is None and target is None) or (positive is None and None in (source, target)):
        raise ConfigError("give either --source and --target (reweighting) or --positive alone (positive weights)")
    _check_numbers(kfold, clip_quantile, floor_fraction)
    refuse_owned_overrides(overrides, OWNED_KEYS)
    model = model or ("mlp" if positive is None else "xgboost")
    name = name or f"{'reweight' if positive is None else 'positive'}-{model}"
    if positive is not None:
        inputs = _checked_positive(positive, features, check, weight, kfold)
        cfg = _config(inputs, model, kfold, seed, name, output_dir, two_samples=False)
        run, summary, report = _positive(inputs, cfg, overrides, force, floor_fraction)
    else:
        inputs = _checked_inputs(str(source), str(target), features, check, weight, kfold)
        cfg = _config(inputs, model, kfold, seed, name, output_dir, two_samples=True)
        run, summary, report = _ratio(inputs, cfg, overrides, force, (calibrate, clip_quantile, seed))
    return ReweightResult(run.path, summary, report, time.perf_counter() - t0)
