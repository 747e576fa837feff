"""Optuna studies: storages, samplers, pruners, and opening a study safely.

The storage is the only coordination point between the processes of a study: a
local SQLite file for one machine, a PostgreSQL (or MySQL) server for several.
Optuna numbers trials inside a locked transaction, so processes that join one
study never get the same trial number.

A study remembers what it was started with (its search space, objective and base
configuration, as JSON user attributes); :func:`open_study` refuses to add trials
that were sampled from something else, so a study is never mixed up.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import random
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neyman.exceptions import ConfigError, MissingDependencyError, NeymanWarning, StorageError
from neyman.optional import require
from neyman.tuning.space import SearchSpace

if TYPE_CHECKING:
    import optuna

__all__ = [
    "BOUND_ATTR",
    "FINGERPRINT_ATTR",
    "PRUNERS",
    "SAMPLERS",
    "STUDY_DB",
    "check_objective",
    "database_folder",
    "displayed_url",
    "make_pruner",
    "make_sampler",
    "objective_is_bound",
    "objective_value",
    "open_storage",
    "open_study",
    "open_study_storage",
    "sqlite_url",
    "study_exists",
    "trial_count",
]

BOUND_ATTR = "objective_is_bound"
"""A trial's user attribute, true when its objective is a lower bound (:func:`objective_is_bound`)."""

SAMPLERS = ("tpe", "random", "grid", "cmaes", "nsga2")
PRUNERS = ("none", "median", "hyperband")
STUDY_DB = "study.db"
"""The default storage of a study: this SQLite file in its directory."""
FINGERPRINT_ATTR = "neyman.fingerprint"
"""Study user attribute holding what the study was started with."""
FINGERPRINT_WAIT_SECONDS = 10.0
"""How long a process joining a study without trials waits for its creator to store the fingerprint."""

# A worker that stops sending heartbeats for this long has its running trial marked failed
# by the next process that starts a trial, so a killed process never leaves a trial stuck.
HEARTBEAT_SECONDS = 30
GRACE_SECONDS = 120
_CREATE_ATTEMPTS = 5


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a local SQLite file (absolute path)."""
    return f"sqlite:///{Path(path).resolve()}"


def displayed_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and reports)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy understands: show it without the netloc credentials
        head, sep, rest = url.partition("://")
        if sep and "@" in rest.split("/", 1)[0]:
            return f"{head}://***@{rest.split('@', 1)[1]}"
        return url


OPTUNA_TABLES = frozenset({"studies", "trials", "version_info"})
"""Tables an Optuna storage holds: a SQLite file with tables, none of them these, is someone else's."""


def _refuse_foreign_sqlite(path: Path, shown: str) -> None:
    """Refuse a SQLite file that holds tables but no Optuna study: Optuna would add its own tables to it."""
    import sqlite3

    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return  # not SQLite: the storage's own opening names the file
    if tables and tables.isdisjoint(OPTUNA_TABLES):  # some of them: a study another process is creating
        listed = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StorageError(
            f"the storage {shown} is a SQLite database of something else (its tables: {listed}), not an Optuna "
            "study: tuning would add its tables to it; give the study a database file of its own"
        )


def _driver_hint(url: str) -> str:
    if url.startswith(("postgresql", "postgres")):
        return 'pip install "psycopg[binary]" (or pip install "neyman[tune]")'
    if url.startswith("mysql"):
        return "pip install pymysql and use a mysql+pymysql:// URL"
    return "install the database driver named in the URL"


def database_folder(database: str | Path, what: str) -> None:
    """Create the folder of a SQLite file, or say why it cannot be (a file in the way, no permission).

    Raises
    ------
    StorageError
        The folder cannot be created; the message names ``what`` (the option and URL).
    """
    folder = Path(database).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocked = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        reason = f"{blocked} is a file, not a folder" if blocked is not None else (exc.strerror or str(exc))
        raise StorageError(
            f"cannot create the folder {folder} of {what}: {reason}; give a database path in a folder that exists "
            "or can be created"
        ) from exc


