"""``neyman train --model a,b,c``: book several methods on one split and rank them, as TMVA's Factory does.

Every model is trained from the same configuration (same events, same split and
seed) into a sibling run directory ``<name>-<model>``; binary classifiers are then
put on one ROC with :func:`~neyman.workflows.compare.compare`, and every booked
model is ranked by its task's ranking metric on the test split.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neyman.config import RunConfig, resolve_config
from neyman.exceptions import ConfigError
from neyman.models.families import get_family
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


def _configs(base: RunConfig, models: Sequence[str]) -> dict[str, RunConfig]:
    """One configuration per model: the base with ``model.type`` replaced and a sibling name."""
    if len(set(models)) != len(models) or len(models) < 2:
        raise ConfigError(f"book at least two different models, got {list(models)}")
    for model in models:
        get_family(model)  # an unknown name fails before anything trains
    name = base.name or base.task.type
    data = base.model_dump(mode="json")
    out = {}
    for model in models:
        one = {**data, "name": f"{name}-{model}", "model": {"type": model}}
        out[model] = resolve_config(one)
    return out


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
        The run configuration (its ``model`` section is replaced by each booked
        model with that family's defaults).
    models
        Model types, at least two.
    overrides
        ``section.key=value`` strings applied to the configuration first.
    force
        Replace earlier runs of the same names.
    out
        Directory of the ROC comparison (default ``<output_dir>/<name>-comparison``).

    Returns
    -------
    BookResult
        The runs ranked by the task's ranking metric (test split), and the comparison.
    """
    base = resolve_config(config, overrides)
    configs = _configs(base, models)
    task = TASKS[base.task.type]
    folder = None
    if task is BinaryTask:
        folder = Path(out) if out is not None else Path(base.output_dir) / f"{base.name or base.task.type}-comparison"
        check_output_dir(folder, force=force, marker="comparison.json", what="the comparison")  # before any training
    with _each_warning_once():  # the runs share their data: its warnings would repeat per model
        runs = {model: train(cfg, force=force) for model, cfg in configs.items()}
    metric, larger = task.ranking_metric
    split = _ranking_split(list(runs.values()), metric)
    order = sorted(runs, key=lambda m: _ranked_value(runs[m], metric, split), reverse=larger)
    comparison = None
    if folder is not None:
        comparison = compare([runs[m].run_dir for m in order], out=folder, formats=("png",), force=force)
    return BookResult({m: runs[m] for m in order}, metric, larger, comparison, split)
