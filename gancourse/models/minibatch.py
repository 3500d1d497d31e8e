"""Minibatch discrimination (Salimans et al. 2016, "Improved techniques for training GANs", Sec. 3.2).

A discriminator that scores each sample on its own cannot tell a batch of identical
samples from a varied one, so nothing stops the generator from collapsing onto the one
point D currently likes best. Minibatch discrimination lets D look across the batch.
With f(x_i) in R^A the features of sample i at an intermediate layer and a learnt
tensor T in R^{A x B x C}:

    M_i = f(x_i) T                                  in R^{B x C}   (one row per kernel b)
    c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_{L1})  in (0, 1]
    o(x_i)_b = sum_{j != i} c_b(x_i, x_j)            in [0, n - 1]

and the layer outputs [f(x_i), o(x_i)] in R^{A + B}, which the next layer of D reads.
o(x_i)_b counts, softly, the other samples of the batch that kernel b finds close to
x_i: a collapsed batch gives o = n - 1 in every kernel, a varied batch much less, and D
can learn to reject batches that are too alike. The paper's sum runs over every j; the
official code (``MinibatchLayer`` in openai/improved-gan) leaves out j = i, whose term
is the constant exp(0) = 1 (absorbed by the next layer's bias), and so do we.

Because D's score for one sample now depends on the rest of its batch, a per-sample
gradient penalty (WGAN-GP) is not defined for such a D, as with batch norm.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class MinibatchDiscrimination(nn.Module):
    """features (n, A) -> (n, A + B): the input with o(x_i) in R^B appended (Salimans et al. 2016, Sec. 3.2).

    ``in_features`` is A, ``kernels`` is B (the paper's CIFAR model: 100), ``kernel_dims``
    is C (5). T is drawn from N(0, 1/A), so each entry of M_i has the scale of f(x_i)'s entries.
    """

    def __init__(self, in_features: int, kernels: int = 100, kernel_dims: int = 5) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("kernels", kernels), ("kernel_dims", kernel_dims)):
            if value < 1:
                raise ValueError(f"{name} = {value} is out of range: allowed {name} >= 1")
        self.in_features, self.kernels, self.kernel_dims = in_features, kernels, kernel_dims
        self.T = nn.Parameter(torch.randn(in_features, kernels, kernel_dims) / math.sqrt(in_features))  # (A, B, C)

    def closeness(self, features: torch.Tensor) -> torch.Tensor:
        """o(x_i)_b = sum_{j != i} exp(-||M_{i,b} - M_{j,b}||_1), shape (n, B)."""
        if features.ndim != 2 or features.shape[1] != self.in_features:
            raise ValueError(f"features must have shape (n, {self.in_features}), got {tuple(features.shape)}")
        m = torch.einsum("na,abc->bnc", features, self.T)  # (B, n, C): M_i = f(x_i) T, kernel first
        # (B, n, n): ||M_{i,b} - M_{j,b}||_1 for every pair; cdist never forms the (n, n, B, C) differences
        l1 = torch.cdist(m, m, p=1)
        c = torch.exp(-l1)  # (B, n, n), 1 on the diagonal
        return c.sum(dim=2).T - 1.0  # (n, B): drop j = i, whose term is exp(0) = 1

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.cat([features, self.closeness(features)], dim=1)  # (n, A + B)

    def extra_repr(self) -> str:
        return f"A={self.in_features}, B={self.kernels}, C={self.kernel_dims}"
