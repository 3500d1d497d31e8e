"""The domain classifier: a small CNN that the evaluation metrics use as their feature extractor.

FID and KID compare two sets of images through the activations of a network
trained to recognise images (Heusel et al. 2017 use InceptionV3's 2048-d pool
layer). For 32 x 32 digits and clothes a network trained on those very images
sees the differences that matter there better than an ImageNet network does on
upsampled grey digits, and it trains in a minute on a laptop CPU. Its
penultimate activations (``feature_dim``, 128 by default) are the features; its
softmax over the ten classes is p(y | x) for the Inception Score and for the
class histogram of generated samples.

Colour data (emoji, CIFAR-10) only changes the first layer's input channels
(``in_channels=3``); the rest of the network is the same.

The layout is the classic LeNet pattern (LeCun et al. 1998) with batch
normalisation (Ioffe & Szegedy 2015): two 3 x 3 conv / BN / ReLU / 2 x 2 max-pool
stages, a fully connected feature layer, and a linear layer to the class logits.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import check_positive_ints

IMAGE_SIZE = 32  # the book's generators produce C x 32 x 32 images in [-1, 1] (C = 1 grey, 3 colour)


class DomainClassifier(nn.Module):
    """images (B, in_channels, 32, 32) in [-1, 1] -> class logits (B, num_classes); ``features``: (B, feature_dim)."""

    def __init__(self, channels: int = 32, feature_dim: int = 128, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        check_positive_ints(
            channels=channels, feature_dim=feature_dim, num_classes=num_classes, in_channels=in_channels
        )
        self.channels, self.feature_dim, self.num_classes = channels, feature_dim, num_classes
        self.in_channels = in_channels
        c = channels
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, c, 3, padding=1, bias=False),  # (B, c, 32, 32); BN's shift replaces the bias
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # (B, c, 16, 16)
            nn.Conv2d(c, 2 * c, 3, padding=1, bias=False),  # (B, 2c, 16, 16)
            nn.BatchNorm2d(2 * c),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # (B, 2c, 8, 8)
            nn.Flatten(),  # (B, 2c * 64)
            nn.Linear(2 * c * 8 * 8, feature_dim),
            nn.ReLU(inplace=True),  # (B, feature_dim): the penultimate activations = the metric features
        )
        self.head = nn.Linear(feature_dim, num_classes)  # (B, num_classes) logits

    def _check(self, images: torch.Tensor) -> None:
        if images.ndim != 4 or images.shape[1:] != (self.in_channels, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(
                f"images have shape {tuple(images.shape)} but the domain classifier takes "
                f"(B, {self.in_channels}, {IMAGE_SIZE}, {IMAGE_SIZE}) in [-1, 1]: load data with "
                f"DataConfig(image_size={IMAGE_SIZE})"
            )

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The penultimate activations, (B, feature_dim): what FID and KID compare."""
        self._check(images)
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))
