"""``neyman evaluate RUN --variation NAME=FILE``: a tagger's working points under systematic variations.

The nominal events are the run's test split (or ``--test-data``); each variation is
the same kind of events made with another generator or detector setting.  Cuts are
fixed on the nominal signal and followed into every variation (the study a
physicist makes early, before the systematics are in the fit).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.atomic import finite_json, write_json
from neyman.config import RunConfig, load_config
from neyman.exceptions import ConfigError, DataError, NeymanWarning
from neyman.preprocessing import TEST
from neyman.runs import RunDirectory, TrainedRun, load_run
from neyman.workflows.steps.data import (
    data_with_sources,
    refuse_copied_training_events,
    refuse_training_files,
    run_events,
)

__all__ = ["VariationResult", "variations"]

NOMINAL = "nominal"

Scored = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class VariationResult:
    """What the variation study wrote.

    Attributes
    ----------
    out_dir
        ``RUN/variations/``.
    summary
        The content of ``variations.json``: AUCs and every working point's shifts.
    report
        ``variations.html``.
    seconds
        Wall time.
    """

    out_dir: Path
    summary: dict[str, Any]
    report: Path
    seconds: float


def _score_files(
    cfg: RunConfig, trained: TrainedRun, files: Sequence[str], option: str, *, by_fold: bool = False
) -> Scored:
    """Scores, labels and weights of the events of ``files`` (one per training source).

    ``by_fold``: each event scored by one fold model of a k-fold run, as the run's own
    out-of-fold predictions are (:meth:`~neyman.runs.TrainedRun.scored_events`); the
    ensemble of the folds separates better than any one of them, which would show as a
    shift of every variation against out-of-fold nominal scores.
    """
    data = data_with_sources(cfg.data, files, option=option)
    try:
        table = run_events(data, cfg.task.type, trained.representation, features=trained.features)
    except DataError as exc:  # name the option: a file can serve as nominal and in variations
        raise DataError(f"{option}{','.join(files)}: {exc}") from exc
    refuse_copied_training_events(trained, cfg, table, files)
    scored = trained.scored_events(table, by_fold=by_fold)
    return np.asarray(scored.scores, dtype=np.float64), scored.truth.astype(int), scored.weight


def _nominal(cfg: RunConfig, trained: TrainedRun, test_data: Sequence[str]) -> Scored:
    if test_data:
        return _score_files(cfg, trained, test_data, "--test-data")
    saved = trained.saved_predictions()
    keep = saved.split == TEST
    return np.asarray(saved.scores, dtype=np.float64)[keep], saved.truth[keep].astype(int), saved.weight[keep]


def _with_earlier(
    out_dir: Path, varied: Mapping[str, Sequence[str]], nominal: list[str] | str
) -> dict[str, Sequence[str]]:
    """The variations asked for, after those of an earlier study of the same nominal events still on disk.

    Each study adds to ``RUN/variations/``: a variation of the same name is replaced,
    the others are scored again from their files; one whose files are gone is left out,
    with a warning.  A study of other nominal events replaces the earlier one, with a
    warning naming the variations it drops.
    """
    try:
        earlier = json.loads((out_dir / "variations.json").read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return dict(varied)
    if not isinstance(earlier, dict):
        return dict(varied)
    if earlier.get(NOMINAL) != nominal:
        dropped = sorted(str(name) for name in earlier if name != NOMINAL and name not in varied)
        if dropped:
            warnings.warn(
                f"{out_dir}: the earlier study's variations {', '.join(map(repr, dropped))} were measured against "
                f"other nominal events ({earlier.get(NOMINAL)}) and are replaced by this study; give them again "
                "(--variation NAME=FILE) to have them against this nominal",
                NeymanWarning,
                stacklevel=3,
            )
        return dict(varied)
    kept: dict[str, Sequence[str]] = {}
    for name, files in earlier.items():
        if name == NOMINAL or name in varied or not isinstance(files, list):
            continue
        if all(Path(io.parse_source(str(f))[0]).is_file() for f in files):
            kept[name] = [str(f) for f in files]
        else:
            warnings.warn(
                f"{out_dir}: the earlier variation {name!r} is left out: its files {files} are gone (or were given "
                "relative to another directory)",
                NeymanWarning,
                stacklevel=3,
            )
    return {**kept, **varied}


def _shift_record(shift: Any) -> dict[str, Any]:
    return {
        "target_efficiency": shift.target_efficiency,
        "threshold": shift.threshold,
        "signal_efficiency": list(shift.signal_efficiency),
        "signal_efficiency_error": list(shift.signal_efficiency_error),
        "rejection": list(shift.rejection),
        "rejection_error": list(shift.rejection_error),
        "signal_shift": list(shift.signal_shift),
        "rejection_shift": list(shift.rejection_shift),
    }


def _summarise(samples: Mapping[str, Scored], efficiencies: Sequence[float]) -> tuple[dict[str, Any], dict[str, Any]]:
    """AUCs, ROC curves and the working points of every variation against the nominal sample."""
    from neyman.metrics import roc_curve, working_point_shifts

    rocs = {name: roc_curve(s, y, sample_weight=w) for name, (s, y, w) in samples.items()}
    nominal_auc = rocs[NOMINAL].auc()
    summary: dict[str, Any] = {
        NOMINAL: {"auc": nominal_auc, "n_events": len(samples[NOMINAL][0])},
        "variations": {},
    }
    for name, sample in samples.items():
        if name == NOMINAL:
            continue
        shifts = working_point_shifts(samples[NOMINAL], sample, tuple(efficiencies))
        summary["variations"][name] = {
            "auc": rocs[name].auc(),
            "auc_shift": rocs[name].auc() - nominal_auc,
            "n_events": len(sample[0]),
            "working_points": [_shift_record(s) for s in shifts],
        }
    return summary, rocs


def _percent(value: float, error: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{100 * value:+.1f} ± {100 * error:.1f} %"


def _write_report(
    out_dir: Path,
    summary: dict[str, Any],
    rocs: dict[str, Any],
    samples: dict[str, Scored],
    classes: Sequence[str],
    run: Path,
) -> Path:
    from neyman.plotting import plot_variation_rocs, plot_variation_scores
    from neyman.report import Section, write_report

    rows = []
    for name, v in summary["variations"].items():
        for wp in v["working_points"]:
            rows.append(
                [
                    name,
                    f"{wp['target_efficiency']:.2f}",
                    f"{wp['signal_efficiency'][1]:.4f}",
                    _percent(*wp["signal_shift"]),
                    f"{wp['rejection'][0]:.4g}",
                    f"{wp['rejection'][1]:.4g}",
                    _percent(*wp["rejection_shift"]),
                ]
            )
    aucs = [[NOMINAL, summary[NOMINAL]["auc"], "", summary[NOMINAL]["n_events"]]]
    aucs += [[n, v["auc"], f"{v['auc_shift']:+.4f}", v["n_events"]] for n, v in summary["variations"].items()]
    header = ["variation", "ε_S nominal", "ε_S varied", "Δε_S/ε_S", "1/ε_B nominal", "1/ε_B varied", "ΔR/R"]
    sections = [
        Section(
            title="Working points",
            tables=[
                ("Cuts fixed on the nominal signal, applied to each variation", header, rows),
                ("AUC", ["sample", "AUC", "ΔAUC", "events"], aucs),
            ],
            text="Each cut keeps the given fraction of the nominal signal; the same cut is applied to every "
            "variation. Shifts carry their statistical uncertainty (nominal and variation independent): "
            "a shift within it is not yet a systematic effect.",
        ),
        Section(
            title="ROC curves and scores",
            figures=[plot_variation_rocs(rocs, NOMINAL), plot_variation_scores(samples, classes)],
            text="The grey band spans the variations' rejection relative to the nominal one.",
        ),
    ]
    return write_report(out_dir / "variations.html", sections, title=f"neyman variations {run.name}")


def variations(
    run: str | os.PathLike[str],
    varied: Mapping[str, Sequence[str]],
    *,
    test_data: Sequence[str] = (),
    efficiencies: Sequence[float] = (0.3, 0.5, 0.7),
) -> VariationResult:
    """Follow a binary tagger's working points from the nominal events into each variation.

    Parameters
    ----------
    run
        A finished binary-classification run directory.
    varied
        Variation name → files of the varied events, one per training source in the
        same order (as ``--test-data``).
    test_data
        Nominal events (default: the run's test split, out-of-fold for k-fold runs,
        whose variations are then scored fold by fold too; nominal files given here and
        the variations are scored by the k-fold ensemble).
    efficiencies
        Nominal signal efficiencies whose cuts are followed.

    Notes
    -----
    For each cut ``s ≥ t`` with ``ε_S^nom(t) = ε``: ``Δε_S/ε_S = ε_S^var(t)/ε_S^nom(t) - 1``
    and ``ΔR/R = R^var(t)/R^nom(t) - 1`` with ``R = 1/ε_B``, each with its statistical
    uncertainty (:func:`neyman.metrics.working_point_shifts`).  Results go to
    ``RUN/variations/`` (``variations.json``, ``variations.html``); a later study of the
    same nominal events adds its variations to those already there.
    """
    t0 = time.perf_counter()
    rundir = RunDirectory(Path(run))
    rundir.require_complete()
    trained = load_run(rundir.path)
    if trained.task.name != "binary":
        raise ConfigError(
            f"--variation follows a binary tagger's working points; {rundir.path} is a run of task "
            f"{trained.task.name!r}"
        )
    if not varied:
        raise ConfigError("give at least one --variation NAME=FILE")
    if not efficiencies:
        raise ConfigError("--efficiencies names no working point: give nominal signal efficiencies such as 0.3,0.5,0.7")
    bad = [e for e in efficiencies if not 0.0 < e < 1.0]
    if bad:
        raise ConfigError(f"working-point efficiency {bad[0]} is not between 0 and 1")
    cfg = load_config(rundir.config)
    given = {"--test-data ": test_data, **{f"--variation {n}=": f for n, f in varied.items()}}
    refuse_training_files(trained, cfg, given, measured="a systematic shift")
    out_dir = rundir.path / "variations"
    varied = _with_earlier(out_dir, varied, list(test_data) or "test split")
    samples = {NOMINAL: _nominal(cfg, trained, test_data)}
    for name, files in varied.items():
        samples[name] = _score_files(cfg, trained, files, f"--variation {name}=", by_fold=not test_data)
    summary, rocs = _summarise(samples, efficiencies)
    summary["files"] = {NOMINAL: list(test_data) or "test split", **{n: list(f) for n, f in varied.items()}}
    out_dir.mkdir(exist_ok=True)
    write_json(out_dir / "variations.json", finite_json(summary))
    report = _write_report(out_dir, summary, rocs, samples, trained.classes, rundir.path)
    return VariationResult(out_dir, summary, report, time.perf_counter() - t0)
