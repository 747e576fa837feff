"""The bump hunt after a cut on an anomaly score: thresholds, fits and significances."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neyman.exceptions import ConfigError
from neyman.resonance.bumphunter import BumpHunterScan, bumphunter_scan
from neyman.resonance.fit import Significance, SpectrumFit, fit_spectrum, local_significance
from neyman.resonance.regions import Window
from neyman.seeding import child_seed

__all__ = ["BINS_PER_WINDOW", "EFFICIENCIES", "MIN_FIT_EVENTS", "CutResult", "best_cut", "binning", "cut_and_fit"]

EFFICIENCIES = (1.0, 0.1, 0.02, 0.005)
"""Default shares of the signal region kept by the score cuts (1: no cut, the plain bump hunt)."""

BINS_PER_WINDOW = 8
"""Default bins across the signal window."""

MIN_FIT_EVENTS = 50
"""Fewest events outside the window after a cut for the background fit (fewer: no fit, no significance)."""


@dataclass(frozen=True)
class CutResult:
    """The bump hunt of the events above one score threshold.

    Attributes
    ----------
    efficiency
        The share of signal-region events asked for.
    threshold
        The score threshold (``-inf``: no cut).
    kept
        The share of signal-region events kept: ``efficiency`` to one event, also when
        many events share the threshold's score (ties are broken by a random key).
    edges, counts
        The binned spectrum of the kept events over the fit range.
    significance
        The profile-likelihood fit of the signal window (:func:`local_significance`);
        None when fewer than :data:`MIN_FIT_EVENTS` events lie outside the window.
    sideband
        The background-only fit without the window's bins: its prediction in the window
        and its χ² (the sculpting check: a smooth background stays smooth after a cut);
        None as ``significance``.
    observed, expected
        Events in the window and the sideband fit's prediction there (NaN without a fit).
    bumphunter
        The BumpHunter scan against the sideband fit (None when not run).
    selected
        Which events of the fit range the cut keeps (ties at the threshold included or
        not by their random key), as fitted.
    """

    efficiency: float
    threshold: float
    kept: float
    edges: np.ndarray
    counts: np.ndarray
    significance: Significance | None
    sideband: SpectrumFit | None
    observed: float
    expected: float
    bumphunter: BumpHunterScan | None
    selected: np.ndarray | None = None

    def summary(self) -> dict[str, float | int | str | None]:
        """The numbers of this cut, for ``hunt.json`` and the report's tables."""
        sig, side = self.significance, self.sideband
        bh = self.bumphunter
        head: dict[str, float | int | None] = {
            "efficiency": self.efficiency,
            "threshold": self.threshold if np.isfinite(self.threshold) else None,
            "kept_in_signal_region": self.kept,
            "events": int(self.counts.sum()),
            "observed_in_window": self.observed,
        }
        if sig is None or side is None:
            outside = int(self.counts.sum() - self.observed)
            why = f"{outside} events outside the window after the cut, fewer than the {MIN_FIT_EVENTS} a fit needs"
            return {**head, "z_local": None, "z_toys": None, "fit_converged": False, "not_fitted": why}
        return {
            **head,
            "sideband_prediction": self.expected,
            "fitted_signal": sig.alternative.signal,
            "fitted_signal_error": sig.alternative.signal_error,
            "z_local": sig.z,
            "z_toys": sig.z_toys if sig.n_toys else None,
            "p_toys": sig.p_toys if sig.n_toys else None,
            "toys": sig.n_toys,
            # no pseudo-experiment as extreme as the data: p_toys is the bound 1/toys, z_toys a lower bound
            "toys_are_bound": bool(sig.n_toys and sig.toys_as_extreme == 0),
            "background_chi2": sig.null.chi2,
            "background_ndf": sig.null.ndf,
            "sideband_chi2": side.chi2,
            "sideband_ndf": side.ndf,
            "fit_converged": bool(sig.null.valid and sig.alternative.valid and side.valid),
            "bumphunter_lo": bh.lo if bh else None,
            "bumphunter_hi": bh.hi if bh else None,
            "bumphunter_local_z": bh.local_z if bh else None,
            "bumphunter_global_z": bh.global_z if bh else None,
            "bumphunter_global_p": bh.global_p if bh else None,
            # no BumpHunter pseudo-experiment as extreme: the global Z is the lower bound they can give
            "bumphunter_global_z_is_bound": bool(bh.global_p == 0) if bh else None,
        }


