"""``neyman evaluate``: the complete evaluation of a run, its figures and its report.

The run's task computes the numbers (:meth:`neyman.tasks.Task.evaluate`), :func:`neyman.plotting.evaluation_figures`
draws them; the inputs' distributions and importance, the learning curves and the report are added here.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neyman import io
from neyman.atomic import finite_json, write_json
from neyman.config import RunConfig, load_config
from neyman.exceptions import ConfigError, DataError, NeymanWarning, close_matches, recorded_warnings
from neyman.preprocessing import TEST, check_finite
from neyman.runs import RunDirectory, TrainedRun, load_run
from neyman.table import Table
from neyman.tasks import EvaluationOptions, ScoredEvents
from neyman.workflows.steps.autoencoding import autoencoder_views
from neyman.workflows.steps.data import (
    check_evaluated_files,
    data_with_sources,
    refuse_copied_training_events,
    run_events,
    true_log_ratio,
    warn_outside_training,
)
from neyman.workflows.steps.fidelity import generative_fidelity
from neyman.workflows.steps.importance import inputs_and_importance
from neyman.workflows.steps.inputs import decorrelation_columns
from neyman.workflows.steps.report import build_report
from neyman.workflows.steps.uncertainty import radius_profile, test_uncertainty

if TYPE_CHECKING:
    from neyman.plotting import FigureFolder

__all__ = ["EvaluationResult", "evaluate"]


@dataclass(frozen=True)
class EvaluationResult:
    """Where the evaluation went and its headline numbers."""

    run_dir: Path
    metrics: dict[str, Any]
    figures: list[Path]
    report: Path | None
    seconds: float


def _events(cfg: RunConfig, trained: TrainedRun, test_data: Sequence[str]) -> tuple[Table, np.ndarray] | None:
    """The evaluated events (features and reserved columns) and their feature matrix.

    ``None`` when the run's own test split is evaluated from ``predictions.parquet``
    without inputs to plot: streamed runs (the inputs do not fit in memory) and
    constituent-based runs.
    """
    spec = trained.representation
    if not test_data and (cfg.data.streaming or spec is not None):
        return None
    data = data_with_sources(cfg.data, test_data) if test_data else cfg.data
    check_evaluated_files(trained, cfg, data, external=bool(test_data))
    if test_data and trained.classes:  # the run's classes, so that a file lacking one is refused by name
        data = data.model_copy(update={"classes": list(trained.classes)})
    table = run_events(data, cfg.task.type, spec, carry=decorrelation_columns(cfg), features=trained.features)
    refuse_copied_training_events(trained, cfg, table, test_data)
    if spec is not None:
        # particle sets and images are built from the constituents when the run scores the table
        return table, np.empty((len(table), 0))
    x = check_finite(
        table.to_numpy(trained.features, dtype=np.float64),
        trained.features,
        fill_value=data.fill_value,
        source=", ".join(test_data) if test_data else "the run's input files",
        trained=True,
    )
    warn_outside_training(trained, x, test_data)
    return table, x


def _scored(trained: TrainedRun, table: Table | None, test_data: Sequence[str]) -> ScoredEvents:
    if not test_data:
        return trained.saved_predictions(tested=True)
    assert table is not None
    return trained.scored_events(table)


def _sculpted(cfg: RunConfig, rundir: RunDirectory, table: Table | None, test_data: Sequence[str]) -> Any:
    """The decorrelation variable's name and values of the evaluated events, or None."""
    deco = cfg.training.decorrelate
    if deco is None:
        return None
    if test_data:
        assert table is not None
        return deco.variable, np.asarray(table[deco.variable], dtype=np.float64)
    saved = io.read(rundir.predictions, columns=[deco.variable])
    return deco.variable, np.asarray(saved[deco.variable], dtype=np.float64)


def _by_values(by: str | None, table: Table | None) -> tuple[np.ndarray | None, str]:
    if not by:
        return None, "target"
    if table is None:
        raise DataError(f"--by {by!r}: the saved predictions hold no features; give the events with --test-data FILE")
    if by not in table:
        names = table.column_names
        raise DataError(
            f"--by {by!r}: no such column among the evaluated events{close_matches(by, names)}; "
            f"columns: {', '.join(names[:20])}"
        )
    return np.asarray(table[by]), by


def _history_figure(run: RunDirectory, figures: FigureFolder) -> None:
    from neyman import plotting

    cols = run.read_history()
    if cols:
        fig, ax = plotting.figure()
        plotting.plot_history(cols, ax=ax)
        figures.add("history", figures.save(fig, "loss"))


