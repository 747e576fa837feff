"""Quality bars of event generation: event-loop overhead, worker scaling, a 20k-jet sample.

Run by hand (not part of the test suite)::

    python benchmarks/bench_generate.py            # ~5 minutes on 2 cores
    python benchmarks/bench_generate.py --quick    # ~2 minutes

All comparisons are within one run (ratios), because these machines are noisy.

1. Per core, neyman's event loop (``nextBatch`` + final state + detector) against a
   bare Pythia ``next()`` loop of the same process and settings, alternated; and
   the whole chunk (clustering, truth matching, substructure) for the jets/s rate.
2. ``neyman generate top_vs_qcd --events 20000`` with 1 worker (in-process) and
   with 2 Dask workers: rows per second and their ratio; the 2-worker wall time
   is the third bar (under 3 minutes).
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
        bare_s = batch_s = ours_s = full_s = 0.0
        rows = 0
        for r in range(rounds):
            bare.rndm.init(1000 + r)
            start = time.perf_counter()
            for _ in range(n_events):
                bare.next()
            bare_s += time.perf_counter() - start

            # the same seed: the same events as the bare loop
            instance.pythia.rndm.init(1000 + r)
            start = time.perf_counter()
            batch = instance.pythia.nextBatch(n_events)
            batched = time.perf_counter()
            simulate(final_state(instance, batch.prt), detector, rng=rng)
            done = time.perf_counter()
            batch_s += batched - start
            ours_s += done - batched

            start = time.perf_counter()
            result = run_chunk(ChunkTask(process, label, r + 1, n_events, seed=1))
            full_s += time.perf_counter() - start
            rows += len(result.table)
        events = n_events * rounds
        ratio = (batch_s + ours_s) / bare_s
        _row(f"{name}: bare Pythia next() loop", f"{events / bare_s:.0f} events/s", "", None)
        _row(f"{name}:   pythia8mc nextBatch (events as arrays) / bare", f"{batch_s / bare_s:.3f}x time", "", None)
        _row(f"{name}:   + neyman final state and detector / bare", f"+{ours_s / bare_s:.3f}x time", "", None)
        _row(
            f"{name}: event loop (batch + final state + detector) / bare",
            f"{ratio:.3f}x time",
            "<= 1.10x",
            ratio <= 1.10,
        )
        _row(
            f"{name}: whole chunk (+ jets, truth, substructure)",
            f"{events / full_s:.0f} ev/s, {rows / full_s:.0f} jets/s",
            "",
            None,
        )
        _row(f"{name}: whole chunk / bare Pythia", f"{full_s / bare_s:.2f}x time", "", None)


def scaling(n_jets: int) -> None:
    """1 worker (in-process) against 2 Dask workers on the same request.

    The 2-worker run of the full size is also the ``--events 20000`` wall-time bar.
    Fixed costs (starting the worker processes, writing the final file) weigh
    more in small runs, so ``--quick`` understates the scaling.
    """
    with tempfile.TemporaryDirectory() as tmp:
        rates, seconds = {}, {}
        for workers in (1, 2):
            out = Path(tmp) / f"w{workers}.parquet"
            start = time.perf_counter()
            generate("top_vs_qcd", n_jets, out, seed=workers, workers=workers, progress=False)
            seconds[workers] = time.perf_counter() - start
            rates[workers] = n_jets / seconds[workers]
            _row(f"generate top_vs_qcd {n_jets} jets, {workers} worker(s)", f"{rates[workers]:.0f} jets/s", "", None)
        ratio = rates[2] / rates[1]
        _row("2 workers / 1 worker", f"{ratio:.2f}x rate", ">= 1.8x", ratio >= 1.8)
        if n_jets == 20_000:
            wall = seconds[2]
            _row(f"generate top_vs_qcd --events {n_jets} --workers 2", f"{wall:.0f} s", "< 180 s", wall < 180)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller samples")
    args = parser.parse_args()
    print(f"| {'measurement':<58} | {'value':>24} | {'bar':>12} | {'ok':>4} |")
    print(f"|{'-' * 60}|{'-' * 26}|{'-' * 14}|{'-' * 6}|")
    event_loop(500, 2 if args.quick else 6)
    scaling(4000 if args.quick else 20_000)


if __name__ == "__main__":
    main()
