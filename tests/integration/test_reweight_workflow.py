"""neyman reweight: k-fold weights p_T/p_S for a source sample, their closure, predict and export."""

import json

import numpy as np
import pytest

from neyman import io
from neyman.exceptions import ConfigError, DataError, RunDirectoryError
from neyman.reweighting import PositiveWeights
from neyman.runs import load_run, read_ratio_weights
from neyman.table import Table
from neyman.workflows.predict import predict
from neyman.workflows.reweight import reweight

QUICK = ["training.progress=false", "training.epochs=5", "model.hidden=[16]"]


def _write(path, x, extra=None):
    cols = {"x0": x[:, 0], "x1": x[:, 1], "other": x[:, 2]}
    cols.update(extra or {})
    io.write(Table(cols), path)
    return str(path)


def _samples(tmp_path, n=6000, shift=0.5, seed=0):
    """Source N(0, 1)^3; target shifted by ``shift`` in x0 only: ln w = shift x0 - shift^2/2."""
    gen = np.random.default_rng(seed)
    xs, xt = gen.normal(size=(n, 3)), gen.normal(size=(n, 3))
    xt[:, 0] += shift
    return _write(tmp_path / "source.parquet", xs), _write(tmp_path / "target.parquet", xt), xs


def test_weights_reproduce_a_known_gaussian_ratio_with_closure(tmp_path):
    src, tgt, xs = _samples(tmp_path)
    result = reweight(
        src, tgt, features=["x0", "x1"], check=["other"], model="logistic", kfold=3, output_dir=str(tmp_path / "r")
    )
    w = np.asarray(io.read(result.run_dir / "weights.parquet")["weight"])
    true = 0.5 * xs[:, 0] - 0.125
    assert np.corrcoef(np.log(w), true)[0, 1] > 0.98
    assert np.sqrt(np.mean((np.log(w) - true) ** 2)) < 0.1
    s = result.summary
    assert s["two_sample_auc_before"] > 0.6 and abs(s["two_sample_auc_after"] - 0.5) < 0.03
    assert s["chi2_per_ndf"]["x0"]["before"] > 5 and s["chi2_per_ndf"]["x0"]["after"] < 2
    assert s["chi2_per_ndf"]["other"]["after"] < 2  # a variable the weights do not depend on stays closed
    assert 0.7 < s["effective_sample_fraction"] < 0.85  # 1/E[w^2] = exp(-0.25) for this shift
    assert result.report.is_file() and "Closure" in result.report.read_text()


def test_weights_join_to_the_source_on_its_own_event_ids(tmp_path):
    """weights.parquet names each event by its row (``entry``) and by the file's own ``event_id`` column."""
    gen = np.random.default_rng(3)
    xs, xt = gen.normal(size=(4000, 3)), gen.normal(size=(4000, 3))
    xt[:, 0] += 0.5
    ids = gen.permutation(4000) + 100_000  # shuffled ids: neither the entry numbers nor in their order
    src = _write(tmp_path / "source.parquet", xs, {"event_id": ids})
    tgt = _write(tmp_path / "target.parquet", xt)
    result = reweight(src, tgt, features=["x0", "x1"], model="logistic", kfold=2, output_dir=str(tmp_path / "r"))
    weights = io.read(result.run_dir / "weights.parquet")
    assert weights.column_names == ["entry", "event_id", "weight"]
    np.testing.assert_array_equal(np.asarray(weights["entry"]), np.arange(4000))
    np.testing.assert_array_equal(np.asarray(weights["event_id"]), ids)
    # joined on the file's ids, each weight follows its own event's x0 (ln w = 0.5 x0 - 0.125)
    by_id = dict(zip(np.asarray(weights["event_id"]).tolist(), np.asarray(weights["weight"]).tolist(), strict=True))
    joined = np.log([by_id[i] for i in ids.tolist()])
    assert np.corrcoef(joined, 0.5 * xs[:, 0])[0, 1] > 0.98


