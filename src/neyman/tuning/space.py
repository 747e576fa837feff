"""Search spaces: named distributions sampled through an Optuna trial.

A parameter is named by the dotted configuration key it sets (``training.optimizer.lr``),
but nothing here knows about configurations: :meth:`SearchSpace.suggest` returns a
plain ``{name: value}`` mapping that the caller applies.  Categorical choices that
are lists (e.g. layer widths ``[64, 64]``) are offered to Optuna under a JSON label
(``"[64, 64]"``), because Optuna's storages hold only scalars, and mapped back by
table look-up — never parsed or evaluated.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from neyman.exceptions import ConfigError

__all__ = [
    "CategoricalParam",
    "FloatParam",
    "IntParam",
    "LayersParam",
    "Param",
    "SearchSpace",
    "TrialLike",
    "apply_values",
    "check_values",
    "space_from_dict",
    "without_refit",
]


class TrialLike(Protocol):
    """The part of ``optuna.trial.Trial`` a search space uses."""

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = ..., log: bool = ...) -> float:
        """Sample a float."""
        ...

    def suggest_int(self, name: str, low: int, high: int, *, step: int = ..., log: bool = ...) -> int:
        """Sample an integer."""
        ...

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """Sample one of ``choices``."""
        ...


@dataclass(frozen=True)
class FloatParam:
    """A real number in ``[low, high]``; log-uniform when ``log``, on multiples of ``step`` from ``low`` when given."""

    name: str
    low: float
    high: float
    log: bool = False
    step: float | None = None

    def sample(self, trial: TrialLike) -> dict[str, Any]:
        """Ask ``trial`` for this parameter; return the Optuna ``params`` entry."""
        return {self.name: trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)}

    def grid(self) -> dict[str, list[Any]]:
        """The discrete values of this parameter, by Optuna name (grid sampler)."""
        if self.step is None:
            raise ConfigError(
                f"the grid sampler needs discrete values: give {self.name} a step "
                f"({{float: [{self.low}, {self.high}], step: ...}}) or make it categorical"
            )
        n = math.floor((self.high - self.low) / self.step + 1e-9)
        return {self.name: [round(self.low + i * self.step, 12) for i in range(n + 1)]}

    def to_trial(self, value: Any) -> dict[str, Any]:
        """The Optuna ``params`` entry for a configuration ``value``; raises ConfigError when out of range."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not self.low <= value <= self.high:
            raise ConfigError(f"{self.name}: {value!r} is not a number in [{self.low}, {self.high}]")
        return {self.name: float(value)}

    def from_trial(self, params: Mapping[str, Any]) -> Any:
        """The configuration value from a trial's Optuna ``params``."""
        return float(params[self.name])

    def extremes(self) -> list[Any]:
        """Values at the edges of the range and one inside (checked against the schema before a study starts).

        The value inside is the first one after ``low`` (``low + step``, or the next float):
        never a whole number, so that a real range on a whole-number setting (a batch size)
        is refused before the study starts instead of failing every trial.
        """
        inside = self.low + self.step if self.step is not None else math.nextafter(self.low, self.high)
        return [self.low, *([inside] if self.low < inside < self.high else []), self.high]


@dataclass(frozen=True)
class IntParam:
    """An integer in ``[low, high]``; log-uniform when ``log``, on multiples of ``step`` from ``low``."""

    name: str
    low: int
    high: int
    log: bool = False
    step: int = 1

    def sample(self, trial: TrialLike) -> dict[str, Any]:
        """Ask ``trial`` for this parameter; return the Optuna ``params`` entry."""
        return {self.name: trial.suggest_int(self.name, self.low, self.high, step=self.step, log=self.log)}

    def grid(self) -> dict[str, list[Any]]:
        """The discrete values of this parameter, by Optuna name (grid sampler)."""
        return {self.name: list(range(self.low, self.high + 1, self.step))}

    def to_trial(self, value: Any) -> dict[str, Any]:
        """The Optuna ``params`` entry for a configuration ``value``; raises ConfigError when out of range."""
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise ConfigError(f"{self.name}: {value!r} is not an integer in [{self.low}, {self.high}]")
        if (value - self.low) % self.step:
            raise ConfigError(f"{self.name}: {value} is not on the grid {self.low} + k × {self.step}")
        return {self.name: value}

    def from_trial(self, params: Mapping[str, Any]) -> Any:
        """The configuration value from a trial's Optuna ``params``."""
        return int(params[self.name])

    def extremes(self) -> list[Any]:
        """Values at the edges of the range (checked against the schema before a study starts)."""
        return [self.low, self.high]