def open_storage(url: str, *, heartbeat: bool = True) -> optuna.storages.RDBStorage:
    """Connect to an Optuna storage (an SQLAlchemy database URL) and check it answers.

    Parameters
    ----------
    url
        ``sqlite:////abs/path/study.db``, ``postgresql://user:password@host:port/db``, ...
        The directory of a SQLite file is created.
    heartbeat
        Record a heartbeat of every running trial, so that a trial of a process that
        died is marked failed instead of staying "running" forever.

    Raises
    ------
    ConfigError
        If ``url`` is not a database URL.
    StorageError
        If the database cannot be reached or opened (the message names the URL, its
        password hidden, and the reason).
    MissingDependencyError
        If the database driver (e.g. ``psycopg2``) is not installed.
    """
    require("optuna", purpose="tune hyper-parameters")
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    shown = displayed_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"storage {shown!r} is not a database URL; use sqlite:////path/study.db or "
            "postgresql://user:password@host:port/database"
        ) from None
    engine_kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            database_folder(parsed.database, f"the storage {shown}")
            _refuse_foreign_sqlite(Path(parsed.database), shown)
        # concurrent local workers wait for the file lock instead of failing at once
        engine_kwargs["connect_args"] = {"timeout": 60}
    elif parsed.get_backend_name() == "postgresql":
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
        if "+" not in parsed.drivername:
            # SQLAlchemy's default PostgreSQL driver changed from psycopg2 to psycopg (3):
            # take whichever is installed
            driver = next((d for d in ("psycopg", "psycopg2") if importlib.util.find_spec(d)), None)
            if driver is None:
                raise MissingDependencyError(f"storage {shown} needs a PostgreSQL driver; {_driver_hint(url)}")
            url = parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)
    kwargs: dict[str, Any] = {"engine_kwargs": engine_kwargs}
    if heartbeat:
        kwargs.update(heartbeat_interval=HEARTBEAT_SECONDS, grace_period=GRACE_SECONDS)
    try:
        return _rdb_storage(url, kwargs)
    except ImportError as exc:
        raise MissingDependencyError(
            f"storage {shown}: the database driver is missing ({exc}); {_driver_hint(url)}"
        ) from None
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        advice = (
            f"The file {parsed.database} is not a readable SQLite study (another file, or a damaged one): "
            "choose another study name (--study) or storage path, or move that file away"
            if parsed.get_backend_name() == "sqlite"
            else "Check that the database server runs and accepts connections from this machine, and the user, "
            "password and database name"
        )
        raise StorageError(f"cannot open the Optuna storage {shown}: {reason}. {advice}") from None
    except (ValueError, RuntimeError) as exc:  # optuna: schema of another version, bad options
        raise StorageError(f"cannot use the Optuna storage {shown}: {exc}") from None


def _rdb_storage(url: str, kwargs: dict[str, Any]) -> optuna.storages.RDBStorage:
    import optuna
    from sqlalchemy.exc import IntegrityError, InternalError, ProgrammingError

    for attempt in range(_CREATE_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                # heartbeats are marked experimental; they are what recovers trials of killed processes
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, **kwargs)
        except (IntegrityError, InternalError, ProgrammingError):
            # processes that open a new database at the same moment race to create its
            # tables ("duplicate key ... pg_type"); the loser finds them on a second try
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
            time.sleep(0.2 + random.random())
    raise AssertionError("unreachable")


def make_sampler(
    name: str,
    *,
    space: SearchSpace,
    seed: int | None,
    startup_trials: int = 10,
    population: int = 20,
) -> optuna.samplers.BaseSampler:
    """An Optuna sampler by name.

    Parameters
    ----------
    name
        ``tpe`` (tree-structured Parzen estimator), ``random``, ``grid`` (every
        combination of the space's discrete values, in a seeded order), ``cmaes``
        (covariance-matrix adaptation evolution strategy; categorical parameters
        are sampled at random), ``nsga2`` (the NSGA-II genetic algorithm).
    space
        The search space (the grid sampler enumerates it).
    seed
        Seed of the sampler's random numbers.
    startup_trials
        Random trials before TPE and CMA-ES model the objective.
    population
        NSGA-II population size (trials per generation).
    """
    require("optuna", purpose="tune hyper-parameters")
    import optuna

    samplers = optuna.samplers
    if name == "tpe":
        return samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    if name == "random":
        return samplers.RandomSampler(seed=seed)
    if name == "grid":
        return samplers.GridSampler(space.grid(), seed=seed)
    if name == "cmaes":
        require("cmaes", purpose="sample with CMA-ES")
        independent = samplers.RandomSampler(seed=seed)
        return samplers.CmaEsSampler(
            seed=seed, n_startup_trials=startup_trials, independent_sampler=independent, warn_independent_sampling=False
        )
    if name == "nsga2":
        return samplers.NSGAIISampler(seed=seed, population_size=population)
    raise ConfigError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")


