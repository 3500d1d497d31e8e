"""Residual blocks and the WGAN-GP ResNet: shapes, shortcuts, gradients, the config and a short training run."""

import pytest
import torch
from torch import nn

from gancourse import config, train
from gancourse.models import OptimizedBlock, ResBlock, ResidualBlock, ResNetCritic, ResNetGenerator


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_residual_block_keeps_the_shape_and_adds_the_input(norm):
    x = torch.randn(2, 6, 5, 7)
    assert ResidualBlock(6, norm=norm)(x).shape == x.shape
    # with F = 0 the block is relu(x): the shortcut is the identity
    block = ResidualBlock(6, norm=norm)
    for conv in (m for m in block.modules() if isinstance(m, nn.Conv2d)):
        nn.init.zeros_(conv.weight)
        if conv.bias is not None:
            nn.init.zeros_(conv.bias)
    block.eval()
    assert torch.equal(block(x), torch.relu(x))
    plain = ResidualBlock(6, norm=norm, skip=False)
    plain.load_state_dict(block.state_dict())
    plain.eval()
    assert torch.equal(plain(x), torch.zeros_like(x))  # the same layers without the shortcut


@pytest.mark.parametrize(
    "c_in, c_out, resample, out_size, has_conv",
    [
        (8, 8, None, 8, False),  # same shape: identity shortcut, no parameters on it
        (8, 4, None, 8, True),  # channels change
        (8, 8, "up", 16, True),  # size changes
        (8, 4, "up", 16, True),
        (8, 8, "down", 4, True),
        (4, 8, "down", 4, True),
    ],
)
def test_res_block_shapes_and_shortcut(c_in, c_out, resample, out_size, has_conv):
    block = ResBlock(c_in, c_out, resample, norm="batch")
    out = block(torch.randn(3, c_in, 8, 8))
    assert out.shape == (3, c_out, out_size, out_size)
    assert (block.shortcut_conv is not None) == has_conv
    if has_conv:
        assert block.shortcut_conv.kernel_size == (1, 1)
        # two 3x3 convs plus the 1x1 shortcut (with biases) and two batch norms
        mid = c_out if resample == "up" else c_in
        expected = (9 * c_in * mid + mid) + (9 * mid * c_out + c_out) + (c_in * c_out + c_out) + 2 * c_in + 2 * mid
        assert _n_params(block) == expected


def test_res_block_is_its_shortcut_when_the_residual_branch_is_zero():
    block = ResBlock(3, 5, "down", norm="none")
    nn.init.zeros_(block.conv2.weight)
    nn.init.zeros_(block.conv2.bias)
    x = torch.randn(2, 3, 8, 8)
    expected = nn.functional.avg_pool2d(block.shortcut_conv(x), 2)
    torch.testing.assert_close(block(x), expected)
    up = ResBlock(4, 4, "up", norm="none")
    nn.init.zeros_(up.conv2.weight)
    nn.init.zeros_(up.conv2.bias)
    x = torch.randn(2, 4, 3, 3)
    # nearest-neighbour upsampling: each pixel becomes a 2 x 2 patch
    torch.testing.assert_close(up(x), up.shortcut_conv(x.repeat_interleave(2, 2).repeat_interleave(2, 3)))


def test_optimized_block_halves_and_has_no_activation_on_the_image():
    torch.manual_seed(0)
    block = OptimizedBlock(1, 6)
    assert block(torch.randn(2, 1, 16, 16)).shape == (2, 6, 8, 8)
    # its residual branch sees the raw image: two different all-negative images are told apart
    # (a pre-activation block would apply ReLU first and map both to zeros)
    x = -torch.rand(2, 1, 8, 8)
    branch = block(x) - block.shortcut_conv(nn.functional.avg_pool2d(x, 2))
    assert not torch.allclose(branch[0], branch[1])


@pytest.mark.parametrize(
    "make",
    [
        lambda: ResidualBlock(2, norm="layer"),
        lambda: ResBlock(2, 3, "up", norm="layer"),
        lambda: ResBlock(3, 2, "down", norm="none"),
        lambda: OptimizedBlock(1, 2),
    ],
)
def test_gradcheck_tiny_blocks_in_float64(make):
    torch.manual_seed(0)
    block = make().double()
    x = torch.randn(2, block_in_channels(block), 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x,), eps=1e-6, atol=1e-5)


