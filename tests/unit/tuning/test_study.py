"""Studies: storages, samplers, pruners, the objective path and the study fingerprint."""

import socket
import time

import optuna
import pytest

from neyman.exceptions import ConfigError, StorageError
from neyman.tuning import (
    SAMPLERS,
    CategoricalParam,
    FloatParam,
    SearchSpace,
    displayed_url,
    make_pruner,
    make_sampler,
    objective_value,
    open_storage,
    open_study,
    sqlite_url,
    study_exists,
)


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


SPACE = SearchSpace([FloatParam("lr", 1e-4, 1e-1, log=True), CategoricalParam("act", ("relu", "gelu"))])


def test_objective_paths_in_metrics_json():
    metrics = {
        "val": {"auc": 0.9, "rejection_at_eff_0.3": 40.0, "loss": 0.3},
        "test": {"auc": 0.88},
        "overtraining": {"auc_train_minus_test": 0.01},
    }
    assert objective_value(metrics, "val.auc") == 0.9
    assert objective_value(metrics, "val.rejection_at_eff_0.3") == 40.0  # a key holding a dot
    assert objective_value(metrics, "overtraining.auc_train_minus_test") == 0.01
    with pytest.raises(ConfigError) as err:
        objective_value(metrics, "val.acu")
    assert "no number at 'val.acu'" in str(err.value) and "did you mean 'val.auc'" in str(err.value)
    with pytest.raises(ConfigError, match="no number at 'val'"):
        objective_value(metrics, "val")


def test_kfold_objectives_are_the_mean_over_folds():
    metrics = {
        "test": {"auc": 0.80},
        "folds": [{"auc": 0.7}, {"auc": 0.9}],
        "folds_summary": {"auc": {"mean": 0.8125, "std": 0.1}},
    }
    assert objective_value(metrics, "val.auc") == 0.8125
    assert objective_value(metrics, "test.auc") == 0.8125
    assert objective_value(metrics, "folds_summary.auc.std") == 0.1


def test_a_bad_url_is_a_config_error_and_an_unreachable_server_a_storage_error():
    with pytest.raises(ConfigError, match="not a database URL"):
        open_storage("my-study.db")
    port = _closed_port()
    t0 = time.perf_counter()
    with pytest.raises(StorageError) as err:
        open_storage(f"postgresql://tuner:s3cret@127.0.0.1:{port}/optuna")
    msg = str(err.value)
    assert time.perf_counter() - t0 < 30
    assert f"127.0.0.1:{port}" in msg and "s3cret" not in msg and "***" in msg
    assert "accepts connections" in msg and "Traceback" not in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no SQLAlchemy chain shown
    assert displayed_url(f"postgresql://tuner:s3cret@db:{port}/x") == f"postgresql://tuner:***@db:{port}/x"


def test_a_file_that_is_not_a_sqlite_study_is_named_without_server_advice(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    with pytest.raises(StorageError) as err:
        open_storage(sqlite_url(notes))
    msg = str(err.value)
    assert "notes.txt is not a readable SQLite study" in msg and "database server" not in msg
    assert notes.read_text() == "my notes\n"


def test_a_sqlite_database_of_something_else_is_refused_untouched(tmp_path):
    """Optuna added its 13 tables to a user's own database."""
    import sqlite3

    own = tmp_path / "user.db"
    with sqlite3.connect(own) as db:
        db.execute("CREATE TABLE measurements (run INTEGER, value REAL)")
    before = own.read_bytes()
    with pytest.raises(
        StorageError, match=r"user\.db is a SQLite database of something else \(its tables: measurements\)"
    ):
        open_storage(sqlite_url(own))
    assert own.read_bytes() == before
    open_storage(sqlite_url(tmp_path / "study.db"))
    open_storage(sqlite_url(tmp_path / "study.db"))  # a study's own file opens again
    with sqlite3.connect(tmp_path / "half.db") as db:  # another process creating its study: some tables so far
        db.execute("CREATE TABLE studies (study_id INTEGER)")
    open_storage(sqlite_url(tmp_path / "half.db"))


def test_sqlite_storage_is_created_with_its_directory(tmp_path):
    url = sqlite_url(tmp_path / "a" / "b" / "study.db")
    storage = open_storage(url)
    assert (tmp_path / "a" / "b").is_dir() and not study_exists(storage, "s")


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_runs_a_few_trials(name):
    space = SearchSpace([FloatParam("x", -1.0, 1.0, step=0.25), CategoricalParam("act", ("relu", "gelu"))])
    sampler = make_sampler(name, space=space, seed=3, startup_trials=2, population=2)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: space.suggest(t)["x"] ** 2, n_trials=6)
    assert len(study.trials) == 6 and all(t.state.name == "COMPLETE" for t in study.trials)


def test_seeded_samplers_repeat_themselves():
    def values(seed):
        study = optuna.create_study(sampler=make_sampler("tpe", space=SPACE, seed=seed, startup_trials=3))
        study.optimize(lambda t: SPACE.suggest(t)["lr"], n_trials=5)
        return [t.params["lr"] for t in study.trials]

    assert values(7) == values(7) != values(8)


def test_pruners_by_name():
    assert isinstance(make_pruner("none"), optuna.pruners.NopPruner)
    assert isinstance(make_pruner("median", startup_trials=1, warmup_epochs=0), optuna.pruners.MedianPruner)
    assert isinstance(make_pruner("hyperband", max_epochs=9), optuna.pruners.HyperbandPruner)
    with pytest.raises(ConfigError, match="unknown pruner"):
        make_pruner("asha")


