"""What ``neyman hunt`` does in one signal window: a method's training sets, its models, the scores.

Every method trains k-fold runs written by :func:`neyman.train` into the window's
folder, so each model is an ordinary run (report, export, ``neyman predict``).  The
data class of every classifier is the signal-region data; the reference class is
what the method takes for the background there:

============  ===================================================================
idealized     reference events (``--reference``) in the signal region
cwola         the data in the sidebands
cathode       samples of a flow p(x | m) fitted on the sidebands, drawn at the
              signal-region data's mass values (cross-fitted: the flow of one
              half of the sideband events serves the classifiers that score
              the other half)
supervised    the signal region's events of label 0 (the data class: label 1)
anode         no classifier: log p_SR(x | m) - log p_SB(x | m) of two flows
============  ===================================================================

Every event of the data gets its score from the fold model of its id (``id mod k``):
for a training event the model that held its fold out (checked against the fold the
training recorded), for any other event a model that never saw it either.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.exceptions import DataError, NeymanWarning
from neyman.preprocessing import assign_folds
from neyman.resonance import Regions
from neyman.runs import load_run
from neyman.seeding import child_seed
from neyman.table import EVENT_ID, Table
from neyman.workflows.train import train

__all__ = [
    "ENSEMBLE",
    "EXTERNAL_IDS",
    "FLOW_EPOCHS",
    "FLOW_METHODS",
    "MAX_BIN",
    "METHODS",
    "HuntEvents",
    "HuntSettings",
    "warn_failed_fits",
    "window_scores",
]

METHODS = ("cwola", "cathode", "idealized", "anode", "supervised")
"""The weakly supervised methods (and the supervised reference) of ``neyman hunt``."""

FLOW_METHODS = ("cathode", "anode")
"""The methods that fit flows (``--flow-set``); ``anode`` trains no classifier (``--set``)."""

EXTERNAL_IDS = 10**12
"""Event ids of reference events and flow samples start here; below it an id is a row of the data."""


SIDEBAND_P = 0.01
"""A sideband fit of χ² p-value below this describes no background: the cut's Z is no significance."""


def warn_failed_fits(record: Mapping[str, Any]) -> None:
    """Warn for a window's cuts whose fits did not converge, or whose sideband fit fails.

    Notes
    -----
    A cut's :math:`Z` tests a signal in the window against the dijet function fitted to the
    sidebands; it means something only where that fit describes them: a χ² p-value
    :math:`P(χ^2_{\\text{ndf}} \\geq χ^2) <` :data:`SIDEBAND_P` says the cut sculpted the
    background (a feature that follows the mass), a signal reaches into a sideband (a scan's
    window beside the bump), or the function cannot describe the spectrum.
    """
    from scipy.stats import chi2

    window = "[{:g}, {:g})".format(*record["signal_region"])
    unconverged = [c for c in record["cuts"] if c.get("z_local") is not None and not c.get("fit_converged")]
    failing = [
        c
        for c in record["cuts"]
        if c.get("fit_converged")
        and c.get("sideband_ndf")
        and chi2.sf(c["sideband_chi2"], c["sideband_ndf"]) < SIDEBAND_P
    ]
    problems = []
    if unconverged:
        shares = ", ".join(f"{c['efficiency']:g}" for c in unconverged)
        problems.append(f"the fits of the cuts keeping {shares} of the region did not converge (their Z is left out)")
    if failing:
        shown = ", ".join(f"{c['efficiency']:g} (χ² {c['sideband_chi2']:.0f}/{c['sideband_ndf']})" for c in failing)
        problems.append(
            f"the sideband fit fails after the cuts keeping {shown}: the dijet function does not describe the "
            "sidebands there, so their Z is no significance (a background sculpted by a feature that follows the "
            "mass, or a signal that reaches into a sideband: see the neighbouring windows)"
        )
    if problems:
        warnings.warn(f"signal region {window}: " + "; ".join(problems), NeymanWarning, stacklevel=3)