def make_pruner(
    name: str,
    *,
    startup_trials: int = 5,
    warmup_epochs: int = 2,
    min_epochs: int = 1,
    max_epochs: int | None = None,
) -> optuna.pruners.BasePruner:
    """An Optuna pruner by name.

    Parameters
    ----------
    name
        ``none``; ``median`` (stop a trial whose intermediate value is worse than
        the median of earlier trials at the same epoch); ``hyperband`` (successive
        halving over several brackets of resources).
    startup_trials, warmup_epochs
        ``median``: trials that finish before anything is pruned, and epochs of each
        trial that are never pruned.
    min_epochs, max_epochs
        ``hyperband``: the smallest and largest number of epochs a trial gets.
    """
    require("optuna", purpose="tune hyper-parameters")
    import optuna

    pruners = optuna.pruners
    if name == "none":
        return pruners.NopPruner()
    if name == "median":
        return pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=warmup_epochs)
    if name == "hyperband":
        return pruners.HyperbandPruner(min_resource=min_epochs, max_resource=max_epochs or "auto")
    raise ConfigError(f"unknown pruner {name!r}; choose one of {', '.join(PRUNERS)}")


def study_exists(storage: optuna.storages.BaseStorage, name: str) -> bool:
    """Whether ``storage`` holds a study called ``name``."""
    return any(s.study_name == name for s in storage.get_all_studies())


def trial_count(storage: optuna.storages.BaseStorage, name: str) -> int:
    """Trials (in any state) of the study ``name``; 0 when ``storage`` does not hold it."""
    if not study_exists(storage, name):
        return 0
    return len(storage.get_all_trials(storage.get_study_id_from_name(name), deepcopy=False))


def open_study_storage(study_dir: Path, url: str, name: str) -> optuna.storages.RDBStorage:
    """Open the storage of the study ``name`` whose trial runs are in ``study_dir``.

    Parameters
    ----------
    study_dir
        The study's directory (``trial-NNNN`` run directories).
    url
        The storage URL (see :func:`open_storage`).
    name
        The study.

    Raises
    ------
    ConfigError
        If ``study_dir`` is a neyman run (a training, a hunt) or lies inside one, holds files
        but is no study (neither the SQLite ``study.db`` nor trial runs: the user's own
        folder, whose ``best.yaml`` or ``trials.csv`` the study would overwrite), or holds
        trial runs of a study that the storage does not hold (a new study's trials would
        overwrite them; refused before a new ``study.db`` is created beside them).  The
        directory is listed before the storage is asked, which keeps this race-free.
    """
    from neyman.runs.guard import RUN_MARKER, enclosing_run

    if (study_dir / "config.yaml").is_file() or (study_dir / RUN_MARKER).is_file():
        raise ConfigError(f"{study_dir} is a neyman run, not a study; choose another study name (--study NAME)")
    if (run := enclosing_run(study_dir.parent)) is not None:  # its trials would be runs inside a run: refused each
        raise ConfigError(
            f"{study_dir} is inside the run directory {run}; give the study an output_dir outside the runs"
        )
    old_trials = sorted(p.name for p in study_dir.glob("trial-*")) if study_dir.is_dir() else []
    held = sorted(p.name for p in study_dir.iterdir()) if study_dir.is_dir() else []
    if held and not old_trials and not (study_dir / STUDY_DB).is_file():
        raise ConfigError(
            f"{study_dir} holds files ({', '.join(held[:3])}{' ...' if len(held) > 3 else ''}) but is not a study of "
            "neyman tune (no study.db, no trial runs): neyman never writes into it; choose another study name "
            "(--study NAME) or output_dir"
        )
    local = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    new_file = local is not None and not Path(local).exists()
    opened = None if old_trials and new_file else open_storage(url)
    if old_trials and (opened is None or not study_exists(opened, name)):
        raise ConfigError(
            f"{study_dir} holds trial runs ({', '.join(old_trials[:3])}{' ...' if len(old_trials) > 3 else ''}) "
            f"of a study that the storage {displayed_url(url)} does not hold. Resume with the storage it was run "
            "with (--storage URL), or choose another study name (--study NAME)"
        )
    assert opened is not None
    return opened


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for k in dict.fromkeys([*old, *new]):
            out += _differences(old.get(k), new.get(k), f"{prefix}{k}.")
        return out
    if old == new:
        return []
    key = prefix.rstrip(".")
    shown = [json.dumps(v, default=str) for v in (old, new)]
    if max(len(s) for s in shown) > 60:  # a whole section (a search space): the key alone
        return [key]
    return [f"{key}: {shown[0]} then, {shown[1]} now"]


