"""The inputs of ``neyman hunt``, read and checked before anything is written.

The data and the reference (their mass, features and labels), the method's choices, the
numbers of the fit, the ``--set``/``--flow-set`` settings of the trainings, the signal
windows with their fit ranges, and every window's classes: a bad input costs one error that
names it, never a run folder or a trained model.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np

from neyman import io
from neyman.exceptions import ConfigError, DataError, NeymanWarning
from neyman.preprocessing.missing import FLOAT32_MAX
from neyman.resonance import (
    DIJET_PARAMETERS,
    Regions,
    Window,
    binning,
    parse_window,
    regions,
    scan_windows,
    spectrum_peak,
)
from neyman.table import LABEL
from neyman.workflows.steps.hunting import EXTERNAL_IDS, FLOW_METHODS, METHODS, HuntEvents, HuntSettings

__all__ = ["checked_inputs"]

_FLAT_SQRT_S_SHARE = 0.01
"""Below this share of sqrt(s) at the top of every fit range the dijet function's (1 - x) term is flat:
a mass in other units than ``--sqrt-s`` (TeV against 13000 GeV), warned about."""


def checked_inputs(
    data: str,
    reference: str | None,
    settings: HuntSettings,
    features: list[str],
    efficiencies: Sequence[float],
    given: tuple[str | None, str | None, float | None, str | None],
    fit: tuple[int, float | None, float],
) -> tuple[HuntEvents, HuntEvents | None, list[tuple[Regions, Window]]]:
    """The events, the reference events and the windows of a search, every input checked.

    Parameters
    ----------
    data, reference
        The data file and the background template (``--method idealized``).
    settings
        The method, the classifier, its folds and the trainings' settings.
    features
        The classifier's inputs.
    efficiencies
        The shares of the signal region kept by the cuts.
    given
        ``--signal-region``, ``--sidebands``, ``--scan`` and ``--fit-range`` as given.
    fit
        The pseudo-experiments per cut, the bin width (``None``: the default) and the collision
        energy of the bump fit.

    Returns
    -------
    tuple
        The data's events (ids: their rows), the reference's (ids from ``EXTERNAL_IDS``) and,
        per window, its regions and fit range.
    """
    toys, bin_width, sqrt_s = fit
    _check_choices(settings, features, reference, efficiencies)
    if reference is not None and os.path.realpath(io.parse_source(reference)[0]) == os.path.realpath(
        io.parse_source(data)[0]
    ):
        raise ConfigError(
            f"--reference {reference} is the data file itself: the idealized search trains the data against a "
            "background template made apart from it (simulated background with the same columns)"
        )
    _check_numbers(toys, bin_width, sqrt_s)
    _check_overrides(settings, features)
    events, ref = _inputs(data, reference, settings.mass_name, features, settings.method)
    windows = _checked_windows(events.mass, given, settings.mass_name, (sqrt_s, bin_width))
    _check_classes(events, None if ref is None else (reference or "", ref), windows, settings)
    _check_flow_inputs(data, events, windows, settings, features)
    _check_mass_dependence(data, events, windows, settings)
    return events, ref, windows


MASS_COPY = 0.999
"""|Spearman ρ| with the mass above which a feature is refused as the mass itself."""

MASS_DEPENDENCE = 0.5
"""|Spearman ρ| with the mass above which a CWoLa feature is warned about."""


def _check_mass_dependence(
    data: str, events: HuntEvents, windows: list[tuple[Regions, Window]], settings: HuntSettings
) -> None:
    """Refuse a feature that is the mass, and warn when CWoLa's features follow it.

    Notes
    -----
    CWoLa trains the signal region against its sidebands: a feature that depends on the
    mass separates them on background alone, and the classifier's cut then sculpts the
    background into a bump in the window (a feature of rank correlation 0.84 with the mass
    gave Z = 14 on background alone).  Spearman's :math:`ρ` (the correlation of the ranks,
    tied values sharing their mean rank) over the events of the searched spans measures the
    dependence whatever the feature's scale; CATHODE and ANODE model it (their flows are conditional on the mass), the
    idealized and supervised searches compare events of the signal region only.
    """
    inside = np.zeros(len(events.mass), dtype=bool)
    for found, _ in windows:
        inside |= found.span.contains(events.mass)
    if np.count_nonzero(inside) < 3:
        return
    from scipy.stats import rankdata

    mass = rankdata(events.mass[inside])  # ties share their mean rank: a discrete feature in a file sorted by
    for j, name in enumerate(events.features):  # mass gets no correlation from the order of its tied events
        ranks = rankdata(events.x[inside, j])
        rho = float(np.corrcoef(ranks, mass)[0, 1]) if np.std(ranks) > 0 and np.std(mass) > 0 else 0.0
        if abs(rho) >= MASS_COPY:
            raise DataError(
                f"{data}: feature {name!r} is the mass {settings.mass_name!r} in another form (rank correlation "
                f"{rho:.4f} over the searched range): a classifier on it cuts the mass itself; leave it out of "
                "--features"
            )
        if settings.method == "cwola" and abs(rho) >= MASS_DEPENDENCE:
            warnings.warn(
                f"{data}: feature {name!r} follows the mass {settings.mass_name!r} (rank correlation {rho:.2f} over "
                "the searched range): CWoLa's classifier of signal region against sidebands learns the mass through "
                "it on background alone, and its cut sculpts a bump into the window; leave it out, decorrelate it "
                "from the mass in the file, or use --method cathode (its flow models the dependence)",
                NeymanWarning,
                stacklevel=3,
            )


def _check_flow_inputs(
    data: str, events: HuntEvents, windows: list[tuple[Regions, Window]], settings: HuntSettings, features: list[str]
) -> None:
    """Refuse features a flow cannot model (discrete, a point mass, beyond float32) before anything is trained.

    CATHODE's and ANODE's flows are densities of the features given the mass; the density
    task's checks ran only when a window's flow started training, after the hunt's folder
    and the earlier windows' models existed.  Checked on each window's span.
    """
    if settings.method not in FLOW_METHODS:
        return
    from neyman.tasks.anomaly import DensityTask

    for found, _ in windows:
        inside = (events.mass >= found.span.lo) & (events.mass < found.span.hi)
        matrix = np.column_stack([events.x[inside], events.mass[inside]])
        try:
            DensityTask().check_inputs(matrix, [*features, settings.mass_name], given=[settings.mass_name])
        except DataError as exc:
            reason = str(exc).split(";")[0]
            raise DataError(
                f"{data}, window {found.signal}: --method {settings.method} models the features with a flow, and "
                f"{reason}; leave that feature out of --features, or prepare it in the file (select, compress or "
                "dequantise it)"
            ) from None


def _read_events(path: str, mass: str, features: list[str], what: str, first_id: int = 0) -> HuntEvents:
    """The mass, the features and any label of a file, checked for missing columns and non-finite values."""
    where, tree = io.parse_source(path)
    held = io.available_columns(where, tree=tree)
    for kind, names in (("--mass", [mass]), ("--features", features)):
        missing = [c for c in names if c not in held]
        if missing:
            raise DataError(f"{what} {where} has no column {missing[0]!r} (given in {kind}); it has {held}")
    weights = [c for c in held if "weight" in c.lower() and c not in (mass, *features)]
    if weights:  # the data and the background template: every event counts once, as in collision data
        warnings.warn(
            f"{what} {where} has a weight column ({weights[0]!r}), which the hunt does not use: every event counts "
            "once, so a weighted sample (pT-hat slices, signed NLO weights) is not the spectrum it stands for; "
            "give an unweighted sample (e.g. unweight it by accept-reject on w / max w)",
            NeymanWarning,
            stacklevel=2,
        )
    names = [mass, *features, *([LABEL] if LABEL in held else [])]
    table = io.read(where, tree=tree, columns=names)
    if len(table) == 0:
        raise DataError(f"{what} {where} holds no events")
    values = table.to_numpy([mass, *features], dtype=np.float64)
    bad = ~(np.abs(values) <= FLOAT32_MAX)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        column = [mass, *features][col]
        why = "" if not np.isfinite(values[row, col]) else f", beyond the ±{FLOAT32_MAX:.3g} of the models' float32"
        raise DataError(
            f"{what} {where}: column {column!r} holds {values[row, col]:g} in data row {row + 1} (counted from 1)"
            f"{why}; remove or fix such events (or rescale the column) before the search"
        )
    if values[:, 0].min() < 0:
        row = int(np.argmax(values[:, 0] < 0))
        raise DataError(
            f"{what} {where}: the mass column {mass!r} holds {values[row, 0]:g} in data row {row + 1} (counted from "
            f"1), and {np.count_nonzero(values[:, 0] < 0)} events are negative; an invariant mass is never below "
            "0, so such values stand for a missing one (a placeholder like -999): remove those events"
        )
    if values[:, 0].min() == values[:, 0].max():
        raise DataError(
            f"{what} {where}: the mass column {mass!r} holds {values[0, 0]:g} in every event; --mass names the "
            "resonance variable, whose spectrum the search scans"
        )
    label = None
    if LABEL in table:
        try:
            raw = np.asarray(table[LABEL], dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(
                f"{what} {where}: column {LABEL!r} holds text (e.g. {np.asarray(table[LABEL])[0]!r}); a truth label "
                "is 0 (background) or 1 (signal) — recode it, or rename the column if it is something else"
            ) from None
        odd = ~np.isin(raw, (0.0, 1.0))
        if odd.any():
            row = int(np.argmax(odd))
            raise DataError(
                f"{what} {where}: column {LABEL!r} holds {raw[row]} in data row {row + 1} (counted from 1); a truth "
                "label is 0 (background) or 1 (signal) — rename the column if it is something else"
            )
        label = raw.astype(np.int64)
    ids = first_id + np.arange(len(table))
    return HuntEvents(values[:, 0], values[:, 1:], list(features), label, ids)


def _check_choices(
    settings: HuntSettings, features: Sequence[str], reference: str | None, efficiencies: Sequence[float]
) -> None:
    from neyman.models.families import FAMILIES

    mass, method, model = settings.mass_name, settings.method, settings.model
    if settings.kfold < 2:
        raise ConfigError(
            f"--kfold {settings.kfold}: a hunt needs k >= 2 folds, so that every event is scored by a model "
            "that never saw it"
        )
    for name, value in (("--ensemble", settings.ensemble), ("--oversample", settings.oversample)):
        if value < 1:
            raise ConfigError(f"{name} {value}: give a positive number")
    if method not in METHODS:
        raise ConfigError(f"--method {method!r} is not one of {', '.join(METHODS)}")
    family = FAMILIES.get(model)
    if family is None or family.objective != "supervised" or family.representation != "tabular":
        usable = [n for n, f in FAMILIES.items() if f.objective == "supervised" and f.representation == "tabular"]
        raise ConfigError(f"--model {model!r} is no classifier of feature columns; use one of {', '.join(usable)}")
    if not features:
        raise ConfigError("give the classifier's inputs with --features a,b,c (never the mass itself)")
    if mass in features:
        raise ConfigError(
            f"the mass column {mass!r} is also a feature: a classifier that sees the mass finds the signal "
            "region itself, not a signal; remove it from --features"
        )
    if LABEL in features:
        raise ConfigError(
            f"{LABEL!r} is the truth label, not a feature: a search must not see it; remove it from --features "
            "(a labelled file is used for SIC curves and --method supervised)"
        )
    if len(set(features)) != len(features):
        raise ConfigError(f"--features names a column twice: {list(features)}")
    if method == "idealized" and reference is None:
        raise ConfigError(
            "--method idealized trains the signal region against a background template: give it with "
            "--reference FILE (simulated background with the same columns)"
        )
    if method != "idealized" and reference is not None:
        raise ConfigError(
            f"--reference is the background template of --method idealized; --method {method} does not use it: "
            "leave it out, or choose --method idealized"
        )
    if not efficiencies:
        raise ConfigError("--efficiencies names no share of the signal region: give e.g. 1,0.1,0.02")
    if any(not (0 < e <= 1) for e in efficiencies):
        raise ConfigError(f"--efficiencies must lie in (0, 1], got {list(efficiencies)}")
    if len(set(efficiencies)) < len(efficiencies):
        raise ConfigError(f"--efficiencies {list(efficiencies)} repeats a share; give each cut once")


def _windows(
    mass: np.ndarray, signal_region: Window | None, sidebands: Window | None, scan: float | None, column: str
) -> list[Regions]:
    """The regions of every window searched: one given, or the sliding windows of a scan."""
    if (signal_region is None) == (scan is None):
        raise ConfigError("give either --signal-region LO,HI or --scan WIDTH (sliding windows), not both or neither")
    if signal_region is not None:
        return [regions(mass, signal_region, sidebands, column=column)]
    assert scan is not None
    if sidebands is not None:
        raise ConfigError("--sidebands goes with one --signal-region; a scan takes each window's neighbours")
    found = scan_windows(mass, scan)
    if not found:
        raise DataError(
            f"no window of width {scan:g} fits in the range of {column} [{mass.min():g}, {mass.max():g}] with "
            "sidebands of enough events; give a narrower --scan width"
        )
    # a scan's sidebands already start above the spectrum's maximum: given, they skip its histogram per window
    return [regions(mass, w, Window(w.lo - w.width, w.hi + w.width), column=column) for w in found]


def _fit_range(mass: np.ndarray, found: Regions, given: Window | None) -> Window:
    """The fit range: given (it must contain the sidebands), else the sidebands widened by a window each side.

    The default is clipped to the events' range and, below, to the spectrum's maximum
    (a trigger turn-on is no dijet function) but always holds the sidebands.  Beyond the
    sidebands a cut's background efficiency is an extrapolation: the sideband fit's
    χ² shows when that sculpts.  A narrower range lets the four-parameter dijet
    function absorb a bump in the window.
    """
    if given is not None:
        if not (given.lo <= found.span.lo and given.hi >= found.span.hi):
            raise ConfigError(f"--fit-range {given} must contain the sidebands {found.span}")
        return given
    width = found.signal.width
    lo = min(found.span.lo, max(found.span.lo - width, spectrum_peak(mass, width)[1], float(mass.min())))
    return Window(lo, max(found.span.hi, min(found.span.hi + width, float(mass.max()))))


def _check_classes(
    events: HuntEvents,
    reference: tuple[str, HuntEvents] | None,
    windows: Sequence[tuple[Regions, Window]],
    settings: HuntSettings,
) -> None:
    """Refuse a window whose classifier would lack a class, or hold fewer events of one than folds.

    The classes are the signal region's data and the method's background estimate there:
    the sidebands (``cwola``), the reference's events in the signal region (``idealized``),
    the signal region's label-0 events against its label-1 events (``supervised``);
    ``cathode`` and ``anode`` draw or fit theirs from the data.
    """
    k = settings.kfold
    thin: list[tuple[Window, int]] = []
    for found, _ in windows:
        sr = found.signal.contains(events.mass)
        classes = {f"the signal region {found.signal} holds {{n}} events of the data": int(np.count_nonzero(sr))}
        if settings.method == "supervised" and events.label is not None:
            classes = {
                f"the signal region {found.signal} holds {{n}} {kind} (label {v}) events": int(
                    np.count_nonzero(events.label[sr] == v)
                )
                for v, kind in ((1, "signal"), (0, "background"))
            }
        elif settings.method == "idealized" and reference is not None:
            path, ref = reference
            n = int(np.count_nonzero(found.signal.contains(ref.mass)))
            classes[f"--reference {path} holds {{n}} events in the signal region {found.signal}"] = n
        elif settings.method == "cwola":
            classes[f"the sidebands of {found.signal} hold {{n}} events"] = int(
                np.count_nonzero(found.sideband(events.mass))
            )
        elif settings.method in ("cathode", "anode"):
            n_side = int(np.count_nonzero(found.sideband(events.mass)))
            if n_side < THIN_SIDEBANDS:
                thin.append((found.signal, n_side))
        for what, n in classes.items():
            if n < k:
                raise DataError(
                    f"{what.format(n=n)}, fewer than the {k} folds (--kfold) of its classifier "
                    f"(--method {settings.method}); move or widen --signal-region, or give more events"
                )
    _warn_thin_sidebands(settings.method, thin)


THIN_SIDEBANDS = 2000
"""Sideband events below which a sideband density (CATHODE, ANODE) is warned about."""


def _warn_thin_sidebands(method: str, thin: list[tuple[Window, int]]) -> None:
    """Warn when the flow of the background density learns from few sideband events."""
    if thin:
        window, n = thin[0]
        more = f" (and {len(thin) - 1} more windows)" if len(thin) > 1 else ""
        warnings.warn(
            f"the sidebands of {window} hold {n} events{more}, from which --method {method} learns the background "
            "density: a flow learnt from so few events under-predicts the signal region's background and leaves an "
            "excess where there is none (seen with 467); widen the sidebands (--sidebands) or use --method cwola",
            NeymanWarning,
            stacklevel=4,
        )


def _labelled(events: HuntEvents, method: str) -> None:
    if method == "supervised" and (events.label is None or len(np.unique(events.label)) < 2):
        raise DataError(f"--method supervised needs a {LABEL!r} column with signal (1) and background (0) events")


def _check_numbers(toys: int, bin_width: float | None, sqrt_s: float) -> None:
    if toys < 0:
        raise ConfigError(f"--toys {toys}: give 0 (asymptotic only) or a positive number of pseudo-experiments")
    if bin_width is not None and not (np.isfinite(bin_width) and bin_width > 0):
        raise ConfigError(f"--bin-width {bin_width}: give a positive width in the mass units")
    if not (np.isfinite(sqrt_s) and sqrt_s > 0):
        raise ConfigError(f"--sqrt-s {sqrt_s}: give the collision energy in the mass units (e.g. 13000 for GeV)")


def _inputs(
    data: str, reference: str | None, mass: str, features: list[str], method: str
) -> tuple[HuntEvents, HuntEvents | None]:
    """The data's events and the reference's, read and checked."""
    events = _read_events(data, mass, features, "data")
    _labelled(events, method)
    ref = None if reference is None else _read_events(reference, mass, features, "--reference", EXTERNAL_IDS)
    if ref is not None and ref.label is not None and ref.label.any():
        raise DataError(
            f"--reference {reference}: column {LABEL!r} marks {np.count_nonzero(ref.label)} of its {len(ref.label)} "
            "events as signal; the idealized search's template is background only (signal in it is learnt as "
            f"background and hides the excess): keep the events with {LABEL} = 0"
        )
    return events, ref


MAX_BINS = 2000
"""The most mass bins a fit range may be cut into (a dijet search uses tens to hundreds)."""


def _checked_windows(
    mass: np.ndarray,
    given: tuple[str | None, str | None, float | None, str | None],
    column: str,
    fit: tuple[float, float | None],
) -> list[tuple[Regions, Window]]:
    """Every window's regions and fit range, checked against the data before anything is written.

    ``fit`` is the collision energy and the bin width (``None``: the default) of the bump fit;
    every fit range must hold more bins outside its signal region than the dijet function
    has parameters, or the sideband fit has no degree of freedom left.  The fit ranges
    returned end on their outermost bin edges: the fit covers whole bins, and a partial
    bin at either end is left out (and out of the recorded range).
    """
    signal_region, sidebands, scan, fit_range = given
    sqrt_s, bin_width = fit
    signal = None if signal_region is None else parse_window(signal_region, "--signal-region")
    side = None if sidebands is None else parse_window(sidebands, "--sidebands")
    given_range = None if fit_range is None else parse_window(fit_range, "--fit-range")
    windows = [(f, _fit_range(mass, f, given_range)) for f in _windows(mass, signal, side, scan, column)]
    bottom = min(r.lo for _, r in windows)
    if bottom <= 0:
        raise ConfigError(
            f"the fit range {min((r for _, r in windows), key=lambda r: r.lo)} of {column!r} reaches {bottom:g}: the "
            "dijet function f(x) = p0 (1 - x)^p1 x^(p2 + p3 ln x), x = m/sqrt(s), needs a positive mass; search a "
            f"resonance variable that is positive (an invariant mass), or give a --fit-range above 0"
        )
    top = max(r.hi for _, r in windows)
    if top >= sqrt_s:
        if given_range is not None:
            raise ConfigError(
                f"--fit-range {given_range} reaches sqrt(s) = {sqrt_s:g}: the dijet function's x = m/sqrt(s) must "
                f"stay below 1; end the fit range below it (or give --sqrt-s in the units of {column!r})"
            )
        raise ConfigError(f"sqrt(s) = {sqrt_s:g} lies inside the mass range; give --sqrt-s in the units of {column!r}")
    if top < _FLAT_SQRT_S_SHARE * sqrt_s:
        warnings.warn(
            f"the fit ranges of {column!r} end at {top:g}, {top / sqrt_s:.1e} of --sqrt-s {sqrt_s:g}: the dijet "
            "function's (1 - m/sqrt(s)) term is flat there and the fit loses a parameter. If the mass is in other "
            f"units than sqrt(s) (TeV against 13000 GeV), give --sqrt-s in the units of {column!r} (e.g. 13)",
            NeymanWarning,
            stacklevel=2,
        )
    fitted = []
    for found, span in windows:
        edges = binning(found.signal, span, bin_width)
        if len(edges) - 1 > MAX_BINS:
            raise ConfigError(
                f"--bin-width {bin_width:g} cuts the fit range {span} into {len(edges) - 1:,} bins, more than "
                f"{MAX_BINS:,}: each fit and toy would take minutes, and bins far narrower than the mass "
                f"resolution add nothing; give a --bin-width of at least {span.width / MAX_BINS:.3g} (the default "
                "takes the signal region's width into account)"
            )
        outside = int(np.count_nonzero((edges[1:] <= found.signal.lo) | (edges[:-1] >= found.signal.hi)))
        if outside <= DIJET_PARAMETERS:
            width = "the default bin width" if bin_width is None else f"--bin-width {bin_width:g}"
            raise ConfigError(
                f"{width} leaves {outside} bins of the fit range {span} outside the signal region "
                f"{found.signal}, too few to fit the {DIJET_PARAMETERS}-parameter dijet function to the sidebands "
                f"(at least {DIJET_PARAMETERS + 1}); give a narrower --bin-width or a wider --fit-range"
            )
        # the fit covers whole bins: the range fitted (and recorded) ends on the outermost edges
        fitted.append((found, Window(float(edges[0]), float(edges[-1]))))
    return fitted


def _check_overrides(settings: HuntSettings, features: Sequence[str]) -> None:
    """Validate ``--set`` (classifiers) and ``--flow-set`` (flows) before a run directory exists.

    The trainings of the search take them on top of a configuration like the one each
    window's classifier or flow gets; an unknown key or a wrong value is refused now,
    not after the first window's models were trained.
    """
    from neyman.config import refuse_owned_overrides, resolve_config

    owned = {
        "data.sources": "the input file and the search's regions",
        "data.classes": "the method's two classes",
        "data.features": "--features",
        "task.type": "--method",
        "split.kfold": "--kfold",
        "seed": "--seed",
        "name": "the window",
        "output_dir": "--output-dir",
    }
    refuse_owned_overrides(settings.overrides, {**owned, "model.type": "--model"})
    refuse_owned_overrides(
        settings.flow_overrides, {**owned, "model.type": "the flow", "model.condition": "--mass"}, "--flow-set"
    )
    if settings.flow_overrides and settings.method not in FLOW_METHODS:
        raise ConfigError(
            f"--flow-set sets the flows of --method {' and '.join(FLOW_METHODS)}; --method {settings.method} has none"
        )
    if settings.overrides and settings.method == "anode":
        raise ConfigError("--set sets the classifiers; --method anode has none (its two flows take --flow-set)")
    sources = [{"path": "reference.parquet", "label": "reference"}, {"path": "data.parquet", "label": "data"}]
    checks = [
        (
            "--set",
            settings.overrides,
            {
                "data": {"sources": sources, "classes": ["reference", "data"], "features": list(features)},
                "task": {"type": "binary"},
                "model": {"type": settings.model},
            },
        )
    ]
    if settings.method in FLOW_METHODS:
        flow = {"type": "flow", "condition": [settings.mass_name]}
        data = {"sources": sources[:1], "features": [*features, settings.mass_name]}
        checks.append(
            ("--flow-set", settings.flow_overrides, {"data": data, "task": {"type": "density"}, "model": flow})
        )
    for option, overrides, cfg in checks:
        if overrides:
            try:
                resolve_config(cfg, overrides)
            except ConfigError as exc:
                raise ConfigError(f"{option} {' '.join(overrides)}: {exc}") from None
