"""``neyman hunt`` on a spectrum with a known answer: it finds an injected bump where it is, and none without one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import norm

from neyman import io
from neyman.config import load_config
from neyman.exceptions import DataError, NeymanWarning
from neyman.preprocessing import assign_folds
from neyman.resonance import best_cut
from neyman.runs import load_run
from neyman.table import EVENT_ID, Table
from neyman.testing import resonance_search_dataset
from neyman.workflows.hunt import hunt
from neyman.workflows.predict import predict
from neyman.workflows.steps.hunting import ENSEMBLE, FLOW_EPOCHS

FEATURES = ["a", "b", "c", "noise"]


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hunt")
    paths = {
        "bump": resonance_search_dataset(80_000, 400, seed=1),
        "null": resonance_search_dataset(80_000, 0, seed=2),
        "reference": resonance_search_dataset(80_000, 0, seed=3),
        # background features independent of the mass: the setting CWoLa needs
        "flat": resonance_search_dataset(80_000, 400, seed=4, mass_dependence=0.0),
    }
    out = {}
    for name, table in paths.items():
        out[name] = folder / f"{name}.parquet"
        io.write(table, out[name])
    out["runs"] = folder / "runs"
    return out


@pytest.fixture(scope="session")
def cwola(files: dict[str, Path]) -> object:
    return hunt(
        files["bump"], mass="mjj", features=FEATURES, signal_region="3300,3700", method="cwola", toys=30,
        output_dir=files["runs"], name="cwola", ensemble=1,
    )  # fmt: skip


def test_cwola_finds_the_injected_bump_with_its_size(cwola: object) -> None:
    window = cwola.summary["windows"][0]  # type: ignore[attr-defined]
    plain = window["cuts"][0]
    best = best_cut(window["cuts"])
    assert plain["efficiency"] == 1.0 and plain["z_local"] < 3  # the bump is invisible without the classifier
    # no pseudo-experiment of 30 is as extreme: p < 1/30
    assert best["z_local"] > 5 and best["z_toys"] == pytest.approx(norm.isf(1 / 30))
    signal = window["signal_events_signal_region"]
    assert 0.3 * signal < best["fitted_signal"] < 1.5 * signal
    assert window["max_sic"] > 5
    assert 3300 <= best["bumphunter_lo"] < 3700 or 3300 < best["bumphunter_hi"] <= 3700


def test_the_recorded_fit_range_holds_every_fitted_event_and_no_other(cwola: object, files: dict[str, Path]) -> None:
    """The fit covers whole bins; the range recorded is the one fitted (a partial bin was once dropped unsaid)."""
    window = cwola.summary["windows"][0]  # type: ignore[attr-defined]
    lo, hi = window["fit_range"]
    mass = np.asarray(io.read(files["bump"])["mjj"])
    assert window["cuts"][0]["events"] == int(np.count_nonzero((mass >= lo) & (mass < hi)))
    width = (3700 - 3300) / 8  # the default bins: an eighth of the window, with edges on it
    assert (3300 - lo) / width == pytest.approx(round((3300 - lo) / width))
    assert (hi - 3700) / width == pytest.approx(round((hi - 3700) / width))


def test_every_event_is_scored_by_a_model_that_never_saw_it(cwola: object, files: dict[str, Path]) -> None:
    run_dir = Path(cwola.run_dir)  # type: ignore[attr-defined]
    scores = io.read(run_dir / "scores.parquet")
    classifier = load_run(run_dir / cwola.summary["windows"][0]["models"][0])  # type: ignore[attr-defined]
    preds = io.read(classifier.path / "predictions.parquet")
    ids = np.asarray(preds[EVENT_ID])
    # the training's predictions: each event once, by the model of the fold it was held out of
    assert len(np.unique(ids)) == len(ids)
    np.testing.assert_array_equal(np.asarray(preds["fold"]), assign_folds(ids, classifier.kfold))
    data = io.read(files["bump"])
    table = Table({**{f: np.asarray(data[f])[ids] for f in FEATURES}, EVENT_ID: ids})
    by_fold = classifier.score(table)  # each event by the model of its fold
    hunt_scores = np.asarray(scores["anomaly_score"])[ids]
    np.testing.assert_allclose(hunt_scores, by_fold, rtol=1e-6)
    # and that is not what the models that trained on the event say
    seen = np.mean(
        [
            m.predict(p.transform(table.to_numpy(FEATURES)))
            for m, p in zip(classifier.models, classifier.preprocessors, strict=True)
        ],
        axis=0,
    )
    assert np.max(np.abs(seen - by_fold)) > 1e-3


def test_predict_scores_new_events_with_the_hunts_classifiers(cwola: object, files: dict[str, Path]) -> None:
    from sklearn.metrics import roc_auc_score

    fresh = files["runs"] / "fresh.parquet"
    io.write(resonance_search_dataset(20_000, 2_000, seed=9), fresh)
    predict(cwola.run_dir, fresh, files["runs"] / "fresh-scored.parquet")  # type: ignore[attr-defined]
    scored = io.read(files["runs"] / "fresh-scored.parquet")
    assert roc_auc_score(np.asarray(scored["label"]), np.asarray(scored["anomaly_score"])) > 0.9


@pytest.mark.slow  # 16 windows of 5-fold classifiers: 97 s, the suite's longest test
def test_a_scan_finds_the_bump_in_the_right_window(files: dict[str, Path]) -> None:
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # every window's fits that fail say so
        warnings.simplefilter("always")
        result = hunt(
            files["flat"], mass="mjj", features=FEATURES, scan=400.0, method="cwola", toys=0, bumphunter=False,
            output_dir=files["runs"], name="scan", efficiencies=(1.0, 0.02), ensemble=1,
        )  # fmt: skip
    said = [str(w.message) for w in caught]
    # a window beside the bump has signal in a sideband: its tight cut's sideband fit fails
    assert any(s.startswith("signal region [3200, 3600): the sideband fit fails") for s in said), said
    windows = result.summary["windows"]
    best = max(windows, key=lambda w: w["cuts"][1]["z_local"] or 0.0)
    assert best["signal_region"][0] <= 3500 <= best["signal_region"][1]
    assert best["cuts"][1]["z_local"] > 4
    far = [w for w in windows if w["signal_region"][1] <= 3100 or w["signal_region"][0] >= 3900]
    assert far and all((w["cuts"][1]["z_local"] or 0.0) < 3 for w in far)
    assert set(io.read(result.run_dir / "scores.parquet").column_names) >= {"anomaly_score_3400_3800", "mjj"}


@pytest.mark.parametrize("method", ["cwola", "idealized"])
def test_no_bump_is_found_without_one(files: dict[str, Path], method: str) -> None:
    result = hunt(
        files["null"], mass="mjj", features=FEATURES, signal_region="3300,3700", method=method,
        reference=files["reference"] if method == "idealized" else None, toys=0, bumphunter=False,
        output_dir=files["runs"], name=f"null-{method}",
        ensemble=1,
    )  # fmt: skip
    cuts = result.summary["windows"][0]["cuts"]
    assert all(c["z_local"] is not None and c["z_local"] < 3 for c in cuts)


def test_idealized_is_not_sculpted_and_predict_applies_the_ensemble(files: dict[str, Path]) -> None:
    result = hunt(
        files["null"], mass="mjj", features=FEATURES, signal_region="3300,3700", method="idealized",
        reference=files["reference"], toys=0, bumphunter=False, output_dir=files["runs"], name="idealized",
        fit_range="2900,4100", ensemble=2,
    )  # fmt: skip
    cuts = result.summary["windows"][0]["cuts"]
    assert all(c["fit_converged"] for c in cuts)
    for cut in cuts:
        assert cut["sideband_chi2"] / cut["sideband_ndf"] < 2.0, cut
    scored = predict(result.run_dir, files["null"], files["runs"] / "scored.parquet")
    assert scored.score_columns == ["anomaly_score"]
    new = np.asarray(io.read(files["runs"] / "scored.parquet")["anomaly_score"])
    old = io.read(result.run_dir / "scores.parquet")
    # new events get the average of the fold models, narrower than one fold model's score
    assert len(new) == len(old) and np.all(np.isfinite(new))
    assert np.std(new) < np.std(np.asarray(old["anomaly_score"]))
    assert (result.run_dir / "hunt.html").is_file()
    # an ensemble of classifiers per window (ENSEMBLE by default), each a k-fold run of its own
    import inspect

    assert inspect.signature(hunt).parameters["ensemble"].default == ENSEMBLE
    assert result.summary["ensemble"] == 2
    window = result.run_dir / "windows" / "3300-3700"
    assert sorted(p.name for p in window.glob("classifier-*") if p.is_dir()) == ["classifier-0", "classifier-1"]


def test_the_cli_states_the_default_ensemble() -> None:
    from typer.testing import CliRunner

    from neyman.cli.main import _register, app

    _register()
    result = CliRunner().invoke(app, ["hunt", "--help"], terminal_width=200)
    assert result.exit_code == 0 and f"[default: {ENSEMBLE}]" in " ".join(result.output.split())
    assert f"train {FLOW_EPOCHS} passes" in " ".join(result.output.split())


def test_supervised_reference_beats_weak_supervision(files: dict[str, Path], cwola: object) -> None:
    result = hunt(
        files["bump"], mass="mjj", features=FEATURES, signal_region="3300,3700", method="supervised",
        toys=0, bumphunter=False, output_dir=files["runs"], name="supervised", ensemble=1,
    )  # fmt: skip
    assert result.summary["windows"][0]["max_sic"] >= cwola.summary["windows"][0]["max_sic"] - 2  # type: ignore[attr-defined]
    # the few signal events keep their natural weight (balanced, each would weigh as ~100 background events)
    config = yaml.safe_load((result.run_dir / "windows/3300-3700/classifier-0/config.yaml").read_text())
    assert config["task"]["balance_classes"] is False
    weak = cwola.run_dir / "windows/3300-3700/classifier-0/config.yaml"  # type: ignore[attr-defined]
    assert yaml.safe_load(weak.read_text())["task"]["balance_classes"] is True


def test_cathode_samples_the_sideband_flow_into_the_signal_region(files: dict[str, Path]) -> None:
    # 300 steps of 2048 events (at the planned batch of n/200 the 10-epoch floor made them 2000)
    flow = ["training.steps=300", "training.batch_size=2048", "model.hidden=[32,32]", "model.transforms=2"]
    flow.append("training.progress=false")
    result = hunt(
        files["bump"], mass="mjj", features=FEATURES[:3], signal_region="3300,3700", method="cathode", toys=0,
        bumphunter=False, output_dir=files["runs"], name="cathode", flow_overrides=flow, oversample=2, kfold=3,
        ensemble=2,
    )  # fmt: skip
    window = result.summary["windows"][0]
    assert window["max_sic"] > 5
    window_dir = result.run_dir / "windows/3300-3700"
    samples = io.read(window_dir / "classifier-0-reference.parquet")
    sr = io.read(files["bump"])
    n_sr = int(np.count_nonzero((np.asarray(sr["mjj"]) >= 3300) & (np.asarray(sr["mjj"]) < 3700)))
    assert len(samples) == pytest.approx(2 * n_sr, rel=0.01)
    sidebands = ((np.asarray(sr["mjj"]) >= 2900) & (np.asarray(sr["mjj"]) < 3300)) | (
        (np.asarray(sr["mjj"]) >= 3700) & (np.asarray(sr["mjj"]) < 4100)
    )
    for f in FEATURES[:3]:  # no sample outside the range of the sideband data (half 0's flow: of half 0's)
        assert (
            np.asarray(sr[f])[sidebands].min()
            <= np.min(samples[f])
            <= np.max(samples[f])
            <= np.asarray(sr[f])[sidebands].max()
        )
    # the background model in the signal region: the samples' mean of a follows its mass dependence there
    assert np.mean(samples["a"]) == pytest.approx(0.0, abs=0.1)
    # the user's step budget replaces the search's default number of passes
    cfg = load_config(window_dir / "sideband-flow-0/config.yaml")
    assert cfg.training.steps == 300 and cfg.training.epochs is None
    # cross-fitted: each half's flow learned that half's sideband events only, and the classifiers
    # trained on its samples score the other half -- no event is scored through a flow fitted on it
    rows = np.arange(len(sr["mjj"]))
    half = (rows // 3) % 2  # independent of the classifiers' folds, rows mod 3
    scores = np.asarray(io.read(result.run_dir / "scores.parquet")["anomaly_score"])
    for h in (0, 1):
        learned = np.asarray(io.read(window_dir / f"sideband-flow-{h}-events.parquet")[EVENT_ID])
        np.testing.assert_array_equal(np.sort(learned), np.flatnonzero(sidebands & (half == h)))
        other = np.flatnonzero(half != h)
        table = Table({**{f: np.asarray(sr[f])[other] for f in FEATURES[:3]}, EVENT_ID: other})
        raw = np.mean([load_run(window_dir / f"classifier-{h}-{i}").score(table) for i in range(2)], axis=0)
        # given as the quantile among the half's signal-region scores: a cut keeps its share in both halves
        in_sr = (np.asarray(sr["mjj"])[other] >= 3300) & (np.asarray(sr["mjj"])[other] < 3700)
        quantile = np.searchsorted(np.sort(raw[in_sr]), raw, side="right") / np.count_nonzero(in_sr)
        np.testing.assert_allclose(scores[other], quantile, rtol=1e-6)
        assert np.mean(scores[other][in_sr] > 0.9) == pytest.approx(0.1, abs=0.01)
    assert window["models"] == [f"windows/3300-3700/classifier-{h}-{i}" for h in (0, 1) for i in range(2)]
    # the halves are independent draws: their flows and classifiers have seeds of their own
    seeds = [load_config(window_dir / f"{run}/config.yaml").seed for run in ("sideband-flow-0", "sideband-flow-1")]
    seeds += [load_config(window_dir / f"classifier-{h}-0/config.yaml").seed for h in (0, 1)]
    assert len(set(seeds)) == 4


def test_the_sideband_flow_trains_for_the_searchs_passes_by_default(tmp_path: Path) -> None:
    small = tmp_path / "small.parquet"
    io.write(resonance_search_dataset(6000, 0, seed=5), small)
    flow = ["model.hidden=[8]", "model.transforms=1", "training.progress=false"]
    with pytest.warns(
        NeymanWarning, match=r"the sidebands of \[3300, 3700\) hold \d+ events, from which --method cathode"
    ):
        result = hunt(
            small, mass="mjj", features=FEATURES[:2], signal_region="3300,3700", method="cathode", toys=0,
            bumphunter=False, output_dir=tmp_path / "runs", name="passes", flow_overrides=flow, oversample=1, kfold=2,
            ensemble=1,
        )  # fmt: skip
    run_dir = result.run_dir / "windows/3300-3700/sideband-flow-1"
    assert load_config(run_dir / "config.yaml").training.epochs == FLOW_EPOCHS
    epochs = np.asarray(io.read(run_dir / "history.csv")["epoch"])
    assert 1 <= epochs.max() <= FLOW_EPOCHS


@pytest.mark.slow
def test_anode_scores_the_density_ratio_of_two_flows(files: dict[str, Path]) -> None:
    flow = ["training.steps=300", "model.hidden=[32,32]", "model.transforms=2", "training.progress=false"]
    result = hunt(
        files["bump"], mass="mjj", features=FEATURES[:3], signal_region="3300,3700", method="anode", toys=0,
        bumphunter=False, output_dir=files["runs"], name="anode", flow_overrides=flow, kfold=2,
    )  # fmt: skip
    window = result.summary["windows"][0]
    assert window["models"] == ["windows/3300-3700/signal-flow", "windows/3300-3700/sideband-flow"]
    assert window["max_sic"] > 2  # the signal's cluster is far denser in the signal region than interpolated
    scored = predict(result.run_dir, files["bump"], files["runs"] / "anode-scored.parquet")
    assert scored.score_columns == ["anomaly_score"]
    # outside the signal region both flows are asked at its nearest mass: the background just below it
    # passes the 10 % cut about as often as the signal region's (the signal-region flow asked at sideband
    # masses it never saw passed 13.5 % there against 6.5 %, and the sideband fit's chi2/ndf was 5.9)
    table = io.read(result.run_dir / "scores.parquet")
    mass, score, label = (np.asarray(table[c]) for c in ("mjj", "anomaly_score", "label"))
    cut = next(c for c in window["cuts"] if c["efficiency"] == 0.1)
    passed = score >= cut["threshold"]
    inside, below = (mass >= 3300) & (mass < 3700) & (label == 0), (mass >= 2900) & (mass < 3300) & (label == 0)
    assert abs(np.mean(passed[below]) - np.mean(passed[inside])) < 0.03
    assert cut["sideband_chi2"] / cut["sideband_ndf"] < 2
    # predict scores new events by the same rule: outside the region, as at its nearest edge
    from neyman.runs.hunting import load_hunt

    events = io.read(files["bump"]).head(2000)
    edge = np.clip(np.asarray(events["mjj"]), 3300.0, np.nextafter(3700.0, 0.0))
    scorer = load_hunt(result.run_dir)
    np.testing.assert_allclose(scorer.score(events), scorer.score(events.with_column("mjj", edge)), rtol=1e-6)


def test_every_cut_keeps_its_share_of_the_signal_region_despite_tied_scores(cwola: object) -> None:
    """Boosted trees give many events the same score; the cut still keeps the share it is labelled with."""
    window = cwola.summary["windows"][0]  # type: ignore[attr-defined]
    n_sr = window["events_signal_region"]
    for cut in window["cuts"]:
        assert abs(cut["kept_in_signal_region"] - cut["efficiency"]) <= 1 / n_sr + 1e-12


def _quick_hunt(files: dict[str, Path], out: Path, **kw: object) -> object:
    return hunt(
        files["null"], mass="mjj", features=FEATURES, signal_region="3300,3700", method="cwola", toys=0,
        bumphunter=False, kfold=2, ensemble=1, output_dir=out, name="again",
        overrides=["model.n_estimators=10"], **kw,
    )  # fmt: skip


def test_a_forced_rerun_records_its_own_paths_and_a_failed_one_keeps_the_earlier_hunt(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neyman.workflows.hunt as hunt_module

    first = _quick_hunt(files, tmp_path)
    second = _quick_hunt(files, tmp_path, force=True)
    run = Path(second.run_dir)  # type: ignore[attr-defined]
    assert run == Path(first.run_dir) and sorted(p.name for p in tmp_path.iterdir()) == ["again"]  # type: ignore[attr-defined]
    for text in run.rglob("*"):
        if text.suffix in (".json", ".yaml", ".html"):
            assert ".again.new-" not in text.read_text() and ".again.old-" not in text.read_text(), text
    assert "<title>neyman hunt again" in (run / "hunt.html").read_text()
    classifier = run / second.summary["windows"][0]["models"][0]  # type: ignore[attr-defined]
    for source in load_config(classifier / "config.yaml").data.sources:
        assert Path(source.path).is_file()
    before = (run / "hunt.json").read_text()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("stopped mid-search")

    monkeypatch.setattr(hunt_module, "_search", broken)
    with pytest.raises(RuntimeError, match="stopped mid-search"):
        _quick_hunt(files, tmp_path, force=True)
    assert (run / "hunt.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def test_a_mass_in_tev_against_sqrt_s_in_gev_is_warned_about(files: dict[str, Path], tmp_path: Path) -> None:
    table = io.read(files["null"])
    tev = tmp_path / "tev.parquet"
    io.write(Table({**{c: np.asarray(table[c]) for c in table.columns}, "mjj": np.asarray(table["mjj"]) / 1000}), tev)
    with pytest.warns(UserWarning, match=r"give --sqrt-s in the units of 'mjj' \(e\.g\. 13\)"):
        hunt(
            tev, mass="mjj", features=FEATURES, signal_region="3.3,3.7", method="cwola", toys=0, bumphunter=False,
            kfold=2, ensemble=1, output_dir=tmp_path, name="tev", overrides=["model.n_estimators=10"],
        )  # fmt: skip


@pytest.mark.slow  # 20 s of the default run (2 workers: 589 s, near the 10-minute limit); --run-slow
def test_the_classifiers_use_the_searchs_coarse_bins_unless_told_otherwise(
    files: dict[str, Path], tmp_path: Path
) -> None:
    from neyman.workflows.steps.hunting import MAX_BIN

    for overrides, expected in (
        (["model.n_estimators=10"], MAX_BIN),
        (["model.n_estimators=10", "model.max_bin=64"], 64),
    ):
        result = hunt(
            files["null"], mass="mjj", features=FEATURES, signal_region="3300,3700", method="cwola", toys=0,
            bumphunter=False, kfold=2, ensemble=1, output_dir=tmp_path, name=f"bins-{expected}", overrides=overrides,
        )  # fmt: skip
        classifier = Path(result.run_dir) / result.summary["windows"][0]["models"][0]
        assert load_config(classifier / "config.yaml").model.max_bin == expected
        assert f"[max_bin: {expected}]" in next(classifier.rglob("booster.txt")).read_text()


def test_a_weighted_reference_is_warned_about(tmp_path: Path) -> None:
    """The hunt counts every --reference event once: a weight column there would be silently ignored."""
    data, reference = resonance_search_dataset(12_000, 0, seed=7), resonance_search_dataset(12_000, 0, seed=8)
    io.write(data, tmp_path / "data.parquet")
    weights = np.random.default_rng(0).exponential(size=len(reference))
    io.write(reference.with_column("mc_weight", weights), tmp_path / "reference.parquet")
    with pytest.warns(UserWarning, match=r"--reference .*reference\.parquet has a weight column \('mc_weight'\)"):
        hunt(
            tmp_path / "data.parquet", mass="mjj", features=FEATURES[:3], signal_region="3300,3700",
            method="idealized", reference=tmp_path / "reference.parquet", toys=0, bumphunter=False, kfold=2,
            ensemble=1, output_dir=tmp_path / "runs", name="weighted",
        )  # fmt: skip


def test_a_weighted_data_file_is_warned_about(tmp_path: Path) -> None:
    """Every data event counts once too: a weighted simulated sample is not the spectrum it stands for."""
    data = resonance_search_dataset(12_000, 0, seed=7)
    weights = np.random.default_rng(0).exponential(size=len(data))
    io.write(data.with_column("event_weight", weights), tmp_path / "data.parquet")
    with pytest.warns(UserWarning, match=r"data .*data\.parquet has a weight column \('event_weight'\)"):
        hunt(
            tmp_path / "data.parquet", mass="mjj", features=FEATURES[:3], signal_region="3300,3700",
            method="cwola", toys=0, bumphunter=False, kfold=2, ensemble=1, output_dir=tmp_path / "runs", name="w",
        )  # fmt: skip


def test_a_feature_that_follows_the_mass_is_warned_about_and_its_sculpted_bump_flagged(tmp_path: Path) -> None:
    """Background alone with a feature of rank correlation 0.84 with the mass: CWoLa reported Z = 14 at the
    10% cut without a word (the sideband fit's χ² of 236/26 was only in hunt.json); the mass under another
    name was accepted."""
    data = resonance_search_dataset(20_000, 0, seed=7)
    mass = np.asarray(data["mjj"])
    follows = mass / 1000 + np.random.default_rng(1).normal(0.0, 0.2, len(mass))
    io.write(data.with_column("mc", follows).with_column("m2", mass / 1000), tmp_path / "data.parquet")
    common = {"mass": "mjj", "signal_region": "3300,3700", "method": "cwola", "toys": 0, "bumphunter": False}
    with pytest.raises(DataError, match=r"feature 'm2' is the mass 'mjj' in another form \(rank correlation 1\.0000"):
        hunt(tmp_path / "data.parquet", features=["a", "m2"], output_dir=tmp_path / "runs", name="copy", **common)
    with (
        pytest.warns(UserWarning, match=r"feature 'mc' follows the mass 'mjj' \(rank correlation 0\.8\d"),
        pytest.warns(UserWarning, match=r"the sideband fit fails after the cuts keeping .*0\.1 \(χ²"),
    ):
        hunt(
            tmp_path / "data.parquet", features=["a", "b", "mc"], ensemble=1, output_dir=tmp_path / "runs",
            name="sculpted", **common,
        )  # fmt: skip


def test_a_cut_whose_fit_did_not_converge_is_named_and_left_out() -> None:
    """The report showed Z = 6.94 from a fit that had not converged, as if it were a significance."""
    from neyman.workflows.steps.hunting import warn_failed_fits

    cut = {"efficiency": 0.1, "z_local": 6.94, "fit_converged": False, "sideband_chi2": 12.0, "sideband_ndf": 10}
    good = {"efficiency": 1.0, "z_local": 0.79, "fit_converged": True, "sideband_chi2": 11.0, "sideband_ndf": 10}
    record = {"signal_region": [6000.0, 6500.0], "cuts": [good, cut]}
    with pytest.warns(UserWarning, match=r"\[6000, 6500\): the fits of the cuts keeping 0\.1 of the region did not"):
        warn_failed_fits(record)
    assert best_cut(record["cuts"]) is good
    warn_failed_fits({"signal_region": [6000.0, 6500.0], "cuts": [good]})  # no warning (warnings are errors here)


def test_tied_features_of_a_file_sorted_by_mass_are_not_taken_for_the_mass(tmp_path: Path) -> None:
    """Ranks that broke ties by file order made a constant column of a mass-sorted file the mass itself (ρ = 1)."""
    data = resonance_search_dataset(12_000, 0, seed=5)
    order = np.argsort(np.asarray(data["mjj"]))
    flag = (np.arange(len(order)) % 3 == 0).astype(np.float64)
    data = data.take(order).with_column("flag", flag).with_column("const", np.ones(len(order)))
    io.write(data, tmp_path / "sorted.parquet")
    result = hunt(
        tmp_path / "sorted.parquet", mass="mjj", features=["a", "flag", "const"], signal_region="3300,3700",
        method="cwola", toys=0, bumphunter=False, kfold=2, ensemble=1, output_dir=tmp_path, name="sorted",
        overrides=["model.n_estimators=10"],
    )  # fmt: skip
    assert result.summary["windows"][0]["cuts"]
