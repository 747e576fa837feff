"""Fitted feature transforms following the scikit-learn estimator contract.

Every transform here

* takes its hyper-parameters in ``__init__`` and stores them unchanged (no logic, no
  validation: that happens in :meth:`~Transform.fit`);
* learns its state in :meth:`~Transform.fit`, in attributes whose names end in ``_``
  (``n_features_in_``, ``feature_names_in_`` and the transform's own, e.g. ``mean_``);
* maps arrays of shape ``(n_events, n_features)`` with ``transform`` and
  ``inverse_transform`` and refuses to do so before ``fit`` (:class:`NotFittedError`);
* serialises its parameters and fitted state to a JSON-compatible ``dict`` with
  :meth:`~Transform.to_json`; :func:`transform_from_json` restores it so that
  ``transform`` gives bit-identical results.

Arithmetic is done in float64; the result has the floating dtype of the input
(float32 in, float32 out), or float64 for integer input.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from neyman.exceptions import ConfigError, DataError, close_matches
from neyman.preprocessing.missing import check_finite

__all__ = [
    "TRANSFORMS",
    "Clip",
    "GaussianTransform",
    "LogTransform",
    "MinMaxScaler",
    "NotFittedError",
    "Residualize",
    "StandardScaler",
    "Transform",
    "transform_from_json",
]

FloatArray = npt.NDArray[np.float64]
_T = TypeVar("_T", bound="Transform")


class NotFittedError(DataError):
    """A transform was used before :meth:`~Transform.fit` was called."""


# -- JSON encoding of floats: exact, and valid strict JSON (no bare NaN/Infinity) --------
def encode_value(value: Any) -> Any:
    """Turn floats, arrays and sequences into JSON-compatible values, exactly.

    Finite floats become Python floats (whose ``repr`` round-trips exactly through
    JSON); non-finite ones become the strings ``"inf"``, ``"-inf"`` and ``"nan"``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isfinite(x):
            return x
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(value, np.ndarray):
        return [encode_value(v) for v in value.tolist()]
    if isinstance(value, Sequence):
        return [encode_value(v) for v in value]
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def decode_value(value: Any) -> Any:
    """Invert :func:`encode_value` (lists stay lists)."""
    if isinstance(value, str):
        special = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
        if value not in special:
            raise DataError(f"unexpected string {value!r} where a number was expected")
        return special[value]
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def _as_float_array(value: Any, what: str) -> FloatArray:
    try:
        return np.asarray(decode_value(value), dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be a list of numbers, got {value!r}") from None


# -- the base class ----------------------------------------------------------------------
class Transform:
    """Base class of fitted per-feature transforms.

    Subclasses set :attr:`name` (the key in JSON and in :data:`TRANSFORMS`) and
    :attr:`_state` (the names of their fitted float-array attributes) and implement
    ``_fit``, ``_transform`` and ``_inverse``.
    """

    name: ClassVar[str] = ""
    _state: ClassVar[tuple[str, ...]] = ()

    # learned by fit
    n_features_in_: int
    feature_names_in_: list[str] | None

    # -- scikit-learn parameter protocol (enough for sklearn.base.clone) --------------
    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p for p in signature.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the hyper-parameters given to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self: _T, **params: Any) -> _T:
        """Set hyper-parameters; the transform must be fitted again afterwards."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ConfigError(
                    f"{type(self).__name__} has no parameter {key!r}"
                    f"{close_matches(key, valid)}; parameters: {', '.join(valid)}"
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- the estimator API ------------------------------------------------------------
    def fit(
        self: _T,
        X: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
        *,
        feature_names: Sequence[str] | None = None,
    ) -> _T:
        """Learn the transform from training data.

        Parameters
        ----------
        X
            Array of shape ``(n_events, n_features)``; must be finite.
        sample_weight
            Per-event weights of shape ``(n_events,)``; see each transform for how
            they are used.
        feature_names
            Names of the features, stored in ``feature_names_in_`` and used in messages.

        Returns
        -------
        Transform
            ``self``, fitted.
        """
        matrix = _as_matrix(X, type(self).__name__)
        if feature_names is not None:
            feature_names = [str(n) for n in feature_names]
            if len(feature_names) != matrix.shape[1]:
                raise DataError(f"{len(feature_names)} feature names for an array with {matrix.shape[1]} features")
        matrix = check_finite(matrix, feature_names).astype(np.float64, copy=False)
        weights = _as_weights(sample_weight, matrix.shape[0])
        self._fit(matrix, weights, feature_names)
        self.n_features_in_ = matrix.shape[1]
        self.feature_names_in_ = feature_names
        return self

    def transform(self, X: npt.ArrayLike) -> npt.NDArray[np.floating]:
        """Apply the fitted transform to ``X`` of shape ``(n_events, n_features)``."""
        matrix, dtype = self._checked_input(X)
        return self._transform(matrix).astype(dtype, copy=False)

    def inverse_transform(self, X: npt.ArrayLike) -> npt.NDArray[np.floating]:
        """Map transformed values back to the original scale."""
        matrix, dtype = self._checked_input(X)
        return self._inverse(matrix).astype(dtype, copy=False)

    def fit_transform(
        self,
        X: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
        *,
        feature_names: Sequence[str] | None = None,
    ) -> npt.NDArray[np.floating]:
        """Fit to ``X`` and return ``transform(X)``."""
        return self.fit(X, sample_weight, feature_names=feature_names).transform(X)

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has been called (or the state was restored from JSON)."""
        return hasattr(self, "n_features_in_")

    def _checked_input(self, X: npt.ArrayLike) -> tuple[FloatArray, np.dtype[Any]]:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X) on the training data before transform"
            )
        matrix = _as_matrix(X, type(self).__name__)
        if matrix.shape[1] != self.n_features_in_:
            raise DataError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features but got "
                f"an array with {matrix.shape[1]}"
            )
        dtype = matrix.dtype if np.issubdtype(matrix.dtype, np.floating) else np.dtype(np.float64)
        return matrix.astype(np.float64, copy=False), dtype

    @staticmethod
    def _label(j: int, names: Sequence[str] | None) -> str:
        return f"feature {names[j]!r}" if names is not None else f"feature {j}"

    # -- to be implemented --------------------------------------------------------------
    def _fit(self, X: FloatArray, sample_weight: FloatArray | None, names: Sequence[str] | None) -> None:
        raise NotImplementedError

    def _transform(self, X: FloatArray) -> FloatArray:
        raise NotImplementedError

    def _inverse(self, X: FloatArray) -> FloatArray:
        raise NotImplementedError

    # -- serialisation ------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """Return the parameters and fitted state as a JSON-compatible ``dict``.

        Floats are stored as Python floats, which round-trip exactly through
        :func:`json.dumps` / :func:`json.loads`; non-finite values as ``"inf"``,
        ``"-inf"``, ``"nan"``.  ``state`` is ``None`` for an unfitted transform.
        """
        state: dict[str, Any] | None = None
        if self.is_fitted:
            state = {
                "n_features_in": self.n_features_in_,
                "feature_names_in": self.feature_names_in_,
            }
            for attr in self._state:
                state[attr] = encode_value(getattr(self, attr))
        return {"name": self.name, "params": encode_value_map(self.get_params()), "state": state}

    def _restore(self, state: Mapping[str, Any]) -> None:
        try:
            n_features = int(state["n_features_in"])
            names = state.get("feature_names_in")
            arrays = {attr: _as_float_array(state[attr], f"{self.name}.{attr}") for attr in self._state}
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"malformed state for transform {self.name!r}: {exc!r}") from None
        self._check_state(arrays, n_features)
        for attr, values in arrays.items():
            setattr(self, attr, values)
        self.n_features_in_ = n_features
        self.feature_names_in_ = [str(n) for n in names] if names is not None else None

    def _check_state(self, arrays: Mapping[str, FloatArray], n_features: int) -> None:
        """Refuse restored state of the wrong shape (one value per feature, by default)."""
        for attr, values in arrays.items():
            if values.shape != (n_features,):
                raise DataError(f"transform {self.name!r}: {attr} has {values.size} values for {n_features} features")


def encode_value_map(params: Mapping[str, Any]) -> dict[str, Any]:
    """Apply :func:`encode_value` to every value of a mapping."""
    return {key: encode_value(value) for key, value in params.items()}


def _as_matrix(X: npt.ArrayLike, who: str) -> np.ndarray:
    matrix = np.asarray(X)
    if matrix.ndim != 2:
        raise DataError(f"{who} expects an array of shape (n_events, n_features), got shape {matrix.shape}")
    if not (np.issubdtype(matrix.dtype, np.number) or matrix.dtype == np.bool_):
        raise DataError(f"{who} expects numbers, got an array of {matrix.dtype}")
    return matrix


def _as_weights(sample_weight: npt.ArrayLike | None, n_events: int) -> FloatArray | None:
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (n_events,):
        raise DataError(f"sample_weight has shape {weights.shape}, expected ({n_events},)")
    if not np.isfinite(weights).all():
        raise DataError(f"sample_weight has {int((~np.isfinite(weights)).sum())} non-finite entries")
    return weights


# -- the transforms --------------------------------------------------------------------------
class StandardScaler(Transform):
    """Standardise each feature to zero mean and unit variance, optionally clipped.

    Parameters
    ----------
    clip
        If given, standardised values are clipped to ``[-clip, clip]`` (as weaver
        does); must be positive.

    Attributes
    ----------
    mean_ : numpy.ndarray
        Weighted mean of each feature, shape ``(n_features,)``.
    var_ : numpy.ndarray
        Weighted (population) variance of each feature.
    scale_ : numpy.ndarray
        ``sqrt(var_)``, or 1 for a feature without spread.

    Notes
    -----
    With weights :math:`w_i` (all 1 without ``sample_weight``) and
    :math:`W = \\sum_i w_i`,

    .. math::

        \\mu = \\frac{1}{W} \\sum_i w_i x_i, \\qquad
        \\sigma^2 = \\frac{1}{W} \\sum_i w_i (x_i - \\mu)^2, \\qquad
        z = \\operatorname{clip}\\Big(\\frac{x - \\mu}{\\sigma}, -c, c\\Big).

    Weights are used as given, negative ones included (so a Monte Carlo sample with
    negative-weight events is standardised to its physical distribution); the total
    :math:`W` must be positive, otherwise :class:`~neyman.exceptions.DataError` is
    raised.  A feature that is constant over the events with non-zero weight, or
    whose weighted variance is not positive (possible only with negative weights),
    gets :math:`\\sigma = 1`.  Clipping is not undone by ``inverse_transform``.
    """

    name = "standard"
    _state = ("mean_", "var_", "scale_")

    mean_: FloatArray
    var_: FloatArray
    scale_: FloatArray

    def __init__(self, clip: float | None = None) -> None:
        self.clip = clip

    def _fit(self, X: FloatArray, sample_weight: FloatArray | None, names: Sequence[str] | None) -> None:
        if self.clip is not None and not self.clip > 0:
            raise ConfigError(f"StandardScaler clip must be positive, got {self.clip!r}")
        if X.shape[0] == 0:
            raise DataError("cannot fit StandardScaler on zero events")
        if sample_weight is None:
            mean = X.mean(axis=0)
            var = ((X - mean) ** 2).mean(axis=0)
            used = X
        else:
            total = float(sample_weight.sum())
            if not total > 0:
                raise DataError(
                    f"the total sample weight is {total:g}; StandardScaler needs a positive "
                    "total weight (check the weights of the training events)"
                )
            mean = sample_weight @ X / total
            var = sample_weight @ ((X - mean) ** 2) / total
            used = X[sample_weight != 0]
        constant = np.ptp(used, axis=0) == 0 if used.shape[0] else np.ones(X.shape[1], bool)
        if used.shape[0]:
            # the exact value, so a constant feature maps to exactly 0 (a mean can be off by ulps)
            mean = np.where(constant, used[0], mean)
        flat = constant | ~(var > 0)
        self.mean_ = mean
        self.var_ = np.where(constant, 0.0, var)
        self.scale_ = np.where(flat, 1.0, np.sqrt(np.where(flat, 1.0, var)))

    def _transform(self, X: FloatArray) -> FloatArray:
        z = (X - self.mean_) / self.scale_
        if self.clip is not None:
            z = np.clip(z, -self.clip, self.clip)
        return z

    def _inverse(self, X: FloatArray) -> FloatArray:
        return X * self.scale_ + self.mean_


class MinMaxScaler(Transform):
    """Map each feature linearly so its training range becomes ``feature_range``.

    Parameters
    ----------
    feature_range
        ``(low, high)`` with ``low < high``.

    Attributes
    ----------
    data_min_, data_max_ : numpy.ndarray
        Per-feature minimum and maximum of the training data.
    scale_, min_ : numpy.ndarray
        The fitted map ``x * scale_ + min_``.

    Notes
    -----
    .. math::

        x' = \\text{low} + (x - x_\\min)\\,\\frac{\\text{high} - \\text{low}}{x_\\max - x_\\min}

    A feature with :math:`x_\\max = x_\\min` uses a denominator of 1.  The range of the
    data does not depend on weights, so ``sample_weight`` is accepted and ignored.
    Values outside the training range map outside ``feature_range`` (no clipping).
    """

    name = "minmax"
    _state = ("data_min_", "data_max_", "scale_", "min_")

    data_min_: FloatArray
    data_max_: FloatArray
    scale_: FloatArray
    min_: FloatArray

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        self.feature_range = feature_range

    def _fit(self, X: FloatArray, sample_weight: FloatArray | None, names: Sequence[str] | None) -> None:
        try:
            low, high = (float(v) for v in self.feature_range)
        except (TypeError, ValueError):
            raise ConfigError(f"MinMaxScaler feature_range must be (low, high), got {self.feature_range!r}") from None
        if not low < high:
            raise ConfigError(f"MinMaxScaler feature_range must have low < high, got {self.feature_range!r}")
        if X.shape[0] == 0:
            raise DataError("cannot fit MinMaxScaler on zero events")
        data_min = X.min(axis=0)
        data_max = X.max(axis=0)
        span = data_max - data_min
        span = np.where(span == 0, 1.0, span)
        self.data_min_ = data_min
        self.data_max_ = data_max
        self.scale_ = (high - low) / span
        self.min_ = low - data_min * self.scale_

    def _transform(self, X: FloatArray) -> FloatArray:
        return X * self.scale_ + self.min_

    def _inverse(self, X: FloatArray) -> FloatArray:
        return (X - self.min_) / self.scale_


class LogTransform(Transform):
    """Take the natural logarithm ``log(x + offset)`` of each feature.

    Parameters
    ----------
    offset
        Added before the logarithm, e.g. 1 for a feature that can be 0.

    Notes
    -----
    :math:`x' = \\ln(x + \\text{offset})`, inverse :math:`x = e^{x'} - \\text{offset}`.
    Every value must satisfy :math:`x + \\text{offset} > 0`, in ``fit`` and in
    ``transform``; otherwise :class:`~neyman.exceptions.DataError` names the features
    and their minima.  The transform learns nothing but the number of features;
    ``sample_weight`` is ignored.
    """

    name = "log"

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def _check_domain(self, X: FloatArray, names: Sequence[str] | None) -> None:
        if not math.isfinite(self.offset):
            raise ConfigError(f"LogTransform offset must be finite, got {self.offset!r}")
        bad = np.flatnonzero((X + self.offset <= 0).any(axis=0))
        if bad.size:
            minima = X.min(axis=0)
            details = "; ".join(f"{self._label(int(j), names)} has minimum {minima[j]:g}" for j in bad)
            raise DataError(
                f"log transform needs x + offset > 0 (offset = {self.offset:g}): {details}. Leave the feature out of "
                "the log transform (preprocessing.log), select the events with a cut (data.selection), or in Python "
                "raise the offset (LogTransform(offset=...)); a replacement of missing values (data.fill_value) "
                "counts as a value too"
            )

    def _fit(self, X: FloatArray, sample_weight: FloatArray | None, names: Sequence[str] | None) -> None:
        self._check_domain(X, names)

    def _transform(self, X: FloatArray) -> FloatArray:
        self._check_domain(X, self.feature_names_in_)
        return np.log(X + self.offset)

    def _inverse(self, X: FloatArray) -> FloatArray:
        return np.exp(X) - self.offset


class Clip(Transform):
    """Clip each feature to ``[lower, upper]``.

    Parameters
    ----------
    lower, upper
        A scalar for every feature, or one bound per feature; ``None`` (as a whole or
        per entry) means unbounded on that side.

    Attributes
    ----------
    lower_, upper_ : numpy.ndarray
        The bounds per feature (``-inf`` / ``inf`` where unbounded).

    Notes
    -----
    :math:`x' = \\min(\\max(x, \\text{lower}), \\text{upper})`.  Clipping loses
    information, so ``inverse_transform`` returns its input unchanged.
    """

    name = "clip"
    _state = ("lower_", "upper_")

    lower_: FloatArray
    upper_: FloatArray

    def __init__(
        self,
        lower: float | Sequence[float | None] | None = None,
        upper: float | Sequence[float | None] | None = None,
    ) -> None:
        self.lower = lower
        self.upper = upper

    @staticmethod
    def _bounds(value: Any, default: float, n_features: int, what: str) -> FloatArray:
        if value is None:
            return np.full(n_features, default)
        if np.ndim(value) == 0:
            return np.full(n_features, float(value))
        entries = [default if v is None else float(v) for v in value]
        if len(entries) != n_features:
            raise ConfigError(f"Clip {what} has {len(entries)} bounds for {n_features} features")
        return np.asarray(entries, dtype=np.float64)

    def _fit(self, X: FloatArray, sample_weight: FloatArray | None, names: Sequence[str] | None) -> None:
        lower = self._bounds(self.lower, -math.inf, X.shape[1], "lower")
        upper = self._bounds(self.upper, math.inf, X.shape[1], "upper")
        bad = np.flatnonzero(np.isnan(lower) | np.isnan(upper) | (lower > upper))
        if bad.size:
            j = int(bad[0])
            raise ConfigError(
                f"Clip bounds for {self._label(j, names)} are [{lower[j]:g}, {upper[j]:g}]; lower must not exceed upper"
            )
        self.lower_ = lower
        self.upper_ = upper

    def _transform(self, X: FloatArray) -> FloatArray:
        return np.clip(X, self.lower_, self.upper_)

    def _inverse(self, X: FloatArray) -> FloatArray:
        return X.copy()


class GaussianTransform(Transform):
    """Map each feature to a standard normal through its training quantiles, with soft tails.

    The robust default for neural networks: heavy tails, skewed spectra, integers and
    near-constant columns all arrive at the network on the same scale, in the same
    order, with no information lost (the map is monotone).

    Parameters
    ----------
    n_quantiles
        Knots of the piecewise-linear map (at least 3).
    subsample
        At most this many events (evenly spaced through the sample) estimate the
        quantiles.

    Attributes
    ----------
    knots_ : numpy.ndarray
        Quantiles of each feature, shape ``(n_features, n_quantiles)``, non-decreasing.
    values_ : numpy.ndarray
        The normal quantiles they map to (tied knots share their mean value).
    tail_low_, tail_high_ : numpy.ndarray
        Per-feature scales of the logarithmic tails beyond the first and last knot.

    Notes
    -----
    With :math:`p_k = (k + \\tfrac12)/K` and :math:`t_k` the weighted :math:`p_k`-quantile
    of a feature (weights below zero count as zero), the knots map to
    :math:`v_k = \\Phi^{-1}(p_k)`.  Between knots the map is linear; beyond them it
    continues logarithmically, so outliers stay ordered but soft:

    .. math::

        z(x) = \\begin{cases}
          v_0 - \\ln\\big(1 + (t_0 - x)/s_0\\big) & x < t_0 \\\\
          v_i + m_i\\,(x - t_i), \\quad m_i = \\frac{v_{i+1} - v_i}{t_{i+1} - t_i}
            & t_i \\le x < t_{i+1} \\\\
          v_{K-1} + \\ln\\big(1 + (x - t_{K-1})/s_{K-1}\\big) & x \\ge t_{K-1}
        \\end{cases}

    where the tail scales :math:`s` continue the slope of the outermost sixteenth of
    the knots.  A constant feature maps to 0; a discrete one to the mean normal
    quantile of each value's probability mass.  The same formula, with the segment
    found by counting knots :math:`\\le x`, is folded into ONNX exports.
    """

    name = "gaussian"
    _state = ("knots_", "values_", "tail_low_", "tail_high_")

    knots_: FloatArray
    values_: FloatArray
    tail_low_: FloatArray
    tail_high_: FloatArray

    def __init__(self, n_quantiles: int = 128, subsample: int = 500_000) -> None:
        self.n_quantiles = n_quantiles
        self.subsample = subsample

    def _fit(self, X: FloatArray, sample_weight: FloatArray | None, names: Sequence[str] | None) -> None:
        from scipy.special import ndtri

        k = int(self.n_quantiles)
        if k < 3 or int(self.subsample) < k:
            raise ConfigError(
                f"GaussianTransform needs n_quantiles >= 3 and subsample >= n_quantiles, "
                f"got {self.n_quantiles!r} and {self.subsample!r}"
            )
        if X.shape[0] == 0:
            raise DataError("cannot fit GaussianTransform on zero events")
        take = np.unique(np.linspace(0, X.shape[0] - 1, min(X.shape[0], int(self.subsample))).astype(np.int64))
        X = X[take]
        w = np.ones(len(take)) if sample_weight is None else np.clip(sample_weight[take], 0.0, None)
        if not w.sum() > 0:
            w = np.ones(len(take))
        p = (np.arange(k) + 0.5) / k
        normal = ndtri(p)
        knots, values = np.empty((X.shape[1], k)), np.empty((X.shape[1], k))
        low, high = np.empty(X.shape[1]), np.empty(X.shape[1])
        for j in range(X.shape[1]):
            order = np.argsort(X[:, j], kind="stable")
            xs, ws = X[order, j], w[order]
            cdf = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
            t = np.interp(p, cdf, xs)
            # tied knots (a discrete value holding several quantiles) share their mean normal value
            _, inverse = np.unique(t, return_inverse=True)
            v = (np.bincount(inverse, normal) / np.bincount(inverse))[inverse]
            knots[j], values[j] = t, v
            low[j], high[j] = _tail_scale(t, v, k // 16 + 1)
        self.knots_, self.values_, self.tail_low_, self.tail_high_ = knots, values, low, high

    def _transform(self, X: FloatArray) -> FloatArray:
        out = np.empty_like(X)
        k = self.knots_.shape[1]
        for j in range(X.shape[1]):
            t, v = self.knots_[j], self.values_[j]
            xc = np.clip(X[:, j], t[0], t[-1])
            i = np.clip(np.searchsorted(t, xc, side="right"), 1, k - 1) - 1
            width = t[i + 1] - t[i]
            slope = np.divide(v[i + 1] - v[i], width, out=np.zeros_like(width), where=width > 0)
            z = v[i] + slope * (xc - t[i])
            z += np.log1p(np.maximum(X[:, j] - t[-1], 0.0) / self.tail_high_[j])
            z -= np.log1p(np.maximum(t[0] - X[:, j], 0.0) / self.tail_low_[j])
            out[:, j] = z
        return out

    def _inverse(self, X: FloatArray) -> FloatArray:
        out = np.empty_like(X)
        for j in range(X.shape[1]):
            t, v, z = self.knots_[j], self.values_[j], X[:, j]
            x = np.interp(z, v, t)
            x = np.where(z > v[-1], t[-1] + self.tail_high_[j] * np.expm1(z - v[-1]), x)
            out[:, j] = np.where(z < v[0], t[0] - self.tail_low_[j] * np.expm1(v[0] - z), x)
        return out

    def _check_state(self, arrays: Mapping[str, FloatArray], n_features: int) -> None:
        """Knots and values per feature and quantile, non-decreasing knots, positive finite tail scales."""
        k = arrays["knots_"].shape[-1] if arrays["knots_"].ndim == 2 else -1
        shapes: dict[str, tuple[int, ...]] = {"knots_": (n_features, k), "values_": (n_features, k)}
        shapes.update(tail_low_=(n_features,), tail_high_=(n_features,))
        for attr, values in arrays.items():
            if k < 3 or values.shape != shapes[attr] or not np.isfinite(values).all():
                raise DataError(f"transform {self.name!r}: {attr} has shape {values.shape}, not {shapes[attr]}")
        if np.any(np.diff(arrays["knots_"], axis=1) < 0):
            raise DataError(f"transform {self.name!r}: knots must not decrease")
        if not ((arrays["tail_low_"] > 0).all() and (arrays["tail_high_"] > 0).all()):
            raise DataError(f"transform {self.name!r}: tail scales must be positive")


class Residualize(Transform):
    """Replace each feature that is almost a linear function of the features before it by its residual.

    Energy and momentum of one object, or a sum listed beside its parts, are nearly equal
    up to a linear map, and the information (the mass, :math:`m^2 = E^2 - p^2`) sits in
    their small difference.  Scaled one by one, such features reach a network as two
    almost identical inputs, and it would need weights tuned to a part in a thousand to
    read the difference; the residual hands it over at unit scale.  Features that are
    not nearly collinear with earlier ones are left exactly as they are.

    Parameters
    ----------
    threshold
        A feature is replaced when its linear fit on the earlier features leaves less than
        this share of its variance unexplained (default 1e-3, i.e. :math:`R^2 > 0.999`);
        between 0 and 1.
    subsample
        At most this many events (evenly spaced through the sample) estimate the fits.

    Attributes
    ----------
    mean_, scale_ : numpy.ndarray
        Weighted mean and standard deviation of each feature (1 for a constant one).
    coef_ : numpy.ndarray
        Shape ``(n_features, n_features)``, strictly lower triangular: row :math:`j` holds the
        fit of standardised feature :math:`j` on the earlier standardised features (zero for
        a kept feature).
    kind_ : numpy.ndarray
        Per feature: 0 kept, 1 replaced by its residual, 2 redundant (a linear function of
        the earlier features to float precision; it carries nothing and maps to 0).

    Notes
    -----
    With :math:`z_k = (x_k - \\mu_k)/\\sigma_k` (weighted; weights below zero count as zero)
    and the weighted least-squares fit of :math:`z_j` on the earlier features that are not
    redundant,

    .. math::

        \\beta_j = \\arg\\min_\\beta \\, \\mathrm{E}_w\\Big[\\big(z_j - \\sum_{k<j} \\beta_k z_k\\big)^2\\Big],
        \\qquad 1 - R_j^2 = \\mathrm{E}_w\\Big[\\big(z_j - \\sum_{k<j} \\beta_{jk} z_k\\big)^2\\Big],

    the output is :math:`y_j = z_j - \\sum_{k<j} \\beta_{jk} z_k` when
    :math:`10^{-10} \\le 1 - R_j^2 <` ``threshold``, :math:`y_j = 0` below :math:`10^{-10}`,
    and :math:`y_j = x_j` otherwise.  The map is triangular with a unit diagonal, so it is
    undone feature by feature, in order: :math:`z_j = y_j + \\sum_{k<j} \\beta_{jk} z_k`.
    Screening uses the weighted correlation matrix; a candidate's fit and residual variance
    are then recomputed on the events themselves.
    """

    name = "residualize"
    _state = ("mean_", "scale_", "coef_", "kind_")
    KEPT, RESIDUAL, REDUNDANT = 0, 1, 2
    REDUNDANT_BELOW = 1e-10

    mean_: FloatArray
    scale_: FloatArray
    coef_: FloatArray
    kind_: FloatArray

    def __init__(self, threshold: float = 1e-3, subsample: int = 200_000) -> None:
        self.threshold = threshold
        self.subsample = subsample

    def _fit(self, X: FloatArray, sample_weight: FloatArray | None, names: Sequence[str] | None) -> None:
        tau = float(self.threshold)
        if not 0.0 < tau < 1.0 or int(self.subsample) < 2:
            raise ConfigError(
                f"Residualize needs 0 < threshold < 1 and subsample >= 2, got {self.threshold!r} and {self.subsample!r}"
            )
        if X.shape[0] == 0:
            raise DataError("cannot fit Residualize on zero events")
        take = np.unique(np.linspace(0, X.shape[0] - 1, min(X.shape[0], int(self.subsample))).astype(np.int64))
        z = X[take].copy()
        w = np.ones(len(take)) if sample_weight is None else np.clip(sample_weight[take], 0.0, None)
        w = w / w.sum() if w.sum() > 0 else np.full(len(take), 1.0 / len(take))
        mean = w @ z
        spread = np.ptp(z, axis=0) > 0
        z -= mean
        var = w @ (z * z)
        spread &= var > 0
        scale = np.where(spread, np.sqrt(np.where(spread, var, 1.0)), 1.0)
        z /= scale
        corr = np.zeros((z.shape[1], z.shape[1]))
        for lo in range(0, z.shape[0], 16_384):
            part = z[lo : lo + 16_384]
            corr += (part * w[lo : lo + 16_384, None]).T @ part
        coef, kind = np.zeros_like(corr), np.zeros(z.shape[1])
        root_w = np.sqrt(w)
        basis: list[int] = []
        for j in np.flatnonzero(spread):
            b = np.asarray(basis, dtype=np.intp)
            if b.size:
                beta = np.linalg.lstsq(corr[np.ix_(b, b)], corr[b, j], rcond=None)[0]
                if 1.0 - corr[b, j] @ beta < tau:  # a candidate: fit it on the events
                    beta = np.linalg.lstsq(z[:, b] * root_w[:, None], z[:, j] * root_w, rcond=None)[0]
                    unexplained = float(w @ (z[:, j] - z[:, b] @ beta) ** 2)
                    if unexplained < tau:
                        coef[j, b] = beta
                        kind[j] = self.REDUNDANT if unexplained < self.REDUNDANT_BELOW else self.RESIDUAL
            if kind[j] != self.REDUNDANT:
                basis.append(int(j))
        self.mean_, self.scale_, self.coef_, self.kind_ = mean, scale, coef, kind

    def _transform(self, X: FloatArray) -> FloatArray:
        out = X.copy()
        out[:, self.kind_ == self.REDUNDANT] = 0.0
        cols = np.flatnonzero(self.kind_ == self.RESIDUAL)
        if cols.size:  # only these columns are fitted: the others are never computed
            z = (X - self.mean_) / self.scale_
            out[:, cols] = z[:, cols] - z @ self.coef_[cols].T
        return out

    def _inverse(self, X: FloatArray) -> FloatArray:
        out = X.copy()
        z = (X - self.mean_) / self.scale_
        for j in np.flatnonzero(self.kind_):
            z[:, j] = z[:, :j] @ self.coef_[j, :j] + (X[:, j] if self.kind_[j] == self.RESIDUAL else 0.0)
            out[:, j] = self.mean_[j] + self.scale_[j] * z[:, j]
        return out

    def _check_state(self, arrays: Mapping[str, FloatArray], n_features: int) -> None:
        """Shapes, positive scales, a strictly lower-triangular fit and kinds 0, 1 or 2."""
        for attr, values in arrays.items():
            shape = (n_features, n_features) if attr == "coef_" else (n_features,)
            if values.shape != shape or not np.isfinite(values).all():
                raise DataError(f"transform {self.name!r}: {attr} has shape {values.shape}, not {shape}")
        if not (arrays["scale_"] > 0).all() or np.triu(arrays["coef_"]).any():
            raise DataError(f"transform {self.name!r}: scales must be positive and the fit strictly lower triangular")
        if not np.isin(arrays["kind_"], (self.KEPT, self.RESIDUAL, self.REDUNDANT)).all():
            raise DataError(f"transform {self.name!r}: kind_ must hold 0 (kept), 1 (residual) or 2 (redundant)")


def _tail_scale(t: FloatArray, v: FloatArray, q: int) -> tuple[float, float]:
    """Scales of the low and high tails: the inverse slope over the outermost ``q`` knots."""
    span = t[-1] - t[0]
    rise = v[-1] - v[0]
    fallback = span / rise if span > 0 and rise > 0 else 1.0

    def scale(dt: float, dv: float) -> float:
        return dt / dv if dt > 0 and dv > 0 else fallback

    return scale(t[q] - t[0], v[q] - v[0]), scale(t[-1] - t[-1 - q], v[-1] - v[-1 - q])


TRANSFORMS: Mapping[str, type[Transform]] = {
    cls.name: cls for cls in (StandardScaler, MinMaxScaler, LogTransform, Clip, GaussianTransform, Residualize)
}
"""Registry of transforms by their JSON name."""


def transform_from_json(data: Mapping[str, Any]) -> Transform:
    """Rebuild a transform, fitted state included, from :meth:`Transform.to_json`.

    Raises
    ------
    DataError
        The name is unknown or the content is malformed.
    """
    if not isinstance(data, Mapping) or "name" not in data:
        raise DataError(f"a serialised transform must be a mapping with a 'name', got {data!r}")
    name = data["name"]
    if name not in TRANSFORMS:
        raise DataError(
            f"unknown transform {name!r}{close_matches(str(name), TRANSFORMS)}; known: {', '.join(TRANSFORMS)}"
        )
    cls = TRANSFORMS[name]
    params = data.get("params") or {}
    if not isinstance(params, Mapping):
        raise DataError(f"params of transform {name!r} must be a mapping, got {params!r}")
    valid = cls._param_names()
    unknown = [key for key in params if key not in valid]
    if unknown:
        raise DataError(f"transform {name!r} has no parameter {unknown[0]!r}; parameters: {', '.join(valid)}")
    transform = cls(**{key: decode_value(value) for key, value in params.items()})
    state = data.get("state")
    if state is not None:
        if not isinstance(state, Mapping):
            raise DataError(f"state of transform {name!r} must be a mapping, got {state!r}")
        transform._restore(state)
    return transform
