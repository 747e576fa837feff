"""Constituent-based taggers end to end: a generated file → train → evaluate → ONNX → predict."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")
pytest.importorskip("torch")

from neyman import io
from neyman.exceptions import ConfigError, DataError, NeymanWarning
from neyman.export.runtime import OnnxModel
from neyman.models import model_class
from neyman.table import Table
from neyman.workflows.evaluate import evaluate
from neyman.workflows.export import export
from neyman.workflows.generate import generate
from neyman.workflows.predict import predict
from neyman.workflows.sample import sample
from neyman.workflows.train import train

FAMILIES = ["cnn", "pfn", "efn", "particlenet", "transformer"]


@pytest.fixture(scope="session")
def jets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("jets") / "top.parquet"
    generate("top_vs_qcd", 300, out, seed=11, progress=False, overrides=["process.chunk_events=200"])
    return out


def _config(jets: Path, out: Path, family: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": family,
        "output_dir": str(out),
        "data": {
            "sources": [{"path": str(jets)}],
            "label_column": "label",
            "event_id": "event_id",
            "particles": {"n_constituents": 30},
            "image": {"size": 16},
        },
        "model": {"type": family},
        "training": {"epochs": 1, "batch_size": 64, "progress": False},
        **extra,
    }


@pytest.fixture(scope="session")
def runs(jets: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("runs")
    return {family: train(_config(jets, out, family)).run_dir for family in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_each_tagger_trains_one_epoch_from_a_generated_file(runs: dict[str, Path], family: str) -> None:
    run = runs[family]
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["auc"] <= 1.0 and np.isfinite(metrics["test"]["loss"])
    meta = json.loads((run / "model" / "metadata.json").read_text())
    assert meta["representation"]["type"] == ("image" if family == "cnn" else "particles")
    prep = json.loads((run / "preprocessing.json").read_text())["folds"][0]
    assert prep["kind"] == ("image" if family == "cnn" else "particles")
    assert (run / "checkpoints" / "last.safetensors").is_file()


@pytest.mark.parametrize("family", FAMILIES)
def test_onnx_export_is_verified_and_predicts_like_the_run(
    runs: dict[str, Path], jets: Path, tmp_path: Path, family: str
) -> None:
    result = export(runs[family])
    # the default check for constituent models (float32 sums over pairs and neighbours)
    assert result.max_relative_difference < 1e-4
    by_run = predict(runs[family], jets, tmp_path / "run.parquet")
    by_onnx = predict(result.path, jets, tmp_path / "onnx.parquet")
    a, b = io.read(by_run.output), io.read(by_onnx.output)
    np.testing.assert_allclose(np.asarray(b["score"]), np.asarray(a["score"]), rtol=1e-4, atol=1e-6)
    # ONNX Runtime scores in chunks no larger than the family's own bound
    assert OnnxModel(result.path).metadata["inference_batch_size"] == model_class(family).inference_batch_size


def test_predict_names_jets_without_constituents(runs: dict[str, Path], jets: Path, tmp_path: Path) -> None:
    """An empty jet gets the model's score of an empty set, the same for all: said, not hidden."""
    import awkward as ak

    table = io.read(jets)
    emptied = {
        name: ak.concatenate([ak.Array(table[name])[:3][:, :0], ak.Array(table[name])[3:]])
        for name in table.column_names
        if name.startswith("constituent_")
    }
    path = io.write(table.with_columns(**emptied), tmp_path / "empty.parquet")
    with pytest.warns(NeymanWarning, match=r"3 of the 300 jets of .*empty\.parquet have no constituents"):
        scored = predict(runs["pfn"], path, tmp_path / "scores.parquet")
    scores = np.asarray(io.read(scored.output)["score"])
    assert scores[0] == scores[1] == scores[2]


def test_pfn_learns_top_tagging(jets: Path, tmp_path: Path) -> None:
    cfg = _config(jets, tmp_path, "pfn")
    cfg["training"] = {"epochs": 15, "batch_size": 32, "progress": False, "optimizer": {"lr": 3e-3}}
    metrics = train(cfg).metrics
    assert metrics["test"]["auc"] > 0.8  # ~0.9 with 180 training jets; top jets have three prongs


