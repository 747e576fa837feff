"""Non-finite values (NaN, ±inf) in feature matrices: report them all, or fill them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from neyman.exceptions import ConfigError, DataError
from neyman.table import Table

__all__ = ["check_finite", "dependent_features", "marker_values"]


def _labels(feature_names: Sequence[str] | None, n_features: int) -> list[str]:
    if feature_names is None:
        return [f"feature {j}" for j in range(n_features)]
    return [f"column {name!r}" for name in feature_names]


def check_finite(
    data: Table | npt.ArrayLike,
    feature_names: Sequence[str] | None,
    *,
    fill_value: float | None = None,
    source: str = "",
    trained: bool = False,
) -> npt.NDArray[np.floating]:
    """Return the features as a float matrix, refusing or filling NaN and ±inf.

    Parameters
    ----------
    data
        A :class:`~neyman.table.Table` (the columns ``feature_names`` are read) or an
        array of shape ``(n_events, n_features)``.
    feature_names
        Names of the features, used to read a table and in messages; ``None`` for an
        array without names.
    fill_value
        When given, every non-finite entry is replaced by this value.  When ``None``
        (the default) non-finite entries are an error.
    source
        The file the data came from, for the message (defaults to the table's source).
    trained
        The features go to a model already trained (``neyman predict``, an export):
        the message then says that the run's ``fill_value`` cannot be changed now,
        instead of suggesting to set it.

    Returns
    -------
    numpy.ndarray
        Array of shape ``(n_events, n_features)``: float64 for a table or an integer
        array, otherwise the input's floating dtype.  Never the input object itself
        when values were filled.

    Raises
    ------
    DataError
        Non-finite values are present and ``fill_value`` is ``None``; the message lists
        every offending feature with its number of NaN, +inf and -inf entries.
    ConfigError
        ``fill_value`` is itself not finite.
    """
    if isinstance(data, Table):
        if feature_names is None:
            raise ConfigError("check_finite needs feature_names to read columns of a table")
        matrix = data.to_numpy(list(feature_names), dtype=np.float64)
        source = source or data.source
    else:
        matrix = np.asarray(data)
        if matrix.ndim != 2:
            raise DataError(f"expected an array of shape (n_events, n_features), got shape {matrix.shape}")
        if not np.issubdtype(matrix.dtype, np.floating):
            matrix = matrix.astype(np.float64)
    n_features = matrix.shape[1]
    if feature_names is not None and len(feature_names) != n_features:
        raise DataError(f"{len(feature_names)} feature names for an array with {n_features} features")
    if fill_value is not None and not np.isfinite(fill_value):
        raise ConfigError(f"fill_value must be a finite number, got {fill_value!r}")

    finite = np.isfinite(matrix)
    if finite.all():
        return _within_float32(matrix, feature_names, source)
    if fill_value is not None:
        filled = np.where(finite, matrix, np.asarray(fill_value, dtype=matrix.dtype))
        return _within_float32(filled, feature_names, source)

    labels = _labels(feature_names, n_features)
    problems = []
    offending = np.flatnonzero(~finite.all(axis=0))
    for j in offending:
        column = matrix[:, j]
        n_nan = int(np.isnan(column).sum())
        n_pos = int(np.isposinf(column).sum())
        n_neg = int(np.isneginf(column).sum())
        problems.append(f"{labels[j]}: {n_nan} NaN, {n_pos} +inf, {n_neg} -inf")
    where = f" in {source}" if source else ""
    names = [feature_names[int(j)] if feature_names is not None else f"x{j}" for j in offending[:3]]
    names = [name if name.isidentifier() else f"`{name}`" for name in names]  # the selection language's quoting
    cut = "'" + " and ".join(f"isfinite({name})" for name in names) + (" and ...'" if len(offending) > 3 else "'")
    remedy = (
        f"The run was trained without data.fill_value, so it cannot score them: remove those events from the "
        f"file (keep the rows where {cut[1:-1]}), or train again with data.fill_value set"
        if trained
        else f"Set data.fill_value or select the events with a cut, e.g. {cut}"
    )
    raise DataError(
        f"non-finite values{where} (among the {matrix.shape[0]} events read): " + "; ".join(problems) + ". " + remedy
    )


FLOAT32_MAX = float(np.finfo(np.float32).max)
"""The largest magnitude the models' float32 arithmetic holds (about 3.4e38)."""


def _within_float32(
    matrix: npt.NDArray[np.floating], feature_names: Sequence[str] | None, source: str
) -> npt.NDArray[np.floating]:
    """``matrix``, refused when a finite value would become infinite in float32.

    Models compute in float32; a value beyond ``FLOAT32_MAX`` (a sentinel such as
    1e300, a quantity in the wrong unit) would reach them as an infinity.
    """
    if matrix.dtype.itemsize <= 4:
        return matrix
    big = np.abs(matrix) > FLOAT32_MAX
    if not big.any():
        return matrix
    labels = _labels(feature_names, matrix.shape[1])
    columns = np.flatnonzero(big.any(axis=0))
    problems = [
        f"{labels[j]}: {int(big[:, j].sum())} value(s) up to {float(np.max(np.abs(matrix[:, j]))):.3g}" for j in columns
    ]
    where = f" in {source}" if source else ""
    raise DataError(
        f"values beyond ±{FLOAT32_MAX:.3g}{where}, which the models' float32 arithmetic would turn into "
        f"infinities: {'; '.join(problems)}. Rescale the column (e.g. a logarithm or another unit), "
        "write a sentinel meaning 'undefined' as NaN in the file and set data.fill_value, select the events without "
        "it (data.selection), or leave the column out"
    )


MARKER_FRACTION = 0.01
"""The share of events a single value needs to be taken for a marker (:func:`marker_values`)."""

MARKER_GAP = 5.0
"""How many standard deviations of a feature's other values a marker lies beyond all of them."""


def marker_values(
    matrix: npt.NDArray[np.floating], feature_names: Sequence[str], *, sample: int = 200_000
) -> list[str]:
    """Features holding a stand-in for an undefined value, such as the ATLAS Higgs challenge's -999.

    Parameters
    ----------
    matrix
        The features, ``(n_events, n_features)``, finite.
    feature_names
        Their names, for the descriptions.
    sample
        At most this many events (spread through the sample) are examined.

    Returns
    -------
    list of str
        One description per feature whose most frequent value is a marker, e.g.
        ``"'DER_mass_MMC' holds -999 in 15.2% of events, 17 standard deviations below its other values"``.

    Notes
    -----
    A value :math:`m` held by a fraction :math:`f \\ge` ``MARKER_FRACTION`` of the events is a
    marker when it lies beyond every other value of the feature, by a gap
    :math:`\\min_{x \\ne m} |x - m| > ` ``MARKER_GAP`` :math:`\\cdot\\,\\sigma`, where
    :math:`\\sigma` is the standard deviation of the other values (which must vary).  A
    measured quantity piles up at its physical edge (a zero, a threshold) next to its other
    values, not many standard deviations away from all of them.
    """
    take = np.unique(np.linspace(0, len(matrix) - 1, min(len(matrix), sample)).astype(np.int64))
    found = []
    for j, name in enumerate(feature_names):
        column = np.asarray(matrix[take, j], dtype=np.float64)
        if column.size == 0:
            continue
        values, counts = np.unique(column, return_counts=True)
        top = int(np.argmax(counts))
        fraction = counts[top] / column.size
        if fraction < MARKER_FRACTION or len(values) < 3 or 0 < top < len(values) - 1:
            continue  # rare, too few values, or inside the range of the others
        others = column[column != values[top]]
        spread = float(np.std(others))
        gap = float(np.min(np.abs(others - values[top])))
        if spread > 0 and gap > MARKER_GAP * spread:
            side = "below" if top == 0 else "above"
            found.append(
                f"{name!r} holds {values[top]:g} in {100 * fraction:.1f}% of events, {gap / spread:.0f} standard "
                f"deviations {side} its other values"
            )
    return found


def dependent_features(correlation: npt.ArrayLike, feature_names: Sequence[str], *, tolerance: float) -> list[str]:
    """The features of a linear dependence among the columns (a copy, a sum), or ``[]`` when there is none.

    Parameters
    ----------
    correlation
        The features' correlation matrix, ``(n_features, n_features)``.
    feature_names
        Their names.
    tolerance
        A dependence is an eigenvalue below ``tolerance`` times the largest.

    Notes
    -----
    For the smallest eigenvalue :math:`\\lambda_0` of the correlation matrix and its
    eigenvector :math:`v`, :math:`\\lambda_0 \\approx 0` means :math:`\\sum_j v_j z_j \\approx 0`
    for the standardised features :math:`z_j`; the features named are those with
    :math:`|v_j| > 0.1 \\max_k |v_k|`.
    """
    values, vectors = np.linalg.eigh(np.asarray(correlation, dtype=np.float64))
    if values[0] > tolerance * values[-1]:
        return []
    weight = np.abs(vectors[:, 0])
    return [feature_names[int(j)] for j in np.flatnonzero(weight > 0.1 * weight.max())]
