"""``neyman train``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console
from neyman.metrics import rejection_text
from neyman.models.families import families_reading
from neyman.tasks import TASKS

__all__ = ["register"]

EXAMPLES = """
[bold]Examples[/]

  neyman train config.yaml --set model.hidden=[64,64] --set training.epochs=20

  neyman train --signal sig.root:events --background bkg.root:events --features pt,eta,mass --model xgboost

  neyman train --data jets.parquet --label-column is_top --model mlp --name top-mlp

  neyman train --data train.parquet --test-data test.parquet --label-column label    [dim]# external test file[/]

  neyman train --data jets.parquet --label-column is_top --model mlp,xgboost,lightgbm,fisher --name top

  neyman train --data top.parquet --label-column label --model particlenet --set training.epochs=20

  neyman train --data calib.parquet --target truth_pt --task gaussian --features pt,eta,n_constituents

  neyman train --resume runs/mlp-binary

  neyman train config.yaml --track    [dim]# log to MLflow (runs/mlflow.db unless tracking.uri is set)[/]

  neyman train --example top-tagging-particlenet    [dim]# write a shipped config to start from[/]
"""

MODELS_HELP = (
    f"{', '.join(families_reading('tabular'))}; on jet constituents: {', '.join(families_reading('particles'))} "
    f"(particle sets) or {', '.join(families_reading('image'))} (jet images); unsupervised: "
    f"{', '.join(families_reading('tabular', 'reconstruction'))} and "
    f"{', '.join(families_reading('image', 'reconstruction'))} (jet images), "
    f"{', '.join(families_reading('particles', 'reconstruction'))} (particle sets) (task autoencoder), "
    f"{', '.join(families_reading('tabular', 'density'))} (task density), "
    f"{', '.join(families_reading('image', 'generation'))} (jet images, task generator)."
)


def _quick_config(
    *,
    signal: list[str],
    background: list[str],
    data: list[str],
    label_column: str | None,
    target: str | None,
    features: str | None,
    model: str | None,
    task: str | None,
    weight: str | None,
    selection: list[str],
    fmt: str | None,
    test_data: list[str],
) -> dict[str, Any]:
    sources: list[dict[str, Any]] = [{"path": s, "label": "signal"} for s in signal]
    sources += [{"path": b, "label": "background"} for b in background]
    sources += [{"path": d} for d in data]
    sources += [{"path": t, "test": True} for t in test_data]
    if task is None:
        task = "regression" if target else "binary"
    cfg: dict[str, Any] = {"data": {"sources": sources}, "task": {"type": task}}
    if model is not None:  # otherwise the task's default family
        cfg["model"] = {"type": model}
    d = cfg["data"]
    for key, value in (
        ("label_column", label_column),
        ("target", target),
        ("weight", weight),
        ("format", fmt),
    ):
        if value:
            d[key] = value
    if features is not None:  # '' is no column, not every column: the schema says so
        d["features"] = features
    if selection:
        d["selection"] = selection
    return cfg


OPTION_KEYS = {
    "--name": "name",
    "--output-dir": "output_dir",
    "--features": "data.features",
    "--label-column": "data.label_column",
    "--target": "data.target",
    "--weight": "data.weight",
    "--selection": "data.selection",
    "--format": "data.format",
    "--task": "task.type",
    "--model": "model.type",
}
"""The configuration key each of train's options sets."""


def _refuse_set_of_options(overrides: list[str], given: dict[str, bool]) -> None:
    """Refuse a ``--set`` of a key an option also gives (``given``: whether each option was): one was dropped.

    ``--name t6 --set name=foo`` named the run t6; ``--features a,b --set data.features=[a]``
    trained on ``a`` alone.
    """
    from neyman.config import refuse_owned_overrides

    owned = {OPTION_KEYS[option]: option for option, was in given.items() if was and option in OPTION_KEYS}
    refuse_owned_overrides(overrides, owned, instead="give it once, with one of the two")


BOUND_SUFFIX = "_is_bound"


def _cell(row: dict[str, Any], key: str) -> str:
    """A metric for the table; a rejection that is only a lower bound shows as ``> N``."""
    value = row.get(key, "")
    if row.get(key + BOUND_SUFFIX):
        return rejection_text(float(value), True)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


WIDE_TABLE = 5
"""More metrics than this are printed one per row (splits as columns), so that an 80-column terminal shows them."""