def block_in_channels(block: nn.Module) -> int:
    return next(m for m in block.modules() if isinstance(m, nn.Conv2d)).in_channels


@pytest.mark.parametrize("size", [16, 32, 64])
def test_generator_and_critic_shapes(size):
    g = ResNetGenerator(latent_dim=12, base_channels=8, image_size=size)
    x = g(torch.randn(3, 12))
    assert x.shape == (3, 1, size, size)
    assert -1 <= x.min() and x.max() <= 1  # tanh
    for norm in ("layer", "none"):
        assert ResNetCritic(8, size, norm=norm)(x).shape == (3,)
    # one up block per doubling of 4 x 4; the critic: optimized block, down blocks to 8 x 8, two more
    n = {16: 2, 32: 3, 64: 4}[size]
    assert [b.resample for b in g.blocks] == ["up"] * n
    critic = ResNetCritic(8, size)
    assert isinstance(critic.blocks[0], OptimizedBlock)
    assert [b.resample for b in critic.blocks[1:]] == ["down"] * (n - 2) + [None, None]


def test_norms_where_the_paper_puts_them():
    g, critic = ResNetGenerator(8, 8, 32), ResNetCritic(8, 32, norm="layer")
    assert any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())
    assert any(isinstance(m, nn.GroupNorm) and m.num_groups == 1 for m in critic.modules())  # layer norm
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in ResNetCritic(8, 32, norm="none").modules())
    # the critic scores each sample on its own: a sample's score does not depend on the rest of the batch
    x = torch.randn(4, 1, 32, 32)
    torch.testing.assert_close(critic(x)[:1], critic(x[:1]))


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="image_size = 48 is not supported"):
        ResNetGenerator(image_size=48)
    with pytest.raises(ValueError, match="image_size = 8 is not supported"):
        ResNetCritic(image_size=8)
    with pytest.raises(ValueError, match="norm = 'batch' is not allowed in the critic"):
        ResNetCritic(norm="batch")
    with pytest.raises(ValueError, match="resample = 'left' is not allowed"):
        ResBlock(4, 4, "left")
    with pytest.raises(ValueError, match="norm = 'instance' is not allowed"):
        ResidualBlock(4, norm="instance")
    with pytest.raises(ValueError, match="out_channels = 0 is out of range"):
        ResBlock(4, 0)


def test_config_inherits_wgan_gp_and_validates():
    cfg = config.ResNetGANConfig()
    assert isinstance(cfg, config.WGANGPConfig)
    assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2, cfg.n_critic, cfg.gp_weight) == (1e-4, 1e-4, 0.0, 0.9, 5, 10.0)
    assert (cfg.base_channels, cfg.latent_dim, cfg.critic_norm) == (128, 128, "none")
    quick = cfg.quick()
    assert quick.image_size == 32 and quick.base_channels < cfg.base_channels and quick.steps < cfg.steps
    with pytest.raises(ValueError, match="critic_norm = 'batch' is not allowed"):
        config.ResNetGANConfig(critic_norm="batch")
    with pytest.raises(ValueError, match="image_size = 48 is not supported"):
        config.ResNetGANConfig(image_size=48)


def test_resnet_gan_trains_its_critic(monkeypatch):
    """A few WGAN-GP steps on bright 'images' while G starts near 0: the critic learns to tell them apart."""
    real = torch.rand(256, 1, 16, 16) * 0.5 + 0.5
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(real))
    cfg = config.ResNetGANConfig(
        image_size=16,
        base_channels=8,
        latent_dim=8,
        batch_size=16,
        steps=4,
        n_critic=5,
        lr_d=3e-3,
        log_every=1,
        sample_every=4,
    )
    trainer = train.resnet_gan(cfg, device=torch.device("cpu"))
    assert trainer.objective.gp_weight == cfg.gp_weight
    z = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))

    def wasserstein_estimate() -> float:  # E[f(x)] - E[f(G(z))] on fixed batches
        with torch.no_grad():
            return (trainer.discriminator(real[:64]).mean() - trainer.discriminator(trainer.generate(z)).mean()).item()

    before = wasserstein_estimate()
    history = trainer.train(progress=False)
    assert set(history) >= {"wasserstein", "gradient_penalty"} and len(history["step"]) == 4
    assert wasserstein_estimate() > before + 1.0
    assert trainer.generate(5).shape == (5, 1, 16, 16)


