from __future__ import annotations

import numpy as np
import pytest

from neyman.exceptions import ConfigError, DataError
from neyman.preprocessing import (
    Selection,
    apply_selection,
    cut_flow,
    parse_selection,
    selection_mask,
)
from neyman.table import Table


@pytest.fixture
def table() -> Table:
    gen = np.random.default_rng(7)
    n = 200
    return Table(
        {
            "pt": gen.uniform(0.0, 100.0, n),
            "eta": gen.uniform(-4.0, 4.0, n),
            "px": gen.normal(0.0, 10.0, n),
            "py": gen.normal(0.0, 10.0, n),
            "a": gen.normal(1.0, 1.0, n),
            "b": gen.normal(0.0, 1.0, n),
            "n_jets": gen.integers(0, 4, n),
            "weight": gen.normal(1.0, 0.8, n),
        },
        source="events.parquet",
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("pt > 20", lambda t: t["pt"] > 20),
        ("abs(eta) < 2.5", lambda t: np.abs(t["eta"]) < 2.5),
        (
            "pt > 20 and abs(eta) < 2.5",
            lambda t: (t["pt"] > 20) & (np.abs(t["eta"]) < 2.5),
        ),
        ("20 < pt < 50", lambda t: (t["pt"] > 20) & (t["pt"] < 50)),
        ("20 < pt <= 50 != eta", lambda t: (t["pt"] > 20) & (t["pt"] <= 50) & (t["eta"] != 50)),
        ("(a > 1) | ~(b < 0)", lambda t: (t["a"] > 1) | ~(t["b"] < 0)),
        ("(a > 1) & (b < 0)", lambda t: (t["a"] > 1) & (t["b"] < 0)),
        ("sqrt(px**2+py**2) > 10", lambda t: np.sqrt(t["px"] ** 2 + t["py"] ** 2) > 10),
        ("hypot(px, py) > 10", lambda t: np.hypot(t["px"], t["py"]) > 10),
        ("not pt > 20 or eta < 0", lambda t: ~(t["pt"] > 20) | (t["eta"] < 0)),
        ("-pt < -20", lambda t: -t["pt"] < -20),
        ("pt % 10 < 5", lambda t: t["pt"] % 10 < 5),
        ("n_jets >= 2", lambda t: t["n_jets"] >= 2),
        ("n_jets and pt > 50", lambda t: (t["n_jets"] != 0) & (t["pt"] > 50)),
        ("where(eta > 0, pt, -pt) > 10", lambda t: np.where(t["eta"] > 0, t["pt"], -t["pt"]) > 10),
        ("(log(pt) - 2 * 1.5 > 0) == True", lambda t: np.log(t["pt"]) - 3.0 > 0),
    ],
)
def test_mask_matches_numpy(table: Table, expression: str, expected) -> None:
    mask = parse_selection(expression).mask(table)
    assert mask.dtype == np.bool_
    assert mask.shape == (len(table),)
    np.testing.assert_array_equal(mask, expected(table))


def test_columns_and_str() -> None:
    sel = parse_selection("sqrt(px**2 + py**2) > 10 and abs(eta) < 2.5")
    assert sel.columns == {"px", "py", "eta"}
    assert str(sel) == "sqrt(px**2 + py**2) > 10 and abs(eta) < 2.5"
    assert isinstance(sel, Selection)
    assert parse_selection(sel) is sel
    assert sel == parse_selection("sqrt(px**2 + py**2) > 10 and abs(eta) < 2.5")