def test_a_closure_that_fails_leaves_the_run_marked_failed(tmp_path, monkeypatch):
    """The training marks the run complete; weights without their closure must not pass for a finished run."""
    import neyman.workflows.reweight as workflow

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(workflow, "compare_columns", broken)
    src, tgt, _ = _samples(tmp_path, n=2000)
    with pytest.raises(OSError, match="disk full"):
        reweight(src, tgt, model="logistic", kfold=2, output_dir=str(tmp_path / "r"), name="rw")
    status = json.loads((tmp_path / "r" / "rw" / "status.json").read_text())
    assert status["state"] == "failed" and "disk full" in status["error"] and status["made_by"] == "reweight"
    with pytest.raises(RunDirectoryError, match=r"says 'failed'.*run neyman reweight again with --force"):
        load_run(tmp_path / "r" / "rw")
    # train --resume would have finished the training and called the run complete, without weights
    from neyman.workflows.train import train

    with pytest.raises(RunDirectoryError, match=r"a run of neyman reweight, which train --resume cannot finish"):
        train(resume=tmp_path / "r" / "rw")
    with pytest.raises(
        RunDirectoryError, match=r"unfinished run of neyman reweight .* cannot be resumed; pass --force"
    ):
        reweight(src, tgt, model="logistic", kfold=2, output_dir=str(tmp_path / "r"), name="rw")


def test_identical_samples_get_weights_of_one(tmp_path):
    gen = np.random.default_rng(7)
    src = _write(tmp_path / "a.parquet", gen.normal(size=(5000, 3)))
    tgt = _write(tmp_path / "b.parquet", gen.normal(size=(7000, 3)))  # sizes differ: weights are density ratios
    result = reweight(src, tgt, model="mlp", kfold=2, output_dir=str(tmp_path / "r"), overrides=QUICK)
    w = np.asarray(io.read(result.run_dir / "weights.parquet")["weight"])
    assert np.mean(w) == pytest.approx(1.0, abs=1e-6)
    assert np.std(w) < 0.15 and np.percentile(w, 99) < 1.5
    assert abs(result.summary["two_sample_auc_after"] - 0.5) < 0.03


def test_kfold_weights_come_from_the_model_that_never_saw_the_event(tmp_path):
    src, tgt, xs = _samples(tmp_path, n=3000)
    result = reweight(src, tgt, features=["x0", "x1", "other"], model="logistic", kfold=3, output_dir=str(tmp_path))
    preds = io.read(result.run_dir / "predictions.parquet")
    from_source = np.asarray(preds["source"]) == 0
    # event numbers are entries of the source file; the fold of an event is its number mod 3
    ids = np.asarray(preds["event_id"])[from_source]
    np.testing.assert_array_equal(ids, np.arange(len(xs)))
    np.testing.assert_array_equal(np.asarray(preds["fold"])[from_source], ids % 3)
    # each fold's model is applied only to its own fold, and it did not train on it: refit it by hand
    run = load_run(result.run_dir)
    weights = np.asarray(io.read(result.run_dir / "weights.parquet")["weight"])
    ratio, _ = read_ratio_weights(result.run_dir)
    x = np.stack([xs[:, 0], xs[:, 1], xs[:, 2]], axis=1)
    for k in range(3):
        mine = ids % 3 == k
        own = run.models[k].predict(run.preprocessors[k].transform(x[mine]))
        np.testing.assert_allclose(ratio(own), weights[mine], rtol=1e-6)
        other = run.models[(k + 1) % 3].predict(run.preprocessors[(k + 1) % 3].transform(x[mine]))
        assert not np.allclose(ratio(other), weights[mine])
    # predict on the source file gives the same out-of-fold weights, chunk by chunk
    out = predict(result.run_dir, src, tmp_path / "w.parquet", step_size=1000)
    assert out.score_columns == ["weight"]
    np.testing.assert_allclose(np.asarray(io.read(out.output)["weight"]), weights, rtol=1e-9)
    # a new file of the source kind gets the k-fold ensemble's weights
    gen = np.random.default_rng(3)
    new = _write(tmp_path / "new.parquet", gen.normal(size=(500, 3)))
    w_new = np.asarray(io.read(predict(result.run_dir, new, tmp_path / "new_w.parquet").output)["weight"])
    assert np.corrcoef(np.log(w_new), io.read(new)["x0"])[0, 1] > 0.99


