"""``neyman hunt``."""

from __future__ import annotations

from pathlib import Path

import typer

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console
from neyman.exceptions import ConfigError

__all__ = ["register"]

EXAMPLES = """
[bold]Examples[/]

  neyman generate dijet_resonance --events 200000 --signal-fraction 0.005 --out lhco.parquet

  neyman hunt lhco.parquet --mass mjj --features mj_light,delta_mj,tau21_light,tau21_heavy \\
      --signal-region 3300,3700 --method cathode

  neyman hunt events_anomalydetection_v2.features.h5 --mass mjj \\
      --features mj_light,delta_mj,tau21_light,tau21_heavy --signal-region 3300,3700 --method cwola

  neyman hunt data.parquet --mass mjj --features mj_light,delta_mj --scan 400 --method cwola --name scan

  neyman hunt data.parquet --mass mjj --features mj_light,delta_mj --signal-region 3300,3700 \\
      --method idealized --reference background_mc.parquet

  neyman predict runs/hunt-cathode --input more_events.parquet --output scored.parquet
"""


def _names(text: str, option: str = "--features") -> list[str]:
    names = [s.strip() for s in text.split(",")]
    if not all(names):
        raise ConfigError(f"{option} {text!r} names an empty entry; separate the names by single commas")
    return names


def _efficiencies(text: str) -> list[float]:
    try:
        return [float(v) for v in _names(text, "--efficiencies")]
    except ValueError:
        raise ConfigError(f"--efficiencies takes numbers in (0, 1] separated by commas, got {text!r}") from None


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def hunt(
        data: str = typer.Argument(
            ..., help="The events (file.root:tree names a tree); LHC Olympics files work as is."
        ),
        mass: str = typer.Option(..., "--mass", help="The resonance variable, in the file's units."),
        features: str = typer.Option(..., "--features", help="The classifier's inputs, comma-separated."),
        signal_region: str | None = typer.Option(None, "--signal-region", help="LO,HI of the signal region."),
        sidebands: str | None = typer.Option(
            None,
            "--sidebands",
            help="LO,HI: the sidebands' outer edges (default: neighbouring windows of equal width).",
        ),
        scan: float | None = typer.Option(
            None, "--scan", help="Sliding signal regions of this width (every half width)."
        ),
        method: str = typer.Option("cathode", "--method", help="cathode, cwola, idealized, anode or supervised."),
        reference: str | None = typer.Option(None, "--reference", help="Background template (--method idealized)."),
        model: str = typer.Option("lightgbm", "--model", help="Classifier family: lightgbm, xgboost, mlp, ..."),
        kfold: int = typer.Option(5, "--kfold", help="Folds: every event is scored by models that never saw it."),
        ensemble: int | None = typer.Option(
            None,
            "--ensemble",
            help="Classifiers (seeds) averaged per event and window (cathode: per half) [default: 5].",
        ),
        oversample: int = typer.Option(4, "--oversample", help="cathode: flow samples per signal-region event."),
        efficiencies: str = typer.Option(
            "1,0.1,0.02,0.005", "--efficiencies", help="Shares of the signal region kept by the score cuts."
        ),
        fit_range: str | None = typer.Option(
            None, "--fit-range", help="LO,HI of the bump fit (default: the sidebands' span)."
        ),
        bin_width: float | None = typer.Option(None, "--bin-width", help="Bin width of the fit (default: window / 8)."),
        sqrt_s: float = typer.Option(13000.0, "--sqrt-s", help="Collision energy in the mass units (dijet function)."),
        toys: int = typer.Option(200, "--toys", help="Pseudo-experiments per cut (0: asymptotic only)."),
        no_bumphunter: bool = typer.Option(False, "--no-bumphunter", help="Skip the BumpHunter cross-check."),
        seed: int = typer.Option(0, "--seed", help="Seed of the trainings, samples and pseudo-experiments."),
        name: str | None = typer.Option(None, "--name", help="Run name (default hunt-<method>)."),
        output_dir: Path = typer.Option(Path("runs"), "--output-dir", help="Where the run directory goes."),
        set_: list[str] = typer.Option([], "--set", help="section.key=value for the classifiers (repeatable)."),
        flow_set: list[str] = typer.Option(
            [],
            "--flow-set",
            help="section.key=value for the flows (repeatable); they train 16 passes over their events "
            "unless training.epochs or training.steps is given.",
        ),
        force: bool = typer.Option(
            False,
            "--force",
            help="Replace an earlier neyman run of the same name (never a folder neyman did not write).",
        ),
    ) -> None:
        """Search for a resonance with a weakly supervised classifier, a bump fit and its significance."""
        from neyman.resonance import best_cut
        from neyman.workflows.hunt import hunt as hunt_workflow

        def body() -> None:
            result = hunt_workflow(
                data,
                mass=mass,
                features=_names(features),
                signal_region=signal_region,
                sidebands=sidebands,
                scan=scan,
                method=method,
                reference=reference,
                model=model,
                kfold=kfold,
                **({} if ensemble is None else {"ensemble": ensemble}),
                oversample=oversample,
                efficiencies=_efficiencies(efficiencies),
                fit_range=fit_range,
                bin_width=bin_width,
                sqrt_s=sqrt_s,
                toys=toys,
                bumphunter=not no_bumphunter,
                seed=seed,
                name=name,
                output_dir=output_dir,
                force=force,
                overrides=set_,
                flow_overrides=flow_set,
            )
            console = output_console()
            console.print(f"hunt ({method}) → [bold]{result.run_dir}[/] in {result.seconds:.0f} s")
            for w in result.summary["windows"]:
                best = best_cut(w["cuts"])
                sic = "" if w["max_sic"] is None else f", max SIC {w['max_sic']:.1f}"
                found = (
                    "no cut left enough events for a fit"
                    if best is None
                    else f"largest Z = {best['z_local']:.2f} keeping "
                    f"{100 * best['kept_in_signal_region']:.3g}% of the region "
                    f"(fitted signal {best['fitted_signal']:.0f})"
                )
                console.print(f"  signal region [{w['signal_region'][0]:g}, {w['signal_region'][1]:g}): {found}{sic}")
            console.print(f"  report: {result.report}")

        run_guarded(body)
