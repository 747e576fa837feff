"""Training: the loop of neural models, checkpoints, the device choice, out-of-fold scoring.

Modules
-------
trainer
    The :class:`Trainer` loop (optimiser, schedule, early stopping, resume).
checkpoint
    Weights, optimiser and RNG state on disk.
devices
    The one place that chooses the device and the number of threads.
streaming
    Batches streamed chunk by chunk from files larger than memory.
crossval
    :func:`cross_val_predict`: every event scored by a model that never saw it.

Importing this package is cheap; torch loads with the modules that need it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from neyman.training.crossval import OutOfFold, cross_val_predict

if TYPE_CHECKING:
    from neyman.training.checkpoint import load_state, save_state
    from neyman.training.devices import configure_threads, select_device
    from neyman.training.streaming import ChunkedBatches
    from neyman.training.trainer import (
        OPTIMIZERS,
        SCHEDULES,
        BatchSource,
        History,
        OptimizerSpec,
        ScheduleSpec,
        TensorBatches,
        Trainer,
    )

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "BatchSource",
    "ChunkedBatches",
    "History",
    "OptimizerSpec",
    "OutOfFold",
    "ScheduleSpec",
    "TensorBatches",
    "Trainer",
    "configure_threads",
    "cross_val_predict",
    "load_state",
    "save_state",
    "select_device",
]

_LAZY = {
    "load_state": "checkpoint",
    "save_state": "checkpoint",
    "configure_threads": "devices",
    "select_device": "devices",
    "ChunkedBatches": "streaming",
    **{
        name: "trainer"
        for name in (
            "OPTIMIZERS",
            "SCHEDULES",
            "BatchSource",
            "History",
            "OptimizerSpec",
            "ScheduleSpec",
            "TensorBatches",
            "Trainer",
        )
    },
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"neyman.training.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'neyman.training' has no attribute {name!r}")
