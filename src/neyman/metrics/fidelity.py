"""How close generated events are to real ones: per-feature Wasserstein distances and the Fréchet distance.

The classifier two-sample test (:func:`neyman.reweighting.two_sample_auc`)
completes these: it sees every correlation, where these summarise marginals
(W1) and the first two moments (Fréchet).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.inputs import float_array, weights

__all__ = ["frechet_distance", "wasserstein_distance"]


def wasserstein_distance(
    a: npt.ArrayLike, b: npt.ArrayLike, a_weight: npt.ArrayLike | None = None, b_weight: npt.ArrayLike | None = None
) -> float:
    """The 1-Wasserstein (earth mover's) distance between two weighted one-dimensional samples.

    Parameters
    ----------
    a, b
        The two samples' values.
    a_weight, b_weight
        Their non-negative weights (unit weights when None).

    Returns
    -------
    float
        In the units of the values; 0 for identical distributions.

    Notes
    -----
    .. math:: W_1 = \\int |F_a(x) - F_b(x)|\\, dx,

    the area between the two weighted empirical cumulative distributions,
    computed exactly on the union of the sample points.
    """
    xa, xb = float_array(a, "a"), float_array(b, "b")
    wa, wb = weights(a_weight, len(xa), reference="a"), weights(b_weight, len(xb), reference="b")
    if (wa < 0).any() or (wb < 0).any() or not (wa.sum() > 0 and wb.sum() > 0):
        raise DataError("the Wasserstein distance needs non-negative weights with a positive total in both samples")
    points = np.concatenate([xa, xb])
    order = np.argsort(points, kind="stable")
    mass = np.concatenate([wa / wa.sum(), -wb / wb.sum()])[order]
    difference = np.cumsum(mass)[:-1]
    return float(np.sum(np.abs(difference) * np.diff(points[order])))


def frechet_distance(real: npt.ArrayLike, generated: npt.ArrayLike) -> float:
    """The Fréchet distance between Gaussians fitted to two samples, in the real sample's standard units.

    Parameters
    ----------
    real, generated
        ``(n, d)`` feature matrices with the same columns.

    Returns
    -------
    float
        0 when means and covariances agree.

    Notes
    -----
    Both samples are divided by the real sample's standard deviation per feature
    (so the units of the features do not weigh them), then

    .. math:: d_F^2 = \\lVert \\mu_r - \\mu_g \\rVert^2
              + \\mathrm{Tr}\\big(\\Sigma_r + \\Sigma_g - 2 (\\Sigma_r \\Sigma_g)^{1/2}\\big),

    the Fréchet physics distance (FPD) of the jet-generation literature on the
    features themselves; the value returned is :math:`d_F^2`.  The trace of the root is
    taken as :math:`\\mathrm{Tr}\\,(\\Sigma_r^{1/2} \\Sigma_g \\Sigma_r^{1/2})^{1/2}` (the same
    eigenvalues), from symmetric eigen-decompositions: a constant column makes the
    covariances singular, where the general matrix root is ill-conditioned.
    """
    r, g = float_array(real, "real", ndim=2), float_array(generated, "generated", ndim=2)
    if r.shape[1] != g.shape[1]:
        raise DataError(f"the samples have {r.shape[1]} and {g.shape[1]} features; give both the same columns")
    scale = r.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    r, g = r / scale, g / scale
    mu_r, mu_g = r.mean(axis=0), g.mean(axis=0)
    cov_r, cov_g = np.atleast_2d(np.cov(r, rowvar=False)), np.atleast_2d(np.cov(g, rowvar=False))
    half = _psd_root(cov_r)
    inner = half @ cov_g @ half
    root_trace = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2.0), 0.0, None))))
    value = float(np.sum((mu_r - mu_g) ** 2) + np.trace(cov_r) + np.trace(cov_g) - 2.0 * root_trace)
    return max(value, 0.0)


def _psd_root(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a covariance matrix (negative round-off eigenvalues set to 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return np.asarray((vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T)
