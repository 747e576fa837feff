"""``neyman reweight``: weights ``p_target / p_source`` for a source sample, learned by a classifier.

The reweighter is a k-fold binary run (source = class 0, target = class 1, equal
class totals) written by :func:`neyman.train`, so its report, export and
``neyman predict`` come with it; this workflow adds the map from score to weight
(``reweighting.json``), the source's out-of-fold weights (``weights.parquet``) and
the closure report (``reweighting.html``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.atomic import finite_json
from neyman.exceptions import ConfigError, DataError
from neyman.runs import RunDirectory, write_ratio_weights
from neyman.table import EVENT_ID, LABEL, WEIGHT, Table
from neyman.workflows.steps.data import SOURCE
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


def _columns(path: str, tree: str | None, role: str) -> list[str]:
    if not Path(path).is_file():
        raise DataError(f"{role} file {path} does not exist")
    return io.available_columns(path, tree=tree)


def _flat_number(values: Any) -> bool:
    """Whether a column is one number per event (not jagged constituents, not text)."""
    return isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "biuf"


def _checked_inputs(
    source: str, target: str, features: Sequence[str], check: Sequence[str], weight: str | None, kfold: int
) -> _Inputs:
    """The two files, the features and the closure variables, checked before anything is written."""
    src, tgt = io.parse_source(str(source)), io.parse_source(str(target))
    cols = {"source": _columns(*src, "source"), "target": _columns(*tgt, "target")}
    if not features:
        only = sorted(set(cols["source"]) ^ set(cols["target"]))
        if only:
            raise DataError(
                f"source {src[0]} and target {tgt[0]} have different columns ({', '.join(only[:8])} in one only); "
                "name the columns to reweight in with --features"
            )
        skip = {weight, EVENT_ID, LABEL, WEIGHT, *check}
        head = io.read(src[0], tree=src[1], entry_stop=5)
        features = [c for c in cols["source"] if c not in skip and _flat_number(head[c])]
        if not features:
            raise DataError(f"source {src[0]} has no one-number-per-event column to reweight in; give --features")
    for role, path in (("source", src[0]), ("target", tgt[0])):
        for kind, names in (("--features", features), ("--check", check), ("--weight", [weight] if weight else [])):
            missing = [c for c in names if c not in cols[role]]
            if missing:
                raise DataError(f"{role} {path} has no column {missing[0]!r} (given in {kind}); it has {cols[role]}")
        tree = src[1] if role == "source" else tgt[1]
        if weight:
            _check_weights(path, tree, weight, role)
        n = io.num_entries(path, tree=tree)
        if n < max(kfold, 2):
            raise DataError(
                f"{role} {path} holds {n} events, fewer than the {max(kfold, 2)} folds; give at least a few "
                "thousand events"
            )
    twice = sorted(set(features) & set(check))
    if twice:
        raise ConfigError(f"{twice[0]!r} is both a feature and a --check variable; closure needs unused variables")
    return _Inputs(src, tgt, list(features), list(check), weight)


def _check_weights(path: str, tree: str | None, column: str, role: str) -> np.ndarray:
    """The event weights of one file, refused when they cannot weigh anything."""
    w = np.asarray(io.read(path, tree=tree, columns=[column])[column], dtype=np.float64)
    if not np.all(np.isfinite(w)):
        bad = int(np.flatnonzero(~np.isfinite(w))[0])
        raise DataError(f"{role} {path}: weight column {column!r} holds {w[bad]} at entry {bad}; fix the weights")
    if not np.sum(w) > 0:
        what = "is all zero" if not np.any(w) else f"sums to {np.sum(w):.4g}"
        raise DataError(f"{role} {path}: weight column {column!r} {what}; the sample needs a positive total weight")
    return w


def _event_weights(inputs: _Inputs, role: str, n: int) -> np.ndarray:
    path, tree = inputs.source if role == "source" else inputs.target
    return np.ones(n) if inputs.weight is None else _check_weights(path, tree, inputs.weight, role)


def _config(inputs: _Inputs, model: str, kfold: int, seed: int, name: str | None, output_dir: str) -> dict[str, Any]:
    def source(where: tuple[str, str | None], label: str) -> dict[str, Any]:
        return {"path": where[0], "tree": where[1], "label": label}

    return {
        "name": name or f"reweight-{model}",
        "output_dir": output_dir,
        "seed": seed,
        "data": {
            "sources": [source(inputs.source, "source"), source(inputs.target, "target")],
            "classes": ["source", "target"],
            "features": inputs.features,
            "weight": inputs.weight,
        },
        "task": {"type": "binary", "balance_classes": True},
        "model": {"type": model},
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


def _matrix(where: tuple[str, str | None], columns: list[str]) -> np.ndarray:
    table = io.read(where[0], tree=where[1], columns=columns)
    return np.stack([np.asarray(table[c], dtype=np.float64) for c in columns], axis=1)


def _closure(inputs: _Inputs, weights: np.ndarray, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every variable's histograms and χ²/ndf before and after, and the two-sample AUCs."""
    from neyman.metrics import compare_histograms, comparison_edges, effective_sample_size
    from neyman.reweighting import two_sample_auc

    columns = inputs.features + inputs.check
    xs, xt = _matrix(inputs.source, columns), _matrix(inputs.target, columns)
    ws, wt = _event_weights(inputs, "source", len(xs)), _event_weights(inputs, "target", len(xt))
    if len(weights) != len(xs):
        raise DataError(f"source {inputs.source[0]} changed while it was reweighted ({len(xs)} events now)")
    comparisons, chi2 = {}, {}
    for j, name in enumerate(columns):
        cmp = compare_histograms(
            [("source", xs[:, j], ws), ("reweighted source", xs[:, j], ws * weights), ("target", xt[:, j], wt)],
            comparison_edges(xs[:, j], xt[:, j]),
        )
        comparisons[name] = cmp
        before, after = cmp.chi2("source", "target"), cmp.chi2("reweighted source", "target")
        chi2[name] = {"before": before[0] / before[1], "after": after[0] / after[1], "ndf": after[1]}
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


