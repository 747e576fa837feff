"""Mass-decorrelated taggers: sculpting (1/JSD) against rejection for every method, one run.

Generated boosted W jets against QCD jets (``neyman generate w_vs_qcd``); the
tagger reads substructure (τ1, τ2, τ3, τ21, τ32, C2, D2, the constituent count,
pT, η) and never the mass, the soft-drop mass or the energy (which give the mass
back with pT and η).  Every neural method is a ``neyman train`` run of the default
MLP with ``training.decorrelate``; all are scored on the same test split.

Rows: the undecorrelated tagger (``method: none``), planing, DisCo and the
adversary at several strengths λ, the DDTs of τ21 (linear in ρ', quantile map in ρ;
``--shape tau32`` for top jets), and hep_ml's gradient boosting with the flatness
loss (uGB+FL, the peer).  At ε_S = 50%: 1/ε_B and 1/JSD of the background mass
before and after the cut.

The frontier: the same MLP given the mass as well, cut with one threshold per mass
bin, the thresholds chosen for the largest 1/ε_B within each bound on the JSD
(:func:`neyman.metrics.sculpting_frontier`, fitted on the events it is judged on).
In a narrow mass bin such cuts are the Neyman–Pearson ones, so the curve estimates
the best trade-off any selection reaches on these events: a bar beyond it is beyond
every method.

Bars (issue "taggers an analysis can use"): at least one neyman method reaches
≥ 10× the undecorrelated tagger's 1/JSD while keeping ≥ 50% of its rejection;
DisCo and the adversary each beat the DDT of τ21 at equal 1/JSD (their 1/ε_B,
interpolated in log 1/JSD between strengths, is above DDT's; a point that
dominates DDT in both counts too).

Usage::

    python benchmarks/bench_decorrelate.py [--data w_vs_qcd.parquet] [--events 60000]
        [--background qcd_only.parquet] [--strengths 1,3,10,30] [--peer-events 20000]
        [--methods planing,disco,adversary] [--batch-size N] [--plot plane.png]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neyman import io, metrics
from neyman.metrics.decorrelation import FrontierPoint, distance_correlation, sculpting, sculpting_frontier
from neyman.physics.ddt import DDT, QuantileDDT
from neyman.workflows.predict import predict
from neyman.workflows.train import train

FEATURES = ["tau1", "tau2", "tau3", "tau21", "tau32", "c2", "d2", "n_constituents", "pt", "eta"]
EFFICIENCY = 0.5
FRONTIER_RATIOS = (1, 2, 5, 10, 20, 50)
"""Bounds on the sculpting of the frontier: the plain tagger's JSD divided by these."""
BATCH_SIZE: list[int | None] = [None]
"""training.batch_size of every run (None: the planned one); set by --batch-size."""


def _generated(events: int, out: Path) -> Path:
    from neyman.workflows.generate import generate

    path = out / "w_vs_qcd.parquet"
    generate("w_vs_qcd", events=events, out=path, seed=11, workers=2, progress=False)
    return path


def _point(name: str, scores: np.ndarray, labels: np.ndarray, mass: np.ndarray, seconds: float) -> dict[str, object]:
    p = sculpting(scores, labels, mass, efficiencies=(EFFICIENCY,))[0]
    bkg = labels == 0
    return {
        "name": name,
        "auc": metrics.roc_auc(scores, labels),
        "rejection": p.rejection,
        "inverse_jsd": p.inverse_jsd,
        "dcorr": distance_correlation(scores[bkg], mass[bkg]),
        "seconds": seconds,
    }


