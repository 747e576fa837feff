"""``neyman.train``: from a configuration to a complete run directory."""

from __future__ import annotations

import contextlib
import csv
import io as _stdio
import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import neyman
from neyman import io
from neyman._atomic import write_json, write_text
from neyman.config import RunConfig, dump_config, load_config, parse_config, validate_paths
from neyman.config.schema import NEURAL_MODELS
from neyman.config.tuning import TrackingConfig
from neyman.exceptions import ConfigError, RunDirectoryError
from neyman.models import Arrays, Model, model_class
from neyman.preprocessing import (
    TEST,
    TRAIN,
    VAL,
    assign_folds,
    assign_splits,
    balance_classes,
    check_finite,
    check_split_classes,
    split_train_val,
)
from neyman.representations import build_inputs
from neyman.table import EVENT_ID, FOLD, LABEL, SPLIT, TARGET, WEIGHT, Table
from neyman.tasks import Task, make_task
from neyman.workflows.artifacts import model_dirs
from neyman.workflows.data import SOURCE, Events, load_events
from neyman.workflows.evaluation import (
    SPLIT_NAMES,
    as_jsonable,
    fold_summary,
    headline_metrics,
    write_core_plots,
)
from neyman.workflows.inputs import (
    InputPreprocessor,
    ModelInput,
    as_model_input,
    input_preprocessor,
    input_size,
    preprocessor_from_json,
    representation_json,
    representation_spec,
)
from neyman.workflows.rundir import RunDirectory

__all__ = ["RunResult", "resolve_config", "train"]


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


def resolve_config(
    config: RunConfig | Mapping[str, Any] | str | os.PathLike[str], overrides: Iterable[str] = ()
) -> RunConfig:
    """Accept a config object, a mapping or a YAML path; apply overrides."""
    if isinstance(config, RunConfig):
        if overrides:
            from neyman.config import apply_overrides

            return parse_config(apply_overrides(config.model_dump(mode="json"), overrides))
        return config
    if isinstance(config, Mapping):
        from neyman.config import apply_overrides

        return parse_config(apply_overrides(dict(config), overrides))
    return load_config(config, overrides)


