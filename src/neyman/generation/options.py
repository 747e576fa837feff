"""Options of a generation request: ``--set`` overrides, process options and the detector.

``neyman generate --set`` takes ``pythia.Key=value`` (a Pythia setting),
``detector.name=value`` (a parameter of the detector) and ``process.name=value``
(``signal_fraction`` or ``chunk_events``).  :func:`parse_overrides` reads them;
:func:`with_process_options` and :func:`detector_with_overrides` apply them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neyman.exceptions import ConfigError, close_matches
from neyman.generation.detector import Detector, get_detector
from neyman.generation.processes import JetSelection, Process

__all__ = [
    "PROCESS_OPTIONS",
    "Overrides",
    "check_pileup",
    "check_pthat_window",
    "detector_with_overrides",
    "parse_overrides",
    "with_process_options",
]

PROCESS_OPTIONS = ("signal_fraction", "chunk_events")
"""Names ``--set process.name=value`` accepts."""


def check_pileup(mu: float, detector: Detector | None) -> None:
    """Refuse a mean pile-up outside [0, 1000], or any pile-up at particle level (``detector`` None).

    Particle-level jets never contain pile-up: without a tracker (charged-hadron
    subtraction) the area subtraction ``ρ A^μ`` leaves the massive pile-up hadrons' mass
    in the jets (+12% on the top-jet mass at ⟨μ⟩ = 20).
    """
    if not 0 <= mu <= 1000:
        raise ConfigError(f"--pileup is the mean number of overlaid events, in [0, 1000]; got {mu}")
    if mu > 0 and detector is None:
        raise ConfigError(
            "--pileup with --detector none: particle-level jets never contain pile-up, and without a tracker "
            "(charged-hadron subtraction) the area subtraction leaves the massive pile-up hadrons' mass in the jets "
            "(+12% on the top mass at ⟨μ⟩ = 20); choose a detector (--detector cms-like, atlas-like or simple) or "
            "drop --pileup"
        )


@dataclass(frozen=True)
class Overrides:
    """Parsed ``--set`` options.

    Attributes
    ----------
    pythia
        Pythia settings ``"Key = value"`` (from ``pythia.Key=value``).
    detector
        Detector parameters (from ``detector.name=value``).
    process
        Process options (from ``process.name=value``): ``signal_fraction``, the
        share of label 1 in a two-class process; ``chunk_events``, events per chunk.
    """

    pythia: tuple[str, ...] = ()
    detector: dict[str, float] = dataclasses.field(default_factory=dict)
    process: dict[str, float] = dataclasses.field(default_factory=dict)


def parse_overrides(items: Sequence[str]) -> Overrides:
    """Parse ``pythia.Key=value``, ``detector.name=value`` and ``process.name=value`` items.

    Parameters
    ----------
    items
        The values of the repeated ``--set`` option.

    Returns
    -------
    Overrides
        The Pythia settings, detector parameters and process options, in order.

    Raises
    ------
    ConfigError
        For an item without ``=``, an unknown prefix or detector field, a
        non-numeric detector/process value, or a Pythia setting neyman sets itself or
        cannot use (``PartonLevel:MPI``: ``--mpi``; ``Random:seed``: ``--seed``;
        hadronisation switched off).
    """
    pythia: list[str] = []
    detector: dict[str, float] = {}
    process: dict[str, float] = {}
    fields = [f.name for f in dataclasses.fields(Detector) if f.name != "name"]
    switches = [f.name for f in dataclasses.fields(Detector) if f.type in (bool, "bool")]
    for item in items:
        key, sep, value = item.partition("=")
        prefix, dot, name = key.strip().partition(".")
        if not sep or not dot or not name or not value.strip():
            raise ConfigError(
                f"cannot read --set {item!r}: write pythia.Key=value (e.g. pythia.PhaseSpace:pTHatMin=450), "
                "detector.name=value or process.name=value"
            )
        if prefix == "pythia":
            if name.strip().lower() == "partonlevel:mpi":
                raise ConfigError(
                    f"--set {item!r}: multi-parton interactions are switched by --mpi on|off (recorded in the "
                    "provenance and applied after the process's settings, where this line would be overridden)"
                )
            if name.strip().lower() in ("random:seed", "random:setseed"):
                raise ConfigError(
                    f"--set {item!r}: the random seed is --seed (each chunk's Pythia draws its own seed from it, "
                    "and the provenance records it); this line would be overridden"
                )
            if name.strip().lower() in ("hadronlevel:all", "hadronlevel:hadronize") and value.strip().lower() in (
                "off",
                "false",
                "no",
                "0",
            ):
                raise ConfigError(
                    f"--set {item!r}: without hadronisation the detector would see bare quarks and gluons (tracks of "
                    "charge 1/3, gluons as calorimeter cells): neyman's samples need hadrons"
                )
            pythia.append(f"{name} = {value.strip()}")
            continue
        if prefix not in ("detector", "process"):
            raise ConfigError(f"--set {item!r}: unknown prefix {prefix!r}; use pythia., detector. or process.")
        known = fields if prefix == "detector" else list(PROCESS_OPTIONS)
        if name not in known:
            raise ConfigError(f"--set {item!r}: unknown {prefix} option {name!r}{close_matches(name, known)}")
        if prefix == "detector" and name in switches:
            number = _switch(item, value)
        else:
            try:
                number = float(value)
            except ValueError:
                raise ConfigError(f"--set {item!r}: {value!r} is not a number") from None
        (detector if prefix == "detector" else process)[name] = number
    return Overrides(tuple(pythia), detector, process)


def _switch(item: str, value: str) -> float:
    """A detector switch's value (true/false, on/off, yes/no or 1/0) as 1.0 or 0.0."""
    word = value.strip().lower()
    if word in ("true", "on", "yes", "1", "1.0"):
        return 1.0
    if word in ("false", "off", "no", "0", "0.0"):
        return 0.0
    raise ConfigError(f"--set {item!r}: {value.strip()!r} is no switch value; give true or false")


