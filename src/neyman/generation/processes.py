"""Catalogue of physics processes: what to generate and which jets to keep.

Each :class:`Process` pairs a signal and a background Pythia configuration with one
jet selection, so that a labelled sample (1 = signal, 0 = background) is defined by
a name.  Recipes follow the literature cited in each entry.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from neyman.exceptions import ConfigError, close_matches

__all__ = ["PROCESSES", "JetSelection", "Process", "get_process"]


@dataclass(frozen=True)
class JetSelection:
    """Jet definition and acceptance.

    Attributes
    ----------
    algorithm
        FastJet algorithm name: ``antikt``, ``kt`` or ``cambridge``.
    radius
        Jet radius R.
    pt_min, pt_max
        Window in jet transverse momentum (GeV).
    eta_max
        Largest :math:`|\\eta|` of a jet.
    max_constituents
        Constituents kept per jet, the hardest first.
    truth_match
        Signal truth matching: ``"top"`` (hadronic top and its three decay quarks
        within ``match_radius``), ``"w"`` (hadronic W and its two quarks) or ``""``.
    match_radius
        :math:`\\Delta R` of the truth matching.
    """

    algorithm: str = "antikt"
    radius: float = 0.8
    pt_min: float = 550.0
    pt_max: float = 650.0
    eta_max: float = 2.0
    max_constituents: int = 200
    truth_match: str = "top"
    match_radius: float = 0.8


@dataclass(frozen=True)
class Process:
    """One labelled sample: a signal and a background configuration.

    Attributes
    ----------
    name
        Catalogue key.
    description
        One line for humans.
    recipe
        How the sample is made, in words (for the provenance and reports).
    reference
        The literature the recipe follows.
    beam_settings
        Pythia settings common to both classes.
    signal_settings, background_settings
        Pythia settings for label 1 and label 0.
    jets
        Jet definition and selection.
    """

    name: str
    description: str
    recipe: str
    reference: str
    beam_settings: tuple[str, ...]
    signal_settings: tuple[str, ...]
    background_settings: tuple[str, ...]
    jets: JetSelection = field(default_factory=JetSelection)

    def settings(self, label: int) -> tuple[str, ...]:
        """All Pythia settings of class ``label`` (1 = signal, 0 = background)."""
        return self.beam_settings + (self.signal_settings if label == 1 else self.background_settings)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (for the provenance)."""
        return dataclasses.asdict(self)


_LHC14 = ("Beams:idA = 2212", "Beams:idB = 2212", "Beams:eCM = 14000.")

TOP_VS_QCD = Process(
    name="top_vs_qcd",
    description="hadronic top-quark jets vs QCD light-quark and gluon jets, 14 TeV, pT 550-650 GeV",
    recipe=(
        "pp -> tt (all-hadronic admitted; jets matched to a hadronic top) vs QCD 2->2 dijets at 14 TeV, "
        "pTHat 500-700 GeV; anti-kT R=0.8 on detector objects; jets with 550 < pT < 650 GeV and |eta| < 2; "
        "top jets must contain the top and its three decay quarks within dR < 0.8; "
        "up to 200 constituents ordered by pT"
    ),
    reference=(
        "G. Kasieczka et al., 'The Machine Learning Landscape of Top Taggers', SciPost Phys. 7 (2019) 014, "
        "arXiv:1902.09914"
    ),
    beam_settings=_LHC14,
    signal_settings=(
        "Top:gg2ttbar = on",
        "Top:qqbar2ttbar = on",
        "24:onMode = off",
        "24:onIfAny = 1 2 3 4 5",
        "PhaseSpace:pTHatMin = 500.",
        "PhaseSpace:pTHatMax = 700.",
    ),
    background_settings=("HardQCD:all = on", "PhaseSpace:pTHatMin = 500.", "PhaseSpace:pTHatMax = 700."),
    jets=JetSelection(truth_match="top"),
)

W_VS_QCD = Process(
    name="w_vs_qcd",
    description="hadronic W-boson jets vs QCD jets, 14 TeV, pT 550-650 GeV",
    recipe=(
        "pp -> W'(1.2 TeV) -> W Z with W -> qq and Z -> nu nu, vs QCD 2->2 dijets at 14 TeV, pTHat 500-700 GeV; "
        "anti-kT R=0.8; jets with 550 < pT < 650 GeV and |eta| < 2; W jets must contain the W and both decay "
        "quarks within dR < 0.8"
    ),
    reference=(
        "L. de Oliveira, M. Kagan, L. Mackey, B. Nachman, A. Schwartzman, 'Jet-images - deep learning "
        "edition', JHEP 07 (2016) 069, arXiv:1511.05190"
    ),
    beam_settings=_LHC14,
    signal_settings=(
        "NewGaugeBoson:ffbar2Wprime = on",
        "34:m0 = 1200.",
        "34:onMode = off",
        "34:onIfAll = 23 24",
        "Wprime:coup2WZ = 1.",
        "24:onMode = off",
        "24:onIfAny = 1 2 3 4",
        "23:onMode = off",
        "23:onIfAny = 12 14 16",
    ),
    background_settings=("HardQCD:all = on", "PhaseSpace:pTHatMin = 500.", "PhaseSpace:pTHatMax = 700."),
    jets=JetSelection(truth_match="w"),
)

PROCESSES: dict[str, Process] = {p.name: p for p in (TOP_VS_QCD, W_VS_QCD)}
"""The catalogue, by name."""


def get_process(name: str | Process) -> Process:
    """Return the catalogue entry ``name`` (a :class:`Process` is returned unchanged)."""
    if isinstance(name, Process):
        return name
    try:
        return PROCESSES[name]
    except KeyError:
        raise ConfigError(
            f"unknown process {name!r}{close_matches(name, PROCESSES)}; choose one of {', '.join(PROCESSES)}"
        ) from None
