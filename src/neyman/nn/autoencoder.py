"""Autoencoders whose forward pass is the per-event anomaly score.

An :class:`Autoencoder` compresses a feature vector through a bottleneck and
reconstructs it; a :class:`ConvAutoencoder` does the same for jet images and a
:class:`SetAutoencoder` for jets as sets of particles.  Their
``forward`` returns ``(n_events, 1)``: in training mode the per-event loss, in
evaluation mode the anomaly score (the same quantity computed without sampling),
so the trainer minimises ``mean(w * forward(x))`` and an ONNX export of
``forward`` is the anomaly score itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from neyman.nn.deepsets import per_particle
from neyman.nn.layers import ParticleModule, keep_inputs, masked_mean, zero_padding
from neyman.nn.mlp import MLP

__all__ = ["Autoencoder", "ConvAutoencoder", "SetAutoencoder"]

Score = Literal["reconstruction", "elbo"]

CALIBRATION = 0.05
"""Weight of each training batch in a convolutional VAE's running decoder variance."""


class Autoencoder(nn.Module):
    """A dense (variational) autoencoder on standardised features.

    Parameters
    ----------
    n_features
        Inputs per event.
    latent
        Size of the bottleneck.
    hidden
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation
        Hidden activation (one of :data:`neyman.nn.ACTIVATIONS`).
    variational
        A VAE: the encoder gives the mean and log-variance of a Gaussian in the
        latent space, and training samples from it.
    beta
        Weight of the KL term of a VAE.
    score
        ``reconstruction`` or ``elbo`` (VAE only): what the evaluation-mode forward
        returns.
    feature_weights
        Weight ``a_j`` of each feature in the reconstruction error (normalised to
        mean 1); ``None`` for equal weights.

    Notes
    -----
    With :math:`\\hat x = D(E(x))` and weights :math:`a_j` of mean 1, the
    reconstruction error is

    .. math:: r(x) = \\frac1d \\sum_{j=1}^{d} a_j (\\hat x_j - x_j)^2 .

    A plain autoencoder is trained on, and scores with, :math:`r(x)`.  A VAE with
    encoder :math:`q(z|x) = \\mathcal N(\\mu(x), \\mathrm{diag}\\,\\sigma^2(x))`, a
    unit-variance Gaussian decoder and a standard normal prior minimises

    .. math:: \\mathcal L(x) = \\tfrac12 \\sum_j a_j (\\hat x_j(z) - x_j)^2
              + \\beta\\, \\mathrm{KL}(q(z|x) \\,\\|\\, \\mathcal N(0, 1)),
              \\quad z = \\mu + \\sigma \\epsilon,

    with :math:`\\mathrm{KL} = \\tfrac12 \\sum_k (\\mu_k^2 + \\sigma_k^2 - 1 - \\ln \\sigma_k^2)`
    (:math:`\\beta = 1`: the negative ELBO up to a constant).  Its anomaly score is
    :math:`r(x)` at :math:`z = \\mu` (``reconstruction``) or :math:`\\mathcal L(x)`
    at :math:`z = \\mu` (``elbo``).
    """

    def __init__(
        self,
        n_features: int,
        *,
        latent: int = 4,
        hidden: Sequence[int] = (64, 32),
        activation: str = "elu",
        variational: bool = False,
        beta: float = 1.0,
        score: Score = "reconstruction",
        feature_weights: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.latent = latent
        self.variational = variational
        self.beta = float(beta)
        self.score = score
        width = tuple(hidden)
        self.encoder = MLP(n_features, latent * (2 if variational else 1), hidden=width, activation=activation)
        self.decoder = MLP(latent, n_features, hidden=tuple(reversed(width)), activation=activation)
        a = torch.ones(n_features) if feature_weights is None else torch.as_tensor(feature_weights, dtype=torch.float32)
        self.feature_weights: torch.Tensor
        self.register_buffer("feature_weights", a / a.mean())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The latent mean (the code of a plain autoencoder) and, for a VAE, the log-variance."""
        h = self.encoder(x)
        if not self.variational:
            return h, None
        mu, log_var = h.chunk(2, dim=-1)
        return mu, log_var.clamp(-12.0, 12.0)

    def code(self, x: torch.Tensor) -> torch.Tensor:
        """The latent code of each event (a VAE's latent mean), ``(n_events, latent)``."""
        return self.encode(x)[0]

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction :math:`\\hat x` at the latent mean."""
        return self.decoder(self.encode(x)[0])  # type: ignore[no-any-return]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, log_var = self.encode(x)
        z = mu
        if log_var is not None and self.training:
            z = mu + torch.randn_like(mu) * (0.5 * log_var).exp()
        reconstruction: torch.Tensor = self.decoder(z)
        squared = self.feature_weights * (reconstruction - x) ** 2
        if log_var is None or (not self.training and self.score == "reconstruction"):
            return squared.mean(dim=-1, keepdim=True)
        kl = 0.5 * (mu**2 + log_var.exp() - 1.0 - log_var).sum(dim=-1, keepdim=True)
        out: torch.Tensor = 0.5 * squared.sum(dim=-1, keepdim=True) + self.beta * kl
        return out


class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder on (multi-channel) jet images.

    ``image -> [Conv -> ReLU -> MaxPool 2x2]* -> Linear -> latent -> Linear ->
    [Upsample 2x -> Conv -> ReLU]* -> crop`` to the input size.

    Parameters
    ----------
    in_channels
        Image channels.
    image_size
        Pixels per side.
    latent
        Size of the bottleneck.
    channels
        Filters of each encoder block; the decoder mirrors them.
    kernel_size
        Square, zero-padded ("same") convolution kernels.
    variational
        A VAE: the encoder gives the mean and log-variance of a Gaussian in the
        latent space, and training samples from it.
    beta
        Weight of the VAE's KL term.
    score
        ``reconstruction`` or ``elbo`` (VAE only): what the evaluation-mode
        forward returns.

    Notes
    -----
    ``forward`` returns the reconstruction error of each image, summed over its
    pixels and averaged over its channels,

    .. math:: r(I) = \\frac1C \\sum_{c} \\sum_{a,b} (\\hat I_{cab} - I_{cab})^2 ,

    a sum rather than a mean so that normalised images (intensities summing to
    one) give errors of order one hundredth rather than one millionth.  Pooling
    rounds odd sizes up, and the decoder crops its last upsampling back to the
    input size, so every pixel is reconstructed.

    A VAE's decoder is a Gaussian of one width :math:`\\sigma_d` for all :math:`D`
    pixels, calibrated to the reconstruction error (Rybkin et al.
    arXiv:2006.13202: a unit width would let the KL term swamp the tiny errors of
    normalised images): :math:`\\sigma_d^2` follows the mean squared pixel error
    of the training batches (an exponential average with weight
    :data:`CALIBRATION`, kept with the weights).  It minimises the negative ELBO
    (up to a constant)

    .. math:: \\mathcal L(I) = \\frac{\\sum (\\hat I(z) - I)^2}{2 \\sigma_d^2} + D \\ln \\sigma_d
              + \\beta\\, \\mathrm{KL}(q(z|I) \\,\\|\\, \\mathcal N(0, 1)), \\quad z = \\mu + \\sigma \\epsilon ;

    its anomaly score is :math:`r(I)` (``reconstruction``) or :math:`\\mathcal L(I)`
    (``elbo``), both at :math:`z = \\mu`.
    """

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        *,
        latent: int = 16,
        channels: Sequence[int] = (16, 32),
        kernel_size: int = 3,
        variational: bool = False,
        beta: float = 1.0,
        score: Score = "reconstruction",
    ) -> None:
        super().__init__()
        self.latent, self.variational, self.beta, self.score = latent, variational, float(beta), score
        self.decoder_var: torch.Tensor
        if variational:  # (a plain autoencoder's checkpoints have no such buffer)
            self.register_buffer("decoder_var", torch.tensor(-1.0))  # negative: not yet calibrated
        widths = tuple(channels)
        pad = kernel_size // 2
        blocks: list[nn.Module] = []
        previous, size = in_channels, image_size
        for width in widths:
            blocks += [nn.Conv2d(previous, width, kernel_size, padding=pad), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
            previous, size = width, -(-size // 2)
        self.encoder = nn.Sequential(
            *blocks, nn.Flatten(), nn.Linear(previous * size * size, latent * (2 if variational else 1))
        )
        self.unflatten = nn.Sequential(
            nn.Linear(latent, previous * size * size), nn.ReLU(), nn.Unflatten(1, (previous, size, size))
        )
        layers: list[nn.Module] = []
        targets = (*reversed(widths[:-1]), in_channels)
        for i, width in enumerate(targets):
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(previous, width, kernel_size, padding=pad),
            ]
            if i < len(targets) - 1:
                layers.append(nn.ReLU())
            previous = width
        self.decoder = nn.Sequential(*layers)
        self.image_size = image_size

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The latent mean (the code of a plain autoencoder) and, for a VAE, the log-variance."""
        h: torch.Tensor = self.encoder(x)
        if not self.variational:
            return h, None
        mu, log_var = h.chunk(2, dim=-1)
        return mu, log_var.clamp(-12.0, 12.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images from latent codes, cropped to the input size."""
        out: torch.Tensor = self.decoder(self.unflatten(z))
        return out[:, :, : self.image_size, : self.image_size]

    def code(self, x: torch.Tensor) -> torch.Tensor:
        """The latent code of each image (a VAE's latent mean), ``(n_images, latent)``."""
        return self.encode(x)[0]

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstructed images at the latent mean, cropped to the input size."""
        return self.decode(self.encode(x)[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, log_var = self.encode(x)
        z = mu if log_var is None or not self.training else mu + torch.randn_like(mu) * (0.5 * log_var).exp()
        squared = (self.decode(z) - x) ** 2
        if log_var is None or (not self.training and self.score == "reconstruction"):
            return squared.sum(dim=(2, 3)).mean(dim=1, keepdim=True)
        if self.training:
            with torch.no_grad():
                batch = squared.mean().clamp(min=torch.finfo(squared.dtype).tiny)
                first = self.decoder_var < 0
                self.decoder_var.copy_(
                    torch.where(first, batch, (1 - CALIBRATION) * self.decoder_var + CALIBRATION * batch)
                )
        var = self.decoder_var.clamp(min=torch.finfo(squared.dtype).tiny)
        nll = 0.5 * (squared.flatten(1).sum(dim=1, keepdim=True) / var + squared[0].numel() * torch.log(var))
        kl = 0.5 * (mu**2 + log_var.exp() - 1.0 - log_var).sum(dim=-1, keepdim=True)
        out: torch.Tensor = nll + self.beta * kl
        return out


class SetAutoencoder(ParticleModule):
    """A permutation-invariant autoencoder on jets as sets of particles.

    The encoder is a Deep Set: a per-particle network ``phi``, the mean of its
    outputs over the real constituents and the log-multiplicity ``ln(1 + n)``,
    then a dense network down to the ``latent`` code.  The decoder maps the code
    to ``decoded`` particles (their standardised features) and a predicted
    log-multiplicity.

    Parameters
    ----------
    n_features
        Per-particle features.
    latent
        Size of the bottleneck.
    phi
        Widths of the per-particle network.
    hidden
        Widths of the decoder's hidden layers (the encoder after pooling has one
        layer of width ``phi[-1]``).
    decoded
        Particles the decoder emits, compared with however many the jet has.
    activation
        Hidden activation (one of :data:`neyman.nn.ACTIVATIONS`).

    Notes
    -----
    With the real constituents :math:`x_1 \\dots x_n` of a jet, the decoded
    particles :math:`y_1 \\dots y_K` and
    :math:`d_{ik} = \\frac1F \\sum_f (x_{if} - y_{kf})^2`, the score is the
    symmetric Chamfer distance plus a multiplicity term,

    .. math:: r(J) = \\frac1n \\sum_{i=1}^{n} \\min_k d_{ik}
              + \\frac1K \\sum_{k=1}^{K} \\min_i d_{ik}
              + \\bigl(\\widehat{\\ln(1+n)} - \\ln(1+n)\\bigr)^2 .

    The pooled encoder and the loss are symmetric in the constituents, so
    :math:`r` does not depend on their order; a padded slot never enters
    either (its distances are replaced by a large constant before the
    minimum over constituents).  A jet without constituents scores its
    multiplicity term alone.
    """

    def __init__(
        self,
        n_features: int,
        *,
        latent: int = 16,
        phi: Sequence[int] = (64, 64),
        hidden: Sequence[int] = (128, 128),
        decoded: int = 32,
        activation: str = "elu",
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.decoded = decoded
        widths = tuple(phi)
        self.phi = per_particle(n_features, widths, activation)
        self.encoder = MLP(widths[-1] + 1, latent, hidden=(widths[-1],), activation=activation)
        self.decoder = MLP(latent, decoded * n_features + 1, hidden=tuple(hidden), activation=activation)

    def encode(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The latent code of each jet, ``(n_jets, latent)``."""
        x = zero_padding(features, mask > 0)
        pooled = masked_mean(self.phi(x), mask, dim=1)
        log_n = torch.log1p(mask.sum(dim=1, keepdim=True))
        code: torch.Tensor = self.encoder(torch.cat([pooled, log_n], dim=-1))
        return code

    def code(
        self, features: torch.Tensor, points: torch.Tensor, vectors: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """The latent code of each jet from the common particle inputs, ``(n_jets, latent)``."""
        return self.encode(features, mask)

    def decode(self, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoded particles ``(n_jets, decoded, n_features)`` and log-multiplicities ``(n_jets, 1)``."""
        out = self.decoder(code)
        return out[:, :-1].reshape(-1, self.decoded, self.n_features), out[:, -1:]

    def forward(  # type: ignore[override]
        self, features: torch.Tensor, points: torch.Tensor, vectors: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        x = zero_padding(features, mask > 0)
        y, log_n_hat = self.decode(self.encode(features, mask))
        # squared distances by expansion (light on memory, exported as matrix products)
        cross = torch.bmm(x, y.transpose(1, 2))
        d = ((x**2).sum(-1, keepdim=True) + (y**2).sum(-1).unsqueeze(1) - 2.0 * cross).clamp(min=0.0)
        d = d / self.n_features
        n = mask.sum(dim=1)
        to_decoded = (d.min(dim=2).values * mask).sum(dim=1) / n.clamp(min=1.0)
        padded = torch.where(mask.unsqueeze(-1) > 0, d, torch.full_like(d, 1e9))
        to_real = torch.where(n > 0, padded.min(dim=1).values.mean(dim=1), torch.zeros_like(n))
        multiplicity = (log_n_hat[:, 0] - torch.log1p(n)) ** 2
        return keep_inputs((to_decoded + to_real + multiplicity).unsqueeze(-1), points, vectors)
