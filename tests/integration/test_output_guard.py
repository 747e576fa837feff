"""Every output path goes through one guard: runs stay in their folder, --force replaces only neyman's own outputs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import neyman
from neyman.exceptions import ConfigError, DataError, RunDirectoryError
from neyman.table import LABEL
from neyman.testing import write_labelled_file
from neyman.workflows.compare import compare
from neyman.workflows.export import export

FEATURES = [f"x{i:02d}" for i in range(6)]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guard")
    data = write_labelled_file(tmp, "parquet", n_events=1500)

    def train(name, model, **extra):
        cfg = {
            "name": name,
            "output_dir": str(tmp / "runs"),
            "data": {"sources": [{"path": str(data)}], "label_column": LABEL, "features": FEATURES},
            "model": {"type": model},
        }
        return neyman.train(cfg, **extra)

    return tmp, train, train("a", "logistic").run_dir, train("b", "fisher").run_dir


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/abs-run", "..", ".", "a/b"])
def test_a_run_name_is_one_folder_inside_output_dir(runs, name):
    tmp, train, _, _ = runs
    before = sorted(p.name for p in tmp.parent.iterdir())
    with pytest.raises(ConfigError, match=r"one plain folder name"):
        train(name, "logistic", force=True)
    assert sorted(p.name for p in tmp.parent.iterdir()) == before


def test_force_never_deletes_a_folder_that_is_not_a_run(runs):
    tmp, train, _, _ = runs
    notes = tmp / "runs" / "mine" / "notes.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text("keep me")
    with pytest.raises(RunDirectoryError, match=r"not a neyman run .*--force only replaces neyman runs"):
        train("mine", "logistic", force=True)
    assert notes.read_text() == "keep me"
    # a status.json of someone else's (any content but a run's state) does not make a folder a run
    for foreign in ('{"foo": 1}', '{"state": "green", "time": "now"}', "[]", "not json", '{"state": "complete"}'):
        (notes.parent / "status.json").write_text(foreign)
        with pytest.raises(RunDirectoryError, match=r"not a neyman run"):
            train("mine", "logistic", force=True)
        assert notes.read_text() == "keep me"


def test_staging_folders_of_killed_runs_are_cleaned(runs):
    tmp, train, _, _ = runs
    stale = tmp / "runs" / ".c.new-999999999"
    stale.mkdir(parents=True)
    (stale / "status.json").write_text("{}")
    train("c", "logistic")
    assert not stale.exists()


def test_export_never_replaces_a_file_that_is_not_an_export(runs):
    tmp, _, a, _ = runs
    table = tmp / "table.csv"
    table.write_text("x,y\n1,2\n")
    with pytest.raises(DataError, match=r"not a \.onnx file"):
        export(a, out=table)
    assert table.read_text() == "x,y\n1,2\n"
    weights = a / "model" / "coefficients.json"
    digest = _digest(weights)
    for inside in (weights, a / "model" / "model.onnx", a / "metrics.json"):
        with pytest.raises(DataError, match=r"inside the run directory"):
            export(a, out=inside)
    assert _digest(weights) == digest
    first = export(a, out=tmp / "a.onnx").path
    with pytest.raises(DataError, match=r"exists; pass --force"):
        export(a, out=first)
    assert export(a, out=first, force=True).path == first


def test_predict_never_writes_over_a_folder_the_input_or_a_run(runs):
    from neyman.workflows.predict import predict

    tmp, _, a, _ = runs
    data = next(tmp.glob("*.parquet"))
    folder = tmp / "outdir"
    folder.mkdir(exist_ok=True)
    with pytest.raises(DataError, match=r"is a folder; give the predictions a file name"):
        predict(a, data, folder)
    # a folder of a run: the example is a file beside the run, not one inside it (which is refused)
    with pytest.raises(DataError, match=r"model is a folder; give the predictions a file name \(e\.g\. .*a-scores"):
        predict(a, data, a / "model")
    with pytest.raises(DataError, match=r"is the input file"):
        predict(a, data, data, force=True)
    saved = a / "predictions.parquet"
    digest = _digest(saved)
    # not even a new file at the run's top level: a later train --force would replace it with the run
    for inside in (saved, a / "model" / "scores.parquet", a / "scores.parquet"):
        with pytest.raises(DataError, match=r"inside the run directory .*write the predictions outside it \(e\.g\. "):
            predict(a, data, inside, force=True)
    assert _digest(saved) == digest and not (a / "scores.parquet").exists()
    # --force replaces earlier predictions, never a file that is not one
    mine = tmp / "mine.parquet"
    mine.write_bytes(data.read_bytes())
    digest = _digest(mine)
    with pytest.raises(DataError, match=r"holds no score column.*--force replaces only earlier predictions"):
        predict(a, data, mine, force=True)
    assert _digest(mine) == digest
    earlier = predict(a, data, tmp / "pred.parquet", force=True).output
    assert predict(a, data, earlier, force=True).output == earlier


def test_outputs_never_go_into_another_run_nor_take_neyman_s_temporary_names(runs):
    """A run's folder holds its own outputs only: --force replaces it whole, and stale cleaning removes
    what looks like neyman's temporaries."""
    tmp, train, a, b = runs
    with pytest.raises(DataError, match=r"inside the run directory .*a.*outside the run directories of other runs"):
        export(b, out=a / "model.onnx")  # where a's own export goes by default
    assert not (a / "model.onnx").exists()
    assert export(a, out=a / "model.onnx").path == a / "model.onnx"  # a run's own export may
    with pytest.raises(DataError, match=r"inside the run directory .*a.*give the comparison a folder outside"):
        compare([a, b], out=a / "cmp", n_bootstrap=5, formats=("png",))
    assert not (a / "cmp").exists()
    # a run inside another: `train --force a` deleted it, and compare counted its files as a's model size
    for folder in (a, a / "model", a / "plots" / "deeper"):
        with pytest.raises(RunDirectoryError, match=r"inside the run directory .*a: replacing that run"):
            neyman.train(
                {"name": "nested", "output_dir": str(folder), "model": {"type": "logistic"},
                 "data": {"sources": [{"path": str(tmp / "labelled.parquet")}], "label_column": LABEL,
                          "features": FEATURES}}
            )  # fmt: skip
        assert not (folder / "nested").exists()
    for name in (".y.new-99999", ".z.old-12", ".w.tmp-3", ".v.chunks"):
        with pytest.raises(ConfigError, match=r"form of neyman's temporary names"):
            train(name, "logistic")
        assert not (tmp / "runs" / name).exists()


