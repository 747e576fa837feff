"""The one interface every model family implements."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ValidationError

from neyman.atomic import changed_files, file_sha256, write_json
from neyman.exceptions import ConfigError, DataError, ModelError, close_matches
from neyman.models.families import Family, FamilyParams, get_family
from neyman.representations.particles import ParticleArrays
from neyman.tasks import Task, make_task

__all__ = ["MODEL_FILE", "Arrays", "Model", "model_class"]

MODEL_FILE = "model.json"


@dataclass(frozen=True)
class Arrays:
    """Preprocessed inputs of one split.

    Attributes
    ----------
    x
        Inputs: features ``(n_events, n_features)`` float32, images
        ``(n_events, channels, height, width)`` or particle sets
        (:class:`~neyman.representations.ParticleArrays`).
    y
        Class indices (int64) or regression targets (float64), ``(n_events,)``.
    w
        Event weights, ``(n_events,)``; may be negative.
    z
        The variable a tagger is decorrelated from (``training.decorrelate``),
        ``(n_events,)``, or None.
    """

    x: np.ndarray | ParticleArrays
    y: np.ndarray
    w: np.ndarray
    z: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not len(self.x) == len(self.y) == len(self.w):
            raise DataError(
                f"features, targets and weights differ in length ({len(self.x)}, {len(self.y)}, {len(self.w)})"
            )
        if self.z is not None and len(self.z) != len(self.y):
            raise DataError(f"the decorrelation variable has {len(self.z)} values for {len(self.y)} events")

    def __len__(self) -> int:
        return len(self.x)


class Model(ABC):
    """A trainable, savable model of one family.

    A concrete subclass names its :attr:`family`; the family's declaration in
    :mod:`neyman.models.families` gives the class its :attr:`params_class`,
    :attr:`representation`, :attr:`is_neural` and :attr:`export_kind`.  Subclasses
    implement :meth:`fit`, :meth:`predict_raw`, :meth:`_save_weights` and
    :meth:`_load_weights`.

    Parameters
    ----------
    task
        What is learned.
    n_features
        Input features per event.
    params
        Hyper-parameters: an instance of the family's :attr:`params_class`, or a
        mapping validated into it (default: the declared defaults).
    seed
        Random seed.
    **overrides
        Hyper-parameters given one by one; they override ``params``.

    Attributes
    ----------
    params
        The validated hyper-parameters (never changed by training).
    history
        What training recorded (losses per epoch or boosting round), or None.

    Notes
    -----
    What training learns lives in attributes with a trailing underscore, as in
    scikit-learn (``best_iteration_``, ``target_mean_``, ``coef_``, boosters).
    The JSON-serialisable ones are listed in :attr:`state_attributes` and saved
    under ``state`` in ``model.json``; the rest go to the files that
    :meth:`_save_weights` writes.
    """

    family: ClassVar[str] = ""
    declaration: ClassVar[Family]
    """The family's declaration (set from :attr:`family` when the subclass is defined)."""
    params_class: ClassVar[type[FamilyParams]] = FamilyParams
    representation: ClassVar[str] = "tabular"
    is_neural: ClassVar[bool] = False
    export_kind: ClassVar[str] = ""
    state_attributes: ClassVar[tuple[str, ...]] = ()
    """Learned JSON-serialisable attributes saved under ``state`` in ``model.json``."""
    input_arguments: ClassVar[tuple[str, ...]] = ()
    """Constructor keywords that describe the inputs beyond ``n_features`` (saved under ``state``)."""
    inference_batch_size: ClassVar[int] = 65536
    """Events per forward pass when scoring (and when a network evaluates its validation
    loss); families with large per-event activations lower it to bound memory."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "family" in vars(cls):
            declared = get_family(cls.family)
            cls.declaration = declared
            cls.params_class = declared.params
            cls.representation = declared.representation
            cls.is_neural = declared.neural
            cls.export_kind = declared.export

    def __init__(
        self,
        task: Task,
        n_features: int,
        *,
        params: BaseModel | Mapping[str, Any] | None = None,
        seed: int = 0,
        **overrides: Any,
    ) -> None:
        self.check_task(task)
        self.task = task
        self.n_features = n_features
        self.seed = seed
        self.params = self._validated(params, overrides)
        self.history: Any = None

    @classmethod
    def check_task(cls, task: Task) -> None:
        """Refuse a task the family cannot learn.

        Raises
        ------
        ConfigError
            A classifier (see :mod:`neyman.models.families`) was given a regression.
        """
        if cls.declaration.classifier and task.n_classes == 0:
            raise ConfigError(f"{cls.family} is a classifier and cannot learn the {task.name!r} task")
        if cls.declaration.objective != task.objective:
            raise ConfigError(
                f"{cls.family} cannot learn the {task.name!r} task: the family learns by "
                f"{cls.declaration.objective}, the task by {task.objective}"
            )

    @classmethod
    def _validated(cls, params: BaseModel | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> FamilyParams:
        data = params.model_dump() if isinstance(params, BaseModel) else dict(params or {})
        try:
            return cls.params_class.model_validate({**data, **overrides})
        except ValidationError as exc:
            fields = cls.params_class.model_fields
            problems = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                if err["type"] == "extra_forbidden":
                    problems.append(f"{loc}: unknown hyper-parameter{close_matches(loc, fields)}")
                else:
                    problems.append(f"{loc}: {err['msg']}")
            raise ConfigError(f"invalid {cls.family} hyper-parameters: {'; '.join(problems)}") from None

    @abstractmethod
    def fit(self, train: Arrays, val: Arrays | None = None) -> Model:
        """Train on ``train`` (``val`` for early stopping); returns ``self``."""

    def refit_settings(self, growth: float) -> dict[str, dict[str, Any]] | None:
        """Settings that train this family again on training + validation events.

        Parameters
        ----------
        growth
            Events of the refit over events of this fit (1.25 for an 80/20 split).

        Returns
        -------
        dict or None
            Updates of the run configuration's ``model`` and ``training`` sections
            that fix the budget this fit's early stopping chose and train without
            validation; ``None`` when the family has no such budget (the default).

        Notes
        -----
        Early stopping spends a validation sample to choose a budget ``k`` (epochs,
        boosting rounds).  On small samples the events it holds back cost more
        than the choice is worth, so a refit trains on all ``n_train + n_val``
        events for the chosen budget.
        """
        return None

    @abstractmethod
    def predict_raw(self, x: Any) -> np.ndarray:
        """Raw outputs ``(n_events, task.n_outputs)`` (logits, margins, values) of inputs ``x``
        (a feature matrix; neural families also take images or particle sets)."""

    def predict(self, x: Any) -> np.ndarray:
        """Scores: probabilities (classification) or predictions (regression)."""
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != self.n_features:
            got = x.shape if isinstance(x, np.ndarray) else type(x).__name__
            raise DataError(f"the {self.family} model expects inputs of shape (n, {self.n_features}), got {got}")
        return self.task.scores(self.predict_raw(x))

    @abstractmethod
    def _save_weights(self, directory: Path) -> list[str]:
        """Write the learned state into ``directory``; return the file names."""

    @abstractmethod
    def _load_weights(self, directory: Path) -> None:
        """Read the learned state from ``directory``."""

    def save(self, directory: str | Path) -> Path:
        """Save into ``directory``: weights plus ``model.json``.

        ``model.json`` holds the ``family``, ``task``, ``n_classes``,
        ``n_features``, ``seed``, the hyper-parameters (``params``), the learned
        scalars and input arguments (``state``), the weight ``files`` and their
        SHA-256 (``checksums``, verified by :meth:`load`).
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = self._save_weights(directory)
        checksums = {name: file_sha256(directory / name) for name in files}
        write_json(
            directory / MODEL_FILE,
            {
                "family": self.family,
                "task": self.task.name,
                "n_classes": self.task.n_classes,
                "n_features": self.n_features,
                "seed": self.seed,
                "params": self.params.model_dump(mode="json", exclude={"type"}),
                "state": {name: getattr(self, name) for name in (*self.input_arguments, *self.state_attributes)},
                "files": files,
                "checksums": checksums,
            },
        )
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, verify: bool = True) -> Model:
        """Load a model saved by :meth:`save` (any family: ``model.json`` names it).

        ``verify=False`` skips the SHA-256 comparison, for a caller that has just
        verified the same files (a run checks every model file before loading).

        Raises
        ------
        ModelError
            ``model.json`` is missing or damaged, a weight file is missing, or a
            weight file's SHA-256 differs from the one :meth:`save` recorded (it was
            modified or damaged since).  Models saved before checksums were
            recorded load without that check.
        """
        directory = Path(directory)
        meta_path = directory / MODEL_FILE
        if not meta_path.is_file():
            raise ModelError(f"{directory} holds no saved model ({MODEL_FILE} is missing)")
        try:
            meta = json.loads(meta_path.read_text())
            klass = model_class(meta["family"])
            params, state = klass._saved_state(dict(meta["params"]), meta.get("state"))
            inputs = {name: state.pop(name) for name in klass.input_arguments if name in state}
            task = make_task(meta["task"], n_classes=meta.get("n_classes", 2))
            model = klass(task, int(meta["n_features"]), params=params, seed=int(meta.get("seed", 0)), **inputs)
            unknown = set(state) - set(klass.state_attributes)
            if unknown:
                raise ValueError(f"unknown state {', '.join(sorted(unknown))}")
        except (KeyError, ValueError, TypeError, ConfigError) as exc:
            raise ModelError(f"{meta_path} is damaged: {exc}") from exc
        for name in meta.get("files", []):
            if not (directory / name).is_file():
                raise ModelError(f"{directory} is incomplete: {name} is missing")
        if verify:
            _verify_checksums(directory, meta.get("checksums", {}))
        for name, value in state.items():
            setattr(model, name, value)
        model._load_weights(directory)
        return model

    @classmethod
    def _saved_state(
        cls, params: dict[str, Any], state: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Hyper-parameters and state of a ``model.json``.

        Files written before ``state`` existed kept the learned scalars (without
        their trailing underscore) and the input arguments among the ``params``.
        """
        if state is not None:
            return params, dict(state)
        legacy = [key for key in params if key not in cls.params_class.model_fields]
        moved = {key if key in cls.input_arguments else f"{key}_": params.pop(key) for key in legacy}
        return params, moved


def _verify_checksums(directory: Path, checksums: Any) -> None:
    """Compare the weight files of ``directory`` with the SHA-256 that :meth:`Model.save` recorded.

    Raises
    ------
    ModelError
        ``checksums`` is not a mapping of file names to digests, or a file is
        missing or differs from its digest.
    """
    meta_path = directory / MODEL_FILE
    try:
        if not isinstance(checksums, dict):
            raise ValueError(f"it holds a {type(checksums).__name__}")
        changed = changed_files(directory, checksums)
    except ValueError as exc:
        raise ModelError(
            f"{meta_path} is damaged: 'checksums' is not a mapping of file names to SHA-256 ({exc})"
        ) from exc
    if changed:
        what = [
            f"{directory / n} was modified or damaged since the model was saved (the SHA-256 recorded in "
            f"{meta_path} no longer matches)"
            if (directory / n).is_file()
            else f"{directory / n} is missing (deleted or moved since the model was saved)"
            for n in changed
        ]
        raise ModelError(f"{'; '.join(what)}: restore the file from a copy, or train the model again")


def model_class(family: str) -> type[Model]:
    """The :class:`Model` subclass of ``family`` (imported on demand).

    Raises
    ------
    ConfigError
        ``family`` is not a declared model family.
    """
    klass = get_family(family).model_class()
    if not issubclass(klass, Model):
        raise ModelError(f"{get_family(family).model} is not a neyman Model")
    return klass
