"""pix2pix: U-Net and PatchGAN shapes, receptive fields, the loss on hand-made inputs, edges, training, resume."""

import math

import pytest
import torch
from torch import nn

from gancourse import data, train
from gancourse.config import Pix2PixConfig
from gancourse.losses import Pix2PixObjective
from gancourse.models import PatchDiscriminator, UNetGenerator, receptive_field, receptive_field_steps

CPU = torch.device("cpu")


@pytest.mark.parametrize("image_size, depth", [(16, 4), (32, 5), (64, 6)])
def test_unet_shapes_and_depth(image_size, depth):
    g = UNetGenerator(1, 3, base_channels=4, image_size=image_size)
    assert g.depth == depth and len(g.down) == depth and len(g.up) == depth - 1
    out = g(torch.randn(2, 1, image_size, image_size))
    assert out.shape == (2, 3, image_size, image_size) and out.abs().max() <= 1


def test_unet_paper_widths_and_dropout_layers():
    g = UNetGenerator(3, 3, base_channels=64, image_size=256)  # the paper's C64-C128-C256-C512-C512-C512-C512-C512
    assert [block[0].out_channels for block in g.down] == [64, 128, 256, 512, 512, 512, 512, 512]
    dropouts = [any(isinstance(m, nn.Dropout) for m in block) for block in g.up]
    assert dropouts == [True, True, True, False, False, False, False]  # CD512-CD1024-CD1024-C1024-...
    assert [block[0].in_channels for block in g.up] == [512, 1024, 1024, 1024, 1024, 512, 256]


def test_dropout_is_the_noise_at_test_time():
    torch.manual_seed(0)
    x = torch.randn(2, 1, 16, 16)
    noisy = UNetGenerator(1, 1, 4, 16).eval()
    assert not torch.equal(noisy(x), noisy(x))  # dropout stays on in eval mode (Isola et al. Sec. 3.2)
    quiet = UNetGenerator(1, 1, 4, 16, test_dropout=False).eval()
    assert torch.equal(quiet(x), quiet(x))


def test_skip_connections_carry_the_input():
    """Without the skips the output's gradient would reach the input only through the 1 x 1 bottleneck."""
    g = UNetGenerator(1, 1, 4, 16, dropout=0.0).eval()
    x = torch.randn(1, 1, 16, 16, requires_grad=True)
    g(x)[0, 0, 3, 3].backward()
    grad = x.grad[0, 0].abs()
    assert grad[3, 3] > 0 and grad[:8, :8].sum() > grad[8:, 8:].sum()  # local: mostly near the output pixel


@pytest.mark.parametrize("n_layers, field", [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_patchgan_receptive_field(n_layers, field):
    d = PatchDiscriminator(2, 4, n_layers)
    assert receptive_field(d) == field
    assert receptive_field_steps(d)[-1]["jump"] == 2**n_layers


def test_receptive_field_matches_the_gradient_footprint():
    torch.manual_seed(0)
    d = PatchDiscriminator(2, 4, n_layers=1).eval()  # eval: batch norm is a per-pixel affine map
    x = torch.randn(1, 1, 48, 48, requires_grad=True)
    y = torch.randn(1, 1, 48, 48)
    out = d(x, y)
    assert out.shape == (1, 22, 22)  # 48 -> 24 -> 23 -> 22
    out[0, 11, 11].backward()
    rows, cols = x.grad[0, 0].abs().gt(0).nonzero(as_tuple=True)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (16, 16)


def test_receptive_field_closed_form_and_errors():
    assert receptive_field([nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)]) == 5
    assert receptive_field([nn.Conv2d(1, 1, 3, dilation=2)]) == 5
    assert receptive_field([nn.Conv2d(1, 1, 2, stride=2), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3)]) == 2 + 2 + 2 * 4
    with pytest.raises(ValueError, match="no convolution"):
        receptive_field([nn.ReLU()])


