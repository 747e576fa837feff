"""Test options (``--run-slow`` enables tests marked ``slow``; ``gpu`` tests need CUDA) and shared fixtures.

Expensive fixtures that a test module shares (generated samples, trained runs) are session-scoped
rather than module-scoped: xdist's work stealing interleaves the modules on a worker, and pytest
tears a module fixture down whenever another module's test runs, so one generation fixture was
built three times in one run.  A session fixture is built at most once per worker; one whose
product is files (generated samples, a trained run) is built once per run with ``build_once``,
the other worker waiting on a file lock and reading the files.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # one process per core: a second thread per worker only oversubscribes the cores, and OpenMP's
    # spin-waiting (torch, boosted trees) then slows the suite about threefold
    for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_slow = pytest.mark.skip(reason="slow: run with --run-slow")
    cuda = False
    if any("gpu" in item.keywords for item in items):
        try:
            import torch

            cuda = torch.cuda.is_available()
        except ImportError:
            cuda = False
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--run-slow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not cuda:
            item.add_marker(skip_gpu)


@pytest.fixture
def interrupt_training(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], Callable[[], None]]:
    """``arm(n)``: the next training raises KeyboardInterrupt right after writing its n-th
    ``last.safetensors`` checkpoint; calling the returned ``disarm()`` restores saving."""
    from neyman.training import trainer as trainer_module

    real = trainer_module.save_state

    def arm(n: int) -> Callable[[], None]:
        saved = {"n": 0}

        def crash(path: Path, state: Any) -> None:
            real(path, state)
            if path.name == "last.safetensors":
                saved["n"] += 1
                if saved["n"] == n:
                    raise KeyboardInterrupt

        monkeypatch.setattr(trainer_module, "save_state", crash)
        return lambda: monkeypatch.setattr(trainer_module, "save_state", real)

    return arm


@pytest.fixture
def quiet_optuna() -> Iterator[None]:
    """Optuna logs warnings only (not every trial) while a test runs."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(level)


@pytest.fixture(scope="session")
def build_once(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Callable[[Path], None]], Path]:
    """``build_once(name, make)``: the folder ``make(folder)`` filled, once for all workers of the run.

    Under xdist every worker has its own base temporary folder inside one shared by the run;
    the first worker to ask builds there under a file lock, the others wait and reuse it.
    """
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent

    def build(name: str, make: Callable[[Path], None]) -> Path:
        folder = root / f"shared-{name}"
        with FileLock(str(folder) + ".lock"):
            if not (folder / ".complete").is_file():
                shutil.rmtree(folder, ignore_errors=True)  # what a failed build left
                folder.mkdir(parents=True)
                make(folder)
                (folder / ".complete").write_text("")
        return folder

    return build
