from __future__ import annotations

import json

import numpy as np
import pytest

from neyman.exceptions import ConfigError, DataError, NeymanError
from neyman.preprocessing import (
    Clip,
    LogTransform,
    MinMaxScaler,
    NotFittedError,
    Preprocessor,
    StandardScaler,
    Transform,
    build_preprocessor,
    transform_from_json,
)
from neyman.table import Table


@pytest.fixture
def data() -> np.ndarray:
    gen = np.random.default_rng(3)
    return gen.normal(size=(500, 3)) * [1.0, 5.0, 20.0] + [0.0, -3.0, 100.0]


def all_transforms() -> list[Transform]:
    return [
        StandardScaler(),
        StandardScaler(clip=3.0),
        MinMaxScaler(),
        MinMaxScaler(feature_range=(-1.0, 1.0)),
        LogTransform(offset=1.0),
        Clip(lower=-1.0, upper=[None, 2.0, 150.0]),
    ]


@pytest.mark.parametrize("transform", all_transforms(), ids=repr)
def test_estimator_contract(transform: Transform, data: np.ndarray) -> None:
    data = np.abs(data)  # keeps the log transform in its domain
    params = transform.get_params()
    assert not [a for a in vars(transform) if a.endswith("_")]
    with pytest.raises(NotFittedError, match="not fitted"):
        transform.transform(data)
    assert issubclass(NotFittedError, DataError)
    assert issubclass(NotFittedError, NeymanError)
    assert transform.fit(data) is transform
    assert transform.get_params() == params  # fit leaves hyper-parameters alone
    assert transform.n_features_in_ == 3
    out = transform.transform(data)
    assert out.shape == data.shape
    np.testing.assert_array_equal(out, transform.fit_transform(data))
    with pytest.raises(DataError, match="fitted on 3 features"):
        transform.transform(data[:, :2])


def test_sklearn_clone(data: np.ndarray) -> None:
    base = pytest.importorskip("sklearn.base")
    scaler = StandardScaler(clip=4.0).fit(data)
    clone = base.clone(scaler)
    assert clone.get_params() == {"clip": 4.0}
    assert not clone.is_fitted


@pytest.mark.parametrize(
    "transform",
    [StandardScaler(), MinMaxScaler(feature_range=(-2.0, 3.0)), LogTransform(offset=1.0)],
    ids=repr,
)
def test_round_trip(transform: Transform, data: np.ndarray) -> None:
    data = np.abs(data)
    z = transform.fit_transform(data)
    np.testing.assert_allclose(transform.inverse_transform(z), data, rtol=1e-12, atol=1e-12)


def test_standard_scaler_unweighted(data: np.ndarray) -> None:
    z = StandardScaler().fit_transform(data)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-12)


def test_standard_scaler_weighted_matches_np_average(data: np.ndarray) -> None:
    gen = np.random.default_rng(11)
    w = gen.uniform(-0.3, 2.0, len(data))  # some negative weights, positive total
    scaler = StandardScaler().fit(data, sample_weight=w)
    mean = np.average(data, axis=0, weights=w)
    std = np.sqrt(np.average((data - mean) ** 2, axis=0, weights=w))
    np.testing.assert_allclose(scaler.mean_, mean, rtol=1e-12)
    np.testing.assert_allclose(scaler.scale_, std, rtol=1e-12)
    z = scaler.transform(data)
    np.testing.assert_allclose(np.average(z, axis=0, weights=w), 0.0, atol=1e-10)


def test_standard_scaler_non_positive_total_weight(data: np.ndarray) -> None:
    w = -np.ones(len(data))
    with pytest.raises(DataError, match="total sample weight"):
        StandardScaler().fit(data, sample_weight=w)


def test_standard_scaler_constant_feature_gets_unit_scale() -> None:
    x = np.column_stack([np.full(10, 0.1), np.arange(10.0)])
    scaler = StandardScaler().fit(x)
    assert scaler.scale_[0] == 1.0
    np.testing.assert_array_equal(scaler.transform(x)[:, 0], 0.0)


def test_standard_scaler_clip(data: np.ndarray) -> None:
    scaler = StandardScaler(clip=1.5).fit(data)
    z = scaler.transform(data)
    assert z.max() == 1.5
    assert z.min() == -1.5
    unclipped = StandardScaler().fit_transform(data)
    inside = np.abs(unclipped) < 1.5
    np.testing.assert_array_equal(z[inside], unclipped[inside])
    with pytest.raises(ConfigError, match="positive"):
        StandardScaler(clip=0.0).fit(data)


def test_minmax_range(data: np.ndarray) -> None:
    z = MinMaxScaler(feature_range=(-1.0, 1.0)).fit_transform(data)
    np.testing.assert_allclose(z.min(axis=0), -1.0)
    np.testing.assert_allclose(z.max(axis=0), 1.0)
    with pytest.raises(ConfigError, match="low < high"):
        MinMaxScaler(feature_range=(1.0, 0.0)).fit(data)


def test_log_error_names_feature_and_minimum() -> None:
    x = np.array([[1.0, 2.0, 0.5], [3.0, -4.0, 1.0]])
    with pytest.raises(DataError) as info:
        LogTransform().fit(x, feature_names=["pt", "delta", "mass"])
    message = str(info.value)
    assert "'delta'" in message
    assert "-4" in message
    assert "'pt'" not in message
    log = LogTransform(offset=5.0).fit(x, feature_names=["pt", "delta", "mass"])
    with pytest.raises(DataError, match="'delta' has minimum -6"):
        log.transform(np.array([[1.0, -6.0, 1.0]]))
    with pytest.raises(DataError, match="feature 1 has minimum -4"):
        LogTransform().fit(x)


