"""The model (and, for networks, its trainer) that a configuration asks for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from neyman.config import RunConfig
from neyman.models import Model, build_model
from neyman.models.families import get_family
from neyman.tasks import Task

__all__ = ["EpochCallback", "make_model"]

EpochCallback = Callable[[int, dict[str, float]], None]
"""Called after every epoch of a network with the epoch number and its losses."""


def make_model(
    config: RunConfig,
    task: Task,
    n_features: int,
    checkpoint_dir: Path,
    *,
    n_train: int,
    on_epoch: EpochCallback | None = None,
    features: Sequence[str] | None = None,
) -> Model:
    """An untrained model of ``config.model`` for ``task`` on ``n_features`` inputs.

    Hyper-parameters left to the sample size are planned for ``n_train`` training
    events (:meth:`~neyman.models.families.FamilyParams.planned`).  Networks get a
    :class:`~neyman.training.Trainer` built from ``config.training``, checkpointing
    into ``checkpoint_dir``.  ``features`` names the inputs of a tabular model
    (families whose hyper-parameters name columns need them).
    """
    family = get_family(config.model.type)
    trainer = None
    deco = config.training.decorrelate
    decorrelation = None
    batch_size = config.training.batch_size
    if family.neural and deco is not None and deco.method in ("disco", "adversary"):
        from neyman.training.decorrelation import Decorrelation, decorrelation_batch_size

        decorrelation = Decorrelation(
            deco.method, deco.resolved_strength(), bins=deco.resolved_bins(), variable=deco.variable
        )
        batch_size = batch_size or decorrelation_batch_size(n_train)
    if family.neural:
        from neyman.training import OptimizerSpec, ScheduleSpec, Trainer, configure_threads

        t = config.training
        configure_threads(t.threads)
        trainer = Trainer(
            epochs=t.epochs,
            batch_size=batch_size,
            steps=t.steps,
            optimizer=OptimizerSpec(**t.optimizer.model_dump()),
            schedule=ScheduleSpec(**t.schedule.model_dump()),
            l1=t.l1,
            l2=t.l2,
            grad_clip=t.grad_clip,
            patience=t.early_stopping.patience,
            min_delta=t.early_stopping.min_delta,
            device=t.device,
            seed=config.seed,
            checkpoint_dir=checkpoint_dir,
            progress=t.progress,
            on_epoch=on_epoch,
        )
    return build_model(
        family.name,
        task,
        n_features,
        params=config.model.planned(n_train),
        seed=config.seed,
        trainer=trainer,
        image_size=config.data.image.size,
        decorrelation=decorrelation,
        features=features,
    )
