"""Class-conditional DCGANs: Mirza & Osindero 2014, with the projection discriminator of Miyato & Koyama 2018.

A conditional GAN feeds the label y to both players (Mirza & Osindero 2014, Eq. 2):

    min_G max_D E_{x,y ~ p_data}[log D(x | y)] + E_{z ~ p_z, y ~ p_y}[log(1 - D(G(z | y) | y))].

* **Generator**: y becomes a learnt embedding e(y) (a one-hot vector times a matrix,
  which is what Mirza & Osindero's one-hot input to a linear layer computes) and
  is concatenated with z; the rest is the DCGAN generator with a
  ``latent_dim + embed_dim`` input.
* **Discriminator, concatenation** (Mirza & Osindero): e(y) is broadcast to
  ``embed_dim`` constant feature maps and concatenated with the image channels,
  so every layer can use it.
* **Discriminator, projection** (Miyato & Koyama 2018, Eq. 3): the image alone
  goes through the DCGAN feature layers phi, and the logit is

      D(x, y) = psi(phi(x)) + e(y)^T phi(x),

  an unconditional term plus the inner product of the features with the
  class's embedding. The paper derives this form from the log-likelihood ratio
  of class-conditional densities in the exponential family, and it beat input
  concatenation on ImageNet.

Labels are checked: an integer tensor of shape (B,) with values in ``[0, n_classes)``.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import check_int
from gancourse.models.dcgan import DCGANGenerator, dcgan_init
from gancourse.models.layers import n_doublings


def check_labels(labels: torch.Tensor, n_classes: int, batch: int | None = None) -> torch.Tensor:
    """``labels`` as int64 of shape (B,), or ``ValueError`` naming ``labels`` and the allowed range."""
    if not isinstance(labels, torch.Tensor):
        raise ValueError(f"labels must be a tensor of class indices, got {type(labels).__name__}")
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f"labels must hold integer class indices, got dtype {labels.dtype}")
    if labels.ndim != 1 or (batch is not None and len(labels) != batch):
        want = f"({batch},)" if batch is not None else "(B,)"
        raise ValueError(f"labels must have shape {want}, one class per sample; got {tuple(labels.shape)}")
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in [0, n_classes) = [0, {n_classes}); got values from "
            f"{int(labels.min())} to {int(labels.max())}"
        )
    return labels.long()


class ConditionalGenerator(nn.Module):
    """(z (B, latent_dim), labels (B,)) -> images (B, channels, image_size, image_size) in [-1, 1]."""

    def __init__(
        self,
        latent_dim: int = 100,
        n_classes: int = 10,
        base_channels: int = 64,
        image_size: int = 32,
        channels: int = 1,
        embed_dim: int = 10,
    ) -> None:
        super().__init__()
        check_int("n_classes", n_classes, 2)
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.embed = nn.Embedding(n_classes, embed_dim)  # e(y): row y of a (n_classes, embed_dim) matrix
        # the DCGAN generator, fed [z, e(y)] instead of z: (B, latent + embed) -> image
        self.body = DCGANGenerator(latent_dim + embed_dim, base_channels, image_size, channels)
        nn.init.normal_(self.embed.weight, 0.0, 1.0)  # same scale as z ~ N(0, I), so neither input dominates

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        labels = check_labels(labels, self.n_classes, len(z))
        return self.body(torch.cat([z, self.embed(labels)], dim=1))  # (B, latent + embed) -> (B, C, S, S)


class ConditionalDiscriminator(nn.Module):
    """(images (B, channels, S, S), labels (B,)) -> logits (B,): label by concatenation or by projection."""

    def __init__(
        self,
        n_classes: int = 10,
        base_channels: int = 64,
        image_size: int = 32,
        channels: int = 1,
        projection: bool = False,
        embed_dim: int = 10,
    ) -> None:
        super().__init__()
        check_int("n_classes", n_classes, 2)
        n = n_doublings(image_size)
        self.n_classes, self.projection, self.image_size = n_classes, projection, image_size
        width = base_channels
        # concatenation: the label enters as embed_dim constant maps next to the image channels
        in_channels = channels if projection else channels + embed_dim
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, width, kernel_size=4, stride=2, padding=1),  # no batch norm on D's input layer
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for _ in range(n - 1):  # (B, w, s, s) -> (B, 2w, s/2, s/2), down to 4 x 4
            layers += [
                nn.Conv2d(width, width * 2, kernel_size=4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            width *= 2
        self.features = nn.Sequential(*layers)  # phi: (B, width, 4, 4)
        self.feature_dim = width
        if projection:
            self.psi = nn.Linear(width, 1)  # the unconditional term psi(phi(x))
            self.embed = nn.Embedding(n_classes, width)  # e(y) lives in feature space: (n_classes, width)
        else:
            self.embed = nn.Embedding(n_classes, embed_dim)
            self.out = nn.Conv2d(width, 1, kernel_size=4, stride=1, padding=0)  # DCGAN's 4 x 4 -> 1 logit
        self.apply(dcgan_init)
        nn.init.normal_(self.embed.weight, 0.0, 1.0 if not projection else 0.02)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            raise ValueError(f"x must have shape (B, C, {self.image_size}, {self.image_size}), got {tuple(x.shape)}")
        labels = check_labels(labels, self.n_classes, len(x))
        e = self.embed(labels)  # (B, embed_dim) or (B, width)
        if self.projection:
            phi = self.features(x).sum(dim=(2, 3))  # (B, width): sum-pooled features, as in Miyato & Koyama
            return self.psi(phi).flatten() + (e * phi).sum(dim=1)  # psi(phi) + e(y)^T phi: (B,)
        maps = e[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])  # (B, embed_dim, S, S)
        return self.out(self.features(torch.cat([x, maps], dim=1))).flatten()  # (B,)
