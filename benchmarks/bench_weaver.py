"""weaver-core's ParticleNet-Lite as a peer of neyman's ParticleNet, on the same jets and split.

weaver-core (``pip install weaver-core``) is the
field's reference trainer for jet taggers.  It runs here as a separate program in its own
virtual environment; nothing of it is copied into neyman.  Set it up once (the venv sees
the system packages, so it reuses the installed torch)::

    python -m venv --system-site-packages /work/weaver-venv
    /work/weaver-venv/bin/pip install weaver-core

Then, given a top_vs_qcd file and a finished neyman ParticleNet run on it (for example
``bench-runs/particlenet`` from ``bench_taggers.py --only particlenet``)::

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 \\
        python benchmarks/bench_weaver.py top.parquet bench-runs/particlenet --work bench-weaver

What it does, in one run:

1. writes the run's train / validation / test jets (``<run>/predictions.parquet``:
   ``event_id`` → ``split``) to ``train.parquet``, ``val.parquet``, ``test.parquet``;
2. writes a weaver data config with neyman's particle inputs (the 100 hardest
   constituents; points (Δη, Δφ) to the jet axis; the 13 features of
   ``neyman.representations.particles.DEFAULT_PARTICLE_FEATURES``), standardised either
   with the mean and standard deviation neyman fitted for that run (``--standardise
   neyman``, default: identical inputs, weaver ``manual`` preprocessing) or by weaver's
   own ``auto`` preprocessing on the training file (median and 16–84% half-width); both
   clip to ±5 and leave charge and type flags as they are;
3. writes a weaver network config: ``weaver.nn.model.ParticleNet`` with the paper's Lite
   hyper-parameters (k = 7, EdgeConv (32, 32, 32), (64, 64, 64), fc 128 with dropout
   0.1), two-class softmax, cross-entropy;
4. trains with ``weaver`` (Adam, the run's learning rate, batch size and number of epochs,
   weaver's default ``flat+decay`` schedule, the whole training file in memory, CPU,
   ``OMP_NUM_THREADS`` = ``--threads``), then predicts the test file with the epoch of
   best validation accuracy;
5. times the bare forward pass of both networks on the same test jets (batch 1024,
   inputs prepared beforehand by each tool) and prints one table: AUC and background
   rejection at ε_S = 0.3 and 0.5 with Poisson-bootstrap uncertainties, training and
   inference jets/s, and the ratios neyman / weaver.

Training jets/s is ``n_train × epochs / Σ epoch seconds`` for both tools, an epoch being
the training pass plus the validation pass (neyman's ``history.csv`` ``seconds``; weaver's
two ``Processed ... entries`` lines per epoch); the rate of the median epoch is printed as
well, since a few epochs slowed by other jobs on a shared machine move the mean.  neyman's
training numbers are read from the run directory; run this script on the same machine,
with the same allocator and threads as that run, and on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
import yaml

from neyman import io, metrics
from neyman.runs import load_run

SPLITS = {0: "train", 1: "val", 2: "test"}
N_CONSTITUENTS = 100
FEATURES = (
    "deta", "dphi", "dr", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "charge",
    "is_electron", "is_muon", "is_photon", "is_charged_hadron", "is_neutral_hadron",
)  # fmt: skip
DISCRETE = {"charge", "is_electron", "is_muon", "is_photon", "is_charged_hadron", "is_neutral_hadron"}

# weaver evaluates these expressions on awkward arrays of the file's columns.  The jet
# columns eta/phi/pt/energy are the four-momentum sum of all constituents (the axis neyman
# uses; they agree with a re-summation to ~1e-7), and the constituents are stored by
# decreasing pT, so weaver's first-100 truncation keeps neyman's hardest 100.
_DETA = "(constituent_eta - eta)"
_DPHI = "((constituent_phi - phi + np.pi) % (2 * np.pi) - np.pi)"
_APDG = "np.abs(constituent_pdg_id)"
_CHARGED = "(constituent_charge != 0)"
EXPRESSIONS = {
    "deta": _DETA,
    "dphi": _DPHI,
    "dr": f"np.hypot({_DETA}, {_DPHI})",
    "log_pt": "np.log(constituent_pt)",
    "log_e": "np.log(constituent_E)",
    "log_pt_rel": "np.log(constituent_pt / pt)",
    "log_e_rel": "np.log(constituent_E / energy)",
    "charge": "constituent_charge",
    "is_electron": f"ak.values_astype({_APDG} == 11, 'float32')",
    "is_muon": f"ak.values_astype({_APDG} == 13, 'float32')",
    "is_photon": f"ak.values_astype({_APDG} == 22, 'float32')",
    "is_charged_hadron": f"ak.values_astype({_CHARGED} & ({_APDG} != 11) & ({_APDG} != 13), 'float32')",
    "is_neutral_hadron": f"ak.values_astype(~{_CHARGED} & ({_APDG} != 22), 'float32')",
}

NETWORK = '''"""ParticleNet-Lite (Qu & Gouskos, arXiv:1902.08570) from weaver's own classes."""