@dataclass(frozen=True)
class _Request:
    """What the user asked of the evaluation (see :func:`evaluate`); ``None`` = not given."""

    working_point: float | None
    yields: tuple[float, float] | None
    sigma_b: float | None
    n_bootstrap: int
    by: str | None
    seed: int
    discriminant: str | None = None

    def given(self) -> dict[str, Any]:
        """The options as ``metrics.json`` records them (what ``neyman report`` repeats)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()}


_TASK_OPTIONS = ("working_point", "yields", "sigma_b", "by", "discriminant")


def _discriminant(cfg: RunConfig, trained: TrainedRun, signal: str | None) -> tuple[str, dict[str, float]] | None:
    """The multi-class discriminant to evaluate: ``signal`` against the other classes in equal
    parts, or the run's configured ``task.discriminant``."""
    if signal is not None:
        if signal not in trained.classes:
            raise ConfigError(f"--discriminant {signal!r} is not a class of {trained.path}: {trained.classes}")
        others = [c for c in trained.classes if c != signal]
        return signal, {c: 1.0 / len(others) for c in others}
    spec = cfg.task.discriminant
    if spec is None or "discriminant" not in trained.task.evaluation_options:
        return None
    return spec.signal, dict(spec.backgrounds)


def _check_request(request: _Request, trained: TrainedRun) -> None:
    """Refuse options the run's task does not take, and ``sigma_b`` without ``yields``."""
    cli = {name: "--" + name.replace("_", "-") for name in _TASK_OPTIONS}
    unused = [
        cli[n] for n in _TASK_OPTIONS if getattr(request, n) is not None and n not in trained.task.evaluation_options
    ]
    if unused:
        takes = ", ".join(cli[n] for n in _TASK_OPTIONS if n in trained.task.evaluation_options) or "none of them"
        raise ConfigError(
            f"{', '.join(unused)} do(es) not apply to {trained.path}, a {trained.task.name} run "
            f"(a {trained.task.name} evaluation takes {takes})"
        )
    if request.sigma_b is not None and request.yields is None:
        raise ConfigError("--sigma-b is the background uncertainty of the significance scan: give --yields S,B too")
    wp = request.working_point
    if wp is not None and not 0.0 < wp < 1.0:
        raise ConfigError(
            f"--working-point {wp:g}: a working point is a threshold on the signal probability, between 0 and 1 "
            "(e.g. 0.5)"
        )


def _previous_request(training: dict[str, Any]) -> _Request:
    """The options of the run's previous evaluation of its test split (defaults if there was none)."""
    evaluation = training.get("evaluation")
    previous = evaluation.get("options") if isinstance(evaluation, dict) else None
    previous = previous if isinstance(previous, dict) else {}
    yields = previous.get("yields")
    return _Request(
        working_point=previous.get("working_point"),
        yields=None if yields is None else (float(yields[0]), float(yields[1])),
        sigma_b=previous.get("sigma_b"),
        n_bootstrap=int(previous.get("n_bootstrap", 200)),
        by=previous.get("by"),
        seed=int(previous.get("seed", 0)),
        discriminant=previous.get("discriminant"),
    )


def _evaluate_run(
    rundir: RunDirectory,
    trained: TrainedRun,
    cfg: RunConfig,
    test_data: Sequence[str],
    request: _Request,
    figures: FigureFolder,
) -> dict[str, Any]:
    """The task's evaluation and figures, the inputs' figures and importance, the learning curves."""
    from neyman import plotting

    with plotting.hep_style():
        inputs = _events(cfg, trained, test_data)
        table, x = inputs if inputs is not None else (None, None)
        scored = _scored(trained, table, test_data)
        by_values, by_name = _by_values(request.by, table)
        lr = None
        if x is not None and trained.representation is None and trained.classes:
            lr = true_log_ratio(data_with_sources(cfg.data, test_data) if test_data else cfg.data)
        spread = test_uncertainty(trained, table, scored)
        options = EvaluationOptions(
            classes=tuple(trained.classes),
            working_point=0.5 if request.working_point is None else request.working_point,
            yields=request.yields,
            sigma_b=request.sigma_b or 0.0,
            n_bootstrap=request.n_bootstrap,
            seed=request.seed,
            balanced=cfg.task.balance_classes,
            true_log_ratio=lr,
            by_values=by_values,
            by_name=by_name,
            discriminant=_discriminant(cfg, trained, request.discriminant),
            sculpted=_sculpted(cfg, rundir, table, test_data),
            model_uncertainty=spread,
        )
        evaluation = trained.task.evaluate(scored, options)
        result: dict[str, Any] = dict(evaluation.numbers)
        for section, named in plotting.evaluation_figures(evaluation).items():
            figures.add(section, [p for stem, fig in named for p in figures.save(fig, stem)])
        numbers, paths = radius_profile(trained, table, scored, spread, figures.save)
        if numbers:
            result["model_uncertainty"].update(numbers)
            figures.add("uncertainty", paths)
        read_events = (
            None
            if cfg.data.streaming
            else lambda: run_events(cfg.data, cfg.task.type, trained.representation, features=trained.features)
        )
        numbers, paths = generative_fidelity(
            trained, table, scored, seed=request.seed, save=figures.save, read=read_events
        )
        if numbers:
            result.update(numbers)
            figures.add("generated", paths)
        views = autoencoder_views(
            trained,
            table,
            scored,
            read=read_events,
            seed=request.seed,
            save=figures.save,
        )
        figures.add("latent", views)
        if table is not None and x is not None and trained.representation is None:
            numbers, sections = inputs_and_importance(trained, table, x, scored, seed=request.seed, save=figures.save)
            result.update(numbers)
            for section, paths in sections.items():
                figures.add(section, paths)
        if not test_data:
            _history_figure(rundir, figures)
    result["task"] = trained.task.name
    result["n_test_events"] = int(np.sum(scored.split == TEST))
    result["test_data"] = list(test_data)
    _warn_swapped_labels(result, test_data, trained.classes)
    return result


