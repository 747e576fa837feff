"""The training loop for neural models.

The trainer receives objects (a module, a loss, tensors, specifications), never a
configuration.  In-memory tabular data is batched by slicing a tensor permuted once
per epoch — no ``DataLoader``, whose per-sample collation costs several times the
compute of a small MLP.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from neyman.exceptions import ConfigError, ModelError, close_matches
from neyman.training.checkpoint import load_state, save_state
from neyman.training.devices import select_device

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "BatchSource",
    "History",
    "Inputs",
    "OptimizerSpec",
    "ScheduleSpec",
    "TensorBatches",
    "Trainer",
    "forward",
]

OPTIMIZERS = ("sgd", "adam", "adamw", "nadam", "rmsprop")
SCHEDULES = ("none", "step", "cosine", "onecycle", "plateau")

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
Inputs = torch.Tensor | tuple[torch.Tensor, ...]
"""A network's input: one tensor, or several (particle sets: features, points, vectors, mask)."""
Batch = tuple[Inputs, torch.Tensor, torch.Tensor]


def forward(module: nn.Module, x: Inputs) -> torch.Tensor:
    """``module(x)``, or ``module(*x)`` for a network with several inputs."""
    out: torch.Tensor = module(*x) if isinstance(x, tuple) else module(x)
    return out


@dataclass(frozen=True)
class OptimizerSpec:
    """Which optimiser and its hyper-parameters.

    ``weight_decay`` is the optimiser's own (decoupled for AdamW); the explicit
    L1/L2 penalties of :class:`Trainer` add to the loss instead.
    """

    name: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    def build(self, params: Iterable[nn.Parameter] | Iterable[dict[str, Any]]) -> torch.optim.Optimizer:
        """Create the optimiser for ``params`` (parameters, or torch's parameter groups)."""
        p: list[Any] = list(params)
        if self.name == "sgd":
            return torch.optim.SGD(
                p,
                lr=self.lr,
                momentum=self.momentum,
                nesterov=self.nesterov,
                weight_decay=self.weight_decay,
            )
        if self.name == "adam":
            return torch.optim.Adam(p, lr=self.lr, weight_decay=self.weight_decay)
        if self.name == "adamw":
            return torch.optim.AdamW(p, lr=self.lr, weight_decay=self.weight_decay)
        if self.name == "nadam":
            return torch.optim.NAdam(p, lr=self.lr, weight_decay=self.weight_decay)
        if self.name == "rmsprop":
            return torch.optim.RMSprop(p, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)
        raise ConfigError(
            f"unknown optimizer {self.name!r}{close_matches(self.name, OPTIMIZERS)}; "
            f"choose one of {', '.join(OPTIMIZERS)}"
        )

    def __post_init__(self) -> None:
        if self.nesterov and (self.name != "sgd" or self.momentum <= 0):
            raise ConfigError("nesterov: true needs optimizer sgd with momentum > 0")


@dataclass(frozen=True)
class ScheduleSpec:
    """A learning-rate schedule.

    ``step``: multiply by ``gamma`` every ``step_size`` epochs; ``cosine``: cosine
    decay to ``min_lr`` over all epochs; ``onecycle``: warm-up to ``max_lr``
    (default 10× the optimiser's rate) and anneal, stepped per batch; ``plateau``:
    multiply by ``factor`` when the validation loss has not improved for
    ``patience`` epochs.
    """

    name: str = "none"
    step_size: int = 10
    gamma: float = 0.5
    factor: float = 0.5
    patience: int = 3
    min_lr: float = 0.0
    max_lr: float | None = None

    def build(self, optimizer: torch.optim.Optimizer, *, epochs: int, steps_per_epoch: int) -> Any:
        """Create the scheduler, or ``None`` for ``none``."""
        sched = torch.optim.lr_scheduler
        if self.name == "none":
            return None
        if self.name == "step":
            return sched.StepLR(optimizer, step_size=self.step_size, gamma=self.gamma)
        if self.name == "cosine":
            return sched.CosineAnnealingLR(optimizer, T_max=max(epochs, 1), eta_min=self.min_lr)
        if self.name == "onecycle":
            base = optimizer.param_groups[0]["lr"]
            return sched.OneCycleLR(
                optimizer,
                max_lr=self.max_lr or 10 * base,
                total_steps=max(epochs * steps_per_epoch, 1),
            )
        if self.name == "plateau":
            return sched.ReduceLROnPlateau(optimizer, factor=self.factor, patience=self.patience, min_lr=self.min_lr)
        raise ConfigError(
            f"unknown schedule {self.name!r}{close_matches(self.name, SCHEDULES)}; choose one of {', '.join(SCHEDULES)}"
        )


