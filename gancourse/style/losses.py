"""The losses of neural style transfer (Gatys, Ecker & Bethge 2016, Eqs. 1-7).

For a layer l with C_l filters and H_l x W_l positions, let F_l be its response
reshaped to (C_l, M_l) with M_l = H_l W_l.

* Content (Eq. 1): the paper's 1/2 sum (F_l - P_l)^2 between the responses to
  the image and to the photo; here the *mean* squared difference, i.e. the
  paper's loss divided by C_l M_l / 2.
* Style (Eqs. 3-5): the Gram matrix G_l = F_l F_l^T holds the correlations
  between filter responses, averaged over positions, so it keeps *which
  features occur together* and forgets *where*. The paper compares unnormalised
  Gram matrices and divides the squared error by 4 C_l^2 M_l^2; here
  :func:`gram_matrix` divides G_l by C_l M_l and :func:`style_loss` takes the
  mean over the C_l^2 entries, i.e. sum (G - A)^2 / (C_l^4 M_l^2). The two
  differ per layer by the constant factor 4 / C_l^2, so the change only
  rescales the per-layer weights w_l (and the overall beta).
* Total variation: not in Gatys et al.; a smoothness prior on the pixels
  (Mahendran & Vedaldi 2015, the TV^beta term with beta = 2) used by later
  work (Johnson et al. 2016) to remove high-frequency noise.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C): F F^T / (C H W) per image, with F the features as (C, H W)."""
    if features.ndim != 4:
        raise ValueError(f"features must have shape (B, C, H, W), got {tuple(features.shape)}")
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)  # (B, C, M)
    return flat @ flat.transpose(1, 2) / (c * h * w)  # (B, C, C), symmetric


def content_loss(
    features: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor], normalize: bool = False
) -> torch.Tensor:
    """Sum over content layers of the mean squared difference of responses (Eq. 1, rescaled).

    ``normalize=True`` divides each layer's error by the mean square of its
    target (see :func:`style_loss`).
    """
    if not targets:
        return _zero(features)
    total = 0.0
    for layer, target in targets.items():
        error = F.mse_loss(features[layer], target.expand_as(features[layer]))
        total = total + (error / _mean_square(target) if normalize else error)
    return total


def style_loss(
    features: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float],
    normalize: bool = False,
) -> torch.Tensor:
    """sum_l w_l E_l with E_l the mean squared difference of Gram matrices (Eqs. 4-5, rescaled).

    ``normalize=True`` divides each E_l by the mean square of the target A_l,
    making every layer's error relative (0 = perfect, 1 = as far as a zero Gram
    matrix). That is not in the paper: it keeps layers with tiny or huge
    responses (random weights, say) from vanishing from or dominating the sum,
    and keeps the loss near 1, where L-BFGS's fixed tolerances work.
    """
    if not target_grams:
        return _zero(features)
    total = 0.0
    for layer, target in target_grams.items():
        error = F.mse_loss(gram_matrix(features[layer]), target.expand(len(features[layer]), -1, -1))
        if normalize:
            error = error / _mean_square(target)
        total = total + layer_weights[layer] * error
    return total


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between vertically and between horizontally adjacent pixels, summed.

    For images (B, C, H, W): mean((x[i+1, j] - x[i, j])^2) + mean((x[i, j+1] - x[i, j])^2).
    """
    if images.ndim != 4:
        raise ValueError(f"images must have shape (B, C, H, W), got {tuple(images.shape)}")
    dy = images[:, :, 1:, :] - images[:, :, :-1, :]  # (B, C, H-1, W)
    dx = images[:, :, :, 1:] - images[:, :, :, :-1]  # (B, C, H, W-1)
    return dy.square().mean() + dx.square().mean()


def _mean_square(target: torch.Tensor) -> torch.Tensor:
    return target.square().mean().clamp_min(1e-30)  # an all-zero target (dead layer) stays finite


def _zero(features: Mapping[str, torch.Tensor]) -> torch.Tensor:
    any_tensor = next(iter(features.values()))
    return any_tensor.new_zeros(())