import torch
from weaver.nn.model.ParticleNet import ParticleNet


def get_model(data_config, **kwargs):
    model = ParticleNet(
        input_dims=len(data_config.input_dicts["pf_features"]),
        num_classes=len(data_config.label_value),
        conv_params=[(7, (32, 32, 32)), (7, (64, 64, 64))],
        fc_params=[(128, 0.1)],
        use_fusion={fusion},
        use_fts_bn=True,
        use_counts=True,
        for_inference=kwargs.get("for_inference", False),
    )
    model_info = {{
        "input_names": list(data_config.input_names),
        "input_shapes": {{k: ((1,) + s[1:]) for k, s in data_config.input_shapes.items()}},
        "output_names": ["softmax"],
        "dynamic_axes": {{**{{k: {{0: "N", 2: "n_" + k.split("_")[0]}} for k in data_config.input_names}},
                         "softmax": {{0: "N"}}}},
    }}
    return model, model_info


def get_loss(data_config, **kwargs):
    return torch.nn.CrossEntropyLoss()
'''

# Run by weaver's interpreter: the bare forward pass of the trained weaver network on test
# inputs prepared by weaver's own data pipeline (so file reading and preprocessing are
# not timed), with the scores for a consistency check against ``weaver --predict``.
FORWARD = """
import json, sys, time
import numpy as np, torch
from torch.utils.data import DataLoader
from weaver.utils.dataset import SimpleIterDataset
from weaver.utils.import_tools import import_module

config, network, state, test, n_max, threads, batch, out = sys.argv[1:]
n_max, threads, batch = int(n_max), int(threads), int(batch)
torch.set_num_threads(threads)
data = SimpleIterDataset({"test": [test]}, config, for_training=False,
                         load_range_and_fraction=((0, 1), 1, 1), fetch_by_files=True, fetch_step=1, name="test")
inputs, n = [], 0
for X, _, _ in DataLoader(data, batch_size=batch, num_workers=0):
    inputs.append([X[k].float() for k in data.config.input_names])
    n += len(inputs[-1][0])
    if n >= n_max:
        break
model = import_module(network, "_network").get_model(data.config)[0]
model.load_state_dict(torch.load(state, map_location="cpu"))
model.eval()
with torch.no_grad():
    model(*inputs[0])
    start = time.perf_counter()
    scores = [torch.softmax(model(*x), dim=1)[:, 1] for x in inputs]
    seconds = time.perf_counter() - start
json.dump({"n": n, "seconds": seconds, "scores": torch.cat(scores).tolist()}, open(out, "w"))
np.savez(out.replace(".json", ".npz"), **{k: v[:256].numpy() for k, v in zip(data.config.input_names, inputs[0])})
"""


def write_splits(data: Path, run_dir: Path, work: Path) -> tuple[dict[str, int], np.ndarray]:
    """The run's train / val / test jets as three Parquet files; returns the jet counts and split codes.

    Jets are matched by row: ``event_id`` is not unique (the jets of one generated event
    share it), and ``predictions.parquet`` holds the jets of the file in file order, which
    is checked against the file's ``event_id`` and ``label``.
    """
    preds = pq.read_table(run_dir / "predictions.parquet", columns=["event_id", "split", "label"])
    table = pq.read_table(data)
    same = len(preds) == len(table) and all(
        np.array_equal(preds.column(c).to_numpy(), table.column(c).to_numpy()) for c in ("event_id", "label")
    )
    if not same:
        raise SystemExit(
            f"{data} does not hold the jets of {run_dir}/predictions.parquet in the same order "
            "(event_id and label differ); pass the single file the run was trained on"
        )
    split = preds.column("split").to_numpy()
    counts = {}
    for code, name in SPLITS.items():
        subset = table.filter(pa.array(split == code))
        pq.write_table(subset, work / f"{name}.parquet", row_group_size=20_000)
        counts[name] = len(subset)
    return counts, split


def data_config(standardise: str, run_dir: Path) -> dict[str, Any]:
    """weaver's data config: inputs pf_points, pf_features, pf_mask; labels qcd, top."""
    if standardise == "neyman":
        fitted = json.loads((run_dir / "preprocessing.json").read_text())["folds"][0]
        if fitted.get("kind") != "particles" or list(fitted["names"]) != list(FEATURES):
            raise SystemExit(f"{run_dir}/preprocessing.json does not standardise neyman's 13 default features")
        clip = float(fitted["clip"] or 1e9)
        params = {n: (m, 1.0 / s) for n, m, s in zip(fitted["names"], fitted["mean"], fitted["scale"], strict=True)}

    def feature(name: str) -> list[Any]:
        if name in DISCRETE:
            return [f"f_{name}", None]
        if standardise == "auto":
            return [f"f_{name}"]  # centre "auto", clipped to ±5
        centre, scale = params[name]
        return [f"f_{name}", centre, scale, -clip, clip]

    padded = {"length": N_CONSTITUENTS, "pad_mode": "constant"}
    return {
        "selection": None,
        "new_variables": {
            "p_deta": EXPRESSIONS["deta"],
            "p_dphi": EXPRESSIONS["dphi"],
            "p_mask": "ak.ones_like(constituent_E)",
            **{f"f_{n}": EXPRESSIONS[n] for n in FEATURES},
            "is_qcd": "label == 0",
            "is_top": "label == 1",
        },
        "preprocess": {"method": "auto" if standardise == "auto" else "manual", "data_fraction": 1.0},
        "inputs": {
            "pf_points": {**padded, "vars": [["p_deta", None], ["p_dphi", None]]},
            "pf_features": {**padded, "vars": [feature(n) for n in FEATURES]},
            "pf_mask": {**padded, "vars": [["p_mask", None]]},
        },
        "labels": {"type": "simple", "value": ["is_qcd", "is_top"]},
        "observers": ["event_id"],
        "weights": None,
    }


def run_weaver(command: list[str], env: dict[str, str], log: Path) -> float:
    """Run weaver, its output to ``log``; returns the wall seconds."""
    print("$ " + " ".join(command), flush=True)
    start = time.perf_counter()
    with log.open("w") as f:
        done = subprocess.run(command, env=env, stdout=f, stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
        raise SystemExit(f"weaver failed (exit {done.returncode}); the end of {log}:\n{tail}")
    return seconds


_PROCESSED = re.compile(r"Processed (\d+) entries in total \(avg\. speed ([\d.]+) entries/s\)")
_PHASE = re.compile(r"Epoch #(\d+) (training|validating)")
_METRIC = re.compile(r"Epoch #(\d+): Current validation metric: ([\d.]+) \(best: ([\d.]+)\)")


def weaver_epochs(log: Path) -> list[dict[str, float]]:
    """Per epoch: training and validation entries and loop seconds, validation accuracy."""
    epochs: dict[int, dict[str, float]] = {}
    epoch, phase = -1, ""
    for line in log.read_text().splitlines():
        if m := _PHASE.search(line):
            epoch, phase = int(m.group(1)), m.group(2)
            epochs.setdefault(epoch, {"epoch": epoch + 1})
        elif (m := _PROCESSED.search(line)) and epoch >= 0:
            n, rate = int(m.group(1)), float(m.group(2))
            key = "train" if phase == "training" else "val"
            epochs[epoch][f"{key}_n"] = n
            epochs[epoch][f"{key}_s"] = n / rate
        elif m := _METRIC.search(line):
            epochs[int(m.group(1))]["val_acc"] = float(m.group(2))
    return [epochs[k] for k in sorted(epochs)]


def predict_rate(log: Path) -> float:
    """Jets/s of weaver's own test loop (its data loading included)."""
    found = _PROCESSED.findall(log.read_text())
    return float(found[-1][1]) if found else float("nan")


def bootstrap(
    scores: dict[str, np.ndarray], labels: np.ndarray, n: int, seed: int = 1
) -> dict[str, dict[str, tuple[float, float]]]:
    """AUC, 1/ε_B at ε_S = 0.3 and 0.5 of each tool, with Poisson-bootstrap standard deviations.

    The replicas reweight the same jets for every tool, so the spread of the AUC
    difference (first tool minus second) is that of a paired comparison.
    """

    def numbers(s: np.ndarray, w: np.ndarray | None) -> list[float]:
        roc = metrics.roc_curve(s, labels, sample_weight=w)
        return [
            metrics.roc_auc(s, labels, sample_weight=w),
            metrics.background_rejection(roc, 0.3),
            metrics.background_rejection(roc, 0.5),
        ]

    rng = np.random.default_rng(seed)
    weights = [rng.poisson(1.0, len(labels)).astype(np.float64) for _ in range(n)]
    out: dict[str, dict[str, tuple[float, float]]] = {}
    replicas = {}
    for tool, s in scores.items():
        central = numbers(s, None)
        replicas[tool] = np.array([numbers(s, w) for w in weights])
        spread = np.nanstd(np.where(np.isfinite(replicas[tool]), replicas[tool], np.nan), axis=0)
        out[tool] = {k: (c, float(d)) for k, c, d in zip(("auc", "r30", "r50"), central, spread, strict=True)}
    first, second = list(scores)
    diff = replicas[first][:, 0] - replicas[second][:, 0]
    out["difference"] = {"auc": (out[first]["auc"][0] - out[second]["auc"][0], float(np.std(diff)))}
    return out


def neyman_forward(run_dir: Path, test: Path, n: int) -> tuple[float, float, Any]:
    """Forward jets/s and input-building jets/s of the neyman run on the first ``n`` test jets
    (batch 1024), and its standardised inputs of those jets."""
    trained = load_run(run_dir)
    table = io.read(test, entry_stop=n)
    start = time.perf_counter()
    x = trained.inputs(table)
    build = len(table) / (time.perf_counter() - start)
    prepared = trained.preprocessors[0].transform(x)
    model = trained.models[0]
    model.predict(prepared[:1024])  # warm-up
    start = time.perf_counter()
    model.predict(prepared)
    return len(table) / (time.perf_counter() - start), build, prepared


def input_differences(weaver: dict[str, np.ndarray], neyman: Any) -> dict[str, float]:
    """Largest |weaver − neyman| of points, mask and features over the first jets of the test file."""
    n = len(weaver["pf_mask"])
    return {
        "points": float(np.max(np.abs(weaver["pf_points"].transpose(0, 2, 1) - neyman.points[:n]))),
        "mask": float(np.max(np.abs(weaver["pf_mask"][:, 0] - neyman.mask[:n]))),
        "features": float(np.max(np.abs(weaver["pf_features"].transpose(0, 2, 1) - neyman.features[:n]))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the top_vs_qcd Parquet file the neyman run was trained on")
    parser.add_argument("run_dir", type=Path, help="a finished neyman ParticleNet run directory")
    parser.add_argument("--work", type=Path, required=True, help="directory for split files, configs and weaver output")
    parser.add_argument("--epochs", type=int, help="weaver epochs (default: the epochs in <run>/history.csv)")
    parser.add_argument("--weaver", default="/work/weaver-venv/bin/weaver", help="the weaver executable")
    parser.add_argument("--standardise", choices=("neyman", "auto"), default="neyman")
    parser.add_argument("--fusion", action="store_true", help="weaver's fusion block (on in weaver, not in the paper)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--num-workers", type=int, default=0, help="weaver data-loader worker processes")
    parser.add_argument("--infer-jets", type=int, default=20_000, help="test jets in the forward-pass timing")
    parser.add_argument("--bootstrap", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    run_dir, work = args.run_dir.resolve(), args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if "tcmalloc" not in os.environ.get("LD_PRELOAD", ""):
        print("note: LD_PRELOAD has no tcmalloc; compare under the allocator of the neyman run", flush=True)

    status = json.loads((run_dir / "status.json").read_text())
    if status.get("state") != "complete":
        raise SystemExit(f"{run_dir} is not complete (status.json: {status})")
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    if config["model"]["type"] != "particlenet":
        raise SystemExit(f"{run_dir} is a {config['model']['type']} run, not particlenet")
    training = config["training"]
    with (run_dir / "history.csv").open() as f:
        history = list(csv.DictReader(f))
    run_metrics = json.loads((run_dir / "metrics.json").read_text())
    epochs = args.epochs or len(history)
    batch, lr = int(training["batch_size"]), float(training["optimizer"]["lr"])

    counts, split = write_splits(args.data, run_dir, work)
    print(f"split: {counts}", flush=True)
    # weaver appends to its log files and reuses an auto-standardisation file it finds
    stale_files = ["model", "predict.parquet", "train.log", "predict.log", "forward.json", "forward.npz"]
    for stale in [*work.glob("data.*.auto.yaml"), *(work / f for f in stale_files)]:
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink(missing_ok=True)
    (work / "data.yaml").write_text(yaml.safe_dump(data_config(args.standardise, run_dir), sort_keys=False))
    (work / "network.py").write_text(NETWORK.format(fusion=args.fusion))

    env = {**os.environ, **{k: str(args.threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    common = [
        "--data-config", str(work / "data.yaml"), "--network-config", str(work / "network.py"),
        "--gpus", "", "--num-workers", str(args.num_workers),
    ]  # fmt: skip
    train_command = [
        args.weaver, *common, "--data-train", str(work / "train.parquet"), "--data-val", str(work / "val.parquet"),
        "--model-prefix", str(work / "model" / "pn"), "--num-epochs", str(epochs), "--batch-size", str(batch),
        "--start-lr", str(lr), "--optimizer", "adam", "--lr-scheduler", "flat+decay",
        "--in-memory", "--fetch-step", "1", "--steps-per-epoch", str(counts["train"] // batch),
        "--steps-per-epoch-val", str(counts["val"] // batch), "--log-file", str(work / "train.log"),
    ]  # fmt: skip
    train_seconds = run_weaver(train_command, env, work / "train.stdout")
    best_state = work / "model" / "pn_best_epoch_state.pt"
    predict_command = [
        args.weaver, *common, "--predict", "--data-test", str(work / "test.parquet"),
        "--model-prefix", str(best_state), "--batch-size", "1024",
        "--predict-output", str(work / "predict.parquet"), "--log-file", str(work / "predict.log"),
    ]  # fmt: skip
    predict_seconds = run_weaver(predict_command, env, work / "predict.stdout")
    (work / "forward.py").write_text(FORWARD)
    forward_command = [
        str(Path(args.weaver).with_name("python")), str(work / "forward.py"), str(work / "data.yaml"),
        str(work / "network.py"), str(best_state), str(work / "test.parquet"), str(args.infer_jets),
        str(args.threads), "1024", str(work / "forward.json"),
    ]  # fmt: skip
    run_weaver(forward_command, env, work / "forward.stdout")
    forward = json.loads((work / "forward.json").read_text())

    # scores of both tools on the test jets, in file order
    preds = io.read(run_dir / "predictions.parquet", columns=["event_id", "label", "score"])
    test = split == 2
    ids, labels = np.asarray(preds["event_id"])[test], np.asarray(preds["label"])[test]
    ny_scores = np.asarray(preds["score"], dtype=np.float64)[test]
    out = pq.read_table(work / "predict.parquet")
    w_scores = np.stack(out.column("scores").to_numpy(zero_copy_only=False))[:, 1].astype(np.float64)
    w_ids, w_labels = out.column("event_id").to_numpy(), out.column("_label_").to_numpy()
    if not (np.array_equal(w_ids, ids) and np.array_equal(w_labels, labels)):
        raise SystemExit("weaver's predictions are not the neyman test jets in file order")
    check = np.asarray(forward["scores"])
    consistency = float(np.max(np.abs(w_scores[: len(check)] - check)))

    stats = bootstrap({"neyman": ny_scores, "weaver": w_scores}, labels, args.bootstrap)

    epochs_w = weaver_epochs(work / "train.log")
    w_epoch_s = [e["train_s"] + e["val_s"] for e in epochs_w]
    w_train_n = sum(e["train_n"] for e in epochs_w)
    ny_epoch_s = [float(h["seconds"]) for h in history]
    n_train_ny = int(run_metrics["train"]["n_events"])
    ny_fwd, ny_build, ny_inputs = neyman_forward(run_dir, work / "test.parquet", args.infer_jets)
    with np.load(work / "forward.npz") as saved:
        inputs_diff = input_differences(dict(saved), ny_inputs)
    rows = {
        "neyman": {
            "epochs": len(history),
            "train_s": float(run_metrics["training_seconds"]),
            "train_rate": n_train_ny * len(history) / sum(ny_epoch_s),
            "median_epoch_rate": n_train_ny / float(np.median(ny_epoch_s)),
            "infer_rate": ny_fwd,
            "epoch_s": ny_epoch_s,
            "build_rate": ny_build,
            "test_auc_metrics_json": run_metrics["test"]["auc"],
        },
        "weaver": {
            "epochs": len(epochs_w),
            "train_s": train_seconds,
            "train_rate": w_train_n / sum(w_epoch_s),
            "median_epoch_rate": w_train_n / len(epochs_w) / float(np.median(w_epoch_s)),
            "train_loop_rate": w_train_n / sum(e["train_s"] for e in epochs_w),
            "infer_rate": forward["n"] / forward["seconds"],
            "predict_loop_rate": predict_rate(work / "predict.log"),
            "predict_wall_rate": counts["test"] / predict_seconds,
            "epoch_s": w_epoch_s,
            "val_acc": [e.get("val_acc") for e in epochs_w],
        },
    }
    for tool in rows:
        rows[tool].update(stats[tool])
    summary = {
        "counts": counts,
        "epochs": epochs,
        "batch_size": batch,
        "lr": lr,
        "standardise": args.standardise,
        "fusion": args.fusion,
        "threads": args.threads,
        "ld_preload": os.environ.get("LD_PRELOAD", ""),
        "rows": rows,
        "auc_difference": stats["difference"]["auc"],
        "forward_vs_predict_max_score_diff": consistency,
        "max_input_difference": inputs_diff,
    }
    (work / "summary.json").write_text(json.dumps(summary, indent=1))

    print()
    print(
        f"test split: {counts['test']} jets ({int((labels == 0).sum())} QCD); training jets: {counts['train']}; "
        f"validation jets: {counts['val']}; {args.threads} threads; "
        f"allocator: {'tcmalloc' if 'tcmalloc' in summary['ld_preload'] else 'default'}"
    )
    print(
        f"| {'tool':<23} | {'epochs':>6} | {'AUC':>16} | {'1/eB @ eS=0.3':>13} | {'1/eB @ eS=0.5':>13} "
        f"| {'train s':>8} | {'train jets/s':>12} | {'infer jets/s':>12} |"
    )
    print("|" + "|".join("-" * w for w in (25, 8, 18, 15, 15, 10, 14, 14)) + "|")
    for tool in ("neyman", "weaver"):
        r = rows[tool]
        name = "neyman ParticleNet-Lite" if tool == "neyman" else "weaver ParticleNet-Lite"
        print(
            f"| {name:<23} | {r['epochs']:>6} | {r['auc'][0]:>7.4f}±{r['auc'][1]:<7.4f} "
            f"| {r['r30'][0]:6.0f}±{r['r30'][1]:<6.0f} | {r['r50'][0]:6.1f}±{r['r50'][1]:<6.1f} "
            f"| {r['train_s']:8.0f} | {r['train_rate']:12.0f} | {r['infer_rate']:12.0f} |"
        )
    ny, wv = rows["neyman"], rows["weaver"]
    diff = stats["difference"]["auc"]
    delta = f"Δ {diff[0]:+.4f}±{diff[1]:.4f}"
    print(
        f"| {'ratio neyman/weaver':<23} | {'':>6} | {delta:>16} "
        f"| {ny['r30'][0] / wv['r30'][0]:13.2f} | {ny['r50'][0] / wv['r50'][0]:13.2f} "
        f"| {ny['train_s'] / wv['train_s']:8.2f} | {ny['train_rate'] / wv['train_rate']:12.2f} "
        f"| {ny['infer_rate'] / wv['infer_rate']:12.2f} |"
    )
    print(
        "\nΔ is neyman − weaver with the paired bootstrap spread; train s is neyman's training_seconds and weaver's "
        "wall time (start-up, standardisation, loading and checkpoints included)."
    )
    print(
        f"weaver: training loop alone {wv['train_loop_rate']:.0f} jets/s; its --predict loop (file reading and "
        f"preprocessing included, batch 1024) {wv['predict_loop_rate']:.0f} jets/s, whole predict command "
        f"{wv['predict_wall_rate']:.0f} jets/s; per-epoch seconds {[round(s, 1) for s in wv['epoch_s']]}; "
        f"validation accuracy {wv['val_acc']}"
    )
    print(
        f"train jets/s of the median epoch (robust to other jobs slowing a few epochs): neyman "
        f"{ny['median_epoch_rate']:.0f}, weaver {wv['median_epoch_rate']:.0f}, ratio "
        f"{ny['median_epoch_rate'] / wv['median_epoch_rate']:.2f}"
    )
    print(
        f"neyman: per-epoch seconds {[round(s, 1) for s in ny['epoch_s']]}; building particle inputs "
        f"{ny['build_rate']:.0f} jets/s; test AUC in metrics.json {ny['test_auc_metrics_json']:.4f}"
    )
    print(
        "largest |weaver − neyman| of the standardised inputs of the first 256 test jets: "
        + ", ".join(f"{k} {v:.1e}" for k, v in inputs_diff.items())
        + ("" if args.standardise == "neyman" else " (features differ by design with --standardise auto)")
    )
    print(f"forward-pass scores vs weaver --predict: max |Δscore| = {consistency:.2e}; summary in {work}/summary.json")


if __name__ == "__main__":
    sys.exit(main())