def test_the_public_data_sets_layouts_train_as_the_generated_file(jets: Path, tmp_path: Path) -> None:
    """The top-tagging data set's .h5 (four-momenta, no ids) and the EFN .npz (pt, y, phi, pid) train particle sets."""
    from neyman.generation.writer import write_sample
    from neyman.representations import KINEMATIC_PARTICLE_FEATURES

    table = io.read(jets)
    h5, npz = (
        write_sample(table, tmp_path / "top.h5", max_constituents=200),
        write_sample(table, tmp_path / "top.npz", max_constituents=200),
    )
    kinematic = _config(jets, tmp_path / "runs", "pfn")
    kinematic["data"]["particles"]["features"] = list(KINEMATIC_PARTICLE_FEATURES)
    parquet = train({**kinematic, "name": "parquet"})
    landscape = _config(h5, tmp_path / "runs", "pfn")
    landscape["data"]["label_column"] = "is_signal_new"
    with pytest.warns(NeymanWarning, match=r"top\.h5 holds no particle ids .* the kinematic ones \(deta, dphi"):
        from_h5 = train({**landscape, "name": "h5"})
    meta = json.loads((from_h5.run_dir / "model" / "metadata.json").read_text())
    assert meta["representation"]["features"] == list(KINEMATIC_PARTICLE_FEATURES)
    # the same four-momenta (float32 in both files), the same seed: the same model
    assert int(np.max(table["n_constituents"])) <= 200  # no jet cut short by the layout's 200 blocks
    scores = [np.asarray(io.read(r.run_dir / "predictions.parquet")["score"]) for r in (parquet, from_h5)]
    np.testing.assert_allclose(scores[1], scores[0], rtol=1e-5, atol=1e-6)
    # the EFN layout holds the ids: the default features, charge and particle type included
    efn = train({**_config(npz, tmp_path / "runs", "pfn"), "name": "npz"})
    meta = json.loads((efn.run_dir / "model" / "metadata.json").read_text())
    assert (
        "charge" in meta["representation"]["features"]
        and efn.metrics["test"]["n_events"] == parquet.metrics["test"]["n_events"]
    )
    # predict streams the .h5 chunk by chunk, computing the constituents of each chunk; rows in file order
    scored = io.read(predict(from_h5.run_dir, h5, tmp_path / "scored.parquet", step_size=70).output)
    plain = io.read(predict(parquet.run_dir, jets, tmp_path / "plain.parquet").output)
    np.testing.assert_allclose(scored["score"], plain["score"], rtol=1e-5, atol=1e-6)
    assert scored.column_names == [*io.read(h5, entry_stop=0).column_names, "score"]  # the file's own layout, flat
    # constituents in MeV: the jets' pT lies 1000 times above the training's, and predict says so
    table = io.read(npz)
    x = np.load(npz)["X"]
    x[..., 0] *= 1000.0
    np.savez(tmp_path / "mev.npz", X=x, y=np.asarray(table["label"]))
    with pytest.warns(NeymanWarning, match=r"mev\.npz: .*'jet pT \(sum of its kept constituents\)': 100% outside"):
        predict(efn.run_dir, tmp_path / "mev.npz", tmp_path / "mev.parquet")


@pytest.mark.parametrize("family", ["conv_autoencoder", "set_autoencoder"])
def test_autoencoders_on_images_and_particle_sets_train_export_and_score(
    jets: Path, tmp_path: Path, family: str
) -> None:
    cfg = _config(jets, tmp_path, family, task={"type": "autoencoder"})
    result = train(cfg)
    assert "auc" in result.metrics["test"] and np.isfinite(result.metrics["test"]["loss"])
    exported = export(result.run_dir)
    assert exported.max_relative_difference < 1e-4
    by_run = predict(result.run_dir, jets, tmp_path / "run.parquet")
    by_onnx = predict(exported.path, jets, tmp_path / "onnx.parquet")
    a, b = io.read(by_run.output), io.read(by_onnx.output)
    assert by_run.score_columns == ["anomaly_score"]
    assert np.all(np.asarray(a["anomaly_score"]) > 0)  # squared reconstruction errors of non-empty jets
    evaluate(result.run_dir, formats=("png",), n_bootstrap=5)
    figures = {"latent_space"} | ({"reconstructions"} if family == "conv_autoencoder" else set())
    assert figures <= {f.stem for f in (result.run_dir / "plots").glob("*.png")}
    meta = json.loads((result.run_dir / "model" / "metadata.json").read_text())
    assert meta["representation"]["type"] == ("image" if family == "conv_autoencoder" else "particles")
    np.testing.assert_allclose(np.asarray(b["anomaly_score"]), np.asarray(a["anomaly_score"]), rtol=1e-4, atol=1e-7)