def open_study(
    storage: optuna.storages.BaseStorage,
    name: str,
    *,
    direction: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    fingerprint: Mapping[str, Any],
) -> tuple[optuna.Study, bool]:
    """Create the study ``name`` or join it if it exists.

    Parameters
    ----------
    storage
        From :func:`open_storage`.
    name
        Study name.
    direction
        ``maximize`` or ``minimize``.
    sampler, pruner
        Used by this process (they may differ between sessions of one study).
    fingerprint
        JSON-able description of what the trials are sampled from (search space,
        objective, base configuration).  Stored when the study is created; a later
        session must give the same one.

    Returns
    -------
    (optuna.Study, bool)
        The study and whether this call created it.

    Raises
    ------
    ConfigError
        If the existing study optimises in the other direction or was started with a
        different fingerprint; the message names what differs.  Nothing is written
        to the study then.
    """
    require("optuna", purpose="tune hyper-parameters")
    import optuna

    fp = json.loads(json.dumps(fingerprint))
    existed = study_exists(storage, name)
    if existed:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        _await_fingerprint(study)
        _check_compatible(study, name, direction, fp)
        return study, False
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction=_direction(direction),
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,  # another process may create it between the check and here
    )
    if FINGERPRINT_ATTR not in study.user_attrs:
        study.set_user_attr(FINGERPRINT_ATTR, fp)
        return study, True
    _check_compatible(study, name, direction, fp)
    return study, False


def _await_fingerprint(study: optuna.Study) -> None:
    """Wait for the fingerprint of a study another process has just created.

    Creating a study and storing its fingerprint are two writes: a worker started beside the
    creator can find the study in between.  A study without trials gets
    :data:`FINGERPRINT_WAIT_SECONDS` for its fingerprint to appear; one with trials has had its
    chance (it is another program's).
    """
    deadline = time.monotonic() + FINGERPRINT_WAIT_SECONDS
    while FINGERPRINT_ATTR not in study.user_attrs and not study.trials and time.monotonic() < deadline:
        time.sleep(0.1)


def _direction(direction: str) -> optuna.study.StudyDirection:
    import optuna

    if direction == "maximize":
        return optuna.study.StudyDirection.MAXIMIZE
    if direction == "minimize":
        return optuna.study.StudyDirection.MINIMIZE
    raise ConfigError(f"direction must be maximize or minimize, not {direction!r}")


def _check_compatible(study: optuna.Study, name: str, direction: str, fp: dict[str, Any]) -> None:
    have = study.direction.name.lower()
    if have != direction:
        raise ConfigError(
            f"study {name!r} {have}s its objective, but the configuration asks to {direction} it; "
            "use another study name (--study NAME) for a different objective"
        )
    stored = study.user_attrs.get(FINGERPRINT_ATTR)
    if stored is None:
        raise ConfigError(
            f"study {name!r} was not created by neyman tune (it has no {FINGERPRINT_ATTR} attribute); "
            "use another study name (--study NAME)"
        )
    diff = _differences(stored, fp)
    if diff:
        shown = ", ".join(diff[:8]) + (" ..." if len(diff) > 8 else "")
        raise ConfigError(
            f"study {name!r} was started with a different configuration ({shown}); its trials "
            "would not be comparable. Resume it with the original configuration, or start a new study "
            "with --study NAME"
        )


