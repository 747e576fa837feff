"""A small report shared by the report tests: two sections, three figures, two tables."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from neyman.plotting import figure, plot_confusion, plot_importance, plot_reliability, save
from neyman.report import Section, provenance_table

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture
def hostile() -> str:
    """A feature name that would run as a script if the report did not escape it."""
    return HOSTILE


@pytest.fixture
def sections(tmp_path) -> list[Section]:
    plots = tmp_path / "plots"
    fig, ax = figure()
    plot_confusion(np.array([[90.0, 10.0], [25.0, 75.0]]), ["background", "signal"], ax=ax)
    (confusion,) = save(fig, plots / "confusion")
    fig, ax = figure(figsize=(6.4, 2.2))
    plot_importance({"pt": (0.2, 0.01), HOSTILE: (0.05, 0.01), "eta": (0.01, 0.005)}, ax=ax)
    (importance,) = save(fig, plots / "importance_permutation")
    calibration = Figure(figsize=(4.8, 4.8), label="calibration of the <b>test</b> events", layout="constrained")
    plot_reliability([0.1, 0.5, 0.9], [0.12, 0.47, 0.91], ax=calibration.add_subplot())
    metrics = ("Metrics on the test events", ["quantity", "value"], [["AUC", 0.91234567], [HOSTILE, 123456]])
    return [
        Section(
            title="Classifier output",
            figures=[confusion, calibration],
            tables=[metrics],
            text=f"Test events.\n\nA feature named {HOSTILE} is shown, not run.",
        ),
        Section(
            title="Feature importance & provenance",
            figures=[importance],
            tables=[provenance_table({"run": "runs/demo", "seed": 7, "versions": {"numpy": np.__version__}})],
            code="model:\n  name: mlp\n  hidden: [64, 64]\n",
        ),
    ]