def _warn_swapped_labels(result: dict[str, Any], test_data: Sequence[str], classes: list[str]) -> None:
    """Warn when other test data give an AUC 3 sigma below 0.5: most often their labels are swapped."""
    test_auc, auc_spread = result.get("auc"), float(result.get("auc_uncertainty") or 0.0)
    if test_data and test_auc is not None and float(test_auc) + 3 * auc_spread < 0.5:
        warnings.warn(
            f"AUC {test_auc:.4f} on {', '.join(test_data)}: the run ranks the file's class 0 above its class 1. Are "
            f"the labels swapped? The run's class 1 (the signal) is {classes[-1]!r}",
            NeymanWarning,
            stacklevel=4,
        )


def _store(
    run: RunDirectory, out_dir: Path, test_data: Sequence[str], result: dict[str, Any], training: dict[str, Any]
) -> dict[str, Any]:
    """``RUN/evaluation/metrics.json`` for other test data; else under ``evaluation`` in the run's.

    Returns the evaluation it replaces (empty when there was none).
    """
    earlier: Any = {}
    if test_data:
        path = out_dir / "metrics.json"
        with contextlib.suppress(OSError, ValueError):  # a damaged or missing record replaces nothing of note
            earlier = json.loads(path.read_text(encoding="utf-8"))
        write_json(path, finite_json(result))
        return earlier if isinstance(earlier, dict) else {}
    # the run's metrics.json keeps its training-time numbers and gains the full evaluation
    write_json(run.metrics, finite_json({**training, "evaluation": result}))
    earlier = training.get("evaluation")  # what the previous evaluation of the test split stored
    return earlier if isinstance(earlier, dict) else {}


def evaluate(
    run: str | os.PathLike[str],
    *,
    test_data: Sequence[str] = (),
    working_point: float | None = None,
    yields: tuple[float, float] | None = None,
    sigma_b: float | None = None,
    n_bootstrap: int = 200,
    by: str | None = None,
    formats: Sequence[str] = ("png", "pdf"),
    report: bool = True,
    seed: int = 0,
    same_options: bool = False,
    discriminant: str | None = None,
) -> EvaluationResult:
    """Compute every metric and figure of a run and write its report.

    Parameters
    ----------
    run
        A finished run directory.
    test_data
        Evaluate on these files instead of the run's test split (one per training
        source, in the same order); results go to ``RUN/evaluation/`` (its own
        ``metrics.json``, figures and report).  Without, the evaluation is stored
        under the key ``evaluation`` of the run's ``metrics.json``.
    working_point
        Score threshold of the confusion matrix and accuracy (default 0.5).
    yields
        Expected signal and background yields ``(S, B)`` for the significance scan.
    sigma_b
        Relative background uncertainty in the Asimov significance (with ``yields``;
        default 0).
    n_bootstrap
        Bootstrap replicas for the AUC uncertainty.
    by
        Regression: feature column to bin bias and resolution in (default: the target).
    formats
        Figure formats.
    report
        Also write ``report.html``.
    seed
        Seed of the bootstrap and the permutations.
    discriminant
        Multi-class: evaluate ``D = ln p_S / Σ f_j p_j`` of this signal class against
        the others in equal parts, with a scan of the first background's fraction
        (default: the run's ``task.discriminant``, if any).
    same_options
        Repeat the run's previous evaluation of its test split with the options it
        had (``neyman report``), instead of the options given here.

    Raises
    ------
    ConfigError
        An option that the run's task does not take (e.g. ``yields`` for a
        regression, ``by`` for a classifier), or ``sigma_b`` without ``yields``.
    """
    t0 = time.perf_counter()
    rundir = RunDirectory(Path(run))
    rundir.require_complete()
    trained = load_run(rundir.path)
    training = rundir.read_metrics()  # a damaged metrics.json fails now, not after the whole evaluation
    cfg = load_config(rundir.config)
    test_data = list(test_data)
    out_dir = rundir.path / ("evaluation" if test_data else "")
    request = _Request(working_point, yields, sigma_b, n_bootstrap, by, seed, discriminant)
    request = _previous_request(training) if same_options else request
    _check_request(request, trained)
    from neyman.plotting import FigureFolder

    with FigureFolder(out_dir / "plots", tuple(formats)) as figures, recorded_warnings() as noted:
        result = _evaluate_run(rundir, trained, cfg, test_data, request, figures)  # figures staged until stored
        result.update(options=request.given(), warnings=noted(), figures=figures.names)
        earlier = _store(rundir, out_dir, test_data, result, training)
        figures.publish(replaced=earlier.get("figures") or ())
    report_path = build_report(rundir, cfg, result, figures.sections, out_dir) if report else None
    seconds = time.perf_counter() - t0
    return EvaluationResult(rundir.path, result, figures.written, report_path, seconds)
