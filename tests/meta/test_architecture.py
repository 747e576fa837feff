"""The shape of the package (docs/architecture.md) is checked, not hoped for.

- imports point downwards only and nothing below the workflows reads the configuration
  (the import-linter contracts of pyproject.toml);
- no import circle between packages;
- no file imports a private name from another module;
- tasks own what differs between tasks: few task branches elsewhere;
- one public function per workflow module, small workflow modules and functions.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "neyman"
ROOT = SRC.parents[1]


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "egg-info" not in str(p))


def _name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every ``import``/``from ... import`` in a file, lazy ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def test_import_contracts_hold():
    pytest.importorskip("importlinter")
    from importlinter.cli import lint_imports

    # import-linter configures logging with disable_existing_loggers: the loggers of this process (Optuna's,
    # whose reports a tuning test reads) would stay disabled for the tests after this one
    loggers = [logging.getLogger(name) for name in logging.root.manager.loggerDict]
    enabled = [logger for logger in loggers if not logger.disabled]
    try:
        assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0, "run `lint-imports` to see the breach"
    finally:
        for logger in enabled:
            logger.disabled = False


def test_no_import_circle_between_packages():
    edges: set[tuple[str, str]] = set()
    for path in _modules():
        here = _name(path).split(".")
        if len(here) < 2:
            continue
        for module, _ in _imports(path):
            there = module.split(".")
            if there[0] == "neyman" and len(there) > 1 and there[1] != here[1]:
                edges.add((here[1], there[1]))
    circles = sorted((a, b) for a, b in edges if (b, a) in edges and a < b)
    assert not circles, f"packages importing each other: {circles}"


def test_no_private_name_is_imported_from_another_module():
    offenders = []
    for path in _modules():
        for module, names in _imports(path):
            if not module.startswith("neyman"):
                continue
            private_module = any(part.startswith("_") for part in module.split("."))
            private_names = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private_module or private_names:
                offenders.append(f"{path.relative_to(SRC)}: {module} {private_names}")
    assert not offenders, "\n".join(offenders)


TASK_BRANCH = re.compile(r"task(\.|_)name ==|task(\.|_)name in|task(\.|_)name !=|is_classification")


def test_tasks_own_what_differs_between_tasks():
    hits = []
    for path in _modules():
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("tasks/") or rel == "plotting/evaluation.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if TASK_BRANCH.search(line) and not line.lstrip().startswith(("#", '"', "'")):
                hits.append(f"{rel}:{number}: {line.strip()}")
    assert len(hits) <= 5, "task branches outside neyman.tasks:\n" + "\n".join(hits)


VERBS = sorted(p for p in (SRC / "workflows").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", VERBS, ids=lambda p: p.stem)
def test_one_public_function_per_workflow_module(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    exported = next(
        (
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)
        ),
        [],
    )
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    public = [name for name in exported if name in functions]
    assert public == [path.stem], f"{path.name} exports the functions {public}"
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


def test_workflow_functions_are_short():
    long = []
    for path in sorted((SRC / "workflows").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, "\n".join(long)


def test_no_import_circle_between_modules():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("neyman")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert not circles, f"modules importing each other: {circles}"