def test_the_exported_classifier_gives_the_weights_through_the_recorded_map(tmp_path):
    from neyman.export import OnnxModel
    from neyman.workflows.export import export

    src, tgt, _ = _samples(tmp_path, n=3000)
    result = reweight(src, tgt, features=["x0", "x1"], model="logistic", kfold=2, output_dir=str(tmp_path))
    onnx = export(result.run_dir, format="onnx", out=tmp_path / "rw.onnx", fold=0).path
    ratio, record = read_ratio_weights(result.run_dir)
    table = io.read(src)
    via_onnx = ratio(OnnxModel(onnx).score(table))
    run = load_run(result.run_dir)
    direct = ratio(run.models[0].predict(run.preprocessors[0].transform(run.matrix(table))))
    np.testing.assert_allclose(via_onnx, direct, rtol=1e-4)
    assert record["features"] == ["x0", "x1"]


def test_the_boosted_reweighter_learns_the_ratio_and_exports_its_trees(tmp_path):
    from neyman.export import OnnxModel
    from neyman.workflows.export import export

    src, tgt, xs = _samples(tmp_path, n=12_000)
    result = reweight(
        src, tgt, features=["x0", "x1"], check=["other"], model="gbreweighter", kfold=2, output_dir=str(tmp_path / "r")
    )
    w = np.asarray(io.read(result.run_dir / "weights.parquet")["weight"])
    true = 0.5 * xs[:, 0] - 0.125
    # piecewise constant in x0 (40 trees of depth 3), so less exact than a smooth model, but the ratio
    assert np.corrcoef(np.log(w), true)[0, 1] > 0.9
    s = result.summary
    assert s["chi2_per_ndf"]["x0"]["before"] > 5 and s["chi2_per_ndf"]["x0"]["after"] < 2
    assert abs(s["two_sample_auc_after"] - 0.5) < 0.03
    # its trees in ONNX route every event as the model does
    onnx = export(result.run_dir, format="onnx", out=tmp_path / "rw.onnx", fold=1).path
    run = load_run(result.run_dir)
    table = io.read(src)
    direct = run.models[1].predict(run.preprocessors[1].transform(run.matrix(table)))
    np.testing.assert_allclose(OnnxModel(onnx).score(table), direct, rtol=1e-5)


@pytest.mark.parametrize("route", ["positive", "dctr"])
def test_the_boosted_reweighter_is_refused_where_it_cannot_serve(tmp_path, route):
    x = np.random.default_rng(0).normal(size=(300, 3))
    path = _write(tmp_path / "s.parquet", x, {"w": np.ones(300)})
    with pytest.raises(ConfigError, match="piecewise constant in a parameter and regress no weight"):
        if route == "positive":
            reweight(positive=path, weight="w", model="gbreweighter", kfold=3, output_dir=str(tmp_path / "runs"))
        else:
            from neyman.workflows.dctr import dctr

            dctr(
                path,
                [path, path, path],
                "alpha",
                [0.1, 0.15, 0.2],
                nominal=0.15,
                model="gbreweighter",
                kfold=3,
                output_dir=str(tmp_path / "runs"),
            )
    assert not (tmp_path / "runs").exists()


def test_a_retrained_run_never_uses_a_stale_weight_map(tmp_path):
    src, tgt, _ = _samples(tmp_path, n=2000)
    result = reweight(src, tgt, model="logistic", kfold=2, output_dir=str(tmp_path))
    meta = result.run_dir / "model" / "metadata.json"
    record = json.loads(meta.read_text())
    record["created"] = "another training"
    meta.write_text(json.dumps(record))
    with pytest.raises(RunDirectoryError, match="another training of"):
        read_ratio_weights(result.run_dir)


