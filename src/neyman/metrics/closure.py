"""Closure of a reweighting: the effective sample size and weighted histograms compared bin by bin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.inputs import float_array, weights

__all__ = ["HistogramComparison", "compare_histograms", "comparison_edges", "effective_sample_size"]

_BINS = 30
_RANGE_QUANTILES = (0.005, 0.995)
_MAX_DISCRETE_VALUES = 30


def effective_sample_size(sample_weight: npt.ArrayLike) -> float:
    """Kish's effective number of events of a weighted sample.

    Parameters
    ----------
    sample_weight
        Event weights (negative ones allowed).

    Returns
    -------
    float
        ``(Σ w)² / Σ w²``; 0 for an empty sample or one of zero weights.

    Notes
    -----
    .. math:: N_\\mathrm{eff} = \\frac{(\\sum_i w_i)^2}{\\sum_i w_i^2}

    A sample of ``N`` events with these weights has the statistical power of
    ``N_eff`` unweighted events: the relative uncertainty of its weighted sum is
    ``1/√N_eff``.  ``N_eff = N`` for equal weights and falls as the weights spread.
    """
    w = np.asarray(sample_weight, dtype=np.float64)
    squares = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / squares) if squares > 0 else 0.0


def comparison_edges(*samples: npt.ArrayLike, bins: int = _BINS) -> np.ndarray:
    """Common bin edges of several samples of one variable.

    Integer-valued variables with few values (multiplicities, charges) get one bin
    per value; others ``bins`` equal bins between the 0.5% and 99.5% quantiles of
    the pooled samples, so a few outliers do not squeeze the bulk into one bin.
    """
    pooled = np.concatenate([np.asarray(s, dtype=np.float64).ravel() for s in samples])
    pooled = pooled[np.isfinite(pooled)]
    if len(pooled) == 0:
        raise DataError("no finite values to histogram")
    distinct = np.unique(pooled)
    if len(distinct) <= _MAX_DISCRETE_VALUES and np.all(distinct == np.round(distinct)):
        return np.arange(distinct[0] - 0.5, distinct[-1] + 1.0)
    low, high = (float(q) for q in np.quantile(pooled, _RANGE_QUANTILES))
    if not high > low:
        low, high = float(distinct[0]) - 0.5, float(distinct[-1]) + 0.5
    return np.linspace(low, high, bins + 1)


@dataclass(frozen=True)
class HistogramComparison:
    """Normalised weighted histograms of one variable in several samples.

    Attributes
    ----------
    edges
        Bin edges; values outside fall into the first or last bin.
    names
        One name per sample.
    densities, errors
        ``(n_samples, n_bins)``: each sample's fraction of its total weight per bin
        and its statistical uncertainty.
    """

    edges: np.ndarray
    names: tuple[str, ...]
    densities: np.ndarray
    errors: np.ndarray

    def chi2(self, a: str, b: str) -> tuple[float, int]:
        """``(χ², ndf)`` of samples ``a`` and ``b`` (bins where either has content).

        Notes
        -----
        .. math:: \\chi^2 = \\sum_k \\frac{(h_{a,k} - h_{b,k})^2}{\\sigma_{a,k}^2 + \\sigma_{b,k}^2},
           \\quad \\mathrm{ndf} = n_\\mathrm{bins} - 1

        with ``h`` the normalised contents and ``σ² = Σ w²/(Σ w)²`` per bin; the
        normalisation removes one degree of freedom.  For two samples of one
        distribution ``χ²/ndf ≈ 1``.
        """
        i, j = self.names.index(a), self.names.index(b)
        var = self.errors[i] ** 2 + self.errors[j] ** 2
        used = var > 0
        chi2 = float(np.sum((self.densities[i][used] - self.densities[j][used]) ** 2 / var[used]))
        return chi2, max(int(used.sum()) - 1, 1)


def compare_histograms(
    samples: Sequence[tuple[str, npt.ArrayLike, npt.ArrayLike | None]], edges: npt.ArrayLike
) -> HistogramComparison:
    """Histogram every sample of one variable with common edges, normalised to unit total.

    Parameters
    ----------
    samples
        ``(name, values, weights)`` per sample (``None``: unit weights).
    edges
        Bin edges (:func:`comparison_edges`); under- and overflow go to the end bins.

    Returns
    -------
    HistogramComparison

    Notes
    -----
    Bin ``k`` of a sample holds ``h_k = Σ_{i∈k} w_i / Σ_i w_i`` with uncertainty
    ``σ_k = √(Σ_{i∈k} w_i²) / |Σ_i w_i|`` (the total's own fluctuation is neglected).
    """
    e = float_array(edges, "edges")
    n_bins = len(e) - 1
    dens, errs = [], []
    for name, values, weight in samples:
        x = float_array(values, f"values of {name}", allow_inf=True)
        w = weights(weight, len(x), reference=f"values of {name}")
        keep = np.isfinite(x)
        idx = np.clip(np.searchsorted(e, x[keep], side="right") - 1, 0, n_bins - 1)
        total = float(np.sum(w[keep]))
        if total == 0:
            raise DataError(f"sample {name!r} has zero total weight; it cannot be normalised")
        dens.append(np.bincount(idx, weights=w[keep], minlength=n_bins) / total)
        errs.append(np.sqrt(np.bincount(idx, weights=w[keep] ** 2, minlength=n_bins)) / abs(total))
    return HistogramComparison(
        edges=e, names=tuple(s[0] for s in samples), densities=np.array(dens), errors=np.array(errs)
    )
