"""Signal regions, sidebands and sliding windows in a resonance variable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neyman.exceptions import ConfigError, DataError

__all__ = [
    "MAX_SCAN_WINDOWS",
    "MIN_REGION_EVENTS",
    "Regions",
    "Window",
    "parse_window",
    "regions",
    "scan_windows",
    "spectrum_peak",
]

MIN_REGION_EVENTS = 100
"""Fewest events a signal region or its sidebands may hold: fewer cannot train a classifier."""

MAX_SCAN_WINDOWS = 1000
"""Most window positions a ``--scan`` may slide over (each trains classifiers: hours already)."""


@dataclass(frozen=True)
class Window:
    """A half-open interval ``[lo, hi)`` of the resonance variable."""

    lo: float
    hi: float

    @property
    def width(self) -> float:
        """``hi - lo``."""
        return self.hi - self.lo

    @property
    def centre(self) -> float:
        """``(lo + hi) / 2``."""
        return 0.5 * (self.lo + self.hi)

    def contains(self, mass: np.ndarray) -> np.ndarray:
        """Which values lie in the window."""
        return (mass >= self.lo) & (mass < self.hi)

    def nearest(self, mass: np.ndarray) -> np.ndarray:
        """Each value moved to the nearest point of the window (its largest point below ``hi``)."""
        return np.asarray(np.clip(np.asarray(mass, dtype=np.float64), self.lo, np.nextafter(self.hi, -np.inf)))

    def __str__(self) -> str:
        return f"[{self.lo:g}, {self.hi:g})"


@dataclass(frozen=True)
class Regions:
    """A signal region and the sidebands on both sides of it.

    Attributes
    ----------
    signal
        The signal region.
    span
        The sidebands' outer edges: the sidebands are ``[span.lo, signal.lo)`` and
        ``[signal.hi, span.hi)``; the bump fit uses the whole span.
    """

    signal: Window
    span: Window

    def sideband(self, mass: np.ndarray) -> np.ndarray:
        """Which values lie in a sideband."""
        return np.asarray(self.span.contains(mass) & ~self.signal.contains(mass))

    def __str__(self) -> str:
        lower = f"[{self.span.lo:g}, {self.signal.lo:g})"
        upper = f"[{self.signal.hi:g}, {self.span.hi:g})"
        return f"signal region {self.signal}, sidebands {lower} and {upper}"


def parse_window(text: str, what: str) -> Window:
    """``"LO,HI"`` as a :class:`Window`, with an error naming ``what`` otherwise."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise ConfigError(f"{what} {text!r} is not two numbers LO,HI (e.g. 3300,3700)") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ConfigError(f"{what} {text!r}: need finite LO < HI")
    return Window(lo, hi)