def _label(choice: Any) -> Any:
    """The value Optuna sees for a choice: scalars as they are, lists as JSON text."""
    if choice is None or isinstance(choice, (bool, int, float, str)):
        return choice
    return json.dumps(choice)


@dataclass(frozen=True)
class CategoricalParam:
    """One of ``choices`` (scalars, or lists of scalars such as layer widths)."""

    name: str
    choices: tuple[Any, ...]

    def __post_init__(self) -> None:
        labels = self.labels
        if len({json.dumps(lab) for lab in labels}) != len(labels):
            raise ConfigError(f"{self.name}: the choices {list(self.choices)} are not distinct")

    @property
    def labels(self) -> list[Any]:
        """The choices as Optuna holds them."""
        return [_label(c) for c in self.choices]

    def _lookup(self, label: Any) -> Any:
        for lab, choice in zip(self.labels, self.choices, strict=True):
            if lab == label and type(lab) is type(label):
                return choice
        # a storage may give an int back for a float label (1.0 stored, 1 returned)
        for lab, choice in zip(self.labels, self.choices, strict=True):
            if lab == label:
                return choice
        raise ConfigError(f"{self.name}: {label!r} is not one of the choices {list(self.choices)}")

    def sample(self, trial: TrialLike) -> dict[str, Any]:
        """Ask ``trial`` for this parameter; return the Optuna ``params`` entry (a label)."""
        return {self.name: trial.suggest_categorical(self.name, self.labels)}

    def grid(self) -> dict[str, list[Any]]:
        """The discrete values of this parameter, by Optuna name (grid sampler)."""
        return {self.name: self.labels}

    def to_trial(self, value: Any) -> dict[str, Any]:
        """The Optuna ``params`` entry for a configuration ``value``; raises ConfigError when out of range."""
        label = _label(value)
        self._lookup(label)
        return {self.name: label}

    def from_trial(self, params: Mapping[str, Any]) -> Any:
        """The configuration value from a trial's Optuna ``params``."""
        return self._lookup(params[self.name])

    def extremes(self) -> list[Any]:
        """Values at the edges of the range (checked against the schema before a study starts)."""
        return list(self.choices)


@dataclass(frozen=True)
class LayersParam:
    """A list of ``n`` equal layer widths: ``n`` in ``[n_low, n_high]`` and one ``width``.

    Optuna sees two parameters, ``<name>.n`` and ``<name>.width``; every sampler
    (grid and CMA-ES included) handles them, which a variable number of per-layer
    widths would not allow.
    """

    name: str
    n_low: int
    n_high: int
    width: IntParam | CategoricalParam

    @property
    def _n(self) -> IntParam:
        return IntParam(f"{self.name}.n", self.n_low, self.n_high)

    def _width(self) -> IntParam | CategoricalParam:
        w = self.width
        if isinstance(w, IntParam):
            return IntParam(f"{self.name}.width", w.low, w.high, log=w.log, step=w.step)
        return CategoricalParam(f"{self.name}.width", w.choices)

    def sample(self, trial: TrialLike) -> dict[str, Any]:
        """Ask ``trial`` for ``<name>.n`` and ``<name>.width``; return both Optuna ``params`` entries."""
        return {**self._n.sample(trial), **self._width().sample(trial)}

    def grid(self) -> dict[str, list[Any]]:
        """The discrete values of this parameter, by Optuna name (grid sampler)."""
        return {**self._n.grid(), **self._width().grid()}

    def to_trial(self, value: Any) -> dict[str, Any]:
        """The Optuna ``params`` entry for a configuration ``value``; raises ConfigError when out of range."""
        if not isinstance(value, list) or not value or len(set(value)) != 1:
            raise ConfigError(
                f"{self.name}: the layers form samples n equal widths, so a value must be such a list, got {value!r}"
            )
        return {**self._n.to_trial(len(value)), **self._width().to_trial(value[0])}

    def from_trial(self, params: Mapping[str, Any]) -> Any:
        """The configuration value from a trial's Optuna ``params``."""
        n = int(params[f"{self.name}.n"])
        return [int(self._width().from_trial(params))] * n

    def extremes(self) -> list[Any]:
        """Values at the edges of the range (checked against the schema before a study starts)."""
        return [[w] * n for n in (self.n_low, self.n_high) for w in self._width().extremes()]


