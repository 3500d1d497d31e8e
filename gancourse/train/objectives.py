"""Which objective and optimisers a GAN config asks for: :func:`build_objective`, :func:`make_objective`,
:func:`make_optimizer`."""

from __future__ import annotations

import inspect

import torch
from torch import nn

from gancourse.augment import Augmented
from gancourse.config import GANConfig
from gancourse.losses import (
    FeatureMatchingObjective,
    HingeObjective,
    HistoricallyAveraged,
    LeastSquaresObjective,
    MinimaxObjective,
    Objective,
    R1Regularised,
    WassersteinObjective,
)


def build_objective(
    cfg: GANConfig, generator: nn.Module, discriminator: nn.Module, objective: Objective | None = None
) -> Objective:
    """``objective``, or the one ``cfg`` names, with the tricks of ``cfg`` wrapped around it.

    Feature matching replaces G's loss (:class:`FeatureMatchingObjective`), historical
    averaging adds its penalty to both losses (:class:`HistoricallyAveraged`); tricks the
    recipe's discriminator cannot take are refused by name.
    """
    name = type(discriminator).__name__
    if objective is not None and cfg.objective in ("least_squares", "wasserstein_gp", "hinge"):
        raise ValueError(
            f"objective = {cfg.objective!r} in the config, but the recipe passed {type(objective).__name__}: "
            "this GAN trains with its recipe's own objective"
        )
    objective = make_objective(cfg, objective)  # cfg's objective, or the recipe's; with R1 and DiffAugment
    if cfg.minibatch_kernels and getattr(discriminator, "minibatch", None) is None:
        raise ValueError(
            f"minibatch_kernels = {cfg.minibatch_kernels}, but this recipe's discriminator ({name}) has no "
            "minibatch discrimination: the toy, MLP and DCGAN recipes have it (0 = off)"
        )
    if cfg.minibatch_kernels and getattr(objective, "gp_weight", 0):
        raise ValueError(
            f"minibatch_kernels = {cfg.minibatch_kernels} with a gradient penalty: minibatch discrimination makes "
            "each score depend on the batch, so the per-sample penalty is undefined; set one of them to 0"
        )
    if cfg.feature_matching:
        # a conditional D's features need its labels too: not a features(x) method
        if not inspect.ismethod(getattr(discriminator, "features", None)):
            raise ValueError(
                f"feature_matching = True needs a discriminator with a features(x) method; {name} has none"
            )
        objective = FeatureMatchingObjective(objective)
    if cfg.historical_averaging:  # Salimans et al. 2016, Sec. 3.3: a penalty term in both players' losses
        objective = HistoricallyAveraged(objective, cfg.historical_averaging, generator, discriminator)
    return objective


def make_objective(cfg: GANConfig, base: Objective | None = None) -> Objective:
    """The objective ``cfg.objective`` names, or ``base`` (a recipe's own), with ``cfg``'s regularisers around it.

    Named: minimax (with ``generator_loss`` and ``label_smoothing``), least squares (Mao et al.
    2017, 0-1 coding), hinge (Lim & Ye 2017, Miyato et al. 2018) or, for the toy GAN, WGAN-GP
    (``gp_weight``). The Wasserstein GANs, ProGAN and pix2pix pass their own as ``base``.
    Around it, for every GAN: the R1 penalty on D (``r1_gamma``, every ``r1_every`` D steps;
    :class:`~gancourse.losses.R1Regularised`), then DiffAugment (``diff_augment``;
    :class:`~gancourse.augment.Augmented`), so that R1 differentiates through the augmentation
    as in Zhao et al.'s StyleGAN2 code, where the augmentation is part of D.
    """
    if cfg.objective != "minimax" and (cfg.generator_loss != "non_saturating" or cfg.label_smoothing):
        raise ValueError(
            f"generator_loss = {cfg.generator_loss!r} and label_smoothing = {cfg.label_smoothing} are options of the "
            f"minimax objective, but objective = {cfg.objective!r}: leave them at 'non_saturating' and 0"
        )
    named = {"minimax": lambda: MinimaxObjective(cfg.generator_loss, cfg.label_smoothing)}
    named |= {"least_squares": LeastSquaresObjective, "hinge": HingeObjective}
    named["wasserstein_gp"] = lambda: WassersteinObjective(gp_weight=cfg.gp_weight)
    if base is None and cfg.objective not in named:
        raise ValueError(f"objective = {cfg.objective!r} is built by its recipe, not by GANTrainer: pass objective=")
    objective = base if base is not None else named[cfg.objective]()
    if cfg.r1_gamma and cfg.minibatch_kernels:
        raise ValueError(
            f"r1_gamma = {cfg.r1_gamma} with minibatch_kernels = {cfg.minibatch_kernels}: minibatch discrimination "
            "makes each score depend on the batch, so the per-sample penalty is undefined; set one of them to 0"
        )
    if cfg.r1_every != 1 and not cfg.r1_gamma:
        raise ValueError(f"r1_every = {cfg.r1_every} with r1_gamma = 0: lazy R1 needs the penalty on (r1_gamma > 0)")
    if cfg.diff_augment and cfg.feature_matching:
        raise ValueError(
            f"diff_augment = {cfg.diff_augment!r} with feature_matching = True: G's feature-matching loss reads D's "
            "features without the augmentation, which would leak it into G; turn one of them off"
        )
    if cfg.r1_gamma:
        objective = R1Regularised(objective, cfg.r1_gamma, cfg.r1_every)
    if cfg.diff_augment:
        objective = Augmented(objective, cfg.diff_augment)
    return objective


def make_optimizer(parameters, cfg: GANConfig, lr: float) -> torch.optim.Optimizer:
    """The optimiser ``cfg.optimizer`` names: Adam with ``(beta1, beta2)``, or RMSprop (WGAN)."""
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr)
    return torch.optim.Adam(parameters, lr=lr, betas=(cfg.beta1, cfg.beta2))