def test_image_generator_draws_at_given_totals_and_is_judged_against_real_images(jets: Path, tmp_path: Path) -> None:
    cfg = _config(jets, tmp_path, "image_generator", task={"type": "generator"})
    cfg["model"] = {"type": "image_generator", "width": 64, "blocks": 2}
    run = train(cfg).run_dir
    meta = json.loads((run / "model" / "metadata.json").read_text())
    assert meta["representation"]["normalise"] is False  # the generator keeps the images' totals
    low, _, high = meta["feature_ranges"]["pt"]  # of the training images' totals, 550-650 GeV jets
    assert 450.0 < low < 600.0 < high < 700.0
    with pytest.warns(NeymanWarning, match=r"conditions outside the range .*'pt': .*outside \["):
        sample(run, tmp_path / "far.parquet", events=5, condition={"pt": 800.0}, seed=4)  # extrapolated: named
    a = sample(run, tmp_path / "a.parquet", events=40, condition={"pt": 600.0}, seed=4)
    b = sample(run, tmp_path / "b.parquet", events=40, condition={"pt": 600.0}, seed=4)
    c = sample(run, tmp_path / "c.parquet", events=40, condition={"pt": 600.0}, seed=5)
    pixels = [c for c in a.columns if c.startswith("pixel_")]
    assert len(pixels) == 16 * 16 and pixels[0] == "pixel_00_00" and a.columns[-1] == "pt"
    drawn = io.read(a.output).to_numpy(pixels, dtype=np.float64)
    np.testing.assert_allclose(drawn.sum(axis=1), 600.0, rtol=1e-5)
    assert np.array_equal(drawn, io.read(b.output).to_numpy(pixels, dtype=np.float64))
    assert not np.array_equal(drawn, io.read(c.output).to_numpy(pixels, dtype=np.float64))
    assert (drawn > 0).sum(axis=1).min() >= 1 and (drawn > 0).sum(axis=1).max() < len(pixels)  # sparse images
    per_jet = sample(run, tmp_path / "jets.parquet", condition=str(jets), seed=1)  # one image per jet, at its pT
    table = io.read(per_jet.output)
    np.testing.assert_allclose(
        table.to_numpy(pixels, dtype=np.float64).sum(axis=1), np.asarray(io.read(jets)["pt"]), rtol=1e-5
    )
    evaluate(run, formats=("png",), n_bootstrap=5)
    generated = json.loads((run / "metrics.json").read_text())["evaluation"]["generated"]
    assert set(generated["wasserstein"]) == {"mass", "width", "lit_pixels", "leading_fraction", "second_fraction"}
    scored = io.read(run / "predictions.parquet")
    background_tests = int(np.sum((np.asarray(scored["split"]) == 2) & (np.asarray(scored["label"]) == 0)))
    assert generated["n_events"] == background_tests  # every real test QCD image, each against one drawn at its pT
    assert np.isfinite([generated["two_sample_auc"], generated["observables_auc"], generated["frechet_distance"]]).all()
    assert {"generated_mean_image", "generated_mass"} <= {f.stem for f in (run / "plots").glob("*.png")}
    assert "Generated events" in (run / "report.html").read_text()
    exported = export(run)
    assert exported.max_relative_difference < 1e-4  # the anomaly score (-ln p) exports
    jets_table = io.read(jets)
    tops = tmp_path / "tops.parquet"
    io.write(jets_table.take(np.flatnonzero(np.asarray(jets_table["label"]) == 1)), tops)
    on_tops = evaluate(run, test_data=[str(tops)], formats=("png",), n_bootstrap=5)  # no real QCD image to compare
    assert on_tops.metrics["n_events"] == len(np.flatnonzero(np.asarray(jets_table["label"]) == 1))
    assert "generated" not in on_tops.metrics


