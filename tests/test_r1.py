import pytest
import torch
from torch import nn

from gancourse import config, losses, train

CPU = torch.device("cpu")


def test_r1_penalty_of_a_linear_critic_is_its_squared_weight_norm():
    w = torch.randn(12)
    critic = lambda x: x.flatten(1) @ w + 3.0  # noqa: E731 - grad_x D(x) = w for every x
    real = torch.randn(5, 3, 2, 2)
    assert losses.r1_penalty(critic, real).item() == pytest.approx(float(w @ w), rel=1e-5)


def test_r1_penalty_against_an_independent_double_backward():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(8, 16), nn.Softplus(), nn.Linear(16, 1), nn.Flatten(0))
    real = torch.randn(4, 2, 2, 2)
    penalty = losses.r1_penalty(critic, real)
    # independently: each sample's gradient by its own backward, then the mean squared norm
    norms = []
    for x in real:
        x = x.unsqueeze(0).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        norms.append(g.pow(2).sum())
    expected = torch.stack(norms).mean()
    assert torch.allclose(penalty, expected, atol=1e-6)
    # and its gradient in D's weights, by a second backward through each (the last bias does not enter)
    weights = [p for name, p in critic.named_parameters() if name != "3.bias"]
    first = torch.autograd.grad(penalty, weights)
    second = torch.autograd.grad(expected, weights)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(first, second, strict=True))


def test_r1_is_added_to_d_only_scaled_by_gamma_over_two():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(8, 1), nn.Flatten(0))
    real, fake = torch.randn(4, 8), torch.randn(4, 8)
    base = losses.MinimaxObjective()
    objective = losses.R1Regularised(base, gamma=4.0)
    loss, stats = objective.loss_d(critic, real, fake)
    plain, _ = base.loss_d(critic, real, fake)
    assert torch.allclose(loss, plain + 2.0 * losses.r1_penalty(critic, real))
    assert stats["r1"] == pytest.approx(losses.r1_penalty(critic, real).item())
    assert torch.equal(objective.loss_g(critic, fake, real)[0], base.loss_g(critic, fake, real)[0])


def test_lazy_r1_every_k_steps_times_k():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(8, 1), nn.Flatten(0))
    real, fake = torch.randn(4, 8), torch.randn(4, 8)
    base = losses.HingeObjective()
    plain = base.loss_d(critic, real, fake)[0]
    penalty = losses.r1_penalty(critic, real)
    objective = losses.R1Regularised(base, gamma=2.0, every=4)
    added = [objective.loss_d(critic, real, fake)[0] - plain for _ in range(9)]
    expected = [4 * 2.0 / 2 * penalty if i % 4 == 0 else torch.zeros(()) for i in range(9)]
    assert all(torch.allclose(a, e, atol=1e-6) for a, e in zip(added, expected, strict=True))
    # the count is the state: a copy loaded from it continues on the same schedule
    state = objective.state_dict()
    copy = losses.R1Regularised(base, gamma=2.0, every=4)
    copy.load_state_dict(state)
    assert copy.steps == 9 and not copy.due()
    assert torch.allclose(copy.loss_d(critic, real, fake)[0], plain)


def test_bad_r1_settings_name_the_field(monkeypatch):
    with pytest.raises(ValueError, match="gamma = 0 is out of range"):
        losses.R1Regularised(losses.MinimaxObjective(), gamma=0)
    with pytest.raises(ValueError, match="every = 0 is out of range"):
        losses.R1Regularised(losses.MinimaxObjective(), every=0)
    with pytest.raises(ValueError, match="r1_gamma = -1.0 is out of range"):
        config.DCGANConfig(r1_gamma=-1.0)
    with pytest.raises(ValueError, match="lazy R1 needs the penalty on"):
        train.toy_gan(config.ToyGANConfig(r1_every=4), CPU)
    with pytest.raises(ValueError, match="per-sample penalty is undefined"):
        train.toy_gan(config.ToyGANConfig(r1_gamma=1.0, minibatch_kernels=4), CPU)


def test_every_gan_recipe_takes_r1(monkeypatch):
    images = torch.rand(16, 1, 16, 16) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(images))
    small = dict(image_size=16, base_channels=4, batch_size=4, latent_dim=8, steps=2, log_every=1, r1_gamma=1.0)
    for build, cfg in [
        (train.dcgan, config.DCGANConfig(**small)),
        (train.wgan, config.WGANConfig(**small)),
        (train.resnet_gan, config.ResNetGANConfig(**small)),
    ]:
        trainer = build(cfg, CPU)
        assert isinstance(trainer.objective, losses.R1Regularised)
        trainer.train(progress=False)
        assert trainer.history["r1"] and all(v >= 0 for v in trainer.history["r1"])
    toy = train.toy_gan(config.ToyGANConfig(steps=2, batch_size=8, hidden=8, r1_gamma=10.0, r1_every=2), CPU)
    assert toy.objective.every == 2 and toy.objective.gamma == 10.0


def test_resume_is_exact_with_r1_every_step(tmp_path):
    cfg = config.ToyGANConfig(steps=8, batch_size=16, hidden=8, log_every=2, checkpoint_every=0, r1_gamma=5.0)
    straight = train.toy_gan(cfg, CPU)
    straight.train(progress=False)
    first = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "r.pt")
    first.train(steps=4, progress=False)
    first.save()
    resumed = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "r.pt")
    assert resumed.load() == 4
    resumed.train(progress=False)
    for a, b in zip(straight.discriminator.parameters(), resumed.discriminator.parameters(), strict=True):
        assert torch.equal(a, b)
    assert straight.history == resumed.history


def test_resume_is_exact_with_lazy_r1(tmp_path):
    cfg = config.ToyGANConfig(
        steps=8, batch_size=16, hidden=8, log_every=2, checkpoint_every=0, r1_gamma=5.0, r1_every=3
    )
    straight = train.toy_gan(cfg, CPU)
    straight.train(progress=False)
    first = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "r.pt")
    first.train(steps=4, progress=False)  # 4 D steps: the next (the 5th) carries no penalty
    first.save()
    resumed = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "r.pt")
    assert resumed.load() == 4
    assert resumed.objective.steps == 4
    resumed.train(progress=False)
    for a, b in zip(straight.discriminator.parameters(), resumed.discriminator.parameters(), strict=True):
        assert torch.equal(a, b)
