"""Training on events held in memory: per fold, fit the preprocessing and the model, score every event."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.atomic import atomic_path, write_json
from neyman.config import RunConfig
from neyman.exceptions import DataError, NeymanWarning, RunDirectoryError
from neyman.models import Arrays, Model
from neyman.models.families import SMALL_SAMPLE, get_family
from neyman.preprocessing import TEST, TRAIN, VAL, planing_weights, unit_mean_weights
from neyman.representations import ParticleArrays
from neyman.runs import (
    InputPreprocessor,
    ModelInput,
    RunDirectory,
    as_model_input,
    feature_ranges,
    input_size,
    model_dirs,
    preprocessor_from_json,
)
from neyman.table import EVENT_ID, FOLD, SPLIT, WEIGHT, Table
from neyman.tasks import Task, make_task
from neyman.training import OutOfFold, cross_val_predict
from neyman.workflows.steps.artefacts import Fitted, score_columns
from neyman.workflows.steps.data import SOURCE, Events, held_out
from neyman.workflows.steps.inputs import input_preprocessor
from neyman.workflows.steps.models import EpochCallback, make_model

__all__ = ["fit_in_memory"]


@dataclass
class _Folds:
    """What each fold's fit produced (filled as the folds are fitted)."""

    models: list[Model] = field(default_factory=list)
    preprocessors: list[InputPreprocessor] = field(default_factory=list)
    histories: list[Mapping[str, Sequence[float]] | None] = field(default_factory=list)


def _history(model: Model) -> dict[str, list[float]] | None:
    history = model.history
    if history is None:
        return None
    cols = history.columns if hasattr(history, "columns") else history
    return {k: list(v) for k, v in cols.items()} if cols else None


def _learned(task: Task, table: Table, codes: np.ndarray, code: int) -> np.ndarray:
    """The events of split ``code`` that the model learns from (:meth:`~neyman.tasks.Task.learns_from`)."""
    return np.asarray((codes == code) & task.learns_from(np.asarray(table[task.truth_column])))


def _trained_on(oof: OutOfFold) -> np.ndarray:
    """The events some model trained on: all but the test split, and every event of a k-fold run (each is
    scored out of fold, hence marked test, and trained the other folds' models)."""
    return np.ones(len(oof.split), dtype=bool) if oof.kfold >= 2 else oof.split != TEST


def _arrays(cfg: RunConfig, task: Task, x: ModelInput, table: Table, sel: np.ndarray, part: str) -> Arrays:
    """One split's model inputs, targets and training weights (classes balanced, planed when asked).

    ``part`` names the events (e.g. "the training events of fold 2") in an error about their weights.
    """
    y = np.asarray(table[task.truth_column])[sel]
    w = np.asarray(table[WEIGHT], dtype=np.float64)[sel]
    deco = cfg.training.decorrelate
    z = None if deco is None else np.asarray(table[deco.variable], dtype=np.float64)[sel]
    try:
        if deco is not None and z is not None and deco.method == "planing" and len(y):
            w = planing_weights(z, y, w, bins=deco.resolved_bins())
        w = task.training_weights(y, w, balance=cfg.task.balance_classes)
    except DataError as exc:  # the file's sums were checked: a split's own may still fail
        raise DataError(f"{part} ({len(y)} events after the split): {exc}") from exc
    return Arrays(x=x[sel], y=y, w=unit_mean_weights(w), z=z)


CHOSEN_SCORES = "refit/validation_scores.safetensors"
"""Validation scores of the fit whose budget a refit reused (relative to a fold's checkpoints)."""
CHOSEN_HISTORY = "refit/history.json"
"""That fit's per-epoch history, shown in ``history.csv`` (relative to a fold's checkpoints)."""
FOLD_PREPROCESSING = "preprocessing.json"
"""A finished fold's fitted preprocessing (relative to its checkpoints), read back on resume."""
FOLD_HISTORY = "history.json"
"""A finished fold's per-epoch history (relative to its checkpoints): a loaded model has none."""


