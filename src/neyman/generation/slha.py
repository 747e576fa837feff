r"""SUSY Les Houches Accord (SLHA) spectra for Pythia 8 chargino-pair generation.

``pythia8mc`` ships no SLHA spectrum files, and Pythia cannot run any SUSY process
without one (``SLHA:file``).  :func:`write_chargino_spectrum` writes a small,
self-consistent SLHA1 spectrum for the ``susy_vs_ww`` signal:
:math:`q\bar q \to \tilde\chi^+_1 \tilde\chi^-_1` with
:math:`\tilde\chi^\pm_1 \to W^\pm \tilde\chi^0_1` (branching ratio 1), everything
else decoupled.

Pythia settings that go with it::

    SLHA:file = <path>
    SUSY:qqbar2chi+chi- = on
    SUSY:idA = 1000024          # keep only the light chargino pair
    SUSY:idB = 1000024
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from neyman.atomic import write_text
from neyman.exceptions import ConfigError

__all__ = [
    "CHARGINO_ID",
    "NEUTRALINO_ID",
    "chargino_spectrum_text",
    "mixing_matrices",
    "write_chargino_spectrum",
]

CHARGINO_ID = 1000024
r"""PDG code of the light chargino :math:`\tilde\chi^+_1`."""
NEUTRALINO_ID = 1000022
r"""PDG code of the lightest neutralino :math:`\tilde\chi^0_1` (the stable LSP)."""

_Z_MASS = 91.1876
_HIGGS_MASS = 125.0

# Every sparticle that is not the light chargino or the LSP (PDG codes, SLHA1 naming).
_SQUARKS = (1000001, 2000001, 1000002, 2000002, 1000003, 2000003, 1000004, 2000004, 1000005, 2000005, 1000006, 2000006)
_SLEPTONS = (1000011, 2000011, 1000012, 1000013, 2000013, 1000014, 1000015, 2000015, 1000016)


def _rotation(n: int, i: int, j: int, angle: float) -> np.ndarray:
    """Givens rotation by ``angle`` in the ``(i, j)`` plane of an ``n``-dimensional space."""
    out = np.eye(n)
    c, s = math.cos(angle), math.sin(angle)
    out[i, i] = out[j, j] = c
    out[i, j] = s
    out[j, i] = -s
    return out


def mixing_matrices(
    *, bino_wino: float = 0.15, bino_higgsino: float = 0.10, chargino_u: float = 0.20, chargino_v: float = 0.12
) -> dict[str, np.ndarray]:
    r"""Real orthogonal neutralino and chargino mixing matrices ``NMIX``, ``UMIX``, ``VMIX``.

    Parameters
    ----------
    bino_wino
        Rotation angle (radians) mixing the bino into the neutral wino.
    bino_higgsino
        Rotation angle mixing the bino into each neutral higgsino.
    chargino_u, chargino_v
        Rotation angles of the negative- and positive-chargino mixing matrices.

    Returns
    -------
    dict
        ``{"NMIX": (4, 4), "UMIX": (2, 2), "VMIX": (2, 2)}``, each exactly orthogonal
        with determinant +1.

    Notes
    -----
    In SLHA1 conventions row :math:`i` of :math:`N` is the mass eigenstate
    :math:`\tilde\chi^0_i` and the columns are
    :math:`(\tilde B, \tilde W^3, \tilde H_d^0, \tilde H_u^0)`; the chargino matrices act
    on :math:`(\tilde W^\pm, \tilde H^\pm)`.  The matrices are products of Givens
    rotations,

    .. math::

        N = R_{14}(\theta_{bh}) \, R_{13}(\theta_{bh}) \, R_{12}(\theta_{bw}) \, R_{34}(\pi/4),
        \qquad U = R(\theta_U), \qquad V = R(\theta_V),

    so :math:`\tilde\chi^0_1` is a mostly-bino LSP with small wino and higgsino
    admixtures, and :math:`\tilde\chi^\pm_1` is mostly wino.  The admixtures give the
    :math:`W \tilde\chi^\pm_1 \tilde\chi^0_1` coupling
    :math:`O^L_{11} = N_{12} V_{11}^* - N_{14} V_{12}^*/\sqrt2` a non-zero value; with
    pure states it vanishes and the chargino could not decay.  These angles are a
    parametrisation, not the diagonalisation of an MSSM mass matrix.
    """
    n = (
        _rotation(4, 0, 3, bino_higgsino)
        @ _rotation(4, 0, 2, bino_higgsino)
        @ _rotation(4, 0, 1, bino_wino)
        @ _rotation(4, 2, 3, math.pi / 4)
    )
    return {"NMIX": n, "UMIX": _rotation(2, 0, 1, chargino_u), "VMIX": _rotation(2, 0, 1, chargino_v)}


def _matrix_block(name: str, matrix: np.ndarray, comment: str) -> list[str]:
    lines = [f"BLOCK {name}  # {comment}"]
    for (i, j), value in np.ndenumerate(matrix):
        lines.append(f"  {i + 1:d} {j + 1:d}   {value: .8e}   # {name}({i + 1},{j + 1})")
    return lines


def chargino_spectrum_text(
    *,
    chargino_mass: float = 200.0,
    neutralino_mass: float = 100.0,
    heavy_mass: float = 5000.0,
    chargino_width: float = 0.05,
    tan_beta: float = 10.0,
) -> str:
    r"""Return the text of an SLHA1 spectrum with a light chargino and a light LSP.

    Parameters
    ----------
    chargino_mass
        Mass of :math:`\tilde\chi^\pm_1` in GeV (default 200).
    neutralino_mass
        Mass of the stable LSP :math:`\tilde\chi^0_1` in GeV (default 100).
    heavy_mass
        Mass in GeV of every other sparticle and of the heavy Higgs bosons (default
        5000, out of reach of an 8 TeV collider's electroweak processes).
    chargino_width
        Total width of :math:`\tilde\chi^\pm_1` in GeV written in its ``DECAY`` block.
    tan_beta
        :math:`\tan\beta`, written to ``MINPAR`` and ``HMIX``.

    Returns
    -------
    str
        The SLHA file content.

    Raises
    ------
    ConfigError
        If the masses are not ordered
        ``0 < neutralino_mass < chargino_mass < heavy_mass`` or the width is negative.

    Notes
    -----
    The spectrum (SLHA1, ``MODSEL 1 = 0``: general MSSM at the weak scale):

    * ``MASS``: :math:`m(\tilde\chi^0_1)` and :math:`m(\tilde\chi^\pm_1)` as given;
      :math:`h^0` at 125 GeV; :math:`H^0, A^0, H^\pm`, the gluino, all squarks,
      sleptons and sneutrinos, :math:`\tilde\chi^0_{2,3,4}` and
      :math:`\tilde\chi^\pm_2` at ``heavy_mass`` (plus 1-3 GeV steps where Pythia
      checks the ordering).
    * ``NMIX``, ``UMIX``, ``VMIX`` from :func:`mixing_matrices` (orthogonal, mostly-bino
      LSP, mostly-wino chargino); no sfermion mixing (identity ``STOPMIX``,
      ``SBOTMIX``, ``STAUMIX``); decoupling-limit Higgs mixing angle
      :math:`\alpha = \beta - \pi/2`.
    * ``DECAY 1000024``: :math:`\tilde\chi^+_1 \to \tilde\chi^0_1 W^+` with branching
      ratio 1 (Pythia decays the :math:`W` itself, so ``24:onMode`` selects its
      channels); ``DECAY 1000022`` with zero width (stable).
    * ``SMINPUTS``, ``MINPAR``, ``HMIX``, ``GAUGE``, ``MSOFT``, ``ALPHA``, ``AU/AD/AE``
      and ``YU/YD/YE`` with standard weak-scale values so that Pythia's SUSY coupling
      set-up finds every entry it reads.

    With ``chargino_mass - neutralino_mass`` above :math:`m_W` (the default 100 GeV)
    the :math:`W` is on shell.
    """
    if not 0.0 < neutralino_mass < chargino_mass < heavy_mass:
        raise ConfigError(
            "the chargino spectrum needs 0 < neutralino_mass < chargino_mass < heavy_mass, got "
            f"neutralino_mass={neutralino_mass}, chargino_mass={chargino_mass}, heavy_mass={heavy_mass}"
        )
    if chargino_width < 0.0:
        raise ConfigError(f"chargino_width must be >= 0 GeV, got {chargino_width}")
    mix = mixing_matrices()
    beta = math.atan(tan_beta)
    mu = heavy_mass
    heavy = f"{heavy_mass: .8e}"

    masses: list[tuple[int, float, str]] = [
        (25, _HIGGS_MASS, "h0"),
        (35, heavy_mass, "H0"),
        (36, heavy_mass, "A0"),
        (37, heavy_mass, "H+"),
    ]
    masses += [(pid, heavy_mass, "squark") for pid in _SQUARKS]
    masses += [(pid, heavy_mass, "slepton / sneutrino") for pid in _SLEPTONS]
    masses += [
        (1000021, heavy_mass, "gluino"),
        (NEUTRALINO_ID, neutralino_mass, "neutralino 1 (LSP)"),
        (1000023, heavy_mass + 1.0, "neutralino 2"),
        (CHARGINO_ID, chargino_mass, "chargino 1"),
        (1000025, heavy_mass + 2.0, "neutralino 3"),
        (1000035, heavy_mass + 3.0, "neutralino 4"),
        (1000037, heavy_mass + 1.0, "chargino 2"),
    ]

    lines = [
        "# SLHA1 spectrum written by neyman.generation.slha",
        f"# light chargino {chargino_mass:g} GeV -> W + neutralino {neutralino_mass:g} GeV; "
        f"everything else at {heavy_mass:g} GeV",
        "BLOCK SPINFO  # program information",
        "  1   neyman   # spectrum calculator",
        "  2   0.1.0    # version",
        "BLOCK MODSEL  # model selection",
        "  1   0   # general MSSM at the weak scale",
        "BLOCK SMINPUTS  # Standard Model inputs",
        "  1   1.27934000e+02   # alpha_em^-1(MZ) MSbar",
        "  2   1.16637000e-05   # G_Fermi",
        "  3   1.18000000e-01   # alpha_s(MZ) MSbar",
        f"  4   {_Z_MASS: .8e}   # MZ pole",
        "  5   4.18000000e+00   # mb(mb) MSbar",
        "  6   1.73000000e+02   # mt pole",
        "  7   1.77686000e+00   # mtau pole",
        "BLOCK MINPAR  # input parameters",
        f"  3   {tan_beta: .8e}   # tan(beta)",
        "BLOCK MASS  # pole masses (GeV)",
    ]
    lines += [f"  {pid:>8d}   {mass: .8e}   # {label}" for pid, mass, label in masses]
    lines += _matrix_block("NMIX", mix["NMIX"], "neutralino mixing matrix")
    lines += _matrix_block("UMIX", mix["UMIX"], "chargino U mixing matrix")
    lines += _matrix_block("VMIX", mix["VMIX"], "chargino V mixing matrix")
    for name, comment in (("STOPMIX", "stop"), ("SBOTMIX", "sbottom"), ("STAUMIX", "stau")):
        lines += _matrix_block(name, np.eye(2), f"{comment} mixing matrix (no mixing)")
    q = f"Q= {heavy_mass: .8e}"
    lines += [
        "BLOCK ALPHA  # effective Higgs mixing angle (decoupling limit)",
        f"  {beta - math.pi / 2: .8e}   # alpha",
        f"BLOCK HMIX {q}  # Higgs mixing parameters",
        f"  1   {mu: .8e}   # mu",
        f"  2   {tan_beta: .8e}   # tan(beta)",
        "  3   2.46000000e+02   # v",
        f"  4   {heavy_mass**2: .8e}   # mA^2",
        f"BLOCK GAUGE {q}  # gauge couplings",
        "  1   3.60000000e-01   # g'",
        "  2   6.46000000e-01   # g",
        "  3   1.10000000e+00   # g3",
        f"BLOCK MSOFT {q}  # soft SUSY-breaking masses",
        f"  1   {neutralino_mass: .8e}   # M1",
        f"  2   {chargino_mass: .8e}   # M2",
        f"  3   {heavy}   # M3",
    ]
    lines += [
        f"  {i:d}   {heavy}   # sfermion soft mass"
        for i in (31, 32, 33, 34, 35, 36, 41, 42, 43, 44, 45, 46, 47, 48, 49)
    ]
    for name, comment in (("AU", "up-type trilinears"), ("AD", "down-type trilinears"), ("AE", "lepton trilinears")):
        lines += [f"BLOCK {name} {q}  # {comment}"] + [f"  {i} {i}   0.00000000e+00" for i in (1, 2, 3)]
    yukawas = {"YU": (0.0, 0.0, 0.87), "YD": (0.0, 0.0, 0.13), "YE": (0.0, 0.0, 0.10)}
    for name, values in yukawas.items():
        lines += [f"BLOCK {name} {q}  # Yukawa couplings"] + [
            f"  {i} {i}   {value: .8e}" for i, value in zip((1, 2, 3), values, strict=True)
        ]
    lines += [
        "#         PDG      width (GeV)",
        f"DECAY  {CHARGINO_ID:d}   {chargino_width: .8e}   # chargino 1",
        "#    BR          NDA   ID1       ID2",
        f"   1.00000000e+00   2   {NEUTRALINO_ID:d}   24   # chi_1+ -> chi_10 W+",
        f"DECAY  {NEUTRALINO_ID:d}   0.00000000e+00   # neutralino 1 (stable LSP)",
    ]
    return "\n".join(lines) + "\n"


def write_chargino_spectrum(
    path: str | os.PathLike[str],
    *,
    chargino_mass: float = 200.0,
    neutralino_mass: float = 100.0,
    heavy_mass: float = 5000.0,
    chargino_width: float = 0.05,
    tan_beta: float = 10.0,
) -> Path:
    r"""Write the spectrum of :func:`chargino_spectrum_text` to ``path`` atomically.

    Parameters
    ----------
    path
        Destination file (its directory is created); written under a temporary name
        and renamed into place.
    chargino_mass, neutralino_mass, heavy_mass, chargino_width, tan_beta
        As in :func:`chargino_spectrum_text` (GeV).

    Returns
    -------
    Path
        ``path``, ready for ``pythia.readString(f"SLHA:file = {path}")``.

    Examples
    --------
    >>> path = write_chargino_spectrum(tmp_path / "chargino.slha")  # doctest: +SKIP
    >>> for line in (f"SLHA:file = {path}", "SUSY:qqbar2chi+chi- = on",
    ...              "SUSY:idA = 1000024", "SUSY:idB = 1000024"):  # doctest: +SKIP
    ...     pythia.readString(line)

    Notes
    -----
    Pythia reads ``SLHA:file`` during ``init()``, so the file must stay in place until
    then.  A path containing spaces is not accepted by Pythia's settings parser.

    With the defaults, Pythia 8.317 gives
    :math:`\sigma(pp \to \tilde\chi^+_1\tilde\chi^-_1) \approx 0.235` pb at
    :math:`\sqrt s = 8` TeV (leading order; 0.011 pb for a 400 GeV chargino).  Its
    ``sigmaGen()`` does not include the :math:`W` branching fractions selected with
    ``24:onMode``/``24:onIfAny``; multiply by them, e.g.
    :math:`(0.216)^2` for :math:`W \to e\nu, \mu\nu` on both sides.
    """
    text = chargino_spectrum_text(
        chargino_mass=chargino_mass,
        neutralino_mass=neutralino_mass,
        heavy_mass=heavy_mass,
        chargino_width=chargino_width,
        tan_beta=tan_beta,
    )
    return write_text(path, text)
