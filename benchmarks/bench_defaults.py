"""Defaults only: how close the first ``neyman train`` comes to the limit, against peers' defaults.

Run by hand (not part of the test suite)::

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 python benchmarks/bench_defaults.py

Three sections, every peer in the same run on the same events:

1. **Known likelihood ratio.** Gaussian classes (their log-likelihood ratio is exact) seen
   through three families of invertible maps that this repository's tests never use: heavy
   tails, non-monotone mixing, and discrete features (each value split into an integer and a
   remainder).  An invertible map leaves the likelihood ratio unchanged, so the optimal
   (Neyman–Pearson) AUC is known.  200k events are given to ``neyman train`` with an external
   100k test file; the default MLP must reach 0.995 of the optimal AUC.
2. **Small data**, 5k and 10k training events of a 24-feature synthetic sample and of generated
   ``susy_vs_ww`` events (low + high level): the default MLP against scikit-learn's
   ``MLPClassifier()``, the default BDT against ``HistGradientBoostingClassifier()``, and the
   winner of the booked methods (chosen on validation) against every peer.
3. **Large data**, 1M events: the default MLP's training throughput against a bare PyTorch loop
   (the one of ``bench_core.py``) and its AUC against the bare loop's.
4. **Held-out maps** (reported, no bar; ``--only heldout``): the same classes through twelve
   further maps chosen after the defaults were, to see whether they carry: huge offsets, mixed
   units, products, saturating functions, copies and linear mixtures, a discontinuous map,
   polar coordinates, energy beside momentum, small integer counts, 88 uninformative features
   added, and two with values missing at random (a -999 sentinel; objects absent, as zeros),
   whose optimum marginalises the missing coordinates.

Pass ``--quick`` for a smaller pass (not the bars' sizes) and ``--only`` to run some sections.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import neyman
from neyman import io, metrics
from neyman.table import Table
from neyman.workflows.predict import predict

ROWS: list[tuple[str, str, str, bool | None]] = []


def _row(name: str, value: str, bar: str, ok: bool | None) -> None:
    ROWS.append((name, value, bar, ok))
    mark = "" if ok is None else ("yes" if ok else "NO")
    print(f"| {name:<58} | {value:>24} | {bar:>18} | {mark:>4} |", flush=True)


# -- the known-likelihood-ratio samples -------------------------------------------------------------


def _gaussian_classes(n_features: int, seed: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    gen = np.random.default_rng(seed)
    out = []
    for k in range(2):
        mean = 0.3 * gen.normal(size=n_features) if k else np.zeros(n_features)
        a = gen.normal(size=(n_features, n_features)) / np.sqrt(n_features)
        cov = 0.6 * (a @ a.T) + np.diag(np.exp(0.3 * gen.normal(size=n_features)) ** 2)
        d = np.sqrt(np.diag(cov))
        out.append((mean, cov / np.outer(d, d) * (1.0 + 0.25 * k) ** 2))
    return tuple(out)


def _log_gauss(z: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    chol = np.linalg.cholesky(cov)
    sol = np.linalg.solve(chol, (z - mean).T)
    return np.asarray(-0.5 * np.sum(sol**2, axis=0) - np.sum(np.log(np.diag(chol))))


def heavy_tails(z: np.ndarray) -> dict[str, np.ndarray]:
    """Log-normal spectra, two-sided exponential tails and a cubic: every feature heavy-tailed."""
    cols = {}
    for i in range(z.shape[1]):
        kind = i % 3
        cols[f"f{i:02d}"] = (
            25.0 * np.exp(1.3 * z[:, i])
            if kind == 0
            else np.sinh(2.0 * z[:, i])
            if kind == 1
            else z[:, i] ** 3 + z[:, i]
        )
    return cols


def non_monotone(z: np.ndarray) -> dict[str, np.ndarray]:
    """Pairs of features swirled by an angle growing with their radius: invertible, non-monotone in each."""
    cols = {}
    for i in range(0, z.shape[1] - 1, 2):
        a, b = z[:, i], z[:, i + 1]
        r, phi = np.hypot(a, b), np.arctan2(b, a) + 1.5 * np.hypot(a, b)
        cols[f"f{i:02d}"], cols[f"f{i + 1:02d}"] = r * np.cos(phi), r * np.sin(phi)
    if z.shape[1] % 2:
        cols[f"f{z.shape[1] - 1:02d}"] = z[:, -1]
    return cols


def discrete(z: np.ndarray) -> dict[str, np.ndarray]:
    """Half the features split into an integer count and a remainder; the rest exponentiated."""
    cols = {}
    for i in range(z.shape[1]):
        if i % 2 == 0:
            scaled = 2.0 * z[:, i] + 6.0
            cols[f"n{i:02d}"] = np.floor(scaled)
            cols[f"r{i:02d}"] = scaled - np.floor(scaled)
        else:
            cols[f"f{i:02d}"] = np.exp(0.8 * z[:, i])
    return cols


MAPS: dict[str, Callable[[np.ndarray], dict[str, np.ndarray]]] = {
    "heavy tails": heavy_tails,
    "non-monotone": non_monotone,
    "discrete": discrete,
}

# -- held-out maps (section 4): chosen after the defaults, reported without a bar ---------------------


def _pairs(z: np.ndarray, pair: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]) -> dict:
    cols = {}
    for i in range(0, z.shape[1] - 1, 2):
        cols[f"a{i:02d}"], cols[f"b{i:02d}"] = pair(z[:, i], z[:, i + 1])
    return cols


def _missing(z: np.ndarray, value: float, share: float, columns: range) -> dict[str, np.ndarray]:
    """Features where a random ``share`` of events holds ``value`` (their own value is lost)."""
    cols = {f"f{i:02d}": z[:, i].copy() for i in range(z.shape[1])}
    for i in columns:
        cols[f"f{i:02d}"][np.random.default_rng(1000 + i).random(len(z)) < share] = value
    return cols


HELD_OUT: dict[str, Callable[[np.ndarray], dict[str, np.ndarray]]] = {
    "offset 1e8": lambda z: {f"f{i:02d}": 1e8 + 50.0 * z[:, i] if i % 2 == 0 else z[:, i] for i in range(z.shape[1])},
    "mixed units": lambda z: {f"f{i:02d}": 10.0 ** (6 - 3 * (i % 5)) * z[:, i] for i in range(z.shape[1])},
    "products": lambda z: _pairs(z, lambda a, b: (a * np.exp(0.5 * b), np.exp(0.5 * b))),
    "saturating": lambda z: {f"f{i:02d}": np.tanh(1.5 * z[:, i]) for i in range(z.shape[1])},
    "copies and mixtures": lambda z: {
        **{f"f{i:02d}": z[:, i] for i in range(z.shape[1])},
        **{f"c{i:02d}": z[:, i].copy() for i in range(6)},
        **{f"m{i:02d}": z[:, i] - 0.5 * z[:, i + 1] for i in range(6)},
    },
    "gaps": lambda z: {f"f{i:02d}": z[:, i] + 10.0 * np.sign(z[:, i]) for i in range(z.shape[1])},
    "polar": lambda z: _pairs(z, lambda a, b: (np.hypot(a + 0.5, b), np.arctan2(b, a + 0.5))),
    "energy beside momentum": lambda z: _pairs(
        z, lambda a, b: (500.0 * np.exp(0.3 * a), np.hypot(500.0 * np.exp(0.3 * a), 20.0 * np.exp(0.3 * b)))
    ),
    "integer counts": lambda z: {f"n{i:02d}": np.floor(2.0 * z[:, i] + 8.0) for i in range(z.shape[1])},
    "88 noise features": lambda z: {
        **{f"f{i:02d}": z[:, i] for i in range(z.shape[1])},
        **{f"u{k:02d}": np.random.default_rng(k).normal(size=len(z)) for k in range(88)},
    },
    "sentinel -999": lambda z: _missing(z, -999.0, 0.33, range(1, 12, 4)),
    "absent objects (zeros)": lambda z: {
        k: np.where(v == 0.0, 0.0, 30.0 * np.exp(0.5 * v)) for k, v in _missing(z, 0.0, 0.4, range(12)).items()
    },
}
"""Twelve maps of the same classes; the last two lose the value of some coordinates at random."""

MISSING = {"sentinel -999": -999.0, "absent objects (zeros)": 0.0}


def marginal_log_lr(z: np.ndarray, present: np.ndarray, n_features: int) -> np.ndarray:
    """The log-likelihood ratio of the coordinates present in each event (the others marginalised)."""
    (mu_b, cov_b), (mu_s, cov_s) = _gaussian_classes(n_features, 31 * n_features)
    out = np.zeros(len(z))
    keys = present @ (1 << np.arange(n_features))
    for key in np.unique(keys):
        rows = keys == key
        idx = np.flatnonzero(present[np.flatnonzero(rows)[0]])
        if idx.size:
            zz = z[np.ix_(rows, idx)]
            out[rows] = _log_gauss(zz, mu_s[idx], cov_s[np.ix_(idx, idx)]) - _log_gauss(
                zz, mu_b[idx], cov_b[np.ix_(idx, idx)]
            )
    return out


def known_lr_sample(
    n: int,
    n_features: int,
    mapping: Callable[[np.ndarray], dict[str, np.ndarray]],
    seed: int,
    missing: float | None = None,
) -> Table:
    (mu_b, cov_b), (mu_s, cov_s) = _gaussian_classes(n_features, 31 * n_features)
    gen = np.random.default_rng(seed)
    label = (gen.random(n) < 0.5).astype(np.int64)
    z = np.empty((n, n_features))
    z[label == 1] = gen.multivariate_normal(mu_s, cov_s, size=int(label.sum()))
    z[label == 0] = gen.multivariate_normal(mu_b, cov_b, size=int(n - label.sum()))
    cols = mapping(z)
    cols["label"] = label
    cols["true_log_lr"] = _log_gauss(z, mu_s, cov_s) - _log_gauss(z, mu_b, cov_b)
    if missing is not None:  # the same map gives the same missing events: the coordinates still known
        present = np.column_stack([cols[f"f{i:02d}"] != missing for i in range(n_features)])
        cols["true_log_lr"] = marginal_log_lr(z, present, n_features)
    return Table(cols)


def _write(table: Table, path: Path) -> Path:
    io.write(table, path)
    return path


def _features(table: Table) -> list[str]:
    return [c for c in table.column_names if c not in ("label", "true_log_lr")]


def _config(train: Path, test: Path, model: str, work: Path, name: str, features: list[str]) -> dict[str, object]:
    """Every default, with the test file external (``--test-data``): all else trains but validation."""
    sources = [{"path": str(train)}, {"path": str(test), "test": True}]
    return {
        "name": name,
        "output_dir": str(work / "runs"),
        "data": {"sources": sources, "label_column": "label", "features": features},
        "model": {"type": model},
        "training": {"progress": False},
    }


def neyman_test_auc(
    train: Path, test: Path, model: str, work: Path, name: str, features: list[str]
) -> tuple[float, float]:
    """Train with every default (the test file external), score the test file: (AUC, seconds)."""
    t0 = time.perf_counter()
    run = neyman.train(_config(train, test, model, work, name, features), force=True)
    seconds = time.perf_counter() - t0
    out = predict(run.run_dir, test, work / f"{name}-scores.parquet", force=True)
    scored = io.read(out.output)
    return metrics.roc_auc(np.asarray(scored["score"]), np.asarray(scored["label"])), seconds


def section_known_lr(work: Path, n_train: int, n_test: int) -> None:
    print("\n## 1. Known likelihood ratio (defaults; 12 Gaussian features through three maps)\n")
    _row("sample", "AUC / optimal", "bar", None)
    for i, (family, mapping) in enumerate(MAPS.items()):
        train = _write(known_lr_sample(n_train, 12, mapping, seed=100 + i), work / f"lr{i}-train.parquet")
        test_table = known_lr_sample(n_test, 12, mapping, seed=200 + i)
        test = _write(test_table, work / f"lr{i}-test.parquet")
        optimal = metrics.roc_auc(np.asarray(test_table["true_log_lr"]), np.asarray(test_table["label"]))
        feats = _features(test_table)
        mlp, secs = neyman_test_auc(train, test, "mlp", work, f"lr{i}-mlp", feats)
        _row(
            f"{family}: default MLP ({secs:.0f} s)",
            f"{mlp:.4f}/{optimal:.4f}={mlp / optimal:.4f}",
            ">= 0.995",
            mlp / optimal >= 0.995,
        )
        bdt, secs = neyman_test_auc(train, test, "xgboost", work, f"lr{i}-bdt", feats)
        _row(
            f"{family}: default BDT ({secs:.0f} s)", f"{bdt:.4f}/{optimal:.4f}={bdt / optimal:.4f}", "(reported)", None
        )


def section_held_out(work: Path, n_train: int, n_test: int) -> None:
    print("\n## 4. Held-out maps (defaults; reported, no bar)\n")
    _row("sample", "AUC / optimal", "", None)
    for i, (family, mapping) in enumerate(HELD_OUT.items()):
        missing = MISSING.get(family)
        train = _write(known_lr_sample(n_train, 12, mapping, 300 + i, missing), work / f"ho{i}-train.parquet")
        test_table = known_lr_sample(n_test, 12, mapping, 400 + i, missing)
        test = _write(test_table, work / f"ho{i}-test.parquet")
        optimal = metrics.roc_auc(np.asarray(test_table["true_log_lr"]), np.asarray(test_table["label"]))
        for model, label in (("mlp", "MLP"), ("xgboost", "BDT")):
            auc, secs = neyman_test_auc(train, test, model, work, f"ho{i}-{model}", _features(test_table))
            _row(f"{family}: default {label} ({secs:.0f} s)", f"{auc:.4f}/{optimal:.4f}={auc / optimal:.4f}", "", None)


# -- small data ------------------------------------------------------------------------------------


def _sklearn_peers(train: Table, test: Table, features: list[str]) -> dict[str, float]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neural_network import MLPClassifier

    x, y = train.to_numpy(features, dtype=np.float64), np.asarray(train["label"])
    xt, yt = test.to_numpy(features, dtype=np.float64), np.asarray(test["label"])
    out = {}
    for name, est in (
        ("sklearn MLPClassifier()", MLPClassifier()),
        ("HistGradientBoostingClassifier()", HistGradientBoostingClassifier()),
    ):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(x, y)
        out[name] = metrics.roc_auc(est.predict_proba(xt)[:, 1], yt)
    return out


def _booked_winner(train: Path, test: Path, work: Path, name: str, features: list[str]) -> tuple[str, float]:
    """Book mlp, xgboost, lightgbm and fisher on one split; the best on validation, scored on the test file."""
    best: tuple[float, str, float] | None = None
    for model in ("mlp", "xgboost", "lightgbm", "fisher"):
        run = neyman.train(_config(train, test, model, work, f"{name}-{model}", features), force=True)
        val = float(run.metrics["val"]["auc"])  # the choice is made on validation, never on the test file
        scored = io.read(predict(run.run_dir, test, work / f"{name}-{model}.parquet", force=True).output)
        auc = metrics.roc_auc(np.asarray(scored["score"]), np.asarray(scored["label"]))
        if best is None or val > best[0]:
            best = (val, model, auc)
    assert best is not None
    return best[1], best[2]


def _small_case(label: str, train_t: Table, test_t: Table, work: Path) -> None:
    feats = _features(test_t)
    train, test = _write(train_t, work / f"{label}-train.parquet"), _write(test_t, work / f"{label}-test.parquet")
    mlp, _ = neyman_test_auc(train, test, "mlp", work, f"{label}-mlp", feats)
    bdt, _ = neyman_test_auc(train, test, "xgboost", work, f"{label}-bdt", feats)
    peers = _sklearn_peers(train_t, test_t, feats)
    winner, win_auc = _booked_winner(train, test, work, label, feats)
    sk_mlp, hgb = peers["sklearn MLPClassifier()"], peers["HistGradientBoostingClassifier()"]
    _row(f"{label}: default MLP vs MLPClassifier()", f"{mlp:.4f} vs {sk_mlp:.4f}", ">=", mlp >= sk_mlp)
    _row(f"{label}: default BDT vs HistGradientBoosting()", f"{bdt:.4f} vs {hgb:.4f}", ">=", bdt >= hgb)
    _row(
        f"{label}: booked winner ({winner}) vs best peer",
        f"{win_auc:.4f} vs {max(peers.values()):.4f}",
        ">= every peer",
        win_auc >= max(peers.values()),
    )


def _susy(work: Path, n: int) -> Table | None:
    out = work / f"susy_vs_ww_{n}.parquet"
    if not out.exists():
        cmd = [
            sys.executable,
            "-m",
            "neyman",
            "generate",
            "susy_vs_ww",
            "-n",
            str(n),
            "-o",
            str(out),
            "-q",
            "--workers",
            "2",
        ]
        if subprocess.run(cmd, check=False).returncode != 0:
            return None
    return io.read(out)


def section_small(work: Path, sizes: tuple[int, ...], n_test: int) -> None:
    print("\n## 2. Small data (defaults; external test files)\n")
    _row("sample", "AUC", "bar", None)
    for n in sizes:
        synthetic_train = known_lr_sample(n, 24, non_monotone, seed=300 + n)
        synthetic_test = known_lr_sample(n_test, 24, non_monotone, seed=400 + n)
        _small_case(
            f"synthetic 24 features, {n // 1000}k",
            synthetic_train.drop(["true_log_lr"]),
            synthetic_test.drop(["true_log_lr"]),
            work,
        )
    susy = _susy(work, max(sizes) + n_test)
    if susy is None:
        _row("susy_vs_ww: generation failed", "-", "", False)
        return
    keep = [c for c in susy.column_names if c not in ("weight", "event_id", "source", "process")]
    numeric = [c for c in keep if c == "label" or np.issubdtype(np.asarray(susy[c]).dtype, np.number)]
    # the generated file holds the signal first: shuffle once (fixed seed) before taking samples
    susy = susy.select(numeric).take(np.random.default_rng(17).permutation(len(susy)))
    test_t = susy.take(np.arange(len(susy) - n_test, len(susy)))
    for n in sizes:
        _small_case(f"susy_vs_ww low+high level, {n // 1000}k", susy.take(np.arange(n)), test_t, work)


# -- large data ------------------------------------------------------------------------------------


def section_large(work: Path, n_events: int) -> None:
    import torch

    from neyman.nn import MLP

    print("\n## 3. Large data (defaults; throughput against a bare PyTorch loop)\n")
    _row("measure", "value", "bar", None)
    table = known_lr_sample(n_events + 200_000, 12, heavy_tails, seed=500)
    feats = _features(table)
    everything = {k: np.asarray(table[k]) for k in table.column_names}
    train_t = Table({k: v[:n_events] for k, v in everything.items()})
    test_t = Table({k: v[n_events:] for k, v in everything.items()})
    train, test = (
        _write(train_t.drop(["true_log_lr"]), work / "large-train.parquet"),
        _write(test_t, work / "large-test.parquet"),
    )
    # the bare loop: standard-scaled inputs, the same network, Adam, cosine, batch 1024, all in memory.
    # Its 10 epochs give the AUC; the rates are measured in three alternations of two bare epochs and
    # a two-epoch default training, each side the median of its per-epoch rates, so that a slow spell
    # of this shared machine hits both alike
    x = train_t.to_numpy(feats, dtype=np.float64)
    mean, std = x.mean(0), x.std(0) + 1e-12
    xs = torch.tensor((x - mean) / std, dtype=torch.float32)
    ys = torch.tensor(np.asarray(train_t["label"]), dtype=torch.float32)
    torch.manual_seed(0)
    net = MLP(len(feats), 1, hidden=(128, 128, 128), activation="gelu")  # the default plain network
    epochs = 10
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    bare_rates: list[float] = []

    def bare_epochs(k: int) -> None:
        for _ in range(k):
            t0 = time.perf_counter()
            perm = torch.randperm(len(ys))
            for start in range(0, len(ys), 1024):
                idx = perm[start : start + 1024]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(net(xs[idx]).squeeze(-1), ys[idx])
                loss.backward()
                opt.step()
            sched.step()
            bare_rates.append(len(ys) / (time.perf_counter() - t0))

    auc, _ = neyman_test_auc(train, test, "mlp", work, "large-mlp", feats)
    n_fit = int(0.8 * n_events)
    step_rates: list[float] = []
    epoch_rates: list[float] = []
    for _ in range(3):
        bare_epochs(2)
        cfg = _config(train, test, "mlp", work, "large-rate", feats)
        cfg["training"] = {"progress": False, "epochs": 2}
        neyman.train(cfg, force=True)
        history = io.read(work / "runs" / "large-rate" / "history.csv")
        step_rates += list(n_fit / np.asarray(history["step_seconds"]))  # its steps alone, as the bare loop's
        epoch_rates += list(n_fit / np.asarray(history["seconds"]))  # with the validation pass of each epoch
    bare_epochs(epochs - 6)
    ours, with_val, bare = (float(np.median(r)) for r in (step_rates, epoch_rates, bare_rates))
    with torch.no_grad():
        xt = torch.tensor((test_t.to_numpy(feats, dtype=np.float64) - mean) / std, dtype=torch.float32)
        bare_auc = metrics.roc_auc(net(xt).squeeze(-1).numpy(), np.asarray(test_t["label"]))
    _row(
        "default MLP training-step events/s vs bare loop",
        f"{ours:,.0f} / {bare:,.0f} = {ours / bare:.2f}",
        ">= 0.9",
        ours / bare >= 0.9,
    )
    _row(
        "default MLP events/s with its validation passes vs bare loop",
        f"{with_val:,.0f} / {bare:,.0f} = {with_val / bare:.2f}",
        "(reported)",
        None,
    )
    _row("default MLP test AUC vs bare loop (10 epochs)", f"{auc:.4f} vs {bare_auc:.4f}", ">=", auc >= bare_auc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller samples (not the bars' sizes)")
    parser.add_argument(
        "--only", nargs="+", choices=("lr", "small", "large", "heldout"), default=("lr", "small", "large")
    )
    parser.add_argument("--work", type=Path, default=None, help="keep the samples and runs here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-defaults-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work folder: {work}")
    print(f"| {'measure':<58} | {'value':>24} | {'bar':>18} | {'met':>4} |")
    print(f"|{'-' * 60}|{'-' * 26}|{'-' * 20}|{'-' * 6}|")
    if "lr" in args.only:
        section_known_lr(work, 40_000 if args.quick else 200_000, 20_000 if args.quick else 100_000)
    if "small" in args.only:
        section_small(work, (5_000,) if args.quick else (5_000, 10_000), 5_000 if args.quick else 20_000)
    if "large" in args.only:
        section_large(work, 100_000 if args.quick else 1_000_000)
    if "heldout" in args.only:
        section_held_out(work, 40_000 if args.quick else 200_000, 20_000 if args.quick else 100_000)
    missed = [name for name, _, _, ok in ROWS if ok is False]
    print(f"\n{len(missed)} bar(s) missed" + (": " + "; ".join(missed) if missed else ""))


if __name__ == "__main__":
    main()
