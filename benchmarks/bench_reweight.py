"""Reweighting: learned weights against the known likelihood ratio, neyman against hep_ml in one run.

Run by hand (not part of the test suite)::

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 python benchmarks/bench_reweight.py

1. **Known ratio.** ``neyman.testing.likelihood_ratio_dataset`` (12 correlated, non-linearly
   mapped features), in both directions: class 0 to class 1 (the issue's direction; class 1
   is the wider Gaussian, so the source barely covers the target's tails and even the true
   weights leave an effective sample of about 1%) and class 1 to class 0 (a source that
   covers its target, as a generator sample covers the data it is reweighted to).
   ``true_log_lr`` gives the exact ``ln p_T/p_S``.  Every reweighter trains on half A and weights the source events of
   half B, which it never saw: neyman's default (``neyman reweight``, k-fold MLP; half B
   through ``neyman predict``), the same command with the boosted reweighter (``--model
   gbreweighter``: k-fold, calibrated, clipped; half B through ``neyman predict``, the
   folds' ensemble), the library's ``BoostedReweighter`` fitted once on half A and
   hep_ml's ``GBReweighter`` (both at their defaults), and the true weights as the floor
   of the two-sample AUC.
   Bars: correlation of ln w with the true log ratio >= 0.97, reweighted-source-vs-target
   AUC <= 0.52.

3. **Positive weights.** ``neyman.testing.signed_weight_dataset`` (12 features, a quarter
   of the weights negative, ``E[w|x]`` known): ``neyman reweight --positive`` with each
   model family.  Bars: every weight positive; every feature's histogram with the positive
   weights within the signed sample's statistical uncertainty (χ²/ndf below the 1% critical
   value); an XGBoost tagger (signal: the signed sample's process; background: another
   Gaussian through the same map) trained on the positive weights matches, in test AUC on
   unweighted events of the true density, the tagger trained on an unweighted sample of the
   true density (the best any weights can do) within 0.003, and is not worse than any tagger
   trained on the signed weights (XGBoost refuses them: LightGBM with them, XGBoost with them
   dropped or with |w|; LightGBM also on the positive weights, for the same family).

2. **Generator variation.** QCD jets of ``neyman generate top_vs_qcd`` (signal fraction 0,
   the default detector) at the shower's ``TimeShower:alphaSvalue`` 0.1365 (Pythia's
   default: nominal), 0.115, 0.125, 0.150 and 0.160, and pseudo-data at 0.130
   (``--samples DIR`` keeps them; about 10 minutes with 2 workers).  Features: pT, η, the
   N-subjettiness τ1..τ3, τ21, τ32, C2, D2, the soft-drop mass and the multiplicity.
   (a) ``neyman reweight`` nominal → 0.150: two-sample AUC, and the closure in variables not
   used (the jet mass, pT_D, the leading constituent's pT fraction, the charged
   multiplicity); bars: AUC after ≤ 0.52, every check variable's χ²/ndf below its 1 %
   critical value.  (b) the parametrised reweighter (``--parameter``) on the five values and
   its fit of the pseudo-data's αS (and of an independent sample at 0.150), with
   ``--replicas`` (default 10) reweighters trained on bootstrap replicas of the generated
   samples; bar: the fit within its statistical uncertainty of the true value (data and
   reference ⊕ generated samples; the pull against the data's alone is printed beside).
   Four more independent pseudo-data samples (0.120, 0.130 again, 0.143, 0.155) are fitted
   as well, and the pulls of all six summarised (mean and spread: a bias or a wrong
   uncertainty shows there, not in one sample's pull); the replicas' mean estimate (a
   bagged fit) is printed beside the fit.

Pass ``--events N`` for another sample size (default 400k, half per half), ``--only 1``,
``--only 2`` or ``--only 3`` for one benchmark; ``--scale K`` makes every sample of benchmark 2
K times larger (the same seeds; keep them in another ``--samples`` folder).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from neyman import io
from neyman.metrics import effective_sample_size
from neyman.reweighting import BoostedReweighter, two_sample_auc
from neyman.table import LABEL, Table
from neyman.testing import likelihood_ratio_dataset, signed_weight_dataset
from neyman.workflows.predict import predict
from neyman.workflows.reweight import reweight
from neyman.workflows.train import train

TRUE = "true_log_lr"


def _row(name: str, values: dict[str, float], seconds: float) -> None:
    corr, rms, auc, ess = values["corr"], values["rms"], values["auc"], values["ess"]
    ok = "yes" if corr >= 0.97 and auc <= 0.52 else "NO"
    print(f"| {name:<34} | {corr:7.4f} | {rms:6.3f} | {auc:7.4f} | {ess:6.3f} | {seconds:7.1f} | {ok:>4} |", flush=True)


def _judge(log_w: np.ndarray, true: np.ndarray, xs: np.ndarray, xt: np.ndarray) -> dict[str, float]:
    w = np.exp(log_w - np.log(np.mean(np.exp(log_w))))
    return {
        "corr": float(np.corrcoef(np.log(w), true)[0, 1]),
        "rms": float(np.std(np.log(w) - true)),
        "auc": two_sample_auc(xs, xt, w, None, seed=7),
        "ess": effective_sample_size(w) / len(w),
    }


def _known_ratio(n_events: int, work: Path, source_class: int) -> None:
    table = likelihood_ratio_dataset(n_events, seed=11)
    feats = [c for c in table.column_names if c.startswith("x")]
    half = np.arange(n_events) % 2
    label = np.asarray(table[LABEL])
    sign = 1.0 if source_class == 0 else -1.0  # true_log_lr is ln p_1/p_0
    parts: dict[tuple[int, str], Table] = {}
    for h in (0, 1):
        for role, cls in (("source", source_class), ("target", 1 - source_class)):
            parts[h, role] = table.take((half == h) & (label == cls)).drop([LABEL])
            io.write(parts[h, role].drop([TRUE]), work / f"half{h}_{role}.parquet")

    def matrix(part: Table) -> np.ndarray:
        return np.stack([np.asarray(part[c]) for c in feats], axis=1)

    xs_a, xt_a = matrix(parts[0, "source"]), matrix(parts[0, "target"])
    xs_b, xt_b = matrix(parts[1, "source"]), matrix(parts[1, "target"])
    true_b = sign * np.asarray(parts[1, "source"][TRUE])
    print(f"\n1. Known ratio, class {source_class} to class {1 - source_class}: {len(xs_a)} + {len(xt_a)} training ")
    print(f"events, {len(xs_b)} + {len(xt_b)} judged\n")
    print("| reweighter                         | corr    | RMS    | 2s-AUC  | ESS/N  | seconds | bars |")
    print("|------------------------------------|---------|--------|---------|--------|---------|------|")
    _row("true weights (floor)", _judge(true_b, true_b, xs_b, xt_b), 0.0)
    print(f"   (two-sample AUC without weights: {two_sample_auc(xs_b, xt_b, seed=7):.4f})", flush=True)
    t0 = time.perf_counter()
    result = reweight(
        str(work / "half0_source.parquet"),
        str(work / "half0_target.parquet"),
        features=feats,
        output_dir=str(work / "runs"),
        overrides=["training.progress=false"],
        force=True,
    )
    seconds = time.perf_counter() - t0
    out = predict(result.run_dir, work / "half1_source.parquet", work / "weighted.parquet", prefix="rw_", force=True)
    weights = np.asarray(io.read(out.output)["rw_weight"])
    _row("neyman reweight (k-fold MLP)", _judge(np.log(weights), true_b, xs_b, xt_b), seconds)
    oof = result.summary
    print(f"   (on its own out-of-fold source: 2s-AUC {oof['two_sample_auc_after']:.4f}, ", end="")
    print(f"ESS/N {oof['effective_sample_fraction']:.3f}, calibration {oof['weights']})", flush=True)
    t0 = time.perf_counter()
    trees = reweight(
        str(work / "half0_source.parquet"),
        str(work / "half0_target.parquet"),
        features=feats,
        model="gbreweighter",
        output_dir=str(work / "runs"),
        force=True,
    )
    seconds = time.perf_counter() - t0
    out = predict(trees.run_dir, work / "half1_source.parquet", work / "weighted_gb.parquet", prefix="rw_", force=True)
    weights = np.asarray(io.read(out.output)["rw_weight"])
    _row("neyman reweight --model gbreweighter", _judge(np.log(weights), true_b, xs_b, xt_b), seconds)
    t0 = time.perf_counter()
    boosted = BoostedReweighter().fit(xs_a, xt_a)
    _row("neyman BoostedReweighter", _judge(boosted.log_weights(xs_b), true_b, xs_b, xt_b), time.perf_counter() - t0)
    try:
        from hep_ml.reweight import GBReweighter
    except ImportError:
        print("   hep_ml is not installed (pip install hep_ml): no peer row")
        return
    t0 = time.perf_counter()
    peer = GBReweighter().fit(xs_a, xt_a)
    peer_log_w = np.log(peer.predict_weights(xs_b))
    _row("hep_ml GBReweighter (peer)", _judge(peer_log_w, true_b, xs_b, xt_b), time.perf_counter() - t0)


def _true_density(n_events: int, seed: int) -> Table:
    """Unweighted events of the signed sample's density ``q(x) E[w|x]`` (accept-reject)."""
    table = signed_weight_dataset(3 * n_events, seed=seed)
    mean = np.asarray(table["true_mean_weight"])
    keep = np.random.default_rng(seed).random(len(mean)) < mean / mean.max()
    return table.take(np.flatnonzero(keep)[:n_events]).drop(["weight", "true_mean_weight"])


