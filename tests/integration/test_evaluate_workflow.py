"""neyman evaluate / report / compare on real runs."""

import json

import numpy as np
import pytest

import neyman
from neyman import io
from neyman.table import LABEL
from neyman.testing import gaussian_regression_dataset, multiclass_dataset, write_labelled_file
from neyman.workflows.compare import compare
from neyman.workflows.evaluate import evaluate

FEATURES = [f"x{i:02d}" for i in range(6)]


def _train(tmp_path, name, model, **extra):
    path = tmp_path / "labelled.parquet"
    if not path.exists():
        write_labelled_file(tmp_path, "parquet", n_events=4000)
    cfg = {
        "name": name,
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(path)}], "label_column": LABEL, "features": FEATURES},
        "model": model,
        **extra,
    }
    return neyman.train(cfg).run_dir


@pytest.fixture(scope="session")
def bdt_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("eval"), "bdt", {"type": "xgboost", "n_estimators": 40})


def test_binary_evaluation_metrics_figures_and_report(bdt_run):
    r = evaluate(bdt_run, yields=(50.0, 5000.0), sigma_b=0.1, n_bootstrap=50)
    saved = json.loads((bdt_run / "metrics.json").read_text())
    assert "test" in saved  # the training-time numbers stay
    m = saved["evaluation"]
    assert 0.7 < m["auc"] < 1 and 0 < m["auc_uncertainty"] < 0.05
    assert {"rejection@eS=0.3", "eS@eB=0.01", "separation", "brier", "confusion"} <= set(m)
    assert {"signal_ks_p_value", "background_ks_p_value"} <= set(m["overtraining"])
    assert set(m["significance"]) == {"asimov", "simple", "s_over_sqrt_s_plus_b"}
    assert m["significance"]["asimov"]["significance"] > 0
    assert set(m["permutation_importance"]) == set(FEATURES) and set(m["gain_importance"]) == set(FEATURES)
    names = {p.name for p in r.figures}
    for stem in (
        "roc_rejection",
        "roc_classic",
        "scores",
        "confusion",
        "calibration",
        "significance",
        "inputs",
        "importance_permutation",
        "importance_gain",
        "correlation_signal",
        "correlation_background",
    ):
        assert f"{stem}.png" in names and f"{stem}.pdf" in names, stem
    html = r.report.read_text()
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html
    for section in (
        "Input variables",
        "Classifier output and overtraining",
        "Performance",
        "Efficiencies and significance",
        "Feature importance",
        "Configuration and provenance",
    ):
        assert section in html
    assert "sha256" in html
    assert "Permutation importance: the drop of the weighted AUC when a feature is shuffled" in html
    # the inputs carry the true likelihood ratio: the classifier's implied ratio follows it
    assert m["likelihood_ratio_correlation"] > 0.8  # 0.86 measured for this small BDT; chance gives ~0
    assert "likelihood_ratio.png" in names


def test_kfold_evaluation_gives_mean_and_std_of_every_number(tmp_path):
    run = _train(tmp_path, "kf", {"type": "fisher"}, split={"kfold": 3})
    r = evaluate(run, n_bootstrap=20)
    m = r.metrics
    assert {"auc", "rejection@eS=0.3", "separation", "brier"} <= set(m["folds"])
    assert m["folds"]["auc"]["std"] > 0 and abs(m["folds"]["auc"]["mean"] - m["auc"]) < 0.02
    # the report shows them too, not only metrics.json
    html = r.report.read_text()
    assert "mean and standard deviation over the folds" in html
    assert f"{m['folds']['auc']['mean']:.4g}" in html and f"{m['folds']['auc']['std']:.4g}" in html