@dataclass(frozen=True)
class History:
    """Per-epoch record of a training.

    Attributes
    ----------
    columns
        ``epoch``, ``train_loss``, ``val_loss`` (when validated), ``lr``, ``seconds`` (the
        whole epoch) and ``step_seconds`` (its optimisation steps, without validation).
    best_epoch
        Epoch whose weights were kept (lowest monitored loss), 1-based.
    stopped_early
        Whether early stopping ended the training.
    """

    columns: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    stopped_early: bool = False

    @property
    def n_epochs(self) -> int:
        """Number of epochs run."""
        return len(self.columns.get("epoch", []))


class BatchSource(Protocol):
    """Anything that yields ``(x, y, w)`` batches for one epoch."""

    def __len__(self) -> int: ...  # number of events

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None) -> Iterator[Batch]:
        """Yield batches of one epoch."""
        ...


class TensorBatches:
    """In-memory tensors, shuffled by one gather per epoch and sliced into views.

    Parameters
    ----------
    x, y, w
        Inputs ``(n_events, ...)`` (one tensor, or a tuple of tensors that share
        their first axis), targets ``(n_events,)`` and weights ``(n_events,)``.
    device
        Where the tensors live during training.
    """

    def __init__(self, x: Inputs, y: torch.Tensor, w: torch.Tensor, *, device: torch.device) -> None:
        parts = x if isinstance(x, tuple) else (x,)
        if any(len(p) != len(y) for p in parts) or len(y) != len(w):
            raise ModelError(
                f"inputs, targets and weights differ in length ({[len(p) for p in parts]}, {len(y)}, {len(w)})"
            )
        moved = tuple(p.to(device) for p in parts)
        self.x: Inputs = moved if isinstance(x, tuple) else moved[0]
        self.y, self.w = y.to(device), w.to(device)

    def __len__(self) -> int:
        return len(self.y)

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None) -> Iterator[Batch]:
        x, y, w = self.x, self.y, self.w
        if shuffle:
            perm = torch.randperm(len(y), generator=generator).to(y.device)
            if isinstance(x, tuple):
                # large per-event inputs (particle sets): gather each batch, not a copy of everything
                for start in range(0, len(y), batch_size):
                    index = perm[start : start + batch_size]
                    yield tuple(p[index] for p in x), y[index], w[index]
                return
            x, y, w = x[perm], y[perm], w[perm]
        for start in range(0, len(y), batch_size):
            stop = start + batch_size
            xb = tuple(p[start:stop] for p in x) if isinstance(x, tuple) else x[start:stop]
            yield xb, y[start:stop], w[start:stop]


DEFAULT_STEPS = 8_000
"""The optimisation steps a training plans for when its epochs are not given."""

BATCH_CAP = 1024
"""The largest batch a training plans (the batch is the power of two nearest n/200 below it)."""

EVENTS_PER_BATCH = 200
"""A planned batch holds about n/200 events: some 200 steps per pass over any sample size."""


