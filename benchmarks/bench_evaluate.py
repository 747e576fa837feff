"""Evaluation time of a 1M-event run: all metrics, all figures and the report.

Run by hand::

    python benchmarks/bench_evaluate.py

Trains a small BDT on 1M events of the synthetic dataset (the training is not
timed), then times ``neyman.workflows.evaluate.evaluate`` (200 bootstrap replicas,
permutation importance, every figure in PNG and PDF, report.html). Bar: < 60 s.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import neyman
from neyman import io
from neyman.testing import likelihood_ratio_dataset
from neyman.workflows.evaluate import evaluate


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="neyman-eval-"))
    io.write(likelihood_ratio_dataset(1_000_000, seed=3), work / "events.parquet")
    cfg = {
        "name": "bdt",
        "output_dir": str(work / "runs"),
        "data": {
            "sources": [{"path": str(work / "events.parquet")}],
            "label_column": "label",
            "weight": "weight",
            "event_id": "event_id",
            "features": [f"x{i:02d}" for i in range(12)],
        },
        "model": {"type": "xgboost", "n_estimators": 100, "max_depth": 5},
    }
    run = neyman.train(cfg).run_dir
    t0 = time.perf_counter()
    r = evaluate(run, yields=(100.0, 10_000.0), sigma_b=0.1)
    seconds = time.perf_counter() - t0
    print(f"| {'quantity':<44} | {'value':>12} |")
    print(f"|{'-' * 46}|{'-' * 14}|")
    print(f"| {'events in the run':<44} | {1_000_000:>12,} |")
    print(f"| {'test events evaluated':<44} | {r.metrics['n_test_events']:>12,} |")
    print(f"| {'figures written (PNG + PDF)':<44} | {len(r.figures):>12} |")
    print(f"| {'AUC ± bootstrap std':<44} | {r.metrics['auc']:.4f}±{r.metrics['auc_uncertainty']:.4f} |")
    print(f"| {'evaluate wall time (s), bar < 60':<44} | {seconds:>12.1f} |")


if __name__ == "__main__":
    main()
