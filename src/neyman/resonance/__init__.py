"""Resonance searches: regions in a mass variable, the bump fit and its significance.

Module map::

    regions     signal region, sidebands, sliding windows
    fit         the dijet function, a signal in a window, the local significance
    bumphunter  the BumpHunter scan (pybumphunter) as a cross-check
    search      score thresholds, the fits after each cut
"""

from __future__ import annotations

from neyman.resonance.bumphunter import BumpHunterScan, bumphunter_scan
from neyman.resonance.fit import (
    DIJET_PARAMETERS,
    Significance,
    SpectrumFit,
    dijet_counts,
    fit_spectrum,
    local_significance,
)
from neyman.resonance.regions import (
    MIN_REGION_EVENTS,
    Regions,
    Window,
    parse_window,
    regions,
    scan_windows,
    spectrum_peak,
)
from neyman.resonance.search import (
    BINS_PER_WINDOW,
    EFFICIENCIES,
    MIN_FIT_EVENTS,
    CutResult,
    best_cut,
    binning,
    cut_and_fit,
)

__all__ = [
    "BINS_PER_WINDOW",
    "DIJET_PARAMETERS",
    "EFFICIENCIES",
    "MIN_FIT_EVENTS",
    "MIN_REGION_EVENTS",
    "BumpHunterScan",
    "CutResult",
    "Regions",
    "Significance",
    "SpectrumFit",
    "Window",
    "best_cut",
    "binning",
    "bumphunter_scan",
    "cut_and_fit",
    "dijet_counts",
    "fit_spectrum",
    "local_significance",
    "parse_window",
    "regions",
    "scan_windows",
    "spectrum_peak",
]
