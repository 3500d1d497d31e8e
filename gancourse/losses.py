"""Losses and the quantities of GAN theory they come from.

Goodfellow et al. 2014 define the GAN as the two-player minimax game (Eq. 1)

    min_G max_D V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))].

For a fixed generator the best discriminator is (Prop. 1)

    D*(x) = p_data(x) / (p_data(x) + p_g(x)),

and at that discriminator (Thm. 1) V(D*, G) = -log 4 + 2 JSD(p_data || p_g), which
is minimal, -log 4, exactly when p_g = p_data.

The first functions evaluate these quantities for densities tabulated on a 1-D
grid, which is how the first chapter draws them. The training losses below
work on the discriminator's *logits* l, D(x) = sigmoid(l), through
``binary_cross_entropy_with_logits``, which computes log sigmoid(l) exactly even
where sigmoid(l) rounds to 0 or 1:

* the discriminator minimises -[log D(x) + log(1 - D(G(z)))] (Eq. 1, negated);
* the generator either minimises log(1 - D(G(z))) (*saturating*, Eq. 1 as written)
  or maximises log D(G(z)) (*non-saturating*, which the paper recommends in Sec. 3
  because it "provides much stronger gradients early in learning");
* one-sided label smoothing (Salimans et al. 2016, Sec. 3.4) replaces the real
  target 1 by 1 - s and leaves the fake target at 0.

The Wasserstein GAN (Arjovsky et al. 2017) replaces the discriminator by a *critic*
f with no sigmoid and estimates the earth mover's distance by the
Kantorovich-Rubinstein duality (Eq. 2)

    W(p_data, p_g) = sup_{||f||_L <= 1} E_{x~p_data}[f(x)] - E_{x~p_g}[f(x)],

so the critic minimises E[f(G(z))] - E[f(x)] and the generator minimises
-E[f(G(z))] (Alg. 1). The Lipschitz constraint is enforced either by clipping every
critic weight to [-c, c] after each critic update (Arjovsky et al., Alg. 1, c = 0.01)
or by the gradient penalty of Gulrajani et al. 2017 (Eq. 3),

    lambda * E_{x^ ~ P_x^}[(||grad_x^ f(x^)||_2 - 1)^2],  x^ = eps x + (1 - eps) x~,  eps ~ U[0, 1],

one eps per sample, lambda = 10. ProGAN (Karras et al. 2018, Sec. A.1) adds the
drift term eps_drift * E[f(x)^2] with eps_drift = 0.001 to keep the critic's output
near zero.

The least-squares GAN (Mao et al. 2017) keeps the minimax game's structure but scores
with squared errors against target codes: D's target is b on real and a on fake
samples, and G pushes its samples towards the value c (Eq. 2),

    min_D 1/2 E_x[(D(x) - b)^2] + 1/2 E_z[(D(G(z)) - a)^2],
    min_G 1/2 E_z[(D(G(z)) - c)^2].

For a fixed G the best D is D*(x) = (b p_data(x) + a p_g(x)) / (p_data(x) + p_g(x))
(Eq. 4), and with b - c = 1, b - a = 2 (e.g. a = -1, b = 1, c = 0) G's objective at D*,
extended by the G-free term 1/2 E_x[(D(x) - c)^2], is half a Pearson chi^2 divergence
(Eq. 5-7): 2 C(G) = chi^2_Pearson(p_data + p_g || 2 p_g). The paper trains with the
0-1 coding a = 0, b = c = 1 (Eq. 9), the default here.

Salimans et al. 2016 (Sec. 3) collect heuristics that stabilise training. Three of them
live here and in :mod:`gancourse.models.minibatch`: *feature matching* (Sec. 3.1),
G matches the mean of an intermediate layer f of D on real data,
||E_x f(x) - E_z f(G(z))||_2^2, instead of maximising D's output; *minibatch
discrimination* (Sec. 3.2, a layer of D); *historical averaging* (Sec. 3.3), each
player's cost gains ||theta - (1/t) sum_i theta[i]||^2, the distance of its parameters
from their own running mean. One-sided label smoothing (Sec. 3.4) is an option of
:func:`discriminator_loss`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn
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


# --------------------------------------------------------------------------------------
# Training losses on logits
# --------------------------------------------------------------------------------------


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))], with the real target 1 - ``label_smoothing``.

    Both terms are means over their batch, so the value at D = 1/2 everywhere is 2 log 2.
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing = {label_smoothing} is out of range: allowed 0 <= label_smoothing < 1")
    real_target = torch.full_like(real_logits, 1.0 - label_smoothing)
    loss_real = F.binary_cross_entropy_with_logits(real_logits, real_target)
    loss_fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return loss_real + loss_fake


def generator_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))], minimised by G: Eq. 1 as written. Its gradient vanishes when D wins."""
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss_non_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))], minimised by G: same fixed point, strong gradients when D wins."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


