"""Luminance-only style transfer: keep the photo's colours (Gatys, Bethge, Hertzmann & Shechtman 2016).

"Preserving Color in Neural Artistic Style Transfer" (arXiv:1606.05897) offers
luminance-only transfer: both images are converted to YIQ, the style's
luminance is shifted and scaled to the mean and standard deviation of the
content's luminance, style transfer produces a
new luminance, and the content's colour channels I and Q are put back.
"""

from __future__ import annotations

import torch

#: RGB -> YIQ (NTSC 1953, FCC); rows give Y, I, Q.
RGB_TO_YIQ = torch.tensor(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ]
)
YIQ_TO_RGB = torch.linalg.inv(RGB_TO_YIQ)


def _mix(images: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Apply a 3x3 colour matrix to images (B, 3, H, W)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (B, 3, H, W), got {tuple(images.shape)}")
    return torch.einsum("oc,bchw->bohw", matrix.to(images), images)


def rgb_to_yiq(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> (B, 3, H, W) YIQ; channel 0 is the luminance Y in [0, 1]."""
    return _mix(images, RGB_TO_YIQ)


def yiq_to_rgb(images: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`rgb_to_yiq` (values may leave [0, 1]; clamp to display)."""
    return _mix(images, YIQ_TO_RGB)


def luminance(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> (B, 1, H, W) luminance Y."""
    return rgb_to_yiq(images)[:, :1]


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """The style luminance with the content luminance's mean and standard deviation (arXiv:1606.05897)."""
    mu_s, sigma_s = style_y.mean(), style_y.std().clamp_min(1e-6)
    mu_c, sigma_c = content_y.mean(), content_y.std()
    return (style_y - mu_s) * (sigma_c / sigma_s) + mu_c


def with_content_colors(y: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """RGB image from luminance ``y`` (B, 1, H, W) and the I, Q channels of ``content`` (B, 3, H, W)."""
    iq = rgb_to_yiq(content)[:, 1:]  # (B, 2, H, W)
    return yiq_to_rgb(torch.cat([y, iq.expand(len(y), -1, -1, -1)], dim=1)).clamp(0, 1)
