"""``neyman demo``: the whole workflow on an embedded dataset, in a few minutes.

The dataset is :func:`neyman.testing.likelihood_ratio_dataset`: twelve correlated,
non-linearly transformed features whose true likelihood ratio is known, so the
demo can show how close each classifier comes to the Neyman–Pearson optimum.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io, metrics
from neyman.table import EVENT_ID, LABEL, SPLIT, WEIGHT
from neyman.testing import TRUE_LOG_LR, likelihood_ratio_dataset
from neyman.workflows.train import RunResult, train

__all__ = ["DemoResult", "demo"]

N_EVENTS = 200_000


@dataclass(frozen=True)
class DemoResult:
    """The demo's runs and its comparison table."""

    directory: Path
    runs: dict[str, RunResult]
    optimal_auc: float
    rows: list[dict[str, Any]]
    reports: dict[str, Path]
    comparison: Path


def _dataset(directory: Path, n_events: int, seed: int) -> Path:
    path = directory / "data" / f"likelihood_ratio_{n_events}_{seed}.parquet"
    if not path.is_file():
        io.write(likelihood_ratio_dataset(n_events, seed=seed), path)
    return path


def demo(
    directory: str | os.PathLike[str] = "neyman-demo",
    *,
    n_events: int = N_EVENTS,
    seed: int = 1,
    epochs: int = 60,
    progress: bool = True,
) -> DemoResult:
    """Train a BDT and an MLP on the embedded dataset, evaluate and compare them.

    Each run gets its full evaluation and ``report.html``; the two ROC curves are
    overlaid in ``comparison/``.

    Parameters
    ----------
    directory
        Where the data (cached) and the run directories go; the demo's own runs
        there are replaced on every call.
    n_events
        Events generated (60% train, 20% validation, 20% test).
    seed
        Seed of the data and of the training.
    epochs
        Maximum MLP epochs (early stopping usually ends sooner).
    progress
        Show the training progress bar.
    """
    directory = Path(directory)
    data = _dataset(directory, n_events, seed)
    features = [f"x{i:02d}" for i in range(12)]
    base: dict[str, Any] = {
        "output_dir": str(directory / "runs"),
        "seed": seed,
        "data": {
            "sources": [{"path": str(data)}],
            "label_column": LABEL,
            "weight": WEIGHT,
            "event_id": EVENT_ID,
            "features": features,
        },
        "task": {"type": "binary"},
    }
    configs = {
        "bdt": {
            **base,
            "name": "bdt",
            "model": {"type": "xgboost", "n_estimators": 400, "max_depth": 6},
        },
        "mlp": {
            **base,
            "name": "mlp",
            "model": {"type": "mlp", "hidden": [128, 128, 128]},
            # log of the positive, pT-like features before standardisation
            "preprocessing": {"scaler": "standard", "log": ["x00", "x04", "x08"]},
            "training": {
                "epochs": epochs,
                "batch_size": 1024,
                "optimizer": {"name": "adam", "lr": 2e-3},
                "schedule": {"name": "plateau", "patience": 3},
                "early_stopping": {"patience": 10},
                "progress": progress,
            },
        },
    }
    runs = {name: train(cfg, force=True) for name, cfg in configs.items()}
    truth = io.read(data, columns=[LABEL, TRUE_LOG_LR, EVENT_ID])
    preds = io.read(runs["bdt"].run_dir / "predictions.parquet", columns=[EVENT_ID, SPLIT])
    test_ids = np.asarray(preds[EVENT_ID])[np.asarray(preds[SPLIT]) == 2]
    optimal = metrics.roc_auc(np.asarray(truth[TRUE_LOG_LR])[test_ids], np.asarray(truth[LABEL])[test_ids])
    rows = []
    for name, r in runs.items():
        m = r.headline
        rows.append(
            {
                "model": f"{name} ({r.config.model.type})" if name != r.config.model.type else name,
                "auc": m["auc"],
                "auc_over_optimal": m["auc"] / optimal,
                "rejection_at_eff_0.5": m["rejection_at_eff_0.5"],
                "rejection_at_eff_0.3": m["rejection_at_eff_0.3"],
                "seconds": r.metrics["training_seconds"],
                "run_dir": str(r.run_dir),
            }
        )
    from neyman.workflows.compare import compare
    from neyman.workflows.evaluate import evaluate

    reports = {}
    for name, r in runs.items():
        report = evaluate(r.run_dir, n_bootstrap=100, formats=("png",)).report
        assert report is not None
        reports[name] = report
    cmp = compare([r.run_dir for r in runs.values()], out=directory / "comparison", n_bootstrap=100, formats=("png",))
    for row, cmp_row in zip(rows, cmp.rows, strict=True):
        row["auc_uncertainty"] = cmp_row["auc_uncertainty"]
    return DemoResult(
        directory=directory, runs=runs, optimal_auc=optimal, rows=rows, reports=reports, comparison=cmp.figures[0]
    )
