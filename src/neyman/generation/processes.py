"""Catalogue of physics processes: what to generate, which objects to keep, which features.

A :class:`Process` is a list of :class:`Sample` s (one per class label, each with its
Pythia configuration), the analysis that turns events into rows (``jets``: one row
per selected jet; ``dijet``: one row per event with its two leading jets;
``dilepton``: one row per dilepton event with the UCI SUSY features;
``calibration``: detector jets matched to particle-level jets), and the jet
definition.  Recipes follow the literature cited in each entry; ``neyman generate
--list`` prints them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from neyman.exceptions import ConfigError, close_matches

__all__ = ["ANALYSES", "PROCESSES", "JetSelection", "Process", "Sample", "describe_processes", "get_process"]

ANALYSES = ("jets", "dijet", "dilepton", "calibration")
"""Names of the analyses a process can use (see :mod:`neyman.generation.analyses`)."""

TRUTH_KINDS = ("", "top", "w", "higgs")
"""Truth matching of a sample's jets: none, hadronic top, hadronic W, H -> bb."""


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
        Window in jet transverse momentum (GeV); ``pt_max <= 0`` means no upper edge.
    eta_max
        Largest :math:`|\\eta|` of a jet (or :math:`|y|` with ``use_rapidity``).
    use_rapidity
        Apply ``eta_max`` to the rapidity instead of the pseudorapidity.
    max_constituents
        Constituents stored per jet, the hardest first (features use all of them).
    match_radius
        :math:`\\Delta R` within which the resonance and its decay partons must lie.
    trim_radius, trim_fraction
        Trimming: recluster the constituents into :math:`k_T` subjets of radius
        ``trim_radius`` and drop those with less than ``trim_fraction`` of the jet
        :math:`p_T`; no trimming when ``trim_radius`` is 0.
    """

    algorithm: str = "antikt"
    radius: float = 0.8
    pt_min: float = 550.0
    pt_max: float = 650.0
    eta_max: float = 2.0
    use_rapidity: bool = False
    max_constituents: int = 200
    match_radius: float = 0.8
    trim_radius: float = 0.0
    trim_fraction: float = 0.0


@dataclass(frozen=True)
class Sample:
    """One class of a process.

    Attributes
    ----------
    label
        Class label written to the ``label`` column.
    name
        Human name of the class (``"top"``, ``"qcd"``).
    settings
        Pythia settings of this class (added to the process's beam settings).
    truth
        Truth matching required of its jets (one of :data:`TRUTH_KINDS`).
    share
        Fraction of the requested rows that this class provides.
    spectrum
        Name of an SLHA spectrum neyman writes and passes as ``SLHA:file``
        (``"chargino"``: :func:`neyman.generation.slha.write_chargino_spectrum`).
    partons
        If given, only jets whose nearest outgoing hard-process parton has one of
        these absolute PDG ids are kept (the light quarks of a quark-jet sample).
    secondary_resonances
        Resonances produced in decays after the hard process (the W bosons of
        chargino decays) whose restricted channels (``24:onIfAny``) Pythia's cross
        section does not include; their open fractions are applied to the cross
        section in the provenance, so that every class's σ counts the same final state.
    """

    label: int
    name: str
    settings: tuple[str, ...]
    truth: str = ""
    share: float = 0.5
    spectrum: str = ""
    partons: tuple[int, ...] = ()
    secondary_resonances: tuple[int, ...] = ()


@dataclass(frozen=True)
class Process:
    """A labelled sample: classes, analysis, jets and its literature recipe.

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
        Pythia settings common to all classes.
    samples
        The classes.
    analysis
        One of :data:`ANALYSES`.
    jets
        Jet definition and selection.
    chunk_events
        Events generated per chunk (the unit of work, of seeding and of resuming);
        chosen so that a chunk takes a few seconds.
    unit
        What ``--events N`` counts: ``"jets"`` or ``"events"`` (rows either way).
    mpi
        Whether multi-parton interactions are on by default, as in the reference
        (``--mpi`` overrides it).
    weighted
        Whether events are generated with a biased phase space (e.g.
        ``PhaseSpace:bias2Selection``) and carry Pythia's compensating event weight in
        a ``weight`` column.
    """

    name: str
    description: str
    recipe: str
    reference: str
    beam_settings: tuple[str, ...]
    samples: tuple[Sample, ...]
    analysis: str = "jets"
    jets: JetSelection = field(default_factory=JetSelection)
    chunk_events: int = 500
    unit: str = "jets"
    mpi: bool = False
    weighted: bool = False

    def __post_init__(self) -> None:
        if self.analysis not in ANALYSES:
            raise ConfigError(f"process {self.name!r}: unknown analysis {self.analysis!r}; choose one of {ANALYSES}")
        for sample in self.samples:
            if sample.truth not in TRUTH_KINDS:
                raise ConfigError(f"process {self.name!r}: unknown truth matching {sample.truth!r}")

    def sample(self, label: int) -> Sample:
        """The class with label ``label``."""
        for sample in self.samples:
            if sample.label == label:
                return sample
        raise ConfigError(f"process {self.name!r} has no class with label {label}")

    def settings(self, label: int) -> tuple[str, ...]:
        """All Pythia settings of the class ``label``."""
        return self.beam_settings + self.sample(label).settings

    def rows_per_class(self, total: int) -> dict[int, int]:
        """Split ``total`` rows between the classes by their shares (largest remainder)."""
        raw = {s.label: total * s.share for s in self.samples}
        counts = {label: int(value) for label, value in raw.items()}
        missing = total - sum(counts.values())
        for label in sorted(raw, key=lambda k: counts[k] - raw[k])[:missing]:
            counts[label] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (for the provenance)."""
        return dataclasses.asdict(self)


_LHC14 = ("Beams:idA = 2212", "Beams:idB = 2212", "Beams:eCM = 14000.")
_LHC13 = ("Beams:idA = 2212", "Beams:idB = 2212", "Beams:eCM = 13000.")
_LHC8 = ("Beams:idA = 2212", "Beams:idB = 2212", "Beams:eCM = 8000.")


def _qcd(pt_min: float, pt_max: float = 0.0) -> tuple[str, ...]:
    window: tuple[str, ...] = (f"PhaseSpace:pTHatMin = {pt_min:g}.",)
    if pt_max > 0:
        window += (f"PhaseSpace:pTHatMax = {pt_max:g}.",)
    return ("HardQCD:all = on", *window)


_TTBAR_HADRONIC = (
    "Top:gg2ttbar = on",
    "Top:qqbar2ttbar = on",
    "24:onMode = off",
    "24:onIfAny = 1 2 3 4 5",
    "PhaseSpace:pTHatMin = 500.",
    "PhaseSpace:pTHatMax = 700.",
)

TOP_VS_QCD = Process(
    name="top_vs_qcd",
    description="hadronic top-quark jets vs QCD light-quark and gluon jets, 14 TeV, pT 550-650 GeV",
    recipe=(
        "pp -> tt with W -> qq', vs QCD 2->2 dijets, at 14 TeV, pTHat 500-700 GeV, no multi-parton interactions; "
        "anti-kT R=0.8 on detector objects; jets with 550 < pT < 650 GeV and |eta| < 2; a top jet must contain "
        "the top and its three decay quarks within dR < 0.8; up to 200 constituents ordered by pT"
    ),
    reference=(
        "G. Kasieczka et al., 'The Machine Learning Landscape of Top Taggers', SciPost Phys. 7 (2019) 014, "
        "arXiv:1902.09914"
    ),
    beam_settings=_LHC14,
    samples=(
        Sample(1, "top", _TTBAR_HADRONIC, truth="top"),
        Sample(0, "qcd", _qcd(500, 700)),
    ),
    jets=JetSelection(),
)

W_VS_QCD = Process(
    name="w_vs_qcd",
    description="boosted hadronic W-boson jets vs QCD jets, 14 TeV, R=1.0 trimmed, pT 250-300 GeV",
    recipe=(
        "pp -> W'(600 GeV) -> W Z with W -> qq' and Z -> nu nu, vs QCD 2->2 dijets with pTHat 200-350 GeV, at "
        "14 TeV; anti-kT R=1.0 on detector objects, trimmed (kT subjets R_sub=0.3, f_cut=5%); trimmed jets with "
        "250 < pT < 300 GeV and |eta| < 2; a W jet must contain the W and both decay quarks within dR < 1.0"
    ),
    reference=(
        "L. de Oliveira, M. Kagan, L. Mackey, B. Nachman, A. Schwartzman, 'Jet-images - deep learning "
        "edition', JHEP 07 (2016) 069, arXiv:1511.05190"
    ),
    beam_settings=_LHC14,
    samples=(
        Sample(
            1,
            "w",
            (
                "NewGaugeBoson:ffbar2Wprime = on",
                "34:m0 = 600.",
                "34:onMode = off",
                "34:onIfAll = 23 24",
                "Wprime:coup2WZ = 1.",
                "24:onMode = off",
                "24:onIfAny = 1 2 3 4",
                "23:onMode = off",
                "23:onIfAny = 12 14 16",
            ),
            truth="w",
        ),
        Sample(0, "qcd", _qcd(200, 350)),
    ),
    jets=JetSelection(
        radius=1.0,
        pt_min=250.0,
        pt_max=300.0,
        match_radius=1.0,
        max_constituents=200,
        trim_radius=0.3,
        trim_fraction=0.05,
    ),
    chunk_events=1000,
)

QUARK_VS_GLUON = Process(
    name="quark_vs_gluon",
    description="light-quark vs gluon jets recoiling against Z -> nu nu, 14 TeV, R=0.4, pT 500-550 GeV",
    recipe=(
        "pp -> Z(-> nu nu) + q (qg -> Zq, label 1; jets of u, d, s quarks only) vs Z(-> nu nu) + g (qqbar -> Zg, "
        "label 0) at 14 TeV, pTHat 480-600 GeV, multi-parton interactions on (as the reference); anti-kT R=0.4 on "
        "detector objects; jets with 500 < pT < 550 GeV and |y| < 1.7. Differs from the reference: detector "
        "objects instead of particles (--detector none gives particle level), every selected jet rather than "
        "the hardest only"
    ),
    reference=(
        "P. T. Komiske, E. M. Metodiev, J. Thaler, 'Energy Flow Networks: Deep Sets for Particle Jets', "
        "JHEP 01 (2019) 121, arXiv:1810.05165"
    ),
    beam_settings=(*_LHC14, "WeakZ0:gmZmode = 2", "23:onMode = off", "23:onIfAny = 12 14 16"),
    samples=(
        Sample(
            1,
            "quark",
            ("WeakBosonAndParton:qg2gmZq = on", "PhaseSpace:pTHatMin = 480.", "PhaseSpace:pTHatMax = 600."),
            partons=(1, 2, 3),
        ),
        Sample(
            0,
            "gluon",
            ("WeakBosonAndParton:qqbar2gmZg = on", "PhaseSpace:pTHatMin = 480.", "PhaseSpace:pTHatMax = 600."),
        ),
    ),
    jets=JetSelection(radius=0.4, pt_min=500.0, pt_max=550.0, eta_max=1.7, use_rapidity=True, match_radius=0.4),
    chunk_events=1000,
    mpi=True,
)

HIGGS_TOP_QCD = Process(
    name="higgs_top_qcd",
    description="three classes of large-R jets: H -> bb (2), hadronic top (1), QCD (0); 14 TeV, pT 550-650 GeV",
    recipe=(
        "pp -> H + jet with H -> bb (label 2), pp -> tt with W -> qq' (label 1), QCD 2->2 dijets (label 0), at "
        "14 TeV, pTHat 500-700 GeV; anti-kT R=0.8 on detector objects; jets with 550 < pT < 650 GeV and "
        "|eta| < 2; H jets must contain the Higgs and both b quarks, top jets the top and its three quarks, "
        "within dR < 0.8"
    ),
    reference=(
        "H. Qu, L. Gouskos, 'ParticleNet: Jet Tagging via Particle Clouds', Phys. Rev. D 101 (2020) 056019, "
        "arXiv:1902.08570; CMS Collaboration, 'Identification of heavy, energetic, hadronically decaying "
        "particles using machine-learning techniques', JINST 15 (2020) P06005"
    ),
    beam_settings=_LHC14,
    samples=(
        Sample(
            2,
            "higgs",
            (
                "HiggsSM:qg2Hq = on",
                "HiggsSM:gg2Hg(l:t) = on",
                "HiggsSM:qqbar2Hg(l:t) = on",
                "25:onMode = off",
                "25:onIfAll = 5 -5",
                "PhaseSpace:pTHatMin = 500.",
                "PhaseSpace:pTHatMax = 700.",
            ),
            truth="higgs",
            share=1 / 3,
        ),
        Sample(1, "top", _TTBAR_HADRONIC, truth="top", share=1 / 3),
        Sample(0, "qcd", _qcd(500, 700), share=1 / 3),
    ),
    jets=JetSelection(),
)

DIJET_RESONANCE = Process(
    name="dijet_resonance",
    description="QCD dijet events with an injectable W'(3.5 TeV) -> X(500) Y(100) -> qq qq signal, 13 TeV",
    recipe=(
        "QCD 2->2 dijets with pTHat > 1000 GeV (label 0) and W'(3.5 TeV) -> X(500 GeV) Y(100 GeV), X -> qq', "
        "Y -> qq (label 1), at 13 TeV; anti-kT R=1.0 on detector objects; events with a jet of pT > 1.2 TeV "
        "and |eta| < 2.5; per event the two leading jets (by pT) with their mass, tau21, tau32 and the dijet "
        "mass m_jj; the signal share is set with --set process.signal_fraction=F (default 0.1)"
    ),
    reference=(
        "G. Kasieczka, B. Nachman, D. Shih et al., 'The LHC Olympics 2020: a community challenge for anomaly "
        "detection in high energy physics', Rep. Prog. Phys. 84 (2021) 124201, arXiv:2101.08320"
    ),
    beam_settings=_LHC13,
    samples=(
        Sample(
            1,
            "signal",
            (
                "NewGaugeBoson:ffbar2Wprime = on",
                "34:m0 = 3500.",
                "34:mWidth = 35.",
                "34:doForceWidth = on",
                "34:oneChannel = 1 1.0 100 37 35",
                "37:m0 = 500.",
                "37:mWidth = 5.",
                "37:doForceWidth = on",
                "37:oneChannel = 1 1.0 100 2 -1",
                "35:m0 = 100.",
                "35:mWidth = 1.",
                "35:doForceWidth = on",
                "35:oneChannel = 1 1.0 100 1 -1",
            ),
            share=0.1,
        ),
        Sample(0, "background", _qcd(1000), share=0.9),
    ),
    analysis="dijet",
    jets=JetSelection(radius=1.0, pt_min=1200.0, pt_max=0.0, eta_max=2.5, match_radius=1.0, max_constituents=0),
    chunk_events=200,
    unit="events",
)

SUSY_VS_WW = Process(
    name="susy_vs_ww",
    description="chargino pairs (-> W neutralino, W -> l nu) vs SM WW -> l nu l nu, 8 TeV, UCI SUSY features",
    recipe=(
        "pp -> chargino+ chargino- (m = 200 GeV, neutralino 100 GeV, SLHA spectrum written by neyman with "
        "mixed gauginos), chargino -> W neutralino (label 1), vs pp -> W+W- (label 0), at 8 TeV, W -> e nu, "
        "mu nu; events with exactly two leptons (e, mu) of pT > 20 GeV and |eta| < 2.5 after the detector; "
        "the 8 low-level and 10 high-level features of the UCI SUSY data set under the same names"
    ),
    reference=(
        "P. Baldi, P. Sadowski, D. Whiteson, 'Searching for exotic particles in high-energy physics with deep "
        "learning', Nature Commun. 5 (2014) 4308, arXiv:1402.4735"
    ),
    beam_settings=(*_LHC8, "24:onMode = off", "24:onIfAny = 11 13"),
    samples=(
        Sample(
            1,
            "chargino",
            ("SUSY:qqbar2chi+chi- = on", "SUSY:idA = 1000024", "SUSY:idB = 1000024"),
            spectrum="chargino",
            secondary_resonances=(24, -24),
        ),
        Sample(0, "ww", ("WeakDoubleBoson:ffbar2WW = on",)),
    ),
    analysis="dilepton",
    jets=JetSelection(radius=0.4, pt_min=30.0, pt_max=0.0, eta_max=2.5, max_constituents=0),
    chunk_events=2000,
    unit="events",
)

JET_CALIBRATION = Process(
    name="jet_calibration",
    description="QCD jets with detector- and particle-level kinematics for energy-response regression, 14 TeV",
    recipe=(
        "QCD 2->2 dijets at 14 TeV with pTHat > 20 GeV, the phase space biased by (pTHat / 40 GeV)^4 "
        "(PhaseSpace:bias2Selection) so that jets from 20 GeV to 2 TeV are all well populated, each event "
        "carrying Pythia's compensating weight in the column weight (train with --weight weight for the "
        "physical spectrum; the weights average about 1.06, not 1, so normalise by their sum, not by the number "
        "of events: an event stands for sigma w / sum(w)); anti-kT R=0.4 on detector objects and, separately, "
        "on visible final-state particles; detector jets with pT > 30 GeV and |eta| < 2.5 matched to the "
        "nearest particle-level jet within dR < 0.2; columns truth_* give the particle-level jet and "
        "response = pt / truth_pt"
    ),
    reference=(
        "ATLAS Collaboration, 'Jet energy scale and resolution measured in proton-proton collisions at 13 TeV', "
        "Eur. Phys. J. C 81 (2021) 689, arXiv:2007.02645; CMS Collaboration, 'A deep neural network for "
        "simultaneous estimation of b jet energy and resolution', Comput. Softw. Big Sci. 4 (2020) 10, "
        "arXiv:1912.06046"
    ),
    beam_settings=_LHC14,
    samples=(
        Sample(
            0,
            "jets",
            (
                *_qcd(20),
                "PhaseSpace:bias2Selection = on",
                "PhaseSpace:bias2SelectionPow = 4.",
                "PhaseSpace:bias2SelectionRef = 40.",
            ),
            share=1.0,
        ),
    ),
    analysis="calibration",
    jets=JetSelection(radius=0.4, pt_min=30.0, pt_max=0.0, eta_max=2.5, match_radius=0.2, max_constituents=0),
    chunk_events=500,
    weighted=True,
)

PROCESSES: dict[str, Process] = {
    p.name: p
    for p in (TOP_VS_QCD, W_VS_QCD, QUARK_VS_GLUON, HIGGS_TOP_QCD, SUSY_VS_WW, DIJET_RESONANCE, JET_CALIBRATION)
}
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


def describe_processes() -> str:
    """The catalogue in words: classes, recipe and reference of each process (``neyman generate --list``)."""
    lines = []
    for process in PROCESSES.values():
        classes = ", ".join(f"{s.label} = {s.name}" for s in sorted(process.samples, key=lambda s: -s.label))
        lines += [
            f"{process.name}",
            f"  {process.description}",
            f"  classes: {classes}; rows: one per {'jet' if process.unit == 'jets' else 'event'}",
            f"  recipe: {process.recipe}",
            f"  reference: {process.reference}",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