def plan_training(n_train: int, *, epochs: int | None, batch_size: int | None, steps: int) -> tuple[int, int]:
    """The epochs and batch size of a training on ``n_train`` events.

    Parameters
    ----------
    n_train
        Training events.
    epochs, batch_size
        Given values are kept; ``None`` is planned (see Notes).
    steps
        The budget of optimisation steps, for samples up to the size that fills the
        largest batch; larger samples get more (see Notes).

    Returns
    -------
    tuple of int
        ``(epochs, batch_size)``.

    Notes
    -----
    With :math:`n_c = 200 \\cdot 1024` events (where the batch reaches its cap),

    .. math::

        B = \\operatorname{clip}\\big(2^{\\operatorname{round}(\\log_2(n/200))}, 32, 1024\\big),
        \\qquad
        S_n = S \\max\\big(1, \\sqrt{n / n_c}\\big),
        \\qquad
        E = \\operatorname{clip}\\big(\\lceil S_n / \\lceil n/B \\rceil \\rceil, 10, 200\\big)

    e.g. with the default :math:`S` = 8000: 5k events: B = 32, 157 steps per epoch,
    E = 51; 160k events: B = 1024, 157 steps per epoch, E = 51; 800k events:
    :math:`S_n` = 15,811, E = 21; 1.6M events: E = 15; 3.3M events and more: E = 10.
    Below :math:`n_c` the batch grows with the sample, so a fixed number of steps
    already covers more events on a larger sample; above it the batch is capped,
    and a fixed budget would fall to the 10-pass floor just where the sample could
    support a finer fit (``docs/training-policy.md``).  Early stopping still ends
    a training whose validation loss stops improving.
    """
    if batch_size is None:
        batch_size = int(min(BATCH_CAP, max(32, 2 ** round(math.log2(max(n_train, 1) / EVENTS_PER_BATCH)))))
    if epochs is None:
        per_epoch = max(1, math.ceil(n_train / batch_size))
        budget = steps * max(1.0, math.sqrt(n_train / (EVENTS_PER_BATCH * BATCH_CAP)))
        epochs = int(min(200, max(10, math.ceil(budget / per_epoch))))
    return epochs, batch_size