def print_metrics(console: Console, result: Any) -> None:
    """Print the headline metrics of a run as a table: a row per split, or a row per metric when there are many."""
    table = RichTable(title=f"run {result.run_dir}")
    splits = [s for s in ("train", "val", "test") if s in result.metrics]
    # the test split's metrics name the columns; a run without test events (split.test = 0) has the others'
    named: dict[str, Any] = result.metrics.get("test") or next(
        (result.metrics[s] for s in splits if result.metrics[s]), {}
    )
    keys = [k for k in named if k not in ("n_events", "sum_weights") and not k.endswith(BOUND_SUFFIX)]
    if len(keys) > WIDE_TABLE:
        table.add_column("metric")
        for split in splits:
            table.add_column(split, justify="right")
        for k in keys:
            table.add_row(k, *(_cell(result.metrics[split], k) for split in splits))
    else:
        table.add_column("split")
        for k in keys:
            table.add_column(k, justify="right")
        for split in splits:
            table.add_row(split, *(_cell(result.metrics[split], k) for k in keys))
    console.print(table)
    if splits and not result.metrics.get("test"):
        console.print("no test events (split.test = 0 and no test file): evaluate the run with --test-data FILE")
    if "folds_summary" in result.metrics and "auc" in result.metrics["folds_summary"]:
        s = result.metrics["folds_summary"]["auc"]
        console.print(f"k-fold AUC: {s['mean']:.4f} ± {s['std']:.4f} (mean ± std over folds)")


def _book(console: Console, config: Any, models: str, *, overrides: list[str], force: bool, track: bool) -> None:
    """Train each of the comma-separated models on the same events and split; print the ranking."""
    from neyman.exceptions import ConfigError
    from neyman.workflows.book import book

    if track:
        raise ConfigError("--track logs one run; book the models without it, or track each with its config")
    result = book(config, [m.strip() for m in models.split(",") if m.strip()], overrides=overrides, force=force)
    direction = "higher" if result.larger_is_better else "lower"
    split = "validation" if result.split == "val" else "test"
    table = RichTable(title=f"booked models, ranked by {split} {result.metric} ({direction} is better)")
    columns = ["rank", "model", f"{split} {result.metric}", *([f"test {result.metric}"] if split != "test" else [])]
    for col in [*columns, "run directory"]:
        table.add_column(col, justify="left" if col in ("model", "run directory") else "right")
    for rank, (model, value) in enumerate(result.ranking, 1):
        run = result.runs[model]
        test = [f"{float(run.headline[result.metric]):.4g}"] if split != "test" else []
        table.add_row(str(rank), model, f"{value:.4g}", *test, str(run.run_dir))
    console.print(table)
    if result.comparison is not None:
        console.print(f"ROC comparison: {result.comparison.figures[0]}  table: {result.comparison.table}")


def _write_example(console: Console, name: str) -> None:
    from neyman.config.examples import example_names, write_example

    if name == "list":
        console.print("\n".join(example_names()), highlight=False)
        return
    path = write_example(name)
    console.print(f"wrote {path}; point data.sources at your files, then: neyman train {path}", highlight=False)


