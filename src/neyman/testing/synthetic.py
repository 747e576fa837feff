"""Synthetic datasets whose optimal answer is known exactly.

Signal and background are multivariate Gaussians in a latent space ``z`` with
different means *and* covariances.  The observed features are ``x = T(z)`` for a
fixed, invertible, triangular, non-linear map ``T`` that is the same for both
classes, so the Jacobian cancels in the density ratio and

.. math:: \\frac{p_S(x)}{p_B(x)} = \\frac{\\mathcal N(z; \\mu_S, \\Sigma_S)}{\\mathcal N(z; \\mu_B, \\Sigma_B)}.

By the Neyman–Pearson lemma a cut on this ratio is the most powerful test, so its
ROC curve is the best any classifier can reach.  The log ratio is stored in the
``true_log_lr`` column.
"""

from __future__ import annotations

import numpy as np

from neyman.seeding import rng
from neyman.table import EVENT_ID, LABEL, TARGET, TRUE_LOG_LR, WEIGHT, Table

__all__ = [
    "TRUE_LOG_LR",
    "gaussian_regression_dataset",
    "likelihood_ratio_dataset",
    "mass_sculpting_dataset",
    "multiclass_dataset",
    "resonance_search_dataset",
    "signed_weight_dataset",
]

_PROBLEM_SEED = 2014  # fixes the problem (means, covariances); sampling uses the user's seed


def _class_parameters(n_features: int, n_classes: int) -> list[tuple[np.ndarray, np.ndarray]]:
    gen = np.random.default_rng(_PROBLEM_SEED + 97 * n_features + n_classes)
    params = []
    for k in range(n_classes):
        mean = 0.35 * gen.normal(size=n_features) if k else np.zeros(n_features)
        a = gen.normal(size=(n_features, n_features)) / np.sqrt(n_features)
        scales = np.exp(0.25 * gen.normal(size=n_features))
        cov = 0.5 * (a @ a.T) + np.diag(scales**2)
        # normalise to unit marginal variance so classes overlap substantially
        d = np.sqrt(np.diag(cov))
        cov = cov / np.outer(d, d) * (1.0 + 0.3 * k) ** 2
        params.append((mean, cov))
    return params