def test_clip_bounds() -> None:
    x = np.array([[-5.0, 0.0, 10.0], [5.0, 3.0, -10.0]])
    clip = Clip(lower=[-1.0, None, 0.0], upper=2.0).fit(x)
    np.testing.assert_array_equal(clip.transform(x), [[-1.0, 0.0, 2.0], [2.0, 2.0, 0.0]])
    np.testing.assert_array_equal(clip.inverse_transform(x), x)
    with pytest.raises(ConfigError, match="lower must not exceed upper"):
        Clip(lower=3.0, upper=1.0).fit(x)
    with pytest.raises(ConfigError, match="2 bounds for 3 features"):
        Clip(lower=[0.0, 1.0]).fit(x)


def test_dtype_is_preserved(data: np.ndarray) -> None:
    x32 = data.astype(np.float32)
    scaler = StandardScaler().fit(x32)
    assert scaler.transform(x32).dtype == np.float32
    assert scaler.mean_.dtype == np.float64
    assert StandardScaler().fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float64


def test_fit_refuses_non_finite(data: np.ndarray) -> None:
    data[4, 1] = np.nan
    with pytest.raises(DataError, match=r"column 'b': 1 NaN"):
        StandardScaler().fit(data, feature_names=["a", "b", "c"])


@pytest.mark.parametrize("transform", all_transforms(), ids=repr)
def test_transform_json_round_trip_bit_identical(transform: Transform, data: np.ndarray) -> None:
    data = np.abs(data)
    transform.fit(data, feature_names=["a", "b", "c"])
    restored = transform_from_json(json.loads(json.dumps(transform.to_json(), allow_nan=False)))
    assert type(restored) is type(transform)
    assert restored.feature_names_in_ == ["a", "b", "c"]
    np.testing.assert_array_equal(restored.transform(data), transform.transform(data))
    assert restored.transform(data).tobytes() == transform.transform(data).tobytes()


def test_unknown_transform_name_in_json() -> None:
    with pytest.raises(DataError, match=r"unknown transform 'standart'.*did you mean 'standard'"):
        transform_from_json({"name": "standart", "params": {}, "state": None})


def test_preprocessor_steps_on_named_features(data: np.ndarray) -> None:
    x = np.abs(data)
    pre = Preprocessor(
        ["pt", "eta", "mass"],
        [(["pt", "mass"], LogTransform()), (None, StandardScaler())],
    )
    assert not pre.is_fitted
    with pytest.raises(NotFittedError):
        pre.transform(x)
    z = pre.fit_transform(x)
    expected = x.copy()
    expected[:, [0, 2]] = np.log(expected[:, [0, 2]])
    expected = (expected - expected.mean(axis=0)) / expected.std(axis=0)
    np.testing.assert_allclose(z, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pre.inverse_transform(z), x, rtol=1e-12)
    table = Table({"mass": x[:, 2], "pt": x[:, 0], "eta": x[:, 1]})
    np.testing.assert_array_equal(pre.transform(table), z)


def test_preprocessor_json_round_trip_bit_identical(data: np.ndarray) -> None:
    x = np.abs(data)
    w = np.random.default_rng(5).uniform(0.5, 1.5, len(x))
    pre = build_preprocessor(
        ["pt", "eta", "mass"],
        log=["pt"],
        clip={"mass": [None, 130.0], "eta": [-2.0, 2.0]},
        standard_clip=4.0,
    ).fit(x, sample_weight=w)
    text = json.dumps(pre.to_json(), allow_nan=False)
    restored = Preprocessor.from_json(json.loads(text))
    assert restored.is_fitted
    assert restored.transform(x).tobytes() == pre.transform(x).tobytes()
    assert restored.to_json() == pre.to_json()


def test_preprocessor_json_errors() -> None:
    pre = build_preprocessor(["a"], scaler="minmax")
    payload = pre.fit(np.array([[1.0], [2.0]])).to_json()
    payload["steps"][0]["transform"]["name"] = "quantile"
    with pytest.raises(DataError, match="unknown transform 'quantile'"):
        Preprocessor.from_json(payload)
    with pytest.raises(DataError, match="not a serialised"):
        Preprocessor.from_json({"steps": []})


def test_build_preprocessor_rejects_unknown_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown feature 'ptt'.*did you mean 'pt'"):
        build_preprocessor(["pt", "eta"], log=["ptt"])
    with pytest.raises(ConfigError, match="did you mean 'eta'"):
        build_preprocessor(["pt", "eta"], clip={"etta": [0.0, 1.0]})
    with pytest.raises(ConfigError, match="did you mean 'minmax'"):
        build_preprocessor(["pt"], scaler="minmx")


def test_build_preprocessor_none_scaler() -> None:
    pre = build_preprocessor(["a", "b"], scaler="none", log=["b"], log_offset=1.0)
    x = np.array([[1.0, 0.0], [2.0, 3.0]])
    np.testing.assert_array_equal(pre.fit_transform(x), [[1.0, 0.0], [2.0, np.log(4.0)]])