def test_an_existing_study_refuses_another_space_or_direction_and_is_left_as_it_was(tmp_path):
    storage = open_storage(sqlite_url(tmp_path / "study.db"))
    fingerprint = {"space": SPACE.describe(), "objective": "val.auc", "config": {"seed": 1}}
    kw = {"sampler": optuna.samplers.RandomSampler(seed=0), "pruner": optuna.pruners.NopPruner()}
    study, created = open_study(storage, "s", direction="maximize", fingerprint=fingerprint, **kw)
    assert created
    study.optimize(lambda t: SPACE.suggest(t)["lr"], n_trials=3)
    before = [(t.number, t.params, t.value) for t in study.trials]

    other = {**fingerprint, "config": {"seed": 2}}
    with pytest.raises(ConfigError, match=r"different configuration \(config.seed: 1 then, 2 now\)"):
        open_study(storage, "s", direction="maximize", fingerprint=other, **kw)
    with pytest.raises(ConfigError, match="maximizes its objective, but the configuration asks to minimize"):
        open_study(storage, "s", direction="minimize", fingerprint=fingerprint, **kw)

    again, created = open_study(storage, "s", direction="maximize", fingerprint=fingerprint, **kw)
    assert not created
    assert [(t.number, t.params, t.value) for t in again.trials] == before


def test_a_study_not_made_by_neyman_is_not_joined(tmp_path, monkeypatch):
    monkeypatch.setattr("neyman.tuning.study.FINGERPRINT_WAIT_SECONDS", 0.3)
    url = sqlite_url(tmp_path / "study.db")
    optuna.create_study(study_name="foreign", storage=url)
    with pytest.raises(ConfigError, match="not created by neyman tune"):
        open_study(
            open_storage(url),
            "foreign",
            direction="minimize",
            fingerprint={},
            sampler=optuna.samplers.RandomSampler(),
            pruner=optuna.pruners.NopPruner(),
        )


def test_a_worker_joining_a_study_being_created_waits_for_its_fingerprint(tmp_path):
    # the creator stores the study, then its fingerprint: a worker started beside it found the study
    # in between and stopped with "not created by neyman tune" (seen in the two-worker PostgreSQL test)
    import threading

    url = sqlite_url(tmp_path / "study.db")
    fingerprint = {"space": SPACE.describe(), "objective": "val.auc"}
    created = optuna.create_study(study_name="s", storage=url, direction="maximize")
    timer = threading.Timer(0.5, created.set_user_attr, args=("neyman.fingerprint", fingerprint))
    timer.start()
    study, made = open_study(
        open_storage(url), "s", direction="maximize", fingerprint=fingerprint,
        sampler=optuna.samplers.RandomSampler(), pruner=optuna.pruners.NopPruner(),
    )  # fmt: skip
    timer.join()
    assert not made and study.user_attrs["neyman.fingerprint"] == fingerprint


def test_a_study_directory_with_trial_runs_of_another_study_is_refused(tmp_path):
    from neyman.tuning import open_study_storage, trial_count

    study_dir = tmp_path / "s"
    url = sqlite_url(study_dir / "study.db")
    storage = open_study_storage(study_dir, url, "s")
    assert trial_count(storage, "s") == 0
    study, _ = open_study(
        storage,
        "s",
        direction="maximize",
        sampler=make_sampler("random", space=SPACE, seed=0),
        pruner=make_pruner("none"),
        fingerprint={},
    )
    study.optimize(lambda t: SPACE.suggest(t)["lr"], n_trials=2)
    assert trial_count(storage, "s") == 2
    for i in range(4):
        (study_dir / f"trial-{i:04d}").mkdir()
    assert study_exists(open_study_storage(study_dir, url, "s"), "s")
    with pytest.raises(ConfigError, match=r"holds trial runs \(trial-0000, trial-0001, trial-0002 \.\.\.\) of a study"):
        open_study_storage(study_dir, sqlite_url(tmp_path / "other.db"), "s")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("seed: 1\n")
    with pytest.raises(ConfigError, match="is a neyman run, not a study"):
        open_study_storage(tmp_path / "run", url, "run")
    # a study inside a run: each trial's run was refused, after the study's database was made in the run
    (tmp_path / "run" / "status.json").write_text('{"state": "complete", "time": "2026-12-07T00:00:00"}')
    inner = tmp_path / "run" / "study"
    with pytest.raises(ConfigError, match=r"study is inside the run directory .*run; give the study an output_dir"):
        open_study_storage(inner, sqlite_url(inner / "study.db"), "study")
    assert not inner.exists()
    # trial runs without the database named: refused before a new study.db is made beside them
    stray = tmp_path / "stray"
    (stray / "trial-0000").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"holds trial runs \(trial-0000\) of a study"):
        open_study_storage(stray, sqlite_url(stray / "study.db"), "stray")
    assert sorted(p.name for p in stray.iterdir()) == ["trial-0000"]
    # a hunt (a run without config.yaml) and the user's own folder are no studies: their files stay as they are
    hunt = tmp_path / "hunt"
    hunt.mkdir()
    (hunt / "status.json").write_text('{"state": "complete", "made_by": "hunt"}')
    with pytest.raises(ConfigError, match="hunt is a neyman run, not a study"):
        open_study_storage(hunt, sqlite_url(hunt / "study.db"), "hunt")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "best.yaml").write_text("mine\n")
    with pytest.raises(ConfigError, match=r"mine holds files \(best\.yaml\) but is not a study of neyman tune"):
        open_study_storage(mine, sqlite_url(mine / "study.db"), "mine")
    assert sorted(p.name for p in mine.iterdir()) == ["best.yaml"]
