"""Physics quantities computed from four-momenta, vectorised over events and jets.

Module map::

    kinematics     pt, eta, phi, mass, delta_phi, delta_r from (E, px, py, pz)
    substructure   N-subjettiness, energy-correlation ratios C2/D2, soft-drop mass
    dilepton       MT2, razor and super-razor variables, MET_rel, axial MET: the UCI SUSY features

Every function accepts NumPy arrays or (jagged) Awkward arrays and never loops over
particles in Python.  Energies and momenta are in GeV.
"""

from __future__ import annotations

from neyman.physics.kinematics import delta_phi, delta_r, eta, mass, phi, pt

__all__ = ["delta_phi", "delta_r", "eta", "mass", "phi", "pt"]