def check_objective(
    objective: str, task: str, classes: Sequence[str] = (), *, labelled: bool = True, kfold: int = 0
) -> None:
    """Refuse an objective that no trial's ``metrics.json`` will hold, before any trial runs.

    Parameters
    ----------
    objective
        The dotted path, e.g. ``val.auc``.
    task
        The run's task name.
    classes
        The run's class names when the configuration declares them.
    labelled
        Whether the configuration gives the events labels (a label column or a class per
        source); without them an unsupervised run writes no AUC or SIC.
    kfold
        The runs' ``split.kfold``: with k ≥ 2 a trial has no validation split, and
        ``val.X`` is the mean of ``X`` over the held-out folds.

    Warns
    -----
    NeymanWarning
        An objective on the test split (``test.X``), or any objective of a k-fold study
        (its held-out folds are both what chooses and what measures).

    Raises
    ------
    ConfigError
        ``train.X``, ``val.X`` or ``test.X`` with an ``X`` that is not one of the task's
        headline metrics (:meth:`~neyman.tasks.Task.metric_names`).

    Notes
    -----
    Other paths, and one-vs-rest AUCs (named after classes known only once the data
    are read), are checked against the first trial's metrics by :func:`objective_value`.
    """
    from neyman.exceptions import close_matches
    from neyman.tasks import make_task

    head, _, metric = objective.removesuffix(".mean").partition(".")
    if head == "test":
        warnings.warn(
            f"tuning.objective {objective!r} chooses the model on the test split, whose numbers then no longer "
            f"measure it fairly; tune on val.{metric} and keep the test split for the final number",
            NeymanWarning,
            stacklevel=2,
        )
    elif kfold >= 2 and head in ("val", "folds_summary"):
        warnings.warn(
            f"tuning.objective {objective!r}: with split.kfold = {kfold} a trial has no validation split; the "
            f"objective is the mean over its held-out folds, the events its test numbers come from, so the best "
            f"trial's numbers are optimistic: measure the chosen configuration on other events (neyman evaluate RUN "
            f"--test-data FILE), or tune without k-fold",
            NeymanWarning,
            stacklevel=2,
        )
    if head not in ("train", "val", "test") or "_vs_rest" in metric:
        return
    judged = make_task(task, n_classes=max(2, len(classes)))
    labelled = labelled or judged.reads_labels != "optional"  # a classifier always reads its labels
    if metric.endswith("_is_bound"):
        raise ConfigError(
            f"tuning.objective {objective!r} is a flag (1 where the rejection is only a bound), not a figure of merit; "
            f"tune on {head}.{metric.removesuffix('_is_bound')}"
        )
    names = [n for n in judged.metric_names(classes, labelled=labelled) if not n.endswith("_is_bound")]
    if metric not in names:
        unlabelled = "" if labelled else " without labels (data.label_column, or a label per source)"
        raise ConfigError(
            f"tuning.objective {objective!r}: a {task} run's metrics.json{unlabelled} has no {metric!r} under "
            f"{head!r}{close_matches(metric, names)}; {head}.X takes X in {', '.join(names)}"
        )


def objective_value(metrics: Mapping[str, Any], path: str) -> float:
    """The number at a dotted ``path`` of a run's ``metrics.json``.

    Parameters
    ----------
    metrics
        The content of ``metrics.json``.
    path
        E.g. ``val.auc``, ``val.rejection_at_eff_0.3`` (a key may contain dots:
        the longest key that matches is taken), ``folds_summary.auc.mean``.  In a
        k-fold run (one holding ``folds_summary``) ``val.X`` and ``test.X`` mean the
        average of ``X`` over the folds, ``folds_summary.X.mean``.

    Raises
    ------
    ConfigError
        If nothing is at ``path``, listing the numbers that are.
    """
    head, _, rest = path.partition(".")
    if "folds_summary" in metrics and head in ("val", "test") and rest:
        path = f"folds_summary.{rest}.mean"
    node = _at(metrics, path)
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return float(node)
    from neyman.exceptions import close_matches

    available = _numeric_paths(metrics)
    raise ConfigError(
        f"tuning.objective: metrics.json has no number at {path!r}{close_matches(path, available)}; "
        f"numbers there include {', '.join(available[:12])}"
    )


def objective_is_bound(metrics: Mapping[str, Any], path: str) -> bool:
    """Whether the number at ``path`` is a lower bound (``<path>_is_bound``: no background event passes the cut).

    A rejection measured where no validation background event passes is only known to
    exceed the value; a study cannot rank trials beyond it.
    """
    return bool(_at(metrics, f"{path}_is_bound"))


def _at(metrics: Mapping[str, Any], path: str) -> Any:
    """The node at a dotted ``path`` (a key may contain dots: the longest that matches), or ``None``."""
    node: Any = metrics
    remaining = path
    while remaining:
        if not isinstance(node, Mapping):
            return None
        keys = sorted((k for k in node if remaining == k or remaining.startswith(f"{k}.")), key=len, reverse=True)
        if not keys:
            return None
        node = node[keys[0]]
        remaining = remaining[len(keys[0]) + 1 :]
    return node


def _numeric_paths(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, Mapping):
        out: list[str] = []
        for k, v in node.items():
            out += _numeric_paths(v, f"{prefix}{k}.")
        return out
    if isinstance(node, (int, float)) and not isinstance(node, bool) and math.isfinite(node):
        return [prefix.rstrip(".")]
    return []
