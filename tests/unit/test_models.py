"""Every model family: fit, predict, save, load — on data with a known answer."""

import json

import numpy as np
import pytest

from neyman.exceptions import ConfigError, DataError, ModelError
from neyman.models import MODEL_FAMILIES, Arrays, Model, build_model, model_class
from neyman.tasks import make_task
from neyman.testing import TRUE_LOG_LR, likelihood_ratio_dataset
from neyman.training import Trainer

FEATURES = [f"x{i:02d}" for i in range(12)]


def _arrays(table):
    x = table.to_numpy(FEATURES, dtype=np.float64)
    x = np.log(np.abs(x) + 1) * np.sign(x)  # tame the tails so every family trains quickly
    return Arrays(x=x.astype(np.float32), y=np.asarray(table["label"]), w=np.ones(len(table)))


@pytest.fixture(scope="session")
def binary_data():
    table = likelihood_ratio_dataset(6000, seed=3)
    train, test = table.take(np.arange(5000)), table.take(np.arange(5000, 6000))
    return _arrays(train), _arrays(test), np.asarray(test[TRUE_LOG_LR])


PARAMS = {
    "mlp": {"hidden": [32, 32]},
    "xgboost": {"n_estimators": 60, "max_depth": 3},
    "lightgbm": {"n_estimators": 60, "num_leaves": 8},
    "fisher": {},
    "logistic": {},
}


def _model(family, task, n_features, **kwargs):
    trainer = Trainer(epochs=8, batch_size=256, progress=False)
    return build_model(family, task, n_features, params=PARAMS[family], trainer=trainer, **kwargs)


TABULAR_FAMILIES = [f for f in MODEL_FAMILIES if f in ("mlp", "xgboost", "lightgbm", "fisher", "logistic")]


@pytest.mark.parametrize("family", TABULAR_FAMILIES)
def test_binary_family_trains_saves_and_loads(family, binary_data, tmp_path):
    from sklearn.metrics import roc_auc_score

    train, test, true_lr = binary_data
    model = _model(family, make_task("binary"), 12, seed=1)
    model.fit(train, test)
    scores = model.predict(test.x)
    assert scores.shape == (len(test),) and ((scores >= 0) & (scores <= 1)).all()
    auc, optimal = roc_auc_score(test.y, scores), roc_auc_score(test.y, true_lr)
    # every family beats chance clearly; none beats the Neyman–Pearson optimum beyond fluctuations
    assert 0.7 < auc < optimal + 0.02
    model.save(tmp_path / family)
    loaded = Model.load(tmp_path / family)
    assert np.allclose(loaded.predict(test.x), scores, rtol=1e-6, atol=1e-7)


def test_fisher_is_optimal_for_gaussians_with_equal_covariance():
    gen = np.random.default_rng(0)
    n = 20000
    y = gen.integers(0, 2, n)
    cov = np.array([[1.0, 0.6], [0.6, 2.0]])
    x = gen.multivariate_normal([0, 0], cov, n) + np.where(y[:, None] == 1, [0.5, -0.3], 0.0)
    model = build_model("fisher", make_task("binary"), 2).fit(Arrays(x, y, np.ones(n)))
    # the raw output is the exact log likelihood ratio here
    mu = np.array([0.5, -0.3])
    inv = np.linalg.inv(cov)
    true_llr = x @ inv @ mu - 0.5 * mu @ inv @ mu
    assert np.allclose(model.predict_raw(x)[:, 0], true_llr, atol=0.05)


def test_fisher_shrinkage_acts_alike_in_any_units():
    """Shrinking towards the diagonal is shrinking the correlations: a feature in other units changes nothing."""
    gen = np.random.default_rng(1)
    n = 5000
    y = gen.integers(0, 2, n)
    x = gen.multivariate_normal([0, 0, 0], [[1, 0.8, 0.3], [0.8, 1, 0.2], [0.3, 0.2, 1]], n) + 0.4 * y[:, None]
    scaled = x * np.array([1.0, 1e30, 1e-6])  # one feature in units 1e30 times smaller, one 1e6 times larger
    fits = [
        build_model("fisher", make_task("binary"), 3, params={"shrinkage": 0.3}).fit(Arrays(v, y, np.ones(n)))
        for v in (x, scaled)
    ]
    np.testing.assert_allclose(fits[0].predict(x), fits[1].predict(scaled), rtol=1e-9)


@pytest.mark.parametrize("family", ["mlp", "xgboost", "lightgbm", "fisher", "logistic"])
def test_multiclass(family):
    from neyman.testing import multiclass_dataset

    t = multiclass_dataset(3000, seed=2)
    x = t.to_numpy([f"x{i:02d}" for i in range(8)], dtype=np.float64)
    x = (np.log(np.abs(x) + 1) * np.sign(x)).astype(np.float32)
    a = Arrays(x, np.asarray(t["label"]), np.ones(len(t)))
    model = _model(family, make_task("multiclass", n_classes=3), 8).fit(a)
    p = model.predict(x)
    assert p.shape == (3000, 3) and np.allclose(p.sum(axis=1), 1)
    assert np.mean(p.argmax(axis=1) == a.y) > 0.5  # chance is 1/3


