"""``neyman train --model a,b,c``: book several methods on one split and rank them, as TMVA's Factory does.

Every model is trained from the same configuration (same events, same split and
seed) into a sibling run directory ``<name>-<model>``; binary classifiers are then
put on one ROC with :func:`~neyman.workflows.compare.compare`, and every booked
model is ranked by its task's ranking metric on the validation split.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neyman.config import RunConfig, apply_overrides, resolve_config
from neyman.exceptions import ConfigError, NeymanWarning, close_matches
from neyman.models.families import get_family
from neyman.runs import RunDirectory
from neyman.runs.guard import check_output_dir
from neyman.tasks import TASKS, BinaryTask
from neyman.workflows.compare import CompareResult, compare
from neyman.workflows.train import RunResult, train

__all__ = ["BookResult", "book"]


@dataclass(frozen=True)
class BookResult:
    """The booked runs, best first, and their comparison.

    Attributes
    ----------
    runs
        Model type → its run, in ranking order (best first).
    metric, larger_is_better
        What ranked them: the task's ``ranking_metric``.
    comparison
        The ROC comparison of binary classifiers (``None`` for other tasks).
    split
        The split the metric ranked them on: ``"val"`` (the test split stays out of the
        choice, so the winner's test number is unbiased), or ``"test"`` for runs without
        a validation split's metrics (k-fold: the out-of-fold scores).
    """

    runs: dict[str, RunResult]
    metric: str
    larger_is_better: bool
    comparison: CompareResult | None
    split: str = "val"

    @property
    def ranking(self) -> list[tuple[str, float]]:
        """``(model, metric on the ranking split)`` pairs, best first."""
        return [(model, _ranked_value(run, self.metric, self.split)) for model, run in self.runs.items()]


def _ranked_value(run: RunResult, metric: str, split: str) -> float:
    return float(run.metrics[split][metric] if split == "val" else run.headline[metric])


def _ranking_split(runs: Sequence[RunResult], metric: str) -> str:
    """``"val"`` when every run has the metric on its validation split, else ``"test"``."""
    has = all(isinstance(r.metrics.get("val"), dict) and metric in r.metrics["val"] for r in runs)
    return "val" if has else "test"


def _configs(base: RunConfig, models: Sequence[str], given: Mapping[str, Any]) -> dict[str, RunConfig]:
    """One configuration per model: the base with a sibling name and the model section of that family.

    Each family takes the model settings ``given`` that it has (``max_depth`` goes to
    the trees, ``dropout`` to the networks) and its defaults otherwise; a setting no
    booked family has is an error, one that only some have is said once.
    """
    if len(set(models)) != len(models) or len(models) < 2:
        raise ConfigError(f"book at least two different models, got {list(models)}")
    known = {model: set(get_family(model).params.model_fields) - {"type"} for model in models}
    for key in given:
        takers = [model for model in models if key in known[model]]
        if not takers:
            everything = sorted(set().union(*known.values()))
            raise ConfigError(
                f"model.{key} is a setting of none of the booked models ({', '.join(models)})"
                f"{close_matches(key, everything)}; remove it, or book the models that have it"
            )
        if len(takers) < len(models):
            others = [model for model in models if model not in takers]
            warnings.warn(
                f"model.{key} applies to {', '.join(takers)} only; {', '.join(others)} "
                f"{'has' if len(others) == 1 else 'have'} no such setting and train{'s' * (len(others) == 1)} "
                "without it",
                NeymanWarning,
                stacklevel=3,
            )
    name = base.name or base.task.type
    data = base.model_dump(mode="json")
    out = {}
    for model in models:
        section = {"type": model, **{key: value for key, value in given.items() if key in known[model]}}
        out[model] = resolve_config({**data, "name": f"{name}-{model}", "model": section})
    return out


def _model_settings(
    config: RunConfig | Mapping[str, Any] | str | os.PathLike[str], overrides: Iterable[str]
) -> tuple[RunConfig, dict[str, Any]]:
    """The configuration with the overrides of its other sections, and the model settings the user gave.

    The settings are those written in the configuration's ``model`` section and the
    ``model.*`` overrides, never a family's defaults: each booked family fills in its own.
    """
    items = list(overrides)
    mine = [item for item in items if item.strip().startswith("model.")]
    if any(item.strip().startswith("model.type=") for item in mine):
        raise ConfigError("model.type cannot be set when booking several models: list them in --model a,b,c")
    parsed = resolve_config(config)
    given = parsed.model.model_dump(mode="json", include=parsed.model.model_fields_set - {"type"})
    given = apply_overrides({"model": given}, mine)["model"]
    return resolve_config(parsed, [item for item in items if item not in mine]), given


@contextmanager
def _each_warning_once() -> Iterator[None]:
    """Show each distinct warning (category and text) once, as it happens, however often it is raised."""
    with warnings.catch_warnings():
        shown = warnings.showwarning
        seen: set[tuple[type[Warning], str]] = set()

        def once(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            key = (category, str(message))
            if key not in seen:
                seen.add(key)
                shown(message, category, *args, **kwargs)

        warnings.showwarning = once
        yield


def book(
    config: RunConfig | Mapping[str, Any] | str | os.PathLike[str],
    models: Sequence[str],
    *,
    overrides: Iterable[str] = (),
    force: bool = False,
    out: str | os.PathLike[str] | None = None,
) -> BookResult:
    """Train every model of ``models`` on the configuration's events and split, and rank them.

    Parameters
    ----------
    config
        The run configuration.  Each booked model takes the settings of its ``model``
        section (and the ``model.*`` overrides) that its family has, and its family's
        defaults for the rest.
    models
        Model types, at least two.
    overrides
        ``section.key=value`` strings applied to the configuration first
        (``model.*`` ones to each family that has the key).
    force
        Replace earlier runs of the same names.
    out
        Directory of the ROC comparison (default ``<output_dir>/<name>-comparison``).

    Returns
    -------
    BookResult
        The runs ranked by the task's ranking metric (validation split), and the comparison.
    """
    base, given = _model_settings(config, overrides)
    configs = _configs(base, models, given)
    task = TASKS[base.task.type]
    folder = None
    if task is BinaryTask:
        folder = Path(out) if out is not None else Path(base.output_dir) / f"{base.name or base.task.type}-comparison"
        check_output_dir(folder, force=force, marker="comparison.json", what="the comparison")  # before any training
    for cfg in configs.values():  # every run's folder may be written, before the first one trains
        RunDirectory.check_creatable(
            Path(cfg.output_dir) / str(cfg.name), force=force, inputs=[src.path for src in cfg.data.sources]
        )
    with _each_warning_once():  # the runs share their data: its warnings would repeat per model
        runs = {model: train(cfg, force=force) for model, cfg in configs.items()}
    metric, larger = task.ranking_metric
    split = _ranking_split(list(runs.values()), metric)
    order = sorted(runs, key=lambda m: _ranked_value(runs[m], metric, split), reverse=larger)
    comparison = None
    if folder is not None:
        comparison = compare([runs[m].run_dir for m in order], out=folder, formats=("png",), force=force)
    return BookResult({m: runs[m] for m in order}, metric, larger, comparison, split)
