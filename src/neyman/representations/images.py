"""Jet images: the constituents pixelised on an η–φ grid, with the standard preprocessing.

The steps, each optional, follow the jet-image literature (Cogan et al., JHEP 02
(2015) 118; de Oliveira et al., JHEP 07 (2016) 069):

1. **centre** the jet: on the intensity-weighted centroid (``centroid``) or on its
   hardest constituent (``leading``, a cheap stand-in for the leading subjet);
2. **rotate** about the centre so the principal axis of the intensity
   distribution is vertical (along η′);
3. **flip** so the upper half (η′ > 0) and the right half (φ′ > 0) each carry at
   least as much intensity as the opposite half;
4. **pixelise** ``size × size`` pixels over ``[-extent, extent]`` in both
   coordinates; row ``i`` grows with η′ (draw with ``origin="lower"``), column ``j``
   with φ′; constituents outside are dropped;
5. **normalise** each image to unit total intensity.

Two channels (``charged_neutral``) split charged constituents (tracks) from
neutral ones.  Everything is vectorised over jets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from neyman.exceptions import ConfigError
from neyman.representations.particles import CONSTITUENT_PREFIX, padded_constituents, pt_eta_phi
from neyman.table import Table

__all__ = ["IMAGE_OBSERVABLES", "ImageSpec", "image_observables", "jet_images", "pixelise"]

Centre = Literal["centroid", "leading", "none"]


@dataclass(frozen=True)
class ImageSpec:
    """How jet images are made (see the module docstring).

    Parameters
    ----------
    size
        Pixels per side.
    extent
        Half-width of the image in η and φ (0.8 for R = 0.8 jets).
    intensity
        ``pt`` or ``energy`` per constituent.
    centre
        ``centroid``, ``leading`` or ``none``.
    rotate, flip, normalise
        Preprocessing steps 2, 3 and 5.
    channels
        ``all`` (one channel) or ``charged_neutral`` (two).
    max_constituents
        Hardest constituents used per jet.
    prefix
        Prefix of the jagged constituent columns.
    """

    size: int = 33
    extent: float = 0.8
    intensity: Literal["pt", "energy"] = "pt"
    centre: Centre = "centroid"
    rotate: bool = True
    flip: bool = True
    normalise: bool = True
    channels: Literal["all", "charged_neutral"] = "all"
    max_constituents: int = 200
    prefix: str = CONSTITUENT_PREFIX

    def __post_init__(self) -> None:
        if self.size < 2:
            raise ConfigError(f"image size must be at least 2 pixels, got {self.size}")
        if self.extent <= 0:
            raise ConfigError(f"image extent must be positive, got {self.extent}")
        if self.intensity not in ("pt", "energy"):
            raise ConfigError(f"image intensity must be 'pt' or 'energy', got {self.intensity!r}")
        if self.centre not in ("centroid", "leading", "none"):
            raise ConfigError(f"image centre must be centroid, leading or none, got {self.centre!r}")
        if self.channels not in ("all", "charged_neutral"):
            raise ConfigError(f"image channels must be 'all' or 'charged_neutral', got {self.channels!r}")

    @property
    def n_channels(self) -> int:
        """Channels per image."""
        return 2 if self.channels == "charged_neutral" else 1

    @property
    def columns(self) -> list[str]:
        """The jagged columns a table must provide."""
        names = ["E", "px", "py", "pz"] + (["charge"] if self.channels == "charged_neutral" else [])
        return [self.prefix + n for n in names]

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form (stored with the model)."""
        return {"type": "image", **{k: getattr(self, k) for k in self.__dataclass_fields__}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageSpec:
        """Inverse of :meth:`to_json`."""
        return cls(**{k: v for k, v in data.items() if k != "type"})


def pixelise(
    eta: np.ndarray,
    phi: np.ndarray,
    weight: np.ndarray,
    channel: np.ndarray,
    *,
    size: int,
    extent: float,
    n_channels: int = 1,
) -> np.ndarray:
    """Histogram constituents of many jets into images ``(n_jets, n_channels, size, size)``.

    ``eta``, ``phi``, ``weight`` and ``channel`` are ``(n_jets, n_constituents)``;
    entries with zero weight or outside ``[-extent, extent]`` are dropped.
    """
    n = eta.shape[0]
    row = np.floor((eta + extent) / (2 * extent) * size).astype(np.int64)
    col = np.floor((phi + extent) / (2 * extent) * size).astype(np.int64)
    keep = (weight != 0) & (row >= 0) & (row < size) & (col >= 0) & (col < size)
    jet = np.broadcast_to(np.arange(n)[:, None], eta.shape)
    flat = ((jet * n_channels + channel) * size + row) * size + col
    images = np.bincount(flat[keep], weights=weight[keep], minlength=n * n_channels * size * size)
    return images.reshape(n, n_channels, size, size)


def _standardise_orientation(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, spec: ImageSpec
) -> tuple[np.ndarray, np.ndarray]:
    """Centre, rotate and flip the coordinates ``x`` (φ) and ``y`` (η) of every jet."""
    total = w.sum(axis=1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    if spec.centre == "centroid":
        x = x - (w * x).sum(axis=1, keepdims=True) / safe
        y = y - (w * y).sum(axis=1, keepdims=True) / safe
    elif spec.centre == "leading":
        hardest = np.argmax(w, axis=1)[:, None]
        x = x - np.take_along_axis(x, hardest, axis=1)
        y = y - np.take_along_axis(y, hardest, axis=1)
    if spec.rotate:
        cxx = (w * x * x).sum(axis=1) / safe[:, 0]
        cyy = (w * y * y).sum(axis=1) / safe[:, 0]
        cxy = (w * x * y).sum(axis=1) / safe[:, 0]
        major = 0.5 * np.arctan2(2 * cxy, cxx - cyy)  # angle of the principal axis from the φ axis
        beta = (np.pi / 2 - major)[:, None]
        cos, sin = np.cos(beta), np.sin(beta)
        x, y = x * cos - y * sin, x * sin + y * cos
    if spec.flip:
        up = (w * (y > 0)).sum(axis=1) >= (w * (y < 0)).sum(axis=1)
        right = (w * (x > 0)).sum(axis=1) >= (w * (x < 0)).sum(axis=1)
        y = np.where(up[:, None], y, -y)
        x = np.where(right[:, None], x, -x)
    return x, y


def jet_images(table: Table, spec: ImageSpec | None = None) -> np.ndarray:
    """Preprocessed jet images of every jet of ``table``.

    Parameters
    ----------
    table
        Jets with jagged constituent columns (``constituent_E``, ``_px``, ``_py``, ``_pz``,
        and ``_charge`` for two channels).
    spec
        Image settings (default :class:`ImageSpec`).

    Returns
    -------
    numpy.ndarray
        ``(n_jets, n_channels, size, size)`` float32.
    """
    spec = spec or ImageSpec()
    fields = ("charge",) if spec.channels == "charged_neutral" else ()
    padded, mask, jet = padded_constituents(table, fields, spec.max_constituents, prefix=spec.prefix)
    pt, eta, phi = pt_eta_phi(padded["px"], padded["py"], padded["pz"])
    _, jet_eta, jet_phi = pt_eta_phi(jet["px"], jet["py"], jet["pz"])
    y = np.where(mask, eta - jet_eta[:, None], 0.0)
    x = np.where(mask, np.mod(phi - jet_phi[:, None] + np.pi, 2 * np.pi) - np.pi, 0.0)
    w = np.where(mask, pt if spec.intensity == "pt" else padded["E"], 0.0)
    x, y = _standardise_orientation(x, y, w, spec)
    if spec.channels == "charged_neutral":
        channel = (padded["charge"] == 0).astype(np.int64)  # 0: charged, 1: neutral
    else:
        channel = np.zeros(mask.shape, dtype=np.int64)
    images = pixelise(y, x, w, channel, size=spec.size, extent=spec.extent, n_channels=spec.n_channels)
    if spec.normalise:
        total = images.sum(axis=(1, 2, 3), keepdims=True)
        images = images / np.where(total > 0, total, 1.0)
    return images.astype(np.float32)


IMAGE_OBSERVABLES = ("mass", "width", "lit_pixels", "leading_fraction", "second_fraction")
"""The jet observables :func:`image_observables` computes from an image, in order."""


def image_observables(images: np.ndarray, spec: ImageSpec) -> np.ndarray:
    """Jet observables of images: what a generated image must get right besides its pixels.

    Parameters
    ----------
    images
        ``(n, channels, size, size)`` intensities as :func:`jet_images` makes
        them (channels are summed).
    spec
        How the images were made (their size and extent).

    Returns
    -------
    numpy.ndarray
        ``(n, 5)``: the columns of :data:`IMAGE_OBSERVABLES`.

    Notes
    -----
    With pixel intensities :math:`p_k` at pixel centres :math:`(\\eta'_k, \\phi'_k)`
    and :math:`T = \\sum_k p_k`:

    - ``mass``: the invariant mass of the pixels taken as massless particles of
      transverse momentum :math:`p_k` at their centres,
      :math:`m^2 = (\\sum p_k \\cosh\\eta'_k)^2 - (\\sum p_k \\sinh\\eta'_k)^2
      - (\\sum p_k \\cos\\phi'_k)^2 - (\\sum p_k \\sin\\phi'_k)^2` (≈ the jet mass
      for ``intensity: pt`` images that keep their totals);
    - ``width``: :math:`\\sum_k p_k R_k / T` with :math:`R_k` the distance of the
      pixel from the image centre;
    - ``lit_pixels``: the number of pixels with :math:`p_k > 0`;
    - ``leading_fraction``, ``second_fraction``: the two largest :math:`p_k / T`.
    """
    flat = np.asarray(images, dtype=np.float64)
    flat = flat.reshape(len(flat), spec.n_channels, spec.size * spec.size).sum(axis=1)
    centres = -spec.extent + (np.arange(spec.size) + 0.5) * (2.0 * spec.extent / spec.size)
    eta, phi = (c.ravel() for c in np.meshgrid(centres, centres, indexing="ij"))
    total = flat.sum(axis=1)
    energy, pz = flat @ np.cosh(eta), flat @ np.sinh(eta)
    px, py = flat @ np.cos(phi), flat @ np.sin(phi)
    mass = np.sqrt(np.clip(energy**2 - pz**2 - px**2 - py**2, 0.0, None))
    safe = np.where(total > 0, total, 1.0)
    top = np.sort(flat, axis=1)[:, -2:] / safe[:, None] if flat.shape[1] > 1 else np.zeros((len(flat), 2))
    width = flat @ np.hypot(eta, phi) / safe
    return np.column_stack([mass, width, (flat > 0).sum(axis=1), top[:, 1], top[:, 0]])
