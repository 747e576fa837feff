"""``neyman.train``: from a configuration to a complete run directory."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neyman.atomic import write_text
from neyman.config import RunConfig, dump_config, load_config, resolve_config, validate_paths
from neyman.config.tuning import TrackingConfig
from neyman.exceptions import ConfigError, RunDirectoryError
from neyman.runs import RunDirectory
from neyman.workflows.steps.artefacts import Fitted, finish_run
from neyman.workflows.steps.fitting import fit_in_memory
from neyman.workflows.steps.inputs import read_inputs
from neyman.workflows.steps.models import EpochCallback
from neyman.workflows.steps.streaming import check_streaming_inputs, fit_streaming

__all__ = ["RunResult", "train"]


@dataclass(frozen=True)
class RunResult:
    """What a training produced.

    Attributes
    ----------
    run_dir
        The run directory.
    metrics
        The content of ``metrics.json``.
    config
        The resolved configuration.
    seconds
        Wall time of the whole run.
    """

    run_dir: Path
    metrics: dict[str, Any]
    config: RunConfig
    seconds: float

    @property
    def headline(self) -> dict[str, float]:
        """Test-split metrics (combined out-of-fold metrics for k-fold runs)."""
        return dict(self.metrics["test"])


def _default_name(config: RunConfig) -> str:
    return f"{config.model.type}-{config.task.type}"


def _prepare(cfg: RunConfig) -> Any:
    """Read and check the inputs (all events, or only their layout when streaming)."""
    if cfg.data.streaming:
        return check_streaming_inputs(cfg)
    return read_inputs(cfg)


def _fit(cfg: RunConfig, run: RunDirectory, prepared: Any, *, resume: bool, on_epoch: EpochCallback | None) -> Fitted:
    if cfg.data.streaming:
        return fit_streaming(cfg, run, prepared, resume=resume, on_epoch=on_epoch)
    events, x = prepared
    return fit_in_memory(cfg, run, events, x, resume=resume, on_epoch=on_epoch)


def _tracked(cfg: RunConfig, track: bool) -> tuple[RunConfig, Any]:
    """Open the tracking store before anything is written, so a bad store fails first."""
    if cfg.tracking is None and not track:
        return cfg, None
    from neyman.workflows.steps.tracking import open_tracker

    if cfg.tracking is None:
        cfg = cfg.model_copy(update={"tracking": TrackingConfig()})
    assert cfg.tracking is not None
    return cfg, open_tracker(cfg.tracking, cfg.output_dir)


def train(
    config: RunConfig | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    overrides: Iterable[str] = (),
    force: bool = False,
    resume: str | os.PathLike[str] | None = None,
    track: bool = False,
    epoch_callback: EpochCallback | None = None,
) -> RunResult:
    """Train a model as configured and write its run directory.

    Parameters
    ----------
    config
        A :class:`~neyman.config.RunConfig`, a mapping, or the path of a YAML file.
    overrides
        ``section.key=value`` strings applied on top.
    force
        Replace an existing run of the same name (the old run stays until the new
        one is complete).
    resume
        Instead of ``config``: the directory of an interrupted run to continue from
        its last checkpoint.
    track
        Log the run to MLflow even without a ``tracking:`` section (defaults of
        :class:`~neyman.config.tuning.TrackingConfig`).
    epoch_callback
        Neural models: called after every epoch with the epoch number and its
        losses (``train_loss``, ``val_loss``, ``lr``); an exception it raises stops
        the training (the run is marked failed) and propagates.

    Returns
    -------
    RunResult
        Paths and headline metrics.

    Examples
    --------
    >>> result = neyman.train("configs/higgs.yaml", overrides=["model.type=xgboost"])  # doctest: +SKIP
    >>> result.headline["auc"]  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    if resume is not None:
        run = RunDirectory(Path(resume))
        if not run.config.is_file():
            raise RunDirectoryError(f"cannot resume {run.path}: it holds no config.yaml (not a neyman run)")
        if run.status() == "complete":
            raise RunDirectoryError(f"{run.path} is already complete; nothing to resume")
        cfg, tracker = _tracked(load_config(run.config, overrides), track)
        final = None
        prepared = _prepare(cfg)
    else:
        if config is None:
            raise ConfigError("train needs a configuration (or resume=RUN_DIR)")
        cfg, tracker = _tracked(resolve_config(config, overrides), track)
        validate_paths(cfg)
        # read and check the data before a run directory exists, so bad input leaves nothing behind
        prepared = _prepare(cfg)
        name = cfg.name or _default_name(cfg)
        run, final = RunDirectory.create(Path(cfg.output_dir) / name, force=force)
        write_text(run.config, dump_config(cfg))
    run.set_status("running", pid=os.getpid())
    try:
        fitted = _fit(cfg, run, prepared, resume=resume is not None, on_epoch=epoch_callback)
        result = finish_run(cfg, run, fitted)
    except BaseException as exc:
        run.set_status("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    run.set_status("complete")
    run = run.commit(final)
    if tracker is not None:
        from neyman.workflows.steps.tracking import log_training

        log_training(tracker, cfg, run.path)
    return RunResult(run_dir=run.path, metrics=result, config=cfg, seconds=time.perf_counter() - t0)
