"""The LHC Olympics 2020 feature files: two large-R jets per event, with derived columns.

The R&D and black-box *feature* files of the LHC Olympics
(``events_anomalydetection_v2.features.h5``, ``events_LHCO2020_BlackBox1.features.h5``)
are pandas frames holding, per event, the two leading anti-kT R = 1 jets' momenta
(``pxj1 pyj1 pzj1``), masses (``mj1``) and N-subjettiness (``tau1j1 tau2j1 tau3j1``),
the same for ``j2``, and in the R&D file the truth ``label`` (1: the W' -> X(qq) Y(qq)
signal).  Momenta and masses are in GeV.

Reading such a file (any HDF5 table that holds these columns) adds the columns of
neyman's own ``dijet`` analysis, so that a search configured on generated
``dijet_resonance`` events runs unchanged on the public files:

``mjj ptj1 etaj1 phij1 ptj2 etaj2 phij2 tau21_j1 tau32_j1 tau21_j2 tau32_j2``
and the mass-ordered features of the LHC Olympics papers, :data:`MASS_ORDERED`.

    G. Kasieczka, B. Nachman, D. Shih et al., "The LHC Olympics 2020", Rep. Prog.
    Phys. 84 (2021) 124201, arXiv:2101.08320.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from neyman.exceptions import DataError

__all__ = [
    "DERIVED",
    "MASS_ORDERED",
    "RAW",
    "derived_columns",
    "is_lhco",
    "mass_ordered",
    "needed_raw",
    "ratio",
    "with_derived",
]

RAW = tuple(f"{q}j{k}" for k in (1, 2) for q in ("px", "py", "pz", "m", "tau1", "tau2", "tau3"))
"""The per-jet columns of an LHC Olympics feature file (``label`` is optional)."""

MASS_ORDERED = ("mj_light", "delta_mj", "tau21_light", "tau21_heavy")
"""The lighter jet's mass, the mass difference (>= 0) and both jets' tau21, lighter first."""

_KINEMATIC = ("mjj", "ptj1", "etaj1", "phij1", "ptj2", "etaj2", "phij2")
_SUBSTRUCTURE = ("tau21_j1", "tau32_j1", "tau21_j2", "tau32_j2")
DERIVED = _KINEMATIC + _SUBSTRUCTURE + MASS_ORDERED
"""The columns a reader adds to an LHC Olympics file."""


def is_lhco(columns: list[str]) -> bool:
    """Whether a table with these columns is in the LHC Olympics feature layout."""
    held = set(columns)
    return set(RAW) <= held and not (set(DERIVED) & held)


def needed_raw(names: list[str]) -> list[str]:
    """The raw columns from which the requested derived ``names`` are computed."""
    return list(RAW) if any(n in DERIVED for n in names) else []


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, 0 where ``den`` is not positive (a jet of one constituent has tau1 = 0)."""
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def mass_ordered(m1: np.ndarray, m2: np.ndarray, tau21_1: np.ndarray, tau21_2: np.ndarray) -> dict[str, np.ndarray]:
    """The features :data:`MASS_ORDERED` from the two jets' masses and tau21 in any order.

    Notes
    -----
    With :math:`m_< = \\min(m_1, m_2)`: ``mj_light`` :math:`= m_<`, ``delta_mj``
    :math:`= |m_1 - m_2|`, and ``tau21_light``/``tau21_heavy`` the
    :math:`\\tau_{21} = \\tau_2/\\tau_1` of the lighter and the heavier jet
    (the features of the CWoLa hunting and CATHODE studies of the LHC Olympics).
    """
    first_light = np.asarray(m1) <= np.asarray(m2)
    return {
        "mj_light": np.where(first_light, m1, m2),
        "delta_mj": np.abs(np.asarray(m1) - np.asarray(m2)),
        "tau21_light": np.where(first_light, tau21_1, tau21_2),
        "tau21_heavy": np.where(first_light, tau21_2, tau21_1),
    }


def derived_columns(raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every column of :data:`DERIVED` from the raw columns of an LHC Olympics file.

    Notes
    -----
    Per jet :math:`E = \\sqrt{p_x^2 + p_y^2 + p_z^2 + m^2}`,
    :math:`p_T = \\sqrt{p_x^2 + p_y^2}`, :math:`\\eta = \\operatorname{asinh}(p_z/p_T)`,
    :math:`\\phi = \\operatorname{atan2}(p_y, p_x)`; the dijet mass
    :math:`m_{jj} = \\sqrt{(E_1 + E_2)^2 - |\\vec p_1 + \\vec p_2|^2}`.

    Raises
    ------
    DataError
        A raw column holds NaN or an infinity: every derived column would hide it (a
        ratio of a NaN τ₁ read as 0, a NaN momentum as a NaN ``mjj``).
    """
    for name, values in raw.items():
        bad = ~np.isfinite(np.asarray(values, dtype=np.float64))
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"LHC Olympics column {name!r} holds {int(bad.sum())} missing or infinite values (the first in row "
                f"{first + 1}), from which neyman derives mjj, the τ ratios and the mass-ordered features; select "
                "the events that have it, or fix the file"
            )
    out: dict[str, np.ndarray] = {}
    total = np.zeros((4, len(raw["pxj1"])))
    for k in (1, 2):
        px, py, pz, m = (np.asarray(raw[f"{q}j{k}"], dtype=np.float64) for q in ("px", "py", "pz", "m"))
        pt = np.hypot(px, py)
        total += np.stack([np.sqrt(px**2 + py**2 + pz**2 + m**2), px, py, pz])
        out[f"ptj{k}"] = pt
        out[f"etaj{k}"] = np.arcsinh(ratio(pz, pt))
        out[f"phij{k}"] = np.arctan2(py, px)
        taus = [np.asarray(raw[f"tau{n}j{k}"], dtype=np.float64) for n in (1, 2, 3)]
        out[f"tau21_j{k}"] = ratio(taus[1], taus[0])
        out[f"tau32_j{k}"] = ratio(taus[2], taus[1])
    out["mjj"] = np.sqrt(np.maximum(total[0] ** 2 - total[1] ** 2 - total[2] ** 2 - total[3] ** 2, 0.0))
    out.update(mass_ordered(raw["mj1"], raw["mj2"], out["tau21_j1"], out["tau21_j2"]))
    return {name: out[name] for name in DERIVED}


def with_derived(names: list[str], read: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    """The columns ``names`` of an LHC Olympics table, derived ones computed from ``read(raw)``."""
    raw = {c: read(c) for c in needed_raw(names)}
    derived = derived_columns(raw) if raw else {}
    return {n: derived[n] if n in derived else raw[n] if n in raw else read(n) for n in names}
