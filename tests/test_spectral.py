import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gancourse import config, train
from gancourse.models import DCGANDiscriminator, ResNetCritic, apply_spectral_norm, spectral_norm, spectral_norms

CPU = torch.device("cpu")


def exact_sigma(weight):
    return float(torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2))


@pytest.mark.parametrize("layer", [nn.Linear(20, 7), nn.Conv2d(3, 5, 4, stride=2), nn.Conv2d(8, 16, 3)])
def test_after_enough_iterations_the_largest_singular_value_is_one(layer):
    torch.manual_seed(0)
    with torch.no_grad():
        layer.weight.mul_(5.0)  # far from 1 before normalising
    spectral_norm(layer)
    for _ in range(200):  # one power-iteration step per forward (training mode)
        w = layer.weight
    assert exact_sigma(w.detach()) == pytest.approx(1.0, abs=1e-3)
    assert spectral_norms(nn.Sequential(layer)) == [pytest.approx(1.0, abs=1e-3)]


def test_converges_to_the_library_parametrization():
    # torch's own updates u before v (ours: v, then u, as Miyato et al.'s Alg. 1), so the two agree once converged
    torch.manual_seed(0)
    ours, theirs = nn.Conv2d(3, 6, 3), nn.Conv2d(3, 6, 3)
    theirs.load_state_dict(ours.state_dict())
    spectral_norm(ours)
    torch.nn.utils.parametrizations.spectral_norm(theirs)
    for _ in range(100):  # one step per access in training mode, for both
        a, b = ours.weight, theirs.weight
    assert torch.allclose(a, b, atol=1e-5)


def test_gradient_treats_u_and_v_as_constants():
    torch.manual_seed(0)
    layer = spectral_norm(nn.Linear(6, 4))
    layer.eval()  # no iteration: the gradient at fixed u, v
    sn = layer.parametrizations.weight[0]
    raw = layer.parametrizations.weight.original
    x = torch.randn(5, 6)
    layer(x).square().sum().backward()
    expected_raw = raw.detach().clone().requires_grad_(True)
    sigma = sn.u @ expected_raw @ sn.v
    (x @ (expected_raw / sigma).T + layer.bias.detach()).square().sum().backward()
    assert torch.allclose(raw.grad, expected_raw.grad, atol=1e-5)


def test_evaluation_mode_leaves_the_vectors_alone_and_training_mode_steps_them():
    layer = spectral_norm(nn.Linear(6, 4))
    u = layer.parametrizations.weight[0].u.clone()
    layer.eval()
    layer(torch.randn(2, 6))
    assert torch.equal(layer.parametrizations.weight[0].u, u)
    layer.train()
    layer(torch.randn(2, 6))
    assert not torch.equal(layer.parametrizations.weight[0].u, u)


def test_the_vectors_are_buffers_in_the_state_dict():
    net = apply_spectral_norm(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4, 1)))
    keys = set(net.state_dict())
    assert {"0.parametrizations.weight.0.u", "0.parametrizations.weight.0.v", "2.parametrizations.weight.0.u"} <= keys
    with pytest.raises(ValueError, match="already parametrized"):
        spectral_norm(net[0])


@pytest.mark.parametrize(
    "make",
    [
        lambda: DCGANDiscriminator(8, 16, norm="none", spectral_norm=True),
        lambda: ResNetCritic(8, 16, spectral_norm=True),
    ],
)
def test_the_discriminators_normalise_every_weight(make):
    d = make()
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)
    x = torch.randn(4, 1, 16, 16)
    for _ in range(100):
        d(x)
    assert all(s == pytest.approx(1.0, abs=1e-3) for s in spectral_norms(d))


def test_spectral_norm_refuses_a_normalisation_layer():
    with pytest.raises(ValueError, match="norm = 'batch': a normalisation layer"):
        DCGANDiscriminator(8, 16, norm="batch", spectral_norm=True)
    with pytest.raises(ValueError, match="norm = 'layer'"):
        ResNetCritic(8, 16, norm="layer", spectral_norm=True)
    with pytest.raises(ValueError, match="critic_norm = 'none'"):
        config.WGANGPConfig(spectral_norm=True)
    with pytest.raises(ValueError, match="conditional discriminator has no spectral-norm option"):
        config.ConditionalGANConfig(spectral_norm=True)


def test_recipes_build_spectrally_normalised_discriminators_and_resume_exactly(tmp_path, monkeypatch):
    data = torch.rand(64, 1, 16, 16) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(data))
    small = dict(image_size=16, base_channels=4, batch_size=8, latent_dim=8, log_every=2, checkpoint_every=3, steps=6)
    dcgan = train.dcgan(config.DCGANConfig(spectral_norm=True, **small), CPU)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in dcgan.discriminator.modules())
    assert spectral_norms(dcgan.discriminator)
    cfg = config.ResNetGANConfig.sngan("quick", **small)
    straight = train.resnet_gan(cfg, CPU)
    straight.train(progress=False)
    interrupted = train.resnet_gan(cfg, CPU, checkpoint_path=tmp_path / "r.pt")
    interrupted.train(steps=3, progress=False)
    resumed = train.resnet_gan(cfg, CPU, checkpoint_path=tmp_path / "r.pt")
    assert resumed.load() == 3
    resumed.train(progress=False)
    states = straight.discriminator.state_dict(), resumed.discriminator.state_dict()
    assert any(key.endswith(".u") for key in states[0]) and states[0].keys() == states[1].keys()
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key  # weights and the power-iteration vectors u, v
    assert straight.history == resumed.history
