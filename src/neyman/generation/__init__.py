"""Event generation: Pythia 8 events -> detector -> analysis -> a :class:`~neyman.table.Table`.

Module map::

    processes   catalogue of physics processes (classes, recipes, Pythia settings, jet selection)
    pythia      one chunk: cached Pythia instance, nextBatch, detector, analysis; cross sections
    detector    a simple parametrised detector (tracks + calorimeter cells)
    analyses    events -> rows: jets, dijet events, dilepton events, calibration jets
    jets        clustering, trimming, selection and features of jets as flat arrays
    truth       resonance decays, jet truth matching and matched partons
    slha        the SUSY spectrum written for ``susy_vs_ww``
    ragged      index arithmetic for flat ragged arrays
    options     ``--set`` overrides: Pythia settings, detector parameters, process options
    parallel    running chunks inline or on Dask, until every class has its rows
    progress    a progress bar per class while chunks run
    writer      chunk store (resume), the final Parquet/HDF5/ROOT file and its provenance path

The command ``neyman generate`` is :func:`neyman.workflows.generate.generate`.

Pythia (``pythia8mc``) and FastJet (``fastjet``) are optional dependencies, imported
only when events are generated.
"""

from __future__ import annotations

__all__: list[str] = []
