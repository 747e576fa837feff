"""``neyman.train``: from a configuration to a complete run directory."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from neyman.atomic import write_json, write_text
from neyman.config import RunConfig, dump_config, load_config, resolve_config, validate_paths
from neyman.config.tuning import TrackingConfig
from neyman.exceptions import ConfigError, DataError, NeymanWarning, RunDirectoryError, missing_file
from neyman.runs import RunDirectory, source_records
from neyman.tracking import flatten
from neyman.workflows.steps.artefacts import Fitted, finish_run
from neyman.workflows.steps.data import refuse_changed_inputs
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
    with _torch_threads_kept():  # training.threads is the run's, not the calling process's
        if cfg.data.streaming:
            return fit_streaming(cfg, run, prepared, resume=resume, on_epoch=on_epoch)
        events, x = prepared
        return fit_in_memory(cfg, run, events, x, resume=resume, on_epoch=on_epoch)


@contextlib.contextmanager
def _torch_threads_kept() -> Iterator[None]:
    """Give torch back the intra-op thread count it had before (when a caller had imported it)."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        if before is not None:
            sys.modules["torch"].set_num_threads(before)


RESUMABLE = ("training.", "tracking.")
"""Settings an interrupted run may change when it resumes: they do not change what its checkpoints hold."""
FIXED_ON_RESUME = ("training.decorrelate",)
"""Training settings that change what the checkpoints hold (an adversary's weights, the weights' meaning)."""


def _resumable(path: Path) -> RunDirectory:
    """The interrupted training run at ``path``, refused when it is complete or no training's."""
    run = RunDirectory(path)
    if not run.path.exists():
        raise RunDirectoryError(f"cannot resume: run directory {run.path}{missing_file(run.path)}")
    if not run.config.is_file():
        raise RunDirectoryError(f"cannot resume {run.path}: it holds no config.yaml (not a neyman run)")
    if run.status() == "complete":
        raise RunDirectoryError(f"{run.path} is already complete; nothing to resume")
    if run.made_by() != "train":
        raise RunDirectoryError(
            f"{run.path} is a run of neyman {run.made_by()}, which train --resume cannot finish; run neyman "
            f"{run.made_by()} again with --force"
        )
    if (pid := run.running_pid()) is not None:  # two trainings in one folder: a config of one, a model of the other
        raise RunDirectoryError(
            f"{run.path} is being trained now by process {pid}; wait for it to finish, or stop it (kill {pid}) "
            "and resume then"
        )
    return run


def _resumed_config(run: RunDirectory, overrides: list[str]) -> tuple[RunConfig, bool]:
    """The run's configuration with ``overrides``, and whether they change it.

    Training and tracking settings (epochs, patience, learning rate, the MLflow store) may
    change on resume; everything else (model shape, features, data, split, seed) would make
    the checkpoint and the already-written preprocessing meaningless, so it is refused.
    """
    cfg = load_config(run.config, overrides)
    if not overrides:
        return cfg, False
    before = flatten(load_config(run.config).model_dump(mode="json"))
    after = flatten(cfg.model_dump(mode="json"))
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    fixed = [k for k in changed if not k.startswith(RESUMABLE) or k.startswith(FIXED_ON_RESUME)]
    if fixed:
        shown = ", ".join(f"{k} ({before.get(k)!r} -> {after.get(k)!r})" for k in fixed[:5])
        raise ConfigError(
            f"--resume {run.path} cannot change {shown}: the run's checkpoints and preprocessing were made "
            "without it; only training.* and tracking.* settings (not training.decorrelate) may change on resume. "
            "Start a new run instead (neyman train CONFIG --set ... --force, or another --name)"
        )
    return cfg, bool(changed)


def _refuse_changed_inputs(run: RunDirectory) -> None:
    """Refuse to resume a run whose input files are no longer those it started on."""
    if run.inputs.is_file():  # (not for a run from before the inputs were recorded)
        refuse_changed_inputs(
            json.loads(run.inputs.read_text(encoding="utf-8")),
            doing=f"cannot resume {run.path}",
            why="its checkpoints and preprocessing were made on the earlier events, and a resumed run would mix "
            "two samples",
            fix="restore the file, or train again (--force replaces the run)",
        )


def _refuse_streamed_changes(run: RunDirectory, cfg: RunConfig) -> None:
    """Refuse to complete a streamed run whose input files changed while it read them epoch by epoch."""
    if cfg.data.streaming and run.inputs.is_file():
        refuse_changed_inputs(
            json.loads(run.inputs.read_text(encoding="utf-8")),
            doing=f"{run.path} is not complete",
            why="it streams its events from the files epoch by epoch, so the model learnt from a mix of two samples",
            fix="train again on the files as they are now (--force replaces the run)",
        )


