"""Quality bars of event generation: event-loop overhead, worker scaling, a 20k-jet sample.

Run by hand (not part of the test suite)::

    python benchmarks/bench_generate.py            # ~30 minutes on 2 cores (pile-up: 22)
    python benchmarks/bench_generate.py --quick    # ~2 minutes

All comparisons are within one run (ratios), because these machines are noisy.

1. Per core, neyman's event loop (``nextBatch`` + final state + detector) against a
   bare Pythia ``next()`` loop of the same process and settings, alternated; and
   the whole chunk (clustering, truth matching, substructure) for the jets/s rate.
2. ``neyman generate top_vs_qcd --events 20000`` with 1 worker (in-process) and
   with 2 worker processes: rows per second and their ratio; the 2-worker wall time
   is the third bar (under 3 minutes).
3. Per detector preset, the jet response (median of pT / pT_truth) and resolution (half
   the 16-84% width over the median) of ``jet_calibration`` jets in bins of particle-level
   pT, against each preset's documented targets (``docs/generation.md``).
4. Pile-up ⟨μ⟩ = 0, 20, 60 on ``top_vs_qcd``: the top-jet mass (median in 140-210 GeV
   and the peak) before and after area-median subtraction, and the cost per event.

``--only`` runs some sections (loop, scaling, response, pileup).
"""

from __future__ import annotations

import argparse
import json
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
    """1 worker (in-process) against 2 worker processes on the same request.

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


RESPONSE_BINS = ((30, 50), (50, 100), (100, 200), (200, 500), (500, 1000), (1000, 2000))
# narrow bins at the points the issue quotes ATLAS-like figures for (30 GeV and 1 TeV)
POINT_BINS = ((27.5, 32.5), (900, 1100))
# documented targets: (response low, high) and maximal resolution, in the first and in the 500-1000 GeV bin
RESPONSE_TARGETS = {
    "cms-like": {(30, 50): ((0.90, 1.00), 0.12), (500, 1000): ((0.95, 1.00), 0.05)},
    "atlas-like": {
        (30, 50): ((0.50, 0.85), 0.20),
        (500, 1000): ((0.86, 0.95), 0.07),
        # the ATLAS-like figures: 0.5-0.8 and 15-25 % at 30 GeV, >= 0.9 and <= 6 % at 1 TeV
        (27.5, 32.5): ((0.50, 0.80), 0.25),
        (900, 1100): ((0.90, 1.00), 0.06),
    },
}
MIN_RESOLUTION = {"atlas-like": {(27.5, 32.5): 0.15}}


def response(n_jets: int) -> None:
    """Jet response and resolution per preset and pT bin (jets down to 8 GeV: no sculpting at 30)."""
    import dataclasses
    import warnings

    from neyman import io
    from neyman.generation.processes import JET_CALIBRATION

    proc = dataclasses.replace(JET_CALIBRATION, jets=dataclasses.replace(JET_CALIBRATION.jets, pt_min=8.0))
    for preset, targets in RESPONSE_TARGETS.items():
        ratios, truths = [], []
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k, pthat in enumerate((25, 150, 450, 900)):
                out = generate(
                    proc,
                    n_jets,
                    Path(tmp) / f"{pthat}.parquet",
                    seed=k,
                    detector=preset,
                    progress=False,
                    overrides=[f"pythia.PhaseSpace:pTHatMin={pthat}", "pythia.PhaseSpace:bias2Selection=off"],
                ).path
                table = io.read(out)
                ratios.append(np.asarray(table["response"]))
                truths.append(np.asarray(table["truth_pt"]))
        ratio, truth = np.concatenate(ratios), np.concatenate(truths)
        for lo, hi in (*RESPONSE_BINS, *POINT_BINS):
            inside = ratio[(truth >= lo) & (truth < hi)]
            if inside.size < 50:
                continue
            q16, q50, q84 = np.percentile(inside, [16, 50, 84])
            width = (q84 - q16) / 2 / q50
            target = targets.get((lo, hi))
            floor = MIN_RESOLUTION.get(preset, {}).get((lo, hi), 0.0)
            bar = "" if target is None else f"{target[0][0]}-{target[0][1]}, {floor:.0%}-{target[1]:.0%}"
            ok = None if target is None else bool(target[0][0] <= q50 <= target[0][1] and floor <= width <= target[1])
            _row(f"{preset} {lo}-{hi} GeV response / resolution (n={inside.size})", f"{q50:.3f} / {width:.1%}", bar, ok)


def _median_and_error(values: np.ndarray, resamples: int = 200) -> tuple[float, float]:
    """The median and its bootstrap standard error."""
    rng = np.random.default_rng(0)
    boot = [np.median(rng.choice(values, values.size)) for _ in range(resamples)]
    return float(np.median(values)), float(np.std(boot))


def pileup(n_jets: int) -> None:
    """Top-jet mass with pile-up, before and after area-median subtraction; cost per event."""
    import warnings

    from neyman import io
    from neyman.generation.pileup import subtract

    reference = None
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mu in (0, 20, 60):
            start = time.perf_counter()
            result = generate(
                "top_vs_qcd", n_jets, Path(tmp) / f"mu{mu}" / "top.parquet", seed=11, pileup=mu, progress=False
            )
            seconds = time.perf_counter() - start
            table = io.read(result.path)
            top = np.asarray(table["label"]) == 1
            pt, eta, phi = (np.asarray(table[k])[top] for k in ("pt", "eta", "phi"))
            energy, m = np.asarray(table["energy"])[top], np.asarray(table["mass"])[top]
            after, error = _median_and_error(m[(m > 140) & (m < 210)])
            if mu:  # add rho A back: the jet as clustered, before subtraction
                rho = np.asarray(table["rho"])[top]
                px, py, pz, e = subtract(pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), energy, -rho, 0.8)
                raw = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0))
                before = float(np.median(raw[(raw > 140) & (raw < 250)]))
            else:
                before, reference = after, (after, error)
            events = sum(c["events_generated"] for c in json.loads(result.provenance.read_text())["classes"])
            assert reference is not None
            shift = after / reference[0] - 1
            shift_error = np.hypot(error, reference[1]) / reference[0] if mu else 0.0
            _row(
                f"mu={mu}: top mass median before -> after (rho {np.median(table['rho']) if mu else 0:.1f})",
                f"{before:.1f} -> {after:.1f}±{error:.1f} ({shift:+.1%}±{shift_error:.1%})",
                "within 2%",
                abs(shift) <= 0.02 if mu else None,
            )
            _row(f"mu={mu}: cost per generated event", f"{1e3 * seconds / events:.1f} ms", "", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller samples")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("loop", "scaling", "response", "pileup"),
        default=("loop", "scaling", "response", "pileup"),
    )
    args = parser.parse_args()
    print(f"| {'measurement':<58} | {'value':>24} | {'bar':>12} | {'ok':>4} |")
    print(f"|{'-' * 60}|{'-' * 26}|{'-' * 14}|{'-' * 6}|")
    if "loop" in args.only:
        event_loop(500, 2 if args.quick else 6)
    if "scaling" in args.only:
        scaling(4000 if args.quick else 20_000)
    if "response" in args.only:
        response(600 if args.quick else 1500)
    if "pileup" in args.only:
        pileup(200 if args.quick else 2000)


if __name__ == "__main__":
    main()
