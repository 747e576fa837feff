"""Quality bars of event generation: event-loop overhead, worker scaling, a 20k-jet sample.

Run by hand (not part of the test suite)::

    python benchmarks/bench_generate.py            # ~6 minutes on 2 cores
    python benchmarks/bench_generate.py --quick    # ~2 minutes

All comparisons are within one run (ratios), because these machines are noisy.

1. Per core, neyman's event loop (``nextBatch`` + final state + detector) against a
   bare Pythia ``next()`` loop of the same process and settings, alternated; and
   the whole chunk (clustering, truth matching, substructure) for the jets/s rate.
2. ``neyman generate top_vs_qcd`` with 1 worker (in-process) and with 2 Dask
   workers: rows per second and their ratio.
3. ``neyman generate top_vs_qcd --events 20000 --workers 2`` wall time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from neyman.generation.detector import Detector, simulate
from neyman.generation.processes import get_process
from neyman.generation.pythia import ChunkTask, final_state, instance_for, new_pythia, run_chunk
from neyman.workflows.generate import generate


def _row(name: str, value: str, target: str, ok: bool | None) -> None:
    mark = "" if ok is None else ("yes" if ok else "NO")
    print(f"| {name:<58} | {value:>24} | {target:>12} | {mark:>4} |")


def event_loop(n_events: int, rounds: int) -> None:
    process = get_process("top_vs_qcd")
    for label, name in ((1, "tt"), (0, "QCD")):
        task = ChunkTask(process, label, 0, n_events, seed=1)
        bare = new_pythia(task.pythia_settings())
        assert bare.init()
        instance = instance_for(task)
        detector = Detector()
        rng = np.random.default_rng(0)
        bare_s = ours_s = full_s = 0.0
        rows = 0
        for r in range(rounds):
            bare.rndm.init(1000 + r)
            start = time.perf_counter()
            for _ in range(n_events):
                bare.next()
            bare_s += time.perf_counter() - start

            instance.pythia.rndm.init(2000 + r)
            start = time.perf_counter()
            batch = instance.pythia.nextBatch(n_events)
            simulate(final_state(instance, batch.prt), detector, rng=rng)
            ours_s += time.perf_counter() - start

            start = time.perf_counter()
            result = run_chunk(ChunkTask(process, label, r + 1, n_events, seed=1))
            full_s += time.perf_counter() - start
            rows += len(result.table)
        events = n_events * rounds
        ratio = ours_s / bare_s
        _row(f"{name}: bare Pythia next() loop", f"{events / bare_s:.0f} events/s", "", None)
        _row(f"{name}: neyman event loop (batch + detector) / bare", f"{ratio:.3f}x time", "<= 1.10x", ratio <= 1.10)
        _row(
            f"{name}: whole chunk (+ jets, truth, substructure)",
            f"{events / full_s:.0f} ev/s, {rows / full_s:.0f} jets/s",
            "",
            None,
        )
        _row(f"{name}: whole chunk / bare Pythia", f"{full_s / bare_s:.2f}x time", "", None)


def scaling(n_jets: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rates = {}
        for workers in (1, 2):
            out = Path(tmp) / f"w{workers}.parquet"
            start = time.perf_counter()
            generate("top_vs_qcd", n_jets, out, seed=workers, workers=workers, progress=False)
            seconds = time.perf_counter() - start
            rates[workers] = n_jets / seconds
            _row(f"generate top_vs_qcd {n_jets} jets, {workers} worker(s)", f"{rates[workers]:.0f} jets/s", "", None)
        ratio = rates[2] / rates[1]
        _row("2 workers / 1 worker", f"{ratio:.2f}x rate", ">= 1.8x", ratio >= 1.8)


def full_sample(n_jets: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate("top_vs_qcd", n_jets, Path(tmp) / "top.parquet", seed=3, workers=2, progress=False)
        seconds = time.perf_counter() - start
    _row(f"generate top_vs_qcd --events {n_jets} --workers 2", f"{seconds:.0f} s", "< 180 s", seconds < 180)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller samples")
    args = parser.parse_args()
    print(f"| {'measurement':<58} | {'value':>24} | {'bar':>12} | {'ok':>4} |")
    print(f"|{'-' * 60}|{'-' * 26}|{'-' * 14}|{'-' * 6}|")
    event_loop(500, 2 if args.quick else 6)
    scaling(2000 if args.quick else 6000)
    if not args.quick:
        full_sample(20_000)


if __name__ == "__main__":
    main()
