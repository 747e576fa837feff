"""Quality bars of the core: optimality, training throughput, BDT wrapper overhead.

Run by hand (not part of the test suite)::

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 python benchmarks/bench_core.py

Every comparison is made within one run (ratios), because these machines are noisy.
Pass ``--quick`` for a smaller, faster pass.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from neyman import metrics
from neyman.models import Arrays, build_model
from neyman.nn import MLP
from neyman.preprocessing import build_preprocessor
from neyman.tasks import make_task
from neyman.testing import TRUE_LOG_LR, gaussian_regression_dataset, likelihood_ratio_dataset
from neyman.training import OptimizerSpec, ScheduleSpec, TensorBatches, Trainer


def _row(name: str, value: str, target: str, ok: bool) -> None:
    print(f"| {name:<44} | {value:>22} | {target:>16} | {'yes' if ok else 'NO':>4} |")


def _trainer(epochs: int) -> Trainer:
    return Trainer(
        epochs=epochs,
        batch_size=1024,
        optimizer=OptimizerSpec(lr=2e-3),
        schedule=ScheduleSpec(name="plateau", patience=3),
        patience=10,
        progress=False,
        seed=1,
    )


def optimality(n_train: int, epochs: int) -> None:
    feats = [f"x{i:02d}" for i in range(12)]
    table = likelihood_ratio_dataset(n_train + 100_000, seed=7)
    x = table.to_numpy(feats, dtype=np.float64)
    y = np.asarray(table["label"])
    # the preprocessing a physicist would choose: log of the positive, pT-like features
    prep = build_preprocessor(feats, scaler="standard", log=["x00", "x04", "x08"])
    xs = prep.fit(x[:n_train]).transform(x).astype(np.float32)
    n_val = n_train // 5
    tr = Arrays(xs[: n_train - n_val], y[: n_train - n_val], np.ones(n_train - n_val))
    va = Arrays(xs[n_train - n_val : n_train], y[n_train - n_val : n_train], np.ones(n_val))
    trainer = _trainer(epochs)
    model = build_model("mlp", make_task("binary"), 12, params={"hidden": [128, 128, 128]}, seed=1, trainer=trainer)
    t0 = time.perf_counter()
    model.fit(tr, va)
    secs = time.perf_counter() - t0
    test = slice(n_train, None)
    auc = metrics.roc_auc(model.predict(xs[test]), y[test])
    optimal = metrics.roc_auc(np.asarray(table[TRUE_LOG_LR])[test], y[test])
    ratio = auc / optimal
    _row(
        f"MLP AUC / optimal AUC ({n_train // 1000}k train, {secs:.0f} s)",
        f"{auc:.4f}/{optimal:.4f}={ratio:.4f}",
        ">= 0.99",
        ratio >= 0.99,
    )

    reg = gaussian_regression_dataset(n_train + 100_000, seed=3)
    rx = reg.to_numpy([f"x{i:02d}" for i in range(4)], dtype=np.float64).astype(np.float32)
    ry = np.asarray(reg["target"])
    trainer = _trainer(epochs)
    g = build_model("mlp", make_task("gaussian"), 4, params={"hidden": [128, 128]}, seed=1, trainer=trainer)
    g.fit(
        Arrays(rx[: n_train - n_val], ry[: n_train - n_val], np.ones(n_train - n_val)),
        Arrays(rx[n_train - n_val : n_train], ry[n_train - n_val : n_train], np.ones(n_val)),
    )
    pred = g.predict(rx[test])
    summary = metrics.regression_summary(
        pred[:, 0], ry[test], sigma=pred[:, 1], true_sigma=np.asarray(reg["true_sigma"])[test]
    )
    assert summary.pull_width is not None and summary.sigma_ratio_median is not None
    _row(
        "gaussian regression: pull width",
        f"{summary.pull_width:.3f}",
        "0.9 - 1.1",
        0.9 <= summary.pull_width <= 1.1,
    )
    _row(
        "gaussian regression: median sigma_pred/sigma_true",
        f"{summary.sigma_ratio_median:.3f}",
        "0.9 - 1.1",
        abs(summary.sigma_ratio_median - 1) <= 0.1,
    )


def throughput(n_events: int, epochs: int) -> None:
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n_events, 18, generator=gen)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).long()
    w = torch.ones(n_events)
    task = make_task("multiclass", n_classes=2)

    def net() -> MLP:
        torch.manual_seed(0)
        return MLP(18, 2, hidden=(200, 100), init="default")

    def bare() -> float:
        model = net()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        t0 = time.perf_counter()
        for _ in range(epochs):
            perm = torch.randperm(n_events, generator=gen)
            for i in range(0, n_events, 1024):
                idx = perm[i : i + 1024]
                opt.zero_grad()
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
        return n_events * epochs / (time.perf_counter() - t0)

    def ours() -> float:
        model = net()
        trainer = Trainer(epochs=epochs, batch_size=1024, patience=0, progress=False, device="cpu")
        data = TensorBatches(x, y, w, device=torch.device("cpu"))
        t0 = time.perf_counter()
        trainer.fit(model, task.loss, data)
        return n_events * epochs / (time.perf_counter() - t0)

    bare(), ours()  # warm up allocator and kernels
    # alternate the two so that a slow spell of the machine hits both alike
    pairs = [(bare(), ours()) for _ in range(3)]
    b = float(np.median([p[0] for p in pairs]))
    o = float(np.median([p[1] for p in pairs]))
    _row("bare PyTorch loop, MLP 18-200-100-2 (samples/s)", f"{b:,.0f}", "reference", True)
    _row("neyman Trainer, same network (samples/s)", f"{o:,.0f}", "", True)
    _row("neyman / bare", f"{o / b:.3f}", ">= 0.9", o / b >= 0.9)


def bdt_overhead(n_events: int, trees: int) -> None:
    import xgboost as xgb

    gen = np.random.default_rng(0)
    x = gen.normal(size=(n_events, 18)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] + 0.5 * gen.normal(size=n_events) > 0).astype(np.int64)
    w = np.ones(n_events)

    def direct() -> float:
        t0 = time.perf_counter()
        d = xgb.QuantileDMatrix(x, label=y, weight=w)
        params = {
            "objective": "binary:logistic",
            "tree_method": "hist",
            "max_depth": 6,
            "eta": 0.1,
            "nthread": 2,
            "seed": 0,
        }
        xgb.train(params, d, num_boost_round=trees, evals=[(d, "train")], verbose_eval=False)
        return time.perf_counter() - t0

    def wrapped() -> float:
        t0 = time.perf_counter()
        params = {"n_estimators": trees, "max_depth": 6, "n_jobs": 2, "early_stopping_rounds": None}
        m = build_model("xgboost", make_task("binary"), 18, params=params)
        m.fit(Arrays(x, y, w))
        return time.perf_counter() - t0

    direct(), wrapped()
    pairs = [(direct(), wrapped()) for _ in range(3)]
    d = float(np.median([p[0] for p in pairs]))
    o = float(np.median([p[1] for p in pairs]))
    _row(f"XGBoost direct, {trees} trees on {n_events // 1000}k (s)", f"{d:.2f}", "reference", True)
    _row("neyman XGBoost wrapper (s)", f"{o:.2f}", "", True)
    _row("wrapper / direct time", f"{o / d:.3f}", "<= 1.05", o / d <= 1.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller samples")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"| {'quantity':<44} | {'value':>22} | {'target':>16} | {'met':>4} |")
    print(f"|{'-' * 46}|{'-' * 24}|{'-' * 18}|{'-' * 6}|")
    if args.quick:
        optimality(50_000, 15)
        throughput(200_000, 1)
        bdt_overhead(50_000, 50)
    else:
        optimality(200_000, 60)
        throughput(1_000_000, 1)
        bdt_overhead(200_000, 200)


if __name__ == "__main__":
    main()