def test_model_and_representation_must_agree(jets: Path, tmp_path: Path) -> None:
    cfg = _config(jets, tmp_path, "pfn")
    cfg["data"]["representation"] = "image"
    with pytest.raises(ConfigError, match="reads particles"):
        train(cfg)
    cfg = _config(jets, tmp_path, "mlp")
    cfg["data"]["representation"] = "particles"
    with pytest.raises(ConfigError, match="needs a model that reads it"):
        train(cfg)


def test_particle_sets_stream_from_files_chunk_by_chunk(jets: Path, tmp_path: Path) -> None:
    table = io.read(jets)
    copies = [
        table.with_column("event_id", np.asarray(table["event_id"]) + k * 10**9) for k in range(4)
    ]  # 1200 jets: two chunks of at most 1000
    big = tmp_path / "big.parquet"
    io.write(Table.concat(copies), big)
    cfg = _config(big, tmp_path, "pfn")
    cfg["data"].update(streaming=True, step_size=1000)
    cfg["training"]["epochs"] = 2
    result = train(cfg)
    assert result.metrics["streaming"]["chunks"] == 2
    preds = io.read(result.run_dir / "predictions.parquet")
    assert len(preds) == 1200 and np.isfinite(np.asarray(preds["score"])).all()
    assert export(result.run_dir).max_relative_difference < 1e-5


def test_three_class_tagger_with_kfold_and_discriminant(jets: Path, tmp_path: Path) -> None:
    """Top / gluon-initiated QCD / quark-initiated QCD on particle sets, two folds, a top discriminant."""
    table = io.read(jets)
    parton = np.abs(np.asarray(table["parton_id"]))
    classes = np.where(np.asarray(table["label"]) == 1, 2, np.where(parton == 21, 1, 0))
    assert set(np.unique(classes)) == {0, 1, 2}
    io.write(Table({**{c: table[c] for c in table.column_names}, "flavour": classes}), tmp_path / "three.parquet")
    cfg = _config(
        tmp_path / "three.parquet",
        tmp_path,
        "pfn",
        task={"type": "multiclass", "discriminant": {"signal": "top", "backgrounds": {"gluon": 0.5, "quark": 0.5}}},
        split={"kfold": 2},
    )
    cfg["data"] = {**cfg["data"], "label_column": "flavour", "classes": ["quark", "gluon", "top"]}
    result = train(cfg)
    assert len(result.metrics["folds"]) == 2
    assert set(result.metrics["discriminant"]) == {"auc_top_vs_gluon", "auc_top_vs_quark"}
    preds = io.read(result.run_dir / "predictions.parquet")
    probabilities = np.stack([np.asarray(preds[f"score_{c}"]) for c in ("quark", "gluon", "top")], axis=1)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert np.isfinite(np.asarray(preds["discriminant"])).all()


def test_a_transformer_without_particle_attention_layers_exports_and_scores(jets: Path, tmp_path: Path) -> None:
    """``num_layers=0``: the exporter drops the four-vectors no layer reads, and export and scoring fed them."""
    from neyman.runs import load_run

    cfg = _config(jets, tmp_path, "transformer")
    cfg["model"] = {"type": "transformer", "preset": "tiny", "num_layers": 0}
    run = train(cfg).run_dir
    result = export(run)
    assert result.max_relative_difference < 1e-4
    table = io.read(jets, entry_stop=100)
    np.testing.assert_allclose(OnnxModel(result.path).score(table), load_run(run).score(table), rtol=1e-4, atol=1e-6)


def test_constituent_fields_of_unequal_lengths_are_refused(jets: Path, tmp_path: Path) -> None:
    """A jet whose ``constituent_E`` lost a value against its ``constituent_px``: awkward's broadcast traceback."""
    import pandas as pd

    frame = pd.read_parquet(jets)
    frame["constituent_E"] = [v[:-1] if i % 9 == 4 else v for i, v in enumerate(frame["constituent_E"])]
    bad = tmp_path / "cut.parquet"
    frame.to_parquet(bad)
    cfg = _config(bad, tmp_path, "pfn")
    with pytest.raises(
        DataError,
        match=r"constituent_px of .*cut\.parquet holds another number of constituents than "
        r"constituent_E in \d+ jet\(s\) \(the first in row 5: ",
    ):
        train(cfg)
    assert not (tmp_path / "pfn").exists()


