"""Headline numbers and core figures of a run from its predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neyman import metrics
from neyman.tasks import Task

__all__ = ["SPLIT_NAMES", "fold_summary", "headline_metrics", "write_core_plots"]

SPLIT_NAMES = ("train", "val", "test")


def headline_metrics(
    task: Task, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, *, classes: list[str]
) -> dict[str, float]:
    """Metrics of one set of events.

    Classification: ``auc`` (binary; one-vs-rest per class for multiclass),
    ``accuracy``, ``loss`` (weighted cross-entropy), background rejection at
    ε_S = 0.3 and 0.5.  Regression: MSE, bias, resolution and, for ``gaussian``,
    the pull mean and width and the 68%/95% coverage.
    """
    out: dict[str, float] = {"n_events": float(len(truth)), "sum_weights": float(np.sum(weights))}
    if len(truth) == 0:
        return out
    if task.name == "binary":
        out["loss"] = metrics.binary_cross_entropy(scores, truth, sample_weight=weights)
        out["accuracy"] = metrics.accuracy(scores, truth, sample_weight=weights)
        if len(np.unique(truth)) == 2:
            roc = metrics.roc_curve(scores, truth, sample_weight=weights)
            out["auc"] = metrics.roc_auc(scores, truth, sample_weight=weights)
            out["rejection_at_eff_0.3"] = metrics.background_rejection(roc, 0.3)
            out["rejection_at_eff_0.5"] = metrics.background_rejection(roc, 0.5)
    elif task.name == "multiclass":
        out["loss"] = metrics.multiclass_cross_entropy(scores, truth, sample_weight=weights)
        out["accuracy"] = metrics.multiclass_accuracy(scores, truth, sample_weight=weights)
        aucs = []
        for k, name in enumerate(classes):
            is_k = (truth == k).astype(np.int64)
            if 0 < is_k.sum() < len(is_k):
                auc = metrics.roc_auc(scores[:, k], is_k, sample_weight=weights)
                out[f"auc_{name}_vs_rest"] = auc
                aucs.append(auc)
        if aucs:
            out["auc"] = float(np.mean(aucs))
    else:
        pred = scores[:, 0] if scores.ndim == 2 else scores
        sigma = scores[:, 1] if task.name == "gaussian" else None
        out.update(metrics.regression_summary(pred, truth, sigma=sigma, sample_weight=weights).as_dict())
    return {k: float(v) for k, v in out.items()}


def fold_summary(per_fold: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation across folds of every metric."""
    keys = [k for k in per_fold[0] if all(k in f for f in per_fold)]
    return {
        k: {
            "mean": float(np.mean([f[k] for f in per_fold])),
            "std": float(np.std([f[k] for f in per_fold], ddof=1)),
        }
        for k in keys
    }


def write_core_plots(
    directory: Path,
    *,
    task: Task,
    classes: list[str],
    scores: np.ndarray,
    truth: np.ndarray,
    weights: np.ndarray,
    split: np.ndarray,
    history: dict[str, list[float]] | None,
) -> list[Path]:
    """Loss curves, score distributions (train points over test histograms), ROC, pulls."""
    from neyman import plotting

    written: list[Path] = []
    test, train = split == 2, split == 0
    if history and any(k.endswith("loss") for k in history):
        fig, ax = plotting.figure()
        plotting.plot_history(history, ax=ax)
        written += plotting.save(fig, directory / "loss")
    if task.name == "binary" and test.any():
        fig, ax = plotting.figure()
        plotting.plot_scores(
            scores[test],
            truth[test],
            sample_weight=weights[test],
            class_names=classes,
            ax=ax,
            train_scores=scores[train],
            train_labels=truth[train],
            train_weight=weights[train],
        )
        written += plotting.save(fig, directory / "scores")
        if len(np.unique(truth[test])) == 2:
            roc = metrics.roc_curve(scores[test], truth[test], sample_weight=weights[test])
            fig, ax = plotting.figure()
            plotting.plot_roc({"test": roc}, ax=ax)
            written += plotting.save(fig, directory / "roc")
    if task.name == "gaussian" and test.any():
        pulls = (scores[test, 0] - truth[test]) / scores[test, 1]
        fig, ax = plotting.figure()
        plotting.plot_pulls(pulls, sample_weight=weights[test], ax=ax)
        written += plotting.save(fig, directory / "pulls")
    if task.name in ("regression", "gaussian") and test.any():
        pred = scores[test, 0] if scores.ndim == 2 else scores[test]
        fig, ax = plotting.figure()
        plotting.plot_response(pred, truth[test], ax=ax)
        written += plotting.save(fig, directory / "response")
    return written


def as_jsonable(d: dict[str, Any]) -> dict[str, Any]:
    """Replace non-finite floats by strings so metrics.json stays valid JSON."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = as_jsonable(v)
        elif isinstance(v, list):
            out[k] = [as_jsonable(x) if isinstance(x, dict) else x for x in v]
        elif isinstance(v, float) and not np.isfinite(v):
            out[k] = str(v)
        else:
            out[k] = v
    return out
