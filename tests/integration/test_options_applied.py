"""Every option a verb accepts is applied or refused with a message naming it (never silently ignored)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neyman
from neyman import io
from neyman.cli.main import main
from neyman.exceptions import ConfigError, NeymanWarning
from neyman.table import LABEL
from neyman.testing import gaussian_regression_dataset, write_labelled_file
from neyman.workflows.evaluate import evaluate

FEATURES = [f"x{i:02d}" for i in range(6)]


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("options")
    data = write_labelled_file(tmp, "parquet", n_events=2000)
    cfg = {
        "name": "bdt",
        "output_dir": str(tmp / "runs"),
        "data": {"sources": [{"path": str(data)}], "label_column": LABEL, "features": FEATURES},
        "model": {"type": "xgboost", "n_estimators": 20},
    }
    (tmp / "bdt.yaml").write_text(json.dumps(cfg))  # JSON is YAML
    bdt = neyman.train(cfg).run_dir
    return tmp, bdt


@pytest.mark.parametrize(
    "extra,named",
    [
        (["--model", "lightgbm"], "--model"),
        (["--features", "x00,x01"], "--features"),
        (["--label-column", "is_signal"], "--label-column"),
        (["--target", "x00"], "--target"),
        (["--task", "multiclass"], "--task"),
        (["--weight", "w"], "--weight"),
        (["--selection", "x00 > 0"], "--selection"),
        (["--format", "csv"], "--format"),
    ],
)
def test_train_config_refuses_quick_options(workdir, capsys, extra, named):
    tmp, _ = workdir
    code, err = _cli(capsys, "train", str(tmp / "bdt.yaml"), *extra, "--name", "other")
    assert code == 2 and named in err and "--set" in err
    assert not (tmp / "runs" / "other").exists()


@pytest.mark.parametrize(
    "extra,named",
    [(["--name", "x"], "--name"), (["--output-dir", "elsewhere"], "--output-dir"), (["--force"], "--force")],
)
def test_resume_refuses_options_it_would_ignore(workdir, capsys, extra, named):
    _, bdt = workdir
    code, err = _cli(capsys, "train", "--resume", str(bdt), *extra)
    assert code == 2 and named in err and "--resume" in err


def test_evaluate_refuses_options_of_another_task(workdir, tmp_path):
    _, bdt = workdir
    with pytest.raises(ConfigError, match=r"--by .*binary run"):
        evaluate(bdt, by="x00", report=False, n_bootstrap=2)
    with pytest.raises(ConfigError, match=r"--sigma-b .*--yields"):
        evaluate(bdt, sigma_b=0.1, report=False, n_bootstrap=2)
    reg = gaussian_regression_dataset(1500, seed=3)
    path = tmp_path / "reg.parquet"
    io.write(reg, path)
    run = neyman.train(
        {
            "name": "reg",
            "output_dir": str(tmp_path / "runs"),
            "data": {"sources": [{"path": str(path)}], "target": "target", "features": ["x00", "x01", "x02", "x03"]},
            "task": {"type": "regression"},
            "model": {"type": "xgboost", "n_estimators": 20},
        }
    ).run_dir
    for option, value in (("yields", (10.0, 100.0)), ("working_point", 0.7)):
        with pytest.raises(ConfigError, match=r"do\(es\) not apply to .*regression run"):
            evaluate(run, **{option: value}, report=False)


def test_report_keeps_the_previous_evaluations_options(workdir):
    _, bdt = workdir
    evaluate(bdt, yields=(50.0, 5000.0), sigma_b=0.1, working_point=0.6, n_bootstrap=5)
    again = evaluate(bdt, same_options=True)
    assert set(again.metrics["significance"]) == {"asimov", "simple", "s_over_sqrt_s_plus_b"}
    assert again.metrics["confusion"]["threshold"] == pytest.approx(0.6)
    assert again.metrics["options"]["yields"] == [50.0, 5000.0]
    stored = json.loads((bdt / "metrics.json").read_text())["evaluation"]
    assert "significance" in stored


def test_generate_refuses_workers_with_a_scheduler(tmp_path):
    from neyman.workflows.generate import generate

    out = tmp_path / "jets.parquet"
    with pytest.raises(ConfigError, match=r"--workers .*--scheduler tcp://127.0.0.1:1"):
        generate("top_vs_qcd", 10, out, workers=2, scheduler="tcp://127.0.0.1:1", progress=False)
    assert not any(tmp_path.iterdir())


def test_a_zero_one_target_warns_that_a_classification_was_meant(workdir, tmp_path, capsys):
    from neyman.exceptions import NeymanWarning

    tmp, _ = workdir
    data = tmp / "labelled.parquet"
    cfg = {
        "name": "reg01",
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(data)}], "target": LABEL, "features": FEATURES},
        "task": {"type": "regression"},
        "model": {"type": "xgboost", "n_estimators": 5},
    }
    with pytest.warns(NeymanWarning, match=r"only the values 0 and 1.*--label-column label"):
        neyman.train(cfg)
    code, err = _cli(
        capsys, "train", "--data", str(data), "--target", LABEL, "--features", "x00,x01",
        "--model", "xgboost", "--set", "model.n_estimators=5", "--output-dir", str(tmp_path / "cli"),
    )  # fmt: skip
    assert code == 0 and "warning:" in err and "--label-column label" in err


def test_more_than_two_labels_name_the_multiclass_task(tmp_path):
    from neyman.exceptions import DataError
    from neyman.testing import multiclass_dataset

    path = tmp_path / "three.parquet"
    table = multiclass_dataset(900, seed=1)
    io.write(table, path)
    features = [c for c in table.column_names if c.startswith("x")]  # not the true densities beside them
    cfg = {
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(path)}], "label_column": LABEL, "features": features},
        "model": {"type": "logistic"},
    }
    with pytest.raises(DataError, match=r"holds label values \[2\].*--task multiclass"):
        neyman.train(cfg)
    assert not (tmp_path / "runs").exists()


def test_class_names_come_from_a_generated_files_provenance(tmp_path):
    from neyman.testing import multiclass_dataset

    path = tmp_path / "generated.parquet"
    table = multiclass_dataset(900, seed=1)
    io.write(table, path)
    features = [c for c in table.column_names if c.startswith("x")]
    recorded = [{"label": 0, "name": "qcd"}, {"label": 1, "name": "top"}, {"label": 2, "name": "higgs"}]
    (tmp_path / "generated.parquet.provenance.json").write_text(json.dumps({"classes": recorded}))
    run = neyman.train(
        {
            "output_dir": str(tmp_path / "runs"),
            "data": {"sources": [{"path": str(path)}], "label_column": LABEL, "features": features},
            "task": {"type": "multiclass"},
            "model": {"type": "logistic"},
        }
    )
    assert run.metrics["classes"] == ["qcd", "top", "higgs"]
    assert "auc_higgs_vs_rest" in run.metrics["test"]


def test_booked_methods_train_on_one_split_and_are_ranked(workdir, tmp_path, capsys):
    from neyman.workflows.book import book

    tmp, _ = workdir
    data = tmp / "labelled.parquet"
    cfg = {
        "name": "top",
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(data)}], "label_column": LABEL, "features": FEATURES},
    }
    result = book(cfg, ["fisher", "logistic", "xgboost"], overrides=["seed=3"])
    assert set(result.runs) == {"fisher", "logistic", "xgboost"}
    aucs = [auc for _, auc in result.ranking]
    assert aucs == sorted(aucs, reverse=True) and result.metric == "auc"
    # ranked on validation: the test split stays out of the choice (it once ranked on test)
    assert result.split == "val" and aucs == [result.runs[m].metrics["val"]["auc"] for m, _ in result.ranking]
    splits = {m: io.read(r.run_dir / "predictions.parquet", columns=["split"])["split"] for m, r in result.runs.items()}
    first = next(iter(splits.values()))
    assert all(np.array_equal(first, s) for s in splits.values())  # one split for all
    assert {r.run_dir.name for r in result.runs.values()} == {"top-fisher", "top-logistic", "top-xgboost"}
    assert result.comparison is not None and result.comparison.figures[0].is_file()
    code, printed = _cli(
        capsys, "train", "--data", str(data), "--label-column", LABEL, "--features", "x00,x01,x02",
        "--model", "fisher,logistic", "--name", "cli", "--output-dir", str(tmp_path / "cli"),
    )  # fmt: skip
    assert code == 0 and "ranked by validation auc" in printed
    assert (tmp_path / "cli" / "cli-fisher").is_dir() and (tmp_path / "cli" / "cli-logistic").is_dir()


def test_booked_methods_show_a_data_warning_once(workdir, tmp_path, capsys):
    tmp, _ = workdir
    table = io.read(tmp / "labelled.parquet", columns=[*FEATURES, LABEL])
    data = tmp_path / "tagged.parquet"
    io.write(table.with_column("detector", np.array(["cms"] * len(table))), data)
    code, printed = _cli(
        capsys, "train", "--data", str(data), "--label-column", LABEL, "--model", "fisher,logistic",
        "--name", "w", "--output-dir", str(tmp_path / "runs"),
    )  # fmt: skip
    assert code == 0 and "ranked by validation auc" in printed
    assert printed.count("left out of the automatic features") == 1  # once, not once per booked model
    assert "'detector' (text)" in printed


def test_booking_checks_the_comparison_folder_before_training(workdir, tmp_path):
    from neyman.exceptions import DataError
    from neyman.workflows.book import book

    tmp, _ = workdir
    taken = tmp_path / "runs" / "top-comparison"
    taken.mkdir(parents=True)
    (taken / "thesis.tex").write_text("mine")
    cfg = {
        "name": "top",
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(tmp / "labelled.parquet")}], "label_column": LABEL, "features": FEATURES},
    }
    with pytest.raises(DataError, match=r"holds other files"):
        book(cfg, ["fisher", "logistic"])
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["top-comparison"]  # nothing trained
    assert (taken / "thesis.tex").read_text() == "mine"


def test_booked_models_take_the_model_settings_their_family_has(workdir, tmp_path, capsys):
    """``--set model.*`` and the config's model section reach every booked family that has the key."""
    import yaml

    from neyman.exceptions import RunDirectoryError
    from neyman.workflows.book import book

    tmp, _ = workdir
    cfg = {
        "name": "b",
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(tmp / "labelled.parquet")}], "label_column": LABEL, "features": FEATURES},
        "model": {"type": "xgboost", "n_estimators": 20},
    }
    with pytest.warns(NeymanWarning) as caught:
        result = book(cfg, ["fisher", "xgboost", "lightgbm"], overrides=["model.max_depth=3"])
    said = [str(w.message) for w in caught]
    assert any(s.startswith("model.max_depth applies to xgboost, lightgbm only; fisher has no such") for s in said)
    assert any(s.startswith("model.n_estimators applies to xgboost, lightgbm only") for s in said)
    saved = {m: yaml.safe_load((r.run_dir / "config.yaml").read_text())["model"] for m, r in result.runs.items()}
    assert saved["xgboost"]["max_depth"] == 3 and saved["lightgbm"]["max_depth"] == 3
    assert saved["xgboost"]["n_estimators"] == 20 and saved["lightgbm"]["n_estimators"] == 20  # from the config
    assert "max_depth" not in saved["fisher"]
    with pytest.raises(ConfigError, match=r"model\.max_dpth is a setting of none of the booked models.*max_depth"):
        book({**cfg, "model": {"type": "fisher"}}, ["fisher", "xgboost"], overrides=["model.max_dpth=3"])
    # every run's folder is checked before the first one trains
    foreign = tmp_path / "runs" / "c-logistic"
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(RunDirectoryError, match=r"c-logistic holds files but is not a neyman run"):
        book({**cfg, "name": "c", "model": {"type": "fisher"}}, ["fisher", "logistic"])
    assert not (tmp_path / "runs" / "c-fisher").exists()
