"""Which objective and optimisers a GAN config asks for: :func:`build_objective`, :func:`make_objective`,
:func:`make_optimizer`."""

from __future__ import annotations

import inspect

import torch
from torch import nn

from gancourse.config import GANConfig
from gancourse.losses import (
    FeatureMatchingObjective,
    HistoricallyAveraged,
    LeastSquaresObjective,
    MinimaxObjective,
    Objective,
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
    if objective is not None and cfg.objective in ("least_squares", "wasserstein_gp"):
        raise ValueError(
            f"objective = {cfg.objective!r} in the config, but the recipe passed {type(objective).__name__}: "
            "this GAN trains with its recipe's own objective"
        )
    objective = objective if objective is not None else make_objective(cfg)
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


def make_objective(cfg: GANConfig) -> Objective:
    """The objective ``cfg.objective`` names: minimax (with ``generator_loss`` and ``label_smoothing``),
    least squares (Mao et al. 2017, 0-1 coding) or, for the toy GAN, WGAN-GP (``gp_weight``).

    The Wasserstein GANs, ProGAN and pix2pix build their own objective in their recipes.
    """
    if cfg.objective != "minimax" and (cfg.generator_loss != "non_saturating" or cfg.label_smoothing):
        raise ValueError(
            f"generator_loss = {cfg.generator_loss!r} and label_smoothing = {cfg.label_smoothing} are options of the "
            f"minimax objective, but objective = {cfg.objective!r}: leave them at 'non_saturating' and 0"
        )
    if cfg.objective == "minimax":
        return MinimaxObjective(cfg.generator_loss, cfg.label_smoothing)
    if cfg.objective == "least_squares":
        return LeastSquaresObjective()
    if cfg.objective == "wasserstein_gp":
        return WassersteinObjective(gp_weight=cfg.gp_weight)
    raise ValueError(f"objective = {cfg.objective!r} is built by its recipe, not by GANTrainer: pass objective=")


def make_optimizer(parameters, cfg: GANConfig, lr: float) -> torch.optim.Optimizer:
    """The optimiser ``cfg.optimizer`` names: Adam with ``(beta1, beta2)``, or RMSprop (WGAN)."""
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr)
    return torch.optim.Adam(parameters, lr=lr, betas=(cfg.beta1, cfg.beta2))
