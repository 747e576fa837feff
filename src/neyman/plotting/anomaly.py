"""Figures of an anomaly score (its distribution per class, the significance improvement curve) and of an
autoencoder (its latent space, reconstructed images)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from neyman.plotting.style import figure

__all__ = ["plot_anomaly_scores", "plot_average_images", "plot_latent_space", "plot_reconstructions", "plot_sic"]


def plot_anomaly_scores(
    scores: np.ndarray, labels: np.ndarray, weights: np.ndarray, classes: Sequence[str], *, bins: int = 60
) -> Figure:
    """Normalised histograms of the anomaly score per class, on a logarithmic axis.

    Parameters
    ----------
    scores, labels, weights
        Anomaly scores, labels (0 background, 1 signal) and weights of the test events.
    classes
        Class names by label.
    bins
        Bins between the 0.1% and 99.9% quantiles of all scores (the tails pile
        into the first and last bin); logarithmic when the scores are positive and
        span more than two decades.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Each class is normalised to unit area, ``h_b = Σ_{i∈b} w_i / (Δ_b Σ_i w_i)``;
    the logarithmic axis shows the far tail where a search cuts.
    """
    fig, ax = figure()
    finite = np.isfinite(scores)
    if not finite.any():
        return fig
    lo, hi = np.quantile(scores[finite], [0.001, 0.999])
    logarithmic = lo > 0 and hi > 100 * lo  # reconstruction errors span decades
    if logarithmic:
        edges = np.geomspace(lo, hi, bins + 1)
        ax.set_xscale("log")
    else:
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    for k in np.unique(labels):
        sel = finite & (labels == k)
        if weights[sel].sum() <= 0:
            continue
        values = np.clip(scores[sel], edges[0], edges[-1])
        counts, _ = np.histogram(values, bins=edges, weights=weights[sel])
        ax.stairs(counts / (np.diff(edges) * weights[sel].sum()), edges, label=str(classes[int(k)]), linewidth=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("normalised events / bin width")
    ax.legend()
    return fig


def plot_sic(signal_efficiency: np.ndarray, sic: np.ndarray) -> Figure:
    """The significance improvement ``SIC = ε_S / √ε_B`` against the signal efficiency.

    Parameters
    ----------
    signal_efficiency, sic
        The curve of :func:`neyman.metrics.sic_curve` (cuts with enough background only).

    Returns
    -------
    matplotlib.figure.Figure
        The curve with its maximum marked and the line ``SIC = 1`` (no gain).
    """
    fig, ax = figure()
    if len(sic):
        ax.plot(signal_efficiency, sic, color="C0")
        best = int(np.argmax(sic))
        ax.plot(signal_efficiency[best], sic[best], "o", color="C3", label=f"max SIC = {sic[best]:.2f}")
        ax.legend()
    ax.axhline(1.0, color="grey", linestyle=":")
    ax.set_xlabel("signal efficiency ε_S")
    ax.set_ylabel("SIC = ε_S / √ε_B")
    ax.set_xlim(0, 1)
    return fig


def plot_latent_space(codes: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> Figure:
    """The latent codes of test events, per class, on the two leading principal axes of the background's.

    Parameters
    ----------
    codes
        ``(n_events, latent)`` latent codes (a VAE's latent means).
    labels
        0 (background) or 1 (signal) per event.
    classes
        Class names by label.

    Returns
    -------
    matplotlib.figure.Figure
        A scatter (a histogram for a one-dimensional latent space).

    Notes
    -----
    With the background codes' mean :math:`\\bar z` and the eigenvectors
    :math:`e_1, e_2` of their covariance (largest eigenvalues first), each event
    is drawn at :math:`((z - \\bar z) \\cdot e_1, (z - \\bar z) \\cdot e_2)`: the
    plane in which the background varies most, where an anomaly that the
    encoder maps elsewhere shows as a displaced cloud.  Fewer than three background
    codes take the covariance of all codes; fewer than three codes in all, the first
    two coordinates.
    """
    fig, ax = figure()
    codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
    background = codes[labels == 0] if (labels == 0).sum() >= 3 else codes
    centre = background.mean(axis=0)
    if codes.shape[1] == 1:
        lo, hi = np.quantile(codes[:, 0], [0.001, 0.999])
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 61)
        for k in np.unique(labels):
            counts, _ = np.histogram(np.clip(codes[labels == k, 0], edges[0], edges[-1]), bins=edges, density=True)
            ax.stairs(counts, edges, linewidth=1.5, label=str(classes[int(k)]))
        ax.set_xlabel("latent code")
        ax.set_ylabel("normalised events / bin width")
    else:
        spread = np.cov((background - centre).T) if len(background) >= 3 else None
        if spread is not None and np.isfinite(spread).all():
            values, vectors = np.linalg.eigh(spread)
            axes = vectors[:, np.argsort(values)[::-1][:2]]
        else:  # too few codes for a covariance: the first two coordinates
            axes = np.eye(codes.shape[1])[:, :2]
        projected = (codes - centre) @ axes
        for k in np.unique(labels):
            sel = labels == k
            ax.scatter(projected[sel, 0], projected[sel, 1], s=3, alpha=0.4, label=str(classes[int(k)]))
        ax.set_xlabel("latent principal axis 1")
        ax.set_ylabel("latent principal axis 2")
    ax.legend(markerscale=4)
    return fig


def plot_reconstructions(
    images: np.ndarray, reconstructions: np.ndarray, labels: np.ndarray, scores: np.ndarray, classes: Sequence[str]
) -> Figure:
    """Test images beside their reconstructions, one row per image, with the anomaly score.

    Parameters
    ----------
    images, reconstructions
        ``(n, channels, height, width)``, the first channel drawn (in the units
        the autoencoder saw, e.g. normalised intensities).
    labels, scores
        Class and anomaly score of each image.
    classes
        Class names by label.

    Returns
    -------
    matplotlib.figure.Figure
        Two columns (input, reconstruction) on a common logarithmic colour scale
        per row that starts at the input's faintest pixel; fainter pixels are
        left blank.
    """
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure as MplFigure

    n = len(images)
    fig = MplFigure(figsize=(5.0, 2.4 * max(n, 1)), layout="constrained")
    axes = fig.subplots(max(n, 1), 2, squeeze=False)
    for i in range(n):
        shown = [images[i, 0], reconstructions[i, 0]]
        positive = shown[0][shown[0] > 0]
        floor = positive.min() if len(positive) else 1e-6
        top = max(float(shown[0].max()), float(shown[1].max()), 10 * floor)
        norm = LogNorm(floor, top)
        for j, (image, title) in enumerate(zip(shown, ("input", "reconstruction"), strict=True)):
            ax = axes[i, j]
            ax.imshow(np.where(image >= floor, image, np.nan), origin="lower", norm=norm, cmap="viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{classes[int(labels[i])]}: {title}" + (f" (score {scores[i]:.3g})" if j else ""), fontsize=8)
    return fig


def plot_average_images(real: np.ndarray, generated: np.ndarray) -> Figure:
    """The mean real and generated image side by side, and their ratio.

    Parameters
    ----------
    real, generated
        ``(n, channels, height, width)`` images (channels summed), each sample
        divided by its mean total so that the panels compare shapes.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: the two means on a common logarithmic colour scale, and
        generated / real per pixel (blank where the real mean is zero).
    """
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure as MplFigure

    means = []
    for images in (real, generated):
        summed = np.asarray(images, dtype=np.float64).sum(axis=1)
        means.append(summed.mean(axis=0) / max(float(summed.sum(axis=(1, 2)).mean()), 1e-300))
    positive = means[0][means[0] > 0]
    floor = float(positive.min()) if len(positive) else 1e-6
    norm = LogNorm(floor, max(float(means[0].max()), float(means[1].max()), 10 * floor))
    fig = MplFigure(figsize=(10.0, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, mean, title in zip(axes[:2], means, ("real", "generated"), strict=True):
        shown = ax.imshow(np.where(mean >= floor, mean, np.nan), origin="lower", norm=norm, cmap="viridis")
        ax.set_title(f"mean {title} image", fontsize=9)
    fig.colorbar(shown, ax=axes[:2].tolist(), label="fraction of the image total")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(means[0] > 0, means[1] / means[0], np.nan)
    shown = axes[2].imshow(ratio, origin="lower", cmap="coolwarm", vmin=0.5, vmax=1.5)
    axes[2].set_title("generated / real", fontsize=9)
    fig.colorbar(shown, ax=axes[2])
    for ax in axes:
        ax.set_xlabel("pixel along φ (rotated)")
    axes[0].set_ylabel("pixel along η (rotated)")
    return fig
