"""What is learned: the loss, the output head, how raw outputs become scores, and how they are judged.

Adding a task is one class (and the frozen result of its evaluation) in this
package plus its entry in :data:`TASKS`; see ``docs/architecture.md``.

Modules
-------
base
    The :class:`Task` interface, :class:`ScoredEvents`, :class:`EvaluationOptions`.
classification
    ``binary`` and ``multiclass``.
regression
    ``regression`` and ``gaussian``.
anomaly
    ``autoencoder``, ``density`` and ``generator``: unsupervised anomaly scores and generation.
"""

from __future__ import annotations

from neyman.exceptions import ConfigError, close_matches
from neyman.tasks.anomaly import AnomalyEvaluation, AnomalyTask, AutoencoderTask, DensityTask, GeneratorTask
from neyman.tasks.base import EvaluationOptions, ScoredEvents, Task, TaskEvaluation
from neyman.tasks.classification import (
    BinaryEvaluation,
    BinaryTask,
    DiscriminantEvaluation,
    MulticlassEvaluation,
    MulticlassTask,
)
from neyman.tasks.regression import GaussianTask, RegressionEvaluation, RegressionTask

__all__ = [
    "TASKS",
    "AnomalyEvaluation",
    "AnomalyTask",
    "AutoencoderTask",
    "BinaryEvaluation",
    "BinaryTask",
    "DensityTask",
    "DiscriminantEvaluation",
    "EvaluationOptions",
    "GaussianTask",
    "GeneratorTask",
    "MulticlassEvaluation",
    "MulticlassTask",
    "RegressionEvaluation",
    "RegressionTask",
    "ScoredEvents",
    "Task",
    "TaskEvaluation",
    "make_task",
]

TASKS: dict[str, type[Task]] = {
    t.name: t
    for t in (BinaryTask, MulticlassTask, RegressionTask, GaussianTask, AutoencoderTask, DensityTask, GeneratorTask)
}
"""Every task by name."""


def make_task(name: str, *, n_classes: int = 2) -> Task:
    """Build a task by registry name.

    Parameters
    ----------
    name
        One of ``binary``, ``multiclass``, ``regression``, ``gaussian``, ``autoencoder``, ``density``,
        ``generator``.
    n_classes
        Number of classes (multiclass only).
    """
    if name == MulticlassTask.name:
        return MulticlassTask(k=n_classes)
    if name in TASKS:
        return TASKS[name]()
    raise ConfigError(f"unknown task {name!r}{close_matches(name, TASKS)}; choose one of {', '.join(TASKS)}")