@pytest.mark.parametrize(
    ("case", "error", "match"),
    [
        ("different-columns", DataError, r"different columns \(extra"),
        ("zero-weights", DataError, r"weight column 'w' is all zero"),
        ("text-weights", DataError, r"weight column 'w' holds object values such as 'abc', not numbers"),
        ("huge-weights", DataError, r"weight column 'w' holds 1e\+300 at entry 0, beyond ±1e\+100"),
        ("few-target-events", DataError, r"target .* holds 2 events; 3-fold reweighting needs at least 30"),
        ("missing-check", DataError, r"has no column 'nope' \(given in --check\)"),
        ("check-is-feature", ConfigError, r"'x0' is both a feature and a --check"),
        ("text-check", DataError, r"column 'unit' \(a --check variable\) holds object values such as 'cm'"),
        ("one-fold", ConfigError, r"--kfold must be at least 2"),
        ("missing-file", DataError, r"source file .*absent.parquet does not exist"),
        ("folder", DataError, r"source file .* is a directory, not a file"),
        ("uncovered", DataError, r"100\.0% of the target's events .* outside the source's range of 'x0', \[3, 3\]"),
        ("clip-above-one", ConfigError, r"--clip-quantile 2: give the quantile .* in \(0, 1\]"),
        ("missing-values", DataError, r"source .*s\.parquet: column 'x0' \(a feature\) holds nan in row 8 "),
        ("weight-missing-in-target", DataError, r"target .*t\.parquet has no column 'w' \(given in --weight\)"),
        ("dangling-link", DataError, r"source file .*s\.parquet is a link to .*moved\.parquet, which does not exist"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(tmp_path, case, error, match):
    gen = np.random.default_rng(0)
    x = gen.normal(size=(300, 3))
    src = _write(tmp_path / "s.parquet", x, {"w": np.ones(300)})
    tgt = _write(tmp_path / "t.parquet", x + 0.1, {"w": np.ones(300)})
    kwargs = {"model": "logistic", "kfold": 3, "output_dir": str(tmp_path / "runs")}
    if case == "different-columns":
        tgt = _write(tmp_path / "t.parquet", x, {"w": np.ones(300), "extra": np.ones(300)})
    elif case == "zero-weights":
        src = _write(tmp_path / "s.parquet", x, {"w": np.zeros(300)})
        kwargs["weight"] = "w"
    elif case == "text-weights":
        src = _write(tmp_path / "s.parquet", x, {"w": np.full(300, "abc", dtype=object)})
        kwargs["weight"] = "w"
    elif case == "huge-weights":
        src = _write(tmp_path / "s.parquet", x, {"w": np.full(300, 1e300)})
        kwargs["weight"] = "w"
    elif case == "few-target-events":
        tgt = _write(tmp_path / "t.parquet", x[:2], {"w": np.ones(2)})
    elif case == "missing-check":
        kwargs["check"] = ["nope"]
    elif case == "check-is-feature":
        kwargs.update(features=["x0", "x1"], check=["x0"])
    elif case == "text-check":
        src = _write(tmp_path / "s.parquet", x, {"w": np.ones(300), "unit": np.full(300, "cm", dtype=object)})
        tgt = _write(tmp_path / "t.parquet", x + 0.1, {"w": np.ones(300), "unit": np.full(300, "cm", dtype=object)})
        kwargs.update(features=["x0", "x1"], check=["unit"])
    elif case == "one-fold":
        kwargs["kfold"] = 1
    elif case == "missing-file":
        src = str(tmp_path / "absent.parquet")
    elif case == "folder":
        src = str(tmp_path)
    elif case == "uncovered":  # a constant where the target spreads: no weight can reach the target
        src = _write(tmp_path / "s.parquet", np.column_stack([np.full(300, 3.0), x[:, 1:]]), {"w": np.ones(300)})
    elif case == "clip-above-one":
        kwargs["clip_quantile"] = 2
    elif case == "missing-values":  # a replacement value (data.fill_value) would leave the closure without them
        x[7::50, 0] = np.nan
        src = _write(tmp_path / "s.parquet", x, {"w": np.ones(300)})
        kwargs["overrides"] = ["data.fill_value=-999"]
    elif case == "weight-missing-in-target":  # was: "different columns (w in one only)"
        tgt = _write(tmp_path / "t.parquet", x + 0.1)
        kwargs["weight"] = "w"
    elif case == "dangling-link":
        (tmp_path / "s.parquet").rename(tmp_path / "moved.parquet")
        (tmp_path / "s.parquet").symlink_to(tmp_path / "moved.parquet")
        (tmp_path / "moved.parquet").unlink()
    with pytest.raises(error, match=match):
        reweight(src, tgt, **kwargs)
    assert not (tmp_path / "runs").exists()


def _signed(tmp_path, n=12_000, seed=0):
    """x ~ N(0, 1)^3, weights ±1 with E[w|x] = 0.5 + 0.4 tanh(x0): a quarter negative."""
    gen = np.random.default_rng(seed)
    x = gen.normal(size=(n, 3))
    mean = 0.5 + 0.4 * np.tanh(x[:, 0])
    w = np.where(gen.random(n) < 0.5 * (1 + mean), 1.0, -1.0)
    return _write(tmp_path / "nlo.parquet", x, {"w": w}), x, w, mean


def test_positive_weights_keep_every_histogram_and_predict_reproduces_them(tmp_path):
    path, _, w, mean = _signed(tmp_path)
    result = reweight(
        positive=path,
        weight="w",
        features=["x0", "x1"],
        check=["other"],
        model="xgboost",
        kfold=3,
        output_dir=str(tmp_path / "r"),
        overrides=["model.n_estimators=200", "model.max_depth=3"],
    )
    assert result.run_dir.name == "positive-xgboost"
    new = np.asarray(io.read(result.run_dir / "weights.parquet")["weight"])
    assert np.all(new > 0) and np.sum(new) == pytest.approx(np.sum(w))
    assert np.corrcoef(new, mean)[0, 1] > 0.9
    s = result.summary
    assert s["floor"]["n_negative_before"] == int(np.sum(w < 0))
    assert s["chi2_per_ndf"]["x0"]["before"] > 5  # the signed weights matter in x0 ...
    assert s["chi2_per_ndf"]["x0"]["after"] < 1.5  # ... and the positive ones reproduce them
    assert s["chi2_per_ndf"]["other"]["after"] < 1.5
    assert s["effective_sample_size_positive"] > 2 * s["effective_sample_size_signed"]
    # predict on the training file: each event's weight from the fold model that never saw it
    out = predict(result.run_dir, path, tmp_path / "w.parquet", step_size=1000, prefix="positive_")
    np.testing.assert_allclose(np.asarray(io.read(out.output)["positive_weight"]), new, rtol=1e-9)
    mapping, record = read_ratio_weights(result.run_dir)
    assert isinstance(mapping, PositiveWeights) and mapping.floor > 0
    assert record["weights"]["kind"] == "positive" and record["features"] == ["x0", "x1"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"weight": None}, ConfigError, r"--positive needs --weight"),
        ({"weight": "nope"}, DataError, r"has no column 'nope' \(given in --weight\)"),
        ({"weight": "w", "source": "x"}, ConfigError, r"either --source and --target .* or --positive alone"),
        ({"weight": "w", "features": ["x0", "w"]}, ConfigError, r"weight column 'w' cannot also be a feature"),
        ({"weight": "neg", "features": ["x0", "x1"]}, DataError, r"weight column 'neg' sums to -300"),
        ({"weight": "neg"}, DataError, r"column 'nan' \(a feature\) holds nan in row 8"),
        ({"weight": "nan"}, DataError, r"weight column 'nan' holds nan at entry 7"),
    ],
)
def test_bad_positive_weight_input_is_refused_before_anything_is_written(tmp_path, kwargs, error, match):
    x = np.random.default_rng(0).normal(size=(300, 3))
    nan = np.ones(300)
    nan[7] = np.nan
    path = _write(tmp_path / "s.parquet", x, {"w": np.ones(300), "neg": -np.ones(300), "nan": nan})
    with pytest.raises(error, match=match):
        reweight(positive=path, kfold=3, output_dir=str(tmp_path / "runs"), **kwargs)
    assert not (tmp_path / "runs").exists()


