"""Weighted two-sample Kolmogorov–Smirnov test and TMVA's overtraining check.

An overtrained classifier scores its training events differently from unseen
events of the same class; TMVA compares the training and test score
distributions of each class with a Kolmogorov–Smirnov test.  Weighted samples
enter the p-value through their effective sizes, as ROOT's
``TH1::KolmogorovTest`` does.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.closure import effective_sample_size
from neyman.metrics.inputs import binary_sample, float_array, total_weight, weights

__all__ = ["kolmogorov_sf", "ks_test", "overtraining_check"]

# Below this λ the alternating series converges slowly; the theta-function form
# converges fast there (and vice versa above it).
_SWITCH = 1.0
_TERMS = np.arange(1, 101, dtype=np.float64)


def kolmogorov_sf(x: npt.ArrayLike) -> np.ndarray:
    """Survival function ``Q(λ) = P(K > λ)`` of the Kolmogorov distribution.

    Parameters
    ----------
    x
        Values ``λ ≥ 0``, any shape.

    Returns
    -------
    numpy.ndarray
        ``Q(λ)`` in ``[0, 1]``, the shape of ``x``.

    Notes
    -----
    ``Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²λ²)`` for ``λ ≥ 1`` and the equivalent
    ``Q(λ) = 1 − (√(2π)/λ) Σ_{k≥1} exp(−(2k−1)²π²/(8λ²))`` for ``λ < 1``, each
    summed to 100 terms (exact to double precision); ``Q(0) = 1``.  ``K`` is the
    limit of ``√n sup_x |F_n(x) − F(x)|``.
    """
    lam = np.asarray(x, dtype=np.float64)
    if np.isnan(lam).any() or (lam < 0).any():
        raise DataError(f"the Kolmogorov distribution is defined for λ ≥ 0, got {x!r}")
    flat = lam.ravel()
    result = np.ones_like(flat)
    large = flat >= _SWITCH
    if large.any():
        k = _TERMS[:, None]
        signs = np.where(_TERMS % 2 == 1, 1.0, -1.0)[:, None]
        result[large] = 2.0 * np.sum(signs * np.exp(-2.0 * k**2 * flat[large] ** 2), axis=0)
    small = (flat > 0) & ~large
    if small.any():
        odd = (2.0 * _TERMS[:, None] - 1.0) ** 2
        theta = np.sum(np.exp(-odd * math.pi**2 / (8.0 * flat[small] ** 2)), axis=0)
        result[small] = 1.0 - math.sqrt(2.0 * math.pi) / flat[small] * theta
    return np.asarray(np.clip(result, 0.0, 1.0).reshape(lam.shape))


def _sample(values: npt.ArrayLike, weight: npt.ArrayLike | None, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = float_array(values, name, allow_inf=True)
    w = weights(weight, len(x), reference=name)
    total_weight(w, f"events of sample {name}")
    return x, w


def ks_test(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    weight_a: npt.ArrayLike | None = None,
    weight_b: npt.ArrayLike | None = None,
) -> tuple[float, float]:
    """Weighted two-sample Kolmogorov–Smirnov statistic and its asymptotic p-value.

    Parameters
    ----------
    a, b
        The two samples, 1-dimensional, of any lengths.
    weight_a, weight_b
        Per-event weights of either sign for each sample; unit weights when None.
        Each sample's total weight must be positive.

    Returns
    -------
    statistic : float
        ``D``, the largest distance between the two weighted empirical CDFs.
    p_value : float
        The asymptotic probability of a larger ``D`` if both samples come from one
        distribution.

    Notes
    -----
    With the weighted empirical CDFs ``F_a(x) = Σ_{a_i ≤ x} w_i / Σ w_i`` (likewise
    ``F_b``), ``D = sup_x |F_a(x) − F_b(x)|``, evaluated after every distinct value of
    the pooled samples (ties enter together).  Unweighted, ``D`` equals
    ``scipy.stats.ks_2samp``'s statistic.

    The p-value is ``Q(√n_e D)`` with ``Q`` the Kolmogorov survival function
    (:func:`kolmogorov_sf`) and ``n_e = n_a n_b / (n_a + n_b)``, where each sample
    enters through its *effective* size ``n = (Σ w)² / Σ w²`` (the true size for
    unit weights), as in ROOT's ``TH1::KolmogorovTest``.  This is the large-sample
    limit: for ``n_e`` of a hundred or more it is within about 5% of the exact
    distribution (``scipy``'s ``method="asymp"`` uses a finite-``n`` one and is
    slightly smaller).  Weighted events are not counts, so with very unequal or
    negative weights the p-value is only indicative.
    """
    x_a, w_a = _sample(a, weight_a, "a")
    x_b, w_b = _sample(b, weight_b, "b")
    values = np.concatenate([x_a, x_b])
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    from_a = (np.arange(len(values)) < len(x_a))[order]
    sorted_w = np.concatenate([w_a, w_b])[order]
    # Cumulative weights divided by their last entry: unit weights give k/n exactly
    # (as scipy), and both CDFs end at exactly 1.
    cdf_a = np.cumsum(np.where(from_a, sorted_w, 0.0))
    cdf_b = np.cumsum(np.where(from_a, 0.0, sorted_w))
    last_of_group = np.flatnonzero(np.append(sorted_values[1:] != sorted_values[:-1], True))
    difference = cdf_a[last_of_group] / cdf_a[-1] - cdf_b[last_of_group] / cdf_b[-1]
    statistic = float(np.max(np.abs(difference)))
    n_a, n_b = effective_sample_size(w_a), effective_sample_size(w_b)
    n_e = n_a * n_b / (n_a + n_b)
    p_value = float(kolmogorov_sf(math.sqrt(n_e) * statistic))
    return statistic, p_value


def overtraining_check(
    train_scores: npt.ArrayLike,
    train_labels: npt.ArrayLike,
    test_scores: npt.ArrayLike,
    test_labels: npt.ArrayLike,
    *,
    train_weight: npt.ArrayLike | None = None,
    test_weight: npt.ArrayLike | None = None,
) -> dict[str, float]:
    """TMVA's overtraining check: KS test of training against test scores, per class.

    Parameters
    ----------
    train_scores, train_labels
        Classifier output and 0/1 labels of the training events.
    test_scores, test_labels
        The same for the test (held-out) events.
    train_weight, test_weight
        Per-event weights of either sign; unit weights when None.

    Returns
    -------
    dict
        ``signal_ks_statistic``, ``signal_ks_p_value``, ``background_ks_statistic`` and
        ``background_ks_p_value``.

    Notes
    -----
    For each class ``c`` (signal: label 1, background: label 0),
    ``(D_c, p_c) = ks_test(train scores of c, test scores of c)`` with the weights
    of those events (:func:`ks_test`).  A small p-value (TMVA flags < 0.01 or so)
    means the classifier scores the events it was trained on differently from
    unseen events: it has learned fluctuations of the training sample.
    """
    s_train, y_train, w_train = binary_sample(
        train_scores, train_labels, train_weight, name="train_scores", allow_inf=True
    )
    s_test, y_test, w_test = binary_sample(test_scores, test_labels, test_weight, name="test_scores", allow_inf=True)
    result: dict[str, float] = {}
    for name, label in (("signal", 1), ("background", 0)):
        train_mask, test_mask = y_train == label, y_test == label
        for split, mask, w in (("training", train_mask, w_train), ("test", test_mask, w_test)):
            total_weight(w[mask], f"{name} events (label {label}) of the {split} sample")
        statistic, p_value = ks_test(
            s_train[train_mask], s_test[test_mask], weight_a=w_train[train_mask], weight_b=w_test[test_mask]
        )
        result[f"{name}_ks_statistic"] = statistic
        result[f"{name}_ks_p_value"] = p_value
    return result
