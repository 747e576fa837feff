"""``neyman hunt``: a weakly supervised resonance search, from the data to a local significance.

For each signal window a classifier learns the data there against a background
estimate (:mod:`neyman.workflows.steps.hunting`); every event gets an anomaly score
from a model that never trained on it; the events above several score thresholds
are fitted with the dijet function and a signal in the window
(:mod:`neyman.resonance`).  The run directory holds the models (ordinary runs),
``scores.parquet``, ``hunt.json`` and the report ``hunt.html``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.atomic import finite_json, write_json
from neyman.resonance import (
    EFFICIENCIES,
    Regions,
    Window,
    binning,
    cut_and_fit,
)
from neyman.runs import HUNT_FILE, RunDirectory
from neyman.runs.guard import check_run_name
from neyman.seeding import check_seed
from neyman.table import LABEL, Table
from neyman.workflows.steps.hunt_inputs import checked_inputs
from neyman.workflows.steps.hunt_report import write_hunt_report
from neyman.workflows.steps.hunting import ENSEMBLE, HuntEvents, HuntSettings, warn_failed_fits, window_scores

__all__ = ["HuntResult", "hunt"]


@dataclass(frozen=True)
class HuntResult:
    """What a hunt found.

    Attributes
    ----------
    run_dir
        The run directory.
    summary
        The content of ``hunt.json``: per window the regions, the event counts, the
        max SIC (labelled data) and, per score threshold, the fits and significances.
    report
        ``hunt.html``.
    seconds
        Wall time.
    """

    run_dir: Path
    summary: dict[str, Any]
    report: Path
    seconds: float


def _sic(score: np.ndarray, events: HuntEvents, found: Regions) -> float | None:
    """The max SIC of the signal-region events when the data carry labels."""
    from neyman.metrics import anomaly_summary

    if events.label is None:
        return None
    sr = found.signal.contains(events.mass)
    if len(np.unique(events.label[sr])) < 2:
        return None
    return anomaly_summary(score[sr], events.label[sr])[0].max_sic


def _search_window(
    events: HuntEvents,
    reference: HuntEvents | None,
    window: tuple[Regions, Window],
    settings: HuntSettings,
    options: dict[str, Any],
    work: Path,
) -> tuple[np.ndarray, dict[str, Any], list[Any]]:
    """Score every event with the window's models, then cut and fit at each efficiency over its fit range."""
    found, fit_range = window
    score, models = window_scores(events, reference, found, settings, work)
    edges = binning(found.signal, fit_range, options["bin_width"])
    inside = fit_range.contains(events.mass)
    cuts = [
        cut_and_fit(
            events.mass[inside],
            score[inside],
            found.signal.contains(events.mass[inside]),
            found.signal,
            edges,
            efficiency=e,
            sqrt_s=options["sqrt_s"],
            toys=options["toys"],
            bumphunter=options["bumphunter"],
            seed=settings.seed,
        )
        for e in options["efficiencies"]
    ]
    record = {
        "signal_region": [found.signal.lo, found.signal.hi],
        "sidebands": [found.span.lo, found.span.hi],
        "fit_range": [fit_range.lo, fit_range.hi],
        "events_signal_region": int(np.count_nonzero(found.signal.contains(events.mass))),
        "events_sidebands": int(np.count_nonzero(found.sideband(events.mass))),
        "max_sic": _sic(score, events, found),
        "models": [str(m.relative_to(work.parent.parent)) for m in models],
        "cuts": [c.summary() for c in cuts],
    }
    if events.label is not None:
        sr = found.signal.contains(events.mass)
        record["signal_events_signal_region"] = int(np.count_nonzero(events.label[sr] == 1))
    warn_failed_fits(record)
    return score, record, cuts


