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
   through ``neyman predict``), neyman's boosted reweighter and hep_ml's ``GBReweighter``
   (both at their defaults), and the true weights as the floor of the two-sample AUC.
   Bars: correlation of ln w with the true log ratio >= 0.97, reweighted-source-vs-target
   AUC <= 0.52.

Pass ``--events N`` for another sample size (default 400k, half per half).
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
from neyman.testing import likelihood_ratio_dataset
from neyman.workflows.predict import predict
from neyman.workflows.reweight import reweight

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=400_000)
    args = parser.parse_args()
    for source_class in (1, 0):
        with tempfile.TemporaryDirectory() as tmp:
            _known_ratio(args.events, Path(tmp), source_class)


if __name__ == "__main__":
    main()