def with_process_options(process: Process, options: dict[str, float]) -> Process:
    """``process`` with the options of ``--set process.name=value`` applied.

    Parameters
    ----------
    process
        A process of the catalogue.
    options
        ``chunk_events`` (events per chunk) and/or ``signal_fraction`` (the share
        of label 1 in a two-class process), as parsed by :func:`parse_overrides`.

    Returns
    -------
    Process
        A copy with the chunk size and class shares replaced.

    Raises
    ------
    ConfigError
        For a chunk size that is not a positive integer, a signal fraction outside
        [0, 1], or a signal fraction for a process that does not have two classes.
    """
    chunk = options.get("chunk_events")
    if chunk is not None:
        if chunk < 1 or chunk != int(chunk):
            raise ConfigError(f"process.chunk_events must be a positive integer, got {chunk:g}")
        process = dataclasses.replace(process, chunk_events=int(chunk))
    fraction = options.get("signal_fraction")
    if fraction is None:
        return process
    labels = sorted(s.label for s in process.samples)
    if labels != [0, 1]:
        raise ConfigError(f"process.signal_fraction needs a two-class process; {process.name!r} has {len(labels)}")
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"process.signal_fraction must be in [0, 1], got {fraction}")
    samples = tuple(dataclasses.replace(s, share=fraction if s.label == 1 else 1.0 - fraction) for s in process.samples)
    return dataclasses.replace(process, samples=samples)


def detector_with_overrides(name: str, overrides: dict[str, float]) -> Detector | None:
    """The detector ``name`` with the parameters of ``--set detector.name=value`` replaced.

    Parameters
    ----------
    name
        A detector of :data:`~neyman.generation.detector.DETECTORS`, or ``"none"``.
    overrides
        Detector parameters, as parsed by :func:`parse_overrides`.

    Returns
    -------
    Detector or None
        ``None`` for ``"none"`` (particle level); a changed detector is renamed
        ``"<name>+overrides"``.

    Raises
    ------
    ConfigError
        For an unknown detector, or overrides given with ``"none"``.
    """
    detector = get_detector(name)
    if overrides:
        if detector is None:
            raise ConfigError("--set detector.* has no effect with --detector none; drop one of them")
        kinds = {f.name: f.type for f in dataclasses.fields(Detector)}
        values: dict[str, Any] = {k: bool(v) if kinds[k] in (bool, "bool") else v for k, v in overrides.items()}
        detector = dataclasses.replace(detector, name=f"{detector.name}+overrides", **values)
    return detector


def check_pthat_window(settings: Sequence[str], jets: JetSelection) -> None:
    """Refuse a pTHat minimum above the jet window of ``jets``.

    The hard partons' pT is pTHat, so a jet of the window would come only from rare
    losses, and the generation would run for hours for a handful of jets.  The last
    ``PhaseSpace:pTHatMin`` of ``settings`` counts, as in Pythia.

    Raises
    ------
    ConfigError
        The minimum lies above the window's upper edge.
    """
    pt_min, pt_max = jets.pt_min, jets.pt_max
    low = 0.0
    for line in settings:  # the last setting wins, as in Pythia
        key, _, value = line.partition("=")
        if key.strip().lower() == "phasespace:pthatmin":
            try:
                low = float(value.strip().rstrip("."))
            except ValueError:
                continue  # Pythia's own check names a value it cannot read
    if pt_max > 0 and low > pt_max:
        raise ConfigError(
            f"PhaseSpace:pTHatMin = {low:g} GeV lies above the process's jet window ({pt_min:g}-{pt_max:g} GeV): "
            "the hard partons' pT is pTHat, so almost no jet lands in the window; choose a pTHat range around it "
            "(--set pythia.PhaseSpace:pTHatMin=... --set pythia.PhaseSpace:pTHatMax=...)"
        )
