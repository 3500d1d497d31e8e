import pytest
import torch

from gancourse import augment, config, losses, train
from gancourse.config.gan import DIFF_AUGMENT_POLICIES

CPU = torch.device("cpu")


def images(n=6, c=3, s=16, seed=0):
    return torch.rand(n, c, s, s, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_the_config_offers_every_policy_the_function_accepts():
    assert set(DIFF_AUGMENT_POLICIES) == set(augment.POLICIES)
    for policy in augment.POLICIES:
        assert augment.parse_policy(policy) == tuple(op for op in augment.OPS if op in policy.split(","))


@pytest.mark.parametrize("policy", [p for p in augment.POLICIES if p])
def test_gradients_flow_through_every_op(policy):
    x = images().requires_grad_(True)
    y = augment.diff_augment(x, policy, generator=torch.Generator().manual_seed(1))
    assert y.shape == x.shape
    (grad,) = torch.autograd.grad((y * torch.randn_like(y)).sum(), x)
    assert torch.isfinite(grad).all() and (grad != 0).float().mean() > 0.5  # cutout and the border drop some pixels


@pytest.mark.parametrize("op", augment.OPS)
def test_each_op_passes_gradcheck(op):
    x = images(n=2, c=2, s=8).double().requires_grad_(True)
    seed = 3

    def f(x):  # the same draws at every evaluation: a fixed, differentiable map of x
        return augment.diff_augment(x, op, generator=torch.Generator().manual_seed(seed))

    assert torch.autograd.gradcheck(f, (x,))


@pytest.mark.parametrize("policy", ["translation", "cutout", "translation,cutout", "color,translation,cutout"])
def test_probability_zero_is_the_identity(policy):
    x = images()
    assert torch.equal(augment.diff_augment(x, policy, probability=0.0), x)


def test_translation_shifts_by_whole_pixels_and_fills_zeros():
    x = images(n=64, c=1, s=16)
    y = augment.translation(x, generator=torch.Generator().manual_seed(0))
    found_shift = False
    for a, b in zip(x[:, 0], y[:, 0], strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(torch.roll(a, (-dy, -dx), (0, 1))[2:-2, 2:-2], b[2:-2, 2:-2])
        ]
        assert matches, "every image is a shift of its input by at most 1/8 of the side (2 px at 16 px)"
        found_shift |= matches[0] != (0, 0)
    assert found_shift
    assert (y == 0).any()  # the uncovered border


def test_cutout_zeroes_one_square_of_half_the_side():
    x = images(n=32, c=3, s=16) * 0.5 + 0.75  # no pixel is 0 before the cutout
    y = augment.cutout(x, generator=torch.Generator().manual_seed(0))
    zero = (y == 0).all(dim=1)  # (B, H, W): all channels cut
    assert torch.equal(zero, (y == 0).any(dim=1))
    assert torch.equal(y[~zero.unsqueeze(1).expand_as(y)], x[~zero.unsqueeze(1).expand_as(x)])
    counts = zero.flatten(1).sum(dim=1)
    assert counts.max() == 64 and counts.min() > 0  # 8 x 8, clipped at the border


def test_color_changes_brightness_saturation_and_contrast_per_image():
    x = images(n=8)
    y = augment.color(x, torch.Generator().manual_seed(0))
    assert not torch.allclose(y, x)
    # one affine map per image and channel mean: a constant image stays constant across its pixels
    flat = torch.full((4, 3, 8, 8), 0.2)
    assert torch.allclose(augment.color(flat).std(dim=(2, 3)), torch.zeros(4, 3), atol=1e-6)


def test_draws_come_from_the_global_rng_unless_a_generator_is_given():
    x = images()
    torch.manual_seed(5)
    a = augment.diff_augment(x)
    torch.manual_seed(5)
    assert torch.equal(augment.diff_augment(x), a)
    assert not torch.equal(augment.diff_augment(x), a)


def test_bad_policies_name_the_ops():
    with pytest.raises(ValueError, match="color, translation, cutout"):
        augment.diff_augment(images(), "colour")
    with pytest.raises(ValueError, match="each at most once"):
        augment.parse_policy("cutout,cutout")
    with pytest.raises(ValueError, match="probability = 1.5 is out of range"):
        augment.diff_augment(images(), "color", probability=1.5)
    with pytest.raises(ValueError, match="diff_augment = 'colour' is not allowed"):
        config.DCGANConfig(diff_augment="colour")


class Recorder:
    """A critic that keeps every batch it scores."""

    def __init__(self):
        self.seen = []

    def __call__(self, x):
        self.seen.append(x.detach().clone())
        return x.flatten(1).mean(dim=1)


def test_the_objective_augments_real_and_fake_in_both_steps():
    real, fake = images(seed=1), images(seed=2)
    objective = augment.Augmented(losses.MinimaxObjective(), "translation,cutout")
    critic = Recorder()
    objective.loss_d(critic, real, fake)
    objective.loss_g(critic, fake, real)
    assert len(critic.seen) == 3  # real and fake in D's step, fake in G's step
    assert not any(torch.equal(seen, x) for seen, x in zip(critic.seen, (real, fake, fake), strict=True))


def test_reals_only_augments_the_real_batch_and_never_the_fake():
    real, fake = images(seed=1), images(seed=2)
    objective = augment.Augmented(losses.MinimaxObjective(), "cutout", fakes=False)
    critic = Recorder()
    objective.loss_d(critic, real, fake)
    objective.loss_g(critic, fake, real)
    assert not torch.equal(critic.seen[0], real)
    assert torch.equal(critic.seen[1], fake) and torch.equal(critic.seen[2], fake)


def test_generator_gradient_goes_through_the_augmentation():
    fake = images().requires_grad_(True)
    objective = augment.Augmented(losses.HingeObjective(), "cutout")
    torch.manual_seed(0)
    loss, _ = objective.loss_g(lambda x: x.flatten(1).sum(dim=1), fake, None)
    (grad,) = torch.autograd.grad(loss, fake)
    assert (grad == 0).any() and (grad != 0).any()  # the cut pixels get no gradient: G sees D(T(G(z)))


def test_the_config_wraps_the_objective_and_the_run_resumes_exactly(tmp_path, monkeypatch):
    data = torch.rand(64, 1, 16, 16) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(data))
    cfg = config.DCGANConfig(
        steps=6,
        image_size=16,
        base_channels=4,
        batch_size=8,
        latent_dim=8,
        log_every=2,
        checkpoint_every=3,
        diff_augment="color,translation,cutout",
    )
    straight = train.dcgan(cfg, CPU)
    assert isinstance(straight.objective, augment.Augmented)
    assert isinstance(straight.objective.base, losses.MinimaxObjective)
    straight.train(progress=False)
    interrupted = train.dcgan(cfg, CPU, checkpoint_path=tmp_path / "d.pt")
    interrupted.train(steps=3, progress=False)
    torch.manual_seed(123)  # the augmentation draws from the global RNG: the checkpoint must restore it
    resumed = train.dcgan(cfg, CPU, checkpoint_path=tmp_path / "d.pt")
    assert resumed.load() == 3
    resumed.train(progress=False)
    for a, b in zip(straight.generator.parameters(), resumed.generator.parameters(), strict=True):
        assert torch.equal(a, b)
    assert straight.history == resumed.history


def test_feature_matching_with_diff_augment_is_refused(monkeypatch):
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(torch.zeros(8, 1, 16, 16)))
    cfg = config.DCGANConfig(image_size=16, base_channels=4, feature_matching=True, diff_augment="color")
    with pytest.raises(ValueError, match="would leak it into G"):
        train.dcgan(cfg, CPU)
    with pytest.raises(ValueError, match="ToyGANConfig.diff_augment = 'color' is not allowed"):
        config.ToyGANConfig(diff_augment="color")