def hunt(
    data: str | Path,
    *,
    mass: str,
    features: Sequence[str],
    signal_region: str | None = None,
    sidebands: str | None = None,
    scan: float | None = None,
    method: str = "cathode",
    reference: str | Path | None = None,
    model: str = "lightgbm",
    kfold: int = 5,
    ensemble: int = ENSEMBLE,
    oversample: int = 4,
    efficiencies: Sequence[float] = EFFICIENCIES,
    fit_range: str | None = None,
    bin_width: float | None = None,
    sqrt_s: float = 13000.0,
    toys: int = 200,
    bumphunter: bool = True,
    seed: int = 0,
    name: str | None = None,
    output_dir: str | Path = "runs",
    force: bool = False,
    overrides: Sequence[str] = (),
    flow_overrides: Sequence[str] = (),
) -> HuntResult:
    """Search ``data`` for a resonance in ``mass`` with a weakly supervised classifier and a bump fit.

    Parameters
    ----------
    data, mass, features
        The events (``file.root:tree``; an LHC Olympics feature file works as is), the resonance
        variable in the file's units, and the classifier's inputs.
    signal_region, sidebands, scan
        ``"LO,HI"`` (sidebands: their outer edges, default the neighbouring windows of the same
        width), or sliding windows of width ``scan`` every half width.
    method, reference
        ``cathode``, ``cwola``, ``idealized`` (against ``reference``, background-only events),
        ``anode`` or ``supervised`` (a ``label`` column; a reference only).
    model, kfold, ensemble, oversample
        The classifier family, its folds, the classifiers averaged per event and window (default
        ``ENSEMBLE``; ``cathode``: per half), the flow samples per SR event (``cathode``).
    efficiencies, fit_range, bin_width, sqrt_s, toys, bumphunter
        The shares of the signal region kept by the cuts (1: no cut); the fit range (default: the
        sidebands and one more window each side), bin width (window / 8) and collision energy in mass
        units; pseudo-experiments per cut (0: asymptotic only); the BumpHunter cross-check.
    seed, name, output_dir, force, overrides, flow_overrides
        The seed; the folder ``output_dir/name`` (default ``hunt-<method>``), replaced with
        ``force``; ``section.key=value`` settings of the classifiers' and the flows' trainings.

    Returns
    -------
    HuntResult
        The run directory, ``hunt.json`` and the report.

    Notes
    -----
    The cut of efficiency :math:`\\varepsilon` keeps scores above the :math:`1 - \\varepsilon` quantile
    of the signal region's; :func:`neyman.resonance.local_significance` gives Z after it.
    """
    t0, features, seed = time.perf_counter(), list(features), check_seed(seed)
    settings = HuntSettings(method, mass, model, kfold, ensemble, oversample, seed, (*overrides,), (*flow_overrides,))
    events, ref, windows = checked_inputs(
        str(data), None if reference is None else str(reference), settings, features, efficiencies,
        (signal_region, sidebands, scan, fit_range), (toys, bin_width, sqrt_s),
    )  # fmt: skip
    folder = Path(output_dir) / check_run_name(name or f"hunt-{method}")
    run, previous = RunDirectory.create_in_place(folder, force=force, inputs=[str(p) for p in (data, reference) if p])
    options = dict(bin_width=bin_width, sqrt_s=sqrt_s, toys=toys, bumphunter=bumphunter, efficiencies=[*efficiencies])
    record: dict[str, Any] = {"data": str(data), "mass": mass, "features": features, "method": method}
    record.update(model=model, kfold=kfold, ensemble=ensemble, seed=seed, sqrt_s=sqrt_s)
    try:
        summary, report = _search(run.path, events, ref, windows, settings, options, record)
    except BaseException as exc:
        run.fail(exc, previous)
        raise
    run.set_status("complete")
    run.drop_previous(previous)
    return HuntResult(run.path, summary, run.path / report.name, time.perf_counter() - t0)


def _search(
    run_dir: Path,
    events: HuntEvents,
    reference: HuntEvents | None,
    windows: list[tuple[Regions, Window]],
    settings: HuntSettings,
    options: dict[str, Any],
    record: dict[str, Any],
) -> tuple[dict[str, Any], Path]:
    """Search every window, then write ``scores.parquet``, ``hunt.json`` and the report."""
    RunDirectory(run_dir).set_status("running", made_by="hunt")
    columns: dict[str, np.ndarray] = {"row": events.ids, settings.mass_name: events.mass}
    records, all_cuts = [], []
    found = [f for f, _ in windows]
    for f, fit_range in windows:
        work = run_dir / "windows" / f"{f.signal.lo:g}-{f.signal.hi:g}"
        score, window, cuts = _search_window(events, reference, (f, fit_range), settings, options, work)
        columns[_score_name(f, len(found))] = score
        records.append(window)
        all_cuts.append(cuts)
    if events.label is not None:
        columns[LABEL] = events.label
    io.write(Table(columns), run_dir / "scores.parquet")
    summary = finite_json({**record, "windows": records})
    write_json(run_dir / HUNT_FILE, summary)
    return summary, write_hunt_report(run_dir, summary, events, found, all_cuts, columns)


def _score_name(found: Regions, n_windows: int) -> str:
    """``anomaly_score``; in a scan one column per window, ``anomaly_score_<lo>_<hi>``."""
    return "anomaly_score" if n_windows == 1 else f"anomaly_score_{found.signal.lo:g}_{found.signal.hi:g}"