def test_patchgan_shapes_and_unpaired_inputs():
    d = PatchDiscriminator(2, 4, 3)
    assert d(torch.zeros(2, 1, 32, 32), torch.zeros(2, 1, 32, 32)).shape == (2, 2, 2)
    with pytest.raises(ValueError, match="are not paired"):
        d(torch.zeros(2, 1, 32, 32), torch.zeros(2, 1, 16, 16))
    with pytest.raises(ValueError, match="are not paired"):
        d(torch.zeros(3, 1, 32, 32), torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="in_channels = 2"):
        d(torch.zeros(2, 3, 32, 32), torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"condition must have shape \(B, 1, 16, 16\)"):
        UNetGenerator(1, 1, 4, 16)(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="image_size = 24 is not supported"):
        UNetGenerator(1, 1, 4, 24)
    with pytest.raises(ValueError, match="norm = 'layer' is not allowed"):
        PatchDiscriminator(2, 4, 3, norm="layer")


def test_pix2pix_losses_on_hand_made_inputs():
    real = torch.zeros(2, 1, 4, 4)
    fake = torch.full((2, 1, 4, 4), 0.5)
    undecided = lambda x: torch.zeros(len(x), 3, 3)  # noqa: E731  logit 0 = D(x) = 1/2 on every patch
    loss_d, stats = Pix2PixObjective().loss_d(undecided, real, fake)
    assert loss_d.item() == pytest.approx(0.5 * 2 * math.log(2))  # halved, as in the paper
    assert stats["d_real"].item() == pytest.approx(0.5)
    loss_g, stats = Pix2PixObjective(l1_weight=100).loss_g(undecided, fake, real)
    assert stats["l1"].item() == pytest.approx(0.5)
    assert loss_g.item() == pytest.approx(math.log(2) + 100 * 0.5)
    loss_g, stats = Pix2PixObjective(adversarial=False).loss_g(undecided, fake, real)
    assert loss_g.item() == pytest.approx(50.0) and "loss_g_adversarial" not in stats
    loss_g, _ = Pix2PixObjective(l1_weight=0).loss_g(lambda x: torch.full((len(x), 2, 2), 2.0), fake, real)
    assert loss_g.item() == pytest.approx(math.log1p(math.exp(-2.0)))  # -log sigmoid(2)


def test_pix2pix_objective_rejects_bad_settings():
    with pytest.raises(ValueError, match="l1_weight = -1 is out of range"):
        Pix2PixObjective(l1_weight=-1)
    with pytest.raises(ValueError, match="no loss"):
        Pix2PixObjective(l1_weight=0, adversarial=False)
    with pytest.raises(ValueError, match="d_loss_factor = 0 is out of range"):
        Pix2PixObjective(d_loss_factor=0)
    with pytest.raises(ValueError, match="must be the target paired with fake"):
        Pix2PixObjective().loss_g(lambda x: x.mean(dim=1), torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match="no loss"):
        Pix2PixConfig(l1_weight=0, adversarial=False)


def test_sobel_edges_find_a_step():
    image = torch.full((1, 1, 8, 8), -1.0)
    image[..., 4:] = 1.0  # black left half, white right half
    edges = data.sobel_edges(image)
    assert edges.shape == (1, 1, 8, 8) and set(edges.unique().tolist()) <= {-1.0, 1.0}
    assert (edges[0, 0] == 1).nonzero()[:, 1].unique().tolist() == [3, 4]  # the two columns at the step
    assert (data.sobel_edges(torch.zeros(2, 3, 8, 8)) == -1).all()  # colour is averaged to grey; flat: no edge
    magnitude = data.sobel_edges(image, threshold=None)
    assert magnitude.max() == 1 and magnitude.min() == -1
    with pytest.raises(ValueError, match="images must be float"):
        data.sobel_edges(torch.zeros(1, 8, 8))


# ------------------------------------------------------------------------------------
# Training on a toy pairing: the target is the edge map's filled-in square
# ------------------------------------------------------------------------------------


