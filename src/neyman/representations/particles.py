"""Jets as particle sets: the leading constituents, padded, with a mask.

The jagged constituent columns of a table (``constituent_E``, ``constituent_px``,
... as written by ``neyman generate``) become fixed-size arrays:

* ``features`` ``(n_jets, n_constituents, n_features)``: per-particle features chosen
  by name from :data:`PARTICLE_FEATURES`;
* ``points`` ``(n_jets, n_constituents, 2)``: (Δη, Δφ) to the jet axis, the
  coordinates of graph networks and of the Energy Flow Network;
* ``vectors`` ``(n_jets, n_constituents, 4)``: (px, py, pz, E) in GeV, for pairwise
  features;
* ``mask`` ``(n_jets, n_constituents)``: 1 for real constituents, 0 for padding.

The jet axis is the sum of *all* constituents of the jet (not only the kept
ones), so truncation does not move it.  Everything is vectorised over jets: there
is no Python loop over jets or particles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from neyman.exceptions import ConfigError, DataError, close_matches
from neyman.optional import require
from neyman.table import Table

__all__ = [
    "CONSTITUENT_PREFIX",
    "DEFAULT_PARTICLE_FEATURES",
    "KINEMATIC_PARTICLE_FEATURES",
    "PARTICLE_FEATURES",
    "ParticleArrays",
    "ParticleSpec",
    "padded_constituents",
    "particle_arrays",
]

CONSTITUENT_PREFIX = "constituent_"
"""Prefix of the jagged constituent columns (``constituent_E``, ``constituent_px``...)."""

PARTICLE_FEATURES: dict[str, str] = {
    "deta": "η − η_jet",
    "dphi": "φ − φ_jet, wrapped to (−π, π]",
    "dr": "ΔR = √(Δη² + Δφ²) to the jet axis",
    "log_pt": "ln pT (GeV)",
    "log_e": "ln E (GeV)",
    "log_pt_rel": "ln(pT / pT_jet)",
    "log_e_rel": "ln(E / E_jet)",
    "pt_rel": "pT / pT_jet",
    "charge": "electric charge (e)",
    "is_track": "1 for charged particles (tracks), else 0",
    "is_electron": "1 for |PDG id| = 11",
    "is_muon": "1 for |PDG id| = 13",
    "is_photon": "1 for PDG id 22",
    "is_charged_hadron": "1 for charged particles that are not leptons",
    "is_neutral_hadron": "1 for neutral particles that are not photons (calorimeter cells included)",
}
"""Per-particle features by name, with their definitions."""

DEFAULT_PARTICLE_FEATURES = (
    "deta", "dphi", "dr", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "charge",
    "is_electron", "is_muon", "is_photon", "is_charged_hadron", "is_neutral_hadron",
)  # fmt: skip
"""The features of the ParticleNet/ParT papers available from our files."""

DISCRETE_FEATURES = frozenset(
    {"charge", "is_track", "is_electron", "is_muon", "is_photon", "is_charged_hadron", "is_neutral_hadron"}
)
"""Features that are not standardised (already small integers)."""

_NEEDS_IDS = DISCRETE_FEATURES

KINEMATIC_PARTICLE_FEATURES = tuple(f for f in DEFAULT_PARTICLE_FEATURES if f not in _NEEDS_IDS)
"""The default features that need no particle ids: the set for files without them (the top-tagging data
set's layout holds four-momenta only, as do the ParticleNet and ParT studies of it)."""


@dataclass(frozen=True)
class ParticleSpec:
    """Which constituents and features make a particle set.

    Parameters
    ----------
    n_constituents
        Constituents kept per jet (the hardest; shorter jets are padded).
    features
        Per-particle features, names of :data:`PARTICLE_FEATURES`.
    prefix
        Prefix of the jagged constituent columns.
    """

    n_constituents: int = 100
    features: tuple[str, ...] = DEFAULT_PARTICLE_FEATURES
    prefix: str = CONSTITUENT_PREFIX

    def __post_init__(self) -> None:
        if self.n_constituents < 1:
            raise ConfigError(f"n_constituents must be at least 1, got {self.n_constituents}")
        if not self.features:
            raise ConfigError("a particle set needs at least one per-particle feature")
        for name in self.features:
            if name not in PARTICLE_FEATURES:
                raise ConfigError(
                    f"unknown particle feature {name!r}{close_matches(name, PARTICLE_FEATURES)}; "
                    f"choose from {', '.join(PARTICLE_FEATURES)}"
                )

    @property
    def columns(self) -> list[str]:
        """The jagged columns a table must provide."""
        names = ["E", "px", "py", "pz"]
        if _NEEDS_IDS & set(self.features):
            names += ["charge", "pdg_id"]
        return [self.prefix + n for n in names]

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form (stored with the model)."""
        return {
            "type": "particles",
            "n_constituents": self.n_constituents,
            "features": list(self.features),
            "prefix": self.prefix,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParticleSpec:
        """Inverse of :meth:`to_json`."""
        return cls(int(data["n_constituents"]), tuple(data["features"]), str(data.get("prefix", CONSTITUENT_PREFIX)))


@dataclass(frozen=True)
class ParticleArrays:
    """Padded particle inputs of many jets (see the module docstring for shapes)."""

    features: np.ndarray
    points: np.ndarray
    vectors: np.ndarray
    mask: np.ndarray
    names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.mask)
        if not len(self.features) == len(self.points) == len(self.vectors) == n:
            raise DataError("particle arrays differ in their number of jets")

    def __len__(self) -> int:
        return len(self.mask)

    def __getitem__(self, index: Any) -> ParticleArrays:
        """Jets selected by a boolean mask, an index array or a slice."""
        return ParticleArrays(
            self.features[index], self.points[index], self.vectors[index], self.mask[index], self.names
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n_jets, n_constituents, n_features)``."""
        n, p, f = self.features.shape
        return int(n), int(p), int(f)

    def tensors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(features, points, vectors, mask)`` as float32: the networks' input order."""
        return (
            np.ascontiguousarray(self.features, dtype=np.float32),
            np.ascontiguousarray(self.points, dtype=np.float32),
            np.ascontiguousarray(self.vectors, dtype=np.float32),
            np.ascontiguousarray(self.mask, dtype=np.float32),
        )

    @staticmethod
    def concat(parts: list[ParticleArrays]) -> ParticleArrays:
        """The jets of several arrays, in order (all with the same shape per jet)."""
        if not parts:
            raise DataError("nothing to concatenate")
        return ParticleArrays(
            np.concatenate([p.features for p in parts]),
            np.concatenate([p.points for p in parts]),
            np.concatenate([p.vectors for p in parts]),
            np.concatenate([p.mask for p in parts]),
            parts[0].names,
        )

    SUMMARIES: ClassVar[tuple[str, str]] = ("jet pT (sum of its kept constituents)", "constituents per jet")
    """Names of :meth:`summaries`' columns (the training range of a particle-set run, in its metadata)."""

    def summaries(self) -> np.ndarray:
        """Per jet, the pT of the kept constituents' sum and their number: ``(n_jets, 2)``.

        What a file's units and the constituents' selection show at a glance: ``neyman predict``
        compares them with the training's (a file in MeV has jets 1000 times harder).
        """
        return _summaries(self.vectors[..., 0], self.vectors[..., 1], self.mask)

    @staticmethod
    def summaries_of(table: Table, spec: ParticleSpec) -> np.ndarray:
        """:meth:`summaries` of the jets of ``table`` as ``spec`` keeps them, without building their
        per-particle features (a tenth of the work of :func:`particle_arrays`)."""
        padded, mask, _ = padded_constituents(table, (), spec.n_constituents, prefix=spec.prefix)
        return _summaries(padded["px"], padded["py"], mask)

    def with_features(self, features: np.ndarray) -> ParticleArrays:
        """The same jets with other per-particle features."""
        return ParticleArrays(features, self.points, self.vectors, self.mask, self.names)


def padded_constituents(
    table: Table, fields: tuple[str, ...], size: int, *, prefix: str = CONSTITUENT_PREFIX
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """The ``size`` hardest constituents of every jet as padded arrays.

    Entries with zero energy and zero transverse momentum are padding, not particles
    (a zero-padded array stored as a list column), as the readers of the public
    data sets' padded layouts treat them: they are dropped before anything else.

    Parameters
    ----------
    table
        Holds jagged columns ``prefix + field`` for ``E, px, py, pz`` and ``fields``.
    fields
        Constituent fields to return (``E``, ``px``, ``py``, ``pz``, ``charge``...).
    size
        Constituents per jet; padding is zero.

    Returns
    -------
    padded
        ``field -> (n_jets, size)`` float64 arrays, ordered by decreasing pT.
    mask
        ``(n_jets, size)`` bool, true for real constituents.
    jet
        The jet four-momentum ``E, px, py, pz`` summed over all constituents, ``(n_jets,)``.
    """
    ak = require("awkward", purpose="build particle inputs from jagged constituent columns")
    names = list(dict.fromkeys(["E", "px", "py", "pz", *fields]))
    missing = [prefix + n for n in names if prefix + n not in table]
    if missing:
        raise DataError(
            f"{table.source or 'the input'} lacks the constituent column(s) {missing}; particle and image "
            "representations need the jagged constituents written by 'neyman generate' "
            f"(columns {prefix}E, {prefix}px, {prefix}py, {prefix}pz, {prefix}charge, {prefix}pdg_id)"
        )
    jagged = {n: ak.Array(table[prefix + n]) for n in names}
    for n, values in jagged.items():
        if values.ndim != 2:
            raise DataError(f"column {prefix + n} of {table.source or 'the input'} is not a jagged per-jet column")
    counts = {n: np.asarray(ak.to_numpy(ak.fill_none(ak.num(values, axis=1), 0))) for n, values in jagged.items()}
    for n, count in counts.items():
        odd = np.flatnonzero(count != counts["E"])
        if odd.size:
            raise DataError(
                f"column {prefix + n} of {table.source or 'the input'} holds another number of constituents than "
                f"{prefix}E in {odd.size} jet(s) (the first in row {odd[0] + 1}: {count[odd[0]]} against "
                f"{counts['E'][odd[0]]}); every constituent field needs one value per constituent: write the "
                "columns again from the same constituents"
            )
    for n, values in jagged.items():
        empty = int(ak.sum(ak.is_none(values, axis=0))) + int(ak.sum(ak.is_none(values, axis=1)))
        if empty:
            raise DataError(
                f"column {prefix + n} of {table.source or 'the input'} holds {empty} missing value(s) (null) among "
                "its jets' constituents: fill them or drop those jets; a constituent needs every field"
            )
    # float64 throughout: a float32 file (Parquet) and a float64 one (the padded layouts) then give the same jets;
    # a nullable list type without nulls (pandas' list<float>) loses its option type, which sorting cannot take
    jagged = {n: ak.values_astype(ak.fill_none(values, 0.0, axis=1), np.float64) for n, values in jagged.items()}
    _refuse_unphysical(jagged, prefix, table.source)  # before the padding is dropped: NaN with E = 0 is no padding
    pt = np.sqrt(jagged["px"] ** 2 + jagged["py"] ** 2)
    real = (pt > 0) | (jagged["E"] != 0)
    if not ak.all(real):
        jagged = {n: values[real] for n, values in jagged.items()}
        pt = pt[real]
    order = ak.argsort(pt, axis=1, ascending=False, stable=True)
    jagged = {n: values[order] for n, values in jagged.items()}
    # summed in pT order: the axis, hence every Δη and Δφ, is then the same to the last bit for any
    # order of the constituents in the file (ParticleNet's neighbours in a calorimeter grid tie exactly)
    jet = {n: np.asarray(ak.to_numpy(ak.sum(jagged[n], axis=1)), dtype=np.float64) for n in ("E", "px", "py", "pz")}
    counts = np.minimum(np.asarray(ak.to_numpy(ak.num(pt, axis=1))), size)
    mask = np.arange(size)[None, :] < counts[:, None]
    padded = {}
    for n in names:
        values = jagged[n][:, :size]
        filled = ak.fill_none(ak.pad_none(values, size, axis=1, clip=True), 0)
        padded[n] = np.asarray(ak.to_numpy(filled), dtype=np.float64).reshape(len(table), size)
    return padded, mask, jet


def _refuse_unphysical(jagged: dict[str, Any], prefix: str, source: str | None) -> None:
    """Refuse NaN or infinite constituent values, and negative energies (the padded layouts' readers do too).

    A negative energy would reach the network as ``log E = 0``, as if the particle had 1 GeV.
    """
    import awkward as ak

    for n, values in jagged.items():
        bad = ~np.isfinite(values)
        kind = "missing or infinite (NaN, inf)"
        if n == "E" and not ak.any(bad):
            bad, kind = values < 0, "negative (a particle's energy is >= 0)"
        if ak.any(bad):
            jets = np.flatnonzero(np.asarray(ak.to_numpy(ak.any(bad, axis=1))))
            first = float(ak.to_numpy(values[jets[0]][bad[jets[0]]])[0])
            raise DataError(
                f"{source or 'the input'}: {int(ak.sum(bad))} constituent values of column {prefix + n} in "
                f"{len(jets)} jets are {kind} (the first in row {int(jets[0]) + 1}: {first:g}); fix those "
                "constituents or drop their jets"
            )


def _summaries(px: np.ndarray, py: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per jet, the pT of the masked constituents' vector sum and their number, as float64."""
    sum_x, sum_y = np.sum(px * mask, axis=1), np.sum(py * mask, axis=1)
    return np.stack([np.hypot(sum_x, sum_y), np.sum(mask, axis=1)], axis=1).astype(np.float64)


def pt_eta_phi(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pT, pseudorapidity and azimuth (massless-safe; η of a zero vector is 0)."""
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0)), 0.0)
    return pt, eta, np.arctan2(py, px)


def _safe_log(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, np.log(np.where(mask & (x > 0), x, 1.0)), 0.0)


def particle_arrays(table: Table, spec: ParticleSpec | None = None) -> ParticleArrays:
    """Build the padded particle inputs of every jet of ``table``.

    Parameters
    ----------
    table
        Jets with jagged constituent columns.
    spec
        Constituents kept and features (default :class:`ParticleSpec`).

    Returns
    -------
    ParticleArrays
        Unstandardised; padded entries are exactly zero in every array.

    Notes
    -----
    With the jet axis :math:`(\\eta_J, \\phi_J)` of the summed constituents,
    :math:`\\Delta\\eta = \\eta - \\eta_J` and :math:`\\Delta\\phi = \\phi - \\phi_J`
    wrapped to :math:`(-\\pi, \\pi]`.
    """
    spec = spec or ParticleSpec()
    ids = bool(_NEEDS_IDS & set(spec.features))
    padded, mask, jet = padded_constituents(
        table, ("charge", "pdg_id") if ids else (), spec.n_constituents, prefix=spec.prefix
    )
    pt, eta, phi = pt_eta_phi(padded["px"], padded["py"], padded["pz"])
    jet_pt, jet_eta, jet_phi = pt_eta_phi(jet["px"], jet["py"], jet["pz"])
    deta = np.where(mask, eta - jet_eta[:, None], 0.0)
    dphi = np.where(mask, np.mod(phi - jet_phi[:, None] + np.pi, 2 * np.pi) - np.pi, 0.0)
    energy = padded["E"]
    values: dict[str, np.ndarray] = {"deta": deta, "dphi": dphi}
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_pt = np.where(mask, pt / np.where(jet_pt > 0, jet_pt, 1.0)[:, None], 0.0)
        rel_e = np.where(mask, energy / np.where(jet["E"] > 0, jet["E"], 1.0)[:, None], 0.0)
    for name in spec.features:
        if name in values:
            continue
        if name == "dr":
            values[name] = np.hypot(deta, dphi)
        elif name == "log_pt":
            values[name] = _safe_log(pt, mask)
        elif name == "log_e":
            values[name] = _safe_log(energy, mask)
        elif name == "log_pt_rel":
            values[name] = _safe_log(rel_pt, mask)
        elif name == "log_e_rel":
            values[name] = _safe_log(rel_e, mask)
        elif name == "pt_rel":
            values[name] = rel_pt
        else:
            values[name] = _identity_feature(name, padded["charge"], padded["pdg_id"], mask)
    features = np.stack([values[n] for n in spec.features], axis=-1).astype(np.float32)
    points = np.stack([deta, dphi], axis=-1).astype(np.float32)
    vectors = np.stack([padded["px"], padded["py"], padded["pz"], energy], axis=-1).astype(np.float32)
    if not (np.isfinite(features).all() and np.isfinite(vectors).all()):
        raise DataError(f"{table.source or 'the input'}: non-finite constituent values (NaN or inf)")
    return ParticleArrays(features, points, vectors, mask.astype(np.float32), tuple(spec.features))


def _identity_feature(name: str, charge: np.ndarray, pdg: np.ndarray, mask: np.ndarray) -> np.ndarray:
    apdg = np.abs(pdg)
    charged = charge != 0
    lepton = (apdg == 11) | (apdg == 13)
    flags = {
        "charge": charge,
        "is_track": charged,
        "is_electron": apdg == 11,
        "is_muon": apdg == 13,
        "is_photon": apdg == 22,
        "is_charged_hadron": charged & ~lepton,
        "is_neutral_hadron": ~charged & (apdg != 22),
    }
    return np.where(mask, flags[name], 0).astype(np.float64)