@dataclass(frozen=True)
class HuntEvents:
    """Events of a search: the resonance variable, the features, the label where known, the row ids."""

    mass: np.ndarray
    x: np.ndarray
    features: list[str]
    label: np.ndarray | None
    ids: np.ndarray

    def take(self, keep: np.ndarray) -> HuntEvents:
        """The events selected by a mask."""
        label = None if self.label is None else self.label[keep]
        return HuntEvents(self.mass[keep], self.x[keep], self.features, label, self.ids[keep])

    def table(self, mass_name: str | None = None) -> Table:
        """The features (and the mass) with the event ids, as a table to write."""
        columns = {n: self.x[:, j] for j, n in enumerate(self.features)}
        if mass_name is not None:
            columns[mass_name] = self.mass
        return Table({**columns, EVENT_ID: self.ids})


ENSEMBLE = 5
"""Classifiers averaged per event and signal window by default (CATHODE trains them for each half).
Near the weak-supervision limit the classes differ by a fraction of a percent and one
classifier's likelihood-ratio estimate is dominated by its variance; averaging members of
different seeds and validation splits reduces it (the CATHODE paper averages 10 networks, Finke
et al. arXiv:2309.13111 50 boosted trees). Measured on the hunt benchmark: idealized max SIC 2.4
-> 3.2 -> 3.5 for 1, 5, 10 members, at a few seconds of LightGBM per member and window."""


FLOW_EPOCHS = 16
"""Passes over its events that a search's flow trains for (cosine schedule, early stopping), unless
``--flow-set training.epochs=...`` or ``training.steps=...`` says otherwise. A sideband flow that
trains longer learns its sample's fluctuations, and CATHODE's classifier then learns the flow's
errors instead of a signal. Measured on two independent background samples of the hunt benchmark
(182k sideband events; two-sample AUC of signal-region flow samples against an independent
background sample, 0.5 = indistinguishable): 16 passes 0.5073 and 0.5062; the 8000-step density
default (~30 passes, early-stopped) 0.5138 and 0.5108, with a higher validation loss."""


MAX_BIN = 16
"""Histogram bins per feature of a search's LightGBM classifiers (``model.max_bin``; LightGBM's own
default is 255), unless ``--set model.max_bin=...`` says otherwise. Near the weak-supervision
threshold each boosted model keeps one to three trees, and every bin edge is a candidate split
that fluctuations of the few events (and the fine errors of CATHODE's flow) can win; fewer
candidates leave the splits to the signal. Measured on the hunt benchmark at the LHC Olympics
size (S/B = 0.6 %, 5 seeds, max SIC with 255 -> 16 bins): idealized 10.1 -> 11.0, CATHODE
7.1 -> 11.9, CWoLa 9.6 -> 12.1, supervised (classes then balanced by weight) 9.8 -> 8.8; on
``neyman.testing``'s synthetic resonance data (another generator, 60 and 150 signal events)
neutral on average (-17 % to +39 % per idealized or CWoLa hunt; CATHODE +9 % and -8 %)."""


@dataclass(frozen=True)
class HuntSettings:
    """How the models of a window are trained (see :func:`neyman.hunt`)."""

    method: str
    mass_name: str
    model: str = "lightgbm"
    kfold: int = 5
    ensemble: int = ENSEMBLE
    oversample: int = 4
    seed: int = 0
    overrides: tuple[str, ...] = ()
    flow_overrides: tuple[str, ...] = ()


def _train(work: Path, name: str, cfg: dict[str, Any], overrides: tuple[str, ...], seed: int) -> Path:
    cfg = {"name": name, "output_dir": str(work), "seed": seed, **cfg}
    return Path(train(cfg, overrides=overrides).run_dir)


