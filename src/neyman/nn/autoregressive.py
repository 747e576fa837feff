"""A conditional generator of jet images with an exact likelihood: one pixel at a time.

:class:`ImageAutoregressive` writes the probability of a jet image, given its
total intensity, as a product of one conditional per pixel (a masked
autoregressive network, MADE: Germain et al. 1502.03509).  Each pixel is empty
or lit with a probability, and a lit pixel's share of the jet follows a Gaussian
mixture; both depend on the pixels before it.  Its ``forward`` returns the
per-event negative log-likelihood ``(n_events, 1)``, so the trainer minimises
``mean(w * forward(x))`` as for every unsupervised network, and the evaluation
value is an anomaly score (−ln p of the image).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from neyman.nn.layers import check_dropout, check_positive, check_widths, image_fractions, weighted_moments

__all__ = ["ImageAutoregressive"]

INPUTS_PER_PIXEL = 3
"""What each modelled pixel shows the pixels after it: lit or not, its standardised ln q, and q itself."""
LOG_SCALE_RANGE = (-7.0, 3.0)
"""Bounds of the mixture components' ln σ (in units of the standardised ln q)."""


class _MaskedLinear(nn.Linear):
    """A linear layer whose weights are multiplied by a fixed 0/1 mask (the autoregressive order)."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__(mask.shape[1], mask.shape[0])
        self.mask: torch.Tensor
        self.register_buffer("mask", mask.to(torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class ImageAutoregressive(nn.Module):
    """Autoregressive pixel model of jet images, conditioned on the image's total intensity.

    Parameters
    ----------
    channels
        Image channels.
    size
        Pixels per side.
    width
        Hidden units per masked layer (at least the number of pixels works best).
    blocks
        Residual masked layers after the first.
    components
        Gaussian components of each lit pixel's ln q.
    dropout
        Dropout of the hidden units in training.

    Notes
    -----
    **Representation.** An image with pixel intensities :math:`p_k \\ge 0` and
    total :math:`T = \\sum_k p_k` is described by its fractions
    :math:`q_k = p_k / T`.  The pixels are ordered by their mean fraction in the
    training images, brightest first.  Each of the :math:`D` pixels has a lit flag
    :math:`\\ell_k` and, when lit, :math:`v_k = (\\ln q_k - \\mu) / \\sigma` (one
    :math:`\\mu, \\sigma` for all pixels), except the brightest pixel :math:`b = 1`
    (the jet core), whose value is not modelled: when lit it holds the remainder
    :math:`q_b = 1 - \\sum_{k > 1} q_k`, so that every drawn image has exactly the
    requested total.  The condition is the standardised :math:`c = \\ln T`.

    **Likelihood.** With :math:`h_{<k}` the masked network's output for pixel
    :math:`k`, a function of :math:`c` and the pixels before :math:`k` only,

    .. math::

        -\\ln p(x \\mid c) = \\sum_{k=1}^{D} \\Big[ -\\ell_k \\ln \\pi_k - (1 - \\ell_k)
        \\ln (1 - \\pi_k) \\Big] - \\sum_{k=2}^{D} \\ell_k \\ln \\sum_j w_{kj}\\,
        \\mathcal N(v_k; m_{kj}, s_{kj}),

    with :math:`\\pi_k = \\mathrm{sigmoid}(a_k)` and :math:`(a_k, w_{kj}, m_{kj},
    s_{kj})` read from :math:`h_{<k}`.  Summed over the lit patterns and integrated
    over the :math:`v_k \\in \\mathbb R` it is one (a test checks it), so training
    maximises a likelihood and the evaluation value needs no sampling.  It is the
    density of the representation: drawing clamps :math:`q_k` at 1 and, for an
    image without its core, scales the lit pixels to hold the whole jet.  Each pixel shows the pixels after
    it :math:`\\ell_k`, :math:`v_k` and :math:`q_k` itself, from which the masked
    layers can sum the share of the jet already placed.  A hidden unit of degree :math:`d`
    sees the pixels up to :math:`d` and feeds the pixels after it; the degrees are
    :math:`d_j = \\lfloor D (j / W)^2 \\rfloor` for the :math:`W` units of a layer,
    so that the first pixels, the jet core that holds most of the intensity, are
    modelled by many units (:math:`W / \\sqrt D` of degree 0) rather than the two
    that MADE's even allotment leaves them at :math:`W = 2D`.  On 16 × 16 QCD jet
    images this lowered a classifier's two-sample AUC from 0.75 to 0.62.

    **Drawing** samples the pixels in order (one pass of the network per pixel),
    then gives a lit core the remainder.  Where the other pixels already hold the
    jet, they are scaled down to leave the core the floor (half the smallest
    fraction of the training images); where the core is empty, they are scaled
    to hold the whole jet.
    """

    def __init__(
        self,
        channels: int,
        size: int,
        *,
        width: int = 512,
        blocks: int = 2,
        components: int = 4,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.channels, self.size = check_positive("channels", channels), check_positive("size", size)
        self.n_pixels = channels * size * size
        if self.n_pixels < 2:
            raise ValueError("an autoregressive image model needs at least two pixels")
        check_widths("width", [width])
        check_dropout(dropout)
        self.components = check_positive("components", components)
        n = self.n_pixels
        self.n_outputs = 1 + 3 * self.components
        in_degree = torch.cat([torch.zeros(1), torch.arange(1, n + 1).repeat_interleave(INPUTS_PER_PIXEL)])
        # more hidden units for the first (brightest) pixels, which carry most of the jet: see Notes
        hidden_degree = (n * (torch.arange(width, dtype=torch.float64) / width) ** 2).long()
        out_degree = torch.arange(1, n + 1).repeat_interleave(self.n_outputs)
        self.first = _MaskedLinear(hidden_degree[:, None] >= in_degree[None, :])
        self.blocks = nn.ModuleList(
            _MaskedLinear(hidden_degree[:, None] >= hidden_degree[None, :])
            for _ in range(check_positive("blocks", blocks))
        )
        self.output = _MaskedLinear(out_degree[:, None] > hidden_degree[None, :])
        self.dropout = nn.Dropout(dropout)
        self.order: torch.Tensor
        self.log_q: torch.Tensor
        self.condition: torch.Tensor
        self.floor: torch.Tensor
        self.register_buffer("order", torch.arange(self.n_pixels))
        self.register_buffer("log_q", torch.tensor([0.0, 1.0]))
        self.register_buffer("condition", torch.tensor([0.0, 1.0]))
        self.register_buffer("floor", torch.tensor(1e-4))

    # -- the representation -----------------------------------------------------------
    @torch.no_grad()
    def prepare(self, images: torch.Tensor, weight: torch.Tensor, *, seed: int = 0) -> None:
        """Set the pixel order, the standardisation of ``ln q`` and ``ln T``, and the floor.

        ``images`` are training images with a positive total, ``weight`` their
        positive weights; the statistics are weighted (``seed`` is not used: nothing
        is drawn).
        """
        q, log_total = image_fractions(images.double())
        w = weight.double() / weight.double().sum()
        self.order.copy_(torch.argsort(-(w[:, None] * q).sum(dim=0), stable=True))
        lit = q > 0
        self.floor.fill_(float(q[lit].min()) / 2.0)
        others = lit[:, self.order[1:]]
        log_q = torch.log(q[:, self.order[1:]][others])
        lw = w[:, None].expand_as(others)[others]
        mean, std = weighted_moments(log_q, lw) if len(log_q) else (0.0, 1.0)
        self.log_q.copy_(torch.tensor([mean, max(std, 1e-3)]))
        mean, std = weighted_moments(log_total, w)
        self.condition.copy_(torch.tensor([mean, max(std, 1e-3)]))

    def _encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(c, lit, v, q)`` of the pixels in order: condition ``(n,)``, the rest ``(n, n_pixels)``.

        The brightest pixel (position 0) shows only its lit flag: its value is the remainder.
        """
        q, log_total = image_fractions(images)
        q = q[:, self.order]
        lit = (q > 0).to(q.dtype)
        v = torch.where(q > 0, (torch.log(q.clamp(min=self.floor)) - self.log_q[0]) / self.log_q[1], 0.0)
        core = torch.zeros_like(q[:, :1])
        v, q = torch.cat([core, v[:, 1:]], dim=1), torch.cat([core, q[:, 1:]], dim=1)
        return (log_total - self.condition[0]) / self.condition[1], lit, v, q

    @staticmethod
    def _inputs(c: torch.Tensor, lit: torch.Tensor, v: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        return torch.cat([c[:, None], torch.stack([lit, v, q], dim=2).flatten(1)], dim=1)

    def _hidden(self, x: torch.Tensor) -> torch.Tensor:
        h: torch.Tensor = self.dropout(F.gelu(self.first(x)))
        for block in self.blocks:
            h = h + self.dropout(F.gelu(block(h)))
        return h

    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """The network's raw outputs ``(n, n_pixels, 1 + 3 components)`` for inputs ``x``.

        ``x`` is ``(n, 1 + 3 n_pixels)``: the standardised ``ln T``, then each pixel's
        lit flag, standardised ``ln q`` and ``q`` in the model's order.  The outputs of
        pixel ``k`` (lit logit, mixture logits, means, ln σ) depend on ``ln T`` and on
        the pixels before ``k`` only.
        """
        out: torch.Tensor = self.output(self._hidden(x))
        return out.reshape(-1, self.n_pixels, self.n_outputs)

    def _split(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(lit logit, mixture logits, means, ln σ)`` from the last axis of the network's output."""
        k = self.components
        log_scale = out[..., 1 + 2 * k :].clamp(*LOG_SCALE_RANGE)
        return out[..., 0], out[..., 1 : 1 + k], out[..., 1 + k : 1 + 2 * k], log_scale

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(n_events, 1)``: −ln p of each image given its total (see Notes)."""
        c, lit, v, q = self._encode(images)
        out = self.outputs(self._inputs(c, lit, v, q))
        logit, mix, mean, log_scale = self._split(out)
        flags = F.binary_cross_entropy_with_logits(logit, lit, reduction="none")
        z = (v[..., None] - mean) * torch.exp(-log_scale)
        log_density = torch.logsumexp(
            F.log_softmax(mix, dim=-1) - 0.5 * z**2 - log_scale - 0.5 * math.log(2 * math.pi), dim=-1
        )
        valued = torch.cat([torch.zeros_like(lit[:, :1]), lit[:, 1:]], dim=1)  # the core's value is the remainder
        return (flags - valued * log_density).sum(dim=1, keepdim=True)

    # -- drawing ----------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, total: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw one image ``(channels, size, size)`` per requested total intensity ``total`` ``(n,)``."""
        dtype, device = self.log_q.dtype, self.log_q.device
        total = total.to(device=device, dtype=dtype)
        n, d = len(total), self.n_pixels
        c = (torch.log(total) - self.condition[0]) / self.condition[1]
        lit, v, q = (torch.zeros(n, d, dtype=dtype, device=device) for _ in range(3))
        top = float((0.0 - self.log_q[0]) / self.log_q[1])  # v of q = 1
        weight, bias = self.output.weight * self.output.mask, self.output.bias
        for k in range(d):
            h = self._hidden(self._inputs(c, lit, v, q))
            rows = slice(k * self.n_outputs, (k + 1) * self.n_outputs)
            logit, mix, mean, log_scale = self._split(h @ weight[rows].T + bias[rows])
            on = (_uniform((n,), generator, dtype, device) < torch.sigmoid(logit)).to(dtype)
            gumbel = -torch.log(-torch.log(_uniform((n, self.components), generator, dtype, device)))
            j = torch.argmax(F.log_softmax(mix, dim=-1) + gumbel, dim=1, keepdim=True)  # a component per pixel
            noise = torch.randn(n, generator=generator, dtype=dtype).to(device)
            value = (mean.gather(1, j)[:, 0] + torch.exp(log_scale.gather(1, j)[:, 0]) * noise).clamp(max=top)
            lit[:, k] = on
            if k:  # the core's value is the remainder, set below
                v[:, k] = on * value
                q[:, k] = on * torch.exp(value * self.log_q[1] + self.log_q[0])
        core = lit[:, 0] > 0
        placed = q.sum(dim=1)
        # a lit core takes the remainder (at least the floor); without it the other pixels hold the whole jet
        share = torch.where(core, placed.clamp(max=1.0 - float(self.floor)), torch.ones_like(placed))
        q = q * (share / placed.clamp(min=torch.finfo(dtype).tiny))[:, None]
        q[:, 0] = torch.where(core | (placed == 0), 1.0 - q.sum(dim=1), 0.0)
        fractions = torch.zeros(n, self.n_pixels, dtype=dtype, device=device)
        fractions[:, self.order] = q
        return (fractions * total[:, None]).reshape(n, self.channels, self.size, self.size)


def _uniform(
    shape: tuple[int, ...], generator: torch.Generator | None, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """Uniform draws in (0, 1) from ``generator`` (a CPU generator), moved to ``device``."""
    tiny = torch.finfo(dtype).tiny
    return torch.rand(shape, generator=generator, dtype=dtype).clamp(min=tiny, max=1.0 - 1e-7).to(device)