def _tagger_auc(work: Path, signal: str, weight: str, model: list[str], name: str) -> tuple[float, float]:
    """Test AUC of a tagger trained on ``signal`` (its ``weight`` column) against the background."""
    from sklearn.metrics import roc_auc_score

    t0 = time.perf_counter()
    cfg = {
        "name": name,
        "output_dir": str(work / "taggers"),
        "data": {
            "sources": [
                {"path": str(work / signal), "label": "signal", "weight": weight},
                {"path": str(work / "background.parquet"), "label": "background"},
            ],
            "classes": ["background", "signal"],
            "features": [f"x{i:02d}" for i in range(12)],
        },
        "split": {"train": 0.8, "val": 0.2, "test": 0.0},
    }
    result = train(cfg, overrides=model, force=True)
    seconds = time.perf_counter() - t0
    scores = [
        np.asarray(io.read(predict(result.run_dir, work / f, work / f"s_{name}_{f}", force=True).output)["score"])
        for f in ("test_signal.parquet", "test_background.parquet")
    ]
    y = np.r_[np.ones(len(scores[0])), np.zeros(len(scores[1]))]
    return float(roc_auc_score(y, np.concatenate(scores))), seconds


def _positive_weights(n_events: int, work: Path) -> None:
    from scipy.stats import chi2 as chi2_dist

    table = signed_weight_dataset(n_events, seed=21)
    io.write(table.drop(["true_mean_weight"]), work / "signed.parquet")
    truth = np.asarray(table["true_mean_weight"])
    background = likelihood_ratio_dataset(2 * n_events, seed=22, signal_fraction=1.0).drop([LABEL, TRUE, "weight"])
    io.write(background.take(np.arange(n_events)), work / "background.parquet")
    io.write(
        background.take(np.arange(n_events, 2 * n_events)).take(np.arange(n_events // 2)),
        work / "test_background.parquet",
    )
    io.write(_true_density(n_events // 2, seed=23), work / "test_signal.parquet")
    w = np.asarray(table["weight"])
    print(f"\n3. Positive weights: {n_events} events, {np.mean(w < 0):.1%} negative weights\n")
    print("| resampler         | min weight | worst χ²/ndf (1% crit.) | corr E[w|x] | ESS gain | seconds | bars |")
    print("|-------------------|------------|-------------------------|-------------|----------|---------|------|")
    kept = {}
    for model in ("mlp", "xgboost"):
        t0 = time.perf_counter()
        r = reweight(
            positive=str(work / "signed.parquet"),
            weight="weight",
            model=model,
            output_dir=str(work / "runs"),
            overrides=["training.progress=false"] if model == "mlp" else [],
            force=True,
        )
        seconds = time.perf_counter() - t0
        new = np.asarray(io.read(r.run_dir / "weights.parquet")["weight"])
        kept[model] = new
        chi2 = r.summary["chi2_per_ndf"]
        worst = max(chi2, key=lambda k: chi2[k]["after"])
        crit = chi2_dist.ppf(0.99, chi2[worst]["ndf"]) / chi2[worst]["ndf"]
        ok = (
            "yes"
            if new.min() > 0 and all(c["after"] < chi2_dist.ppf(0.99, c["ndf"]) / c["ndf"] for c in chi2.values())
            else "NO"
        )
        print(
            f"| {model:<17} | {new.min():10.2e} | {chi2[worst]['after']:5.2f} ({worst}; {crit:.2f})       "
            f"| {np.corrcoef(new, truth)[0, 1]:11.4f} | {r.summary['effective_sample_gain']:8.2f} "
            f"| {seconds:7.1f} | {ok:>4} |",
            flush=True,
        )
    signal = table.drop(["true_mean_weight"])
    for model, new in kept.items():
        signal = signal.with_column(f"positive_{model}", new)
    io.write(signal, work / "signal.parquet")
    io.write(_true_density(n_events, seed=24), work / "ideal_signal.parquet")
    rows = [
        ("XGBoost, positive weights (xgboost resampler)", "signal.parquet", "positive_xgboost", ["model.type=xgboost"]),
        ("XGBoost, positive weights (mlp resampler)", "signal.parquet", "positive_mlp", ["model.type=xgboost"]),
        ("LightGBM, signed weights", "signal.parquet", "weight", ["model.type=lightgbm"]),
        (
            "LightGBM, positive weights (xgboost resampler)",
            "signal.parquet",
            "positive_xgboost",
            ["model.type=lightgbm"],
        ),
        (
            "XGBoost, negative weights dropped",
            "signal.parquet",
            "weight",
            ["model.type=xgboost", "model.negative_weights=zero"],
        ),
        ("XGBoost, |w|", "signal.parquet", "weight", ["model.type=xgboost", "model.negative_weights=abs"]),
        ("XGBoost, unweighted true-density sample", "ideal_signal.parquet", None, ["model.type=xgboost"]),
    ]
    print("\n| tagger (trained on)                              | test AUC | seconds |")
    print("|--------------------------------------------------|----------|---------|")
    aucs = {}
    for i, (label, signal_file, weight, model) in enumerate(rows):
        aucs[label], seconds = _tagger_auc(work, signal_file, weight, model, f"tagger{i}")
        print(f"| {label:<48} | {aucs[label]:8.4f} | {seconds:7.1f} |", flush=True)
    best = aucs[rows[0][0]]
    ideal = aucs["XGBoost, unweighted true-density sample"]
    signed = max(aucs[label] for label, _, weight, _ in rows if weight == "weight")
    ok = abs(best - ideal) <= 0.003 and best >= signed - 0.003
    print(
        f"\n   positive-weight XGBoost − ideal: {best - ideal:+.4f} (bar |Δ| ≤ 0.003); − best signed-weight "
        f"tagger: {best - signed:+.4f} (bar ≥ −0.003): {'yes' if ok else 'NO'}"
    )


ALPHAS = [
    ("nominal_train", 0.1365, 40_000, 101),
    ("nominal_ref", 0.1365, 20_000, 102),
    ("as_0.1150", 0.115, 25_000, 103),
    ("as_0.1250", 0.125, 25_000, 104),
    ("as_0.1500", 0.150, 25_000, 105),
    ("as_0.1600", 0.160, 25_000, 106),
    ("pseudo_0.1300", 0.130, 20_000, 107),
    ("target_0.1500", 0.150, 20_000, 108),
    ("pseudo_0.1200", 0.120, 20_000, 109),
    ("pseudo_0.1300b", 0.130, 20_000, 110),
    ("pseudo_0.1430", 0.143, 20_000, 111),
    ("pseudo_0.1550", 0.155, 20_000, 112),
]
# the pseudo-data first, then more independent samples: one sample's pull is one draw,
# the pulls of all of them show a bias (their mean) or a wrong uncertainty (their spread)
FITTED = [
    ("pseudo_0.1300", 0.130),
    ("target_0.1500", 0.150),
    ("pseudo_0.1200", 0.120),
    ("pseudo_0.1300b", 0.130),
    ("pseudo_0.1430", 0.143),
    ("pseudo_0.1550", 0.155),
]
JET_FEATURES = ["pt", "eta", "tau1", "tau2", "tau3", "tau21", "tau32", "c2", "d2", "softdrop_mass", "n_constituents"]
JET_CHECKS = ["mass", "ptd", "lead_fraction", "n_charged"]


def _jets(samples: Path, work: Path, scale: int = 1) -> dict[str, Path]:
    """Generate the αS samples into ``samples`` (kept), and write their flat columns with the checks."""
    from neyman.workflows.generate import generate

    samples.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, alphas, n, seed in ALPHAS:
        n *= scale
        full = samples / f"{name}.parquet"
        if not full.exists():
            settings = ["process.signal_fraction=0", f"pythia.TimeShower:alphaSvalue={alphas}"]
            generate("top_vs_qcd", n, full, seed=seed, workers=2, progress=False, overrides=settings)
        table = io.read(full)
        pts = table["constituent_pt"]
        charge = table["constituent_charge"]
        total = np.array([float(np.sum(p)) for p in pts])
        flat = table.drop([c for c in table.column_names if c.startswith("constituent_")])
        flat = flat.with_columns(
            ptd=np.array([float(np.sum(np.asarray(p) ** 2)) for p in pts]) / total**2,
            lead_fraction=np.array([float(np.max(p)) for p in pts]) / total,
            n_charged=np.array([int(np.sum(np.asarray(c) != 0)) for c in charge], dtype=np.int64),
        )
        out[name] = work / f"{name}.parquet"
        io.write(flat.drop(["label", "parton_id", "event_id"]), out[name])
    return out


def _generator_variation(samples: Path, work: Path, replicas: int, scale: int = 1) -> None:
    from scipy.stats import chi2 as chi2_dist

    from neyman.workflows.dctr import dctr
    from neyman.workflows.fit_parameter import fit_parameter

    files = _jets(samples, work, scale)
    print("\n2. Generator variation: QCD jets, shower αS 0.1365 (nominal) against others\n")
    summaries = {}
    variants = {"mlp": ("mlp", []), "mlp, dropout 0.3": ("mlp", ["model.dropout=0.3"]), "xgboost": ("xgboost", [])}
    for label, (model, extra) in variants.items():
        t0 = time.perf_counter()
        r = reweight(
            str(files["nominal_train"]),
            str(files["target_0.1500"]),
            features=JET_FEATURES,
            check=JET_CHECKS,
            model=model,
            output_dir=str(work / "runs"),
            overrides=["training.progress=false", *extra] if model == "mlp" else extra,
            force=True,
        )
        summaries[label] = s = r.summary
        print(
            f"(a) nominal → αS 0.150, {label} ({time.perf_counter() - t0:.0f} s): two-sample AUC "
            f"{s['two_sample_auc_before']:.4f} → {s['two_sample_auc_after']:.4f} (bar ≤ 0.52), ESS/N "
            f"{s['effective_sample_fraction']:.3f}"
        )
    print("\n| variable | role | χ²/ndf before | " + " | ".join(f"after ({v})" for v in variants) + " | 1 % critical |")
    print("|---|---|---|" + "---|" * len(variants) + "---|")
    for name, c in summaries["mlp"]["chi2_per_ndf"].items():
        crit = chi2_dist.ppf(0.99, c["ndf"]) / c["ndf"]
        role = "check" if name in JET_CHECKS else "feature"
        after = " | ".join(f"{summaries[v]['chi2_per_ndf'][name]['after']:.2f}" for v in variants)
        print(f"| {name} | {role} | {c['before']:.2f} | {after} | {crit:.2f} |", flush=True)
    nominal = io.read(files["nominal_train"])
    half = len(nominal) * 5 // 8
    io.write(nominal.take(np.arange(half)), work / "dctr_source.parquet")
    io.write(nominal.take(np.arange(half, len(nominal))), work / "dctr_anchor.parquet")
    values = [0.115, 0.125, 0.1365, 0.150, 0.160]
    targets = [
        str(files["as_0.1150"]),
        str(files["as_0.1250"]),
        str(work / "dctr_anchor.parquet"),
        str(files["as_0.1500"]),
        str(files["as_0.1600"]),
    ]
    t0 = time.perf_counter()
    d = dctr(
        str(work / "dctr_source.parquet"),
        targets,
        "alphaS",
        values,
        nominal=0.1365,
        features=JET_FEATURES,
        replicas=replicas,
        output_dir=str(work / "runs"),
        overrides=["training.progress=false"],
        force=True,
    )
    print(
        f"\n(b) parametrised reweighter on αS {values} with {replicas} bootstrap replicas "
        f"({time.perf_counter() - t0:.0f} s)\n"
    )
    print(
        "| sample | true αS | loss fit ± σ_data ⊕ σ_tmpl | pull (σ_data) | pull (total) | replicas' mean (pull) "
        "| likelihood fit ± σ_data ⊕ σ_tmpl | pull (total) | worst closure χ²/ndf at the fit | bar |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    pulls: list[float] = []
    for name, true in FITTED:
        t0 = time.perf_counter()
        fit = fit_parameter(d.run_dir, str(files[name]), str(files["nominal_ref"]))
        loss, lik = fit.record["loss_fit"], fit.record["likelihood_fit"]
        data_pull = (loss["estimate"] - true) / loss["statistical_uncertainty"]
        total = [(f["estimate"] - true) / f["uncertainty"] for f in (loss, lik)]
        pulls.append(total[0])
        worst = max(c["after"] for c in fit.record["closure_chi2_per_ndf"].values())
        bagged = np.mean(loss.get("replica_estimates", [np.nan]))

        def quoted(f: dict[str, float]) -> str:
            tmpl = f" ⊕ {f['template_uncertainty']:.4f}" if "template_uncertainty" in f else ""
            return f"{f['estimate']:.4f} ± {f['statistical_uncertainty']:.4f}{tmpl}"

        print(
            f"| {name} | {true} | {quoted(loss)} | {data_pull:+.1f} | {total[0]:+.1f} "
            f"| {bagged:.4f} ({(bagged - true) / loss['uncertainty']:+.1f}) "
            f"| {quoted(lik)} | {total[1]:+.1f} | {worst:.2f} "
            f"| {'yes' if abs(total[0]) <= 1 else 'NO'} |  ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    p = np.asarray(pulls)
    one, two = int(np.sum(np.abs(p) <= 1)), int(np.sum(np.abs(p) <= 2))
    print(
        f"\nloss-fit pulls (total) of the {len(p)} samples: mean {p.mean():+.2f} "
        f"± {p.std(ddof=1) / np.sqrt(len(p)):.2f}, standard deviation {p.std(ddof=1):.2f}; within 1σ: {one}/{len(p)} "
        f"(68 % expected), within 2σ: {two}/{len(p)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--only", type=int, choices=(1, 2, 3), default=None)
    parser.add_argument("--samples", type=Path, default=Path("bench-alphas"), help="Where the αS samples are kept.")
    parser.add_argument("--replicas", type=int, default=10, help="Bootstrap replicas of the DCTR reweighter.")
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help="Benchmark 2's samples this many times larger (keep them in another --samples).",
    )
    args = parser.parse_args()
    if args.only in (None, 1):
        for source_class in (1, 0):
            with tempfile.TemporaryDirectory() as tmp:
                _known_ratio(args.events, Path(tmp), source_class)
    if args.only in (None, 2):
        with tempfile.TemporaryDirectory() as tmp:
            _generator_variation(args.samples, Path(tmp), args.replicas, args.scale)
    if args.only in (None, 3):
        with tempfile.TemporaryDirectory() as tmp:
            _positive_weights(args.events // 2, Path(tmp))


if __name__ == "__main__":
    main()