def _refuse(given: dict[str, bool], reason: str) -> None:
    """Refuse options that would be silently ignored: name them and say why."""
    from neyman.exceptions import ConfigError

    ignored = [option for option, present in given.items() if present]
    if ignored:
        raise ConfigError(f"{', '.join(ignored)} cannot be used here: {reason}")


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def train(
        config: Path | None = typer.Argument(None, help="YAML run configuration.", show_default=False),
        set_: list[str] = typer.Option([], "--set", help="Override a key: section.key=value (repeatable)."),
        signal: list[str] = typer.Option([], "--signal", help="Signal file (file.root:tree); repeatable."),
        background: list[str] = typer.Option([], "--background", help="Background file; repeatable."),
        data: list[str] = typer.Option([], "--data", help="File(s) holding all classes or a regression target."),
        test_data: list[str] = typer.Option(
            [],
            "--test-data",
            help="External test file(s) like --data: only tested; every --data event trains but a validation part.",
        ),
        label_column: str | None = typer.Option(None, "--label-column", help="Column with the class index."),
        target: str | None = typer.Option(None, "--target", help="Regression target column."),
        features: str | None = typer.Option(None, "--features", help="Comma-separated feature columns (default: all)."),
        model: str | None = typer.Option(
            None,
            "--model",
            help=f"{MODELS_HELP} Default: mlp (the task's family for autoencoder, density and generator). Several, "
            "comma-separated (mlp,xgboost,fisher), are booked: each "
            "trains on the same split into <name>-<model> and the ranking is printed.",
        ),
        task: str | None = typer.Option(
            None, "--task", help="binary, multiclass, regression, gaussian, autoencoder, density or generator."
        ),
        weight: str | None = typer.Option(None, "--weight", help="Event-weight column."),
        selection: list[str] = typer.Option([], "--selection", help="A cut such as 'pt > 20'; repeatable."),
        fmt: str | None = typer.Option(None, "--format", help="Input format (default: from the extension)."),
        name: str | None = typer.Option(None, "--name", help="Run name (directory under output_dir)."),
        output_dir: str | None = typer.Option(None, "--output-dir", help="Where run directories go (default runs/)."),
        force: bool = typer.Option(False, "--force", help="Replace an existing run of the same name."),
        resume: Path | None = typer.Option(
            None, "--resume", help="Continue an interrupted run from its last checkpoint."
        ),
        track: bool = typer.Option(False, "--track", help="Log the run to MLflow (see the tracking: section)."),
        example: str | None = typer.Option(
            None,
            "--example",
            help="Write the shipped configuration NAME to ./NAME.yaml (train nothing); 'list' lists them.",
        ),
    ) -> None:
        """Train a model and write a run directory (config, model, predictions, metrics, plots)."""
        from neyman.workflows.train import train as train_workflow

        console = output_console()

        def body() -> None:
            from neyman.exceptions import ConfigError

            if example is not None:
                _write_example(console, example)
                return

            quick = {
                "--model": model is not None,
                "--features": features is not None,
                "--label-column": label_column is not None,
                "--target": target is not None,
                "--task": task is not None,
                "--weight": weight is not None,
                "--selection": bool(selection),
                "--test-data": bool(test_data),
                "--format": fmt is not None,
            }
            if resume is not None:
                _refuse(
                    {
                        "a config file": config is not None,
                        "--signal/--background/--data": bool(signal or background or data),
                        "--name": name is not None,
                        "--output-dir": output_dir is not None,
                        "--force": force,
                        **quick,
                    },
                    "--resume continues the run in its own directory with its own configuration",
                )
                result = train_workflow(resume=resume, overrides=list(set_), track=track)
                print_metrics(console, result)
                console.print(f"run directory: [bold]{result.run_dir}[/]  ({result.seconds:.1f} s)")
                return
            # a config file says the quick options itself (they are refused with it, below)
            given = {"--name": bool(name), "--output-dir": bool(output_dir), **({} if config else quick)}
            _refuse_set_of_options(set_, given)
            overrides = list(set_)
            if name:
                overrides.append(f"name={json.dumps(name)}")  # a YAML string as given, spaces and all
            if output_dir:
                overrides.append(f"output_dir={json.dumps(str(output_dir))}")
            if config is not None:
                if signal or background or data:
                    raise ConfigError("give either a config file or --signal/--background/--data, not both")
                booking = model is not None and "," in model
                _refuse(
                    {**quick, "--model": model is not None and not booking},
                    f"the configuration {config} says these; change them there or with --set section.key=value",
                )
                if booking:
                    _book(console, config, str(model), overrides=overrides, force=force, track=track)
                    return
                result = train_workflow(config, overrides=overrides, force=force, track=track)
            elif signal or background or data:
                if (signal or background) and data:
                    raise ConfigError("use --signal/--background or --data, not both")
                if (signal and not background) or (background and not signal):
                    raise ConfigError("--signal needs --background (and the other way round)")
                if signal and label_column:
                    raise ConfigError(
                        f"--label-column {label_column} goes with --data: with --signal/--background each file's "
                        "events are of its class, and no column is read for it"
                    )
                unsupervised = task in TASKS and TASKS[task].reads_labels == "optional"
                if data and not (label_column or target or unsupervised):
                    raise ConfigError(
                        "--data needs --label-column (classification) or --target (regression); "
                        "unsupervised tasks (--task autoencoder, density or generator) learn without them"
                    )
                if test_data and not data:
                    raise ConfigError(
                        "--test-data goes with --data (a test file holds its own labels or targets); with "
                        "--signal/--background, write a configuration whose test sources say test: true"
                    )
                cfg = _quick_config(
                    signal=signal,
                    background=background,
                    data=data,
                    label_column=label_column,
                    target=target,
                    features=features,
                    model=None if model is None else model.split(",")[0].strip(),
                    task=task,
                    weight=weight,
                    selection=selection,
                    fmt=fmt,
                    test_data=test_data,
                )
                if model is not None and "," in model:
                    _book(console, cfg, model, overrides=overrides, force=force, track=track)
                    return
                result = train_workflow(cfg, overrides=overrides, force=force, track=track)
            else:
                raise ConfigError(
                    "nothing to train: give a config file, --signal/--background, --data, or --resume RUN"
                )
            print_metrics(console, result)
            console.print(f"run directory: [bold]{result.run_dir}[/]  ({result.seconds:.1f} s)")

        run_guarded(body)