def _discard_bad_attempt(run: RunDirectory, exc: BaseException, *, resumed: bool) -> bool:
    """Remove a new run that bad input stopped before its first checkpoint (a constant feature that only
    the model's fit finds), so that the fixed attempt may take its name; whether it was removed."""
    if resumed or not isinstance(exc, (DataError, ConfigError)) or any(run.checkpoints.glob("*")):
        return False
    shutil.rmtree(run.path, ignore_errors=True)
    return True


def _log_training(tracker: Any, cfg: RunConfig, path: Path) -> None:
    from neyman.workflows.steps.tracking import log_training

    if tracker is not None:
        log_training(tracker, cfg, path)


def _record_failure(
    run: RunDirectory, exc: BaseException, tracker: Any, cfg: RunConfig, final: RunDirectory | None
) -> None:
    """Mark the run failed and, when tracked, log it as a failed (or interrupted: killed) MLflow run.

    A replacement (``--force``) is staged beside the run it replaces (``final``): say where it is
    kept, since only the hidden staging folder holds its checkpoints.
    """
    from neyman.workflows.steps.tracking import log_training

    run.set_status("failed", error=f"{type(exc).__name__}: {exc}")
    name = (final or run).path.name
    stopped = isinstance(exc, (KeyboardInterrupt, SystemExit))  # Ctrl-C, SIGTERM: an error says its own
    if stopped and final is not None and final.path != run.path and any(run.checkpoints.glob("*")):
        warnings.warn(
            f"{final.path} is unchanged; the stopped training that was to replace it is left in {run.path} "
            "(a hidden folder): the next --force of this run removes it, or delete it yourself",
            NeymanWarning,
            stacklevel=3,
        )
    if tracker is None:
        return
    status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
    try:
        log_training(tracker, cfg, run.path, status=status, name=name)
    except Exception as err:  # the training's own error is what the user must see
        warnings.warn(f"the failed run {name} could not be logged to MLflow: {err}", NeymanWarning, stacklevel=3)


def _record_resume(run: RunDirectory, cfg: RunConfig, overrides: list[str]) -> None:
    """Rewrite ``config.yaml`` to what the resumed run really uses, and log the change."""
    log = run.path / "resumes.yaml"
    entries = yaml.safe_load(log.read_text(encoding="utf-8")) if log.is_file() else None
    entries = entries if isinstance(entries, list) else []
    entries.append({"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "overrides": overrides})
    write_text(log, yaml.safe_dump(entries, sort_keys=False))
    write_text(run.config, dump_config(cfg))


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
    made_by: str = "train",
) -> RunResult:
    """Train a model as configured and write its run directory.

    Parameters
    ----------
    config
        A :class:`~neyman.config.RunConfig`, a mapping, or the path of a YAML file.
    overrides
        ``section.key=value`` strings applied on top.
    force
        Replace an existing run of the same name (the old run stays until the new one is complete).
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
    made_by
        The neyman command whose run this is, recorded in its status: ``train --resume``
        refuses another command's run (``reweight`` finishes its own after the training).

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
        run = _resumable(Path(resume))
        cfg, changed = _resumed_config(run, list(overrides))
        cfg, tracker = _tracked(cfg, track)
        final = None
        _refuse_changed_inputs(run)
        prepared = _prepare(cfg)
        if changed:
            _record_resume(run, cfg, list(overrides))
    else:
        if config is None:
            raise ConfigError("train needs a configuration (or resume=RUN_DIR)")
        cfg, tracker = _tracked(resolve_config(config, overrides), track)
        validate_paths(cfg)
        sources = source_records([(src.path, src.tree) for src in cfg.data.sources])
        # read and check the data before a run directory exists, so bad input leaves nothing behind
        prepared = _prepare(cfg)
        name = cfg.name or _default_name(cfg)
        inputs = [src.path for src in cfg.data.sources]
        run, final = RunDirectory.create(Path(cfg.output_dir) / name, force=force, inputs=inputs)
        write_text(run.config, dump_config(cfg))
        write_json(run.inputs, sources)
    run.set_status("running", pid=os.getpid(), made_by=made_by)
    try:
        fitted = _fit(cfg, run, prepared, resume=resume is not None, on_epoch=epoch_callback)
        _refuse_streamed_changes(run, cfg)
        result = finish_run(cfg, run, fitted)
    except BaseException as exc:
        if not _discard_bad_attempt(run, exc, resumed=resume is not None):
            _record_failure(run, exc, tracker, cfg, final)
        raise
    run.set_status("complete")
    run = run.commit(final)
    _log_training(tracker, cfg, run.path)
    return RunResult(run_dir=run.path, metrics=result, config=cfg, seconds=time.perf_counter() - t0)
