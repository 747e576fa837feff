"""Declarative event selection: cut strings such as ``"pt > 20 and abs(eta) < 2.5"``.

A selection is written in a small expression language that looks like Python but is
*never* executed as Python.  :func:`parse_selection` parses the string with
:func:`ast.parse` and accepts only a fixed set of syntax, which it translates into
NumPy operations evaluated column-wise over a :class:`~neyman.table.Table`:

==========================  ===========================================================
syntax                      meaning
==========================  ===========================================================
``20``, ``2.5``, ``True``   numbers (and booleans)
``pt``                      a column of the table
```jet pt```                a column whose name is not a Python name (backticks)
``-x``, ``+x``              negation
``+ - * / ** %``            element-wise arithmetic
``< <= > >= == !=``         comparisons, also chained: ``20 < pt < 50``
``and``, ``or``, ``not``    element-wise logic
``&``, ``|``, ``~``         aliases of ``and``, ``or``, ``not``
``f(x, ...)``               one of the functions below
==========================  ===========================================================

Functions: ``abs``, ``sqrt``, ``log``, ``log10``, ``exp``, ``sin``, ``cos``, ``tan``,
``tanh``, ``isfinite`` (one argument); ``arctan2``, ``hypot``, ``minimum``, ``maximum``
(two arguments); ``where(condition, a, b)`` (three arguments).

Everything else (attribute access, indexing, strings, lambdas, comprehensions, keyword
arguments, any other function name) is rejected with a :class:`~neyman.exceptions.ConfigError`.
Remember that ``&`` and ``|`` bind more tightly than comparisons in Python, so write
``(a > 1) & (b < 0)``; the unparenthesised form is rejected.

Numerical edge cases follow NumPy without warnings: ``sqrt(-1)`` is NaN, ``1 / 0`` is
``inf``, and any comparison with NaN is false.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman.exceptions import ConfigError, DataError, close_matches
from neyman.table import WEIGHT, Table

__all__ = [
    "SELECTION_FUNCTIONS",
    "Selection",
    "apply_selection",
    "cut_flow",
    "missing_column",
    "parse_selection",
    "selection_mask",
]

_Columns = Mapping[str, np.ndarray]


def missing_column(table: Table, name: str, what: str) -> DataError:
    """The error for a column ``name`` that ``table`` lacks: close matches and the columns it has.

    Parameters
    ----------
    table
        The table searched; its source is named in the message.
    name
        The missing column.
    what
        The start of the message, e.g. ``"no weight column"``.
    """
    names = table.column_names
    where = f" in {table.source}" if table.source else ""
    return DataError(f"{what} {name!r}{where}{close_matches(name, names)}; available: {', '.join(names) or '(none)'}")


_Node = Callable[[_Columns], Any]

SELECTION_FUNCTIONS: Mapping[str, int] = {
    "abs": 1,
    "sqrt": 1,
    "log": 1,
    "log10": 1,
    "exp": 1,
    "sin": 1,
    "cos": 1,
    "tan": 1,
    "tanh": 1,
    "isfinite": 1,
    "arctan2": 2,
    "hypot": 2,
    "minimum": 2,
    "maximum": 2,
    "where": 3,
}
"""Functions allowed in a selection, with their number of arguments."""

_FUNCTION_IMPLS: dict[str, Callable[..., Any]] = {
    "abs": np.abs,
    "sqrt": np.sqrt,
    "log": np.log,
    "log10": np.log10,
    "exp": np.exp,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "tanh": np.tanh,
    "isfinite": np.isfinite,
    "arctan2": np.arctan2,
    "hypot": np.hypot,
    "minimum": np.minimum,
    "maximum": np.maximum,
    "where": np.where,
}

_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.Pow: np.power,
    ast.Mod: np.mod,
}

_LOGICAL_BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.BitAnd: ("&", np.logical_and),
    ast.BitOr: ("|", np.logical_or),
}

_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}

# Friendly names for the syntax that is refused, so the message says what was found.
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.JoinedStr: "a string",
    ast.IfExp: "an if-else expression (use where(condition, a, b))",
    ast.NamedExpr: "an assignment",
    ast.Starred: "argument unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


class Selection:
    """A parsed event selection, evaluated column-wise on a table.

    Build one with :func:`parse_selection`.

    Attributes
    ----------
    expression : str
        The selection as written.
    columns : frozenset of str
        The column names the selection reads, so a reader can load only those.

    Examples
    --------
    >>> import numpy as np
    >>> from neyman.table import Table
    >>> sel = parse_selection("pt > 20 and abs(eta) < 2.5")
    >>> sorted(sel.columns)
    ['eta', 'pt']
    >>> t = Table({"pt": np.array([10.0, 30.0, 40.0]), "eta": np.array([0.0, 1.0, 3.0])})
    >>> sel.mask(t)
    array([False,  True, False])
    """

    __slots__ = ("_evaluate", "columns", "expression")

    def __init__(self, expression: str, evaluate: _Node, columns: frozenset[str]) -> None:
        self.expression = expression
        self.columns = columns
        self._evaluate = evaluate

    def __str__(self) -> str:
        return self.expression

    def __repr__(self) -> str:
        return f"Selection({self.expression!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Selection) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash(self.expression)

    def mask(self, table: Table) -> npt.NDArray[np.bool_]:
        """Return the boolean mask of the events of ``table`` that pass the selection.

        Parameters
        ----------
        table
            The events; must hold every column in :attr:`columns`.

        Returns
        -------
        numpy.ndarray
            Boolean array of shape ``(len(table),)``.

        Raises
        ------
        DataError
            A column is missing or is not a flat numeric column.
        ConfigError
            The expression does not give a boolean per event (e.g. ``"pt"`` alone).
        """
        columns = {name: self._column(table, name) for name in sorted(self.columns)}
        try:
            with np.errstate(all="ignore"):
                result = np.asarray(self._evaluate(columns))
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ConfigError(f"cannot evaluate selection {self.expression!r}: {exc}") from None
        if result.dtype != np.bool_:
            raise ConfigError(
                f"selection {self.expression!r} gives {result.dtype} values, not true/false: "
                "a selection must be a comparison, e.g. 'pt > 20'"
            )
        n = len(table)
        if result.ndim == 0:
            return np.full(n, bool(result))
        if result.shape != (n,):
            raise DataError(
                f"selection {self.expression!r} gives an array of shape {result.shape} for a table of {n} events"
            )
        return np.array(result, dtype=np.bool_)

    def _column(self, table: Table, name: str) -> np.ndarray:
        where = f" in {table.source}" if table.source else ""
        if name not in table:
            raise missing_column(table, name, f"selection {self.expression!r}: no column")
        values = table[name]
        if (
            not isinstance(values, np.ndarray)
            or values.ndim != 1
            or not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_)
        ):
            raise DataError(
                f"selection {self.expression!r}: column {name!r}{where} is not a flat numeric "
                "column; selections work on one number per event"
            )
        return values


def parse_selection(expression: str | Selection) -> Selection:
    """Parse a selection string into a :class:`Selection`.

    The string is parsed, never executed: only the syntax listed in the module
    documentation is accepted.

    Parameters
    ----------
    expression
        The selection, e.g. ``"20 < pt < 50 and abs(eta) < 2.5"``; a
        :class:`Selection` is returned unchanged.

    Returns
    -------
    Selection
        The compiled selection.

    Raises
    ------
    ConfigError
        The string is not valid syntax or uses anything outside the allowed language;
        the message names the offending piece.
    """
    if isinstance(expression, Selection):
        return expression
    if not isinstance(expression, str):
        raise ConfigError(f"a selection must be a string, got {type(expression).__name__}")
    if not expression.strip():
        raise ConfigError("a selection must not be empty")
    source, quoted = _unquoted(expression.strip())
    try:
        tree = ast.parse(source, mode="eval")
    except (RecursionError, MemoryError):
        raise ConfigError(f"selection {expression[:80]!r}... is nested too deeply") from None
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset and not quoted else ""
        hint = (
            "; a column name that is not a Python name (one holding a space, say) goes between backticks: `jet pt`"
            if _TWO_WORDS.search(source)
            else ""
        )
        raise ConfigError(f"selection {expression!r} is not valid syntax{where}: {exc.msg}{hint}") from None
    compiler = _Compiler(expression.strip(), source, quoted)
    try:
        evaluate = compiler.compile(tree.body)
    except RecursionError:
        raise ConfigError(f"selection {expression[:80]!r}... is nested too deeply") from None
    return Selection(expression.strip(), evaluate, frozenset(compiler.columns))


_QUOTED = re.compile(r"`([^`]*)`")
_KEYWORDS = r"(?:and|or|not|in|is|if|else)\b"
_TWO_WORDS = re.compile(rf"\b(?!{_KEYWORDS})[A-Za-z_]\w*[ \t]+(?!{_KEYWORDS})[A-Za-z_]")  # 'jet pt > 20'
_PLACEHOLDER = "__column_{}"  # a name no selection can write: names starting with '__' are refused


def _unquoted(expression: str) -> tuple[str, dict[str, str]]:
    """``expression`` with every ```name``` replaced by a placeholder, and the names by placeholder."""
    quoted: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name:
            raise ConfigError(f"selection {expression!r}: `` names no column; write the column's name between them")
        key = next((k for k, v in quoted.items() if v == name), _PLACEHOLDER.format(len(quoted)))
        quoted[key] = name
        return key

    source = _QUOTED.sub(swap, expression)
    if "`" in source:
        raise ConfigError(
            f"selection {expression!r} has a '`' without its pair; a column name that is not a Python name is "
            "written between two: `jet pt` > 20"
        )
    return source, quoted


def _real(value: Any) -> Any:
    """Integers and booleans as float64, so that arithmetic on them cannot wrap around."""
    array = np.asarray(value)
    return array.astype(np.float64) if array.dtype.kind in "iub" else value


class _Compiler:
    """Translate a whitelisted AST into nested closures over NumPy functions."""

    def __init__(self, expression: str, source: str | None = None, quoted: Mapping[str, str] | None = None) -> None:
        self.expression = expression  # as written, for messages
        self.source = source if source is not None else expression  # as parsed (backticked names replaced)
        self.quoted = dict(quoted or {})
        self.columns: set[str] = set()

    def _piece(self, node: ast.AST) -> str:
        piece = ast.get_source_segment(self.source, node) or type(node).__name__
        for key, name in self.quoted.items():
            piece = piece.replace(key, f"`{name}`")
        return piece

    def _refuse(self, node: ast.AST, what: str) -> ConfigError:
        return ConfigError(
            f"selection {self.expression!r}: {what} is not allowed in {self._piece(node)!r}; "
            "selections may use numbers, column names, arithmetic, comparisons, "
            "and/or/not and the functions " + ", ".join(SELECTION_FUNCTIONS)
        )

    def compile(self, node: ast.AST) -> _Node:
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        if isinstance(node, ast.BoolOp):
            return self._boolean(node)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        error = self._refuse(node, _REFUSED.get(type(node), f"{type(node).__name__} syntax"))
        if isinstance(node, ast.Attribute):  # most often a branch name with a dot, such as jet.pt
            error = ConfigError(
                f"{error}; a column whose name holds a dot is written in backticks: `{self._piece(node)}`"
            )
        raise error

    def _constant(self, node: ast.Constant) -> _Node:
        value = node.value
        if isinstance(value, bool):
            const: Any = np.bool_(value)
        elif isinstance(value, int):
            if abs(value) < 2**63:
                const = np.int64(value)
            else:
                try:
                    const = np.float64(float(value))
                except OverflowError:
                    digits = str(abs(value))
                    raise ConfigError(
                        f"selection {self.expression[:60]!r}...: the number {digits[:12]}... has {len(digits)} "
                        "digits, beyond the range of a float64 (about 1.8e308)"
                    ) from None
        elif isinstance(value, float):
            const = np.float64(value)
        elif isinstance(value, (str, bytes)):
            raise self._refuse(node, "a string")
        else:
            raise self._refuse(node, f"the constant {value!r}")
        return lambda columns: const

    def _name(self, node: ast.Name) -> _Node:
        name = self.quoted.get(node.id, node.id)
        if node.id not in self.quoted and name.startswith("__"):
            raise self._refuse(node, f"the name {name!r}")
        if name in SELECTION_FUNCTIONS:
            raise self._refuse(node, f"the function {name!r} without a call")
        self.columns.add(name)
        return lambda columns: columns[name]

    def _condition(self, node: ast.AST, op: str) -> _Node:
        """Compile an operand of a logical operator; it must give booleans."""
        inner = self.compile(node)
        piece = self._piece(node)
        expression = self.expression

        def evaluate(columns: _Columns) -> Any:
            value = np.asarray(inner(columns))
            if value.dtype == np.bool_:
                return value
            if np.issubdtype(value.dtype, np.integer):
                return value != 0  # integer flags, e.g. trigger bits stored as 0/1
            raise ConfigError(
                f"selection {expression!r}: {piece!r} gives {value.dtype} values, but the "
                f"operands of {op!r} must be conditions, e.g. '{piece} > 0'"
            )

        return evaluate

    def _unary(self, node: ast.UnaryOp) -> _Node:
        if isinstance(node.op, (ast.Not, ast.Invert)):
            operand = self._condition(node.operand, "not" if isinstance(node.op, ast.Not) else "~")
            return lambda columns: np.logical_not(operand(columns))
        inner = self.compile(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda columns: np.negative(inner(columns))
        return lambda columns: np.positive(inner(columns))

    def _binary(self, node: ast.BinOp) -> _Node:
        op_type = type(node.op)
        if op_type in _LOGICAL_BINARY:
            symbol, logical = _LOGICAL_BINARY[op_type]
            left_c = self._condition(node.left, symbol)
            right_c = self._condition(node.right, symbol)
            return lambda columns: logical(left_c(columns), right_c(columns))
        if op_type not in _ARITHMETIC:
            symbol = {
                ast.FloorDiv: "//",
                ast.MatMult: "@",
                ast.LShift: "<<",
                ast.RShift: ">>",
                ast.BitXor: "^",
            }.get(op_type, op_type.__name__)
            raise self._refuse(node, f"the operator {symbol!r}")
        ufunc = _ARITHMETIC[op_type]
        left = self.compile(node.left)
        right = self.compile(node.right)

        def evaluate(columns: _Columns) -> Any:
            # arithmetic in float64: integers never wrap (2**64 is 1.8e19, not 0), and a result
            # beyond the float range is inf, which compares as it should
            with np.errstate(over="ignore", divide="ignore"):
                return ufunc(_real(left(columns)), _real(right(columns)))

        return evaluate

    def _boolean(self, node: ast.BoolOp) -> _Node:
        word = "and" if isinstance(node.op, ast.And) else "or"
        logical = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        operands = [self._condition(value, word) for value in node.values]

        def evaluate(columns: _Columns) -> Any:
            result = operands[0](columns)
            for operand in operands[1:]:
                result = logical(result, operand(columns))
            return result

        return evaluate

    def _compare(self, node: ast.Compare) -> _Node:
        for part in (node.left, *node.comparators):
            if isinstance(part, ast.BinOp) and isinstance(part.op, (ast.BitAnd, ast.BitOr)):
                raise ConfigError(
                    f"selection {self.expression!r}: '&' and '|' bind more tightly than "
                    f"comparisons, so {self._piece(part)!r} is combined before it is compared; "
                    "put each comparison in parentheses, e.g. '(a > 1) & (b < 0)', or use "
                    "'and'/'or'"
                )
        ops = []
        for op in node.ops:
            if type(op) not in _COMPARISONS:
                word = {ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
                raise self._refuse(node, f"the operator {word.get(type(op), '?')!r}")
            ops.append(_COMPARISONS[type(op)])
        operands = [self.compile(part) for part in (node.left, *node.comparators)]

        def evaluate(columns: _Columns) -> Any:
            values = [operand(columns) for operand in operands]
            result = ops[0](values[0], values[1])
            for k in range(1, len(ops)):
                result = np.logical_and(result, ops[k](values[k], values[k + 1]))
            return result

        return evaluate

    def _call(self, node: ast.Call) -> _Node:
        if not isinstance(node.func, ast.Name):
            raise self._refuse(node.func, "calling anything but a plain function name")
        name = node.func.id
        if name not in SELECTION_FUNCTIONS:
            raise ConfigError(
                f"selection {self.expression!r}: the function {name!r} is not allowed"
                f"{close_matches(name, SELECTION_FUNCTIONS)}; allowed: " + ", ".join(SELECTION_FUNCTIONS)
            )
        if node.keywords:
            raise self._refuse(node, "a keyword argument")
        n_args = SELECTION_FUNCTIONS[name]
        if len(node.args) != n_args:
            raise ConfigError(
                f"selection {self.expression!r}: {name}() takes {n_args} argument"
                f"{'s' if n_args != 1 else ''}, got {len(node.args)} in {self._piece(node)!r}"
            )
        function = _FUNCTION_IMPLS[name]
        if name == "where":
            condition = self._condition(node.args[0], "where")
            a, b = self.compile(node.args[1]), self.compile(node.args[2])
            return lambda columns: function(condition(columns), a(columns), b(columns))
        args = [self.compile(arg) for arg in node.args]
        return lambda columns: function(*(arg(columns) for arg in args))


def _as_selections(selection: str | Selection | Sequence[str | Selection]) -> list[Selection]:
    if isinstance(selection, (str, Selection)):
        return [parse_selection(selection)]
    return [parse_selection(s) for s in selection]


def selection_mask(table: Table, selection: str | Selection | Sequence[str | Selection]) -> npt.NDArray[np.bool_]:
    """Return the mask of the events passing a selection, or all of a list of selections.

    Parameters
    ----------
    table
        The events.
    selection
        One selection, or a list meaning the logical AND of all; an empty list
        keeps every event.

    Returns
    -------
    numpy.ndarray
        Boolean array of shape ``(len(table),)``.
    """
    mask = np.ones(len(table), dtype=np.bool_)
    for sel in _as_selections(selection):
        mask &= sel.mask(table)
    return mask


def apply_selection(table: Table, selection: str | Selection | Sequence[str | Selection]) -> Table:
    """Return the events of ``table`` that pass the selection.

    Parameters
    ----------
    table
        The events.
    selection
        One selection string, or a list of them meaning the logical AND of all.

    Returns
    -------
    Table
        A new table with the passing rows.

    Examples
    --------
    >>> import numpy as np
    >>> from neyman.table import Table
    >>> t = Table({"pt": np.array([10.0, 30.0]), "eta": np.array([0.5, 0.5])})
    >>> len(apply_selection(t, ["pt > 20", "abs(eta) < 2.5"]))
    1
    """
    mask = selection_mask(table, selection)
    # Built column by column (NumPy and Awkward columns both accept a boolean mask).
    return Table({name: table[name][mask] for name in table.column_names}, source=table.source)


def cut_flow(
    table: Table,
    selections: Sequence[str | Selection],
    *,
    weight_column: str | None = None,
) -> list[tuple[str, int, float]]:
    """Count the events surviving each cut of a sequence, cumulatively.

    Parameters
    ----------
    table
        The events.
    selections
        The cuts, applied in order.
    weight_column
        Column of per-event weights.  By default the reserved ``weight`` column is
        used when the table has one, otherwise every event counts 1.

    Returns
    -------
    list of (str, int, float)
        For each cut: the cut as written, the number of events passing it and all
        cuts before it, and their summed weight.

    Notes
    -----
    After cut :math:`k` the row holds :math:`N_k = \\sum_i \\prod_{j \\le k} c_j(i)` and
    :math:`W_k = \\sum_i w_i \\prod_{j \\le k} c_j(i)`, where :math:`c_j(i) \\in \\{0, 1\\}`
    says whether event :math:`i` passes cut :math:`j`.  Negative weights are summed
    as they are.
    """
    if weight_column is None:
        weights = np.asarray(table[WEIGHT], dtype=np.float64) if WEIGHT in table else None
    else:
        if weight_column not in table:
            names = table.column_names
            raise DataError(
                f"no weight column {weight_column!r}"
                f"{f' in {table.source}' if table.source else ''}"
                f"{close_matches(weight_column, names)}; available: {', '.join(names)}"
            )
        weights = np.asarray(table[weight_column], dtype=np.float64)
    mask = np.ones(len(table), dtype=np.bool_)
    rows: list[tuple[str, int, float]] = []
    for sel in _as_selections(selections):
        mask &= sel.mask(table)
        total = float(np.sum(weights[mask])) if weights is not None else float(mask.sum())
        rows.append((sel.expression, int(mask.sum()), total))
    return rows
