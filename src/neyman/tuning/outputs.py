"""What a finished study leaves on disk: ``trials.csv``, ``best.yaml`` and ``tuning.html``.

The functions read an Optuna study and its :class:`~neyman.tuning.SearchSpace`; they know
nothing of configurations or training runs, which :mod:`neyman.workflows.tune` supplies
(e.g. the best trial's configuration, as a callable).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from neyman.atomic import write_text
from neyman.tuning.space import SearchSpace

if TYPE_CHECKING:
    import optuna

__all__ = [
    "BEST_CONFIG",
    "REPORT",
    "TRIALS_TABLE",
    "StudyOutputs",
    "objective_value",
    "state_counts",
    "trial_state",
    "write_best_config",
    "write_study_outputs",
    "write_study_report",
    "write_trials_table",
]

BEST_CONFIG = "best.yaml"
TRIALS_TABLE = "trials.csv"
REPORT = "tuning.html"


def trial_state(trial: optuna.trial.FrozenTrial) -> str:
    """The trial's state as Optuna names it (``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING`` ...)."""
    return str(trial.state.name)


def objective_value(trial: optuna.trial.FrozenTrial) -> float | None:
    """The trial's objective: ``None`` unless it completed.

    Optuna keeps a pruned trial's last intermediate value as its value; those are the
    monitored validation losses, negated when the study maximises, and shown as the
    objective they read as an AUC of -0.72.
    """
    return float(trial.value) if trial_state(trial) == "COMPLETE" and trial.value is not None else None


def state_counts(study: optuna.Study) -> dict[str, int]:
    """Trials of the study by state (``{"COMPLETE": 3, "FAIL": 1}``)."""
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[trial_state(t)] = counts.get(trial_state(t), 0) + 1
    return counts


def write_trials_table(study: optuna.Study, path: Path) -> Path:
    """``trials.csv``: one row per trial (number, state, objective, times, duration in seconds,
    sampled parameters, user attributes), written atomically."""
    frame = study.trials_dataframe(
        attrs=("number", "state", "value", "datetime_start", "datetime_complete", "duration", "params", "user_attrs")
    )
    if "duration" in frame:
        frame["duration"] = frame["duration"].dt.total_seconds()
    if "value" in frame:  # a pruned trial's value is its last monitored loss, not the objective
        frame["value"] = [objective_value(t) for t in study.get_trials(deepcopy=False)]
    return write_text(path, frame.to_csv(index=False))


def write_best_config(
    path: Path, config: dict[str, Any], *, study: str, trial: int, objective: str, value: float
) -> Path:
    """``best.yaml``: the best trial's configuration with a header naming the trial and the
    command that trains it, written atomically (YAML, ``safe_dump``)."""
    header = (
        f"# The best configuration of study {study!r}: trial {trial}, {objective} = {value:.6g}.\n"
        f"# Train it from {Path.cwd()} (where the study ran; its relative file paths start there):\n"
        f"#   neyman train {os.path.relpath(path)}\n"
    )
    return write_text(path, header + yaml.safe_dump(config, sort_keys=False))