def test_a_text_column_left_out_of_the_default_features_is_named(tmp_path):
    from neyman.exceptions import NeymanWarning

    gen = np.random.default_rng(4)
    x = gen.normal(size=(600, 3))
    src = _write(tmp_path / "s.parquet", x, {"unit": np.full(600, "cm", dtype=object)})
    tgt = _write(tmp_path / "t.parquet", x + 0.1, {"unit": np.full(600, "cm", dtype=object)})
    with pytest.warns(NeymanWarning, match=r"left out of the automatic features, holding text .*'unit' \(e.g. 'cm'\)"):
        result = reweight(src, tgt, model="logistic", kfold=2, output_dir=str(tmp_path / "r"))
    assert result.summary["features"] == ["x0", "x1", "other"]


def test_a_target_partly_outside_the_source_is_warned_about(tmp_path):
    gen = np.random.default_rng(3)
    xs, xt = gen.normal(size=(4000, 3)), gen.normal(size=(4000, 3))
    xs[:, 0] = np.clip(xs[:, 0], -1.0, 1.0)  # the source stops at |x0| = 1, a third of the target lies beyond
    src, tgt = _write(tmp_path / "s.parquet", xs), _write(tmp_path / "t.parquet", xt)
    # a linear log-ratio cannot follow the target's tails either: the closure check speaks too
    uncovered = r"3\d\.\d% of the target's events .* outside the source's range of 'x0'"
    with pytest.warns(UserWarning, match=r"the weights do not close"), pytest.warns(UserWarning, match=uncovered):
        reweight(src, tgt, model="logistic", kfold=2, output_dir=str(tmp_path / "r"))


