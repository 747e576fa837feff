"""The density-ratio route to the Neyman–Pearson optimum: one flow per class against the classifier.

On ``neyman.testing``'s known-likelihood-ratio problem (12 correlated, non-linearly
transformed features whose true ``ln p_S/p_B`` is known per event), two ``task:
density`` runs learn ``p_B`` and ``p_S`` from their own class's events; the
difference of their log-densities on a held-out test file is a classifier
discriminant.  The classifier route (a ``binary`` MLP run on both classes) and the
optimal discriminant (the true log-ratio) are measured on the same test file.

Bar (issue "anomaly detection, density estimation and generative models",
benchmark 1): the flows' AUC ≥ 0.98 × the optimal AUC.  Also printed: the MLP's
AUC, each route's training time, and the median and 99th percentile of the
absolute error of the estimated log-ratio against the truth (the classifier's
``logit`` estimates the same ratio; the classes are balanced).

Usage::

    python benchmarks/bench_density.py [--events 200000] [--transform nsf] [--steps 8000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from neyman import io, metrics
from neyman.runs import load_run
from neyman.testing import likelihood_ratio_dataset
from neyman.workflows.train import train

FEATURES = [f"x{i:02d}" for i in range(12)]


def _files(out: Path, per_class: int) -> dict[str, Path]:
    table = likelihood_ratio_dataset(2 * per_class, seed=1)
    label = np.asarray(table["label"])
    paths = {"train": out / "train.parquet", "test": out / "test.parquet"}
    io.write(table, paths["train"])
    io.write(likelihood_ratio_dataset(200_000, seed=2), paths["test"])
    for k, name in ((0, "background"), (1, "signal")):
        paths[name] = out / f"{name}.parquet"
        io.write(table.take(label == k), paths[name])
    return paths


def _density(out: Path, path: Path, name: str, args: argparse.Namespace) -> tuple[Path, float]:
    t0 = time.perf_counter()
    run = train(
        {
            "name": name,
            "output_dir": str(out / "runs"),
            "task": {"type": "density"},
            "data": {"sources": [{"path": str(path)}], "features": FEATURES},
            "model": {"type": "flow", "transform": args.transform},
            "training": {"steps": args.steps, "progress": False},
            "split": {"train": 0.8, "val": 0.2, "test": 0.0},
        },
        force=True,
    ).run_dir
    return run, time.perf_counter() - t0


def _classifier(out: Path, path: Path, args: argparse.Namespace) -> tuple[Path, float]:
    t0 = time.perf_counter()
    run = train(
        {
            "name": "mlp",
            "output_dir": str(out / "runs"),
            "data": {"sources": [{"path": str(path)}], "features": FEATURES, "label_column": "label"},
            "training": {"steps": args.steps, "progress": False},
            "split": {"train": 0.8, "val": 0.2, "test": 0.0},
        },
        force=True,
    ).run_dir
    return run, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="Training events per class.")
    parser.add_argument("--transform", default="nsf", choices=("nsf", "maf"))
    parser.add_argument("--steps", type=int, default=8000, help="Optimisation steps of every training.")
    parser.add_argument("--out", type=Path, default=None, help="Work folder (default: a temporary one).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="neyman-bench-density-") as tmp:
        out = args.out or Path(tmp)
        paths = _files(out, args.events)
        test = io.read(paths["test"])
        label = np.asarray(test["label"])
        truth = np.asarray(test["true_log_lr"])
        optimal = metrics.roc_auc(truth, label)
        rows = []
        log_p = {}
        seconds = 0.0
        for name in ("background", "signal"):
            run, s = _density(out, paths[name], f"flow-{name}", args)
            seconds += s
            log_p[name] = load_run(run).score(test)[:, 1]
        ratio = log_p["signal"] - log_p["background"]
        rows.append(("flows: ln p_S − ln p_B", metrics.roc_auc(ratio, label), seconds, ratio - truth))
        run, s = _classifier(out, paths["train"], args)
        score = np.clip(np.asarray(load_run(run).score(test)).reshape(-1), 1e-12, 1 - 1e-12)
        logit = np.log(score / (1 - score))
        rows.append(("classifier: MLP", metrics.roc_auc(score, label), s, logit - truth))
        print(f"\nknown-likelihood-ratio data, {args.events:,} training events per class, 200,000 test events")
        print(f"optimal AUC (true ln p_S/p_B): {optimal:.4f}\n")
        print(
            f"{'route':<28} {'AUC':>8} {'AUC/optimal':>12} {'median |Δ ln r|':>16} {'q99 |Δ ln r|':>13} {'train s':>8}"
        )
        for name, auc, sec, error in rows:
            median, q99 = np.quantile(np.abs(error), [0.5, 0.99])
            print(f"{name:<28} {auc:>8.4f} {auc / optimal:>12.4f} {median:>16.3f} {q99:>13.2f} {sec:>8.0f}")
        flows = rows[0][1] / optimal
        print(f"\nbar: flows ≥ 0.98 × optimal: {'met' if flows >= 0.98 else 'MISSED'} ({flows:.4f})")


if __name__ == "__main__":
    main()
