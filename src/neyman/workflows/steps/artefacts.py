"""What a training leaves in its run directory besides the models.

Both ways of training (in memory, :mod:`~neyman.workflows.steps.fitting`, and
streamed from files, :mod:`~neyman.workflows.steps.streaming`) end with a
:class:`Fitted` result; :func:`finish_run` writes ``preprocessing.json``,
``model/metadata.json``, ``history.csv``, ``metrics.json`` and the core figures
from it, with the SHA-256 of every model file that a loaded run verifies.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neyman import metrics
from neyman.atomic import finite_json, json_sha256, write_json
from neyman.config import RunConfig
from neyman.exceptions import NeymanWarning
from neyman.preprocessing import TEST
from neyman.runs import METADATA_DIGEST, InputPreprocessor, RunDirectory, representation_json, source_records
from neyman.tasks import EvaluationOptions, ScoredEvents, Task
from neyman.tasks.classification import discriminant_scores
from neyman.versions import __version__, package_versions
from neyman.workflows.steps.inputs import representation_spec

__all__ = ["SPLIT_NAMES", "Fitted", "finish_run", "score_columns"]

SPLIT_NAMES = ("train", "val", "test")
"""``metrics.json`` keys of the split codes 0, 1, 2."""


@dataclass(frozen=True)
class Fitted:
    """A finished fit: what was learned and the scores of the events it reports on.

    Attributes
    ----------
    task, features, classes
        What was learned from which columns.
    preprocessors
        Fitted preprocessing, one per fold.
    histories
        Learning curves, one per fold (``None`` for models without).
    scores, truth, weights, split
        The events the metrics are computed on (all events, or a sample of a
        streamed run) with their split codes.
    fold_metrics
        Headline metrics of each fold (k-fold runs).
    train_seconds
        Wall time of the fit.
    extra
        Further entries for ``metrics.json``.
    ranges
        The training events' feature ranges (:func:`neyman.runs.feature_ranges`; tabular runs).
    """

    task: Task
    features: list[str]
    classes: list[str]
    preprocessors: list[InputPreprocessor]
    histories: list[Mapping[str, Sequence[float]] | None]
    scores: np.ndarray
    truth: np.ndarray
    weights: np.ndarray
    split: np.ndarray
    fold_metrics: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    ranges: dict[str, list[float]] = field(default_factory=dict)


def discriminant(cfg: RunConfig, task: Task, scores: np.ndarray, classes: Sequence[str]) -> np.ndarray | None:
    """The configured multi-class discriminant ``log p_A / Σ f_k p_k`` (``None`` when not configured).

    Notes
    -----
    ``D = ln(p_A / Σ_k f_k p_k)`` with the fractions of ``task.discriminant.backgrounds``
    (:func:`neyman.metrics.multiclass_discriminant`).
    """
    spec = cfg.task.discriminant
    if spec is None or task.n_classes < 2 or scores.ndim != 2:
        return None  # class probabilities only
    return discriminant_scores(scores, classes, spec.signal, spec.backgrounds)


def score_columns(cfg: RunConfig, task: Task, classes: Sequence[str], scores: np.ndarray) -> dict[str, np.ndarray]:
    """Named score columns of ``predictions.parquet`` (plus the multi-class discriminant when configured)."""
    score_2d = scores.reshape(len(scores), -1)
    cols = {name: score_2d[:, j] for j, name in enumerate(task.score_names(classes))}
    disc = discriminant(cfg, task, scores, classes)
    if disc is not None:
        cols["discriminant"] = disc
    return cols


def _discriminant_metrics(cfg: RunConfig, fit: Fitted, disc: np.ndarray) -> dict[str, float]:
    """AUC of the discriminant: signal class against each background class (test split)."""
    spec = cfg.task.discriminant
    assert spec is not None
    sig = fit.classes.index(spec.signal)
    out: dict[str, float] = {}
    test = fit.split == TEST
    for name, frac in spec.backgrounds.items():
        b = fit.classes.index(name)
        sel = test & ((fit.truth == sig) | (fit.truth == b))
        if sel.any() and frac > 0:
            out[f"auc_{spec.signal}_vs_{name}"] = metrics.roc_auc(
                disc[sel], (fit.truth[sel] == sig).astype(np.int64), sample_weight=fit.weights[sel]
            )
    return out


def _metadata(cfg: RunConfig, fit: Fitted, sources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "neyman_version": __version__,
        "task": fit.task.name,
        "family": cfg.model.type,
        "features": fit.features,
        "representation": representation_json(representation_spec(cfg)),
        "classes": fit.classes,
        "target": cfg.data.target,
        "kfold": cfg.split.kfold,
        "event_id_column": cfg.data.event_id,
        "fill_value": cfg.data.fill_value,
        "sources": [{**record, "columns": src.columns} for record, src in zip(sources, cfg.data.sources, strict=True)],
        "score_names": fit.task.score_names(fit.classes),
        "feature_ranges": fit.ranges,
        "versions": package_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _scored(fit: Fitted) -> ScoredEvents:
    n = len(fit.truth)
    return ScoredEvents(fit.scores, fit.truth, fit.weights, fit.split, np.full(n, -1), np.arange(n))


def training_metrics(cfg: RunConfig, fit: Fitted) -> dict[str, Any]:
    """The content of ``metrics.json``: the task's headline numbers per split, folds and checks."""
    result: dict[str, Any] = {"task": fit.task.name, "model": cfg.model.type, "features": fit.features}
    if fit.classes:
        result["classes"] = fit.classes
    for code, split_name in enumerate(SPLIT_NAMES):
        sel = fit.split == code
        if sel.any():
            result[split_name] = fit.task.headline_metrics(
                fit.scores[sel], fit.truth[sel], fit.weights[sel], classes=fit.classes
            )
    _warn_few_test_events(fit, result.get("test", {}).get("auc"))
    disc = discriminant(cfg, fit.task, fit.scores, fit.classes)
    if disc is not None:
        result["discriminant"] = _discriminant_metrics(cfg, fit, disc)
    if fit.fold_metrics:
        result["folds"] = fit.fold_metrics
        result["folds_summary"] = metrics.fold_summary(fit.fold_metrics)
    check = fit.task.overtraining(_scored(fit))
    if check:
        result["overtraining"] = check
    result["training_seconds"] = fit.train_seconds
    result["n_events"] = len(fit.truth)
    result.update(fit.extra)
    return result


