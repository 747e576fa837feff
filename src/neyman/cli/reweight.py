"""``neyman reweight``."""

from __future__ import annotations

import typer
from rich.console import Console

from neyman.cli.guard import run_guarded

__all__ = ["register"]

EXAMPLES = """
[bold]Examples[/]

  neyman reweight --source mc.parquet --target data.parquet --features pt,eta,n_jets --check m_jj

  neyman reweight --source mc.root:events --target data.root:events --weight w --model xgboost

  neyman predict runs/reweight-mlp --input mc_more.parquet --output mc_more_weighted.parquet

  neyman reweight --positive nlo.parquet --weight w        (positive weights for a signed sample)
"""


def _names(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def reweight(
        source: str | None = typer.Option(None, "--source", help="Events to reweight (file.root:tree for ROOT)."),
        target: str | None = typer.Option(None, "--target", help="Events whose distribution the source should take."),
        positive: str | None = typer.Option(
            None, "--positive", help="Instead: a file whose signed --weight column becomes positive weights."
        ),
        features: str | None = typer.Option(
            None, "--features", help="Comma-separated columns the weights depend on (default: all shared columns)."
        ),
        check: str | None = typer.Option(
            None, "--check", help="Comma-separated columns NOT used, whose closure tests the weights."
        ),
        weight: str | None = typer.Option(None, "--weight", help="Event-weight column (signed weights allowed)."),
        model: str | None = typer.Option(
            None, "--model", help="Model family: mlp, xgboost, ... (default mlp; xgboost with --positive)."
        ),
        kfold: int = typer.Option(5, "--kfold", help="Folds: each event is weighted by a model that never saw it."),
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
        or, with --positive, positive weights with the same expectation as a sample's signed ones."""
        from neyman.workflows.reweight import reweight as reweight_workflow

        def body() -> None:
            r = reweight_workflow(
                source,
                target,
                positive=positive,
                features=_names(features),
                check=_names(check),
                weight=weight,
                model=model,
                kfold=kfold,
                calibrate=not no_calibration,
                clip_quantile=None if clip >= 1 else clip,
                floor_fraction=floor,
                output_dir=output_dir,
                name=name,
                seed=seed,
                overrides=overrides,
                force=force,
            )
            s = r.summary
            if positive is not None:
                f = s["floor"]
                Console().print(
                    f"made the weights of {s['n_events']} events positive → [bold]{r.run_dir}[/]\n"
                    f"  negative before: {f['n_negative_before']} ({f['negative_fraction_before']:.1%}); "
                    f"raised to the floor: {f['n_floored']}\n"
                    f"  effective sample size {s['effective_sample_size_signed']:.0f} → "
                    f"{s['effective_sample_size_positive']:.0f}\n"
                    f"  weights: {r.run_dir / 'weights.parquet'}  report: {r.report}"
                )
                return
            Console().print(
                f"reweighted {s['n_source']} source events → [bold]{r.run_dir}[/]\n"
                f"  two-sample AUC {s['two_sample_auc_before']:.4f} → {s['two_sample_auc_after']:.4f} (0.5 = closure)\n"
                f"  effective sample fraction {s['effective_sample_fraction']:.3f}, "
                f"{s['clipping']['n_clipped']} weights clipped\n"
                f"  weights: {r.run_dir / 'weights.parquet'}  report: {r.report}"
            )

        run_guarded(body)