def _classifier(
    work: Path, name: str, paths: list[Path], features: list[str], settings: HuntSettings, seed: int
) -> Path:
    """A k-fold classifier of the reference (class 0, ``paths[0]``) against the data (class 1, ``paths[1]``).

    The classes are balanced by weight, except for the supervised reference: its signal is a
    few hundred events against a signal region's background (1 : 170 at the LHC Olympics
    point), and weights that balance them let each boosted tree fit those few events. Measured
    on the hunt benchmark (S/B = 0.6 %, 5 seeds, max SIC): balanced 8.8 +- 1.0, natural
    proportions 12.8 +- 1.5; on ``neyman.testing``'s synthetic resonance data (SIC near 28,
    150 and 600 signal events, 3 seeds each) within +-10 % either way, on average the same.
    """
    cfg = {
        "data": {
            "sources": [{"path": str(p), "label": r} for p, r in zip(paths, ("reference", "data"), strict=True)],
            "classes": ["reference", "data"],
            "features": features,
            "event_id": EVENT_ID,
        },
        "task": {"type": "binary", "balance_classes": settings.method != "supervised"},
        "model": {"type": settings.model, **({"max_bin": MAX_BIN} if settings.model == "lightgbm" else {})},
        "split": {"kfold": settings.kfold},
    }
    return _train(work, name, cfg, settings.overrides, seed)


def _flow(
    work: Path, name: str, events: HuntEvents, settings: HuntSettings, kfold: int, *, half: int | None = None
) -> Path:
    """A conditional density p(features | mass) of ``events`` (k-fold when ``kfold`` >= 2); a CATHODE
    ``half``'s flow models every feature on its range in ``events`` (``model.bounded``)."""
    bounded = half is not None
    path = work / f"{name}-events.parquet"
    io.write(events.table(settings.mass_name), path)
    split = {"kfold": kfold} if kfold >= 2 else {"train": 0.8, "val": 0.2, "test": 0.0}
    cfg = {
        "data": {
            "sources": [{"path": str(path)}],
            "features": [*events.features, settings.mass_name],
            "event_id": EVENT_ID,
        },
        "task": {"type": "density"},
        "model": {
            "type": "flow",
            "condition": [settings.mass_name],
            "bounded": list(events.features) if bounded else [],
        },
        "split": split,
    }
    budget = ("training.epochs", "training.steps")  # given either, the user's budget replaces ours
    if not any(o.split("=", 1)[0].strip() in budget for o in settings.flow_overrides):
        cfg["training"] = {"epochs": FLOW_EPOCHS}
    # the half is a stream word of its own: child_seed tells string streams apart by their first 8 bytes
    seed = child_seed(settings.seed, name) if half is None else child_seed(settings.seed, "sideband-flow", half)
    return _train(work, name, cfg, settings.flow_overrides, seed)


def _scores(run_dir: Path, events: HuntEvents, column: str) -> np.ndarray:
    """``column`` of every event by the fold model of its id: out of fold for the run's training events.

    One fold model per event for *every* event keeps the scores of events inside and
    outside the training alike (a fold ensemble's average is narrower than one model's
    score, so a threshold set on out-of-fold scores would keep too few averaged ones).
    """
    trained = load_run(run_dir)
    table = Table({**{n: events.x[:, j] for j, n in enumerate(events.features)}, EVENT_ID: events.ids})
    scores = np.asarray(trained.score(table)).reshape(len(table), -1)[:, trained.score_names.index(column)]
    if trained.kfold < 2:
        return scores
    preds = io.read(trained.path / "predictions.parquet", columns=[EVENT_ID, "fold"])
    ids = np.asarray(preds[EVENT_ID])
    if not np.array_equal(np.asarray(preds["fold"]), assign_folds(ids, trained.kfold)):
        raise DataError(f"{run_dir}: an event was scored by a fold model that trained on it; rerun the hunt")
    return scores


def _density_scores(run_dir: Path, events: HuntEvents, mass_name: str) -> np.ndarray:
    with_mass = replace(events, x=np.column_stack([events.x, events.mass]), features=[*events.features, mass_name])
    return _scores(run_dir, with_mass, "log_density")