class Objective(Protocol):
    """The losses of a GAN. ``critic`` maps a batch to one logit/score per sample; for a
    conditional GAN the trainer binds the batch's condition into it, so an objective
    never needs to know whether the GAN is conditional. ``loss_g`` also receives the
    real batch, which paired objectives (pix2pix's L1 term) need."""

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict]: ...

    def loss_g(self, critic: Callable, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict]: ...

    def after_d_step(self, discriminator: nn.Module) -> None: ...


class MinimaxObjective:
    """The original GAN's losses as a pluggable part of :class:`gancourse.train.GANTrainer`.

    An objective turns a discriminator and batches into ``(loss, statistics)``; other
    objectives (Wasserstein, gradient penalty) plug into the same trainer.
    """

    def __init__(self, generator_loss: str = "non_saturating", label_smoothing: float = 0.0) -> None:
        losses = {"non_saturating": generator_loss_non_saturating, "saturating": generator_loss_saturating}
        if generator_loss not in losses:
            raise ValueError(f"generator_loss = {generator_loss!r} is not allowed: choose one of {', '.join(losses)}")
        discriminator_loss(torch.zeros(1), torch.zeros(1), label_smoothing)  # validates the value
        self._generator_loss, self.label_smoothing = losses[generator_loss], label_smoothing

    def loss_d(
        self, discriminator: Callable, real: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        real_logits, fake_logits = discriminator(real), discriminator(fake)  # (B,), (B,)
        loss = discriminator_loss(real_logits, fake_logits, self.label_smoothing)
        stats = {"d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(fake_logits).mean()}
        return loss, stats

    def loss_g(
        self, discriminator: Callable, fake: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        return self._generator_loss(discriminator(fake)), {}

    def after_d_step(self, discriminator: nn.Module) -> None:
        """Hook run after every discriminator update (WGAN clips weights here); nothing for the minimax GAN."""


# --------------------------------------------------------------------------------------
# Wasserstein losses: weight clipping (WGAN) and the gradient penalty (WGAN-GP)
# --------------------------------------------------------------------------------------


def wasserstein_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[f(G(z))] - E[f(x)]: minus the critic's estimate of W (Arjovsky et al. 2017, Alg. 1)."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E[f(G(z))]: the generator moves its samples up the critic's slope."""
    return -fake_scores.mean()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """E[(||grad f(x^)||_2 - 1)^2] at x^ = eps x + (1 - eps) x~ (Gulrajani et al. 2017, Eq. 3).

    One eps ~ U[0, 1] per sample; the norm is taken per sample over all its
    dimensions; ``create_graph=True`` keeps the penalty differentiable with respect to
    the critic's weights, so it trains them. The caller multiplies by lambda (10).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must have the same shape")
    eps = torch.rand(real.shape[0], *[1] * (real.ndim - 1), device=real.device, dtype=real.dtype)  # (B, 1, 1, 1)
    interpolates = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(interpolates)  # (B,)
    (grad,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)  # d f(x^_i) / d x^_i, per sample
    norms = grad.flatten(1).norm(2, dim=1)  # (B,)
    return ((norms - 1) ** 2).mean()


def clip_weights(module: nn.Module, clip_value: float) -> None:
    """Clamp every parameter of ``module`` to [-c, c] in place (WGAN, Alg. 1 line 7)."""
    with torch.no_grad():
        for p in module.parameters():
            p.clamp_(-clip_value, clip_value)


def share_at_clip_bound(module: nn.Module, clip_value: float, tolerance: float = 1e-3) -> float:
    """Fraction of ``module``'s parameters at ±c, within ``tolerance`` * c of the bound.

    Gulrajani et al. 2017 (Sec. 3, Fig. 1b) show that a clipped critic pushes its weights to
    the two ends of [-c, c]; this is the share that has arrived there.
    """
    if clip_value <= 0:
        raise ValueError(f"clip_value = {clip_value} is out of range: allowed clip_value > 0")
    weights = torch.cat([p.detach().flatten().cpu() for p in module.parameters()])
    return float((weights.abs() >= (1 - tolerance) * clip_value).float().mean())


class WassersteinObjective:
    """WGAN (``clip_value`` = c) or WGAN-GP (``gp_weight`` = lambda) losses for :class:`GANTrainer`.

    ``drift`` adds ProGAN's eps_drift * E[f(x)^2]. The statistics record the critic's
    estimate of the Wasserstein distance, E[f(x)] - E[f(G(z))], which is meaningful
    (up to the Lipschitz constant) only while the constraint holds.
    """

    def __init__(self, clip_value: float | None = None, gp_weight: float = 0.0, drift: float = 0.0) -> None:
        if clip_value is not None and not (clip_value > 0 and math.isfinite(clip_value)):
            raise ValueError(
                f"clip_value = {clip_value} is out of range: allowed a finite clip_value > 0 (WGAN: 0.01), or None"
            )
        if not (gp_weight >= 0 and math.isfinite(gp_weight)):  # NaN fails every comparison: test for the allowed
            raise ValueError(f"gp_weight = {gp_weight} is out of range: allowed a finite gp_weight >= 0 (WGAN-GP: 10)")
        if not (drift >= 0 and math.isfinite(drift)):
            raise ValueError(f"drift = {drift} is out of range: allowed a finite drift >= 0 (ProGAN: 0.001)")
        self.clip_value, self.gp_weight, self.drift = clip_value, gp_weight, drift

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        real_scores, fake_scores = critic(real), critic(fake)  # (B,), (B,)
        loss = wasserstein_critic_loss(real_scores, fake_scores)
        stats: dict[str, Any] = {"wasserstein": (real_scores.mean() - fake_scores.mean()).detach()}
        if self.gp_weight:
            penalty = gradient_penalty(critic, real, fake)
            loss = loss + self.gp_weight * penalty
            stats["gradient_penalty"] = penalty.detach()
        if self.drift:
            loss = loss + self.drift * (real_scores**2).mean()
        stats["critic_real"], stats["critic_fake"] = real_scores.mean().detach(), fake_scores.mean().detach()
        return loss, stats

    def loss_g(
        self, critic: Callable, fake: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        return wasserstein_generator_loss(critic(fake)), {}

    def after_d_step(self, discriminator: nn.Module) -> None:
        if self.clip_value is not None:
            clip_weights(discriminator, self.clip_value)


# --------------------------------------------------------------------------------------
# pix2pix: conditional GAN loss + lambda L1 (Isola et al. 2017, Eq. 4)
# --------------------------------------------------------------------------------------


class Pix2PixObjective:
    """G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G) (Isola et al. 2017, Eq. 4), lambda = 100.

    ``critic`` is the PatchGAN with the input image bound in (D(x, y) sees both), so
    its logits are a (B, H', W') map and the cross-entropy is averaged over patches.
    G minimises the non-saturating -log D(x, G(x)) (the paper's Sec. 3.3 choice) plus
    lambda ||y - G(x)||_1, the mean absolute error to the paired target; the
    statistics record that L1. D's loss is multiplied by ``d_loss_factor`` = 1/2, as
    the paper "divide[s] the objective by 2 while optimizing D"; note that Adam divides
    every step by a running gradient scale, so a constant factor on a loss changes
    its updates only through Adam's epsilon: the halving mostly changes the reported value.
    ``adversarial=False`` drops the cGAN term from G's loss (the L1-only ablation;
    D still trains, but G ignores it); ``l1_weight=0`` is the cGAN-only ablation.
    """

    def __init__(self, l1_weight: float = 100.0, adversarial: bool = True, d_loss_factor: float = 0.5) -> None:
        if not (l1_weight >= 0 and math.isfinite(l1_weight)):
            raise ValueError(f"l1_weight = {l1_weight} is out of range: allowed a finite l1_weight >= 0 (pix2pix: 100)")
        if not 0 < d_loss_factor <= 1:
            raise ValueError(
                f"d_loss_factor = {d_loss_factor} is out of range: allowed 0 < d_loss_factor <= 1 (pix2pix: 0.5)"
            )
        if not adversarial and l1_weight == 0:
            raise ValueError("adversarial = False and l1_weight = 0 leave the generator with no loss: enable one")
        self.l1_weight, self.adversarial, self.d_loss_factor = l1_weight, adversarial, d_loss_factor

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        real_logits, fake_logits = critic(real), critic(fake)  # (B, H', W') each: one logit per patch
        loss = self.d_loss_factor * discriminator_loss(real_logits, fake_logits)
        stats = {"d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(fake_logits).mean()}
        return loss, stats

    def loss_g(self, critic: Callable, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        if real is None or real.shape != fake.shape:
            shape = None if real is None else tuple(real.shape)
            raise ValueError(f"real {shape} must be the target paired with fake {tuple(fake.shape)}: same shape")
        l1 = (fake - real).abs().mean()  # ||y - G(x)||_1, averaged over pixels
        stats: dict[str, Any] = {"l1": l1.detach()}
        loss = self.l1_weight * l1
        if self.adversarial:
            adversarial = generator_loss_non_saturating(critic(fake))
            stats["loss_g_adversarial"] = adversarial.detach()
            loss = loss + adversarial
        return loss, stats

    def after_d_step(self, discriminator: nn.Module) -> None:
        """Nothing to do after D's step."""


# --------------------------------------------------------------------------------------
# Least-squares GAN (Mao et al. 2017)
# --------------------------------------------------------------------------------------


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


def least_squares_discriminator_loss(
    real_scores: torch.Tensor, fake_scores: torch.Tensor, a: float = 0.0, b: float = 1.0
) -> torch.Tensor:
    """1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2] on D's raw scores, no sigmoid (Mao et al. 2017, Eq. 2)."""
    return 0.5 * F.mse_loss(real_scores, torch.full_like(real_scores, b)) + 0.5 * F.mse_loss(
        fake_scores, torch.full_like(fake_scores, a)
    )


def least_squares_generator_loss(fake_scores: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    """1/2 E[(D(G(z)) - c)^2] (Mao et al. 2017, Eq. 2): G wants D to score its samples c."""
    return 0.5 * F.mse_loss(fake_scores, torch.full_like(fake_scores, c))


class LeastSquaresObjective:
    """The LSGAN losses (Mao et al. 2017, Eq. 2) for :class:`GANTrainer`, targets a (fake), b (real), c (G's wish).

    ``a, b, c = 0, 1, 1`` is the paper's 0-1 coding (Eq. 9); ``-1, 1, 0`` satisfies
    b - c = 1, b - a = 2, under which G minimises a Pearson chi^2 divergence (Eq. 7). The
    squared error keeps penalising fakes that D already classifies correctly but that lie
    far from the real data, so G's gradient does not vanish where the sigmoid cross-entropy
    saturates (Sec. 3.2). The statistics are D's mean raw scores: they head to b and a.
    """

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0) -> None:
        if a == b:
            raise ValueError(f"a = b = {a}: the real target b and the fake target a must differ (LSGAN: a = 0, b = 1)")
        self.a, self.b, self.c = a, b, c

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        real_scores, fake_scores = critic(real), critic(fake)  # (B,), (B,): raw scores, no sigmoid
        loss = least_squares_discriminator_loss(real_scores, fake_scores, self.a, self.b)
        return loss, {"d_real": real_scores.mean().detach(), "d_fake": fake_scores.mean().detach()}

    def loss_g(
        self, critic: Callable, fake: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        return least_squares_generator_loss(critic(fake), self.c), {}

    def after_d_step(self, discriminator: nn.Module) -> None:
        """Nothing to do after D's step."""


# --------------------------------------------------------------------------------------
# Salimans et al. 2016: feature matching (Sec. 3.1) and historical averaging (Sec. 3.3)
# --------------------------------------------------------------------------------------


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """||E_x f(x) - E_z f(G(z))||_2^2 (Salimans et al. 2016, Sec. 3.1), minimised by G.

    ``real_features`` (B, F) and ``fake_features`` (B', F) are D's activations on an
    intermediate layer; the expectations are batch means, the norm runs over the F features.
    Only the first moment is matched: a G whose samples have the data's mean features
    has zero loss, however little it varies.
    """
    if real_features.ndim != 2 or fake_features.ndim != 2 or real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(
            f"real_features {tuple(real_features.shape)} and fake_features {tuple(fake_features.shape)} "
            "must be (B, F) with the same F"
        )
    return ((real_features.mean(dim=0) - fake_features.mean(dim=0)) ** 2).sum()


class FeatureMatchingObjective:
    """D trains with ``base`` (minimax or least squares); G minimises :func:`feature_matching_loss` instead.

    The features are ``discriminator.features(x)``, D's last hidden layer (the paper:
    "activations on an intermediate layer"); real features are computed without a graph,
    since G's gradient reaches only the fake side. ``loss_g`` needs the discriminator
    itself (an unconditional GAN) because it calls its ``features`` method.
    """

    def __init__(self, base: Any) -> None:
        self.base = base

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        return self.base.loss_d(critic, real, fake)

    def loss_g(self, critic: Callable, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        features = getattr(critic, "features", None)
        if features is None:
            raise TypeError(
                f"feature matching needs a discriminator with a features(x) method; got {type(critic).__name__}"
            )
        if real is None:
            raise ValueError("real = None: feature matching compares G's samples with a real batch")
        with torch.no_grad():
            real_features = features(real)  # (B, F)
        return feature_matching_loss(real_features, features(fake)), {}

    def after_d_step(self, discriminator: nn.Module) -> None:
        self.base.after_d_step(discriminator)


class HistoricalAverage:
    """The running mean of a network's past parameters and the penalty against it (Salimans et al. 2016, Sec. 3.3).

    penalty = ||theta - (1/t) sum_{i=1}^t theta[i]||^2, summed over every parameter, where
    theta[i] is the value after the i-th update. :meth:`update` adds the current
    parameters to the mean, incrementally: mean_t = mean_{t-1} + (theta[t] - mean_{t-1}) / t.
    The penalty pulls each player back towards where it has been, which damps the orbits
    that simultaneous gradient descent can trace around an equilibrium. Before the first
    update there is no history and the penalty is 0. :meth:`state_dict` holds t and the
    mean, so a checkpointed run resumes with the same penalty.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean: list[torch.Tensor] = []

    def penalty(self, module: nn.Module) -> torch.Tensor:
        """||theta - mean||^2 over all of ``module``'s parameters; differentiable in theta."""
        params = list(module.parameters())
        if self.count == 0:
            return params[0].new_zeros(()) if params else torch.zeros(())
        if len(params) != len(self.mean):
            raise ValueError(f"module has {len(params)} parameter tensors, the running mean {len(self.mean)}")
        return sum(((p - m) ** 2).sum() for p, m in zip(params, self.mean, strict=True))

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """Fold the current parameters into the running mean (t -> t + 1)."""
        params = [p.detach() for p in module.parameters()]
        self.count += 1
        if self.count == 1:
            self.mean = [p.clone() for p in params]
            return
        for m, p in zip(self.mean, params, strict=True):
            m.add_(p - m, alpha=1.0 / self.count)

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "mean": [m.clone() for m in self.mean]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count = int(state["count"])
        self.mean = [m.clone() for m in state["mean"]]
