"""``neyman reweight --fit DATA``: the generator parameter of a data sample, from a DCTR reweighter.

The parametrised reweighter of :func:`neyman.workflows.dctr.dctr` gives ``f(x, θ)`` and
``w(x, θ) = f/(1 - f) = p(x|θ)/p(x|θ_0)`` for every event at every ``θ``.  Over a grid
of ``θ`` the fit scans the frozen classifier's loss on the nominal reference against
the data (the DCTR fit, the default) and the likelihood of the data built from ``w``
(normalised on the reference); the minimum of each is its estimate.  The reference
reweighted to the fitted value is then compared with the data in every feature.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.atomic import finite_json, write_json
from neyman.exceptions import ConfigError, DataError, RunDirectoryError
from neyman.runs import RunDirectory, TrainedRun, load_run, read_ratio_weights
from neyman.table import Table
from neyman.workflows.steps.progress import counting_bar
from neyman.workflows.steps.reweighting import checked_weights, compare_columns, file_columns

__all__ = ["FitResult", "fit_parameter"]


@dataclass(frozen=True)
class FitResult:
    """The fitted parameter.

    Attributes
    ----------
    estimate, uncertainty
        ``θ̂`` and its statistical uncertainty: of the data and reference samples,
        and, for a run trained with replicas, of the generated samples
        (``template_uncertainty`` in the record) added in quadrature.
    record
        Everything written to ``RUN/fits/<data>.json`` (``<data>-2.json`` and so on for
        other files of the same name): the scan, the closure χ²/ndf.
    path
        That file.
    seconds
        Wall time.
    """

    estimate: float
    uncertainty: float
    record: dict[str, Any]
    path: Path
    seconds: float


MIN_EVENTS = 20
"""Fewest events of the data or the reference that a fit is run on."""


def _log_ratios(trained: TrainedRun, table: Table, record: dict[str, Any], grid: np.ndarray) -> np.ndarray:
    """``ln w(x_i, θ_k)`` of every event at every grid value, shape ``(n_grid, n_events)``."""
    from neyman.reweighting import logit

    parameter = record["parameter"]
    out = np.empty((len(grid), len(table)))
    for k, theta in enumerate(grid):
        scores = trained.task.event_scores(trained.score(table.with_column(parameter, np.full(len(table), theta))))
        out[k] = logit(scores)
    return out


def _read(path: str, features: list[str], weight: str | None, role: str) -> tuple[Table, np.ndarray]:
    where = io.parse_source(str(path))
    columns = file_columns(*where, role)
    missing = [c for c in [*features, *([weight] if weight else [])] if c not in columns]
    if missing:
        raise DataError(f"{role} {where[0]} has no column {missing[0]!r}; the reweighter needs {features}")
    table = io.read(where[0], tree=where[1], columns=features)
    if len(table) < MIN_EVENTS:
        raise DataError(
            f"{role} {where[0]} holds {len(table)} events; fitting a parameter (its scan and the closure "
            f"histograms) needs at least {MIN_EVENTS}, and thousands to measure it"
        )
    w = np.ones(len(table)) if weight is None else checked_weights(where[0], where[1], weight, role)
    return table, w


def _closure(
    features: list[str], data: tuple[Table, np.ndarray], ref: tuple[Table, np.ndarray], w: np.ndarray
) -> dict[str, Any]:
    """Every feature's χ²/ndf of the nominal sample against the data, before and after reweighting."""

    xd, xr = data[0].to_numpy(features, dtype=np.float64), ref[0].to_numpy(features, dtype=np.float64)
    samples = [("nominal", xr, ref[1]), ("reweighted to the fit", xr, ref[1] * w), ("data", xd, data[1])]
    _, chi2 = compare_columns(features, samples, ("nominal", "data"))
    return chi2