def test_jets_without_constituents_are_warned_about_in_training(jets: Path, tmp_path: Path) -> None:
    """Predict warned of them; training gave them all one score, counted in the metrics, without a word."""
    import pandas as pd

    frame = pd.read_parquet(jets)
    for column in [c for c in frame.columns if c.startswith("constituent_")]:
        frame[column] = [v[:0] if i % 10 == 3 else v for i, v in enumerate(frame[column])]
    hollow = tmp_path / "hollow.parquet"
    frame.to_parquet(hollow)
    with pytest.warns(NeymanWarning, match=r"hollow\.parquet: 30 of the 300 jets have no constituents"):
        train(_config(hollow, tmp_path, "pfn"))


def test_gaussian_regression_of_the_jet_mass_from_constituents(jets: Path, tmp_path: Path) -> None:
    """The transformer predicts a mean and a resolution; the run reports pulls like any regression."""
    cfg = _config(jets, tmp_path, "transformer", task={"type": "gaussian"})
    cfg["model"] = {"type": "transformer", "preset": "tiny"}
    cfg["data"] = {k: v for k, v in cfg["data"].items() if k != "label_column"} | {"target": "mass"}
    cfg["training"] = {**cfg["training"], "epochs": 2}
    result = train(cfg)
    assert {"bias", "resolution", "pull_width", "coverage_68"} <= set(result.metrics["test"])
    preds = io.read(result.run_dir / "predictions.parquet")
    assert (np.asarray(preds["sigma"]) > 0).all() and np.isfinite(np.asarray(preds["prediction"])).all()


def test_an_interrupted_particlenet_run_resumes_to_the_same_scores(
    jets: Path, tmp_path: Path, interrupt_training: Callable[[int], Callable[[], None]]
) -> None:
    base = _config(jets, tmp_path, "particlenet")
    base["model"] = {"type": "particlenet", "preset": "tiny"}
    base["training"] = {**base["training"], "epochs": 3}
    full = train({**base, "name": "full"})
    disarm = interrupt_training(2)
    with pytest.raises(KeyboardInterrupt):
        train({**base, "name": "cut"})
    disarm()
    resumed = train(resume=tmp_path / "cut")
    a, b = io.read(full.run_dir / "predictions.parquet"), io.read(resumed.run_dir / "predictions.parquet")
    assert np.array_equal(np.asarray(a["score"]), np.asarray(b["score"]))


def test_generated_event_ids_put_every_class_in_every_fold(jets: Path) -> None:
    """Generated ids are ``tag(seed) * 2**44 + label * 2**40 + event``: parity and mod k mix the classes."""
    table = io.read(jets)
    ids, labels = np.asarray(table["event_id"]), np.asarray(table["label"])
    for k in (2, 3, 4, 5, 8):
        for fold in range(k):
            counts = np.bincount(labels[ids % k == fold], minlength=2)
            assert (counts > 0.5 * np.bincount(labels) / k).all(), (k, fold, counts)


def test_a_constituent_tagger_trains_decorrelated_and_reports_its_uncertainty(jets: Path, tmp_path: Path) -> None:
    cfg = _config(jets, tmp_path, "pfn")
    cfg["training"] = {"epochs": 2, "batch_size": 64, "progress": False}
    cfg["training"]["decorrelate"] = {"variable": "mass", "method": "adversary", "strength": 5}
    cfg["model"] = {"type": "pfn", "uncertainty": "ensemble", "ensemble": 2}
    run = train(cfg).run_dir
    assert "mass" in io.read(run / "predictions.parquet").column_names
    from neyman.workflows.evaluate import evaluate

    numbers = evaluate(run, formats=("png",), n_bootstrap=10).metrics
    assert numbers["sculpting"]["variable"] == "mass" and len(numbers["sculpting"]["points"]) == 3
    scored = predict(run, jets, tmp_path / "scored.parquet")
    assert scored.score_columns == ["score", "score_std", "logit_std"]
    assert np.all(np.asarray(io.read(scored.output)["logit_std"]) > 0)
