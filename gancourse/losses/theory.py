"""The quantities of GAN theory, for densities tabulated on a 1-D grid (how the first chapters draw them).

Goodfellow et al. 2014 define the GAN as the two-player minimax game (Eq. 1)

    min_G max_D V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))].

For a fixed generator the best discriminator is (Prop. 1)

    D*(x) = p_data(x) / (p_data(x) + p_g(x)),

and at that discriminator (Thm. 1) V(D*, G) = -log 4 + 2 JSD(p_data || p_g), which
is minimal, -log 4, exactly when p_g = p_data.

In one dimension the earth mover's distance of the Wasserstein GAN (Arjovsky et al. 2017,
Eq. 1) has a closed form in the cumulative distribution functions (:func:`wasserstein_1d`).

For the least-squares GAN (Mao et al. 2017) with targets a (fake) and b (real), the best D for
a fixed G is D*(x) = (b p_data(x) + a p_g(x)) / (p_data(x) + p_g(x)) (Eq. 4), and with
b - c = 1, b - a = 2 (e.g. a = -1, b = 1, c = 0) G's objective at D*, extended by the G-free
term 1/2 E_x[(D(x) - c)^2], is half a Pearson chi^2 divergence (Eq. 5-7):
2 C(G) = chi^2_Pearson(p_data + p_g || 2 p_g).
"""

from __future__ import annotations

import math

import torch
from torch.special import xlogy


def normal_pdf(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Density of N(mean, std^2) at x."""
    if not (math.isfinite(std) and std > 0):
        raise ValueError(f"std = {std} is out of range: allowed a finite std > 0")
    if not math.isfinite(mean):
        raise ValueError(f"mean = {mean} is out of range: allowed a finite number")
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Goodfellow et al. 2014, Prop. 1).

    Where both densities vanish D* is undefined and does not enter V; 1/2 is returned there.
    """
    total = p_data + p_g
    return torch.where(total > 0, p_data / total.clamp_min(torch.finfo(total.dtype).tiny), 0.5)


def value_function(d: torch.Tensor, p_data: torch.Tensor, p_g: torch.Tensor, dx: float) -> torch.Tensor:
    """V(D, G) = ∫ p_data log D + p_g log(1 - D) dx (Eq. 1 with x = G(z)), as a Riemann sum.

    ``d``, ``p_data`` and ``p_g`` are tabulated on one grid of spacing ``dx``;
    a term whose density is 0 contributes 0 (the convention 0 log 0 = 0).
    """
    return (xlogy(p_data, d) + xlogy(p_g, 1 - d)).sum() * dx


def optimal_value(p_data: torch.Tensor, p_g: torch.Tensor, dx: float) -> torch.Tensor:
    """V(D*, G): ``value_function`` at the optimal discriminator, computed without forming D*.

    log D* = log p_data - log(p_data + p_g) and log(1 - D*) = log p_g - log(p_data + p_g);
    written this way, a D* that rounds to exactly 0 or 1 in the tails cannot produce log 0.
    """
    total = p_data + p_g
    return (xlogy(p_data, p_data) - xlogy(p_data, total) + xlogy(p_g, p_g) - xlogy(p_g, total)).sum() * dx


def jensen_shannon(p: torch.Tensor, q: torch.Tensor, dx: float) -> torch.Tensor:
    """JSD(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2, in nats; between 0 and log 2."""
    m = (p + q) / 2
    kl_pm = (xlogy(p, p) - xlogy(p, m)).sum() * dx
    kl_qm = (xlogy(q, q) - xlogy(q, m)).sum() * dx
    return (kl_pm + kl_qm) / 2


def wasserstein_1d(p: torch.Tensor, q: torch.Tensor, dx: float) -> torch.Tensor:
    """W1(p, q) = ∫ |F_p(x) - F_q(x)| dx for densities tabulated on one 1-D grid of spacing ``dx``.

    In one dimension the earth mover's distance (Arjovsky et al. 2017, Eq. 1) has this closed form
    in the cumulative distribution functions F, here the running Riemann sums F(x_i) = sum_{j<=i} p_j dx.
    For two normals with one standard deviation it is the distance between their means.
    """
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"p and q must be densities on one 1-D grid, got shapes {tuple(p.shape)} and {tuple(q.shape)}")
    cdf_p, cdf_q = p.cumsum(0) * dx, q.cumsum(0) * dx  # (N,) each
    return (cdf_p - cdf_q).abs().sum() * dx


def least_squares_optimal_discriminator(
    p_data: torch.Tensor, p_g: torch.Tensor, a: float = 0.0, b: float = 1.0
) -> torch.Tensor:
    """D*(x) = (b p_data(x) + a p_g(x)) / (p_data(x) + p_g(x)) (Mao et al. 2017, Eq. 4).

    The pointwise minimiser of p_data (D - b)^2 + p_g (D - a)^2: a density-weighted mean of
    the two targets. Where both densities vanish D* does not enter the loss; (a + b)/2 is returned.
    """
    total = p_data + p_g
    return torch.where(total > 0, (b * p_data + a * p_g) / total.clamp_min(torch.finfo(total.dtype).tiny), (a + b) / 2)


def least_squares_value(
    d: torch.Tensor, p_data: torch.Tensor, p_g: torch.Tensor, dx: float, target: float
) -> torch.Tensor:
    """1/2 ∫ p_data (D - t)^2 + p_g (D - t)^2 dx: G's objective extended by the G-free real term (Eq. 8 with t = c)."""
    return 0.5 * ((p_data + p_g) * (d - target) ** 2).sum() * dx


def pearson_chi2(p: torch.Tensor, q: torch.Tensor, dx: float) -> torch.Tensor:
    """chi^2_Pearson(p || q) = ∫ (q - p)^2 / p dx, over the grid points where p > 0 (Mao et al. 2017, Eq. 7)."""
    inside = p > 0
    return ((q[inside] - p[inside]) ** 2 / p[inside]).sum() * dx
