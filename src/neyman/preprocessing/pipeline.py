"""An ordered chain of fitted transforms over named features, serialisable to JSON.

A :class:`Preprocessor` holds the feature names of a model's input matrix and a list
of steps; each step applies one :class:`~neyman.preprocessing.scaling.Transform` to a
subset of the features (``None`` = all).  For example "log of ``pt`` and ``mass``, then
standardise everything"::

    Preprocessor(
        ["pt", "eta", "mass"],
        [(["pt", "mass"], LogTransform()), (None, StandardScaler())],
    )

Its JSON form (``preprocessing.json`` in a run directory) carries every fitted number,
so a model can be applied later exactly as it was trained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman.exceptions import ConfigError, DataError, close_matches
from neyman.preprocessing.scaling import (
    Clip,
    GaussianTransform,
    LogTransform,
    MinMaxScaler,
    NotFittedError,
    Residualize,
    StandardScaler,
    Transform,
    transform_from_json,
)
from neyman.table import Table

__all__ = ["JSON_FORMAT", "Preprocessor", "build_preprocessor"]

JSON_FORMAT = "neyman.preprocessor"
_JSON_VERSION = 1

Step = tuple[Sequence[str] | None, Transform]


def _unknown_names(names: Sequence[str], known: Sequence[str], what: str) -> None:
    for name in names:
        if name not in known:
            raise ConfigError(
                f"{what}: unknown feature {name!r}{close_matches(name, known)}; features: {', '.join(known)}"
            )


class Preprocessor:
    """Apply transforms, in order, to named features of an ``(n_events, n_features)`` matrix.

    Parameters
    ----------
    feature_names
        The columns of the input matrix, in order.
    steps
        ``(features, transform)`` pairs applied in order; ``features`` lists the names
        the transform acts on, or is ``None`` for all features.  The transforms are
        fitted in place by :meth:`fit`.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in ``fit``.
    step_indices_ : list of numpy.ndarray
        Column indices of each step.

    Notes
    -----
    Fitting is sequential: step :math:`k` is fitted on the output of steps
    :math:`1, \\dots, k-1`, so a scaler after a log transform standardises the
    logarithm.  ``inverse_transform`` applies the inverses in reverse order.
    """

    n_features_in_: int
    step_indices_: list[npt.NDArray[np.intp]]

    def __init__(self, feature_names: Sequence[str], steps: Sequence[Step] = ()) -> None:
        self.feature_names = feature_names
        self.steps = steps

    def __repr__(self) -> str:
        steps = ", ".join(f"({f!r}, {t!r})" for f, t in self.steps)
        return f"Preprocessor({list(self.feature_names)!r}, [{steps}])"

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has been called (or the state was restored from JSON)."""
        return hasattr(self, "step_indices_")

    def _indices(self) -> list[npt.NDArray[np.intp]]:
        names = [str(n) for n in self.feature_names]
        if len(set(names)) != len(names):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            raise ConfigError(f"duplicate feature names: {', '.join(duplicates)}")
        position = {name: j for j, name in enumerate(names)}
        indices = []
        for k, step in enumerate(self.steps):
            try:
                features, transform = step
            except (TypeError, ValueError):
                raise ConfigError(
                    f"preprocessing step {k} must be a (features, transform) pair, got {step!r}"
                ) from None
            if not isinstance(transform, Transform):
                raise ConfigError(f"preprocessing step {k}: {transform!r} is not a neyman Transform")
            if features is None:
                indices.append(np.arange(len(names), dtype=np.intp))
                continue
            if isinstance(features, str):
                features = [features]
            _unknown_names(features, names, f"preprocessing step {k} ({transform.name})")
            indices.append(np.asarray([position[f] for f in features], dtype=np.intp))
        return indices

    def _matrix(self, X: Table | npt.ArrayLike) -> tuple[npt.NDArray[np.float64], Any]:
        if isinstance(X, Table):
            return X.to_numpy(list(self.feature_names), dtype=np.float64), np.dtype(np.float64)
        matrix = np.asarray(X)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.feature_names):
            raise DataError(
                f"the preprocessor expects an array of shape (n_events, "
                f"{len(self.feature_names)}) for features {', '.join(self.feature_names)}; "
                f"got shape {matrix.shape}"
            )
        dtype = matrix.dtype if np.issubdtype(matrix.dtype, np.floating) else np.dtype(np.float64)
        return np.array(matrix, dtype=np.float64), dtype

    def fit(self, X: Table | npt.ArrayLike, sample_weight: npt.ArrayLike | None = None) -> Preprocessor:
        """Fit every step, in order, on the training data.

        Parameters
        ----------
        X
            A table holding ``feature_names``, or an array of shape
            ``(n_events, n_features)`` with the features in that order.
        sample_weight
            Per-event weights passed to every step.

        Returns
        -------
        Preprocessor
            ``self``, fitted.
        """
        indices = self._indices()
        matrix, _ = self._matrix(X)
        names = [str(n) for n in self.feature_names]
        for k, ((_, transform), idx) in enumerate(zip(self.steps, indices, strict=True)):
            part = matrix[:, idx]
            transform.fit(part, sample_weight, feature_names=[names[j] for j in idx])
            if k < len(indices) - 1:
                matrix[:, idx] = transform.transform(part)
        self.n_features_in_ = len(names)
        self.step_indices_ = indices
        return self

    def _check_fitted(self) -> None:
        if not self.is_fitted or not all(t.is_fitted for _, t in self.steps):
            raise NotFittedError("this Preprocessor is not fitted yet; call fit(X) on the training data first")

    def transform(self, X: Table | npt.ArrayLike) -> npt.NDArray[np.floating]:
        """Apply every step, in order; returns an ``(n_events, n_features)`` array.

        The result has the floating dtype of an input array (float64 for a table).
        """
        self._check_fitted()
        matrix, dtype = self._matrix(X)
        for (_, transform), idx in zip(self.steps, self.step_indices_, strict=True):
            matrix[:, idx] = transform.transform(matrix[:, idx])
        return matrix.astype(dtype, copy=False)

    def inverse_transform(self, X: npt.ArrayLike) -> npt.NDArray[np.floating]:
        """Undo the steps in reverse order (clipping is not undone)."""
        self._check_fitted()
        matrix, dtype = self._matrix(X)
        for (_, transform), idx in reversed(list(zip(self.steps, self.step_indices_, strict=True))):
            matrix[:, idx] = transform.inverse_transform(matrix[:, idx])
        return matrix.astype(dtype, copy=False)

    def fit_transform(
        self, X: Table | npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> npt.NDArray[np.floating]:
        """Fit to ``X`` and return ``transform(X)``."""
        return self.fit(X, sample_weight).transform(X)

    # -- serialisation ------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """Return the feature names, steps and all fitted state as a JSON-compatible dict.

        Every float is a Python float, so ``from_json(json.loads(json.dumps(d)))``
        transforms bit-identically to the original.
        """
        return {
            "format": JSON_FORMAT,
            "version": _JSON_VERSION,
            "feature_names": [str(n) for n in self.feature_names],
            "fitted": self.is_fitted,
            "steps": [
                {
                    "features": None if features is None else [str(f) for f in features],
                    "transform": transform.to_json(),
                }
                for features, transform in self.steps
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Preprocessor:
        """Rebuild a preprocessor written by :meth:`to_json`.

        The result is fitted when every step's state was stored.

        Raises
        ------
        DataError
            The content is malformed, of an unknown version, or names an unknown
            transform.
        """
        if not isinstance(data, Mapping) or data.get("format") != JSON_FORMAT:
            raise DataError(f"not a serialised neyman preprocessor (expected format {JSON_FORMAT!r})")
        if data.get("version") != _JSON_VERSION:
            raise DataError(
                f"preprocessor JSON version {data.get('version')!r} is not supported "
                f"(this neyman reads version {_JSON_VERSION})"
            )
        names = data.get("feature_names")
        raw_steps = data.get("steps")
        if not isinstance(names, list) or not isinstance(raw_steps, list):
            raise DataError("preprocessor JSON needs a 'feature_names' list and a 'steps' list")
        steps: list[Step] = []
        for k, raw in enumerate(raw_steps):
            if not isinstance(raw, Mapping) or "transform" not in raw:
                raise DataError(f"preprocessor JSON step {k} must have a 'transform'")
            features = raw.get("features")
            if features is not None and not isinstance(features, list):
                raise DataError(f"preprocessor JSON step {k}: 'features' must be a list or null")
            steps.append((features, transform_from_json(raw["transform"])))
        preprocessor = cls([str(n) for n in names], steps)
        try:
            indices = preprocessor._indices()
        except ConfigError as exc:
            raise DataError(f"inconsistent preprocessor JSON: {exc}") from None
        if data.get("fitted"):
            if not all(t.is_fitted for _, t in steps):
                raise DataError("preprocessor JSON is marked fitted but a step has no state")
            for k, ((_, transform), idx) in enumerate(zip(steps, indices, strict=True)):
                if transform.n_features_in_ != len(idx):
                    raise DataError(
                        f"preprocessor JSON step {k} was fitted on {transform.n_features_in_} "
                        f"features but lists {len(idx)}"
                    )
            preprocessor.n_features_in_ = len(names)
            preprocessor.step_indices_ = indices
        return preprocessor


_SCALERS = ("gaussian", "standard", "minmax", "none")


def build_preprocessor(
    feature_names: Sequence[str],
    *,
    scaler: str = "standard",
    log: Sequence[str] = (),
    log_offset: float = 0.0,
    clip: Mapping[str, Sequence[float | None]] | None = None,
    standard_clip: float | None = None,
    residualize: bool = False,
) -> Preprocessor:
    """Build the usual preprocessing chain: clip, then log, then residualize, then scale.

    Parameters
    ----------
    feature_names
        The input features, in order.
    scaler
        ``"gaussian"`` (:class:`GaussianTransform`: quantiles to a normal, soft tails),
        ``"standard"`` (:class:`StandardScaler`), ``"minmax"`` (:class:`MinMaxScaler`
        to ``[0, 1]``) or ``"none"``; applied to all features.
    log
        Features to replace by ``log(x + log_offset)``.
    log_offset
        Offset of the log transform.
    clip
        ``{name: [low, high]}`` bounds in the original units (``None`` = unbounded).
    standard_clip
        Clip standardised values to ``±standard_clip`` (``scaler="standard"`` only).
    residualize
        Replace features that are almost linear functions of earlier ones by their residuals
        (:class:`Residualize`).

    Returns
    -------
    Preprocessor
        Unfitted.

    Raises
    ------
    ConfigError
        An unknown scaler or feature name (with suggestions), or malformed bounds.
    """
    names = [str(n) for n in feature_names]
    if scaler not in _SCALERS:
        raise ConfigError(
            f"unknown scaler {scaler!r}{close_matches(scaler, _SCALERS)}; choose one of {', '.join(_SCALERS)}"
        )
    if standard_clip is not None and scaler != "standard":
        raise ConfigError(f"standard_clip applies to scaler='standard' only, not {scaler!r}")
    if isinstance(log, str):
        log = [log]
    steps: list[Step] = []
    if clip:
        _unknown_names(list(clip), names, "clip")
        lower: list[float | None] = []
        upper: list[float | None] = []
        for name, bounds in clip.items():
            if isinstance(bounds, str) or len(bounds) != 2:
                raise ConfigError(f"clip bounds of {name!r} must be [low, high], got {bounds!r}")
            lower.append(bounds[0])
            upper.append(bounds[1])
        steps.append((list(clip), Clip(lower=lower, upper=upper)))
    if log:
        _unknown_names(log, names, "log")
        steps.append((list(log), LogTransform(offset=log_offset)))
    if residualize:
        steps.append((None, Residualize()))
    if scaler == "standard":
        steps.append((None, StandardScaler(clip=standard_clip)))
    elif scaler == "minmax":
        steps.append((None, MinMaxScaler()))
    elif scaler == "gaussian":
        steps.append((None, GaussianTransform()))
    return Preprocessor(names, steps)