def _summary(before: float | None, after: float | None, ess: float = 0.8, clipped: float = 0.001) -> dict:
    return {
        "two_sample_auc_before": before,
        "two_sample_auc_after": after,
        "effective_sample_fraction": ess,
        "clipping": {"weight_fraction": clipped},
    }


def test_weights_that_leave_the_samples_apart_are_warned_about():
    from neyman.workflows.steps.reweighting import check_closure

    with pytest.warns(UserWarning, match=r"the weights do not close: .* 0\.9924 \(before 0\.9934"):
        check_closure(_summary(0.9934, 0.9924))
    for before, after in ((0.64, 0.49), (0.70, 0.54), (0.56, 0.545), (0.9, None)):  # closed, or too close to call
        check_closure(_summary(before, after))  # no warning (warnings are errors in the tests)
    with pytest.warns(UserWarning, match=r"effective sample is 3\.1% .* clipped events held 99\.9% of the weight"):
        check_closure(_summary(0.7, 0.5, ess=0.031, clipped=0.9994))


def test_positive_weights_of_a_column_named_weight_raise_no_warning_that_it_is_unused(tmp_path):
    """--weight weight is the regression's target: no 'column weight weighs no event' warning (an error here)."""
    gen = np.random.default_rng(2)
    x = gen.normal(size=(3000, 3))
    w = np.where(gen.random(3000) < 0.7, 1.0, -1.0)
    path = _write(tmp_path / "nlo.parquet", x, {"weight": w})
    result = reweight(positive=path, weight="weight", model="xgboost", kfold=3, output_dir=str(tmp_path / "r"))
    assert np.all(np.asarray(io.read(result.run_dir / "weights.parquet")["weight"]) > 0)