def test_compare_never_overwrites_without_force(runs):
    tmp, _, a, b = runs
    out = tmp / "cmp"
    compare([a, b], out=out, n_bootstrap=5, formats=("png",))
    with pytest.raises(DataError, match=r"holds the comparison already; pass --force"):
        compare([a, b], out=out, n_bootstrap=5, formats=("png",))
    compare([a, b], out=out, n_bootstrap=5, formats=("png",), force=True)
    other = tmp / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    with pytest.raises(DataError, match=r"holds other files"):
        compare([a, b], out=other, n_bootstrap=5, formats=("png",), force=True)
    (other / "comparison.json").write_text('{"mine": true}')  # a file of that name neyman did not write
    with pytest.raises(DataError, match=r"holds other files \(no comparison.json that neyman wrote\)"):
        compare([a, b], out=other, n_bootstrap=5, formats=("png",), force=True)
    assert (other / "thesis.tex").read_text() == "x"
    with pytest.raises(DataError, match=r"is a file"):
        compare([a, b], out=other / "thesis.tex", n_bootstrap=5)
    with pytest.raises(DataError, match=r"is a run directory"):
        compare([a, b], out=a, n_bootstrap=5, force=True)


@pytest.mark.parametrize(
    "damage,named",
    [
        (lambda m: {k: v for k, v in m.items() if k != "task"}, r"lacks 'task'"),
        (lambda m: [], r"holds a list, not a mapping"),
        (lambda m: {**m, "features": "x00"}, r"'features' is not a list"),
    ],
)
def test_damaged_run_metadata_is_an_error_naming_the_file(runs, tmp_path, damage, named):
    import json
    import shutil

    from neyman.runs import load_run

    _, _, a, _ = runs
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    meta = copy / "model" / "metadata.json"
    meta.write_text(json.dumps(damage(json.loads(meta.read_text()))))
    with pytest.raises(RunDirectoryError, match=named + r".*train the run again"):
        load_run(copy)


def test_report_on_a_damaged_metrics_file_fails_before_evaluating(runs, tmp_path):
    import shutil

    from neyman.workflows.evaluate import evaluate

    _, _, a, _ = runs
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    (copy / "metrics.json").write_text("{not json")
    with pytest.raises(RunDirectoryError, match=r"metrics\.json is damaged"):
        evaluate(copy, same_options=True)
    assert not (copy / "plots" / "roc_rejection.png").exists() and not (copy / "report.html").exists()


