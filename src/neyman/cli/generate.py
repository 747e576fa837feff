"""``neyman generate``."""

from __future__ import annotations

from pathlib import Path

import typer

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console

__all__ = ["register"]

EXAMPLES = """
[bold]Examples[/]

  neyman generate --list

  neyman generate top_vs_qcd --events 20000 --out top.parquet --workers 2

  neyman generate top_vs_qcd --events 20000 --out top.h5          [dim](the top-tagging data set layout)[/]

  neyman generate dijet_resonance --events 50000 --out lhco.parquet --signal-fraction 0.01

  neyman generate quark_vs_gluon --events 10000 --out qg.root --set pythia.PhaseSpace:pTHatMin=480

  neyman generate w_vs_qcd --events 5000 --out w.parquet --scheduler tcp://scheduler:8786

An interrupted run resumes: repeat the same command and finished chunks are kept.
"""


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def generate(
        process: str | None = typer.Argument(None, help="Process name (see --list)."),
        events: int = typer.Option(10000, "--events", "-n", help="Rows to generate (jets or events), all classes."),
        out: Path | None = typer.Option(
            None,
            "--out",
            "-o",
            help="Output file: .parquet, .root, .h5 (top-tagging data set layout) or .npz (quark/gluon layout).",
        ),
        seed: int | None = typer.Option(
            None, "--seed", help="Run seed; the same seed gives the same file (default: a fresh one, printed)."
        ),
        workers: int | None = typer.Option(
            None, "--workers", "-w", help="Worker processes on this machine (default 1; not with --scheduler)."
        ),
        scheduler: str | None = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
        detector: str = typer.Option(
            "default",
            "--detector",
            help="Detector preset: default (= cms-like, particle flow), atlas-like (calorimeter jets), simple "
            "(nearly transparent) or none (particle level).",
        ),
        mpi: str | None = typer.Option(
            None, "--mpi", help="Multi-parton interactions: on or off (on is 3-12x slower; default: as the reference)."
        ),
        pileup: float = typer.Option(
            0.0, "--pileup", help="Mean number of minimum-bias events overlaid on each event (e.g. 60)."
        ),
        overrides: list[str] = typer.Option(
            [],
            "--set",
            help="pythia.Key=value, detector.name=value, process.signal_fraction=F or process.chunk_events=N "
            "(repeatable).",
        ),
        signal_fraction: float | None = typer.Option(
            None,
            "--signal-fraction",
            help="Share of signal (label 1) events of a two-class process, e.g. 0.005 to inject a small S/B "
            "(= --set process.signal_fraction=F).",
        ),
        force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
        list_: bool = typer.Option(False, "--list", help="Describe every process with its recipe and reference."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Generate a labelled sample with Pythia 8, a detector model and FastJet."""
        from neyman.exceptions import ConfigError
        from neyman.generation.processes import describe_processes
        from neyman.workflows.generate import generate as generate_workflow

        def body() -> None:
            console = output_console()
            if list_:
                console.print(describe_processes(), highlight=False, markup=False)
                return
            if process is None or out is None:
                raise ConfigError("give a PROCESS and --out FILE (or --list to see the processes)")
            if mpi not in (None, "on", "off"):
                raise ConfigError(f"--mpi takes on or off, not {mpi!r}")
            settings = list(overrides)
            if signal_fraction is not None:
                if any(o.replace(" ", "").startswith("process.signal_fraction=") for o in settings):
                    raise ConfigError(
                        "give the signal fraction once: --signal-fraction or --set process.signal_fraction"
                    )
                settings.append(f"process.signal_fraction={signal_fraction}")
            result = generate_workflow(
                process,
                events,
                out,
                seed=seed,
                workers=workers,
                scheduler=scheduler,
                detector=detector,
                mpi=None if mpi is None else mpi == "on",
                pileup=pileup,
                overrides=settings,
                force=force,
                progress=not quiet,
            )
            rows = ", ".join(f"{n} {name}" for name, n in result.rows.items())
            reused = f", {result.chunks_reused} chunks reused" if result.chunks_reused else ""
            drawn = " (drawn; --seed reproduces the file)" if result.seed_drawn else ""
            console.print(
                f"wrote [bold]{result.path}[/] ({rows}) in {result.seconds:.1f} s{reused}; seed {result.seed}{drawn}; "
                f"provenance in {result.provenance}"
            )

        run_guarded(body)