def _cathode_reference(
    work: Path, half: int, sidebands: HuntEvents, sr_mass: np.ndarray, settings: HuntSettings
) -> HuntEvents:
    """Samples of a flow fitted on one half's ``sidebands``, at masses drawn from ``sr_mass`` (``oversample``
    per event).

    The flow models every feature on its sideband range through a logit (a flow would
    otherwise leak past hard edges: a negative mass difference, a τ21 above one), and
    samples still outside that range in any feature are dropped, as in the CATHODE
    paper: a classifier would separate them from the data for free.
    """
    from neyman.runs.sampling import draw, drawn_columns

    flow = load_run(_flow(work, f"sideband-flow-{half}", sidebands, settings, 0, half=half))
    rng = np.random.default_rng(child_seed(settings.seed, "cathode-mass", half))
    mass = rng.choice(sr_mass, size=settings.oversample * len(sr_mass))
    drawn = np.concatenate(
        list(draw(flow, len(mass), context=mass[:, None], seed=child_seed(settings.seed, "draw", half)))
    )
    order = [drawn_columns(flow).index(n) for n in sidebands.features]
    x = drawn[:, order]
    ok = np.all(np.isfinite(x), axis=1)
    ok &= np.all((x >= sidebands.x.min(axis=0)) & (x <= sidebands.x.max(axis=0)), axis=1)
    return HuntEvents(mass[ok], x[ok], sidebands.features, None, EXTERNAL_IDS + np.arange(int(ok.sum())))


def _reference(
    events: HuntEvents, reference: HuntEvents | None, regions: Regions, settings: HuntSettings
) -> HuntEvents:
    """The reference class of a classifier method other than CATHODE."""
    if settings.method == "supervised":
        data = events.take(regions.signal.contains(events.mass))
        assert data.label is not None
        return data.take(data.label == 0)
    if settings.method == "cwola":
        return events.take(regions.sideband(events.mass))
    assert reference is not None
    return reference.take(regions.signal.contains(reference.mass))


def _ensemble(
    work: Path, sets: tuple[HuntEvents, HuntEvents], settings: HuntSettings, scored: HuntEvents, half: int | None
) -> tuple[np.ndarray, list[Path]]:
    """``settings.ensemble`` classifiers of ``sets`` (of a CATHODE ``half``; the classes written once for all
    members) and the mean of their scores of ``scored``."""
    stream = () if half is None else (half,)
    name = "-".join(map(str, ("classifier", *stream)))
    paths = [work / f"{name}-{role}.parquet" for role in ("reference", "data")]
    for events, path in zip(sets, paths, strict=True):
        io.write(events.table(), path)
    runs = [
        _classifier(work, f"{name}-{i}", paths, sets[1].features, settings,
                    child_seed(settings.seed, "classifier", *stream, i))
        for i in range(settings.ensemble)
    ]  # fmt: skip
    return np.mean([_scores(r, scored, "score") for r in runs], axis=0), runs