class Trainer:
    """Optimise a module on a weighted loss with early stopping and checkpoints.

    Parameters
    ----------
    epochs
        Maximum number of epochs; ``None`` plans them from ``steps`` (see Notes).
    batch_size
        Events per gradient step; ``None`` adapts it to the sample (see Notes).
    steps
        The budget of optimisation steps that ``epochs=None`` plans for.
    optimizer, schedule
        Optimiser and learning-rate schedule.
    l1, l2
        Penalties ``l1 * sum|W| + l2 * sum W^2`` over the weight matrices (not biases
        or normalisation parameters), added to the loss. L2 is a Gaussian prior on
        the weights, L1 a Laplace prior.
    grad_clip
        Clip the global gradient norm to this value.
    patience
        Stop when the monitored loss (validation, else training) has not improved
        by ``min_delta`` for this many epochs; 0 disables. The best weights are
        restored at the end in any case.
    device
        ``auto``, ``cpu``, ``cuda``...
    seed
        Seeds the batch order and dropout; a CPU run is bit-for-bit repeatable.
    checkpoint_dir
        Where ``last.safetensors`` (full state, every epoch) and
        ``best.safetensors`` (weights) are written; ``None`` disables.
    progress
        Show a progress bar with live losses.
    on_epoch
        Called after every epoch (once its checkpoint is written) with the epoch
        number and that epoch's ``train_loss``, ``val_loss`` (when validated) and
        ``lr``.  An exception raised by the hook stops the training and
        propagates (a hyper-parameter search raises ``optuna.TrialPruned`` here).

    Notes
    -----
    The default policy scales from a thousand events to tens of millions.  With
    :math:`n` training events, the batch size is the power of two nearest
    :math:`n / 200`, within :math:`[32, 1024]`, so small samples still take a few
    hundred steps per epoch and large ones fill the hardware; the epochs are
    :math:`\\lceil S / \\lceil n / B \\rceil \\rceil` for a budget of :math:`S` steps,
    within :math:`[10, 200]`, so the number of optimisation steps (what a network's
    fit depends on) rather than the number of passes is what stays fixed.  The schedule
    spans the planned epochs; early stopping may end them sooner and the best weights
    are restored (:func:`plan_training`).
    """

    def __init__(
        self,
        *,
        epochs: int | None = 50,
        batch_size: int | None = 1024,
        steps: int = DEFAULT_STEPS,
        optimizer: OptimizerSpec | None = None,
        schedule: ScheduleSpec | None = None,
        l1: float = 0.0,
        l2: float = 0.0,
        grad_clip: float | None = None,
        patience: int = 10,
        min_delta: float = 0.0,
        device: str = "auto",
        seed: int = 0,
        checkpoint_dir: str | Path | None = None,
        progress: bool = True,
        on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    ) -> None:
        if (epochs is not None and epochs < 1) or (batch_size is not None and batch_size < 1) or steps < 1:
            raise ConfigError(f"epochs, batch_size and steps must be positive (got {epochs}, {batch_size}, {steps})")
        self.epochs = epochs
        self.batch_size = batch_size
        self.steps = steps
        self.optimizer = optimizer or OptimizerSpec()
        self.schedule = schedule or ScheduleSpec()
        self.l1 = l1
        self.l2 = l2
        self.grad_clip = grad_clip
        self.patience = patience
        self.min_delta = min_delta
        self.device = select_device(device)
        self.seed = seed
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.progress = progress
        self.on_epoch = on_epoch

    # -- helpers ----------------------------------------------------------------------
    def _penalty(self, module: nn.Module) -> torch.Tensor | None:
        if not (self.l1 or self.l2):
            return None
        total: torch.Tensor | None = None
        for name, p in module.named_parameters():
            if p.ndim < 2 or not name.endswith("weight"):
                continue
            term = self.l1 * p.abs().sum() + self.l2 * (p * p).sum()
            total = term if total is None else total + term
        return total

    @torch.no_grad()
    def evaluate(
        self, module: nn.Module, loss_fn: LossFn, data: BatchSource, *, batch_size: int | None = None
    ) -> float:
        """Mean loss of ``module`` over ``data`` in evaluation mode, ``batch_size`` events
        per forward pass (default: the larger of the training batch and 8192)."""
        module.eval()
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        n = 0
        for x, y, w in data.batches(batch_size or max(self.batch_size or 0, 8192), shuffle=False, generator=None):
            total += loss_fn(forward(module, x), y, w).double() * len(y)
            n += len(y)
        return float(total) / max(n, 1)

    # -- the loop ---------------------------------------------------------------------
    def fit(
        self,
        module: nn.Module,
        loss_fn: LossFn,
        train: BatchSource,
        val: BatchSource | None = None,
        *,
        resume: bool = False,
        eval_batch_size: int | None = None,
    ) -> History:
        """Train ``module`` in place and return its history.

        Parameters
        ----------
        module
            The network (moved to the trainer's device).
        loss_fn
            ``loss_fn(outputs, targets, weights) -> scalar``.
        train, val
            Batch sources; the validation loss drives early stopping and ``plateau``.
        resume
            Continue from ``checkpoint_dir/last.safetensors``.
        eval_batch_size
            Events per forward pass of the validation loss (see :meth:`evaluate`);
            networks with large per-event activations pass a small one.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            return self._fit(module, loss_fn, train, val, resume=resume, eval_batch_size=eval_batch_size)

    def _fit(
        self,
        module: nn.Module,
        loss_fn: LossFn,
        train: BatchSource,
        val: BatchSource | None,
        *,
        resume: bool,
        eval_batch_size: int | None,
    ) -> History:
        module.to(self.device)
        epochs, batch_size = plan_training(len(train), epochs=self.epochs, batch_size=self.batch_size, steps=self.steps)
        steps = math.ceil(len(train) / batch_size)
        groups = getattr(module, "parameter_groups", None)
        opt = self.optimizer.build(groups(self.optimizer.lr) if callable(groups) else module.parameters())
        sched = self.schedule.build(opt, epochs=epochs, steps_per_epoch=steps)
        # the gradient norm is that of what this optimiser moves (not an adversary trained by its own)
        trained = [p for group in opt.param_groups for p in group["params"]]
        gen = torch.Generator().manual_seed(self.seed)
        cols: dict[str, list[float]] = {"epoch": [], "train_loss": [], "lr": [], "seconds": [], "step_seconds": []}
        if val is not None:
            cols["val_loss"] = []
        best_loss, best_epoch, bad_epochs = math.inf, 0, 0
        best_state: dict[str, torch.Tensor] = copy.deepcopy(module.state_dict())
        start_epoch = 1
        plan = {
            "optimizer": dataclasses.asdict(self.optimizer),
            "schedule": dataclasses.asdict(self.schedule),
            "epochs": epochs,
            "steps_per_epoch": steps,
        }
        if resume:
            state = self._load_last()
            configured = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
            try:
                module.load_state_dict(state["model"])
                opt.load_state_dict(state["optimizer"])
            except (RuntimeError, ValueError, KeyError) as exc:
                raise ModelError(
                    f"the checkpoint in {self.checkpoint_dir} was written by a different model than the one "
                    f"configured ({str(exc).splitlines()[0]}); start a new run instead of resuming"
                ) from exc
            if state.get("plan", plan) != plan:
                _follow_new_plan(
                    opt, configured, sched, self.schedule, epochs_done=state["epoch"], steps_per_epoch=steps
                )
            elif sched is not None and state.get("scheduler") is not None:
                sched.load_state_dict(state["scheduler"])
            gen.set_state(state["generator"])
            torch.set_rng_state(state["torch_rng"])
            cols = {k: list(v) for k, v in state["history"].items()}
            cols.setdefault("step_seconds", [math.nan] * len(cols["epoch"]))  # a checkpoint written before it was kept
            best_loss, best_epoch, bad_epochs = (
                state["best_loss"],
                state["best_epoch"],
                state["bad_epochs"],
            )
            best_state = state["best_model"]
            start_epoch = state["epoch"] + 1
        stopped = False
        progress = _Progress(self.progress, total=max(0, epochs - start_epoch + 1) * steps)
        with progress:
            for epoch in range(start_epoch, epochs + 1):
                if bad_epochs >= self.patience > 0:
                    stopped = True
                    break
                t0 = time.perf_counter()
                module.train()
                total = torch.zeros((), dtype=torch.float64, device=self.device)
                for i, (x, y, w) in enumerate(train.batches(batch_size, shuffle=True, generator=gen)):
                    opt.zero_grad(set_to_none=True)
                    loss = loss_fn(forward(module, x), y, w)
                    total += loss.detach().double() * len(y)
                    penalty = self._penalty(module)
                    if penalty is not None:
                        loss = loss + penalty
                    loss.backward()  # type: ignore[no-untyped-call]
                    if self.grad_clip:
                        nn.utils.clip_grad_norm_(trained, self.grad_clip)
                    opt.step()
                    if self.schedule.name == "onecycle":
                        sched.step()
                    if i % 16 == 15:
                        progress.advance(16, epoch, float(loss.detach()))
                progress.advance(steps % 16, epoch, None)
                train_loss = float(total) / len(train)
                cols["step_seconds"].append(time.perf_counter() - t0)
                if not math.isfinite(train_loss):
                    raise ModelError(
                        f"the training loss became {train_loss} in epoch {epoch}; lower the learning rate, "
                        "enable grad_clip, or check the inputs and weights"
                    )
                monitored = train_loss
                cols["epoch"].append(epoch)
                cols["train_loss"].append(train_loss)
                cols["lr"].append(opt.param_groups[0]["lr"])
                if val is not None:
                    monitored = self.evaluate(module, loss_fn, val, batch_size=eval_batch_size)
                    cols["val_loss"].append(monitored)
                if sched is not None and self.schedule.name == "plateau":
                    sched.step(monitored)
                elif sched is not None and self.schedule.name != "onecycle":
                    sched.step()
                cols["seconds"].append(time.perf_counter() - t0)
                if monitored < best_loss - self.min_delta:
                    best_loss, best_epoch, bad_epochs = monitored, epoch, 0
                    best_state = copy.deepcopy(module.state_dict())
                    if self.checkpoint_dir is not None:
                        save_state(
                            self.checkpoint_dir / "best.safetensors",
                            {"model": best_state, "epoch": epoch},
                        )
                else:
                    bad_epochs += 1
                progress.epoch_done(epoch, train_loss, cols.get("val_loss", [None])[-1])
                if self.checkpoint_dir is not None:
                    save_state(
                        self.checkpoint_dir / "last.safetensors",
                        {
                            "model": module.state_dict(),
                            "optimizer": opt.state_dict(),
                            "scheduler": sched.state_dict() if sched is not None else None,
                            "plan": plan,
                            "generator": gen.get_state(),
                            "torch_rng": torch.get_rng_state(),
                            "history": cols,
                            "best_loss": best_loss,
                            "best_epoch": best_epoch,
                            "bad_epochs": bad_epochs,
                            "best_model": best_state,
                            "epoch": epoch,
                        },
                    )
                if self.on_epoch is not None:
                    report: dict[str, float] = {k: cols[k][-1] for k in ("train_loss", "val_loss", "lr") if k in cols}
                    self.on_epoch(epoch, report)
        module.load_state_dict(best_state)
        return History(columns=cols, best_epoch=best_epoch, stopped_early=stopped)

    def _load_last(self) -> dict[str, Any]:
        if self.checkpoint_dir is None:
            raise ModelError("resume needs a checkpoint directory")
        path = self.checkpoint_dir / "last.safetensors"
        if not path.is_file():
            raise ModelError(f"cannot resume: no checkpoint at {path} (the run stopped before its first epoch ended)")
        return load_state(path)


def _follow_new_plan(
    opt: torch.optim.Optimizer,
    configured: list[dict[str, Any]],
    sched: Any,
    schedule: ScheduleSpec,
    *,
    epochs_done: int,
    steps_per_epoch: int,
) -> None:
    """On a resume with changed optimiser, schedule, epochs or batch size: follow the new configuration.

    The optimiser keeps its moments (loaded from the checkpoint) but takes the
    configured hyper-parameters (learning rate, weight decay, momentum), and the
    freshly built schedule is advanced to where the run stands, as if it had been
    configured so from the start: a cosine over more epochs goes on decaying
    instead of rising again.  ``plateau`` starts afresh from the configured rate.
    """
    for group, values in zip(opt.param_groups, configured, strict=True):
        group.update(values)
    if sched is None or schedule.name == "plateau":
        return
    # onecycle is stepped per batch (up to its end), the others per epoch
    calls = min(epochs_done * steps_per_epoch, sched.total_steps - 1) if schedule.name == "onecycle" else epochs_done
    with warnings.catch_warnings():
        # the schedule is replayed without optimiser steps, which torch would warn about
        warnings.filterwarnings("ignore", message="Detected call of", category=UserWarning)
        for _ in range(calls):
            sched.step()


class _Progress:
    """A rich progress bar with live losses; silent when disabled."""

    def __init__(self, enabled: bool, *, total: int) -> None:
        self.enabled = enabled
        self.total = total
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]epoch {task.fields[epoch]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("{task.fields[info]}"),
                TimeRemainingColumn(),
                transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("train", total=self.total, epoch=1, loss="-", info="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def advance(self, n: int, epoch: int, loss: float | None) -> None:
        if self._bar is not None:
            fields: dict[str, Any] = {"epoch": epoch}
            if loss is not None:
                fields["loss"] = f"{loss:.4f}"
            self._bar.update(self._task, advance=n, **fields)

    def epoch_done(self, epoch: int, train_loss: float, val_loss: float | None) -> None:
        if self._bar is not None:
            info = f"train {train_loss:.4f}" + (f" val {val_loss:.4f}" if val_loss is not None else "")
            self._bar.update(self._task, info=f"[{info}]")
