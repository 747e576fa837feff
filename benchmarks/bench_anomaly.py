"""Tops as anomalies, and how faithful a flow's QCD jets are.

On generated ``top_vs_qcd`` jets (``neyman generate``), unsupervised models learn
from one class only and must find the other, unseen, by their anomaly score:

* **QCD → tops**: a dense autoencoder, a VAE (negative-ELBO score) and a neural
  spline flow (``-ln p``; also with every feature ``bounded`` to its training
  range) on the substructure features, trained on QCD jets;
* **tops → QCD**: the same models trained on tops must find QCD jets — the
  direction in which plain autoencoders are known to fail (Finke et al.,
  arXiv:2104.09051: QCD jets are *simpler* and reconstruct well anyway);
* both directions for a convolutional autoencoder on 33×33 jet images and a
  permutation-invariant set autoencoder on the 100 leading constituents
  (``--jet-steps``, 8000 by default);
* a conditional jet-image generator (``task: generator``, autoregressive by default) trained
  on the QCD jets' images (``--image-size``, 16: pixels of 0.1 × 0.1 in η and φ,
  a hadron calorimeter's granularity), judged by a boosted classifier on the
  pixels (and on the jet observables of the images) against real test images
  drawn at the same totals.

Each row is a ``neyman train`` + ``neyman evaluate`` run; the table gives the
test AUC, the maximum SIC (≥ 10 effective background events above the cut) and
ε_S at ε_B = 1e-2 and 1e-3.  Then the flow trained on QCD is judged as a fast
simulation by ``neyman evaluate``'s generated-vs-real comparison (classifier
two-sample AUC, Fréchet distance, W1/σ per feature), and its sampling rate
(``neyman sample``) is compared with ``neyman generate``'s on the same machine.

Bars (issue "anomaly detection, density estimation and generative models"):
best top-finding AUC ≥ 0.85 (benchmark 2); the flow's two-sample AUC ≤ 0.55
and the image generator's ≤ 0.65 (benchmark 3).  ``--jets-only --data
jets.parquet`` runs the image and particle-set rows alone on an existing file,
``--generator-only --data jets.parquet`` the generator alone.

Usage::

    python benchmarks/bench_anomaly.py [--events 60000] [--data jets.parquet] [--jets-only]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from neyman import io
from neyman.workflows.evaluate import evaluate
from neyman.workflows.generate import generate
from neyman.workflows.sample import sample
from neyman.workflows.train import train

FEATURES = ["pt", "mass", "tau1", "tau2", "tau3", "tau21", "tau32", "c2", "d2", "softdrop_mass"]
MODELS = {
    "autoencoder": ("autoencoder", {"type": "autoencoder"}),
    "VAE (−ELBO)": ("autoencoder", {"type": "autoencoder", "variational": True, "score": "elbo"}),
    "flow (−ln p)": ("density", {"type": "flow"}),
    # the same flow with every feature on its training range through a logit (masses >= 0, ratios in [0, 1])
    "bounded flow (−ln p)": ("density", {"type": "flow", "bounded": FEATURES}),
}


def _data(out: Path, events: int, given: Path | None) -> tuple[Path, Path, float | None]:
    """The jets (label 1 = top) and the same jets with the labels swapped; generation rate in jets/s."""
    rate = None
    path = given
    if path is None:
        path = out / "jets.parquet"
        t0 = time.perf_counter()
        generate("top_vs_qcd", events, path, seed=11, workers=2)
        rate = events / (time.perf_counter() - t0)
    table = io.read(path, columns=[*FEATURES, "label"])
    keep = np.all(np.isfinite(table.to_numpy(FEATURES, dtype=np.float64)), axis=1)
    table = table.take(keep)
    io.write(table, out / "top_signal.parquet")
    io.write(table.with_column("label", 1 - np.asarray(table["label"])), out / "qcd_signal.parquet")
    return out / "top_signal.parquet", out / "qcd_signal.parquet", rate


def _run(out: Path, path: Path, name: str, task: str, model: dict[str, object], steps: int) -> tuple[Path, dict]:
    run = train(
        {
            "name": name,
            "output_dir": str(out / "runs"),
            "task": {"type": task},
            "data": {"sources": [{"path": str(path)}], "features": FEATURES, "label_column": "label"},
            "model": model,
            "training": {"steps": steps, "progress": False},
        },
        force=True,
    ).run_dir
    evaluate(run, formats=("png",), n_bootstrap=10)
    return run, json.loads((run / "metrics.json").read_text())["evaluation"]


JET_MODELS = {"conv AE (images)": ("conv_autoencoder", "image"), "set AE (particles)": ("set_autoencoder", "particles")}


def _jet_rows(out: Path, jets: Path, steps: int) -> list[tuple[str, str, dict]]:
    """The autoencoders on jet images and on particle sets, both directions (need the jets' constituents)."""
    table = io.read(jets)
    swapped = out / "jets_qcd_signal.parquet"
    io.write(table.with_column("label", 1 - np.asarray(table["label"])), swapped)
    rows = []
    for label, (family, representation) in JET_MODELS.items():
        for direction, path in (("QCD → find tops", jets), ("tops → find QCD", swapped)):
            run = train(
                {
                    "name": f"{family}-{len(rows)}",
                    "output_dir": str(out / "runs"),
                    "task": {"type": "autoencoder"},
                    "data": {
                        "sources": [{"path": str(path)}],
                        "label_column": "label",
                        "representation": representation,
                    },
                    "model": {"type": family},
                    "training": {"steps": steps, "progress": False},
                },
                force=True,
            ).run_dir
            evaluate(run, formats=("png",), n_bootstrap=10)
            rows.append((direction, label, json.loads((run / "metrics.json").read_text())["evaluation"]))
    return rows


def _generator(out: Path, jets: Path, steps: int, size: int) -> None:
    """The jet-image generator trained on QCD jets: fidelity (pixels and observables) and drawing rate."""
    t0 = time.perf_counter()
    run = train(
        {
            "name": "image-generator",
            "output_dir": str(out / "runs"),
            "task": {"type": "generator"},
            "data": {"sources": [{"path": str(jets)}], "label_column": "label", "image": {"size": size}},
            "training": {"steps": steps, "progress": False},
        },
        force=True,
    ).run_dir
    trained = time.perf_counter() - t0
    evaluate(run, formats=("png",), n_bootstrap=10)
    generated = json.loads((run / "metrics.json").read_text())["evaluation"]["generated"]
    auc, observables = generated["two_sample_auc"], generated["observables_auc"]
    print(
        f"\njet-image generator ({size}×{size} pixels of {1.6 / size:.2f} in η and φ, {steps} steps, {trained:.0f} s):"
    )
    print(f"  {generated['n_events']} real QCD test images against as many drawn at their totals")
    print(f"  classifier two-sample AUC on the pixels {auc:.3f}, on the jet observables {observables:.3f}")
    print("  W1/σ: " + ", ".join(f"{c} {v:.3f}" for c, v in generated["wasserstein_over_std"].items()))
    print(f"bar: image two-sample AUC ≤ 0.65: {'met' if auc <= 0.65 else 'MISSED'} ({auc:.3f})")
    n = 20_000
    t0 = time.perf_counter()
    sample(run, out / "images.parquet", events=n, condition={"pt": 500.0}, seed=1, force=True)
    print(f"  drawing: {n / (time.perf_counter() - t0):,.0f} images/s (neyman sample)")


def _cell(value: object) -> str:
    return "—" if value is None else f"{float(value):.3f}"  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=60_000, help="Jets to generate (both classes).")
    parser.add_argument("--data", type=Path, default=None, help="Use these top_vs_qcd jets instead of generating.")
    parser.add_argument("--steps", type=int, default=8000, help="Optimisation steps of every training.")
    parser.add_argument("--out", type=Path, default=None, help="Work folder (default: a temporary one).")
    parser.add_argument(
        "--jets-only", action="store_true", help="Only the image and particle-set autoencoder rows (needs --data)."
    )
    parser.add_argument(
        "--jet-steps", type=int, default=8000, help="Optimisation steps of the image and particle-set models."
    )
    parser.add_argument(
        "--generator-only", action="store_true", help="Only the jet-image generator (benchmark 3; needs --data)."
    )
    parser.add_argument("--generator-steps", type=int, default=10_000, help="Optimisation steps of the generator.")
    parser.add_argument("--image-size", type=int, default=16, help="Pixels per side of the generated images.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="neyman-bench-anomaly-") as tmp:
        out = args.out or Path(tmp)
        if args.jets_only:
            for direction, label, ev in _jet_rows(out, args.data, args.jet_steps):
                print(
                    f"{direction:<18} {label:<18} AUC {ev['auc']:.3f} max SIC {_cell(ev.get('max_sic'))} "
                    f"ε_S@1e-2 {_cell(ev.get('eps_s_at_1e-02'))} ε_S@1e-3 {_cell(ev.get('eps_s_at_1e-03'))}"
                )
            return
        if args.generator_only:
            _generator(out, args.data, args.generator_steps, args.image_size)
            return
        tops, qcd, generate_rate = _data(out, args.events, args.data)
        rows, flow_run, flow_eval = [], None, None
        for direction, path in (("QCD → find tops", tops), ("tops → find QCD", qcd)):
            for label, (task, model) in MODELS.items():
                name = f"{'qcd' if path == tops else 'top'}-{model['type']}-{len(rows)}"
                run, ev = _run(out, path, name, task, model, args.steps)
                rows.append((direction, label, ev))
                if path == tops and label == "flow (−ln p)":
                    flow_run, flow_eval = run, ev
        rows += _jet_rows(out, args.data or out / "jets.parquet", args.jet_steps)
        print(f"\ntop_vs_qcd jets, features: {', '.join(FEATURES)}")
        print(f"\n{'trained on → finds':<18} {'model':<14} {'AUC':>6} {'max SIC':>8} {'ε_S@1e-2':>9} {'ε_S@1e-3':>9}")
        for direction, label, ev in rows:
            print(
                f"{direction:<18} {label:<14} {ev['auc']:>6.3f} {_cell(ev.get('max_sic')):>8} "
                f"{_cell(ev.get('eps_s_at_1e-02')):>9} {_cell(ev.get('eps_s_at_1e-03')):>9}"
            )
        best = max(ev["auc"] for direction, _, ev in rows if direction.startswith("QCD"))
        print(f"\nbar: best top-finding AUC ≥ 0.85: {'met' if best >= 0.85 else 'MISSED'} ({best:.3f})")
        assert flow_run is not None and flow_eval is not None
        generated = flow_eval["generated"]
        print(f"\nflow on QCD jets as a fast simulation ({generated['n_events']} real test jets):")
        auc, frechet = generated["two_sample_auc"], generated["frechet_distance"]
        print(f"  classifier two-sample AUC {auc:.3f}, Fréchet distance {frechet:.4f}")
        print("  W1/σ: " + ", ".join(f"{c} {v:.3f}" for c, v in generated["wasserstein_over_std"].items()))
        print(f"bar: two-sample AUC ≤ 0.55: {'met' if auc <= 0.55 else 'MISSED'} ({auc:.3f})")
        t0 = time.perf_counter()
        n = 1_000_000
        sample(flow_run, out / "fast.parquet", events=n, seed=1)
        rate = n / (time.perf_counter() - t0)
        line = f"\nsampling: {rate:,.0f} jets/s (neyman sample)"
        if generate_rate is not None:
            line += f" vs {generate_rate:,.0f} jets/s (neyman generate, 2 workers): {rate / generate_rate:,.0f}×"
        print(line)
        _generator(out, args.data or out / "jets.parquet", args.generator_steps, args.image_size)


if __name__ == "__main__":
    main()
