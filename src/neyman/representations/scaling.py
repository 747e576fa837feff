"""Per-particle standardisation with clipping, fitted on the training jets."""

from __future__ import annotations

from typing import Any

import numpy as np

from neyman.exceptions import DataError, ModelError
from neyman.representations.particles import DISCRETE_FEATURES, ParticleArrays

__all__ = ["ImageScaling", "ParticleScaler"]


class ParticleScaler:
    """Standardise each per-particle feature over the real (unpadded) constituents.

    Parameters
    ----------
    clip
        Standardised values are clipped to ``[-clip, clip]`` (``None``: no clipping).

    Attributes
    ----------
    names_
        Feature names in order.
    mean_, scale_
        Per-feature mean and standard deviation over real constituents of the
        training jets (0 and 1 for discrete features such as charge or type flags,
        which are left as they are).

    Notes
    -----
    :math:`x' = \\mathrm{clip}((x - \\mu)/\\sigma, -c, c)` for real constituents;
    padded entries stay exactly zero, so they carry no information a network could
    pick up.  Jet weights enter the means as weights of their constituents.
    """

    def __init__(self, *, clip: float | None = 5.0) -> None:
        self.clip = clip

    def fit(self, x: ParticleArrays, sample_weight: np.ndarray | None = None) -> ParticleScaler:
        """Learn ``mean_`` and ``scale_`` from the training jets; returns ``self``."""
        mask = x.mask > 0
        if not mask.any():
            raise DataError("cannot fit the particle standardisation: the training jets have no constituents")
        w_jet = np.ones(len(x)) if sample_weight is None else np.abs(np.asarray(sample_weight, dtype=np.float64))
        w = (mask * w_jet[:, None])[mask]
        values = x.features[mask].astype(np.float64)
        total = w.sum()
        if total <= 0:
            w, total = np.ones(len(values)), float(len(values))
        mean = (w[:, None] * values).sum(axis=0) / total
        var = (w[:, None] * (values - mean) ** 2).sum(axis=0) / total
        scale = np.sqrt(var)
        scale[scale <= 0] = 1.0
        for j, name in enumerate(x.names):
            if name in DISCRETE_FEATURES:
                mean[j], scale[j] = 0.0, 1.0
        self.names_ = list(x.names)
        self.mean_ = mean
        self.scale_ = scale
        return self

    def _check(self, x: ParticleArrays) -> None:
        if not hasattr(self, "mean_"):
            raise ModelError("the particle standardisation is not fitted")
        if list(x.names) != self.names_:
            raise DataError(f"particle features {list(x.names)} differ from the fitted ones {self.names_}")

    def transform(self, x: ParticleArrays) -> ParticleArrays:
        """Standardised (and clipped) copy of ``x``; padding stays zero."""
        self._check(x)
        z = (x.features - self.mean_.astype(np.float32)) / self.scale_.astype(np.float32)
        if self.clip is not None:
            np.clip(z, -self.clip, self.clip, out=z)
        z *= x.mask[..., None]
        return x.with_features(z.astype(np.float32))

    def to_json(self) -> dict[str, Any]:
        """Fitted state as JSON."""
        return {
            "kind": "particles",
            "clip": self.clip,
            "names": self.names_,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParticleScaler:
        """Inverse of :meth:`to_json`."""
        out = cls(clip=data.get("clip"))
        out.names_ = list(data["names"])
        out.mean_ = np.asarray(data["mean"], dtype=np.float64)
        out.scale_ = np.asarray(data["scale"], dtype=np.float64)
        return out


class ImageScaling:
    """The (empty) fitted preprocessing of jet images: they are normalised when built."""

    def fit(self, x: np.ndarray, sample_weight: np.ndarray | None = None) -> ImageScaling:
        """Nothing to learn; returns ``self``."""
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``x`` as float32."""
        return np.asarray(x, dtype=np.float32)

    def to_json(self) -> dict[str, Any]:
        """Fitted state as JSON."""
        return {"kind": "image"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageScaling:
        """Inverse of :meth:`to_json`."""
        return cls()
