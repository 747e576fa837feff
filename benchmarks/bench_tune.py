"""Quality bars of neyman tune: a TPE study beats the default MLP; two workers vs one.

Run by hand (not part of the test suite)::

    python benchmarks/bench_tune.py            # about 4 minutes on two idle cores
    python benchmarks/bench_tune.py --quick    # about 2 minutes

1. A 20-trial TPE study (median pruning) over learning rate, batch size, depth and width,
   dropout and activation of an MLP, on ``neyman.testing.likelihood_ratio_dataset``,
   against neyman's default MLP configuration with the same epoch budget: the best
   trial's validation AUC (the objective) and the test AUC of that trial's model,
   each against the default's.  Bar: both better.
2. A 20-trial study (random sampler, no pruning, one thread per trial, a space that does
   not change the cost of a trial) as ``neyman tune --workers 2`` and with one worker, each
   a fresh process run one after the other: trials per hour, ratio.  Bar: >= 1.7x.  The
   speed-up of two processes over one on a pure CPU loop is printed first: two workers
   cannot beat it, so on a machine whose two logical CPUs share one core the bar is out of
   reach whatever the tuner does.

Every comparison is made within one run, because these machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
import yaml

import neyman
from neyman import io
from neyman.testing import likelihood_ratio_dataset
from neyman.workflows.tune import tune

FEATURES = [f"x{i:02d}" for i in range(12)]


def _row(name: str, value: str, target: str, ok: bool | None) -> None:
    verdict = "" if ok is None else ("yes" if ok else "NO")
    print(f"| {name:<52} | {value:>24} | {target:>12} | {verdict:>4} |", flush=True)


def _base(data: Path, out: Path, epochs: int) -> dict[str, Any]:
    return {
        "output_dir": str(out),
        "seed": 5,
        "data": {"sources": [{"path": str(data)}], "label_column": "label", "features": FEATURES},
        "preprocessing": {"log": ["x00", "x04", "x08"]},
        # neyman's default MLP (3 x 128, relu, Adam 1e-3, batch 1024), with this budget of epochs
        "model": {"type": "mlp"},
        "training": {"epochs": epochs, "progress": False, "threads": 1},
    }


def quality(data: Path, out: Path, *, trials: int, epochs: int) -> None:
    base = _base(data, out, epochs)
    t0 = time.perf_counter()
    default = neyman.train(base, overrides=["name=default"])
    default_seconds = time.perf_counter() - t0
    cfg = {
        **base,
        "tuning": {
            "space": {
                "training.optimizer.lr": {"float": [1e-4, 3e-2], "log": True},
                "training.batch_size": {"categorical": [128, 256, 512, 1024]},
                "model.hidden": {"layers": {"n": [1, 4], "width": {"int": [16, 256], "log": True}}},
                "model.dropout": {"float": [0.0, 0.3]},
                "model.activation": {"categorical": ["relu", "gelu", "tanh"]},
            },
            "objective": "val.auc",
            "sampler": "tpe",
            "seed": 1,
            "startup_trials": 8,
            "pruner": {"name": "median", "startup_trials": 5, "warmup_epochs": 2},
        },
    }
    t0 = time.perf_counter()
    result = tune(cfg, trials=trials, study="tpe")
    study_seconds = time.perf_counter() - t0
    assert result.best_trial is not None and result.best_value is not None
    best_metrics = json.loads((result.study_dir / f"trial-{result.best_trial:04d}" / "metrics.json").read_text())
    dv, dt = default.metrics["val"]["auc"], default.metrics["test"]["auc"]
    bv, bt = result.best_value, best_metrics["test"]["auc"]
    states = ", ".join(f"{n} {s.lower()}" for s, n in sorted(result.states.items()))
    print(f"\nstudy: {states}; best trial {result.best_trial}: {result.best_values}")
    print(f"default run {default_seconds:.0f} s, study {study_seconds:.0f} s\n")
    _row("validation AUC: default MLP", f"{dv:.4f}", "", None)
    _row(f"validation AUC: best of {trials} TPE trials (objective)", f"{bv:.4f} ({bv - dv:+.4f})", "> default", bv > dv)
    _row("test AUC: default MLP", f"{dt:.4f}", "", None)
    _row("test AUC: best trial's model", f"{bt:.4f} ({bt - dt:+.4f})", "> default", bt > dt)


def _spin(n: int) -> float:
    t0 = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - t0


def parallel_ceiling() -> float:
    """Speed-up of two processes over one for a pure CPU loop: what two workers can gain here."""
    n = 20_000_000
    one = _spin(n)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_spin, [1, 1])  # start-up (the processes import this script) is not timed
        t0 = time.perf_counter()
        pool.map(_spin, [n, n])
        two = time.perf_counter() - t0
    return 2 * one / two


def throughput(data: Path, out: Path, *, trials: int, epochs: int) -> None:
    base = _base(data, out, epochs)
    base["model"] = {"type": "mlp", "hidden": [64, 64]}
    base["training"]["early_stopping"] = {"patience": 0}  # every trial runs every epoch
    cfg = {
        **base,
        "tuning": {
            "space": {
                "training.optimizer.lr": {"float": [1e-4, 1e-2], "log": True},
                "model.dropout": {"float": [0.0, 0.3]},
            },
            "sampler": "random",
            "seed": 2,
            "pruner": "none",
        },
    }
    path = out.parent / "throughput.yaml"
    path.write_text(yaml.safe_dump(cfg))
    ceiling = parallel_ceiling()
    _row("2 processes / 1 on a pure CPU loop (this machine)", f"{ceiling:.2f}x", "(ceiling)", None)
    rates = {}
    for workers in (2, 1):
        # each session is a fresh `neyman tune` process, as a user runs it (imports, Dask start-up)
        command = [sys.executable, "-m", "neyman", "tune", str(path), "--trials", str(trials)]
        command += ["--workers", str(workers), "--study", f"workers-{workers}"]
        t0 = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        rates[workers] = trials / seconds * 3600
        _row(f"{trials} trials, {workers} worker(s)", f"{seconds:.1f} s = {rates[workers]:.0f}/h", "", None)
    ratio = rates[2] / rates[1]
    _row("trials per hour, 2 workers / 1 worker", f"{ratio:.2f}x", ">= 1.7x", ratio >= 1.7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer epochs")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--events", type=int, default=None, help="events (default 30000, quick 12000)")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    events = args.events or (12_000 if args.quick else 30_000)
    epochs = 4 if args.quick else 6
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="neyman-bench-tune-") as tmp:
        root = Path(tmp)
        data = root / "events.parquet"
        io.write(likelihood_ratio_dataset(events, seed=11), data)
        print(f"{events} events, {len(FEATURES)} features; {epochs} epochs per trial\n")
        print(f"| {'quantity':<52} | {'value':>24} | {'bar':>12} | {'ok':>4} |")
        print(f"|{'-' * 54}|{'-' * 26}|{'-' * 14}|{'-' * 6}|")
        quality(data, root / "runs", trials=args.trials, epochs=epochs)
        if not args.skip_throughput:
            throughput(data, root / "runs", trials=args.trials, epochs=max(2, epochs // 2))


if __name__ == "__main__":
    main()
