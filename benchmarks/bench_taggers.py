"""Jet taggers on one generated top-vs-QCD sample: τ32 cut, BDT, CNN, PFN, EFN, ParticleNet, transformer.

Run by hand (not part of the test suite)::

    neyman generate top_vs_qcd --events 170000 --workers 2 --seed 2026 --out top.parquet
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 \\
        python benchmarks/bench_taggers.py top.parquet --out bench-runs

Every model trains through ``neyman.train`` on the same split (fraction split with
one seed: train 25%, validation 10%, test 65%, so that 170k jets leave ≥ 50k QCD
jets in the test split and the rejection at ε_S = 0.3 rests on ≥ 50 events).
Printed per tagger: test AUC and background rejection 1/ε_B at ε_S = 0.3 and 0.5
with Poisson-bootstrap uncertainties, training time, training and inference
jets/s, forward FLOPs per jet and the fraction of the machine's float32
matrix-multiply rate (measured in the same run) that training and inference reach.
Training FLOPs are taken as 3× the forward pass (forward + backward).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neyman import io, metrics
from neyman.nn import flops_per_jet
from neyman.runs import load_run
from neyman.table import EVENT_ID, LABEL, SPLIT
from neyman.workflows.train import train

HIGH_LEVEL = ["mass", "softdrop_mass", "n_constituents", "tau1", "tau2", "tau3", "tau21", "tau32", "c2", "d2"]
SPLIT_FRACTIONS = {"method": "fraction", "train": 0.25, "val": 0.10, "test": 0.65}


def matmul_rate(threads: int) -> float:
    """float32 FLOP/s of a large matrix product on this machine (the best of a few)."""
    torch.set_num_threads(threads)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * 2048**3 / (time.perf_counter() - start))
    return best


def bootstrap(scores: np.ndarray, labels: np.ndarray, n: int = 50, seed: int = 1) -> dict[str, tuple[float, float]]:
    """AUC and rejections at ε_S = 0.3, 0.5 with Poisson-bootstrap standard deviations."""
    rng = np.random.default_rng(seed)

    def numbers(w: np.ndarray | None) -> list[float]:
        roc = metrics.roc_curve(scores, labels, sample_weight=w)
        return [
            metrics.roc_auc(scores, labels, sample_weight=w),
            metrics.background_rejection(roc, 0.3),
            metrics.background_rejection(roc, 0.5),
        ]

    central = numbers(None)
    replicas = np.array([numbers(rng.poisson(1.0, len(scores)).astype(np.float64)) for _ in range(n)])
    finite = np.where(np.isfinite(replicas), replicas, np.nan)
    spread = np.nanstd(finite, axis=0)
    return {k: (c, float(s)) for k, c, s in zip(("auc", "r30", "r50"), central, spread, strict=True)}


def configs(data: Path, out: Path, epochs: int, heavy_epochs: int, constituents: int) -> dict[str, dict[str, Any]]:
    base: dict[str, Any] = {
        "output_dir": str(out),
        "seed": 1,
        "data": {"sources": [{"path": str(data)}], "label_column": LABEL, "event_id": EVENT_ID},
        "split": SPLIT_FRACTIONS,
    }

    def neural(family: str, preset: str, n_epochs: int, lr: float, batch: int, **data: Any) -> dict[str, Any]:
        return {
            **base,
            "name": family,
            "data": {**base["data"], **data},
            "model": {"type": family, "preset": preset},
            "training": {
                "epochs": n_epochs,
                "batch_size": batch,
                "optimizer": {"name": "adam", "lr": lr},
                # an annealed learning rate: with a flat one ParticleNet-Lite stayed 0.0012 below weaver's AUC
                "schedule": {"name": "cosine"},
                "early_stopping": {"patience": 0},
                "progress": False,
            },
        }

    particles = {"representation": "particles", "particles": {"n_constituents": constituents}}
    return {
        "bdt": {
            **base,
            "name": "bdt",
            "data": {**base["data"], "features": HIGH_LEVEL},
            "model": {"type": "xgboost", "n_estimators": 1000, "max_depth": 5, "learning_rate": 0.05},
        },
        "cnn": neural("cnn", "lite", epochs, 1e-3, 256, representation="image"),
        "pfn": neural("pfn", "full", epochs, 1e-3, 256, **particles),
        "efn": neural("efn", "full", epochs, 1e-3, 256, **particles),
        "particlenet": neural("particlenet", "lite", heavy_epochs, 3e-3, 128, **particles),
        "transformer": neural("transformer", "lite", heavy_epochs, 1e-3, 128, **particles),
    }


def inference_rate(run_dir: Path, data: Path, n: int) -> tuple[float, float]:
    """(model jets/s, input-building jets/s) on ``n`` jets, batch 1024, inputs built once beforehand."""
    trained = load_run(run_dir)
    table = io.read(data, entry_stop=n)
    n = len(table)
    start = time.perf_counter()
    x = trained.inputs(table)
    build = n / (time.perf_counter() - start)
    prepared = trained.preprocessors[0].transform(x)
    if isinstance(prepared, np.ndarray):
        prepared = prepared.astype(np.float32)
    model = trained.models[0]
    model.predict(prepared[:1024])  # warm-up
    start = time.perf_counter()
    model.predict(prepared)
    return n / (time.perf_counter() - start), build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="a top_vs_qcd file written by neyman generate")
    parser.add_argument("--out", type=Path, default=Path("bench-taggers"))
    parser.add_argument("--epochs", type=int, default=30, help="maximum epochs of CNN, PFN, EFN")
    parser.add_argument("--heavy-epochs", type=int, default=12, help="maximum epochs of ParticleNet, transformer")
    parser.add_argument("--constituents", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="models to run (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = matmul_rate(args.threads)
    print(f"machine float32 matmul rate ({args.threads} threads): {peak / 1e9:.0f} GFLOP/s")
    jets = io.read(args.data, columns=[LABEL, EVENT_ID, "tau32"])
    rows: list[dict[str, Any]] = []
    cfgs = configs(args.data, args.out, args.epochs, args.heavy_epochs, args.constituents)
    test_mask: np.ndarray | None = None
    for name, cfg in cfgs.items():
        if args.only and name not in args.only:
            continue
        print(f"training {name} ...", flush=True)
        result = train(cfg, force=True)
        preds = io.read(result.run_dir / "predictions.parquet")
        test = np.asarray(preds[SPLIT]) == 2
        scores, labels = np.asarray(preds["score"])[test], np.asarray(preds[LABEL])[test]
        if test_mask is None:
            # predictions.parquet holds the jets in file order (jets of one event share an event_id)
            assert np.array_equal(np.asarray(preds[EVENT_ID]), np.asarray(jets[EVENT_ID]))
            test_mask = test
            tau = -np.asarray(jets["tau32"])[test_mask]
            row = {"model": "tau32 cut", **bootstrap(tau, np.asarray(jets[LABEL])[test_mask])}
            row.update(
                n_train=0, n_test=int(test_mask.sum()), n_test_bkg=int((np.asarray(jets[LABEL])[test_mask] == 0).sum())
            )
            rows.append(row)
        row = {"model": name, **bootstrap(scores, labels)}
        history = result.run_dir / "history.csv"
        n_train = int(result.metrics["train"]["n_events"])
        row.update(n_train=n_train, n_test=int(test.sum()), n_test_bkg=int((labels == 0).sum()))
        row["train_s"] = result.metrics["training_seconds"]
        if history.is_file() and cfg["model"]["type"] != "xgboost":
            with history.open() as f:
                hist = list(csv.DictReader(f))
            epoch_s = sum(float(h["seconds"]) for h in hist)
            row["epochs"] = len(hist)
            row["train_jets_s"] = n_train * len(hist) / epoch_s
            network = load_run(result.run_dir).models[0].network  # type: ignore[attr-defined]
            row["mflop"] = flops_per_jet(network, args.constituents) / 1e6
        row["infer_jets_s"], row["build_jets_s"] = inference_rate(result.run_dir, args.data, 20_000)
        if "mflop" in row:
            row["train_frac"] = 3 * row["mflop"] * 1e6 * row["train_jets_s"] / peak
            row["infer_frac"] = row["mflop"] * 1e6 * row["infer_jets_s"] / peak
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items()}, default=str), flush=True)
    print()
    print(
        f"| {'tagger':<12} | {'AUC':>15} | {'1/eB @ eS=0.3':>15} | {'1/eB @ eS=0.5':>15} | {'train s':>8} "
        f"| {'epochs':>6} | {'train jets/s':>12} | {'infer jets/s':>12} | {'MFLOP/jet':>9} | {'train %peak':>11} "
        f"| {'infer %peak':>11} |"
    )
    print("|" + "|".join("-" * w for w in (14, 17, 17, 17, 10, 8, 14, 14, 11, 13, 13)) + "|")
    for r in rows:

        def fmt(key: str, spec: str, scale: float = 1.0, r: dict[str, Any] = r) -> str:
            return format(r[key] * scale, spec) if key in r else ""

        print(
            f"| {r['model']:<12} | {r['auc'][0]:.4f}±{r['auc'][1]:.4f} | {r['r30'][0]:7.0f}±{r['r30'][1]:<6.0f} "
            f"| {r['r50'][0]:7.1f}±{r['r50'][1]:<6.1f} | {fmt('train_s', '8.0f'):>8} | {fmt('epochs', '6.0f'):>6} "
            f"| {fmt('train_jets_s', '12.0f'):>12} | {fmt('infer_jets_s', '12.0f'):>12} | {fmt('mflop', '9.2f'):>9} "
            f"| {fmt('train_frac', '10.1f', 100):>11} | {fmt('infer_frac', '10.1f', 100):>11} |"
        )
    first = rows[0]
    print(f"\ntest split: {first['n_test']} jets, {first['n_test_bkg']} QCD; training jets: {rows[1]['n_train']}")


if __name__ == "__main__":
    main()