def test_report_provenance_gives_the_bytes_the_run_trained_on(tmp_path):
    """The training file's checksum is the one recorded at the run's start, not the path's bytes today."""
    import hashlib

    run = _train(tmp_path, "prov", {"type": "fisher"})
    trained_on = tmp_path / "labelled.parquet"
    then = hashlib.sha256(trained_on.read_bytes()).hexdigest()
    write_labelled_file(tmp_path, "parquet", n_events=3000, seed=5)  # another sample under the same name
    now = hashlib.sha256(trained_on.read_bytes()).hexdigest()
    assert now != then
    other = write_labelled_file(tmp_path, "csv", n_events=1500, seed=9)
    html = evaluate(run, test_data=[str(other)], n_bootstrap=20).report.read_text()
    assert f"sha256 {then[:16]}" in html and f"sha256 {now[:16]}" not in html
    assert f"sha256 {hashlib.sha256(other.read_bytes()).hexdigest()[:16]}" in html


def test_evaluation_on_new_test_data(bdt_run, tmp_path):
    other = write_labelled_file(tmp_path, "csv", n_events=1500, seed=9)
    r = evaluate(bdt_run, test_data=[str(other)], n_bootstrap=20)
    assert r.report.parent == bdt_run / "evaluation"
    assert json.loads((bdt_run / "evaluation" / "metrics.json").read_text())["n_test_events"] == 1500
    assert r.metrics["n_test_events"] == 1500 and r.metrics["test_data"] == [str(other)]
    with pytest.raises(neyman.ConfigError, match="as many --test-data"):
        evaluate(bdt_run, test_data=[str(other), str(other)])
    table = io.read(other)
    flipped = tmp_path / "flipped.parquet"
    io.write(table.with_column(LABEL, 1 - np.asarray(table[LABEL])), flipped)
    with pytest.warns(UserWarning, match=r"AUC 0\.\d+ on .*flipped\.parquet.* Are the labels swapped\?"):
        r = evaluate(bdt_run, test_data=[str(flipped)], n_bootstrap=20, formats=("png",))
    # the warning is kept where a reader of the record looks: metrics.json and the report's first section
    noted = json.loads((bdt_run / "evaluation" / "metrics.json").read_text())["warnings"]
    assert len(noted) == 1 and "Are the labels swapped?" in noted[0]
    html = r.report.read_text()
    assert "Warnings" in html and "Are the labels swapped?" in html
    assert html.index("Are the labels swapped?") < html.index("Metrics on the events of")


def test_compare_puts_runs_on_one_roc(bdt_run, tmp_path):
    lin = _train(bdt_run.parent.parent, "fisher", {"type": "fisher"})
    r = compare([bdt_run, lin], out=tmp_path / "cmp", n_bootstrap=20)
    assert [row["run"] for row in r.rows] == ["bdt", "fisher"]
    # a run named like the first, given by a relative path of the same text: two labels, two curves
    import os
    import shutil

    twin = tmp_path / "elsewhere-runs"
    shutil.copytree(lin, twin / "bdt")
    here = os.getcwd()
    try:
        os.chdir(twin)
        labels = [row["run"] for row in compare([bdt_run, "bdt"], out=tmp_path / "twin", n_bootstrap=5).rows]
    finally:
        os.chdir(here)
    assert labels[0] == "bdt" and labels[1] == str((twin / "bdt").resolve()), labels
    assert all(row["model_bytes"] > 0 and row["auc_uncertainty"] > 0 for row in r.rows)
    assert (tmp_path / "cmp" / "roc_comparison.png").stat().st_size > 1000
    assert (tmp_path / "cmp" / "comparison.csv").read_text().startswith("run,model,auc")


