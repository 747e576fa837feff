"""Torch modules: architecture only (no loss, no device moves).

``mlp``           fully connected network on flat features
``cnn``           convolutional network on jet images
``deepsets``      Particle Flow and Energy Flow Networks on constituent sets
``particlenet``   dynamic graph convolutions (EdgeConv) on constituents
``transformer``   particle transformer with pairwise interaction features
``layers``        the common particle input signature, masking, masked batch norm
``flops``         FLOPs per jet of one forward pass
``ensemble``      members trained apart, raw outputs averaged
``autoencoder``   dense (variational), convolutional and set autoencoders; forward = per-event anomaly score
``flows``         normalizing flows (zuko MAF/NSF); forward = log-density
``autoregressive`` jet images one pixel at a time (MADE); forward = −ln p, ``sample`` draws
``generator``     conditional flow matching on jet images; forward = per-event loss, ``sample`` draws

Every particle network takes ``(features, points, vectors, mask)``
(:data:`PARTICLE_INPUT_NAMES`) and returns ``(n_jets, n_outputs)`` raw values.
"""

from neyman.nn.autoencoder import Autoencoder, ConvAutoencoder, SetAutoencoder
from neyman.nn.autoregressive import ImageAutoregressive
from neyman.nn.cnn import JetCNN
from neyman.nn.deepsets import EFN, EFN_PRESETS, PFN, PFN_PRESETS
from neyman.nn.ensemble import Ensemble
from neyman.nn.flops import flops_per_jet
from neyman.nn.flows import FLOW_TRANSFORMS, DensityFlow
from neyman.nn.generator import ImageFlowMatching
from neyman.nn.layers import PARTICLE_DYNAMIC_AXES, PARTICLE_INPUT_NAMES, MaskedBatchNorm, ParticleModule
from neyman.nn.mlp import ACTIVATIONS, INITIALISATIONS, MLP
from neyman.nn.particlenet import ParticleNet
from neyman.nn.transformer import ParticleTransformer

__all__ = [
    "ACTIVATIONS",
    "EFN",
    "EFN_PRESETS",
    "FLOW_TRANSFORMS",
    "INITIALISATIONS",
    "MLP",
    "PARTICLE_DYNAMIC_AXES",
    "PARTICLE_INPUT_NAMES",
    "PFN",
    "PFN_PRESETS",
    "Autoencoder",
    "ConvAutoencoder",
    "DensityFlow",
    "Ensemble",
    "ImageAutoregressive",
    "ImageFlowMatching",
    "JetCNN",
    "MaskedBatchNorm",
    "ParticleModule",
    "ParticleNet",
    "ParticleTransformer",
    "SetAutoencoder",
    "flops_per_jet",
]
