"""Differentiable augmentation for data-efficient GANs: :func:`diff_augment` and :class:`Augmented`.

Zhao et al. 2020 ("Differentiable Augmentation for Data-Efficient GAN Training") observe
that a discriminator trained on few images memorises them, and that augmenting only the
real images does not help: the generator is then trained to match the *augmented*
distribution, and learns to draw the augmentation (their Fig. 2 and Sec. 3.1, "Augment
reals only"). Augmenting real and fake images in D's step only is no better (D and G
then see different fakes, Sec. 3.1, "Augment D only"). DiffAugment applies one transform
T to every image the discriminator sees, real and fake, in D's step and in G's step, so
that both players play the game on T(x) and T(G(z)) (Eq. 2-3):

    L_D = E_x[f_D(-D(T(x)))] + E_z[f_D(D(T(G(z))))],    L_G = E_z[f_G(-D(T(G(z))))].

Because G's loss goes through T, every T must be differentiable in its input. The three
policies of the paper's code (``DiffAugment_pytorch.py``), for images in [-1, 1]:

* ``color``: brightness + U[-1/2, 1/2]; saturation: each pixel's deviation from its
  channel mean scaled by U[0, 2]; contrast: the deviation from the image mean scaled by
  U[1/2, 3/2] (one draw per image each);
* ``translation``: a shift by up to 1/8 of the side in each direction, integer pixels,
  the uncovered border filled with zeros;
* ``cutout``: a square of half the side, at a uniformly drawn centre, set to zero.

All are gathers, adds and products of the input: their gradient reaches every pixel
that survives the transform. ``probability`` (not in the paper, whose ops always apply)
applies each op to each image with that probability, so that p = 0 is the identity;
Karras et al. 2020b (ADA) make this p the knob they tune. The draws come from the
global torch RNG unless a ``torch.Generator`` is passed: the trainer saves and restores
the global RNG in its checkpoints and atomic steps, so augmented runs resume exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

#: The ops of DiffAugment in the order the paper's code applies them.
OPS = ("color", "translation", "cutout")
#: Every policy :func:`diff_augment` accepts: "" (off) and each non-empty subset of OPS, in OPS order.
POLICIES = ("",) + tuple(",".join(op for i, op in enumerate(OPS) if mask >> i & 1) for mask in range(1, 2 ** len(OPS)))


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,cutout"`` -> ``("color", "cutout")``; ``ValueError`` naming the allowed ops otherwise."""
    if not isinstance(policy, str):
        raise ValueError(f"policy = {policy!r} must be a string of comma-separated ops from {', '.join(OPS)}")
    ops = tuple(op.strip() for op in policy.split(",") if op.strip())
    unknown = [op for op in ops if op not in OPS]
    if unknown or len(set(ops)) != len(ops):
        raise ValueError(
            f"policy = {policy!r} is not allowed: comma-separated ops, each at most once, from {', '.join(OPS)}"
        )
    return ops


