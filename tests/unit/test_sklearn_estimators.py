import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from neyman.models.sklearn import NeymanClassifier, NeymanRegressor


@pytest.fixture(scope="session")
def xy():
    gen = np.random.default_rng(0)
    x = gen.normal(size=(1200, 3))
    y = np.where(x[:, 0] + x[:, 1] ** 2 > 1, "signal", "background")
    return x, y


@pytest.mark.parametrize(
    "model,params",
    [
        ("xgboost", {"n_estimators": 30}),
        ("mlp", {"epochs": 30, "batch_size": 64, "lr": 0.01, "hidden": [16]}),
        ("fisher", {}),
    ],
)
def test_classifier_in_pipelines_and_cross_validation(xy, model, params):
    x, y = xy
    est = NeymanClassifier(model, params=params)
    assert clone(est).get_params()["model"] == model
    scores = cross_val_score(make_pipeline(FunctionTransformer(), est), x, y, cv=3, scoring="roc_auc")
    assert scores.mean() > (0.6 if model == "fisher" else 0.8)
    est.fit(x, y)
    assert set(est.predict(x)) <= {"signal", "background"}
    assert est.predict_proba(x).shape == (len(x), 2)


def test_the_scale_of_sample_weights_changes_no_model(xy):
    # XGBoost's min_child_weight compares a leaf's summed Hessian with 5: per-event weights of 0.01
    # (a cross section over a sample size) would leave every tree without a split
    x, y = xy
    unit = NeymanClassifier("xgboost", params={"n_estimators": 30}).fit(x, y).predict_proba(x)
    small = NeymanClassifier("xgboost", params={"n_estimators": 30}).fit(x, y, sample_weight=np.full(len(x), 0.01))
    np.testing.assert_allclose(small.predict_proba(x), unit, rtol=1e-6)
    assert np.ptp(unit[:, 1]) > 0.5


def test_regressor_and_shape_checks(xy):
    x, _ = xy
    y = 2 * x[:, 0] + 1
    reg = NeymanRegressor("lightgbm", params={"n_estimators": 100}).fit(x, y)
    assert reg.score(x, y) > 0.95
    with pytest.raises(ValueError, match="features"):
        reg.predict(x[:, :2])


def test_wrong_targets_weights_and_an_unfitted_estimator_are_refused_as_scikit_learn_does(xy):
    from sklearn.exceptions import NotFittedError

    x, y = xy
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        NeymanClassifier("xgboost").fit(x[:200], x[:200, 0])  # it fitted 200 classes, one per value
    with pytest.raises(ValueError, match="contains NaN"):
        NeymanClassifier("logistic").fit(x, np.where(np.arange(len(y)) == 0, np.nan, (y == "signal") * 1.0))
    with pytest.raises(NotFittedError):
        NeymanClassifier("logistic").predict(x)
    nan = np.ones(len(y))
    nan[3] = np.nan
    with pytest.raises(ValueError, match="sample_weight holds 1 NaN"):
        NeymanClassifier("lightgbm").fit(x, y, sample_weight=nan)
    with pytest.raises(ValueError, match="zero for every event"):
        NeymanClassifier("lightgbm").fit(x, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="1d array"):
        NeymanRegressor("xgboost").fit(x, np.c_[x[:, 0], x[:, 1]])
    with pytest.raises(ValueError, match="seed must be an integer or None"):
        NeymanClassifier("logistic", seed=np.random.default_rng(1)).fit(x, y)


def test_fisher_probabilities_follow_the_class_shares():
    """Fisher's discriminant assumes equal priors; its probabilities add the training's prior ratio."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=4000) > 1.5).astype(int)  # about 9 % of class 1
    for model in ("fisher", "logistic"):
        fitted = NeymanClassifier(model).fit(x, y)
        assert fitted.predict_proba(x)[:, 1].mean() == pytest.approx(y.mean(), abs=0.01), model
        assert np.mean(fitted.predict(x) == y) > 0.93, model  # fisher at equal priors: 0.84
