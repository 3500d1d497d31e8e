"""Multi-layer perceptrons: the smallest networks of the book.

``TinyRegressor`` is the 3 -> 20 -> 1 network of the PyTorch-basics chapter: one
hidden layer with a ReLU, enough to fit a smooth function of three inputs
(a one-hidden-layer network is a universal approximator, Hornik et al. 1989).

``MLPGenerator`` and ``MLPDiscriminator`` are the fully connected G and D of the
original GAN (Goodfellow et al. 2014, Sec. 5), for 2-D toy data and for MNIST.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gancourse.checks import check_positive_ints
from gancourse.models.dcgan import _minibatch_layer, _minibatch_logit


class TinyRegressor(nn.Module):
    """x (B, in_features) -> y (B, out_features) through one hidden ReLU layer."""

    def __init__(self, in_features: int = 3, hidden: int = 20, out_features: int = 1) -> None:
        super().__init__()  # registers the parameters of the layers assigned below
        check_positive_ints(in_features=in_features, hidden=hidden, out_features=out_features)
        self.hidden = nn.Linear(in_features, hidden)  # weight (hidden, in), bias (hidden,)
        self.output = nn.Linear(hidden, out_features)  # weight (out, hidden), bias (out,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(torch.relu(self.hidden(x)))


class MLPGenerator(nn.Module):
    """z (B, latent_dim) -> sample (B, *out_shape) through fully connected layers.

    Goodfellow et al. 2014 used ReLU and sigmoid units in G; we use ReLU and, for
    images, a final tanh so that samples live in [-1, 1] like the scaled data. For
    2-D points (``image_output=False``) the output is left unbounded.
    """

    def __init__(
        self,
        latent_dim: int = 100,
        hidden: int = 256,
        out_shape: tuple[int, ...] = (1, 32, 32),
        n_hidden: int = 3,
        image_output: bool = True,
    ) -> None:
        super().__init__()
        check_positive_ints(latent_dim=latent_dim, hidden=hidden, n_hidden=n_hidden)
        self.latent_dim, self.out_shape = latent_dim, tuple(out_shape)
        widths = [latent_dim] + [max(hidden // 2 ** (n_hidden - 1 - i), 4) for i in range(n_hidden)]  # narrow -> wide
        layers: list[nn.Module] = []
        for w_in, w_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(w_in, w_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], math.prod(self.out_shape)))
        if image_output:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.out_shape)


class MLPDiscriminator(nn.Module):
    """sample (B, *in_shape) -> logit (B,): fully connected, LeakyReLU(0.2), no sigmoid.

    The sigmoid lives in the loss (``binary_cross_entropy_with_logits``), which is
    exact where a separate sigmoid would round to 0 or 1. Goodfellow et al. 2014 used
    maxout units and dropout in D; LeakyReLU is the common modern substitute.
    :meth:`features` is the last hidden layer (feature matching, Salimans et al. 2016,
    Sec. 3.1); ``minibatch_kernels`` > 0 adds minibatch discrimination on it (Sec. 3.2).
    """

    def __init__(
        self,
        in_shape: tuple[int, ...] = (1, 32, 32),
        hidden: int = 256,
        n_hidden: int = 2,
        minibatch_kernels: int = 0,
        minibatch_kernel_dims: int = 5,
    ) -> None:
        super().__init__()
        check_positive_ints(hidden=hidden, n_hidden=n_hidden)
        widths = [math.prod(in_shape)] + [max(hidden // 2**i, 4) for i in range(n_hidden)]  # wide -> narrow
        layers: list[nn.Module] = [nn.Flatten()]
        for w_in, w_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(w_in, w_out), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(widths[-1], 1))
        self.net = nn.Sequential(*layers)
        self.minibatch = _minibatch_layer(widths[-1], minibatch_kernels, minibatch_kernel_dims)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """f(x): the last hidden layer's activations, (B, width)."""
        return self.net[:-1](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.minibatch is None:
            return self.net(x).squeeze(1)  # (B, 1) -> (B,)
        hidden = self.net[:-1](x)  # (B, width)
        return self.net[-1](hidden).squeeze(1) + _minibatch_logit(self.minibatch, hidden)
