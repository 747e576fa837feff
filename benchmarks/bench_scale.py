"""Scale: train an MLP from a Parquet file larger than the memory the process may use.

Run by hand::

    python benchmarks/bench_scale.py --rows 20000000 --memory-cap-gb 2.0

Writes a file of ``--rows`` events (18 features, label, weight) in chunks, then runs
``neyman train`` with ``data.streaming: true`` in a child process whose memory is
capped below the size the events would take in memory, and prints a table with the
peak memory, the in-memory size of the data and the test AUC.

The cap is a cgroup (v1) memory limit on the child where ``/sys/fs/cgroup/memory``
is writable (it bounds resident memory; the kernel kills the process past it), else
an address-space limit (``RLIMIT_AS``), which is much stricter because torch and
its libraries reserve far more virtual memory than they use.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neyman import io
from neyman.testing import likelihood_ratio_dataset

N_FEATURES = 18


def write_file(path: Path, rows: int, chunk: int = 1_000_000) -> None:
    """Write ``rows`` events chunk by chunk (never all in memory)."""
    with io.open_writer(path) as writer:
        for i, start in enumerate(range(0, rows, chunk)):
            n = min(chunk, rows - start)
            t = likelihood_ratio_dataset(n, n_features=N_FEATURES, seed=1000 + i).drop(["true_log_lr"])
            writer.write(t.with_column("event_id", np.asarray(t["event_id"]) + start))


CGROUP = Path("/sys/fs/cgroup/memory/neyman-scale")

CHILD = """
import json, resource, sys
cap, method = int(sys.argv[2]), sys.argv[3]
if method == "rlimit":
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
import neyman
cfg = json.loads(sys.argv[1])
r = neyman.train(cfg, force=True)
print(json.dumps({"auc": r.metrics["test"]["auc"], "n_events": r.metrics["n_events"],
                  "seconds": r.seconds, "streaming": r.metrics["streaming"]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--memory-cap-gb", type=float, default=2.0, help="memory cap of the training process")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="neyman-scale-"))
    data = work / f"events_{args.rows}.parquet"
    t0 = time.perf_counter()
    if not data.exists():
        write_file(data, args.rows)
    in_memory_gb = args.rows * (N_FEATURES + 3) * 8 / 1e9
    write_s = time.perf_counter() - t0
    cfg = {
        "name": "scale",
        "output_dir": str(work / "runs"),
        "seed": 1,
        "data": {
            "sources": [{"path": str(data)}],
            "label_column": "label",
            "weight": "weight",
            "event_id": "event_id",
            "features": [f"x{i:02d}" for i in range(N_FEATURES)],
            "streaming": True,
            "step_size": 500_000,
        },
        "model": {"type": "mlp", "hidden": [200, 100]},
        "training": {"epochs": args.epochs, "batch_size": 1024, "progress": False, "threads": 2},
    }
    cap = int(args.memory_cap_gb * 1e9)
    method = "rlimit"
    try:
        CGROUP.mkdir(exist_ok=True)
        (CGROUP / "memory.limit_in_bytes").write_text(str(cap))
        (CGROUP / "memory.max_usage_in_bytes").write_text("0")
        method = "cgroup"
    except OSError:
        pass

    def enter_cgroup() -> None:
        if method == "cgroup":
            (CGROUP / "cgroup.procs").write_text(str(os.getpid()))

    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cfg), str(cap), method],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=enter_cgroup,
    )
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    cgroup_peak = float((CGROUP / "memory.max_usage_in_bytes").read_text()) / 1e9 if method == "cgroup" else None
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr)
        raise SystemExit(f"the capped training failed (exit {proc.returncode})")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = [
        ("events in the file", f"{args.rows:,}"),
        ("file size on disk (GB)", f"{data.stat().st_size / 1e9:.2f}"),
        ("the events in memory as float64 (GB)", f"{in_memory_gb:.2f}"),
        (f"memory cap of the training process ({method}, GB)", f"{args.memory_cap_gb:.2f}"),
        ("peak resident memory of the training (GB)", f"{peak_gb:.2f}"),
        ("peak cgroup usage incl. page cache (GB)", f"{cgroup_peak:.2f}" if cgroup_peak is not None else "n/a"),
        ("chunks x step size", f"{out['streaming']['chunks']} x {out['streaming']['step_size']:,}"),
        ("epochs", str(args.epochs)),
        ("training + scoring wall time (s)", f"{out['seconds']:.0f}"),
        ("test AUC", f"{out['auc']:.4f}"),
        ("writing the file (s)", f"{write_s:.0f}"),
    ]
    print(f"| {'quantity':<48} | {'value':>16} |")
    print(f"|{'-' * 50}|{'-' * 18}|")
    for k, v in rows:
        print(f"| {k:<48} | {v:>16} |")
    ok = peak_gb < in_memory_gb
    print(f"\npeak memory below the in-memory size of the data: {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
