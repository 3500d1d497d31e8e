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



# ------------------------------------------------------------------------------------
# Stabilisation options (chapter 12): objective, feature matching, minibatch
# discrimination, historical averaging
# ------------------------------------------------------------------------------------

from gancourse import losses  # noqa: E402
from gancourse.config import ConditionalGANConfig, WGANConfig  # noqa: E402


@pytest.mark.parametrize(
    "changes, kind",
    [
        ({}, losses.MinimaxObjective),
        ({"objective": "least_squares"}, losses.LeastSquaresObjective),
        ({"objective": "wasserstein_gp", "gp_weight": 5.0}, losses.WassersteinObjective),
    ],
)
def test_the_config_chooses_the_objective(changes, kind):
    trainer = train.toy_gan(small_toy(**changes), CPU)
    assert type(trainer.objective) is kind
    if kind is losses.WassersteinObjective:
        assert trainer.objective.gp_weight == 5.0
    trainer.train(steps=3, progress=False)
    wrapped = train.toy_gan(small_toy(feature_matching=True, **changes), CPU)
    assert isinstance(wrapped.objective, losses.FeatureMatchingObjective) and type(wrapped.objective.base) is kind


def test_feature_matching_trains_g_on_ds_features_only():
    trainer = train.toy_gan(small_toy(feature_matching=True), CPU)
    real, _ = trainer.real_batch()
    fake = trainer.generator(trainer.sample_z(len(real)))
    loss_g, _ = trainer.objective.loss_g(trainer.discriminator, fake, real)
    d = trainer.discriminator
    assert torch.allclose(loss_g, ((d.features(real).mean(0) - d.features(fake).mean(0)) ** 2).sum())


def test_minibatch_discrimination_is_built_into_d():
    trainer = train.toy_gan(small_toy(minibatch_kernels=6, minibatch_kernel_dims=3), CPU)
    layer = trainer.discriminator.minibatch["layer"]
    assert layer.T.shape == (trainer.discriminator.features(torch.zeros(1, 2)).shape[1], 6, 3)
    trainer.train(steps=3, progress=False)
    assert train.toy_gan(small_toy(), CPU).discriminator.minibatch is None


def test_historical_averaging_penalises_both_players_against_their_running_mean():
    cfg = small_toy(historical_averaging=0.5)
    trainer = train.toy_gan(cfg, CPU)
    assert float(trainer.historical_penalty("generator")) == 0.0  # no history before the first step
    past = {"generator": [], "discriminator": []}
    for _ in range(3):
        trainer.train_step()
        for player in past:
            past[player].append([p.detach().clone() for p in getattr(trainer, player).parameters()])
    for player, history in past.items():
        means = [torch.stack(ps).mean(0) for ps in zip(*history, strict=True)]
        assert trainer.historical[player].count == 3 * (cfg.n_critic if player == "discriminator" else 1)
        assert all(torch.allclose(m, e, atol=1e-6) for m, e in zip(trainer.historical[player].mean, means, strict=True))
    with torch.no_grad():
        for p in trainer.generator.parameters():
            p.add_(0.1)
    mean = trainer.historical["generator"].mean
    expected = 0.5 * sum(((p - m) ** 2).sum() for p, m in zip(trainer.generator.parameters(), mean, strict=True))
    assert torch.allclose(trainer.historical_penalty("generator"), expected)
    assert not train.toy_gan(small_toy(), CPU).historical  # off by default


def test_resume_is_exact_with_every_stabilisation_option(tmp_path):
    cfg = small_toy(checkpoint_every=0, historical_averaging=0.1, minibatch_kernels=4, feature_matching=True,
                    objective="least_squares")
    straight = train.toy_gan(cfg, CPU)
    straight.train(progress=False)
    first = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    first.train(steps=13, progress=False)
    first.save()
    resumed = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    assert resumed.load() == 13
    assert resumed.historical["generator"].count == 13  # the running means came back with the weights
    resumed.train(progress=False)
    for a, b in zip(weights(straight), weights(resumed), strict=True):
        assert torch.equal(a, b)
    for player in ("generator", "discriminator"):
        pairs = zip(straight.historical[player].mean, resumed.historical[player].mean, strict=True)
        assert all(torch.equal(a, b) for a, b in pairs)
    assert straight.history == resumed.history


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ToyGANConfig(objective="hinge"), r"ToyGANConfig.objective = 'hinge' is not allowed"),
        (lambda: DCGANConfig(objective="wasserstein_gp"), r"DCGANConfig.objective = 'wasserstein_gp' is not allowed"),
        (lambda: WGANConfig(objective="minimax"), r"WGANConfig.objective = 'minimax' is not allowed"),
        (lambda: ToyGANConfig(minibatch_kernels=-1), r"minibatch_kernels = -1 is out of range"),
        (lambda: ToyGANConfig(historical_averaging=-0.1), r"historical_averaging = -0.1 is out of range"),
        (lambda: train.toy_gan(small_toy(objective="least_squares", label_smoothing=0.1), CPU),
         "label_smoothing = 0.1 are options of the minimax objective"),
        (lambda: train.toy_gan(small_toy(objective="wasserstein_gp", minibatch_kernels=4), CPU),
         "per-sample penalty is undefined"),
        (lambda: train.toy_gan(small_toy(objective="least_squares"), CPU, objective=losses.MinimaxObjective()),
         "this GAN trains with its recipe's own objective"),
    ],
)
def test_bad_stabilisation_settings_name_the_field(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_recipes_without_the_option_refuse_it(monkeypatch):
    images, labels = torch.rand(16, 1, 16, 16) * 2 - 1, torch.arange(16) % 10
    monkeypatch.setattr(train.recipes, "preload", lambda cfg: (images, labels))
    small = {"image_size": 16, "base_channels": 4, "batch_size": 4, "latent_dim": 8}
    with pytest.raises(ValueError, match="ConditionalDiscriminator\\) has no minibatch discrimination"):
        train.conditional_gan(ConditionalGANConfig(minibatch_kernels=4, **small), CPU)
    with pytest.raises(ValueError, match="feature_matching = True needs a discriminator with a features"):
        train.conditional_gan(ConditionalGANConfig(feature_matching=True, **small), CPU)
    lsgan = train.dcgan(DCGANConfig(objective="least_squares", minibatch_kernels=4, **small), CPU)
    assert isinstance(lsgan.objective, losses.LeastSquaresObjective) and lsgan.discriminator.minibatch is not None
    lsgan.train(steps=2, progress=False)
