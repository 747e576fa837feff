"""ONNX Runtime against PyTorch eager: inference throughput of exported neyman models.

Run by hand (not part of the test suite)::

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 python benchmarks/bench_onnx.py

Two runs are trained briefly and exported with ``neyman export`` (so the graphs are
the ones users get, preprocessing folded in): an MLP 12→128→128→128→1 on
``likelihood_ratio_dataset`` and a PFN (``full`` preset) on generated top/QCD jets
with 100 constituents.  Both engines score the same inputs at batch 1024 with the
same number of threads, alternated, best of several rounds; the table gives
events/s and the ratio ONNX Runtime / PyTorch.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neyman import io
from neyman.export.jets import float32_inputs
from neyman.runs import load_run
from neyman.testing import likelihood_ratio_dataset
from neyman.workflows.export import export
from neyman.workflows.generate import generate
from neyman.workflows.train import train


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def _best(fn: Any, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def compare(name: str, run_dir: Path, raw: Any, n: int, threads: int, rounds: int) -> None:
    trained = load_run(run_dir)
    onnx_path = export(run_dir).path
    session = _session(onnx_path, threads)
    prep = trained.preprocessors[0].transform(raw)
    if isinstance(prep, np.ndarray):
        prep = prep.astype(np.float32)
    network = trained.models[0].network.eval()  # type: ignore[attr-defined]
    batch = 1024
    if isinstance(raw, np.ndarray):
        tensors = [torch.from_numpy(np.ascontiguousarray(prep[i : i + batch])) for i in range(0, n, batch)]
        feeds = [{"features": raw[i : i + batch].astype(np.float32)} for i in range(0, n, batch)]
    else:
        tensors = [tuple(torch.from_numpy(a) for a in prep[i : i + batch].tensors()) for i in range(0, n, batch)]
        feeds = [float32_inputs(raw[i : i + batch]) for i in range(0, n, batch)]

    @torch.no_grad()
    def eager() -> None:
        for t in tensors:
            out = network(*t) if isinstance(t, tuple) else network(t)
            torch.sigmoid(out)

    def runtime() -> None:
        for f in feeds:
            session.run(None, f)

    eager()
    runtime()
    t_eager, t_ort = _best(eager, rounds), _best(runtime, rounds)
    print(
        f"| {name:<24} | {n / t_eager:>14,.0f} | {n / t_ort:>14,.0f} | {t_eager / t_ort:>17.2f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        table = likelihood_ratio_dataset(60_000, seed=4)
        io.write(table, work / "lr.parquet")
        features = [f"x{i:02d}" for i in range(12)]
        mlp = train(
            {
                "name": "mlp",
                "output_dir": str(work / "runs"),
                "data": {
                    "sources": [{"path": str(work / "lr.parquet")}],
                    "label_column": "label",
                    "features": features,
                },
                "model": {"type": "mlp", "hidden": [128, 128, 128]},
                "training": {"epochs": 2, "progress": False},
            }
        ).run_dir
        jets_file = work / "jets.parquet"
        generate("top_vs_qcd", 2000, jets_file, seed=3, progress=False)
        pfn = train(
            {
                "name": "pfn",
                "output_dir": str(work / "runs"),
                "data": {"sources": [{"path": str(jets_file)}], "label_column": "label", "event_id": "event_id"},
                "model": {"type": "pfn", "preset": "full"},
                "training": {"epochs": 2, "batch_size": 256, "progress": False},
            }
        ).run_dir
        print(f"\n{args.threads} threads, batch 1024, best of {args.rounds} rounds")
        print(f"| {'model':<24} | {'torch events/s':>14} | {'ONNX RT events/s':>14} | {'ONNX RT / torch':>17} |")
        print(f"|{'-' * 26}|{'-' * 16}|{'-' * 18}|{'-' * 19}|")
        x = table.to_numpy(features, dtype=np.float64)[:50_000]
        compare("MLP 12-128-128-128-1", mlp, x, len(x), args.threads, args.rounds)
        particles = load_run(pfn).inputs(io.read(jets_file))
        compare("PFN full, 100 particles", pfn, particles, len(particles), args.threads, args.rounds)


if __name__ == "__main__":
    main()