def test_cifar10_preset_is_the_papers_setting():
    """Gulrajani et al. 2017, App. F and gan_cifar_resnet.py: width 128, n_critic 5, Adam 2e-4 (0, 0.9), decay to 0."""
    cfg = config.ResNetGANConfig.cifar10()
    assert (cfg.dataset, cfg.image_size, cfg.base_channels, cfg.latent_dim, cfg.n_critic) == (
        "cifar10",
        32,
        128,
        128,
        5,
    )
    assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2, cfg.batch_size, cfg.gp_weight) == (2e-4, 2e-4, 0.0, 0.9, 64, 10.0)
    assert cfg.steps == cfg.lr_decay_steps == 100_000
    assert config.ResNetGANConfig().lr_decay_steps == 0  # the default stays Alg. 1's constant rate
    assert config.ResNetGANConfig.cifar10(steps=50_000, lr_decay_steps=50_000).steps == 50_000
    with pytest.raises(ValueError, match="lr_decay_steps = 10 is below steps = 100000"):
        config.ResNetGANConfig.cifar10(lr_decay_steps=10)


def test_linear_decay_reaches_zero_and_is_restored_on_resume(monkeypatch, tmp_path):
    """lr(t) = lr0 (1 - t / T) for G and critic; a resumed run continues the decay where it stopped."""
    real = torch.rand(64, 1, 16, 16) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(real))
    cfg = config.ResNetGANConfig(
        image_size=16,
        base_channels=4,
        latent_dim=8,
        batch_size=8,
        n_critic=1,
        steps=4,
        lr_decay_steps=4,
        lr_g=1e-3,
        lr_d=2e-3,
        sample_every=4,
        checkpoint_every=2,
    )
    path = tmp_path / "run.pt"
    trainer = train.resnet_gan(cfg, device=torch.device("cpu"), checkpoint_path=path)
    assert len(trainer.schedulers) == 2
    trainer.train(steps=2, progress=False)
    assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5)
    assert trainer.opt_d.param_groups[0]["lr"] == pytest.approx(2e-3 * 0.5)
    trainer.save()
    resumed = train.resnet_gan(cfg, device=torch.device("cpu"), checkpoint_path=path)
    assert resumed.load() == 2 and resumed.opt_g.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5)
    resumed.train(progress=False)
    assert resumed.opt_g.param_groups[0]["lr"] == 0.0 and resumed.opt_d.param_groups[0]["lr"] == 0.0
    assert train.resnet_gan(cfg.replace(lr_decay_steps=0), device=torch.device("cpu")).schedulers == []
    with pytest.raises(ValueError, match="steps = 0 is out of range"):
        train.linear_decay(0)


def test_seconds_per_step_checks_steps():
    cfg = config.ResNetGANConfig(image_size=16, base_channels=4, latent_dim=8, batch_size=4, n_critic=1, data_limit=64)
    with pytest.raises(ValueError, match="steps = 0 is out of range"):
        train.seconds_per_step(train.resnet_gan, cfg, steps=0)


def test_gradient_reaches_the_first_layer_only_through_the_shortcuts():
    from gancourse.models.resnet import conv_gradient_norms

    x = torch.randn(4, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    norms = {}
    for skip in (True, False):
        torch.manual_seed(0)
        net = nn.Sequential(*[ResidualBlock(4, norm="none", skip=skip) for _ in range(8)])
        norms[skip] = conv_gradient_norms(net, x)
        assert len(norms[skip]) == 16 and all(p.grad is None for p in net.parameters())  # grads cleared afterwards
    # same weights: the plain stack's first layer gets almost no gradient, the residual one keeps it
    assert norms[False][0] < 1e-3 * norms[True][0]
    assert norms[True][0] > 0.1 * norms[True][-1]
