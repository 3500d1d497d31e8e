import pytest
import torch

from gancourse import config, losses, train

CPU = torch.device("cpu")


def test_hinge_losses_closed_forms():
    real = torch.tensor([2.0, 1.0, 0.5, -1.0])  # max(0, 1 - D(x)) = 0, 0, 0.5, 2
    fake = torch.tensor([-2.0, -1.0, 0.0, 3.0])  # max(0, 1 + D(G(z))) = 0, 0, 1, 4
    assert losses.hinge_discriminator_loss(real, fake).item() == pytest.approx(2.5 / 4 + 5 / 4)
    assert losses.hinge_generator_loss(fake).item() == pytest.approx(0.0)
    assert losses.hinge_generator_loss(torch.tensor([1.0, 3.0])).item() == pytest.approx(-2.0)
    # at D = 0 everywhere the loss is 2; beyond the margins it is 0
    assert losses.hinge_discriminator_loss(torch.zeros(5), torch.zeros(3)).item() == pytest.approx(2.0)
    assert losses.hinge_discriminator_loss(torch.full((3,), 1.5), torch.full((3,), -1.5)).item() == 0.0


def test_samples_beyond_the_margin_get_no_gradient():
    real = torch.tensor([2.0, 0.0], requires_grad=True)
    fake = torch.tensor([-3.0, 0.5], requires_grad=True)
    losses.hinge_discriminator_loss(real, fake).backward()
    assert real.grad.tolist() == [0.0, -0.5] and fake.grad.tolist() == [0.0, 0.5]


def test_the_objective_and_its_statistics():
    objective = losses.HingeObjective()
    loss, stats = objective.loss_d(lambda x: x, torch.tensor([2.0, 0.0]), torch.tensor([0.0, -2.0]))
    assert loss.item() == pytest.approx(0.5 + 0.5) and stats["d_real"].item() == 1.0 and stats["d_fake"].item() == -1.0
    loss_g, _ = objective.loss_g(lambda x: x, torch.tensor([1.0, 2.0]), None)
    assert loss_g.item() == pytest.approx(-1.5)


def test_the_config_chooses_hinge_for_every_gan_that_has_the_option(monkeypatch):
    toy = train.toy_gan(config.ToyGANConfig(steps=3, batch_size=16, hidden=8, log_every=1), CPU)
    assert type(toy.objective) is losses.MinimaxObjective
    toy = train.toy_gan(config.ToyGANConfig(steps=3, batch_size=16, hidden=8, log_every=1, objective="hinge"), CPU)
    assert type(toy.objective) is losses.HingeObjective
    toy.train(progress=False)
    assert {"d_real", "d_fake"} <= set(toy.history)
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(torch.zeros(8, 1, 16, 16)))
    resnet = train.resnet_gan(config.ResNetGANConfig.sngan(image_size=16, base_channels=4), CPU)
    assert type(resnet.objective) is losses.HingeObjective
    with pytest.raises(ValueError, match="objective = 'hinge' with gp_weight = 10.0"):
        config.ResNetGANConfig(objective="hinge")
    with pytest.raises(ValueError, match="label_smoothing = 0.1 are options of the minimax objective"):
        train.toy_gan(config.ToyGANConfig(objective="hinge", label_smoothing=0.1), CPU)