def _independent(data: str, reference: str, trained: TrainedRun) -> str:
    """The data's file (resolved), refused when the reference is the same file or either is a training file."""
    data_file, reference_file = (os.path.realpath(io.parse_source(str(f))[0]) for f in (data, reference))
    if data_file == reference_file:
        raise ConfigError(
            f"--reference {reference} is the --fit sample itself; give an independent nominal sample (one the "
            "reweighter never saw), which normalises w"
        )
    for given, option in ((data, "--fit"), (reference, "--reference")):
        if trained.trained_on(given):
            raise ConfigError(
                f"{option} {given} is one of the files the reweighter of {trained.path} trained on: its learned "
                "ratio fits the fluctuations of those events, and the fit would be biased; give an independent "
                "sample (generated with another seed)"
            )
    return data_file


def _record_path(folder: Path, data_file: str) -> Path:
    """``folder/<data stem>.json``: a refit of the same file replaces its record, another file of the same
    name gets ``<stem>-2.json`` (and so on) rather than replacing a fit of something else."""
    stem = Path(data_file).stem
    for n in range(1, 10_000):
        path = folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
        if not path.exists():
            return path
        try:
            earlier = json.loads(path.read_text()).get("data_file")
        except (OSError, ValueError, AttributeError):
            continue  # unreadable: not overwritten
        if earlier == data_file:
            return path
    raise RunDirectoryError(f"{folder} holds 10,000 fits of files named {stem}; clear it")


def fit_parameter(
    run: str | os.PathLike[str],
    data: str,
    reference: str,
    *,
    points: int = 41,
    method: str = "loss",
    progress: bool = False,
) -> FitResult:
    """Fit the generator parameter of ``data`` with the DCTR reweighter of ``run``.

    Parameters
    ----------
    run
        A run of :func:`neyman.workflows.dctr.dctr`.
    data
        The sample whose parameter is measured (pseudo-data, or data).
    reference
        A nominal sample the reweighter did not train on: it normalises ``w``.
    points
        Grid points between the smallest and largest trained value (nominal included);
        the fit never extrapolates beyond them.
    method
        ``loss`` (default): the value whose classifier best separates the data from
        the nominal sample, with a bootstrap uncertainty
        (:func:`neyman.reweighting.fit_parameter_loss`); ``likelihood``: the maximum
        of the likelihood built from the learned ratio, with its ``Δ = 1`` interval
        (:func:`neyman.reweighting.fit_parameter_scan`).  Both are recorded.
    progress
        A progress bar over the reweighters scanned (the run's and its replicas').

    Notes
    -----
    ``L(θ) = -⟨ln f(x, θ)⟩_data - ⟨ln(1 - f(x, θ))⟩_ref``, or
    ``-2 ln L(θ) = -2 [Σ_i c_i ln w(x_i, θ) - (Σ_i c_i) ln ⟨w(·, θ)⟩_ref]``.  The
    likelihood is the more precise when the learned ratio is exact; the loss needs the
    classifier only to be as good as its training made it, and is the default.  The
    uncertainty is statistical: of the data and reference samples (bootstrap or
    ``Δ = 1``), and, when the run was trained with ``replicas``, of the generated
    samples the reweighter learned from, :math:`\\sigma_\\mathrm{tmpl}` = the standard
    deviation of the replicas' estimates; the two add in quadrature,
    :math:`\\sigma = \\sqrt{\\sigma_\\mathrm{data}^2 + \\sigma_\\mathrm{tmpl}^2}`.  A closure in
    every feature at the fitted value checks the reweighting itself.
    """
    from neyman.reweighting import fit_parameter_loss, fit_parameter_scan

    t0 = time.perf_counter()
    run = Path(run)
    record = _parametrised_record(run, points, method)
    trained = load_run(run)
    data_file = _independent(data, reference, trained)
    parameter, features, weight = record["parameter"], list(record["features"]), record.get("weight")
    span = [*record["values"], record["nominal"]]
    grid = np.linspace(min(span), max(span), points)
    d, r = _read(data, features, weight, "data"), _read(reference, features, weight, "reference")
    replicas = _replica_dirs(run, record)
    label = f"scanning {parameter} with {1 + len(replicas)} reweighter(s)"
    with counting_bar(progress, 1 + len(replicas), label) as advance:
        zd, zr = _log_ratios(trained, d[0], record, grid), _log_ratios(trained, r[0], record, grid)
        likelihood = fit_parameter_scan(grid, zd, zr, d[1], r[1])
        loss = fit_parameter_loss(grid, zd, zr, d[1], r[1])
        advance(1)
        templates = _replica_estimates(replicas, record, grid, d, r, advance)
    fit = loss if method == "loss" else likelihood
    at_fit = np.exp(_log_ratios(trained, r[0], record, np.array([fit.estimate]))[0])
    at_fit *= np.sum(r[1]) / np.sum(r[1] * at_fit)
    out = {
        "parameter": parameter,
        "data": str(data),
        "data_file": data_file,
        "reference": str(reference),
        "method": method,
        **fit.to_json(),
        "likelihood_fit": {**likelihood.to_json(), **_with_templates(likelihood.uncertainty, templates["likelihood"])},
        "loss_fit": {**loss.to_json(), **_with_templates(loss.uncertainty, templates["loss"])},
        "closure_chi2_per_ndf": _closure(features, d, r, at_fit),
    }
    out.update(_with_templates(fit.uncertainty, templates[method]))
    path = write_json(_record_path(run / "fits", data_file), finite_json(out))
    return FitResult(fit.estimate, float(out["uncertainty"]), out, path, time.perf_counter() - t0)


