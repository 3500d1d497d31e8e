"""gancourse.train.objectives: which objective and optimisers a GAN config asks for, and what it refuses."""

import pytest
import torch
from torch import nn

from gancourse import train
from gancourse.config import ToyGANConfig
from gancourse.losses import (
    FeatureMatchingObjective,
    HingeObjective,
    HistoricallyAveraged,
    LeastSquaresObjective,
    MinimaxObjective,
)
from gancourse.train.objectives import build_objective, make_objective, make_optimizer

CPU = torch.device("cpu")


def tiny(**overrides):
    return ToyGANConfig(**{"steps": 2, "hidden": 8, "batch_size": 16, **overrides})


def networks(**overrides):
    trainer = train.toy_gan(tiny(**overrides), CPU)
    return trainer.generator, trainer.discriminator


def test_tricks_the_discriminator_cannot_take_are_refused_by_name():
    generator, discriminator = networks()  # built without minibatch discrimination
    assert discriminator.minibatch is None
    with pytest.raises(ValueError, match=r"minibatch_kernels = 4, but .*discriminator \(\w+\) has no minibatch"):
        build_objective(tiny(minibatch_kernels=4), generator, discriminator)
    with pytest.raises(ValueError, match=r"feature_matching = True needs .*features\(x\).*Linear has none"):
        build_objective(tiny(feature_matching=True), generator, nn.Linear(2, 1))
    generator, discriminator = networks(minibatch_kernels=4)  # the same config with a D that has it
    assert isinstance(build_objective(tiny(minibatch_kernels=4), generator, discriminator), MinimaxObjective)


def test_historical_averaging_wraps_feature_matching_which_wraps_the_base():
    generator, discriminator = networks()
    both = build_objective(tiny(feature_matching=True, historical_averaging=0.1), generator, discriminator)
    assert isinstance(both, HistoricallyAveraged) and both.weight == 0.1
    assert isinstance(both.base, FeatureMatchingObjective) and isinstance(both.base.base, MinimaxObjective)
    assert both.players == {"generator": generator, "discriminator": discriminator}
    only = build_objective(tiny(historical_averaging=0.1), generator, discriminator)
    assert isinstance(only, HistoricallyAveraged) and isinstance(only.base, MinimaxObjective)
    matched = build_objective(tiny(feature_matching=True), generator, discriminator)
    assert isinstance(matched, FeatureMatchingObjective) and isinstance(matched.base, MinimaxObjective)


NAMED = [("minimax", MinimaxObjective), ("least_squares", LeastSquaresObjective), ("hinge", HingeObjective)]


@pytest.mark.parametrize(("name", "kind"), NAMED)
def test_make_objective_builds_the_named_one(name, kind):
    assert type(make_objective(tiny(objective=name))) is kind
    base = HingeObjective()
    assert make_objective(tiny(), base) is base  # a recipe's own objective, with no regulariser on


def test_minimax_options_with_another_objective_are_refused():
    smoothed = MinimaxObjective("non_saturating", 0.1)
    assert make_objective(tiny(label_smoothing=0.1)).label_smoothing == smoothed.label_smoothing
    with pytest.raises(ValueError, match=r"generator_loss = 'saturating' .* objective = 'hinge'"):
        make_objective(tiny(objective="hinge", generator_loss="saturating"))
    with pytest.raises(ValueError, match=r"label_smoothing = 0.1 .* objective = 'least_squares'"):
        make_objective(tiny(objective="least_squares", label_smoothing=0.1))


def test_make_optimizer_adam_betas_or_rmsprop():
    parameters = list(nn.Linear(2, 1).parameters())
    adam = make_optimizer(parameters, tiny(beta1=0.3, beta2=0.95), lr=1e-3)
    assert type(adam) is torch.optim.Adam
    assert adam.param_groups[0]["betas"] == (0.3, 0.95) and adam.param_groups[0]["lr"] == 1e-3
    rmsprop = make_optimizer(parameters, tiny(optimizer="rmsprop"), lr=5e-5)
    assert type(rmsprop) is torch.optim.RMSprop and rmsprop.param_groups[0]["lr"] == 5e-5
