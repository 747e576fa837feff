"""The folded preprocessing and linear graphs, checked against neyman's numpy code."""

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from neyman.exceptions import ConfigError, ModelError  # noqa: E402
from neyman.export.graph import GraphBuilder, linear_ops, preprocessing_ops  # noqa: E402
from neyman.preprocessing import Preprocessor, build_preprocessor  # noqa: E402
from neyman.preprocessing.scaling import Clip, LogTransform, MinMaxScaler, StandardScaler  # noqa: E402

NAMES = ["pt", "eta", "mass", "n"]


def _data(n=500, seed=0):
    gen = np.random.default_rng(seed)
    return np.column_stack(
        [gen.exponential(30, n) + 1, gen.normal(0, 2, n), gen.gamma(2, 10, n) + 0.5, gen.integers(0, 9, n)]
    ).astype(np.float64)


def _run(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"features": np.asarray(x, dtype=np.float32)})[0]


def _prep_model(prep, fill_value=None):
    g = GraphBuilder()
    out = preprocessing_ops(g, prep, fill_value=fill_value)
    return g.model(out, ["batch", len(NAMES)], opset=17, doc="test")


@pytest.mark.parametrize(
    "steps",
    [
        [],
        [(None, StandardScaler())],
        [(None, StandardScaler(clip=1.5))],
        [(None, MinMaxScaler(feature_range=(-1, 1)))],
        [(["pt", "mass"], LogTransform(offset=1.0)), (None, StandardScaler())],
        [(["eta"], Clip(lower=-1.0, upper=None)), (["pt"], Clip(upper=40.0)), (["n", "eta"], MinMaxScaler())],
    ],
    ids=["none", "standard", "standard-clip", "minmax", "log-subset", "clip-subsets"],
)
def test_preprocessing_graph_is_bit_identical(steps):
    x = _data()
    prep = Preprocessor(NAMES, steps).fit(x)
    expected = prep.transform(x.astype(np.float32).astype(np.float64)).astype(np.float32)
    got = _run(_prep_model(prep), x)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


def test_built_preprocessor_and_fill_value():
    x = _data()
    prep = build_preprocessor(NAMES, log=["pt"], clip={"eta": [-2, 2]}, standard_clip=3.0).fit(x)
    x[3, 1], x[7, 2], x[9, 0] = np.nan, np.inf, -np.inf
    filled = np.where(np.isfinite(x), x, 5.0)
    expected = prep.transform(filled.astype(np.float32).astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(_run(_prep_model(prep, fill_value=5.0), x), expected)


def test_unfitted_preprocessing_is_refused():
    with pytest.raises(ModelError, match="not fitted"):
        _prep_model(Preprocessor(NAMES, [(None, StandardScaler())]))


@pytest.mark.parametrize("head,k", [("sigmoid", 1), ("softmax", 3)])
def test_linear_graph(head, k):
    gen = np.random.default_rng(1)
    coef, intercept = gen.normal(size=(k, 4)), gen.normal(size=k)
    x = _data()
    prep = Preprocessor(NAMES, [(None, StandardScaler())]).fit(x)
    g = GraphBuilder()
    scores = linear_ops(g, preprocessing_ops(g, prep, fill_value=None), coef, intercept, head)
    model = g.model(scores, ["batch"] if k == 1 else ["batch", k], opset=17, doc="")
    raw = prep.transform(x.astype(np.float32).astype(np.float64)).astype(np.float32).astype(np.float64) @ coef.T
    raw += intercept
    if head == "sigmoid":
        expected = 1 / (1 + np.exp(-raw[:, 0]))
    else:
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        expected = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(_run(model, x), expected, rtol=1e-6)


def test_linear_graph_refuses_regression():
    with pytest.raises(ModelError, match="classifiers"):
        linear_ops(GraphBuilder(), "x", np.ones((1, 4)), np.zeros(1), "identity")


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, neyman.export; print('onnx' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_bad_opset_is_a_config_error(tmp_path):
    from neyman.export.onnx import build_onnx

    with pytest.raises(ConfigError, match="opset"):
        build_onnx(None, opset=7)  # type: ignore[arg-type]
