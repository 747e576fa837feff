"""Per-event model uncertainty: deep ensembles, MC dropout and Bayesian layers against the plain MLP.

Two problems with a known answer (``neyman.testing``): the known-likelihood-ratio
classification (12 features) and the Gaussian regression with known σ(x).  Every
model is a ``neyman train`` run of the MLP (``model.uncertainty``) scored on an
external test file with ``neyman predict``, which adds ``score_std``/``logit_std``
(classification) or ``sigma_model`` (regression).  "Shifted" events are the test
events moved out of the training support: every feature ``x → m + 3 (x - m)``
around its median ``m``.

Bars (issue "taggers an analysis can use", benchmark 2): the Bayesian and ensemble
models' AUC within 0.003 of the plain MLP (or above it); 68% and 95% interval
coverage of the regression (``ŷ ± z sqrt(σ² + σ_model²)``) within ±3 points on
held-out events; the model uncertainty (``logit_std``, ``sigma_model``) at least 2×
larger on shifted events than on test events; the cost in training and
inference time relative to the plain model (reported, no bar).  The column
``k`` is the factor on σ and σ_model that each uncertainty model fitted on its
own validation events (``interval_scale_``: the 68.27% quantile of the pulls);
the test events never enter it.

Usage::

    python benchmarks/bench_uncertainty.py [--events 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neyman import io, metrics
from neyman.runs import load_run
from neyman.table import Table
from neyman.testing import gaussian_regression_dataset, likelihood_ratio_dataset
from neyman.workflows.predict import predict
from neyman.workflows.train import train

KINDS = {
    "plain": {},
    "ensemble (5)": {"uncertainty": "ensemble", "ensemble": 5},
    "mc_dropout (0.1)": {"uncertainty": "mc_dropout", "dropout": 0.1},
    "bayesian": {"uncertainty": "bayesian"},
}


def _shifted(table: Table, features: list[str]) -> Table:
    out = table
    for f in features:
        x = np.asarray(table[f], dtype=np.float64)
        m = float(np.median(x))
        out = out.with_column(f, m + 3.0 * (x - m))
    return out


def _files(out: Path, events: int) -> dict[str, dict[str, Path]]:
    files: dict[str, dict[str, Path]] = {}
    for name, make, features in (
        ("classification", lambda n, s: likelihood_ratio_dataset(n, seed=s), [f"x{i:02d}" for i in range(12)]),
        ("regression", lambda n, s: gaussian_regression_dataset(n, seed=s), [f"x{i:02d}" for i in range(4)]),
    ):
        train_table, test_table = make(events, 1), make(events // 2, 2)
        paths = {"train": out / f"{name}_train.parquet", "test": out / f"{name}_test.parquet"}
        io.write(train_table, paths["train"])
        io.write(test_table, paths["test"])
        paths["shifted"] = out / f"{name}_shifted.parquet"
        io.write(_shifted(test_table, features), paths["shifted"])
        files[name] = paths
    return files


def _run(out: Path, problem: str, paths: dict[str, Path], kind: str, params: dict[str, object]) -> dict[str, float]:
    tag = f"{problem}-{kind.split()[0]}"
    data: dict[str, object] = {"sources": [{"path": str(paths["train"])}]}
    if problem == "classification":
        data.update({"label_column": "label", "features": [f"x{i:02d}" for i in range(12)]})
        task = {"type": "binary"}
    else:
        data.update({"target": "target", "features": [f"x{i:02d}" for i in range(4)]})
        task = {"type": "gaussian"}
    config = {
        "name": tag,
        "output_dir": str(out / "runs"),
        "seed": 1,
        "data": data,
        "task": task,
        "model": {"type": "mlp", **params},
        "split": {"train": 0.8, "val": 0.2, "test": 0.0},
        "training": {"progress": False},
    }
    t0 = time.perf_counter()
    run = train(config, force=True).run_dir
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    predict(run, paths["test"], out / f"{tag}-test.parquet", force=True)
    infer_s = time.perf_counter() - t0
    predict(run, paths["shifted"], out / f"{tag}-shifted.parquet", force=True)
    test = io.read(out / f"{tag}-test.parquet")
    shifted = io.read(out / f"{tag}-shifted.parquet")
    row = {"fit_s": fit_s, "infer_s": infer_s}
    if problem == "classification":
        row["auc"] = metrics.roc_auc(np.asarray(test["score"]), np.asarray(test["label"]))
        spread = "logit_std"
    else:
        y, pred, sigma = (np.asarray(test[c]) for c in ("target", "prediction", "sigma"))
        total = np.hypot(sigma, np.asarray(test["sigma_model"])) if "sigma_model" in test else sigma
        pull = np.abs(y - pred) / total
        row["cover68"], row["cover95"] = float(np.mean(pull < 1.0)), float(np.mean(pull < 1.959964))
        row["sigma_ratio"] = float(np.median(sigma / np.asarray(test["true_sigma"])))
        spread = "sigma_model"
        row["k"] = float(getattr(load_run(run).models[0], "interval_scale_", 1.0))
    if spread in test:
        row["spread_in"] = float(np.mean(np.asarray(test[spread])))
        row["spread_out"] = float(np.mean(np.asarray(shifted[spread])))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="training events per problem")
    args = parser.parse_args()
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        files = _files(out, args.events)
        for problem, paths in files.items():
            results[problem] = {}
            for kind, params in KINDS.items():
                results[problem][kind] = _run(out, problem, paths, kind, params)
                print(f"  {problem} {kind}: {results[problem][kind]}", flush=True)
    verdict = {kind: True for kind in KINDS if kind != "plain"}
    plain = results["classification"]["plain"]
    print(f"\nknown likelihood ratio, {args.events} training / {args.events // 2} test events\n")
    print("| model            | AUC    | ΔAUC    | logit_std test | shifted | ratio | fit × | infer × |")
    print("|------------------|--------|---------|----------------|---------|-------|-------|---------|")
    for kind, r in results["classification"].items():
        delta = r["auc"] - plain["auc"]
        ratio = r["spread_out"] / r["spread_in"] if "spread_in" in r else float("nan")
        if kind != "plain":
            verdict[kind] &= delta > -0.003 and ratio >= 2.0
        spread = (
            f"{r['spread_in']:.3f}          | {r['spread_out']:.3f}  "
            if "spread_in" in r
            else "-              | -      "
        )
        print(
            f"| {kind:<16} | {r['auc']:.4f} | {delta:+.4f} | {spread} | {ratio:5.2f} "
            f"| {r['fit_s'] / plain['fit_s']:5.2f} | {r['infer_s'] / plain['infer_s']:7.2f} |"
        )
    plain = results["regression"]["plain"]
    print(f"\nGaussian regression with known σ(x), {args.events} training / {args.events // 2} test events\n")
    print("| model | 68% cover | 95% cover | σ/σ_true | k | σ_model test | shifted | ratio | fit × | infer × |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind, r in results["regression"].items():
        ratio = r["spread_out"] / r["spread_in"] if "spread_in" in r else float("nan")
        if kind != "plain":
            covered = abs(r["cover68"] - 0.6827) <= 0.03 and abs(r["cover95"] - 0.9545) <= 0.03
            verdict[kind] &= covered and ratio >= 2.0
        spread = (
            f"{r['spread_in']:.4f}       | {r['spread_out']:.4f}  " if "spread_in" in r else "-            | -      "
        )
        print(
            f"| {kind:<16} | {r['cover68']:.4f}    | {r['cover95']:.4f}    | {r['sigma_ratio']:.3f}    "
            f"| {r['k']:.3f} | {spread} "
            f"| {ratio:5.2f} | {r['fit_s'] / plain['fit_s']:5.2f} | {r['infer_s'] / plain['infer_s']:7.2f} |"
        )
    print()
    for kind, met in verdict.items():
        print(f"bars met by {kind}: {'yes' if met else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