def _log_gauss(z: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    chol = np.linalg.cholesky(cov)
    sol = np.linalg.solve(chol, (z - mean).T)
    return np.asarray(-0.5 * np.sum(sol**2, axis=0) - np.sum(np.log(np.diag(chol))))


def _transform(z: np.ndarray) -> np.ndarray:
    """Invertible triangular map: x_i is monotonic in z_i given z_{<i}."""
    x = np.empty_like(z)
    n = z.shape[1]
    for i in range(n):
        zi = z[:, i]
        kind = i % 4
        if kind == 0:
            x[:, i] = 40.0 * np.exp(0.4 * zi)  # a positive, "pT-like" feature
        elif kind == 1:
            x[:, i] = zi + 0.5 * z[:, i - 1] ** 2
        elif kind == 2:
            x[:, i] = np.sinh(zi) + np.tanh(z[:, i - 2])
        else:
            x[:, i] = zi * (1.0 + 0.5 / (1.0 + z[:, i - 3] ** 2))
    return x


def likelihood_ratio_dataset(
    n_events: int, *, n_features: int = 12, seed: int = 0, signal_fraction: float = 0.5
) -> Table:
    """Binary signal/background sample with the true log likelihood ratio.

    Parameters
    ----------
    n_events
        Number of events.
    n_features
        Number of correlated, non-linearly transformed features ``x00, x01, ...``.
    seed
        Sampling seed (the problem itself is fixed).
    signal_fraction
        Fraction of signal events.

    Returns
    -------
    Table
        Columns ``x00 ...``, ``label``, ``weight`` (ones), ``event_id`` and
        ``true_log_lr`` (log p_S/p_B).
    """
    gen = rng(seed, "likelihood-ratio")
    (mu_b, cov_b), (mu_s, cov_s) = _class_parameters(n_features, 2)
    label = (gen.random(n_events) < signal_fraction).astype(np.int64)
    z = np.empty((n_events, n_features))
    n_sig = int(label.sum())
    z[label == 1] = gen.multivariate_normal(mu_s, cov_s, size=n_sig)
    z[label == 0] = gen.multivariate_normal(mu_b, cov_b, size=n_events - n_sig)
    log_lr = _log_gauss(z, mu_s, cov_s) - _log_gauss(z, mu_b, cov_b)
    x = _transform(z)
    cols = {f"x{i:02d}": x[:, i] for i in range(n_features)}
    cols.update(
        {
            LABEL: label,
            WEIGHT: np.ones(n_events),
            EVENT_ID: np.arange(n_events, dtype=np.int64),
            TRUE_LOG_LR: log_lr,
        }
    )
    return Table(cols, source="synthetic likelihood-ratio dataset")


def multiclass_dataset(n_events: int, *, n_classes: int = 3, n_features: int = 8, seed: int = 0) -> Table:
    """Equal-fraction multi-class sample with per-class true log densities.

    Columns ``x00 ...``, ``label`` (0 .. n_classes-1), ``weight``, ``event_id`` and
    ``true_log_p{k}`` (log density of class ``k`` in latent space, up to the
    common Jacobian).
    """
    gen = rng(seed, "multiclass")
    params = _class_parameters(n_features, n_classes)
    label = gen.integers(0, n_classes, size=n_events)
    z = np.empty((n_events, n_features))
    for k, (mu, cov) in enumerate(params):
        sel = label == k
        z[sel] = gen.multivariate_normal(mu, cov, size=int(sel.sum()))
    x = _transform(z)
    cols = {f"x{i:02d}": x[:, i] for i in range(n_features)}
    cols.update({LABEL: label, WEIGHT: np.ones(n_events), EVENT_ID: np.arange(n_events)})
    for k, (mu, cov) in enumerate(params):
        cols[f"true_log_p{k}"] = _log_gauss(z, mu, cov)
    return Table(cols, source="synthetic multi-class dataset")


def gaussian_regression_dataset(n_events: int, *, seed: int = 0) -> Table:
    """Regression sample with a known, input-dependent resolution.

    ``target = m(x) + sigma(x) * N(0, 1)`` with
    ``m(x) = 2 sin(x0) + x1 x2`` and ``sigma(x) = 0.1 + 0.3 |x0| + 0.2 x3^2``.
    The columns ``true_mean`` and ``true_sigma`` hold ``m`` and ``sigma``.
    """
    gen = rng(seed, "gaussian-regression")
    x = gen.uniform(-1.5, 1.5, size=(n_events, 4))
    mean = 2.0 * np.sin(x[:, 0]) + x[:, 1] * x[:, 2]
    sigma = 0.1 + 0.3 * np.abs(x[:, 0]) + 0.2 * x[:, 3] ** 2
    y = mean + sigma * gen.normal(size=n_events)
    cols: dict[str, np.ndarray] = {f"x{i:02d}": x[:, i] for i in range(4)}
    cols.update(
        {
            TARGET: y,
            "true_mean": mean,
            "true_sigma": sigma,
            WEIGHT: np.ones(n_events),
            EVENT_ID: np.arange(n_events, dtype=np.int64),
        }
    )
    return Table(cols, source="synthetic gaussian-regression dataset")


def signed_weight_dataset(n_events: int, *, n_features: int = 12, seed: int = 0) -> Table:
    """A sample with signed event weights (about a quarter negative) whose mean weight is known.

    The events follow the background Gaussian of :func:`likelihood_ratio_dataset`
    (same map to ``x``).  Each weight is ``w = ±c(z)`` with magnitude
    ``c = 1 + 0.5 tanh(z_1)`` and sign ``+`` with probability ``(1 + m(z)) / 2``,
    ``m = 0.5 + 0.4 tanh(u)`` and ``u = z_0 + z_2 z_3 - 0.5 z_4^2 + 0.5``, as an NLO
    generator's subtraction terms make them.  The density the sample stands for is
    ``q(x) E[w|x]`` with ``E[w|x] = c m > 0``; the column ``true_mean_weight`` holds it.

    Columns ``x00 ...``, ``weight``, ``event_id``, ``true_mean_weight``.
    """
    if n_features < 5:
        raise ValueError(f"n_features must be at least 5 (got {n_features})")
    gen = rng(seed, "signed-weights")
    (mu, cov) = _class_parameters(n_features, 2)[0]
    z = gen.multivariate_normal(mu, cov, size=n_events)
    c = 1.0 + 0.5 * np.tanh(z[:, 1])
    m = 0.5 + 0.4 * np.tanh(z[:, 0] + z[:, 2] * z[:, 3] - 0.5 * z[:, 4] ** 2 + 0.5)
    sign = np.where(gen.random(n_events) < 0.5 * (1.0 + m), 1.0, -1.0)
    x = _transform(z)
    cols: dict[str, np.ndarray] = {f"x{i:02d}": x[:, i] for i in range(n_features)}
    cols.update(
        {
            WEIGHT: sign * c,
            EVENT_ID: np.arange(n_events, dtype=np.int64),
            "true_mean_weight": c * m,
        }
    )
    return Table(cols, source="synthetic signed-weight dataset")


def mass_sculpting_dataset(n_events: int, *, seed: int = 0, signal_width: float = 8.0) -> Table:
    """A tagging sample whose best tagger sculpts the background mass unless decorrelated.

    Half signal, half background.  The background ``mass`` falls exponentially
    from 30 (scale 60, cut at 300), the signal's is ``N(80, signal_width)``
    (redrawn below 30; a wide signal, as from a scan of resonance masses, covers
    the background's range).  Features:
    ``shape`` is independent of the mass in both classes (background ``N(0, 1)``,
    signal ``N(1.2, 1)``): a tagger reading only it cannot sculpt and reaches
    AUC ``Φ(1.2/√2) ≈ 0.80``; ``mass_proxy = mass/100 + N(0, 0.15)`` carries the
    mass, so a tagger that uses it finds the signal's mass window and sculpts the
    background into a peak at 80; ``noise`` is ``N(0, 1)`` in both classes.

    Columns ``shape``, ``mass_proxy``, ``noise``, ``mass``, ``label``, ``weight``,
    ``event_id``.
    """
    gen = rng(seed, "mass-sculpting")
    label = (gen.random(n_events) < 0.5).astype(np.int64)
    n_bkg = int((label == 0).sum())
    mass = np.empty(n_events)
    bkg_mass = 30.0 - 60.0 * np.log1p(-gen.random(n_bkg) * (1.0 - np.exp(-270.0 / 60.0)))
    mass[label == 0] = bkg_mass
    signal_mass = gen.normal(80.0, signal_width, size=n_events - n_bkg)
    low = signal_mass < 30.0
    while low.any():
        signal_mass[low] = gen.normal(80.0, signal_width, size=int(low.sum()))
        low = signal_mass < 30.0
    mass[label == 1] = signal_mass
    cols: dict[str, np.ndarray] = {
        "shape": gen.normal(size=n_events) + 1.2 * label,
        "mass_proxy": mass / 100.0 + gen.normal(0.0, 0.15, size=n_events),
        "noise": gen.normal(size=n_events),
        "mass": mass,
        LABEL: label,
        WEIGHT: np.ones(n_events),
        EVENT_ID: np.arange(n_events, dtype=np.int64),
    }
    return Table(cols, source="synthetic mass-sculpting dataset")


def resonance_search_dataset(
    n_background: int,
    n_signal: int,
    *,
    seed: int = 0,
    mass: float = 3500.0,
    width: float = 100.0,
    mass_dependence: float = 0.3,
) -> Table:
    """A dijet-like spectrum with a resonance hidden in its features: a known answer for ``neyman hunt``.

    The background ``mjj`` falls as :math:`m^{-5}` above 2500 (GeV; cut at 7000);
    its features ``a, b, c`` are ``N(0, 1)`` with means moving slowly with the mass
    (``mass_dependence (mjj - 3500)/1000`` for ``a``, half of it the other way for
    ``b``), as jet masses do with m_jj: sidebands interpolate into the signal region,
    but a classifier of signal region against sidebands can tell them apart; ``noise``
    is ``N(0, 1)``.  The signal's ``mjj`` is
    ``N(mass, width)`` and its features cluster where the background is rare:
    ``a ~ N(2.5, 0.3)``, ``b ~ N(-2, 0.3)``, ``c ~ N(1.5, 0.5)``.

    Columns ``mjj``, ``a``, ``b``, ``c``, ``noise``, ``label``.
    """
    gen = rng(seed, "resonance-search")
    u = gen.random(n_background) * (1.0 - (2500.0 / 7000.0) ** 4)
    m_bkg = 2500.0 * (1.0 - u) ** (-1.0 / 4.0)
    shift = mass_dependence * (m_bkg - 3500.0) / 1000.0
    bkg = np.column_stack([gen.normal(shift), gen.normal(-0.5 * shift), gen.normal(size=n_background)])
    sig = np.column_stack(
        [gen.normal(2.5, 0.3, n_signal), gen.normal(-2.0, 0.3, n_signal), gen.normal(1.5, 0.5, n_signal)]
    )
    x = np.concatenate([bkg, sig])
    order = gen.permutation(n_background + n_signal)
    cols = {
        "mjj": np.concatenate([m_bkg, gen.normal(mass, width, n_signal)])[order],
        "a": x[order, 0],
        "b": x[order, 1],
        "c": x[order, 2],
        "noise": gen.normal(size=n_background + n_signal),
        LABEL: np.concatenate([np.zeros(n_background, np.int64), np.ones(n_signal, np.int64)])[order],
    }
    return Table(cols, source="synthetic resonance-search dataset")