def test_compare_warns_when_the_runs_were_tested_on_other_events(bdt_run, tmp_path):
    """Runs split with other seeds were compared on different test events, silently."""
    from neyman.exceptions import NeymanWarning

    same = _train(bdt_run.parent.parent, "fisher-same", {"type": "fisher"})
    other = _train(bdt_run.parent.parent, "fisher-seed7", {"type": "fisher"}, seed=7)
    compare([bdt_run, same], out=tmp_path / "same", n_bootstrap=5, formats=("png",))  # the same events: quiet
    with pytest.warns(NeymanWarning, match=r"bdt and .*fisher-seed7 were tested on different events.*in common"):
        r = compare([bdt_run, other], out=tmp_path / "other", n_bootstrap=5, formats=("png",))
    assert [row["run"] for row in r.rows] == ["bdt", "fisher-seed7"]
    # the record keeps what the console said, beside the table
    kept = json.loads((tmp_path / "other" / "comparison.json").read_text())["warnings"]
    assert len(kept) == 1 and "fisher-seed7 were tested on different events" in kept[0]
    assert json.loads((tmp_path / "same" / "comparison.json").read_text())["warnings"] == []
    # another file numbers its events 0, 1, ... too: the ids are not counted as shared events
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_labelled_file(elsewhere, "parquet", n_events=4000, seed=5)
    unrelated = _train(elsewhere, "fisher-elsewhere", {"type": "fisher"})
    with pytest.warns(NeymanWarning, match=r"tested on different events .*from other input files") as caught:
        compare([bdt_run, unrelated], out=tmp_path / "files", n_bootstrap=5, formats=("png",))
    assert "from other input files" in str(caught[0].message) and "in common" not in str(caught[0].message)
    # a systematic variation: nominal/test.csv and jes_up/test.csv, of one name and size, other events
    frame = io.read(bdt_run.parent.parent / "labelled.parquet").to_pandas()
    varied = {}
    for variation, scale in (("nominal", 1.0), ("jes_up", 1.3)):
        (tmp_path / variation).mkdir()
        test = tmp_path / variation / "test.csv"
        frame.assign(x00=frame["x00"] * scale).to_csv(test, index=False, float_format="%.6e")
        data = {
            "sources": [{"path": str(bdt_run.parent.parent / "labelled.parquet")}, {"path": str(test), "test": True}]
        }
        varied[variation] = _train(
            tmp_path,
            f"fisher-{variation}",
            {"type": "fisher"},
            data={**data, "label_column": LABEL, "features": FEATURES},
        )
    assert (tmp_path / "nominal" / "test.csv").stat().st_size == (tmp_path / "jes_up" / "test.csv").stat().st_size
    with pytest.warns(NeymanWarning, match=r"tested on different events .*from other input files"):
        compare(list(varied.values()), out=tmp_path / "variations", n_bootstrap=5, formats=("png",))
    # trained on another file, tested on the same external one: the same test events, no warning
    nominal = {"path": str(tmp_path / "nominal" / "test.csv"), "test": True}
    data = {"sources": [{"path": str(elsewhere / "labelled.parquet")}, nominal], "label_column": LABEL}
    retrained = _train(tmp_path, "fisher-retrained", {"type": "fisher"}, data={**data, "features": FEATURES})
    compare([varied["nominal"], retrained], out=tmp_path / "retrained", n_bootstrap=5, formats=("png",))
    with pytest.raises(neyman.ConfigError, match=r"fisher-same is given twice"):
        compare([bdt_run, same, same], out=tmp_path / "twice", n_bootstrap=5)
    assert not (tmp_path / "twice").exists()
    # the same events, weighted in one run only (a fifth of them negative): the AUCs differ by the weights
    table = io.read(elsewhere / "labelled.parquet")
    weights = np.where(np.arange(len(table)) % 5 == 0, -0.5, 1.5)
    io.write(table.with_column("w", weights), elsewhere / "labelled.parquet")
    runs = {}
    for name, weight in (("plain", None), ("weighted", "w")):
        data = {"sources": [{"path": str(elsewhere / "labelled.parquet")}], "label_column": LABEL, "weight": weight}
        runs[name] = neyman.train(
            {"name": name, "output_dir": str(elsewhere / "runs"), "model": {"type": "fisher"},
             "data": {**data, "features": FEATURES}}
        ).run_dir  # fmt: skip
    with pytest.warns(NeymanWarning, match=r"plain and .*weighted weight their \d+ test events differently") as caught:
        r = compare([runs["plain"], runs["weighted"]], out=tmp_path / "weights", n_bootstrap=5, formats=("png",))
    assert len(caught) == 1 and r.rows[0]["auc"] != r.rows[1]["auc"]


