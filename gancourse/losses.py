"""Losses and the quantities of GAN theory they come from.

Goodfellow et al. 2014 define the GAN as the two-player minimax game (Eq. 1)

    min_G max_D V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))].

For a fixed generator the best discriminator is (Prop. 1)

    D*(x) = p_data(x) / (p_data(x) + p_g(x)),

and at that discriminator (Thm. 1) V(D*, G) = -log 4 + 2 JSD(p_data || p_g), which
is minimal, -log 4, exactly when p_g = p_data.

The functions here evaluate these quantities for densities tabulated on a 1-D
grid, which is how the first chapter draws them.
"""

from __future__ import annotations

import math

import torch
from torch.special import xlogy


def normal_pdf(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Density of N(mean, std^2) at x."""
    if std <= 0:
        raise ValueError(f"std = {std} is out of range: allowed std > 0")
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