def square_pairs(n=64, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.full((n, 1, size, size), -1.0)
    for i in range(n):
        r, c = torch.randint(0, size - 6, (2,), generator=g).tolist()
        images[i, :, r : r + 6, c : c + 6] = 1.0
    return data.sobel_edges(images), images


def small_pix2pix(**overrides):
    settings = dict(
        steps=60,
        image_size=16,
        base_channels=8,
        batch_size=8,
        d_layers=1,
        log_every=10,
        sample_every=30,
        lr_g=1e-3,
        lr_d=1e-3,
    )
    return Pix2PixConfig(**{**settings, **overrides})


@pytest.fixture
def squares(monkeypatch):
    edges, images = square_pairs()
    monkeypatch.setattr(
        train.recipe_parts,
        "edge_pairs",
        lambda cfg, split, threshold: (edges[: cfg.limit or None], images[: cfg.limit or None], None),
    )
    return edges, images


def test_pix2pix_trains_and_l1_falls(squares):
    trainer = train.pix2pix(small_pix2pix(), CPU, n_fixed=4)
    edges, images = squares
    before = (trainer.translate(edges) - images).abs().mean()
    trainer.train(progress=False)
    after = (trainer.translate(edges) - images).abs().mean()
    assert after < before / 2, (before, after)
    assert trainer.history["l1"][-1] < trainer.history["l1"][0]
    assert trainer.samples[-1][1].shape == (4, 1, 16, 16) and torch.equal(trainer.data.fixed_target, images[:4])


def test_resume_is_exact_for_pix2pix(tmp_path, squares, assert_same_networks):
    cfg = small_pix2pix(steps=6, log_every=2, checkpoint_every=3, sample_every=3)
    straight = train.pix2pix(cfg, CPU, n_fixed=2)
    straight.train(progress=False)
    interrupted = train.pix2pix(cfg, CPU, checkpoint_path=tmp_path / "p.pt", n_fixed=2)
    interrupted.train(steps=3, progress=False)
    torch.manual_seed(7)  # the dropout noise comes from the global RNG: the checkpoint restores it
    resumed = train.pix2pix(cfg, CPU, checkpoint_path=tmp_path / "p.pt", n_fixed=2)
    assert resumed.load() == 3
    resumed.train(progress=False)
    assert_same_networks(straight, resumed)
    assert straight.history["step"][-1] == resumed.history["step"][-1] == 6


def test_generator_needs_the_condition(squares):
    trainer = train.pix2pix(small_pix2pix(), CPU, n_fixed=2)
    with pytest.raises(ValueError, match="needs the input image"):
        trainer.generate(2)


def test_inference_runs_the_generator_as_in_training(squares):
    """Isola et al. 2017, Sec. 3.3: batch statistics of the test batch and dropout at test time."""
    import copy

    edges, _ = squares
    trainer = train.pix2pix(small_pix2pix(steps=4, test_dropout=False), CPU, n_fixed=2)
    trainer.train(progress=False)
    trainer.generator.eval()  # whatever mode G is left in, inference is the training-time computation
    running = [b.clone() for b in trainer.generator.buffers()]
    twin = copy.deepcopy(trainer.generator).train()  # train mode: the batch's own statistics
    for m in twin.modules():
        if isinstance(m, nn.Dropout):
            m.eval()  # test_dropout=False: no dropout at test time (so the comparison is deterministic)
    expected = twin(edges[:8])
    torch.manual_seed(5)
    global_state = torch.get_rng_state()
    out = trainer.translate(edges[:8])
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(trainer.translate(edges[:1]), out[:1])  # batch size 1: its own statistics
    for a, b in zip(running, trainer.generator.buffers(), strict=True):
        assert torch.equal(a, b)  # running averages neither used nor updated
    assert not trainer.generator.training
    assert torch.equal(torch.get_rng_state(), global_state)  # the training RNG is untouched


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 3.0])
def test_nan_or_out_of_range_inputs_are_refused_not_translated_to_nan(squares, bad):
    trainer = train.pix2pix(small_pix2pix(steps=1), CPU, n_fixed=2)
    edges = squares[0][:2].clone()
    edges[0, 0, 3, 3] = bad
    message = "condition holds 1 NaN or infinite" if bad != 3.0 else r"condition holds values in \[.*, 3\], outside"
    with pytest.raises(ValueError, match=message):
        trainer.translate(edges)
    cfg = trainer.cfg
    with pytest.raises(ValueError, match=message.replace("condition", "inputs")):
        train.RECIPES["pix2pix"].sample(cfg, trainer.generator, 2, inputs=edges)


def test_test_time_dropout_draws_fresh_noise_without_touching_training(squares):
    trainer = train.pix2pix(small_pix2pix(steps=2), CPU, n_fixed=2)
    edges, _ = squares
    global_state = torch.get_rng_state()
    first, second = trainer.translate(edges[:4]), trainer.translate(edges[:4])
    assert not torch.equal(first, second)  # dropout is the noise: each call draws new masks
    assert torch.equal(torch.get_rng_state(), global_state)