def test_multiclass_and_gaussian_evaluations(tmp_path):
    io.write(multiclass_dataset(3000, n_features=6, seed=1), tmp_path / "mc.parquet")
    mc = neyman.train(
        {
            "name": "mc",
            "output_dir": str(tmp_path / "runs"),
            "data": {
                "sources": [{"path": str(tmp_path / "mc.parquet")}],
                "label_column": LABEL,
                "classes": ["qcd", "top", "higgs"],
                "features": FEATURES,
            },
            "task": {"type": "multiclass"},
            "model": {"type": "lightgbm", "n_estimators": 30},
        }
    ).run_dir
    m = evaluate(mc, n_bootstrap=20, formats=("png",), report=False).metrics
    assert np.asarray(m["confusion"]).shape == (3, 3) and "auc_higgs_vs_rest" in m
    r = evaluate(mc, n_bootstrap=5, discriminant="higgs", formats=("png",), report=False)
    d = r.metrics["discriminant"]
    assert d["signal"] == "higgs" and set(d) >= {"all backgrounds", "vs qcd", "vs top", "fraction_scan"}
    scan = d["fraction_scan"]
    assert scan["fraction"][0] == 0.0 and scan["fraction"][-1] == 1.0 and len(scan["auc"]) == 11
    # the test events hold the classes in equal parts: D with f = 1/2 is (for true posteriors) the likelihood
    # ratio of higgs to that mixture, so it separates as well as one-vs-rest and no other f does clearly better
    assert d["all backgrounds"]["auc"] >= m["auc_higgs_vs_rest"] - 0.005
    assert scan["auc"][5] >= max(scan["auc"]) - 0.01
    assert {"roc_discriminant.png", "discriminant_fraction_scan.png"} <= {f.name for f in r.figures}
    assert evaluate(mc, same_options=True, report=False, formats=("png",)).metrics["discriminant"]["signal"] == "higgs"
    io.write(gaussian_regression_dataset(3000, seed=2), tmp_path / "reg.parquet")
    g = neyman.train(
        {
            "name": "g",
            "output_dir": str(tmp_path / "runs"),
            "data": {
                "sources": [{"path": str(tmp_path / "reg.parquet")}],
                "target": "target",
                "features": ["x00", "x01", "x02", "x03"],
            },
            "task": {"type": "gaussian"},
            "model": {"type": "mlp", "hidden": [32, 32]},
            "training": {"epochs": 5, "progress": False},
        }
    ).run_dir
    r = evaluate(g, by="x00", n_bootstrap=20, formats=("png",), report=False)
    assert r.metrics["binned"]["by"] == "x00" and "pull_width" in r.metrics["binned"]
    assert {"binned_response.png", "pulls.png", "response.png"} <= {p.name for p in r.figures}


def test_a_multiclass_test_file_without_a_class_is_refused_by_name(tmp_path):
    # integer labels, no class names given: the test file's labels 0 and 1 alone once read as a binary task
    table = multiclass_dataset(1500, n_features=6, seed=3)
    io.write(table, tmp_path / "mc.parquet")
    io.write(table.take(np.flatnonzero(np.asarray(table[LABEL]) < 2)), tmp_path / "no2.parquet")
    data = {"sources": [{"path": str(tmp_path / "mc.parquet")}], "label_column": LABEL, "features": FEATURES}
    mc = neyman.train(
        {"name": "mc", "output_dir": str(tmp_path / "runs"), "data": data, "task": {"type": "multiclass"},
         "model": {"type": "lightgbm", "n_estimators": 5}}
    ).run_dir  # fmt: skip
    with pytest.raises(neyman.DataError, match=r"no events of class 'class_2' in the inputs"):
        evaluate(mc, test_data=[str(tmp_path / "no2.parquet")], n_bootstrap=5)
    assert not (mc / "evaluation").exists()