def _report(run: RunDirectory, numbers: dict[str, Any], comparisons: dict[str, Any], weights: np.ndarray) -> Path:
    from neyman.plotting import plot_closure, plot_weights
    from neyman.report import Section, write_report

    cap = numbers["weights"]["max_weight"]
    rows = [[k, numbers[k]] for k in ("n_source", "n_target", "effective_sample_size", "effective_sample_fraction")]
    rows += [[k, numbers[k]] for k in ("two_sample_auc_before", "two_sample_auc_after")]
    rows += [[f"clipping: {k}", v] for k, v in numbers["clipping"].items()]
    chi2 = [
        [n, c["before"], c["after"], c["ndf"], "check" if n in numbers["check"] else "feature"]
        for n, c in numbers["chi2_per_ndf"].items()
    ]
    sections = [
        Section(
            title="Weights",
            figures=[plot_weights(weights, max_weight=cap)],
            tables=[("The reweighting in numbers", ["quantity", "value"], rows)],
            text="w = p_target/p_source of every source event, from the model that did not train on it. "
            "A two-sample AUC near 0.5 after reweighting means a fresh classifier cannot tell the samples apart.",
        ),
        Section(
            title="Closure",
            figures=[plot_closure(comparisons[n], n) for n in numbers["chi2_per_ndf"]],
            tables=[("χ²/ndf against the target", ["variable", "before", "after", "ndf", "role"], chi2)],
            text="Variables marked 'check' were not used by the reweighter: their closure is the real test.",
        ),
    ]
    return write_report(run.path / "reweighting.html", sections, title=f"neyman reweighting {run.path.name}")


def reweight(
    source: str,
    target: str,
    *,
    features: Sequence[str] = (),
    check: Sequence[str] = (),
    weight: str | None = None,
    model: str = "mlp",
    kfold: int = 5,
    calibrate: bool = True,
    clip_quantile: float | None = 0.999,
    output_dir: str = "runs",
    name: str | None = None,
    seed: int = 42,
    overrides: Sequence[str] = (),
    force: bool = False,
) -> ReweightResult:
    """Learn weights that make ``source`` look like ``target``, with their closure report.

    Parameters
    ----------
    source, target
        Input files (``file.root:tree`` names the tree) of the same kind of events.
    features
        Columns the weights depend on (default: every one-number-per-event column
        both files share, except the event weight, label and event number).
    check
        Further columns of both files, not used by the reweighter: their closure tests it.
    weight
        Event-weight column of both files (negative weights allowed).
    model
        Classifier family (``mlp``, ``xgboost``, ``lightgbm``, ...).
    kfold
        Folds: every source event is weighted by the model that did not train on it.
    calibrate, clip_quantile
        Platt-calibrate the log-odds; clip the weights at this quantile (``None``: no clip).
    output_dir, name, seed, overrides, force
        As for :func:`neyman.train` (``overrides`` such as ``model.hidden=[64,64]``).

    Notes
    -----
    At the minimum of the cross-entropy with equal class totals the classifier is
    ``f = p_T/(p_S + p_T)``, so ``w = f/(1 - f) = p_T/p_S``
    (:class:`neyman.reweighting.RatioWeights`).  The effective sample size of the
    reweighted source is ``(Σ w)² / Σ w²`` with ``w`` the product of event and
    reweighting weights.
    """
    t0 = time.perf_counter()
    if kfold < 2:
        raise ConfigError(f"--kfold must be at least 2 (got {kfold}): every event needs a model that never saw it")
    inputs = _checked_inputs(source, target, features, check, weight, kfold)
    cfg = _config(inputs, model, kfold, seed, name, output_dir)
    result = train(cfg, overrides=overrides, force=force)
    run = RunDirectory(result.run_dir)
    ratio, clip, preds = _calibrated(run, calibrate, clip_quantile)
    weights = ratio(np.asarray(preds["score"]))
    write_ratio_weights(run, ratio, {"features": inputs.features})
    io.write(Table({EVENT_ID: np.asarray(preds[EVENT_ID]), "weight": weights}), run.path / "weights.parquet")
    numbers, comparisons = _closure(inputs, weights, seed)
    numbers.update(weights=ratio.to_json(), clipping=clip.__dict__, features=inputs.features, check=inputs.check)
    summary = finite_json(numbers)
    write_ratio_weights(run, ratio, summary)
    report = _report(run, numbers, comparisons, weights)
    return ReweightResult(run.path, summary, report, time.perf_counter() - t0)
