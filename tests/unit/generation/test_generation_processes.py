from __future__ import annotations

import json

import pytest

from neyman.exceptions import ConfigError
from neyman.generation.processes import PROCESSES, get_process


def test_catalogue_entries_are_complete_and_serialisable() -> None:
    assert {"top_vs_qcd", "w_vs_qcd"} <= set(PROCESSES)
    for process in PROCESSES.values():
        assert process.reference and process.recipe and process.description
        assert process.settings(1) != process.settings(0)
        json.dumps(process.as_dict())
    top = get_process("top_vs_qcd")
    assert (top.jets.pt_min, top.jets.pt_max, top.jets.radius, top.jets.max_constituents) == (550, 650, 0.8, 200)


def test_unknown_process_suggests_close_name() -> None:
    with pytest.raises(ConfigError, match="top_vs_qcd"):
        get_process("top_vs_qdc")