def _cathode_scores(
    events: HuntEvents, regions: Regions, settings: HuntSettings, work: Path
) -> tuple[np.ndarray, list[Path]]:
    r"""CATHODE cross-fitted in two halves of the events: no event is scored through a flow fitted on it.

    A flow fitted on the sidebands puts a little extra density at the events it trained on, its
    samples sit closer to them than to other background, and a classifier of the data against
    the samples then scores those sideband events lower: the sidebands pass a cut less often than
    the signal region's background and the bump fit sees an excess. On 14 background-only toys
    (``neyman.testing.resonance_search_dataset``, 40k events, one flow for all events) the signal
    region held 19 +- 8 (10 % cut) and 9.6 +- 3.1 (2 % cut) events more than the sideband fit
    predicted. Here the events of half h (``(id // k) mod 2``, independent of the fold ``id mod k``)
    are scored by classifiers of the data against samples of the flow of the *other* half's
    sideband events.

    The two halves' classifiers learn from different flows and their scores differ in scale: on
    one background-only toy the 10 % cut kept 5.5 % of one half's signal-region events and 14.7 %
    of the other's, and a tight cut kept the second half alone. Each half's score is therefore
    given as its quantile among that half's signal-region scores, so that a cut keeping a share
    of the signal region keeps it in both halves.

    Notes
    -----
    With :math:`s_i` the raw score of event :math:`i` of half :math:`h` and :math:`S_h` the raw
    scores of that half's signal-region events, the score is
    :math:`q_i = |\{s \in S_h : s \le s_i\}| \,/\, |S_h|`.
    """
    sr = regions.signal.contains(events.mass)
    data = events.take(sr)
    half = assign_folds(events.ids // settings.kfold, 2)  # not id mod 2: with an even k the halves were folds
    side = regions.sideband(events.mass)
    score, runs = np.empty(len(events.ids)), []
    for h in (0, 1):
        reference = _cathode_reference(work, h, events.take(side & (half == h)), events.mass[sr], settings)
        other = half != h
        raw, members = _ensemble(work, (reference, data), settings, events.take(other), h)
        score[other] = np.searchsorted(np.sort(raw[sr[other]]), raw, side="right") / np.count_nonzero(sr & other)
        runs += members
    return score, runs


def window_scores(
    events: HuntEvents, reference: HuntEvents | None, regions: Regions, settings: HuntSettings, work: Path
) -> tuple[np.ndarray, list[Path]]:
    """The anomaly score of every event of the data, from the models of one signal window.

    Parameters
    ----------
    events
        All events of the data file (``ids`` are their rows).
    reference
        Background-template events (``--method idealized``), ids from :data:`EXTERNAL_IDS`.
    regions
        The signal region and its sidebands.
    settings
        The method, the classifier and the training.
    work
        The window's folder: every model is a run directory in it.

    Notes
    -----
    A classifier :math:`f` of data against a background estimate in the signal region
    approaches :math:`p_\\text{data}/(p_\\text{data} + p_\\text{bkg})`, monotonic in the
    likelihood ratio :math:`1 + \\tfrac{S}{B}\\,p_S/p_B` (Metodiev, Nachman, Thaler,
    arXiv:1708.02949); ANODE scores :math:`\\ln p_\\text{SR}(x|m) - \\ln p_\\text{SB}(x|m)`
    directly. With an ensemble the scores of its members are averaged; CATHODE's averages are then
    given as quantiles among their half's signal-region scores (``_cathode_scores``), a transform
    monotonic within each half.

    Returns
    -------
    tuple
        The scores and the run directories of the models (ANODE: the signal-region flow, then the
        sideband flow; CATHODE: the classifiers of the flow of half 0, then those of half 1).
    """
    work.mkdir(parents=True, exist_ok=True)
    if settings.method == "anode":
        # k-fold as the signal-region flow: a flow scoring the events it learned gives them extra density
        side = _flow(work, "sideband-flow", events.take(regions.sideband(events.mass)), settings, settings.kfold)
        inner = _flow(work, "signal-flow", events.take(regions.signal.contains(events.mass)), settings, settings.kfold)
        # R is defined in the signal region: elsewhere both flows are asked at the nearest mass inside it,
        # not the signal-region flow at masses it never saw (a background-only hunt sculpted a deficit)
        at = replace(events, mass=regions.signal.nearest(events.mass))
        score = _density_scores(inner, at, settings.mass_name) - _density_scores(side, at, settings.mass_name)
        return score, [inner, side]
    if settings.method == "cathode":
        return _cathode_scores(events, regions, settings, work)
    data = events.take(regions.signal.contains(events.mass))
    if settings.method == "supervised":
        assert data.label is not None
        data = data.take(data.label == 1)
    return _ensemble(work, (_reference(events, reference, regions, settings), data), settings, events, None)