def test_a_status_or_metrics_file_of_the_wrong_json_is_an_error_naming_it(runs, tmp_path):
    """JSON that is not the record neyman writes gave tracebacks (status.json a list, a text training time)."""
    import json
    import shutil

    from neyman.workflows.evaluate import evaluate

    _, _, a, b = runs
    for status in ("[1, 2]", '"complete"', "null", '{"state": 5}', "{oops"):  # {"state": 5} passed for finished
        copy = tmp_path / "status"
        shutil.copytree(a, copy, dirs_exist_ok=True)
        (copy / "status.json").write_text(status)
        with pytest.raises(RunDirectoryError, match=r"not a finished run \(status.json is damaged \(no record of a"):
            evaluate(copy, same_options=True)
    copy = tmp_path / "metrics"
    shutil.copytree(a, copy)
    metrics = json.loads((copy / "metrics.json").read_text())
    (copy / "metrics.json").write_text(json.dumps({**metrics, "training_seconds": "fast"}))
    with pytest.raises(RunDirectoryError, match=r"metrics\.json is damaged: training_seconds is 'fast'"):
        evaluate(copy, same_options=True)
    with pytest.raises(RunDirectoryError, match=r"training_seconds is 'fast'"):
        compare([copy, b], out=tmp_path / "cmp", n_bootstrap=5, formats=("png",))


def test_prefixed_predictions_are_recorded_and_never_become_features(runs):
    """A --prefix takes the scores' names out of the output pattern; the provenance keeps them out of training."""
    import json

    from neyman.io import provenance_path
    from neyman.runs import load_run
    from neyman.workflows.predict import predict

    tmp, _, a, _ = runs
    data = tmp / "labelled.parquet"
    tagged = predict(a, data, tmp / "tagged.parquet", prefix="tagger_", force=True)
    record = json.loads(provenance_path(tagged.output).read_text())
    assert tagged.provenance == provenance_path(tagged.output)
    assert record["command"] == "neyman predict" and record["output_columns"] == ["tagger_score"]
    assert record["run"] == str(a.resolve()) and record["events"] == tagged.n_events
    cfg = {
        "name": "on-tagged",
        "output_dir": str(tmp / "runs"),
        "data": {"sources": [{"path": str(tagged.output)}], "label_column": LABEL},
        "model": {"type": "logistic"},
    }
    with pytest.warns(UserWarning, match=r"tagger_score.*neyman's output"):
        run = neyman.train(cfg, force=True).run_dir
    assert load_run(run).features == FEATURES
    # scored again: the output's provenance keeps the first prefix's column as well
    twice = predict(a, tagged.output, tmp / "twice.parquet", prefix="again_", force=True)
    assert json.loads(twice.provenance.read_text())["output_columns"] == ["tagger_score", "again_score"]


def test_predict_never_replaces_a_provenance_it_did_not_write(runs):
    from neyman.io import provenance_path
    from neyman.workflows.predict import predict

    tmp, _, a, _ = runs
    data = tmp / "labelled.parquet"
    out = tmp / "elsewhere.parquet"
    side = provenance_path(out)
    side.write_text('{"process": "top_vs_qcd", "seed": 3}\n')
    digest = _digest(side)
    with pytest.raises(DataError, match=r"elsewhere.parquet.provenance.json exists and was not written by neyman"):
        predict(a, data, out)
    assert _digest(side) == digest and not out.exists()


def test_a_feature_that_arrives_as_true_false_is_refused_by_predict_and_the_onnx_model(runs):
    """A float feature written as booleans: its 0 and 1 lie inside the training range, scores would be wrong."""
    from neyman import io
    from neyman.export import OnnxModel
    from neyman.workflows.predict import predict

    tmp, _, a, _ = runs
    table = io.read(next(tmp.glob("*.parquet")))
    flags = io.write(table.with_column("x00", np.asarray(table["x00"]) > 0), tmp / "flags.parquet")
    with pytest.raises(
        DataError, match=r"column 'x00' of .*flags\.parquet holds true/false values, .*trained on numbers"
    ):
        predict(a, flags, tmp / "flags-scores.parquet")
    assert not (tmp / "flags-scores.parquet").exists()
    onnx_file = export(a, out=tmp / "a-flags.onnx").path
    with pytest.raises(DataError, match=r"column 'x00' .*true/false values"):
        OnnxModel(onnx_file).score(io.read(flags))


def test_bad_input_that_only_the_fit_finds_leaves_no_run_behind(runs):
    """A feature constant within each class stops Fisher's fit after the run directory exists: the attempt is
    removed, so that the corrected one may take the name without --force."""
    from neyman import io

    tmp, train, _, _ = runs
    table = io.read(next(tmp.glob("*.parquet")))
    constant = io.write(table.with_column("x01", np.full(len(table), 0.5)), tmp / "constant.parquet")
    cfg = {
        "name": "k",
        "output_dir": str(tmp / "runs"),
        "data": {"sources": [{"path": str(constant)}], "label_column": LABEL, "features": FEATURES},
        "model": {"type": "fisher"},
    }
    with pytest.raises(DataError, match=r"'x01' is constant within each class"):
        neyman.train(cfg)
    assert not (tmp / "runs" / "k").exists()
    assert train("k", "fisher").run_dir == tmp / "runs" / "k"