def regions(mass: np.ndarray, signal: Window, span: Window | None = None, *, column: str = "mass") -> Regions:
    """The signal region and its sidebands, checked against the events' ``mass`` values.

    Parameters
    ----------
    mass
        The resonance variable of every event.
    signal
        The signal region.
    span
        The sidebands' outer edges; default: the neighbouring windows of the same width,
        the lower one starting no lower than the events' lowest value and the
        spectrum's maximum (:func:`spectrum_peak`: below it lies a trigger turn-on).
    column
        The name of the mass column, for messages.

    Raises
    ------
    ConfigError
        Sidebands that do not enclose the signal region.
    DataError
        A signal region outside the events' range, one without room for a lower
        sideband, sidebands that start below every event (a cut: the bump fit would
        read the empty bins as the spectrum's), or a region with fewer than
        :data:`MIN_REGION_EVENTS` events.
    """
    lo, hi = float(np.min(mass)), float(np.max(mass))
    if signal.hi <= lo or signal.lo >= hi:
        raise DataError(
            f"signal region {signal} lies outside the range of {column} [{lo:g}, {hi:g}]; "
            f"give --signal-region in the file's units"
        )
    if span is None:
        floor = max(lo, spectrum_peak(mass, signal.width)[0])
        if signal.lo <= floor:
            rises = f" and their spectrum rises to its maximum at {floor:g} (a trigger turn-on)" if floor > lo else ""
            raise DataError(
                f"signal region {signal} leaves no lower sideband: the events of {column} start at {lo:g}{rises}, "
                "with no falling spectrum below to fit; move the signal region up, or give --sidebands"
            )
        span = Window(max(signal.lo - signal.width, floor), signal.hi + signal.width)
    elif span.lo < lo:
        raise DataError(
            f"sidebands {span} start below the lowest {column} of the events, {lo:g}: no event lies there (a cut?), "
            f"and the bump fit would read the empty bins as a steeply falling spectrum; start them at {lo:g} or above"
        )
    if not (span.lo < signal.lo and span.hi > signal.hi):
        raise ConfigError(f"sidebands {span} must enclose the signal region {signal} on both sides")
    found = Regions(signal, span)
    counts = {
        "signal region": int(np.count_nonzero(signal.contains(mass))),
        "lower sideband": int(np.count_nonzero((mass >= span.lo) & (mass < signal.lo))),
        "upper sideband": int(np.count_nonzero((mass >= signal.hi) & (mass < span.hi))),
    }
    for name, n in counts.items():
        if n < MIN_REGION_EVENTS:
            raise DataError(
                f"the {name} ({found}) holds {n} events of {column}, fewer than {MIN_REGION_EVENTS}; "
                "widen the regions (--signal-region, --sidebands) or give more events"
            )
    return found


def spectrum_peak(mass: np.ndarray, width: float) -> tuple[float, float]:
    """The fullest bin of the spectrum in bins of ``width / 8`` from its minimum (at most 10 000 bins).

    Above it the spectrum falls; below it may lie a trigger turn-on.  Returns the bin's edges
    (``(lo, lo)`` when every value is ``lo``: a spectrum without a bin).
    """
    lo, hi = float(np.min(mass)), float(np.max(mass))
    if hi <= lo:
        return lo, lo
    step = max(width / 8, (hi - lo) / 10_000)
    counts, edges = np.histogram(mass, bins=np.arange(lo, hi + step, step))
    k = int(np.argmax(counts))
    return float(edges[k]), float(edges[k + 1])


def scan_windows(mass: np.ndarray, width: float, *, step: float | None = None) -> list[Window]:
    """Sliding signal regions of ``width`` every ``step`` (default ``width / 2``) whose sidebands fit in the range.

    The windows start at multiples of ``step``, with the lower sideband above the
    spectrum's maximum (below it lies a trigger turn-on, not a falling spectrum); those
    with fewer than :data:`MIN_REGION_EVENTS` events in any region are left out.

    Raises
    ------
    ConfigError
        If ``width`` or ``step`` is not a positive finite number, or the scan would slide more
        than :data:`MAX_SCAN_WINDOWS` windows over the range (a width far too narrow for it).
    """
    step = width / 2 if step is None else step
    if not (np.isfinite(width) and width > 0 and np.isfinite(step) and step > 0):
        raise ConfigError(f"--scan {width:g}: the window width (and its step {step:g}) must be positive and finite")
    lo, hi = float(np.min(mass)), float(np.max(mass))
    if (hi - lo) / step > MAX_SCAN_WINDOWS:
        raise ConfigError(
            f"--scan {width:g} would slide over {(hi - lo) / step:.3g} windows of the range [{lo:g}, {hi:g}] "
            f"(at most {MAX_SCAN_WINDOWS}); give a wider window, in the mass column's units"
        )
    peak = spectrum_peak(mass, width)[0]
    found = []
    start = float(np.ceil((max(lo, peak) + width) / step) * step)
    while start + 2 * width <= hi:
        window = Window(start, start + width)
        side = Window(start - width, start + 2 * width)
        n = [np.count_nonzero(w.contains(mass)) for w in (Window(side.lo, start), window, Window(window.hi, side.hi))]
        if min(n) >= MIN_REGION_EVENTS:
            found.append(window)
        start += step
    return found