def _default_name(config: RunConfig) -> str:
    return f"{config.model.type}-{config.task.type}"


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {
        "neyman": neyman.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    for dist in (
        "torch",
        "xgboost",
        "xgboost-cpu",
        "lightgbm",
        "scikit-learn",
        "uproot",
        "pyarrow",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    return out


EpochCallback = Callable[[int, dict[str, float]], None]


def _make_model(
    config: RunConfig, task: Task, n_features: int, checkpoint_dir: Path, *, on_epoch: EpochCallback | None = None
) -> Model:
    params = config.model.model_dump()
    family = params.pop("type")
    klass = model_class(family)
    if family == "cnn":
        params["image_size"] = config.data.image.size
    if family in NEURAL_MODELS:
        from neyman.training import OptimizerSpec, ScheduleSpec, Trainer, configure_threads

        t = config.training
        configure_threads(t.threads)
        trainer = Trainer(
            epochs=t.epochs,
            batch_size=t.batch_size,
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
        return klass(task, n_features, seed=config.seed, trainer=trainer, **params)
    return klass(task, n_features, seed=config.seed, **params)


def _history_rows(history: Any) -> dict[str, list[float]] | None:
    if history is None:
        return None
    cols = history.columns if hasattr(history, "columns") else history
    return {k: list(v) for k, v in cols.items()} if cols else None


def _write_history(path: Path, histories: list[dict[str, list[float]] | None]) -> None:
    rows: list[dict[str, Any]] = []
    for fold, h in enumerate(histories):
        if not h:
            continue
        n = max(len(v) for v in h.values())
        for i in range(n):
            row: dict[str, Any] = {"fold": fold} if len(histories) > 1 else {}
            row.update({k: v[i] for k, v in h.items() if i < len(v)})
            if "epoch" not in row:
                row = {"iteration": i + 1, **row}
            rows.append(row)
    if not rows:
        return
    fields = list(dict.fromkeys(k for r in rows for k in r))
    buf = _stdio.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buf.getvalue())


class _Training:
    """One run: data → splits → (per fold) preprocessing + model → artefacts."""

    def __init__(self, config: RunConfig, run: RunDirectory, events: Events, x: ModelInput, *, resume: bool) -> None:
        self.config = config
        self.run = run
        self.events = events
        self.x = x
        self.resume = resume
        self.epoch_callback: EpochCallback | None = None

    def _arrays(
        self,
        x: ModelInput,
        events: Table,
        sel: np.ndarray,
        task: Task,
        n_classes: int,
        balance: bool,
    ) -> Arrays:
        y = np.asarray(events[LABEL] if task.is_classification else events[TARGET])[sel]
        w = np.asarray(events[WEIGHT], dtype=np.float64)[sel]
        if balance and task.is_classification and len(y):
            w = balance_classes(y, w, n_classes=n_classes)
        return Arrays(x=x[sel], y=y, w=w)

    def _fit_fold(
        self,
        fold: int,
        x: ModelInput,
        events: Events,
        task: Task,
        codes: np.ndarray,
        model_dir: Path,
    ) -> tuple[Model, InputPreprocessor, np.ndarray]:
        cfg = self.config
        table = events.table
        train_sel, val_sel = codes == TRAIN, codes == VAL
        n_cls = len(events.classes)
        xs: ModelInput | None = None
        if self.resume and (model_dir / "model.json").is_file():
            model = Model.load(model_dir)
            prep = preprocessor_from_json(self._saved_preprocessing[fold])
        else:
            prep = input_preprocessor(cfg, events.features)
            w_train = np.asarray(table[WEIGHT], dtype=np.float64)[train_sel]
            prep.fit(x[train_sel], sample_weight=w_train)
            xs = as_model_input(prep.transform(x))
            balance = cfg.task.balance_classes
            train_arr = self._arrays(xs, table, train_sel, task, n_cls, balance)
            val_arr = self._arrays(xs, table, val_sel, task, n_cls, balance)
            ckdir = self.run.checkpoints / (f"fold_{fold}" if cfg.split.kfold >= 2 else "")
            model = _make_model(cfg, task, input_size(xs), ckdir, on_epoch=self.epoch_callback)
            has_checkpoint = (ckdir / "last.safetensors").is_file()
            if cfg.model.type in NEURAL_MODELS:
                model.fit(train_arr, val_arr, resume=self.resume and has_checkpoint)  # type: ignore[call-arg]
            else:
                model.fit(train_arr, val_arr)
            model.save(model_dir)
        if xs is None:
            xs = as_model_input(prep.transform(x))
        scores = model.predict(xs)
        return model, prep, scores

    def execute(self) -> dict[str, Any]:
        cfg = self.config
        t0 = time.perf_counter()
        events = self.events
        task = make_task(cfg.task.type, n_classes=max(len(events.classes), 2))
        table = events.table
        x = self.x
        self._saved_preprocessing: list[dict[str, Any]] = []
        if self.resume and self.run.preprocessing.is_file():
            import json

            self._saved_preprocessing = json.loads(self.run.preprocessing.read_text())["folds"]
        eid = np.asarray(table[EVENT_ID])
        k = cfg.split.kfold
        n = len(table)
        split_codes = np.empty(n, dtype=np.int8)
        fold_col = np.full(n, -1, dtype=np.int64)
        scores: np.ndarray | None = None
        models: list[Model] = []
        preps: list[InputPreprocessor] = []
        histories: list[dict[str, list[float]] | None] = []
        fold_metrics: list[dict[str, float]] = []
        dirs = model_dirs(self.run, k)
        truth = np.asarray(table[LABEL] if task.is_classification else table[TARGET])
        weights = np.asarray(table[WEIGHT], dtype=np.float64)
        if k >= 2:
            folds = assign_folds(eid, k)
            fold_col = folds
            split_codes[:] = TEST  # every event's score is out-of-fold
            val_fraction = cfg.split.val / (cfg.split.train + cfg.split.val)
            for f in range(k):
                codes = split_train_val(n, val_fraction, seed=cfg.seed, stream=f"fold-{f}")
                codes[folds == f] = TEST
                model, prep, s = self._fit_fold(f, x, events, task, codes, dirs[f])
                if scores is None:
                    scores = np.empty((n, *s.shape[1:]))
                scores[folds == f] = s[folds == f]
                models.append(model)
                preps.append(prep)
                histories.append(_history_rows(model.history))
                sel = folds == f
                fold_metrics.append(headline_metrics(task, s[sel], truth[sel], weights[sel], classes=events.classes))
        else:
            split_codes = assign_splits(
                eid,
                method=cfg.split.method,
                train=cfg.split.train,
                val=cfg.split.val,
                test=cfg.split.test,
                seed=cfg.seed,
            )
            model, prep, scores = self._fit_fold(0, x, events, task, split_codes, dirs[0])
            models.append(model)
            preps.append(prep)
            histories.append(_history_rows(model.history))
        assert scores is not None
        train_seconds = time.perf_counter() - t0

        # -- artefacts ------------------------------------------------------------------
        self._write_model_files(task, events.features, events.classes, preps, histories)
        pred_cols: dict[str, Any] = {
            EVENT_ID: eid,
            SPLIT: split_codes,
            FOLD: fold_col,
            SOURCE: np.asarray(table[SOURCE]),
            LABEL if task.is_classification else TARGET: truth,
            WEIGHT: weights,
        }
        pred_cols.update(self._score_columns(task, events.classes, scores))
        io.write(Table(pred_cols), self.run.predictions)
        return self._summarise(
            task,
            events.features,
            events.classes,
            scores,
            truth,
            weights,
            split_codes,
            histories=histories,
            fold_metrics=fold_metrics,
            train_seconds=train_seconds,
        )

    def _write_model_files(
        self,
        task: Task,
        features: list[str],
        classes: list[str],
        preps: list[InputPreprocessor],
        histories: list[dict[str, list[float]] | None],
    ) -> None:
        """preprocessing.json, model/metadata.json and history.csv."""
        cfg = self.config
        write_json(self.run.preprocessing, {"folds": [p.to_json() for p in preps]})
        write_json(
            self.run.metadata,
            {
                "neyman_version": neyman.__version__,
                "task": task.name,
                "family": cfg.model.type,
                "features": features,
                "representation": representation_json(representation_spec(cfg)),
                "classes": classes,
                "target": cfg.data.target,
                "kfold": cfg.split.kfold,
                "event_id_column": cfg.data.event_id,
                "fill_value": cfg.data.fill_value,
                "score_names": self._score_names(task, classes),
                "versions": _versions(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )
        _write_history(self.run.history, histories)

    def _score_columns(self, task: Task, classes: list[str], scores: np.ndarray) -> dict[str, np.ndarray]:
        """Named score columns (plus the multi-class discriminant when configured)."""
        score_2d = scores.reshape(len(scores), -1)
        cols = {name: score_2d[:, j] for j, name in enumerate(self._score_names(task, classes))}
        disc = self._discriminant(scores, classes)
        if disc is not None:
            cols["discriminant"] = disc
        return cols

    def _summarise(
        self,
        task: Task,
        features: list[str],
        classes: list[str],
        scores: np.ndarray,
        truth: np.ndarray,
        weights: np.ndarray,
        split_codes: np.ndarray,
        *,
        histories: list[dict[str, list[float]] | None],
        fold_metrics: list[dict[str, float]],
        train_seconds: float,
    ) -> dict[str, Any]:
        """Compute the metrics, write metrics.json and the core plots."""
        result: dict[str, Any] = {"task": task.name, "model": self.config.model.type, "features": features}
        if classes:
            result["classes"] = classes
        for code, split_name in enumerate(SPLIT_NAMES):
            sel = split_codes == code
            if sel.any():
                result[split_name] = headline_metrics(task, scores[sel], truth[sel], weights[sel], classes=classes)
        disc = self._discriminant(scores, classes)
        if disc is not None:
            result["discriminant"] = self._discriminant_metrics(disc, truth, weights, split_codes, classes)
        if fold_metrics:
            result["folds"] = fold_metrics
            result["folds_summary"] = fold_summary(fold_metrics)
        if task.name == "binary" and "test" in result:
            result["overtraining"] = self._overtraining(scores, truth, weights, split_codes)
        result["training_seconds"] = train_seconds
        result["n_events"] = len(truth)
        write_json(self.run.metrics, as_jsonable(result))
        write_core_plots(
            self.run.plots,
            task=task,
            classes=classes,
            scores=scores,
            truth=truth,
            weights=weights,
            split=split_codes,
            history=histories[0],
        )
        return result

    def _discriminant(self, scores: np.ndarray, classes: list[str]) -> np.ndarray | None:
        spec = self.config.task.discriminant
        if spec is None or self.config.task.type != "multiclass":
            return None
        from neyman import metrics

        index = {c: i for i, c in enumerate(classes)}
        unknown = [c for c in [spec.signal, *spec.backgrounds] if c not in index]
        if unknown:
            raise ConfigError(f"task.discriminant names unknown class(es) {unknown}; classes are {classes}")
        return metrics.multiclass_discriminant(
            scores,
            signal=index[spec.signal],
            backgrounds={index[c]: f for c, f in spec.backgrounds.items()},
        )

    def _discriminant_metrics(
        self,
        disc: np.ndarray,
        truth: np.ndarray,
        weights: np.ndarray,
        split: np.ndarray,
        classes: list[str],
    ) -> dict[str, float]:
        """AUC of the discriminant: signal class against the weighted background mixture (test split)."""
        from neyman import metrics

        spec = self.config.task.discriminant
        assert spec is not None
        sig = classes.index(spec.signal)
        out: dict[str, float] = {}
        test = split == TEST
        for name, frac in spec.backgrounds.items():
            b = classes.index(name)
            sel = test & ((truth == sig) | (truth == b))
            if sel.any() and frac > 0:
                out[f"auc_{spec.signal}_vs_{name}"] = metrics.roc_auc(
                    disc[sel], (truth[sel] == sig).astype(np.int64), sample_weight=weights[sel]
                )
        return out

    @staticmethod
    def _score_names(task: Task, classes: list[str]) -> list[str]:
        return [f"score_{c}" for c in classes] if task.name == "multiclass" else task.score_names()

    @staticmethod
    def _overtraining(
        scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, split: np.ndarray
    ) -> dict[str, float]:
        """Train-vs-test AUC difference (a quick overtraining indicator)."""
        from neyman import metrics

        out: dict[str, float] = {}
        for name, code in (("train", TRAIN), ("test", TEST)):
            sel = split == code
            if sel.any() and len(np.unique(truth[sel])) == 2:
                out[f"auc_{name}"] = metrics.roc_auc(scores[sel], truth[sel], sample_weight=weights[sel])
        if len(out) == 2:
            out["auc_train_minus_test"] = out["auc_train"] - out["auc_test"]
        return out


def _inputs(cfg: RunConfig) -> tuple[Events, Any]:
    """Read the events and their model inputs (matrix with the NaN/inf policy, particle sets or images)."""
    spec = representation_spec(cfg)
    if spec is None:
        events = load_events(cfg.data, task=cfg.task.type)
        matrix = check_finite(
            events.table.to_numpy(events.features, dtype=np.float64),
            events.features,
            fill_value=cfg.data.fill_value,
            source=", ".join(s.path for s in cfg.data.sources),
        )
        return events, matrix
    events = load_events(cfg.data, task=cfg.task.type, features=[], carry=spec.columns)
    x = build_inputs(events.table, spec)
    # the jagged constituents are in x now; the table keeps the per-event columns only
    return Events(events.table.drop(spec.columns), [], events.classes), x


def _prepare(cfg: RunConfig) -> Any:
    """Read and check the inputs (all events, or only their layout when streaming)."""
    if cfg.data.streaming:
        from neyman.workflows.streaming import check_streaming_inputs

        return check_streaming_inputs(cfg)
    events, x = _inputs(cfg)
    _check_split(cfg, events)
    return events, x


def _check_split(cfg: RunConfig, events: Events) -> None:
    """Refuse a split by event number (parity, k-fold) that leaves a class out of a part."""
    if cfg.task.type in ("binary", "multiclass"):
        eid, labels = np.asarray(events.table[EVENT_ID]), np.asarray(events.table[LABEL])
        check_split_classes(eid, labels, events.classes, method=cfg.split.method, kfold=cfg.split.kfold)


def _runner(cfg: RunConfig, run: RunDirectory, prepared: Any, *, resume: bool) -> _Training:
    if cfg.data.streaming:
        from neyman.workflows.streaming import StreamingTraining

        return StreamingTraining(cfg, run, prepared, resume=resume)
    events, x = prepared
    return _Training(cfg, run, events, x, resume=resume)


def _tracked(cfg: RunConfig, track: bool) -> tuple[RunConfig, Any]:
    """Open the tracking store before anything is written, so a bad store fails first."""
    if cfg.tracking is None and not track:
        return cfg, None
    from neyman.workflows.tracking import open_tracker

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
        runner = _runner(cfg, run, prepared, resume=resume is not None)
        runner.epoch_callback = epoch_callback
        result = runner.execute()
    except BaseException as exc:
        run.set_status("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    run.set_status("complete")
    run = run.commit(final)
    if tracker is not None:
        from neyman.workflows.tracking import log_training

        log_training(tracker, cfg, run.path)
    return RunResult(run_dir=run.path, metrics=result, config=cfg, seconds=time.perf_counter() - t0)