Param: TypeAlias = FloatParam | IntParam | CategoricalParam | LayersParam


class SearchSpace:
    """The parameters of a study.

    Parameters
    ----------
    params
        One parameter per configuration key; names must be distinct.

    Examples
    --------
    >>> space = SearchSpace([FloatParam("training.optimizer.lr", 1e-4, 1e-2, log=True),
    ...                      CategoricalParam("model.hidden", ([64], [64, 64]))])
    >>> import optuna  # doctest: +SKIP
    >>> space.suggest(optuna.create_study().ask())  # doctest: +SKIP
    {'training.optimizer.lr': 0.0012, 'model.hidden': [64, 64]}
    """

    def __init__(self, params: Iterable[Param]) -> None:
        self.params = list(params)
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ConfigError(f"a search space names a key twice: {names}")
        if not self.params:
            raise ConfigError("the search space is empty")

    def __len__(self) -> int:
        return len(self.params)

    @property
    def names(self) -> list[str]:
        """The keys the space sets."""
        return [p.name for p in self.params]

    def suggest(self, trial: TrialLike) -> dict[str, Any]:
        """Sample every parameter through ``trial``; return ``{key: value}``."""
        params: dict[str, Any] = {}
        for p in self.params:
            params.update(p.sample(trial))
        return self.values(params)

    def values(self, trial_params: Mapping[str, Any]) -> dict[str, Any]:
        """The ``{key: value}`` of a finished trial from its Optuna ``params``."""
        return {p.name: p.from_trial(trial_params) for p in self.params}

    def sampled(self, trial_params: Mapping[str, Any]) -> dict[str, Any]:
        """Like :meth:`values`, but ``{}`` for a trial that failed before every parameter was sampled."""
        try:
            return self.values(trial_params)
        except (KeyError, ConfigError):
            return {}

    def to_trial(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Optuna ``params`` for ``{key: value}`` (e.g. to enqueue a trial); checks each value."""
        out: dict[str, Any] = {}
        by_name = {p.name: p for p in self.params}
        for key, value in values.items():
            if key not in by_name:
                raise ConfigError(f"{key!r} is not in the search space ({', '.join(by_name)})")
            out.update(by_name[key].to_trial(value))
        return out

    def grid(self) -> dict[str, list[Any]]:
        """Every parameter's discrete values (for the grid sampler)."""
        out: dict[str, list[Any]] = {}
        for p in self.params:
            out.update(p.grid())
        return out

    def grid_size(self) -> int:
        """Number of points of :meth:`grid`."""
        return math.prod(len(v) for v in self.grid().values())

    def extremes(self) -> dict[str, list[Any]]:
        """Per key, the values at the edges of its range (every choice of a categorical)."""
        return {p.name: p.extremes() for p in self.params}

    def describe(self) -> list[dict[str, Any]]:
        """A JSON-able description (stored with a study to recognise its space)."""
        out = []
        for p in self.params:
            d: dict[str, Any] = {"kind": type(p).__name__}
            for k, v in vars(p).items():
                d[k] = vars(v) | {"kind": type(v).__name__} if isinstance(v, (IntParam, CategoricalParam)) else v
            out.append(json.loads(json.dumps(d)))
        return out


def _param(name: str, entry: Mapping[str, Any]) -> Param:
    kind = entry.get("type")
    if kind == "float":
        return FloatParam(name, entry["low"], entry["high"], log=entry.get("log", False), step=entry.get("step"))
    if kind == "int":
        return IntParam(name, entry["low"], entry["high"], log=entry.get("log", False), step=entry.get("step", 1))
    if kind == "categorical":
        return CategoricalParam(name, tuple(entry["choices"]))
    if kind == "layers":
        n_low, n_high = entry["n"]
        width = _param("width", entry["width"])
        if not isinstance(width, (IntParam, CategoricalParam)):
            raise ConfigError(f"tuning.space.{name}: a layer width is an int range or categorical, got {entry!r}")
        return LayersParam(name, n_low, n_high, width)
    raise ConfigError(f"tuning.space.{name}: unsupported entry {entry!r}")


def space_from_dict(space: Mapping[str, Mapping[str, Any]]) -> SearchSpace:
    """A search space from its explicit plain-data form.

    Parameters
    ----------
    space
        ``{key: entry}`` where an entry is ``{type: float, low, high, log, step}``,
        ``{type: int, low, high, log, step}``, ``{type: categorical, choices}`` or
        ``{type: layers, n: [min, max], width: <int or categorical entry>}`` (how a
        resolved configuration writes its ``tuning.space``).

    Raises
    ------
    ConfigError
        If an entry is of none of these types.

    Examples
    --------
    >>> space_from_dict({"model.dropout": {"type": "float", "low": 0.0, "high": 0.5}}).names
    ['model.dropout']
    """
    return SearchSpace(_param(key, entry) for key, entry in space.items())


def without_refit(cfg: dict[str, Any]) -> None:
    """Turn off a trial configuration's small-sample refit unless it asks for one (in place).

    A trial's objective is a validation metric, which a refit (trained on the validation
    events too) leaves as it is while it changes the model; ``best.yaml`` must train the
    model the trial evaluated.
    """
    training = cfg.setdefault("training", {})
    if training.get("refit") is None:
        training["refit"] = False


def apply_values(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of the nested mapping ``base`` with each ``{dotted key: value}`` of ``values`` set.

    Examples
    --------
    >>> apply_values({"model": {"hidden": [8]}}, {"model.hidden": [16, 16]})
    {'model': {'hidden': [16, 16]}}
    """
    out = copy.deepcopy(dict(base))
    for key, value in values.items():
        node = out
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        node[last] = copy.deepcopy(value)
    return out


def check_values(
    base: Mapping[str, Any],
    space: SearchSpace,
    enqueue: Sequence[Mapping[str, Any]],
    validate: Callable[[dict[str, Any]], object],
) -> None:
    """Check that every edge of every range, and every enqueued trial, makes a valid configuration.

    Parameters
    ----------
    base
        The configuration the values are applied to (:func:`apply_values`).
    space
        The search space (its :meth:`~SearchSpace.extremes` are tried one key at a time).
    enqueue
        Trials to run first, ``{key: value}`` each (checked against the space too).
    validate
        Raises :class:`~neyman.exceptions.ConfigError` for an invalid configuration.

    Raises
    ------
    ConfigError
        Naming the key and the edge value, or the enqueued trial, that is not valid.
    """
    kinds = {p.name: p for p in space.params}
    for key, candidates in space.extremes().items():
        choice = isinstance(kinds.get(key), CategoricalParam)
        for value in candidates:
            try:
                validate(apply_values(base, {key: value}))
            except ConfigError as exc:
                what, fix = (
                    ("one of its choices", "remove it") if choice else ("an edge of its range", "narrow the range")
                )
                if not choice and value not in (candidates[0], candidates[-1]):
                    what, fix = "a value inside its range", "a whole-number setting takes int: [low, high]"
                raise ConfigError(
                    f"tuning.space.{key}: the value {value!r} ({what}) is not valid here; {fix}.\n{exc}"
                ) from None
    for i, entry in enumerate(enqueue):
        try:
            space.to_trial(entry)
            validate(apply_values(base, entry))
        except ConfigError as exc:
            raise ConfigError(f"tuning.enqueue.{i}: {exc}") from None
