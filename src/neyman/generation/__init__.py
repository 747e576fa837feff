"""Event generation: Pythia 8 events -> detector -> jets -> a :class:`~neyman.table.Table`.

Module map::

    processes   catalogue of physics processes (recipes, Pythia settings, jet selection)
    detector    a simple parametrised detector (tracks + calorimeter cells)
    jets        clustering, selection, truth matching and features of jets
    pythia      batched Pythia generation and :func:`generate` writing Parquet

Pythia (``pythia8mc``) and FastJet (``fastjet``) are optional dependencies, imported
only when events are generated.
"""

from __future__ import annotations

__all__: list[str] = []