@pytest.mark.parametrize(
    ("expression", "piece"),
    [
        ("__import__('os').system('x')", "__import__"),
        ("pt.__class__", "attribute access"),
        ("open('f')", "'open'"),
        ("[x for x in pt]", "comprehension"),
        ("'a'", "string"),
        ("lambda: 1", "lambda"),
        ("pt[0]", "indexing"),
        ("abs(pt, key=1) > 0", "keyword"),
        ("sqrt(pt, pt) > 0", "takes 1 argument"),
        ("pt if pt > 0 else 0", "where("),
        ("pt in (1, 2)", "'in'"),
        ("pt // 2 > 1", "'//'"),
        ("__builtins__ > 1", "__builtins__"),
        ("pt > 1 & eta < 0", "parentheses"),
        ("pt >", "not valid syntax"),
        ("", "empty"),
        ("(x := 1)", "assignment"),
    ],
)
def test_rejects_unsafe_or_unknown_syntax(expression: str, piece: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_selection(expression)
    message = str(info.value)
    assert piece in message
    if expression:
        assert repr(expression.strip()) in message or "not valid syntax" in message


def test_never_executes_python(table: Table) -> None:
    import ast
    import builtins
    from unittest import mock

    real_compile = builtins.compile

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec must not be used")

    def parse_only(source: str, filename: str, mode: str, flags: int = 0, *args: object, **kw: object):
        # ast.parse goes through compile() but only ever asks for a syntax tree
        assert flags & ast.PyCF_ONLY_AST, "compile() to code objects must not be used"
        return real_compile(source, filename, mode, flags, *args, **kw)

    with (
        mock.patch.object(builtins, "eval", forbidden),
        mock.patch.object(builtins, "exec", forbidden),
        mock.patch.object(builtins, "compile", parse_only),
    ):
        mask = parse_selection("pt > 20 and abs(eta) < 2.5").mask(table)
    assert mask.any()


def test_source_calls_no_eval() -> None:
    import ast
    import inspect

    from neyman.preprocessing import selection

    tree = ast.parse(inspect.getsource(selection))
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__", "getattr"}


def test_numeric_expression_is_not_a_selection(table: Table) -> None:
    with pytest.raises(ConfigError, match="selection must be a comparison"):
        apply_selection(table, "pt")
    with pytest.raises(ConfigError, match="selection must be a comparison"):
        apply_selection(table, "pt * 2 + 1")


def test_float_operand_of_logic_is_rejected(table: Table) -> None:
    with pytest.raises(ConfigError, match="must be conditions"):
        parse_selection("pt and eta > 0").mask(table)


def test_unknown_column_suggests(table: Table) -> None:
    with pytest.raises(DataError) as info:
        parse_selection("ptt > 20").mask(table)
    message = str(info.value)
    assert "'ptt'" in message
    assert "did you mean 'pt'" in message
    assert "events.parquet" in message
    assert "available: pt, eta" in message


def test_nan_and_division_do_not_warn() -> None:
    t = Table({"x": np.array([-1.0, 0.0, 4.0, np.nan])})
    np.testing.assert_array_equal(parse_selection("sqrt(x) >= 0").mask(t), [False, True, True, False])
    np.testing.assert_array_equal(parse_selection("1 / x > 1").mask(t), [False, True, False, False])
    np.testing.assert_array_equal(parse_selection("isfinite(x)").mask(t), [True, True, True, False])


def test_constant_selection_broadcasts(table: Table) -> None:
    assert parse_selection("1 < 2").mask(table).all()
    assert not parse_selection("False").mask(table).any()


def test_apply_selection_list_is_and(table: Table) -> None:
    out = apply_selection(table, ["pt > 20", "abs(eta) < 2.5"])
    expected = (table["pt"] > 20) & (np.abs(table["eta"]) < 2.5)
    assert len(out) == int(expected.sum())
    np.testing.assert_array_equal(out["pt"], table["pt"][expected])
    assert out.column_names == table.column_names
    assert len(apply_selection(table, [])) == len(table)
    np.testing.assert_array_equal(selection_mask(table, "pt > 20"), table["pt"] > 20)


def test_cut_flow_numbers() -> None:
    t = Table(
        {
            "pt": np.array([10.0, 25.0, 40.0, 60.0, 80.0]),
            "eta": np.array([0.0, -3.0, 1.0, 2.0, -1.0]),
            "weight": np.array([1.0, -0.5, 2.0, 1.0, 0.25]),
        }
    )
    flow = cut_flow(t, ["pt > 20", "abs(eta) < 2.5", "pt < 70"])
    assert flow == [
        ("pt > 20", 4, -0.5 + 2.0 + 1.0 + 0.25),
        ("abs(eta) < 2.5", 3, 2.0 + 1.0 + 0.25),
        ("pt < 70", 2, 3.0),
    ]
    unweighted = cut_flow(t.drop(["weight"]), ["pt > 20"])
    assert unweighted == [("pt > 20", 4, 4.0)]
    with pytest.raises(DataError, match="did you mean 'weight'"):
        cut_flow(t, ["pt > 20"], weight_column="weights")


@pytest.mark.parametrize("expression", ["-" * 100_000 + "pt > 1", "not " * 5_000 + "pt > 1"])
def test_pathological_nesting_is_a_config_error(expression: str) -> None:
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_selection(expression)


def test_arithmetic_never_wraps_and_huge_numbers_are_refused():
    import numpy as np

    from neyman.exceptions import ConfigError
    from neyman.preprocessing import parse_selection
    from neyman.table import Table

    table = Table({"f0": np.arange(1000, dtype=np.float64) * 1e16, "n": np.arange(1000)})
    # 2**64 in 64-bit integers wraps to 0; in float64 every f0 (< 1e19) passes
    assert parse_selection("f0 < 2**64").mask(table).sum() == 1000
    assert parse_selection("n * 2**62 > 0").mask(table).sum() == 999  # no overflow to negative values
    assert parse_selection("n ** -1 < 0.01").mask(table).sum() == 899  # integers to negative powers
    with pytest.raises(ConfigError, match=r"401 digits, beyond the range of a float64"):
        parse_selection("f0 < " + "9" * 401)


def test_a_column_whose_name_is_not_a_python_name_is_written_between_backticks():
    table = Table({"jet pt": np.array([10.0, 30.0, 60.0]), "b-tag": np.array([1.0, 0.0, 1.0])})
    selection = parse_selection("`jet pt` > 20 and `b-tag` == 1 or `jet pt` < 15")
    assert selection.columns == frozenset({"jet pt", "b-tag"})
    assert selection.mask(table).tolist() == [True, False, True]
    with pytest.raises(ConfigError, match=r"between backticks: `jet pt`"):
        parse_selection("jet pt > 20")
    with pytest.raises(ConfigError, match=r"'`' without its pair"):
        parse_selection("`jet pt > 20")
    with pytest.raises(ConfigError, match=r"attribute access is not allowed in '`jet pt`\.real'"):
        parse_selection("`jet pt`.real > 20")