MIN_TEST_EVENTS = 10
"""Below this many test events of a class, the test metrics are warned as statistically void."""


def _warn_few_test_events(fit: Fitted, auc: float | None) -> None:
    r"""Warn when a class (or, without classes, the test split) has fewer than :data:`MIN_TEST_EVENTS` test events.

    Notes
    -----
    The warning quotes the AUC's standard error by Hanley and McNeil (Radiology 143
    (1982) 29), for :math:`n_1` signal and :math:`n_0` background events:

    .. math:: \sigma^2 = \frac{A(1-A) + (n_1-1)(Q_1-A^2) + (n_0-1)(Q_2-A^2)}{n_1 n_0},
              \quad Q_1 = \frac{A}{2-A},\; Q_2 = \frac{2A^2}{1+A}.
    """
    test = fit.split == TEST
    if not fit.task.n_classes:  # a regression, an anomaly score, a density: the events alone
        n = int(test.sum())
        if 0 < n < MIN_TEST_EVENTS:
            warnings.warn(
                f"the test split holds {n} events: too few to measure the model; give the test more events (at "
                f"least {MIN_TEST_EVENTS}: more events, a larger split.test, or --test-data FILE)",
                NeymanWarning,
                stacklevel=2,
            )
        return
    counts = np.bincount(fit.truth[test].astype(np.int64), minlength=len(fit.classes)) if test.any() else None
    if counts is None or counts.min() >= MIN_TEST_EVENTS:
        return
    parts = [f"{n} {name!r}" for n, name in zip(counts, fit.classes, strict=True)]
    held = ", ".join(parts[:-1]) + f" and {parts[-1]}"
    spread = ""
    if auc is not None and len(counts) == 2 and counts.min() > 0 and np.isfinite(auc):
        a, n0, n1 = float(auc), int(counts[0]), int(counts[1])
        q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
        sigma = np.sqrt(max(a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a), 0.0) / (n1 * n0))
        spread = f"; its AUC is uncertain by about ±{sigma:.2f}"
    warnings.warn(
        f"the test split holds {held} events: too few to measure the model{spread}; give the test more events "
        f"(at least {MIN_TEST_EVENTS} of each class: more events, a larger split.test, or --test-data FILE)",
        NeymanWarning,
        stacklevel=2,
    )


def write_training_figures(run: RunDirectory, fit: Fitted) -> None:
    """The loss curves and the task's core figures (:func:`neyman.plotting.training_figures`)."""
    from neyman import plotting

    history = fit.histories[0] if fit.histories else None
    if history and any(k.endswith("loss") for k in history):
        fig, ax = plotting.figure()
        plotting.plot_history(history, ax=ax)
        plotting.save(fig, run.plots / "loss")
    core = fit.task.core_evaluation(_scored(fit), EvaluationOptions(classes=tuple(fit.classes)))
    for stem, fig in plotting.training_figures(core):
        plotting.save(fig, run.plots / stem)


def _sources(cfg: RunConfig, run: RunDirectory) -> list[dict[str, Any]]:
    """The input files as the run found them when it started (``inputs.json``), or as they are now."""
    if run.inputs.is_file():
        recorded = json.loads(run.inputs.read_text(encoding="utf-8"))
        if isinstance(recorded, list) and len(recorded) == len(cfg.data.sources):
            return recorded
    return source_records([(src.path, src.tree) for src in cfg.data.sources])


def finish_run(cfg: RunConfig, run: RunDirectory, fit: Fitted) -> dict[str, Any]:
    """Write ``preprocessing.json``, ``model/metadata.json``, ``history.csv``, ``metrics.json``
    and the core figures; return the metrics.

    ``model/metadata.json`` records under ``checksums`` the SHA-256 of every file
    a loaded run reads (:meth:`~neyman.runs.RunDirectory.artefacts`: the model files
    of every fold, ``preprocessing.json``, ``predictions.parquet``), so that
    :func:`~neyman.runs.load_run` refuses a file modified or damaged since.
    """
    write_json(run.preprocessing, {"folds": [p.to_json() for p in fit.preprocessors]})
    record = {**_metadata(cfg, fit, _sources(cfg, run)), "checksums": run.artefact_checksums()}
    write_json(run.metadata, {**record, METADATA_DIGEST: json_sha256(record)})
    run.write_history(fit.histories)
    result = training_metrics(cfg, fit)
    write_json(run.metrics, finite_json(result))
    write_training_figures(run, fit)
    return result
