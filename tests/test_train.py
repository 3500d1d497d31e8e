import torch

from gancourse import train
from gancourse.config import RegressionConfig
from gancourse.models import TinyRegressor


def test_training_lowers_held_out_error():
    cfg = RegressionConfig(steps=300, lr=1e-2)
    torch.manual_seed(cfg.seed)
    untrained = train.evaluate_regressor(TinyRegressor(hidden=cfg.hidden), cfg, torch.device("cpu"))
    run = train.train_regressor(cfg, torch.device("cpu"))
    assert len(run.train_loss) == cfg.steps
    assert run.test_loss < untrained / 5
    assert run.test_loss < 0.25  # the target's variance is about 1.4; noise floor 0.01


def test_runs_are_reproducible_and_seed_dependent():
    cfg = RegressionConfig(steps=40)
    a = train.train_regressor(cfg, torch.device("cpu"))
    b = train.train_regressor(cfg, torch.device("cpu"))
    c = train.train_regressor(cfg.replace(seed=1), torch.device("cpu"))
    assert a.train_loss == b.train_loss
    assert a.train_loss != c.train_loss


def test_steps_span_epochs():
    cfg = RegressionConfig(steps=50, n_train=64, batch_size=32)  # 2 batches per epoch
    assert len(train.train_regressor(cfg, torch.device("cpu")).train_loss) == 50


# ------------------------------------------------------------------------------------
# GANTrainer
# ------------------------------------------------------------------------------------

import math  # noqa: E402

import pytest  # noqa: E402

from gancourse import checkpoints, data  # noqa: E402
from gancourse.config import DCGANConfig, ToyGANConfig  # noqa: E402

CPU = torch.device("cpu")


def small_toy(**overrides):
    settings = {"steps": 40, "hidden": 16, "batch_size": 32, "log_every": 5, "sample_every": 20}
    return ToyGANConfig(**{**settings, **overrides})


def weights(trainer):
    return [p.detach().clone() for p in [*trainer.generator.parameters(), *trainer.discriminator.parameters()]]


def test_toy_gan_learns_the_ring():
    cfg = ToyGANConfig(steps=1500, log_every=50)
    trainer = train.toy_gan(cfg, CPU)
    mixture = trainer.data.mixture
    mode, distance = mixture.nearest_mode(trainer.generate(2000))
    before = (distance < 3 * mixture.std).float().mean()
    trainer.train(progress=False)
    mode, distance = mixture.nearest_mode(trainer.generate(2000))
    good = distance < 3 * mixture.std
    assert good.float().mean() > max(0.3, 5 * before)  # far more samples land on a mode
    assert (torch.bincount(mode[good], minlength=8) > 20).sum() >= 4  # on several modes, not one
    assert set(trainer.history) >= {"step", "loss_d", "loss_g", "d_real", "d_fake", "lr_g"}
    assert trainer.history["step"][-1] == cfg.steps


@pytest.mark.parametrize("stop", [20, 13])  # 13: between logging boundaries (log every 5, samples every 20)
def test_resume_is_exact(tmp_path, stop):
    cfg = small_toy(checkpoint_every=0)
    straight = train.toy_gan(cfg, CPU)
    straight.train(progress=False)

    first = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    first.train(steps=stop, progress=False)
    first.save()  # the steps not yet logged travel in the checkpoint
    torch.manual_seed(999)  # disturb the global RNG: the checkpoint must restore it
    resumed = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    assert resumed.load() == stop
    resumed.train(progress=False)

    for a, b in zip(weights(straight), weights(resumed)):
        assert torch.equal(a, b)
    assert straight.history == resumed.history
    assert [s for s, _ in straight.samples] == [s for s, _ in resumed.samples] == [20, 40]


def test_resume_is_exact_for_dcgan_with_batch_norm(tmp_path, monkeypatch):
    images = torch.rand(64, 1, 16, 16) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(images))
    cfg = DCGANConfig(steps=6, image_size=16, base_channels=4, batch_size=8, latent_dim=8, log_every=2, checkpoint_every=3)
    straight = train.dcgan(cfg, CPU)
    straight.train(progress=False)
    interrupted = train.dcgan(cfg, CPU, checkpoint_path=tmp_path / "d.pt")
    interrupted.train(steps=3, progress=False)  # as if killed after the checkpoint at step 3
    resumed = train.dcgan(cfg, CPU, checkpoint_path=tmp_path / "d.pt")
    assert resumed.load() == 3
    resumed.train(progress=False)
    for a, b in zip(weights(straight), weights(resumed)):
        assert torch.equal(a, b)
    for a, b in zip(straight.generator.buffers(), resumed.generator.buffers()):  # batch-norm running stats
        assert torch.equal(a, b)


def test_divergence_stops_with_the_step_and_keeps_the_last_checkpoint(tmp_path):
    cfg = small_toy(checkpoint_every=10, log_every=10)
    poisoned = data.ring_of_gaussians()
    calls = {"n": 0}

    def sampler(n, generator):
        calls["n"] += 1
        batch = poisoned.sample(n, generator)
        return batch * float("nan") if calls["n"] > 25 else batch

    trainer = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    trainer.real = sampler
    with pytest.raises(train.TrainingDiverged, match=r"training diverged at step 26: loss_d = nan.*run.pt, is intact"):
        trainer.train(progress=False)
    state = checkpoints.load_checkpoint(tmp_path / "run.pt")
    assert state["step"] == 20
    assert all(math.isfinite(v) for v in state["history"]["loss_d"])