def write_study_report(
    path: Path,
    study: optuna.Study,
    space: SearchSpace,
    *,
    info: list[list[object]],
    best_yaml: str,
    seed: int,
) -> Path:
    """``tuning.html``: settings, best trial, the Optuna figures and every trial.

    Parameters
    ----------
    path
        The report file.
    study
        The whole study (the trials of every process).
    space
        Its search space (sampled values are shown as the configuration takes them).
    info
        ``[setting, value]`` rows of the settings table.
    best_yaml
        The text of ``best.yaml`` (empty when no trial completed).
    seed
        Seed of the figures' random parts (Optuna's importance evaluator).
    """
    import matplotlib.pyplot as plt

    from neyman.report import Section, write_report
    from neyman.tuning.figures import study_figures

    trials = study.get_trials(deepcopy=False)
    counts = state_counts(study)
    sections = [
        Section(
            title="Study",
            tables=[
                ("Settings", ["setting", "value"], info),
                ("Trials by state", ["state", "trials"], [[k.lower(), v] for k, v in sorted(counts.items())]),
            ],
        )
    ]
    figures: list[Any] = []
    try:
        if counts.get("COMPLETE"):
            best = study.best_trial
            sampled = [[k, str(v)] for k, v in space.values(best.params).items()]
            sections.append(
                Section(
                    title="Best trial",
                    text=f"Trial {best.number}: objective {best.value:.6g}. Its configuration, best.yaml:",
                    tables=[("Sampled values", ["key", "value"], sampled)],
                    code=best_yaml,
                )
            )
            figures, skipped = study_figures(study, seed=seed)
            note = "Not drawn: " + "; ".join(skipped) if skipped else ""
            sections.append(Section(title="Optimisation", figures=figures, text=note))
        header = ["trial", "state", "objective", "seconds", *space.names]
        rows: list[list[object]] = []
        for t in trials:
            trial_values = space.sampled(t.params)  # {} for a trial that failed before every parameter was sampled
            values = [str(v) for v in trial_values.values()] if trial_values else ["—"] * len(space.names)
            seconds = t.duration.total_seconds() if t.duration is not None else None
            rows.append([t.number, trial_state(t).lower(), objective_value(t), seconds, *values])
        sections.append(Section(title="Trials", tables=[("Every trial of the study", header, rows)]))
        return write_report(path, sections, title=f"Study {study.study_name}", subtitle="neyman tune")
    finally:
        for fig in figures:
            plt.close(fig)


@dataclass(frozen=True)
class StudyOutputs:
    """What :func:`write_study_outputs` found and wrote.

    Attributes
    ----------
    states
        Trials of the study by state.
    trials_table, report
        ``trials.csv`` and ``tuning.html``.
    best
        The best complete trial (``None`` while no trial is complete).
    best_values
        Its ``{key: value}``.
    best_config
        ``best.yaml`` (``None`` while no trial is complete).
    """

    states: dict[str, int]
    trials_table: Path
    report: Path
    best: optuna.trial.FrozenTrial | None = None
    best_values: dict[str, Any] = field(default_factory=dict)
    best_config: Path | None = None

    @property
    def best_value(self) -> float | None:
        """The best trial's objective."""
        return float(self.best.value) if self.best is not None and self.best.value is not None else None


def write_study_outputs(
    study: optuna.Study,
    space: SearchSpace,
    directory: Path,
    *,
    objective: str,
    best_config: Callable[[optuna.trial.FrozenTrial], dict[str, Any]],
    info: list[list[object]],
    seed: int,
) -> StudyOutputs:
    """Write ``trials.csv``, ``best.yaml`` and ``tuning.html`` of the whole study (every process's trials).

    Parameters
    ----------
    study, space
        The study and its search space.
    directory
        Where the files go (created).
    objective
        The objective's name (in the header of ``best.yaml``).
    best_config
        The configuration of a trial (the best complete one), written as ``best.yaml``.
    info, seed
        The settings rows and figure seed of the report (see :func:`write_study_report`).
    """
    states = state_counts(study)
    directory.mkdir(parents=True, exist_ok=True)
    table = write_trials_table(study, directory / TRIALS_TABLE)
    if not states.get("COMPLETE"):
        report = write_study_report(directory / REPORT, study, space, info=info, best_yaml="", seed=seed)
        return StudyOutputs(states, table, report)
    best = study.best_trial
    best_path = write_best_config(
        directory / BEST_CONFIG,
        best_config(best),
        study=study.study_name,
        trial=best.number,
        objective=objective,
        value=float(best.value if best.value is not None else float("nan")),
    )
    best_yaml = best_path.read_text(encoding="utf-8")
    report = write_study_report(directory / REPORT, study, space, info=info, best_yaml=best_yaml, seed=seed)
    return StudyOutputs(states, table, report, best, space.values(best.params), best_path)