def test_a_complete_run_without_its_metrics_file_is_evaluated_with_a_warning(bdt_run, tmp_path):
    import shutil

    from neyman.exceptions import NeymanWarning

    copy = tmp_path / "bdt-copy"
    shutil.copytree(bdt_run, copy)
    (copy / "metrics.json").unlink()
    with pytest.warns(NeymanWarning, match=r"metrics\.json is missing from this complete run.*lost"):
        evaluate(copy, formats=("png",), n_bootstrap=5)
    assert "evaluation" in json.loads((copy / "metrics.json").read_text())


def test_kfold_permutation_importance_scores_each_event_with_the_model_that_never_saw_it(tmp_path):
    """A noise feature that deep trees memorise looks important only to a model that trained on the events."""
    table = io.read(write_labelled_file(tmp_path, "parquet", n_events=4000))
    noisy = tmp_path / "noisy.parquet"
    io.write(table.with_column("noise", np.random.default_rng(3).normal(size=len(table))), noisy)
    cfg = {
        "name": "kf-noise",
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(noisy)}], "label_column": LABEL, "features": [*FEATURES, "noise"]},
        "model": {"type": "xgboost", "n_estimators": 200, "max_depth": 8},
        "split": {"kfold": 3},
    }
    run = neyman.train(cfg).run_dir
    m = evaluate(run, n_bootstrap=5, report=False).metrics
    noise = m["permutation_importance"]["noise"]
    assert abs(noise["mean"]) < 0.004, noise  # 0.0105 when all folds' models, two of which trained on it, scored


def test_evaluation_refuses_copies_of_the_training_events_and_a_changed_training_file(tmp_path):
    """A shuffled text copy of the training file measures memory (its 80% of training and validation events are
    named); a file changed since the training, other events."""
    run = _train(tmp_path, "bdt", {"type": "xgboost", "n_estimators": 20})
    training = io.read(tmp_path / "labelled.parquet")
    copy = tmp_path / "copy.csv"
    io.write(training.take(np.random.default_rng(1).permutation(len(training))), copy)
    with pytest.raises(
        neyman.DataError, match=r"3\d{3} of the 4000 test events in .*copy\.csv are also in the training"
    ):
        evaluate(run, test_data=[str(copy)], n_bootstrap=20, report=False)
    assert not (run / "evaluation").exists()
    # the training file replaced under its name: the run's own evaluation would plot other events
    io.write(training.with_column("x00", -np.asarray(training["x00"])), tmp_path / "labelled.parquet")
    with pytest.raises(neyman.DataError, match=r"cannot evaluate the run's own events: .*labelled\.parquet \("):
        evaluate(run, n_bootstrap=20, report=False)


def test_a_run_without_test_events_is_said_so_by_evaluate_and_compare(bdt_run, tmp_path):
    """split.test = 0 and no test file: evaluate, report and compare failed with 'a ROC curve needs events'."""
    untested = _train(tmp_path, "untested", {"type": "fisher"}, split={"train": 0.8, "val": 0.2, "test": 0.0})
    with pytest.raises(neyman.DataError, match=r"untested has no test events .*--test-data FILE"):
        evaluate(untested, n_bootstrap=5)
    with pytest.raises(neyman.DataError, match=r"untested has no test events"):
        compare([bdt_run, untested], out=tmp_path / "cmp", n_bootstrap=5)
    assert not (tmp_path / "cmp").exists()