def _with_background(
    scores: np.ndarray, labels: np.ndarray, mass: np.ndarray, extra: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The test split with the extra background jets appended (label 0)."""
    if extra is None:
        return scores, labels, mass
    s, m = extra
    return (
        np.concatenate([scores, s]),
        np.concatenate([labels, np.zeros(len(s), labels.dtype)]),
        np.concatenate([mass, m]),
    )


def _neyman(
    data: Path,
    background: Path | None,
    out: Path,
    method: str,
    strength: float | None,
    features: list[str] = FEATURES,
    tag: str | None = None,
) -> tuple[dict[str, object], np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """One tagger's row, the event ids of its predictions, and its test scores, labels and masses."""
    deco: dict[str, object] = {"variable": "mass", "method": method}
    if strength is not None:
        deco["strength"] = strength
    tag = tag or (method if strength is None else f"{method}-{strength:g}")
    config = {
        "name": tag,
        "output_dir": str(out),
        "seed": 3,
        "data": {"sources": [{"path": str(data)}], "label_column": "label", "features": features},
        "model": {"type": "mlp"},
        "training": {"decorrelate": deco, "progress": False, "batch_size": BATCH_SIZE[0]},
    }
    t0 = time.perf_counter()
    result = train(config, force=True)
    seconds = time.perf_counter() - t0
    pred = io.read(result.run_dir / "predictions.parquet")
    test = np.asarray(pred["split"]) == 2
    scores, labels = np.asarray(pred["score"])[test], np.asarray(pred["label"])[test]
    extra = None
    if background is not None:
        scored = out / f"{tag}-background.parquet"
        predict(result.run_dir, background, scored, force=True)
        table = io.read(scored, columns=["score", "mass"])
        extra = (np.asarray(table["score"]), np.asarray(table["mass"]))
    merged = _with_background(scores, labels, np.asarray(pred["mass"])[test], extra)
    row = _point(f"neyman {tag}", *merged, seconds)
    return row, np.asarray(pred["event_id"]), merged


SHAPES = {"tau21": "τ21", "tau32": "τ32"}
"""The shape variables a DDT can correct: τ21 for two-prong (W, Z) jets, τ32 for three-prong tops."""


def _ddt(
    table: dict[str, np.ndarray],
    train_rows: np.ndarray,
    test_rows: np.ndarray,
    extra: dict[str, np.ndarray] | None,
    variable: str = "tau21",
) -> dict[str, dict[str, object]]:
    """The shape variable raw, with the linear DDT in ρ', and with a quantile map in ρ (fitted on training QCD)."""
    t0 = time.perf_counter()
    lab = table["label"]
    bkg = train_rows[lab[train_rows] == 0]
    linear = DDT.fit(table[variable][bkg], table["mass"][bkg], table["pt"][bkg])
    quantile = QuantileDDT.fit(table[variable][bkg], table["mass"][bkg], table["pt"][bkg], quantile=0.05)
    print(f"  DDT slope M = {linear.slope:.4f} per unit rho' (rho0 = {linear.rho0:.2f})", flush=True)
    name = SHAPES[variable]
    corrections = {
        "raw": (f"{name} (no correction)", None),
        "ddt": (f"DDT {name}' (linear in ρ')", linear),
        "quantile": (f"DDT {name}' (5% quantile in ρ)", quantile),
    }

    def shape(t: dict[str, np.ndarray], sel: np.ndarray | slice, fit: DDT | QuantileDDT | None) -> np.ndarray:
        if fit is None:
            return np.asarray(-t[variable][sel])
        return -fit.apply(t[variable][sel], t["mass"][sel], t["pt"][sel])

    rows = {}
    for name, (label, fit) in corrections.items():
        more = None if extra is None else (shape(extra, slice(None), fit), extra["mass"])
        merged = _with_background(shape(table, test_rows, fit), lab[test_rows], table["mass"][test_rows], more)
        rows[name] = _point(label, *merged, time.perf_counter() - t0)
    return rows


def _peer(
    table: dict[str, np.ndarray],
    train_rows: np.ndarray,
    test_rows: np.ndarray,
    extra: dict[str, np.ndarray] | None,
    n: int,
) -> dict[str, object] | None:
    try:
        import pandas as pd
        from hep_ml.gradientboosting import UGradientBoostingClassifier
        from hep_ml.losses import BinFlatnessLossFunction
    except ImportError:
        print("  hep_ml is not installed: no uGB+FL peer (pip install hep_ml)", flush=True)
        return None
    rows = np.random.default_rng(0).permutation(train_rows)[:n]
    frame = pd.DataFrame({c: table[c][rows] for c in [*FEATURES, "mass"]})
    t0 = time.perf_counter()
    loss = BinFlatnessLossFunction(["mass"], uniform_label=0, fl_coefficient=3.0)
    model = UGradientBoostingClassifier(
        loss=loss, n_estimators=200, max_depth=4, train_features=FEATURES, random_state=0
    )
    model.fit(frame, table["label"][rows])
    test = pd.DataFrame({c: table[c][test_rows] for c in [*FEATURES, "mass"]})
    scores = model.predict_proba(test)[:, 1]
    more = None
    if extra is not None:
        more = (model.predict_proba(pd.DataFrame({c: extra[c] for c in [*FEATURES, "mass"]}))[:, 1], extra["mass"])
    merged = _with_background(scores, table["label"][test_rows], table["mass"][test_rows], more)
    return _point(f"hep_ml uGB+FL ({n // 1000}k train)", *merged, time.perf_counter() - t0)


def _frontier(merged: tuple[np.ndarray, np.ndarray, np.ndarray], base_inverse_jsd: float) -> list[FrontierPoint]:
    """The best 1/ε_B at each bound on the JSD: per-mass-bin cuts on a tagger that reads the mass (in-sample)."""
    caps = tuple(1.0 / (ratio * base_inverse_jsd) for ratio in FRONTIER_RATIOS)
    return sculpting_frontier(*merged, jsd_caps=caps, efficiency=EFFICIENCY)


def _rejection_at(points: list[dict[str, object]], inverse_jsd: float) -> float | None:
    """A method's 1/ε_B at a given 1/JSD, interpolated in log(1/JSD) between its strengths."""
    pts = sorted((float(np.log(p["inverse_jsd"])), float(p["rejection"])) for p in points)  # type: ignore[arg-type]
    if not pts:
        return None
    x = float(np.log(inverse_jsd))
    dominating = [r for lx, r in pts if lx >= x]
    if x < pts[0][0] or x > pts[-1][0]:
        return max(dominating) if dominating else None
    return float(np.interp(x, [p[0] for p in pts], [p[1] for p in pts]))


def _plane(rows: list[dict[str, object]], frontier: list[FrontierPoint], path: Path) -> None:
    """Every tagger on the plane of 1/ε_B against 1/JSD, one line per method over its strengths."""
    from neyman.plotting import plot_decorrelation_plane, save

    methods: dict[str, list[tuple[float, float, str]]] = {}
    for r in rows:
        name = str(r["name"])
        method, _, lam = (
            name.rpartition("-") if name.startswith(("neyman disco", "neyman adversary")) else (name, "", "")
        )
        methods.setdefault(method, []).append(
            (float(r["rejection"]), float(r["inverse_jsd"]), f"λ={lam}" if lam else "")
        )  # type: ignore[arg-type]
    methods["frontier (per-mass-bin cuts)"] = [(p.rejection, p.inverse_jsd, "") for p in frontier]
    save(plot_decorrelation_plane(methods), path.with_suffix(""), formats=("png",))
    print(f"plane: {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        help="a generated w_vs_qcd (or top_vs_qcd: --shape tau32) file (default: generate w_vs_qcd)",
    )
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument(
        "--background",
        type=Path,
        help="extra QCD-only jets for the sculpting measure (neyman generate w_vs_qcd --set "
        "process.signal_fraction=0); the test split alone leaves few background jets after tight cuts",
    )
    parser.add_argument("--strengths", default="1,3,10,30")
    parser.add_argument("--peer-events", type=int, default=20_000)
    parser.add_argument("--methods", default="planing,disco,adversary", help="neyman methods to run")
    parser.add_argument("--batch-size", type=int, help="training.batch_size of every run (default: planned)")
    parser.add_argument("--plot", type=Path, help="also draw the 1/JSD-rejection plane into this PNG")
    parser.add_argument(
        "--shape",
        choices=sorted(SHAPES),
        default="tau21",
        help="the shape variable of the DDT baselines: tau21 for W jets (the default), tau32 for top jets",
    )
    args = parser.parse_args()
    BATCH_SIZE[0] = args.batch_size
    strengths = [float(s) for s in args.strengths.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        data = args.data or _generated(args.events, out)
        rows: list[dict[str, object]] = []
        baseline, event_ids, _ = _neyman(data, args.background, out, "none", None)
        rows.append(baseline)
        print(f"  {baseline}", flush=True)
        methods = args.methods.split(",")
        for method, grid in (("planing", [None]), ("disco", strengths), ("adversary", strengths)):
            for lam in grid if method in methods else []:
                row, _, _ = _neyman(data, args.background, out, method, lam)
                rows.append(row)
                print(f"  {row}", flush=True)
        raw = io.read(data, columns=[*FEATURES, "mass", "label"])
        table = {c: np.asarray(raw[c], dtype=np.float64) for c in raw.column_names}
        pred = io.read(out / "none" / "predictions.parquet", columns=["event_id", "split"])
        split = np.asarray(pred["split"])
        train_rows = np.asarray(pred["event_id"])[split == 0].astype(np.int64)
        test_rows = np.asarray(pred["event_id"])[split == 2].astype(np.int64)
        assert np.array_equal(np.sort(test_rows), np.sort(event_ids[split == 2])), "event ids are file rows"
        extra = None
        if args.background is not None:
            more = io.read(args.background, columns=[*FEATURES, "mass"])
            extra = {c: np.asarray(more[c], dtype=np.float64) for c in more.column_names}
        keep = table["mass"][test_rows] > 0
        positive = None if extra is None else {c: v[extra["mass"] > 0] for c, v in extra.items()}
        classic = _ddt(table, train_rows[table["mass"][train_rows] > 0], test_rows[keep], positive, args.shape)
        rows += [classic["raw"], classic["ddt"], classic["quantile"]]
        peer = _peer(table, train_rows, test_rows, extra, args.peer_events)
        if peer is not None:
            rows.append(peer)
        aware, _, merged = _neyman(data, args.background, out, "none", None, [*FEATURES, "mass"], "mass-aware")
        frontier = _frontier(merged, float(baseline["inverse_jsd"]))  # type: ignore[arg-type]
    n_extra = 0 if extra is None else len(extra["mass"])
    print(
        f"\n{data.name}: {len(test_rows)} test jets + {n_extra} extra QCD jets, ε_S = {EFFICIENCY:.0%}; no mass input\n"
    )
    print(f"| {'tagger':<32} | AUC    | 1/ε_B  | 1/JSD  | dCorr² | s    |")
    print(f"|{'-' * 34}|--------|--------|--------|--------|------|")
    for r in rows:
        print(
            f"| {r['name']:<32} | {r['auc']:.4f} | {r['rejection']:6.1f} | {r['inverse_jsd']:6.1f} "
            f"| {r['dcorr']:.4f} | {r['seconds']:4.0f} |"
        )
    base_jsd, base_rej = float(baseline["inverse_jsd"]), float(baseline["rejection"])  # type: ignore[arg-type]
    ours = [r for r in rows if str(r["name"]).startswith("neyman ") and r is not baseline]
    best = [r for r in ours if float(r["inverse_jsd"]) >= 10 * base_jsd and float(r["rejection"]) >= 0.5 * base_rej]  # type: ignore[arg-type]
    print(f"\n10x 1/JSD at >= 50% of the rejection: {', '.join(str(r['name']) for r in best) or 'none'}")
    verdict = True
    for variant in ("ddt", "quantile"):
        ddt_jsd, ddt_rej = float(classic[variant]["inverse_jsd"]), float(classic[variant]["rejection"])  # type: ignore[arg-type]
        for method in ("disco", "adversary"):
            pts = [r for r in ours if str(r["name"]).startswith(f"neyman {method}")]
            at = _rejection_at(pts, ddt_jsd)
            ok = at is not None and at > ddt_rej
            verdict &= ok
            shown = "outside its range" if at is None else f"{at:.1f}"
            print(
                f"{method} at the 1/JSD of {classic[variant]['name']} ({ddt_jsd:.1f}): 1/ε_B {shown} "
                f"vs {ddt_rej:.1f} -> {'yes' if ok else 'no'}"
            )
    print(
        f"\nfrontier: the best 1/ε_B at ε_S = {EFFICIENCY:.0%} within each bound on the JSD, cuts per mass bin on "
        f"the default MLP given the mass too (its one cut: 1/ε_B {float(aware['rejection']):.1f}, "  # type: ignore[arg-type]
        f"1/JSD {float(aware['inverse_jsd']):.1f}); fitted on the events it is judged on"  # type: ignore[arg-type]
    )
    print("| 1/JSD ≥ | × plain's | 1/ε_B  | × plain's |")
    print("|---------|-----------|--------|-----------|")
    for ratio, point in zip(FRONTIER_RATIOS, frontier, strict=True):
        print(f"| {point.inverse_jsd:7.1f} | {ratio:9d} | {point.rejection:6.1f} | {point.rejection / base_rej:9.0%} |")
    at_bar = frontier[FRONTIER_RATIOS.index(10)].rejection / base_rej
    print(
        f"at 10x the plain tagger's 1/JSD the frontier keeps {at_bar:.0%} of its rejection: the bar's point "
        f"(50%) is {'within reach' if at_bar >= 0.5 else 'beyond what cuts on these events reach'}"
    )
    if args.plot is not None:
        _plane(rows, frontier, args.plot)
    met = bool(best) and verdict
    print(f"bars met: {'yes' if met else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