def _parametrised_record(run: Path, points: int, method: str) -> dict[str, Any]:
    """The run's ``reweighting.json`` record, refused for other runs and bad fit settings."""
    RunDirectory(run).require_complete()
    found = read_ratio_weights(run)
    if found is None or "parameter" not in found[1]:
        raise ConfigError(f"{run} is not a parametrised reweighting run; train one with --parameter NAME=V1,V2")
    if method not in ("loss", "likelihood"):
        raise ConfigError(f"fit method {method!r} is neither 'loss' nor 'likelihood'")
    if points < 5:
        raise ConfigError(f"--points must be at least 5 (got {points})")
    return found[1]


def _replica_dirs(run: Path, record: dict[str, Any]) -> list[Path]:
    """The run directories of the run's bootstrap replicas, refused when the record points outside it."""
    listed = record.get("replicas", [])
    if not isinstance(listed, list):
        raise RunDirectoryError(f"{run}/reweighting.json: 'replicas' is not a list (train the run again)")
    out = []
    for relative in listed:
        where = (run / str(relative)).resolve()
        if not where.is_relative_to(run.resolve()):
            raise RunDirectoryError(f"{run}/reweighting.json names a replica outside the run: {relative!r}")
        out.append(where)
    return out


def _replica_estimates(
    replicas: list[Path],
    record: dict[str, Any],
    grid: np.ndarray,
    data: tuple[Table, np.ndarray],
    reference: tuple[Table, np.ndarray],
    advance: Callable[[int], None],
) -> dict[str, list[float]]:
    """Both fits' estimates with the reweighter of every bootstrap replica (none without)."""
    from neyman.reweighting import fit_parameter_loss, fit_parameter_scan

    out: dict[str, list[float]] = {"loss": [], "likelihood": []}
    for where in replicas:
        replica = load_run(where)
        zd, zr = _log_ratios(replica, data[0], record, grid), _log_ratios(replica, reference[0], record, grid)
        out["loss"].append(fit_parameter_loss(grid, zd, zr, data[1], reference[1], n_bootstrap=0).estimate)
        out["likelihood"].append(fit_parameter_scan(grid, zd, zr, data[1], reference[1]).estimate)
        advance(1)
    return out


def _with_templates(statistical: float, estimates: list[float]) -> dict[str, Any]:
    """The data-and-reference uncertainty, the replicas' spread and their sum in quadrature."""
    if len(estimates) < 2:
        return {"statistical_uncertainty": statistical}
    template = float(np.std(estimates, ddof=1))
    return {
        "uncertainty": float(np.hypot(statistical, template)),
        "statistical_uncertainty": statistical,
        "template_uncertainty": template,
        "replica_estimates": estimates,
    }