def test_an_interrupted_evaluation_leaves_the_previous_figures(bdt_run, tmp_path, monkeypatch):
    """The figures are staged until metrics.json is written: plots/ never mixes two evaluations."""
    import shutil

    import neyman.workflows.evaluate as module

    copy = tmp_path / "bdt-copy"
    shutil.copytree(bdt_run, copy)
    evaluate(copy, formats=("png",), n_bootstrap=5, working_point=0.5, yields=(50.0, 5000.0))
    before = {p.name: p.read_bytes() for p in (copy / "plots").iterdir()}
    assert "significance.png" in before
    metrics = (copy / "metrics.json").read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "_store", interrupted)
    with pytest.raises(KeyboardInterrupt):
        evaluate(copy, formats=("png",), n_bootstrap=5, working_point=0.9)  # another confusion matrix
    assert {p.name: p.read_bytes() for p in (copy / "plots").iterdir()} == before
    assert (copy / "metrics.json").read_bytes() == metrics
    assert sorted(p.name for p in copy.iterdir() if p.name.startswith(".")) == []
    monkeypatch.undo()
    killed = copy / ".plots.new-999999999"  # what an evaluation killed while drawing leaves
    killed.mkdir()
    (killed / "roc.png").write_bytes(b"half")
    r = evaluate(copy, formats=("png",), n_bootstrap=5, working_point=0.9)
    assert all(p.parent == copy / "plots" and p.is_file() for p in r.figures)
    assert (copy / "plots" / "confusion.png").read_bytes() != before["confusion.png"]
    assert sorted(p.name for p in copy.iterdir() if p.name.startswith(".")) == []
    # without --yields no significance scan: the earlier one goes with the evaluation that drew it
    assert not (copy / "plots" / "significance.png").exists() and (copy / "plots" / "loss.png").is_file()
    assert "unweighted (every event weight 1)" in r.report.read_text()


def test_kfold_evaluation_of_other_events_measures_the_scores_predict_writes(tmp_path):
    """A test file holding the run's event-id column: evaluate and predict score it alike (new ids: the ensemble)."""
    from neyman.metrics import roc_auc

    path = write_labelled_file(tmp_path, "parquet", n_events=4000)
    cfg = {
        "name": "kf",
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(path)}], "label_column": LABEL, "features": FEATURES, "event_id": "event_id"},
        "model": {"type": "xgboost", "n_estimators": 30},
        "split": {"kfold": 3},
    }
    run = neyman.train(cfg).run_dir
    other = io.read(write_labelled_file(tmp_path / "other", "parquet", n_events=3000, seed=9))
    other = io.write(other.with_column("event_id", np.asarray(other["event_id"]) + 10**6), tmp_path / "other.parquet")
    measured = evaluate(run, test_data=[str(other)], formats=("png",), n_bootstrap=5, report=False).metrics["auc"]
    scored = io.read(neyman.predict(run, other, tmp_path / "scored.parquet").output)
    written = roc_auc(
        np.asarray(scored["score"]), np.asarray(scored[LABEL]), sample_weight=np.asarray(scored["weight"])
    )
    assert measured == pytest.approx(written, abs=1e-12)


def test_the_report_names_an_external_test_file_and_the_weights(tmp_path):
    data = write_labelled_file(tmp_path, "parquet", n_events=3000)
    test = write_labelled_file(tmp_path / "t", "parquet", n_events=1500, seed=4)
    cfg = {
        "name": "ext",
        "output_dir": str(tmp_path / "runs"),
        "data": {
            "sources": [{"path": str(data)}, {"path": str(test), "test": True}],
            "label_column": LABEL,
            "features": FEATURES,
            "weight": "weight",
        },
        "model": {"type": "xgboost", "n_estimators": 20},
    }
    run = neyman.train(cfg).run_dir
    html = evaluate(run, formats=("png",), n_bootstrap=5).report.read_text()
    assert f"test file {test}" in html and f"training file {data}" in html and f"training file {test}" not in html
    assert "each weighted by its &#x27;weight&#x27; column" in html or "each weighted by its 'weight' column" in html