def _uniform(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One U[0, 1) draw per image, shaped (B, 1, 1, 1) to broadcast over the image."""
    return torch.rand(len(x), 1, 1, 1, dtype=x.dtype, device=x.device, generator=generator)


def _randint(high: int, n: int, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """n integers uniform in [0, high), on the images' device."""
    return torch.randint(0, high, (n,), device=x.device, generator=generator)


def color(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random brightness, saturation and contrast (Zhao et al. 2020, ``rand_brightness/saturation/contrast``)."""
    x = x + (_uniform(x, generator) - 0.5)  # brightness: + U[-0.5, 0.5]
    mean = x.mean(dim=1, keepdim=True)  # (B, 1, H, W): the grey value of each pixel
    x = (x - mean) * (_uniform(x, generator) * 2) + mean  # saturation: x U[0, 2] around it
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean  # contrast: x U[0.5, 1.5]


def translation(
    x: torch.Tensor, ratio: float = 0.125, generator: torch.Generator | None = None, apply: torch.Tensor | None = None
) -> torch.Tensor:
    """Shift each image by integers in [-ratio S, ratio S] along each axis; zeros fill the border.

    As the paper's ``rand_translation``: the image is padded by one zero pixel and every output
    pixel gathers the input pixel it comes from, clamped onto that padding when it falls outside.
    ``apply`` (B,) bool: images with False get shift 0, i.e. are returned unchanged.
    """
    b, _, h, w = x.shape
    shift_h, shift_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = _randint(2 * shift_h + 1, b, x, generator) - shift_h  # (B,)
    dx = _randint(2 * shift_w + 1, b, x, generator) - shift_w
    if apply is not None:
        dy, dx = dy * apply, dx * apply
    rows = torch.arange(h, device=x.device).view(1, h, 1) + dy.view(b, 1, 1) + 1  # (B, H, 1): +1 for the padding
    cols = torch.arange(w, device=x.device).view(1, 1, w) + dx.view(b, 1, 1) + 1  # (B, 1, W)
    rows, cols = rows.clamp(0, h + 1), cols.clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])  # (B, C, H + 2, W + 2)
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    # advanced indexing over (batch, row, col) of the channels-last view: (B, H, W, C), back to (B, C, H, W)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(
    x: torch.Tensor, ratio: float = 0.5, generator: torch.Generator | None = None, apply: torch.Tensor | None = None
) -> torch.Tensor:
    """Zero a square of side ratio S at a uniformly drawn centre of each image (the paper's ``rand_cutout``).

    The square is clipped where it crosses the border. ``apply`` (B,) bool: images with
    False keep every pixel.
    """
    b, _, h, w = x.shape
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    # the paper's offsets: centres in [0, S + (1 - size % 2)), the square spanning centre - size // 2 onwards
    top = _randint(h + (1 - size_h % 2), b, x, generator) - size_h // 2  # (B,)
    left = _randint(w + (1 - size_w % 2), b, x, generator) - size_w // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top.view(b, 1, 1)) & (rows < top.view(b, 1, 1) + size_h)
    inside = inside & (cols >= left.view(b, 1, 1)) & (cols < left.view(b, 1, 1) + size_w)  # (B, H, W)
    if apply is not None:
        inside = inside & apply.view(b, 1, 1)
    return x * (~inside).unsqueeze(1).to(x.dtype)  # (B, 1, H, W) mask broadcast over the channels


def diff_augment(
    x: torch.Tensor, policy: str = "color,translation,cutout", probability: float = 1.0, generator=None
) -> torch.Tensor:
    """T(x): the ops of ``policy`` applied in turn to images ``x`` (B, C, H, W) in [-1, 1] (Zhao et al. 2020).

    Each op is applied to each image independently with ``probability`` (1: the paper's
    DiffAugment; 0: the identity, returning ``x`` itself). Differentiable in ``x``; the
    draws come from ``generator``, or from the global RNG when None.
    """
    ops = parse_policy(policy)
    if not (0.0 <= probability <= 1.0):
        raise ValueError(f"probability = {probability} is out of range: allowed 0 <= probability <= 1")
    if x.ndim != 4:
        raise ValueError(f"images must have shape (B, C, H, W), got {tuple(x.shape)}")
    for op in ops:
        apply = None
        if probability < 1.0:
            apply = torch.rand(len(x), device=x.device, generator=generator) < probability  # (B,)
        if op == "color":
            augmented = color(x, generator)
            x = augmented if apply is None else torch.where(apply.view(-1, 1, 1, 1), augmented, x)
        elif op == "translation":
            x = translation(x, generator=generator, apply=apply)
        else:
            x = cutout(x, generator=generator, apply=apply)
    return x


class AugmentedCritic:
    """D(T(x)): a critic that augments every batch it scores, with the same policy each time."""

    def __init__(self, critic: Callable, policy: str, probability: float = 1.0) -> None:
        self.critic, self.policy, self.probability = critic, policy, probability

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(diff_augment(x, self.policy, self.probability))


class Augmented:
    """An objective whose critic sees T(real) and T(fake) in D's and G's steps (DiffAugment, Zhao et al. 2020).

    ``base`` is any objective (minimax, hinge, Wasserstein, R1-regularised...); its
    ``loss_d`` and ``loss_g`` receive the critic wrapped as x -> critic(diff_augment(x)),
    so a gradient penalty or R1 inside ``base`` differentiates through T as well, as in the
    paper's StyleGAN2 code where T is part of D. ``reals=True, fakes=False`` augments the
    real images only: the mistake the paper warns of, kept so that the book can show its
    effect (G learns to draw T). It applies in both steps, as a data-augmentation pipeline
    that transforms the training images before the GAN sees them would.
    """

    def __init__(
        self, base: Any, policy: str, probability: float = 1.0, reals: bool = True, fakes: bool = True
    ) -> None:
        if not parse_policy(policy):
            raise ValueError("policy = '' augments nothing: name at least one op of " + ", ".join(OPS))
        if not (0.0 <= probability <= 1.0) or not math.isfinite(probability):
            raise ValueError(f"probability = {probability} is out of range: allowed 0 <= probability <= 1")
        if not (reals or fakes):
            raise ValueError("reals = fakes = False augments nothing: leave the objective unwrapped")
        self.base, self.policy, self.probability, self.reals, self.fakes = base, policy, probability, reals, fakes

    def _augment(self, x: torch.Tensor, on: bool) -> torch.Tensor:
        return diff_augment(x, self.policy, self.probability) if on else x

    def _critic(self, critic: Callable) -> Callable:
        # every batch the base objective scores is augmented the way its source says (real or fake)
        return AugmentedCritic(critic, self.policy, self.probability)

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        if self.reals and self.fakes:
            return self.base.loss_d(self._critic(critic), real, fake)
        # one side only: augment that batch here and let the base score both with the bare critic
        return self.base.loss_d(critic, self._augment(real, self.reals), self._augment(fake, self.fakes))

    def loss_g(self, critic: Callable, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        if self.reals and self.fakes:
            return self.base.loss_g(self._critic(critic), fake, real)
        real = real if real is None else self._augment(real, self.reals)
        return self.base.loss_g(critic, self._augment(fake, self.fakes), real)

    def after_d_step(self, discriminator: nn.Module) -> None:
        self.base.after_d_step(discriminator)

    def state_dict(self) -> dict[str, Any]:
        """The base objective's state (an R1 counter), if it has one; DiffAugment itself keeps none."""
        return self.base.state_dict() if hasattr(self.base, "state_dict") else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if hasattr(self.base, "load_state_dict"):
            self.base.load_state_dict(state)
