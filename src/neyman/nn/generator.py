"""A conditional generator of jet images: flow matching on sparse calorimeter images.

:class:`ImageFlowMatching` learns the images of jets given their total intensity
(the jet pT or energy that the image holds) and draws new ones by integrating a
learned velocity field from Gaussian noise.  Its ``forward`` returns the
per-event flow-matching loss ``(n_events, 1)`` (random times and noise in
training, a fixed set of probes in evaluation), so the trainer minimises
``mean(w * forward(x))`` as for every unsupervised network, and the evaluation
value is a deterministic anomaly score (a denoising error, as for diffusion
models).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from neyman.nn.layers import check_positive, check_widths, image_fractions, weighted_moments

__all__ = ["ImageFlowMatching"]

TIME_FREQUENCIES = 8
"""Sine/cosine pairs of the time embedding."""
POWER = 0.5
"""Power of the Box-Cox transform of the lit pixels' fractions (0 would be the logarithm)."""
PROBES = 8
"""Times (and fixed noise vectors) at which the evaluation-mode loss is averaged."""


class _Block(nn.Module):
    """A residual block of the velocity network, modulated by the time and condition embedding."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.film = nn.Linear(width, 2 * width)
        self.body = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        gain, bias = self.film(e).chunk(2, dim=1)
        out: torch.Tensor = self.body(self.norm(h) * (1.0 + gain) + bias)
        return h + out


class ImageFlowMatching(nn.Module):
    """Conditional flow matching on jet images, the condition being the image's total intensity.

    Parameters
    ----------
    channels
        Image channels.
    size
        Pixels per side.
    width
        Width of the velocity network's residual blocks.
    blocks
        Residual blocks.
    steps
        Midpoint steps of the ODE integration when drawing.

    Notes
    -----
    **Representation.** An image with pixel intensities :math:`p_k \\ge 0` and
    total :math:`T = \\sum_k p_k` is described by its fractions
    :math:`q_k = p_k / T` and the number :math:`N` of lit pixels.  A lit pixel
    becomes :math:`y_k = 2\\,(\\sqrt{q_k / q_0} - 1) > 0` (the Box-Cox transform
    with power :data:`POWER` = 1/2), with the floor :math:`q_0` half the smallest
    fraction of the training images; an empty pixel is dequantised into
    :math:`y_k \\in (-1, 0)` (uniform noise in training, :math:`-1/2` in
    evaluation), and :math:`y_N = \\ln N` (jittered by :math:`U(-1/2, 1/2)/N`).
    The vector :math:`x_1 = ((y_k), y_N)` is standardised (one mean and width for
    all pixels, its own for :math:`y_N`); the condition is the standardised
    :math:`c = \\ln T`.  The square root rather than a logarithm keeps the
    sharing of the intensity between the hardest pixels, which sets the jet mass:
    errors of a logarithmic representation are exponentiated and hand the leading
    pixel too much of the jet.

    **Training** (Lipman et al. 2210.02747, the straight-path case): with
    :math:`x_0 \\sim \\mathcal N(0, 1)`, :math:`t \\sim U(0, 1)` and
    :math:`x_t = (1 - t) x_0 + t x_1`, the velocity network :math:`v_\\theta`
    minimises the per-event loss

    .. math:: \\ell(x_1) = \\frac1D \\lVert v_\\theta(x_t, t, c) - (x_1 - x_0) \\rVert^2 .

    In evaluation mode :math:`\\ell` is averaged over :data:`PROBES` fixed times
    :math:`t_j = (j + 1/2) / J` and fixed noise vectors, so the anomaly score of an
    event does not depend on the batch it is scored in.

    **Drawing** integrates :math:`\\dot x = v_\\theta(x, t, c)` from
    :math:`x_0 \\sim \\mathcal N(0, 1)` at :math:`t = 0` to :math:`t = 1` with the
    midpoint rule, then keeps the :math:`\\hat N = \\mathrm{round}\\, e^{y_N}`
    largest :math:`y_k` as lit pixels (:math:`q_k = q_0 (1 + \\max(y_k, 0) / 2)^2`), sets
    the others to zero, and scales the fractions to the requested total
    :math:`T`: the sparsity of the images is drawn, not thresholded.
    """

    def __init__(self, channels: int, size: int, *, width: int = 512, blocks: int = 4, steps: int = 16) -> None:
        super().__init__()
        self.channels, self.size = check_positive("channels", channels), check_positive("size", size)
        self.steps = check_positive("steps", steps)
        check_widths("width", [width])
        self.n_pixels = channels * size * size
        dim = self.n_pixels + 1
        self.embed = nn.Sequential(nn.Linear(2 * TIME_FREQUENCIES + 2, width), nn.SiLU(), nn.Linear(width, width))
        self.inputs = nn.Linear(dim, width)
        self.blocks = nn.ModuleList(_Block(width) for _ in range(check_positive("blocks", blocks)))
        self.output = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, dim))
        self.floor: torch.Tensor
        self.shift: torch.Tensor
        self.scale: torch.Tensor
        self.condition: torch.Tensor
        self.probe_noise: torch.Tensor
        self.register_buffer("floor", torch.tensor(1e-4))
        self.register_buffer("shift", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))
        self.register_buffer("condition", torch.tensor([0.0, 1.0]))
        generator = torch.Generator().manual_seed(20_221_005)
        self.register_buffer("probe_noise", torch.randn(PROBES, dim, generator=generator))

    # -- the representation -----------------------------------------------------------
    def represent(self, images: torch.Tensor, noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x_1, ln T)``: the unstandardised vector of the Notes, and the log total.

        ``noise`` ``(n, n_pixels + 1)`` in ``[0, 1)`` dequantises empty pixels and the
        count; ``None`` puts empty pixels at ``-1/2`` and leaves the count exact.
        """
        q, log_total = image_fractions(images)
        lit = q > 0
        count = lit.sum(dim=1).clamp(min=1).to(q.dtype)
        if noise is None:
            empty, jitter = torch.full_like(q, -0.5), torch.zeros_like(count)
        else:
            empty, jitter = -noise[:, :-1], (noise[:, -1] - 0.5) / count
        y = torch.where(lit, self._box_cox(torch.maximum(q, self.floor) / self.floor), empty)
        return torch.cat([y, (torch.log(count) + jitter)[:, None]], dim=1), log_total

    @torch.no_grad()
    def prepare(self, images: torch.Tensor, weight: torch.Tensor, *, seed: int = 0) -> None:
        """Set the floor and the standardisation from training images of positive total and weight.

        The floor ``q_0`` is half the smallest non-zero pixel fraction; ``x_1``
        (empty pixels dequantised with noise drawn from ``seed``, as in training)
        is standardised with one weighted mean and standard deviation shared by all
        pixels (per-pixel widths would make the values of a rarely lit pixel
        outliers of many σ), and its count and ``ln T`` each with their own.
        """
        images = images.double()
        q, log_total = image_fractions(images)
        self.floor.fill_(float(q[q > 0].min()) / 2.0)
        noise = torch.rand(len(images), self.n_pixels + 1, generator=torch.Generator().manual_seed(seed))
        x1 = self.represent(images, noise.double())[0]
        pixels = weighted_moments(x1[:, :-1], weight[:, None])
        count = weighted_moments(x1[:, -1], weight)
        self.shift.copy_(torch.cat([torch.full((self.n_pixels,), pixels[0]), torch.tensor([count[0]])]))
        self.scale.copy_(torch.cat([torch.full((self.n_pixels,), pixels[1]), torch.tensor([count[1]])]).clamp(min=1e-3))
        self.condition.copy_(torch.tensor(weighted_moments(log_total, weight)))

    @staticmethod
    def _box_cox(r: torch.Tensor) -> torch.Tensor:
        """``(r^γ - 1) / γ`` of ``r = q / q_0 ≥ 1``, γ = :data:`POWER`."""
        return (r**POWER - 1.0) / POWER

    @staticmethod
    def _inverse_box_cox(y: torch.Tensor) -> torch.Tensor:
        return (1.0 + POWER * y) ** (1.0 / POWER)

    # -- the velocity field -----------------------------------------------------------
    def velocity(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``v(x, t, c)`` for standardised ``x`` ``(n, D)``, times ``t`` ``(n, 1)``, condition ``c`` ``(n, 1)``."""
        k = torch.arange(TIME_FREQUENCIES, dtype=x.dtype, device=x.device)
        angle = t * (math.pi * torch.exp(k * (math.log(1000.0) / TIME_FREQUENCIES)))
        e = self.embed(torch.cat([torch.sin(angle), torch.cos(angle), t, c], dim=1))
        h = self.inputs(x)
        for block in self.blocks:
            h = block(h, e)
        return self.output(h)  # type: ignore[no-any-return]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(n_events, 1)``: the flow-matching loss of each image (see Notes)."""
        n = len(images)
        if self.training:
            x1, log_total = self.represent(images, torch.rand(n, self.n_pixels + 1, device=images.device))
        else:
            x1, log_total = self.represent(images)
        x1 = (x1 - self.shift) / self.scale
        c = ((log_total - self.condition[0]) / self.condition[1])[:, None]
        if self.training:
            x0 = torch.randn_like(x1)
            t = torch.rand(n, 1, device=x1.device, dtype=x1.dtype)
            xt = (1.0 - t) * x0 + t * x1
            return ((self.velocity(xt, t, c) - (x1 - x0)) ** 2).mean(dim=1, keepdim=True)
        losses = []
        for j in range(PROBES):
            x0 = self.probe_noise[j].expand_as(x1)
            t = torch.full_like(x1[:, :1], (j + 0.5) / PROBES)
            xt = (1.0 - t) * x0 + t * x1
            losses.append(((self.velocity(xt, t, c) - (x1 - x0)) ** 2).mean(dim=1))
        return torch.stack(losses, dim=1).mean(dim=1, keepdim=True)

    # -- drawing ----------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, total: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw one image ``(channels, size, size)`` per requested total intensity ``total`` ``(n,)``."""
        total = total.to(device=self.shift.device, dtype=self.shift.dtype)
        n, h = len(total), 1.0 / self.steps
        c = ((torch.log(total) - self.condition[0]) / self.condition[1])[:, None]
        x = torch.randn(n, self.n_pixels + 1, generator=generator, dtype=self.shift.dtype).to(self.shift.device)
        for k in range(self.steps):
            t = torch.full((n, 1), k * h, dtype=x.dtype, device=x.device)
            middle = x + 0.5 * h * self.velocity(x, t, c)
            x = x + h * self.velocity(middle, t + 0.5 * h, c)
        y = x * self.scale + self.shift
        pixels = y[:, :-1]
        count = torch.exp(y[:, -1]).round().clamp(1, self.n_pixels).long()
        rank = pixels.argsort(dim=1, descending=True).argsort(dim=1)
        lit = self.floor * self._inverse_box_cox(pixels.clamp(min=0.0))
        q = torch.where(rank < count[:, None], lit, torch.zeros_like(pixels))
        q = q / q.sum(dim=1, keepdim=True)
        return (q * total[:, None]).reshape(n, self.channels, self.size, self.size)