def test_load_refuses_another_config_and_garbage(tmp_path):
    trainer = train.toy_gan(small_toy(), CPU, checkpoint_path=tmp_path / "a.pt")
    trainer.train(steps=5, progress=False)
    trainer.save()
    other = train.toy_gan(small_toy(lr_d=5e-4), CPU, checkpoint_path=tmp_path / "a.pt")
    with pytest.raises(checkpoints.CheckpointError, match="trained with another configuration .* differs in: lr_d"):
        other.load()
    longer = train.toy_gan(small_toy().replace(steps=80), CPU, checkpoint_path=tmp_path / "a.pt")
    assert longer.load() == 5  # a longer run of the same config may continue from it
    (tmp_path / "junk.pt").write_text("junk")
    with pytest.raises(checkpoints.CheckpointError, match="junk.pt is not a readable checkpoint"):
        trainer.load(tmp_path / "junk.pt")


def test_load_or_train_loads_finished_runs_and_resumes_unfinished(tmp_path, capsys):
    cfg = small_toy()
    first = train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False)
    assert "training 40 steps" in capsys.readouterr().out
    again = train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False)
    assert "loaded the finished run" in capsys.readouterr().out
    for a, b in zip(weights(first), weights(again)):
        assert torch.equal(a, b)
    path = next(tmp_path.glob("toy-*.pt"))
    partial = train.toy_gan(cfg, CPU, checkpoint_path=path)
    partial.train(steps=15, progress=False)  # an interrupted run
    resumed = train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False)
    assert "resuming the interrupted run from step 15" in capsys.readouterr().out
    for a, b in zip(weights(first), weights(resumed)):
        assert torch.equal(a, b)
    train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False, force=True)
    assert "training 40 steps" in capsys.readouterr().out


def test_schedulers_are_stepped_and_saved(tmp_path):
    def step_lr(opt_g, opt_d):
        return [torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5) for o in (opt_g, opt_d)]

    cfg = small_toy()
    trainer = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "s.pt", schedulers=step_lr)
    trainer.train(steps=25, progress=False)
    assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(cfg.lr_g / 4)
    trainer.save()
    resumed = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "s.pt", schedulers=step_lr)
    resumed.load()
    resumed.train(progress=False)
    assert resumed.opt_g.param_groups[0]["lr"] == pytest.approx(cfg.lr_g / 16)


def test_discriminator_step_does_not_touch_the_generator():
    trainer = train.toy_gan(small_toy(n_critic=3), CPU)
    before = [p.detach().clone() for p in trainer.generator.parameters()]
    real, _ = trainer.real_batch()
    fake = trainer.generator(trainer.sample_z(8)).detach()
    loss_d, _ = trainer.objective.loss_d(trainer.discriminator, real, fake)
    loss_d.backward()
    assert all(p.grad is None for p in trainer.generator.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.generator.parameters()))


def test_frozen_discriminator_gets_no_gradient_from_the_generator_step():
    trainer = train.toy_gan(small_toy(freeze_d_in_g_step=True), CPU)
    trainer.train_step()
    assert all(p.grad is None or p.requires_grad for p in trainer.discriminator.parameters())
    assert all(p.requires_grad for p in trainer.discriminator.parameters())  # unfrozen afterwards


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: DCGANConfig(image_size=48), "DCGANConfig.image_size = 48 is not supported"),
        (lambda: DCGANConfig(n_critic=0), r"DCGANConfig.n_critic = 0 is out of range: allowed 1 <= value <= 100"),
        (lambda: ToyGANConfig(mixture="spiral"), r"ToyGANConfig.mixture = 'spiral' is not allowed"),
        (lambda: ToyGANConfig(generator_loss="hinge"), r"generator_loss = 'hinge' is not allowed"),
        (lambda: ToyGANConfig(label_smoothing=0.7), r"label_smoothing = 0.7 is out of range"),
        (lambda: train.TensorSampler(torch.zeros(0, 2)), "data is empty"),
    ],
)
def test_bad_gan_settings(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_conditional_sampler_pairs_data_and_condition():
    images, labels = torch.arange(10.0).view(10, 1), torch.arange(10)
    real, condition = train.TensorSampler(images, labels)(6, torch.Generator().manual_seed(0))
    assert torch.equal(real.view(-1).long(), condition)
    with pytest.raises(ValueError, match="condition has 3 entries but data has 10"):
        train.TensorSampler(images, labels[:3])


def test_rmsprop_option_builds_rmsprop():
    trainer = train.toy_gan(small_toy(optimizer="rmsprop", lr_d=5e-5), CPU)
    assert isinstance(trainer.opt_d, torch.optim.RMSprop) and trainer.opt_d.param_groups[0]["lr"] == 5e-5
    with pytest.raises(ValueError, match="optimizer"):
        small_toy(optimizer="sgd")

