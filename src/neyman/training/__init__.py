"""Training of neural models: the loop, checkpoints and the device choice."""

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
    "ScheduleSpec",
    "TensorBatches",
    "Trainer",
    "configure_threads",
    "load_state",
    "save_state",
    "select_device",
]
