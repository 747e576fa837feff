"""``hunt.html``: the significances per window and cut, the bump fits, the scores and the sculpting check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neyman.resonance import CutResult, Regions
from neyman.workflows.steps.hunting import HuntEvents

__all__ = ["write_hunt_report"]

_CUT_COLUMNS = (
    "efficiency",
    "kept_in_signal_region",
    "events",
    "observed_in_window",
    "sideband_prediction",
    "fitted_signal",
    "fitted_signal_error",
    "z_local",
    "z_toys",
    "fit_converged",
    "background_chi2",
    "background_ndf",
    "sideband_chi2",
    "sideband_ndf",
    "bumphunter_local_z",
    "bumphunter_global_z",
)


def _summary_rows(summary: Mapping[str, Any]) -> list[list[Any]]:
    from neyman.resonance import best_cut

    rows = []
    for w in summary["windows"]:
        best = best_cut(w["cuts"]) or {}
        rows.append(
            [
                f"[{w['signal_region'][0]:g}, {w['signal_region'][1]:g})",
                w["events_signal_region"],
                w.get("signal_events_signal_region"),
                w["max_sic"],
                w["cuts"][0]["z_local"] if w["cuts"][0]["efficiency"] >= 1 and w["cuts"][0]["fit_converged"] else None,
                best.get("efficiency"),
                best.get("z_local"),
                best.get("z_toys"),
            ]
        )
    return rows


def _window_section(
    w: Mapping[str, Any], found: Regions, cuts: Sequence[CutResult], events: HuntEvents, score: np.ndarray, mass: str
) -> Any:
    from neyman.plotting.hunt import plot_bump_fit, plot_region_scores, plot_sculpting
    from neyman.report import Section
    from neyman.resonance import MIN_FIT_EVENTS

    inside = (events.mass >= w["fit_range"][0]) & (events.mass < w["fit_range"][1])
    background = np.ones(int(inside.sum()), dtype=bool) if events.label is None else events.label[inside] == 0
    figures = [plot_bump_fit(c, found, mass) for c in cuts if c.significance is not None]
    figures += [
        plot_region_scores(score, events.mass, found, events.label),
        plot_sculpting(cuts, background, events.mass[inside], score[inside], mass),
    ]
    if events.label is not None and w["max_sic"] is not None:
        from neyman.metrics import roc_curve, sic_curve
        from neyman.plotting.anomaly import plot_sic

        sr = found.signal.contains(events.mass)
        roc = roc_curve(score[sr], events.label[sr])
        figures.append(plot_sic(*sic_curve(roc, float(np.count_nonzero(events.label[sr] == 0)))))
    rows = [[c.get(k) for k in _CUT_COLUMNS] for c in w["cuts"]]
    who = "label 0 events" if events.label is not None else "all events (no labels in the data)"
    return Section(
        title=f"Signal region {found.signal}",
        figures=figures,
        tables=[("The bump hunt per score cut", list(_CUT_COLUMNS), rows)],
        text=(
            f"{found}; fit range [{w['fit_range'][0]:g}, {w['fit_range'][1]:g}). Each cut keeps the given share of "
            "the signal region's events; the same threshold applies at every mass. The background fit is the "
            "dijet function over all bins, the sideband fit leaves the window out; Z is the profile-likelihood "
            f"significance of a signal in the window (none where fewer than {MIN_FIT_EVENTS} events outside the "
            "window survive a cut). A Z whose fits did not converge (fit_converged false), or whose sideband fit "
            "fails (a sideband χ² far above its ndf: the dijet function does not describe the background after the "
            "cut, e.g. a cut sculpted by a feature that follows the mass), is no significance. The sculpting "
            f"figure divides the mass spectrum of {who} after each cut by the spectrum before: flat means "
            "unsculpted."
        ),
    )


def write_hunt_report(
    run_dir: Path,
    summary: Mapping[str, Any],
    events: HuntEvents,
    windows: Sequence[Regions],
    cuts: Sequence[Sequence[CutResult]],
    scores: Mapping[str, np.ndarray],
) -> Path:
    """Write ``hunt.html`` into ``run_dir`` and return its path.

    Parameters
    ----------
    run_dir
        The hunt's run directory.
    summary
        The content of ``hunt.json``.
    events
        The searched events.
    windows, cuts
        Every window's regions and cut results.
    scores
        The columns of ``scores.parquet`` (each window's score under its name).
    """
    from neyman.plotting.hunt import plot_hunt_significance
    from neyman.report import Section, write_report

    names = [k for k in scores if k.startswith("anomaly_score")]
    head = ["signal region", "events", "signal events", "max SIC", "Z no cut", "best cut", "Z best", "Z toys best"]
    crossfit = (
        ", through a flow fitted on the other half of the sideband events" if summary["method"] == "cathode" else ""
    )
    sections = [
        Section(
            title="Summary",
            figures=[plot_hunt_significance(summary["windows"])],
            tables=[("Significance per window", head, _summary_rows(summary))],
            text=(
                f"Method {summary['method']}, classifier {summary['model']} ({summary['kfold']}-fold, ensemble of "
                f"{summary['ensemble']}); every event is scored by models that never trained on it{crossfit}. "
                "A local significance above 3 in one window of a scan is a candidate, to be weighed against the number "
                "of windows searched (look-elsewhere effect)."
            ),
        )
    ]
    for w, found, window_cuts, name in zip(summary["windows"], windows, cuts, names, strict=True):
        sections.append(_window_section(w, found, window_cuts, events, np.asarray(scores[name]), summary["mass"]))
    return write_report(run_dir / "hunt.html", sections, title=f"neyman hunt {run_dir.name}")
