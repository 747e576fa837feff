"""``neyman reweight``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console
from neyman.exceptions import ConfigError

__all__ = ["register"]

EXAMPLES = """
[bold]Examples[/]

  neyman reweight --source mc.parquet --target data.parquet --features pt,eta,n_jets --check m_jj

  neyman reweight --source mc.root:events --target data.root:events --weight w --model xgboost

  neyman predict runs/reweight-mlp --input mc_more.parquet --output mc_more_weighted.parquet

  neyman reweight --positive nlo.parquet --weight w        (positive weights for a signed sample)

  neyman reweight --source nominal.parquet --nominal-value 0.1365 --parameter alphaS=0.12,0.1365,0.15 \\
      --target as120.parquet --target nominal2.parquet --target as150.parquet \\
      --fit pseudo.parquet --reference nominal3.parquet
"""


def _names(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def _parameter(text: str) -> tuple[str, list[float]]:
    """``NAME=V1,V2,...`` of ``--parameter``."""
    name, sep, values = text.partition("=")
    try:
        numbers = [float(v) for v in _names(values)]
    except ValueError:
        numbers = []
    if not sep or not name.strip() or not numbers:
        raise ConfigError(f"--parameter takes NAME=V1,V2,... (one value per --target), got {text!r}")
    return name.strip(), numbers


def _print_fit(fit: Any) -> None:
    edge = " (at the edge of the trained range: a bound, not a measurement)" if fit.record["at_edge"] else ""
    worst = max(fit.record["closure_chi2_per_ndf"].items(), key=lambda kv: kv[1]["after"])
    if "template_uncertainty" in fit.record:
        parts = (
            f"stat.: data {fit.record['statistical_uncertainty']:.2g} ⊕ generated samples "
            f"{fit.record['template_uncertainty']:.2g}, {len(fit.record['replica_estimates'])} replicas"
        )
    else:
        parts = "stat. of data and reference only; --replicas N adds the generated samples'"
    output_console().print(
        f"{fit.record['parameter']} = [bold]{fit.estimate:.5g} ± {fit.uncertainty:.2g}[/] ({parts}){edge}\n"
        f"  closure at the fit: worst χ²/ndf {worst[1]['after']:.2f} ({worst[0]})\n  scan: {fit.path}"
    )


def _print_summary(r: Any, positive: bool) -> None:
    s = r.summary
    if positive:
        f = s["floor"]
        output_console().print(
            f"made the weights of {s['n_events']} events positive → [bold]{r.run_dir}[/]\n"
            f"  negative before: {f['n_negative_before']} ({f['negative_fraction_before']:.1%}); "
            f"raised to the floor: {f['n_floored']}\n"
            f"  effective sample size {s['effective_sample_size_signed']:.0f} → "
            f"{s['effective_sample_size_positive']:.0f}\n"
            f"  weights: {r.run_dir / 'weights.parquet'}  report: {r.report}"
        )
        return
    output_console().print(
        f"reweighted {s['n_source']} source events → [bold]{r.run_dir}[/]\n"
        f"  two-sample AUC {s['two_sample_auc_before']:.4f} → {s['two_sample_auc_after']:.4f} (0.5 = closure)\n"
        f"  effective sample fraction {s['effective_sample_fraction']:.3f}, "
        f"{s['clipping']['n_clipped']} weights clipped (holding {s['clipping']['weight_fraction']:.1%} of the "
        "weight before the clip)\n"
        f"  weights: {r.run_dir / 'weights.parquet'}  report: {r.report}"
    )


def _fit(run: str | Path, fit: str | None, reference: str | None) -> None:
    from neyman.workflows.fit_parameter import fit_parameter

    if fit is None or reference is None:
        raise ConfigError("a fit needs --fit DATA and --reference NOMINAL (a nominal sample the reweighter never saw)")
    _print_fit(fit_parameter(run, fit, reference, progress=True))


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def reweight(
        source: str | None = typer.Option(None, "--source", help="Events to reweight (file.root:tree for ROOT)."),
        target: list[str] = typer.Option(
            [], "--target", help="Events whose distribution the source should take (one per value with --parameter)."
        ),
        positive: str | None = typer.Option(
            None, "--positive", help="Instead: a file whose signed --weight column becomes positive weights."
        ),
        parameter: str | None = typer.Option(
            None, "--parameter", help="NAME=V1,V2,...: one reweighter w(x, NAME) for targets made at these values."
        ),
        nominal_value: float | None = typer.Option(
            None, "--nominal-value", help="With --parameter: the value the --source was made at."
        ),
        fit: str | None = typer.Option(
            None, "--fit", help="Fit the parameter of this sample (with --parameter/--run)."
        ),
        reference: str | None = typer.Option(
            None, "--reference", help="With --fit: an independent nominal sample that normalises the fit."
        ),
        run: Path | None = typer.Option(None, "--run", help="Fit with this parametrised run instead of training one."),
        features: str | None = typer.Option(
            None, "--features", help="Comma-separated columns the weights depend on (default: all shared columns)."
        ),
        check: str | None = typer.Option(
            None, "--check", help="Comma-separated columns NOT used, whose closure tests the weights."
        ),
        weight: str | None = typer.Option(None, "--weight", help="Event-weight column (signed weights allowed)."),
        model: str | None = typer.Option(
            None,
            "--model",
            help=(
                "Model family: mlp, xgboost, lightgbm, fisher, logistic, or gbreweighter (boosted reweighting "
                "trees, --source/--target only) (default mlp; xgboost with --positive)."
            ),
        ),
        kfold: int = typer.Option(5, "--kfold", help="Folds: each event is weighted by a model that never saw it."),
        replicas: int = typer.Option(
            0,
            "--replicas",
            help="With --parameter: reweighters trained again on N bootstrap replicas of the samples; their spread "
            "adds the generated samples' statistics to the fit's uncertainty.",
        ),
        clip: float = typer.Option(
            0.999, "--clip-quantile", help="Clip the weights at this quantile of the source's weights (1: no clip)."
        ),
        no_calibration: bool = typer.Option(False, "--no-calibration", help="Skip the Platt calibration of f."),
        floor: float = typer.Option(
            1e-3, "--floor", help="--positive: the smallest weight as a fraction of the mean weight (0: allow zeros)."
        ),
        output_dir: str = typer.Option("runs", "--output-dir", help="Where the run directory goes."),
        name: str | None = typer.Option(None, "--name", help="Run name (default reweight-MODEL or positive-MODEL)."),
        seed: int = typer.Option(42, "--seed", help="Seed of the folds, the training and the checks."),
        overrides: list[str] = typer.Option([], "--set", help="Configuration override, e.g. model.hidden=[64,64]."),
        force: bool = typer.Option(False, "--force", help="Replace an earlier neyman run of that name."),
    ) -> None:
        """Learn weights w = p_target/p_source for the source events (k-fold classifier), with a closure report;
        with --positive, positive weights with the expectation of a sample's signed ones; with --parameter,
        one reweighter for a family of generator settings (DCTR) and, with --fit, the fit of the setting."""
        from neyman.workflows.reweight import reweight as reweight_workflow

        def body() -> None:
            if run is not None:
                given = {
                    "--source": source,
                    "--target": target,
                    "--positive": positive,
                    "--parameter": parameter,
                    "--nominal-value": nominal_value,
                    "--features": features,
                    "--check": check,
                    "--weight": weight,
                    "--model": model,
                    "--replicas": replicas,
                    "--name": name,
                    "--set": overrides,
                    "--force": force,
                }
                extra = [option for option, value in given.items() if value]
                if extra:
                    raise ConfigError(
                        f"--run fits with a trained run, which fixes {', '.join(extra)}: give it with --fit and "
                        "--reference only"
                    )
                _fit(run, fit, reference)
                return
            if replicas and parameter is None:
                raise ConfigError("--replicas goes with --parameter: it trains the parametrised reweighter again")
            if (fit or reference) and parameter is None:
                raise ConfigError("--fit and --reference go with --parameter (train and fit) or --run (fit)")
            if parameter is not None and positive is not None:
                raise ConfigError("--parameter and --positive are two different reweightings; give one")
            if parameter is not None:
                from neyman.workflows.dctr import dctr

                if source is None or nominal_value is None:
                    raise ConfigError("--parameter needs --source (the nominal sample) and --nominal-value")
                pname, values = _parameter(parameter)
                d = dctr(
                    source,
                    target,
                    pname,
                    values,
                    nominal=nominal_value,
                    features=_names(features),
                    weight=weight,
                    model=model or "mlp",
                    kfold=kfold,
                    replicas=replicas,
                    output_dir=output_dir,
                    name=name,
                    seed=seed,
                    overrides=overrides,
                    force=force,
                )
                output_console().print(f"parametrised reweighter w(x, {pname}) → [bold]{d.run_dir}[/]")
                if fit is not None:
                    _fit(d.run_dir, fit, reference)
                return
            if len(target) > 1:
                raise ConfigError(f"{len(target)} --target files need --parameter NAME=V1,V2,... (one value each)")
            r = reweight_workflow(
                source,
                target[0] if target else None,
                positive=positive,
                features=_names(features),
                check=_names(check),
                weight=weight,
                model=model,
                kfold=kfold,
                calibrate=not no_calibration,
                clip_quantile=None if clip == 1 else clip,
                floor_fraction=floor,
                output_dir=output_dir,
                name=name,
                seed=seed,
                overrides=overrides,
                force=force,
            )
            _print_summary(r, positive is not None)

        run_guarded(body)