def _save_chosen(ckdir: Path, scores: np.ndarray, history: Mapping[str, Sequence[float]] | None) -> None:
    from safetensors.numpy import save_file

    with atomic_path(ckdir / CHOSEN_HISTORY) as tmp:
        tmp.write_text(json.dumps(history))
    with atomic_path(ckdir / CHOSEN_SCORES) as tmp:  # last: its presence means both are complete
        save_file({"scores": np.ascontiguousarray(scores)}, str(tmp))


def _chosen(ckdir: Path, n_events: int) -> tuple[np.ndarray, dict[str, list[float]] | None] | None:
    """The saved validation scores and history of a refitted fold (``None`` when it was not refitted)."""
    from safetensors.numpy import load_file

    path = ckdir / CHOSEN_SCORES
    if not path.is_file():
        return None
    scores = load_file(str(path))["scores"]
    if len(scores) != n_events:
        raise RunDirectoryError(
            f"{path} holds {len(scores)} validation scores for {n_events} validation events; start the run again"
        )
    return np.asarray(scores), json.loads((ckdir / CHOSEN_HISTORY).read_text())


def _with_settings(cfg: RunConfig, settings: Mapping[str, Mapping[str, Any]]) -> RunConfig:
    """``cfg`` with ``settings`` merged into its sections (nested mappings merge key by key)."""

    def merge(into: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
        for key, value in update.items():
            if isinstance(value, Mapping) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value
        return into

    return RunConfig.model_validate(merge(cfg.model_dump(), settings))


@dataclass(frozen=True)
class _FoldFitter:
    """Fits one fold: preprocessing on its training events, then the model (or loads a finished fold)."""

    cfg: RunConfig
    run: RunDirectory
    events: Events
    x: ModelInput
    task: Task
    resume: bool
    on_epoch: EpochCallback | None
    saved_preprocessing: list[dict[str, Any]]
    out: _Folds

    def __call__(self, fold: int, codes: np.ndarray) -> np.ndarray:
        cfg, table = self.cfg, self.events.table
        model_dir = model_dirs(self.run, cfg.split.kfold)[fold]
        ckdir = self.run.checkpoints / (f"fold_{fold}" if cfg.split.kfold >= 2 else "")
        held = codes == VAL
        if self.resume and (model_dir / "model.json").is_file():
            model = Model.load(model_dir)
            prep = preprocessor_from_json(self._finished_preprocessing(fold, ckdir))
            xs = as_model_input(prep.transform(self.x))
            scores = model.predict(xs)
            history = _history(model)
            if history is None and (ckdir / FOLD_HISTORY).is_file():  # a fold that finished before the interrupt
                history = json.loads((ckdir / FOLD_HISTORY).read_text())
            chosen = _chosen(ckdir, int(held.sum()))
            if chosen is not None:  # a refitted fold: validation scores and history of the choosing fit
                scores[held], history = chosen
        else:
            prep = input_preprocessor(cfg, self.events.features)
            fit_on = _learned(self.task, table, codes, TRAIN)
            prep.fit(self.x[fit_on], sample_weight=np.asarray(table[WEIGHT], dtype=np.float64)[fit_on])
            xs = as_model_input(prep.transform(self.x))
            where = f" of fold {fold}" if cfg.split.kfold >= 2 else ""
            train = _arrays(cfg, self.task, xs, table, fit_on, f"the training events{where}")
            val_on = _learned(self.task, table, codes, VAL)
            val = _arrays(cfg, self.task, xs, table, val_on, f"the validation events{where}")
            model = self._fit(cfg, ckdir, xs, train, val, n_train=len(train), on_epoch=self.on_epoch)
            history = _history(model)  # the chosen fit's, with its validation curve
            again = self._refit(model, ckdir, xs, train, val, fit_on | val_on)
            if again is None:
                scores = model.predict(xs)
            else:
                # validation stays out of sample: its events keep the scores of the fit that chose the budget
                chosen_scores = model.predict(xs[held])
                _save_chosen(ckdir, chosen_scores, history)
                model = again
                scores = model.predict(xs)
                scores[held] = chosen_scores
            model.save(model_dir)
            write_json(ckdir / FOLD_HISTORY, history)
            write_json(ckdir / FOLD_PREPROCESSING, prep.to_json())  # a resumed k-fold run reloads finished folds
        self.out.models.append(model)
        self.out.preprocessors.append(prep)
        self.out.histories.append(history)
        return np.asarray(scores)

    def _finished_preprocessing(self, fold: int, ckdir: Path) -> dict[str, Any]:
        """The fitted preprocessing of a fold that finished before the run was interrupted."""
        if fold < len(self.saved_preprocessing):
            return self.saved_preprocessing[fold]
        kept = ckdir / FOLD_PREPROCESSING
        if not kept.is_file():
            raise RunDirectoryError(
                f"cannot resume {self.run.path}: fold {fold} finished, but its preprocessing was not kept "
                f"({kept} is missing); start the run again with --force"
            )
        return dict(json.loads(kept.read_text()))

    def _fit(
        self,
        cfg: RunConfig,
        ckdir: Path,
        xs: ModelInput,
        train: Arrays,
        val: Arrays | None,
        *,
        n_train: int,
        on_epoch: EpochCallback | None,
    ) -> Model:
        """A model of ``cfg`` (sized for ``n_train`` events) fitted on ``train``, early-stopped on ``val``."""
        model = make_model(
            cfg,
            self.task,
            input_size(xs),
            ckdir,
            n_train=n_train,
            on_epoch=on_epoch,
            features=self.events.features,
        )
        if model.is_neural:
            resume = self.resume and any(ckdir.glob("**/last.safetensors"))  # a network, or ensemble members
            model.fit(train, val, resume=resume)  # type: ignore[call-arg]
        else:
            model.fit(train, val)
        return model

    def _refit(
        self, model: Model, ckdir: Path, xs: ModelInput, train: Arrays, val: Arrays, both: np.ndarray
    ) -> Model | None:
        """The model trained again on training + validation events, when the policy asks for it.

        ``training.refit`` decides; left unset, samples below ``SMALL_SAMPLE``
        training events are refitted (the family's
        :meth:`~neyman.models.Model.refit_settings` fix the budget).
        """
        cfg = self.cfg
        wanted = cfg.training.refit if cfg.training.refit is not None else len(train) < SMALL_SAMPLE
        if not wanted or not len(val):
            return None
        settings = model.refit_settings((len(train) + len(val)) / len(train))
        if settings is None:
            return None
        again = _with_settings(cfg, settings)
        everything = _arrays(again, self.task, xs, self.events.table, both, "the training and validation events")
        # the epochs reported to a caller (a tuning trial's pruner) are the chosen fit's alone
        return self._fit(again, ckdir / "refit", xs, everything, None, n_train=len(train), on_epoch=None)


def fit_in_memory(
    cfg: RunConfig,
    run: RunDirectory,
    events: Events,
    x: ModelInput,
    *,
    resume: bool,
    on_epoch: EpochCallback | None = None,
) -> Fitted:
    """Fit every fold (or the one split), write ``predictions.parquet`` and return the fit.

    Every event is scored by a model that did not train on it when k-fold is
    configured (:func:`neyman.training.cross_val_predict`); without k-fold the
    one model scores the training, validation and test splits.  With ``resume``,
    folds whose model is saved are loaded, and a network continues from its last
    checkpoint.
    """
    t0 = time.perf_counter()
    table = events.table
    task = make_task(cfg.task.type, n_classes=max(len(events.classes), 2))
    _warn_rare_class(cfg, task, events)
    saved: list[dict[str, Any]] = []
    if resume and run.preprocessing.is_file():
        saved = json.loads(run.preprocessing.read_text())["folds"]
    folds = _Folds()
    fitter = _FoldFitter(cfg, run, events, x, task, resume, on_epoch, saved, folds)
    eid = np.asarray(table[EVENT_ID])
    s = cfg.split
    oof = cross_val_predict(
        fitter,
        eid,
        kfold=s.kfold,
        method=s.method,
        train=s.train,
        val=s.val,
        test=s.test,
        seed=cfg.seed,
        held_out=held_out(cfg, table),
    )
    train_seconds = time.perf_counter() - t0
    truth = np.asarray(table[task.truth_column])
    weights = np.asarray(table[WEIGHT], dtype=np.float64)
    fold_metrics = [
        task.headline_metrics(oof.scores[sel], truth[sel], weights[sel], classes=events.classes)
        for sel in oof.fold_events()
    ]
    columns: dict[str, Any] = {
        EVENT_ID: eid,
        SPLIT: oof.split,
        FOLD: oof.fold,
        SOURCE: np.asarray(table[SOURCE]),
        task.truth_column: truth,
        WEIGHT: weights,
    }
    columns.update(score_columns(cfg, task, events.classes, oof.scores))
    if cfg.training.decorrelate is not None:  # its sculpting is evaluated from the predictions
        columns[cfg.training.decorrelate.variable] = np.asarray(table[cfg.training.decorrelate.variable])
    io.write(Table(columns), run.predictions)
    return Fitted(
        task=task,
        features=events.features,
        classes=events.classes,
        preprocessors=folds.preprocessors,
        histories=folds.histories,
        scores=oof.scores,
        truth=truth,
        weights=weights,
        split=oof.split,
        fold_metrics=fold_metrics,
        train_seconds=train_seconds,
        ranges=_ranges(x[_trained_on(oof)], events.features, getattr(cfg.model, "condition", ())),
    )


RARE_CLASS_RATIO = 20.0
"""Events of the commonest class per event of the rarest above which balancing trees is warned about."""


def _warn_rare_class(cfg: RunConfig, task: Task, events: Events) -> None:
    """Warn where balancing the classes makes each event of a rare class weigh as many of the others, for trees.

    Balancing changes the prior, not the ranking of a calibrated score (binary), but boosted
    trees then fit single heavy events: on 0.1 % signal the default XGBoost's AUC was 0.05
    below the same training without balancing (``docs/training-policy.md``).
    """
    if not (cfg.task.balance_classes and task.n_classes and get_family(cfg.model.type).export == "trees"):
        return
    labels = np.asarray(events.table[task.truth_column])
    test = held_out(cfg, events.table)  # an external test file's events are not trained on
    counts = np.bincount(labels if test is None else labels[~test], minlength=len(events.classes))
    if counts.min() == 0 or counts.max() < RARE_CLASS_RATIO * counts.min():
        return
    rare, common = int(np.argmin(counts)), int(np.argmax(counts))
    share, ratio = 100 * counts[rare] / counts.sum(), counts[common] / counts[rare]
    warnings.warn(
        f"class {events.classes[rare]!r} holds {counts[rare]} of the {counts.sum()} events of the training files "
        f"({share:.2g}%): "
        f"balancing the classes (task.balance_classes, the default) weighs each of its events as {ratio:.0f} "
        f"{events.classes[common]!r} events, and {cfg.model.type}'s trees then fit single events; --set "
        "task.balance_classes=false trains at the file's class mix, with less variance (a binary score ranks events "
        "the same either way; the scores are then probabilities at that mix)",
        NeymanWarning,
        stacklevel=2,
    )


def _ranges(x: ModelInput, features: list[str], condition: Sequence[str] = ()) -> dict[str, list[float]]:
    """The trained-on events' range of each feature, of a particle set's jet pT and multiplicity, or of the
    image total an image generator is conditioned on (named ``condition``)."""
    if isinstance(x, np.ndarray) and x.ndim == 4:
        totals = x.reshape(len(x), -1).sum(axis=1, dtype=np.float64)[:, None]
        return feature_ranges(totals, list(condition)[:1]) if condition else {}
    if isinstance(x, np.ndarray):
        return feature_ranges(x, features)
    if isinstance(x, ParticleArrays):
        return feature_ranges(x.summaries(), list(ParticleArrays.SUMMARIES))
    return {}