def binning(window: Window, fit_range: Window, bin_width: float | None = None) -> np.ndarray:
    """Bin edges over ``fit_range`` that put edges on both ends of ``window``.

    The default width is the window's over :data:`BINS_PER_WINDOW`.  Edges are whole
    multiples of the width from the window's ends, rounded to 12 significant digits, so
    that a mass in TeV gets the edges of the same mass in GeV: no float residue
    (2.6000000000000023) and no second edge a rounding error beside the window's end.
    """
    width = bin_width or window.width / BINS_PER_WINDOW
    if not (fit_range.lo <= window.lo and fit_range.hi >= window.hi):
        raise ConfigError(f"the fit range {fit_range} must contain the signal region {window}")
    n_inside = max(round(window.width / width), 1)
    n_below = math.floor((window.lo - fit_range.lo) / width + 1e-9)
    n_above = math.floor((fit_range.hi - window.hi) / width + 1e-9)
    below = window.lo - width * np.arange(n_below, 0, -1)
    inside = window.lo + (window.width / n_inside) * np.arange(n_inside)
    above = window.hi + width * np.arange(n_above + 1)
    return np.array([float(f"{edge:.12g}") for edge in np.concatenate([below, inside, above])])


def cut_and_fit(
    mass: np.ndarray,
    score: np.ndarray,
    in_window: np.ndarray,
    window: Window,
    edges: np.ndarray,
    *,
    efficiency: float,
    sqrt_s: float,
    toys: int = 0,
    bumphunter: bool = True,
    seed: int = 0,
) -> CutResult:
    """Keep the events scoring above the ``1 - efficiency`` quantile of the window's scores and fit.

    Parameters
    ----------
    mass, score
        Every event of the fit range.
    in_window
        Which of them lie in the signal window (the threshold is their quantile).
    window
        The signal window.
    edges
        The binning of the fit range.
    efficiency
        The share of window events kept (1: no cut).
    sqrt_s
        The collision energy in the mass units.
    toys
        Pseudo-experiments of the significance (0: asymptotic only); BumpHunter draws at least 100.
    bumphunter
        Run the BumpHunter cross-check.
    seed
        Seed of the pseudo-experiments.

    Notes
    -----
    The threshold :math:`t` solves :math:`P(s > t \\mid m \\in W) = \\varepsilon`; the same
    :math:`t` applies at every mass, so a score independent of the mass for background
    leaves its spectrum's shape unchanged and only a localised excess grows. Events whose
    score equals :math:`t` (boosted trees give many equal scores) are kept by a uniform
    random key :math:`u` drawn per event independently of its mass, ordering the events by
    :math:`(s, u)`: the cut keeps :math:`\\varepsilon` of the window to one event and stays
    blind to the mass.
    """
    keep = _above(score, in_window, efficiency, seed)
    threshold = -np.inf if efficiency >= 1 else float(score[keep].min(initial=np.inf))
    kept = np.count_nonzero(keep & in_window) / max(int(np.count_nonzero(in_window)), 1)
    counts = np.histogram(mass[keep], bins=edges)[0].astype(np.float64)
    inside = (edges[:-1] >= window.lo) & (edges[1:] <= window.hi)
    if counts[~inside].sum() < MIN_FIT_EVENTS:
        return CutResult(
            efficiency,
            threshold,
            kept,
            edges,
            counts,
            None,
            None,
            float(counts[inside].sum()),
            float("nan"),
            None,
            selected=keep,
        )
    significance = local_significance(edges, counts, window, sqrt_s=sqrt_s, toys=toys, seed=seed)
    sideband = fit_spectrum(edges, counts, sqrt_s=sqrt_s, exclude=window, start=significance.null.parameters)
    scan = None
    if bumphunter and counts.sum() > 0:
        scan = bumphunter_scan(edges, counts, sideband.background, pseudo=max(toys, 100), seed=seed)
    return CutResult(
        efficiency=efficiency,
        threshold=threshold,
        kept=kept,
        edges=edges,
        counts=counts,
        significance=significance,
        sideband=sideband,
        observed=float(counts[inside].sum()),
        expected=float(sideband.background[inside].sum()),
        bumphunter=scan,
        selected=keep,
    )


def _above(score: np.ndarray, in_window: np.ndarray, efficiency: float, seed: int) -> np.ndarray:
    """The events ranked among the top ``efficiency`` of the window by (score, random key)."""
    if efficiency >= 1:
        return np.ones(len(score), dtype=bool)
    key = np.random.default_rng(child_seed(seed, "cut-ties")).random(len(score))
    order = np.lexsort((key, score))  # ascending by score, ties by key
    rank = np.empty(len(score), dtype=np.int64)
    rank[order] = np.arange(len(score))
    window_ranks = np.sort(rank[in_window])
    n_keep = round(efficiency * len(window_ranks))
    if n_keep == 0:
        return np.zeros(len(score), dtype=bool)
    above: np.ndarray = rank >= window_ranks[len(window_ranks) - n_keep]
    return above


def best_cut(cuts: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The cut summary (:meth:`CutResult.summary`) of the largest local significance among converged fits."""
    fitted = [c for c in cuts if c.get("z_local") is not None and c.get("fit_converged")]
    return max(fitted, key=lambda c: c["z_local"]) if fitted else None