def test_regression_families_and_gaussian_only_for_mlp():
    gen = np.random.default_rng(1)
    x = gen.uniform(-1, 1, size=(3000, 2)).astype(np.float32)
    y = 3 * x[:, 0] + x[:, 1] ** 2 + 100.0
    a = Arrays(x, y, np.ones(3000))
    for family in ("xgboost", "lightgbm"):
        m = build_model(family, make_task("regression"), 2, params={"n_estimators": 100}).fit(a)
        assert np.sqrt(np.mean((m.predict(x) - y) ** 2)) < 0.2
    for family in ("xgboost", "lightgbm"):
        with pytest.raises(ConfigError, match=rf"{family} cannot learn the 'gaussian' task"):
            build_model(family, make_task("gaussian"), 2)
    for family in ("fisher", "logistic"):
        with pytest.raises(ConfigError, match=r"classifier"):
            build_model(family, make_task("regression"), 2)


def test_xgboost_negative_weight_policies():
    gen = np.random.default_rng(2)
    x = gen.normal(size=(500, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    w = np.where(gen.random(500) < 0.1, -0.5, 1.0)
    with pytest.raises(DataError, match=r"negative weights.*lightgbm"):
        build_model("xgboost", make_task("binary"), 2, params={"n_estimators": 5}).fit(Arrays(x, y, w))
    for policy in ("zero", "abs"):
        params = {"n_estimators": 5, "negative_weights": policy}
        build_model("xgboost", make_task("binary"), 2, params=params).fit(Arrays(x, y, w))
    # LightGBM takes negative weights as they are
    build_model("lightgbm", make_task("binary"), 2, params={"n_estimators": 5}).fit(Arrays(x, y, w))


def test_damaged_or_incomplete_model_directories(tmp_path, binary_data):
    train, _, _ = binary_data
    model = build_model("logistic", make_task("binary"), 12).fit(train)
    model.save(tmp_path / "m")
    (tmp_path / "m" / "coefficients.json").unlink()
    with pytest.raises(ModelError, match=r"incomplete: coefficients.json is missing"):
        Model.load(tmp_path / "m")
    with pytest.raises(ModelError, match=r"holds no saved model"):
        Model.load(tmp_path / "nothing")
    (tmp_path / "m" / "model.json").write_text(json.dumps({"family": "nope"}))
    with pytest.raises((ModelError, ConfigError)):
        Model.load(tmp_path / "m")
    with pytest.raises(ConfigError, match=r"did you mean 'xgboost'"):
        model_class("xgbost")


def test_xgboost_default_sampling_is_fixed_by_the_seed():
    """Each tree sees a random 80% of events and features: the run's seed fixes which."""
    gen = np.random.default_rng(4)
    x = gen.normal(size=(2000, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] * x[:, 2] + gen.normal(size=2000) > 0).astype(np.int64)
    data = Arrays(x, y, np.ones(2000))

    def scores(seed):
        model = build_model("xgboost", make_task("binary"), 6, params={"n_estimators": 30}, seed=seed)
        return model.fit(data).predict(x)

    assert np.array_equal(scores(1), scores(1))
    assert not np.allclose(scores(1), scores(2))


def test_logistic_regression_is_unmoved_by_a_feature_in_large_units(binary_data):
    # an event number (or an energy in MeV) beside the physics: without standardising inside the
    # fit the solver stops far from its minimum and the classifier is near random
    train, test, _ = binary_data
    from neyman.metrics import roc_auc

    def with_ids(a: Arrays, start: int) -> Arrays:
        ids = (start + np.arange(len(a.y), dtype=np.float64)) * 1e12
        return Arrays(np.column_stack([a.x, ids]).astype(np.float32), a.y, a.w)

    plain = build_model("logistic", make_task("binary"), 12).fit(train)
    padded = build_model("logistic", make_task("binary"), 13).fit(with_ids(train, 0))
    auc_plain = roc_auc(plain.predict(test.x), test.y)
    auc_padded = roc_auc(padded.predict(with_ids(test, 2_500).x), test.y)
    assert auc_plain > 0.65 and auc_padded > auc_plain - 0.01


@pytest.mark.parametrize("family", ["xgboost", "lightgbm"])
def test_tree_regression_is_unmoved_by_the_target_unit(family, tmp_path):
    # XGBoost splits only for a gain above 1e-6, and a squared error's gain scales as the target
    # squared: a target in a tiny unit grew no tree (its RMSE was the target's spread)
    gen = np.random.default_rng(7)
    x = gen.normal(size=(3000, 2)).astype(np.float32)
    y = 3 * x[:, 0] + np.sin(2 * x[:, 1])
    preds = {}
    for unit in (1.0, 1e-12, 1e12):
        m = build_model(family, make_task("regression"), 2, params={"n_estimators": 100}).fit(
            Arrays(x, y * unit, np.ones(3000))
        )
        m.save(tmp_path / f"{family}-{unit:g}")
        loaded = Model.load(tmp_path / f"{family}-{unit:g}")
        preds[unit] = loaded.predict(x) / unit
        assert np.sqrt(np.mean((preds[unit] - y) ** 2)) < 0.2 * np.std(y), unit
    np.testing.assert_allclose(preds[1e-12], preds[1.0], rtol=1e-4, atol=1e-4)
