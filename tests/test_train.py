import copy
import math

import pytest
import torch

from gancourse import checkpoints, data, losses, metrics, train
from gancourse.config import ConditionalGANConfig, DCGANConfig, RegressionConfig, ToyGANConfig, WGANConfig
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

CPU = torch.device("cpu")


def small_toy(**overrides):
    settings = {"steps": 40, "hidden": 16, "batch_size": 32, "log_every": 5, "sample_every": 20}
    return ToyGANConfig(**{**settings, **overrides})


def weights(trainer):
    return [p.detach().clone() for p in [*trainer.generator.parameters(), *trainer.discriminator.parameters()]]


@pytest.mark.slow
def test_toy_gan_learns_the_ring():
    cfg = ToyGANConfig(steps=1500, log_every=50)
    trainer = train.toy_gan(cfg, CPU)
    mixture = trainer.data.mixture
    before = metrics.mode_coverage(trainer.generate(2000), mixture)
    trainer.train(progress=False)
    after = metrics.mode_coverage(trainer.generate(2000), mixture)
    # the data itself: within 3 std of its mode lies 1 - exp(-9/2) = 98.9 % of a 2-D normal (chi-square, 2 dof)
    data_share = 1 - math.exp(-4.5)
    # far more samples on a mode than before training: at least a quarter of the data's share after 1,500 steps
    assert after.high_quality_share > max(data_share / 4, 5 * before.high_quality_share)
    assert after.modes_captured >= after.n_modes // 2  # on several modes, not one (PacGAN's capture rule)
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

    for a, b in zip(weights(straight), weights(resumed), strict=True):
        assert torch.equal(a, b)
    assert straight.history == resumed.history
    assert [s for s, _ in straight.samples] == [s for s, _ in resumed.samples] == [20, 40]


def test_resume_is_exact_for_dcgan_with_batch_norm(tmp_path, monkeypatch):
    images = torch.rand(64, 1, 16, 16) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(images))
    cfg = DCGANConfig(
        steps=6, image_size=16, base_channels=4, batch_size=8, latent_dim=8, log_every=2, checkpoint_every=3
    )
    straight = train.dcgan(cfg, CPU)
    straight.train(progress=False)
    interrupted = train.dcgan(cfg, CPU, checkpoint_path=tmp_path / "d.pt")
    interrupted.train(steps=3, progress=False)  # as if killed after the checkpoint at step 3
    resumed = train.dcgan(cfg, CPU, checkpoint_path=tmp_path / "d.pt")
    assert resumed.load() == 3
    resumed.train(progress=False)
    for a, b in zip(weights(straight), weights(resumed), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(straight.generator.buffers(), resumed.generator.buffers(), strict=True):  # batch-norm running stats
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
    message = r"training diverged at step 26: loss_d = nan.*run.pt \(step 20\), is intact"
    with pytest.raises(train.TrainingDiverged, match=message):
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
    for a, b in zip(weights(first), weights(again), strict=True):
        assert torch.equal(a, b)
    path = next(tmp_path.glob("toy-*.pt"))
    partial = train.toy_gan(cfg, CPU, checkpoint_path=path)
    partial.train(steps=15, progress=False)  # an interrupted run
    resumed = train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False)
    assert "resuming the interrupted run from step 15" in capsys.readouterr().out
    for a, b in zip(weights(first), weights(resumed), strict=True):
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


class StepProbe:
    """Watches one ``train_step``: which phase each gradient reaching G's parameters comes from,
    and D's state at the moment the generator's loss is computed (inside the G step)."""

    def __init__(self, trainer):
        self.trainer, self.phase, self.g_gradients = trainer, "d", []
        for p in trainer.generator.parameters():  # fires whenever backward() computes a gradient for p
            p.register_hook(lambda grad: self.g_gradients.append(self.phase))
        self._loss_g = trainer.objective.loss_g
        trainer.objective.loss_g = self.loss_g  # the instance attribute shadows the method

    def loss_g(self, critic, fake, real):
        self.phase = "g"
        d_params = list(self.trainer.discriminator.parameters())
        self.d_requires_grad = [p.requires_grad for p in d_params]
        self.d_grads = [p.grad.clone() for p in d_params]  # as D's own step left them
        return self._loss_g(critic, fake, real)

    def d_grads_unchanged(self):
        d_params = self.trainer.discriminator.parameters()
        return all(torch.equal(a, p.grad) for a, p in zip(self.d_grads, d_params, strict=True))


def test_discriminator_steps_send_no_gradient_into_the_generator():
    trainer = train.toy_gan(small_toy(n_critic=3), CPU)
    probe = StepProbe(trainer)
    before = [p.detach().clone() for p in trainer.generator.parameters()]
    trainer.train_step()
    n_params = len(before)
    # every gradient G receives comes from its own loss: the fake batch of the D steps is detached
    assert probe.g_gradients == ["g"] * n_params
    changed = [not torch.equal(a, p) for a, p in zip(before, trainer.generator.parameters(), strict=True)]
    assert any(changed)  # and the G step did update G


@pytest.mark.parametrize("freeze", [True, False])
def test_frozen_discriminator_gets_no_gradient_from_the_generator_step(freeze):
    trainer = train.toy_gan(small_toy(freeze_d_in_g_step=freeze), CPU)
    probe = StepProbe(trainer)
    trainer.train_step()
    if freeze:  # inside the G step D is frozen and its gradients stay those of its own step
        assert not any(probe.d_requires_grad) and probe.d_grads_unchanged()
    else:  # the probe sees the difference: unfrozen, D's gradients accumulate the G loss's
        assert all(probe.d_requires_grad) and not probe.d_grads_unchanged()
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
        trainer.advance()
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
    cfg = small_toy(
        checkpoint_every=0,
        historical_averaging=0.1,
        minibatch_kernels=4,
        feature_matching=True,
        objective="least_squares",
    )
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
        (lambda: ToyGANConfig(objective="relativistic"), r"ToyGANConfig.objective = .relativistic. is not allowed"),
        (lambda: DCGANConfig(objective="wasserstein_gp"), r"DCGANConfig.objective = 'wasserstein_gp' is not allowed"),
        (lambda: WGANConfig(objective="minimax"), r"WGANConfig.objective = 'minimax' is not allowed"),
        (lambda: ToyGANConfig(minibatch_kernels=-1), r"minibatch_kernels = -1 is out of range"),
        (lambda: ToyGANConfig(historical_averaging=-0.1), r"historical_averaging = -0.1 is out of range"),
        (
            lambda: train.toy_gan(small_toy(objective="least_squares", label_smoothing=0.1), CPU),
            "label_smoothing = 0.1 are options of the minimax objective",
        ),
        (
            lambda: train.toy_gan(small_toy(objective="wasserstein_gp", minibatch_kernels=4), CPU),
            "per-sample penalty is undefined",
        ),
        (
            lambda: train.toy_gan(small_toy(objective="least_squares"), CPU, objective=losses.MinimaxObjective()),
            "this GAN trains with its recipe's own objective",
        ),
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


def test_recipes_take_channels_and_classes_from_the_data(tmp_path, monkeypatch):
    """Every image recipe on emoji (the embedded copy: no data root, downloads off): 3 channels, 10 classes."""
    import numpy as np
    import pytest
    from PIL import Image

    from gancourse import config
    from gancourse.train import recipes

    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    small = dict(image_size=16, base_channels=4, steps=1, batch_size=4, data_limit=40)
    runs = [
        (recipes.dcgan, config.DCGANConfig(dataset="emoji", **small)),
        (recipes.wgan_gp, config.WGANGPConfig(dataset="emoji_noto", **small)),
        (recipes.resnet_gan, config.ResNetGANConfig(dataset="emoji_twemoji", **{**small, "base_channels": 8})),
        (recipes.conditional_gan, config.ConditionalGANConfig(dataset="emoji", **small)),
        (
            recipes.mlp_gan,
            config.MLPGANConfig(dataset="emoji", image_size=16, hidden=16, steps=1, batch_size=4, data_limit=40),
        ),
    ]
    for build, cfg in runs:
        trainer = build(cfg)
        trainer.train()
        condition = torch.tensor([0, 9]) if build is recipes.conditional_gan else None
        assert trainer.generate(2, condition).shape == (2, 3, 16, 16), build.__name__
    assert recipes.conditional_gan(runs[3][1]).data.classes[0] == "Smileys & Emotion"
    trainer = recipes.pix2pix(
        config.Pix2PixConfig(
            dataset="emoji", image_size=16, base_channels=4, d_layers=1, steps=1, batch_size=2, data_limit=8
        )
    )
    assert trainer.fixed_condition.shape[1:] == (3, 16, 16) and trainer.data.fixed_target.shape[1:] == (3, 16, 16)
    folder = tmp_path / "facades"
    for split in ("train", "test"):
        (folder / split).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(np.full((16, 32, 3), 40 * i, np.uint8)).save(folder / split / f"{i}.png")
    cfg = config.Pix2PixConfig(
        dataset="paired_folder",
        image_folder=str(folder),
        direction="BtoA",
        image_size=16,
        base_channels=4,
        d_layers=1,
        steps=1,
        batch_size=2,
    )
    trainer = recipes.pix2pix(cfg, n_fixed=2)
    trainer.train()
    assert trainer.fixed_condition.shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="has no class labels"):
        config.ConditionalGANConfig(dataset="folder", image_folder=str(folder))


# --------------------------------------------------------------------------------------
# Hardening: no run is lost, an interrupted run continues exactly, bad requests are named
# --------------------------------------------------------------------------------------


def optimizer_state(trainer):
    return [
        t.clone()
        for opt in (trainer.opt_g, trainer.opt_d)
        for st in opt.state.values()
        for t in st.values()
        if isinstance(t, torch.Tensor)
    ]


def test_nan_gradient_with_finite_losses_is_never_checkpointed(tmp_path):
    cfg = small_toy(checkpoint_every=10, log_every=10)
    trainer = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    weight = next(trainer.generator.parameters())
    weight.register_hook(lambda grad: grad * float("nan") if trainer.step == 19 else grad)  # the 20th G update
    message = r"by step 20: NaN or inf in generator\..*losses were finite.*run.pt \(step 10\), is intact"
    with pytest.raises(train.TrainingDiverged, match=message):
        trainer.train(progress=False)
    state = checkpoints.load_checkpoint(tmp_path / "run.pt")
    assert state["step"] == 10
    assert checkpoints.nonfinite_entries({k: state[k] for k in ("generator", "discriminator", "opt_g", "opt_d")}) == []
    # saving by hand is refused too, and leaves the good checkpoint as it was
    with torch.no_grad():
        weight.fill_(float("nan"))
    with pytest.raises(train.TrainingDiverged, match="not saving .*run.pt: NaN or inf in generator"):
        trainer.save()
    assert checkpoints.load_checkpoint(tmp_path / "run.pt")["step"] == 10


def test_unwritable_checkpoint_folder_is_refused_before_training(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    trainer = train.toy_gan(small_toy(), CPU, checkpoint_path=blocker / "run.pt")
    with pytest.raises(checkpoints.CheckpointError, match="cannot write checkpoints to .*not-a-folder"):
        trainer.train(progress=False)
    assert trainer.step == 0  # refused before the first step


def test_failed_final_save_keeps_the_trained_trainer(tmp_path, monkeypatch, capsys):
    def disk_full(path, state, **kwargs):
        raise checkpoints.CheckpointError(f"could not write the checkpoint {path}: the disk is full")

    cfg = small_toy(checkpoint_every=0)
    trainer = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    monkeypatch.setattr(train.checkpointing, "save_checkpoint", disk_full)
    message = r"run.pt: the disk is full.*reached step 40.*trainer.save\(path\)"
    with pytest.raises(checkpoints.CheckpointError, match=message):
        trainer.train(progress=False)
    assert trainer.step == cfg.steps
    returned = train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False)
    assert returned.step == cfg.steps and "WARNING: could not write the checkpoint" in capsys.readouterr().out
    monkeypatch.undo()
    assert returned.save(tmp_path / "elsewhere.pt").exists()


def test_forced_retrain_keeps_the_finished_checkpoint_until_it_finishes(tmp_path, capsys):
    cfg = small_toy()
    first = train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False)
    path = first.checkpoint_path

    def interrupted_build(cfg, **kwargs):
        trainer = train.toy_gan(cfg, **kwargs)
        sample = trainer.real

        def real(n, generator):
            if trainer.step == 25:
                raise KeyboardInterrupt
            return sample(n, generator)

        trainer.real = real
        return trainer

    with pytest.raises(KeyboardInterrupt):
        train.load_or_train("toy", cfg, interrupted_build, directory=tmp_path, device=CPU, progress=False, force=True)
    assert "stays until the new run finishes" in capsys.readouterr().out
    kept = train.toy_gan(cfg, CPU, checkpoint_path=path)
    assert kept.load() == cfg.steps  # the finished result survived the interruption
    for a, b in zip(weights(first), weights(kept), strict=True):
        assert torch.equal(a, b)
    again = train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False, force=True)
    assert again.checkpoint_path == path and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert checkpoints.load_checkpoint(path)["finished"]


class Interrupting:
    """An objective that raises KeyboardInterrupt in its n-th call of ``where``, and passes everything through."""

    def __init__(self, objective, where, at):
        self.objective, self.where, self.at, self.calls = objective, where, at, 0

    def _maybe(self, name):
        if name == self.where:
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt

    def loss_d(self, *args):
        self._maybe("loss_d")
        return self.objective.loss_d(*args)

    def loss_g(self, *args):
        self._maybe("loss_g")
        return self.objective.loss_g(*args)

    def after_d_step(self, discriminator):  # called after D's optimiser step: D has already moved
        self._maybe("after_d_step")
        self.objective.after_d_step(discriminator)


@pytest.mark.parametrize("where", ["loss_d", "after_d_step", "loss_g", "sample", "checkpoint"])
def test_an_interruption_anywhere_in_a_step_continues_exactly(tmp_path, where):
    cfg = small_toy(checkpoint_every=10)
    straight = train.toy_gan(cfg, CPU)
    straight.train(progress=False)

    trainer = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    if where in ("sample", "checkpoint"):
        name = "generate_fixed" if where == "sample" else "save"
        original = getattr(trainer, name)
        calls = {"n": 0}

        def flaky(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 1:
                raise KeyboardInterrupt
            return original(*args, **kwargs)

        setattr(trainer, name, flaky)
    else:
        trainer.objective = Interrupting(trainer.objective, where, at=13)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(progress=False)
    assert all(p.requires_grad for p in trainer.discriminator.parameters())  # D is not left frozen
    trainer.train(progress=False)  # calling train() again re-runs the interrupted step

    for a, b in zip(weights(straight), weights(trainer), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(optimizer_state(straight), optimizer_state(trainer), strict=True):
        assert torch.equal(a, b)
    assert straight.history == trainer.history
    assert [s for s, _ in straight.samples] == [s for s, _ in trainer.samples]
    for (_, a), (_, b) in zip(straight.samples, trainer.samples, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("where", ["loss_g", "after_d_step"])
def test_an_interruption_in_the_first_step_undoes_the_optimiser_state_it_created(where):
    """Adam creates its moments in the first step: undoing that step must remove them, not keep them."""
    cfg = small_toy(steps=5)
    straight = train.toy_gan(cfg, CPU)
    straight.train(progress=False)
    trainer = train.toy_gan(cfg, CPU)
    trainer.objective = Interrupting(trainer.objective, where, at=1)  # its first call
    with pytest.raises(KeyboardInterrupt):
        trainer.train(progress=False)
    assert trainer.step == 0 and not trainer.opt_d.state and not trainer.opt_g.state
    trainer.train(progress=False)
    for a, b in zip(weights(straight), weights(trainer), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(optimizer_state(straight), optimizer_state(trainer), strict=True):
        assert torch.equal(a, b)


def test_failed_load_leaves_the_trainer_unchanged(tmp_path):
    cfg = small_toy()
    source = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    source.train(steps=5, progress=False)
    # another builder, same config: G is the same network, D is wider, so G would load and D fail
    from gancourse.models import MLPDiscriminator, MLPGenerator

    torch.manual_seed(3)
    generator = MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=(2,), n_hidden=3, image_output=False)
    wider = MLPDiscriminator((2,), 2 * cfg.hidden, n_hidden=3)
    other = train.GANTrainer(generator, wider, source.real, cfg, device=CPU)
    before, rng = weights(other), other.noise_rng.get_state()
    message = r"run.pt does not fit this trainer \(RuntimeError: .*size mismatch.*nothing was loaded"
    with pytest.raises(checkpoints.CheckpointError, match=message):
        other.load(tmp_path / "run.pt")
    for a, b in zip(before, weights(other), strict=True):
        assert torch.equal(a, b)  # G was put back too
    assert other.step == 0 and torch.equal(other.noise_rng.get_state(), rng) and not other.opt_g.state


def test_checkpoint_with_missing_entries_or_other_networks_is_named(tmp_path):
    trainer = train.toy_gan(small_toy(), CPU, checkpoint_path=tmp_path / "run.pt")
    trainer.train(steps=2, progress=False)
    state = checkpoints.load_checkpoint(tmp_path / "run.pt")
    partial = {k: v for k, v in state.items() if k not in ("format", "opt_d", "scaler_d")}
    checkpoints.save_checkpoint(tmp_path / "partial.pt", partial)
    with pytest.raises(checkpoints.CheckpointError, match="partial.pt lacks opt_d, scaler_d"):
        trainer.load(tmp_path / "partial.pt")
    other = {k: v for k, v in state.items() if k != "format"}
    other["networks"] = ["DCGANGenerator", "DCGANDiscriminator"]
    checkpoints.save_checkpoint(tmp_path / "other.pt", other)
    message = "holds a DCGANGenerator and a DCGANDiscriminator, but this trainer has a MLPGenerator"
    with pytest.raises(checkpoints.CheckpointError, match=message):
        trainer.load(tmp_path / "other.pt")


def test_checkpoint_written_on_a_gpu_loads_on_a_cpu(tmp_path):
    cfg = small_toy()
    trainer = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    trainer.train(steps=5, progress=False)
    state = {k: v for k, v in checkpoints.load_checkpoint(tmp_path / "run.pt").items() if k != "format"}
    assert state["noise_rng"]["device"] == "cpu"
    state["noise_rng"] = {"device": "cuda", "state": torch.arange(16, dtype=torch.uint8), "seed": cfg.seed + 1}
    checkpoints.save_checkpoint(tmp_path / "gpu.pt", state)
    on_cpu = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "gpu.pt")
    with pytest.warns(UserWarning, match="cuda random-number generator state cannot continue on cpu"):
        assert on_cpu.load() == 5
    for a, b in zip(weights(trainer), weights(on_cpu), strict=True):
        assert torch.equal(a, b)
    on_cpu.train(progress=False)  # and it trains on
    assert on_cpu.step == cfg.steps
    # an older checkpoint, with the bare CPU state, still resumes exactly
    state["noise_rng"] = trainer.noise_rng.get_state()
    checkpoints.save_checkpoint(tmp_path / "old.pt", state)
    old = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "old.pt")
    assert old.load() == 5 and torch.equal(old.noise_rng.get_state(), trainer.noise_rng.get_state())


@pytest.mark.parametrize("steps", [2.5, 3.0, True, -1, "10"])
def test_train_steps_must_be_a_whole_number(steps):
    trainer = train.toy_gan(small_toy(), CPU)
    with pytest.raises(ValueError, match=r"steps = .* is out of range: allowed an integer >= 0"):
        trainer.train(steps=steps, progress=False)
    assert trainer.step == 0


def test_train_steps_accepts_numpy_integers():
    import numpy as np

    trainer = train.toy_gan(small_toy(), CPU)
    trainer.train(steps=np.int64(3), progress=False)
    assert trainer.step == 3


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden", "", "a\\b", "x y", 3])
def test_load_or_train_refuses_names_that_are_not_file_name_stems(tmp_path, name):
    folder = tmp_path / "inner"
    with pytest.raises(ValueError, match="is not allowed: use a plain file-name stem"):
        train.load_or_train(name, small_toy(), train.toy_gan, directory=folder, device=CPU, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_without_atomic_steps_an_interrupted_step_is_not_undone():
    """The per-step copy is what makes an interruption harmless: without it D has already moved."""
    cfg = small_toy()
    trainer = train.toy_gan(cfg, CPU)
    trainer.atomic_steps = False
    trainer.objective = Interrupting(trainer.objective, "loss_g", at=1)
    before = [p.detach().clone() for p in trainer.discriminator.parameters()]
    with pytest.raises(KeyboardInterrupt):
        trainer.train(progress=False)
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.discriminator.parameters(), strict=True))
    assert all(p.requires_grad for p in trainer.discriminator.parameters())  # the finally still holds


def test_a_finished_run_loads_from_a_read_only_cache(tmp_path, monkeypatch):
    cfg = small_toy()
    first = train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False)

    writes = []

    def read_only(path, state, **kwargs):
        writes.append(path)
        raise checkpoints.CheckpointError(f"could not write the checkpoint {path}: Read-only file system")

    monkeypatch.setattr(train.checkpointing, "save_checkpoint", read_only)
    again = train.load_or_train("toy", cfg, train.toy_gan, directory=tmp_path, device=CPU, progress=False)
    assert again.step == cfg.steps and writes == []  # loaded, not rewritten: no write is attempted
    for a, b in zip(weights(first), weights(again), strict=True):
        assert torch.equal(a, b)


def test_generator_average_follows_its_closed_form_with_warm_up():
    cfg = small_toy(ema_decay=0.9)
    trainer = train.toy_gan(cfg, CPU)
    expected = [p.detach().clone() for p in trainer.generator.parameters()]  # the average starts at G's init
    for t in range(12):
        trainer.advance()
        beta = min(0.9, (1 + t) / (10 + t))  # warm-up 0.1, 0.18, 0.25, ...; the full 0.9 from t = 80
        assert trainer.average.beta(t) == pytest.approx(beta)
        expected = [
            beta * e + (1 - beta) * p.detach() for e, p in zip(expected, trainer.generator.parameters(), strict=True)
        ]
    for e, a in zip(expected, trainer.generator_ema.parameters(), strict=True):
        assert torch.allclose(e, a, atol=1e-6)
        assert not a.requires_grad  # averaged, never trained
    assert not torch.equal(trainer.generate(8, averaged=False), trainer.generate(trainer.fixed_z[:8]))
    z = trainer.fixed_z[:8]
    assert torch.equal(trainer.generate(z), trainer.generator_ema(z).detach())  # samples come from the average
    assert train.toy_gan(small_toy(), CPU).generator_ema is None  # off by default
    with pytest.raises(ValueError, match=r"ema_decay = 1.5 is out of range"):
        small_toy(ema_decay=1.5)


def test_generator_average_has_batch_norm_statistics_of_its_own_and_resumes_exactly(tmp_path, monkeypatch):
    images = torch.rand(64, 1, 16, 16) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(images))
    cfg = DCGANConfig(
        steps=6,
        image_size=16,
        base_channels=4,
        batch_size=8,
        latent_dim=8,
        log_every=2,
        checkpoint_every=3,
        ema_decay=0.999,
    )
    straight = train.dcgan(cfg, CPU)
    straight.train(progress=False)
    straight.generate(4)  # the average's batch-norm statistics: recomputed for its own weights
    independent = copy.deepcopy(straight.generator_ema)
    batches = [z for (z,) in straight.statistics_inputs()]
    torch.optim.swa_utils.update_bn(batches, independent)  # PyTorch's own recomputation, for weight averages
    for a, b, g in zip(
        straight.generator_ema.buffers(), independent.buffers(), straight.generator.buffers(), strict=True
    ):
        assert torch.allclose(a.float(), b.float(), rtol=1e-5, atol=1e-6)
        assert a.dtype == torch.long or not torch.equal(a, g)  # not G's statistics
    interrupted = train.dcgan(cfg, CPU, checkpoint_path=tmp_path / "d.pt")
    interrupted.train(steps=3, progress=False)
    resumed = train.dcgan(cfg, CPU, checkpoint_path=tmp_path / "d.pt")
    assert resumed.load() == 3
    resumed.train(progress=False)
    for a, b in zip(
        straight.generator_ema.state_dict().values(), resumed.generator_ema.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert all(torch.equal(a[1], b[1]) for a, b in zip(straight.samples, resumed.samples, strict=True))
    # an interrupted step leaves the average as it was
    before = [t.clone() for t in resumed.generator_ema.state_dict().values()]
    monkeypatch.setattr(resumed, "update_ema", lambda: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        resumed.train(steps=7, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, resumed.generator_ema.state_dict().values(), strict=True))


def test_nan_in_the_generator_average_is_never_checkpointed(tmp_path):
    trainer = train.toy_gan(small_toy(ema_decay=0.99, checkpoint_every=0), CPU, checkpoint_path=tmp_path / "r.pt")
    trainer.train(steps=2, progress=False)
    with torch.no_grad():
        next(trainer.generator_ema.parameters()).fill_(float("nan"))
    with pytest.raises(train.TrainingDiverged, match="generator_ema"):
        trainer.save()


DEVICES = [CPU] + ([torch.device("cuda")] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES, ids=str)
def test_resume_is_exact_on_every_device(tmp_path, monkeypatch, device):
    # on CUDA: cuDNN's convolution algorithms are chosen per run and some accumulate in a varying order,
    # so the test asks for deterministic kernels, as a reader who needs bit-exact resumes on a GPU must
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    images = torch.rand(64, 1, 16, 16) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(images))
    cfg = DCGANConfig(
        steps=6, image_size=16, base_channels=4, batch_size=8, latent_dim=8, log_every=2, ema_decay=0.99, amp=True
    )
    straight = train.dcgan(cfg, device)
    straight.train(progress=False)
    interrupted = train.dcgan(cfg, device, checkpoint_path=tmp_path / "d.pt")
    interrupted.train(steps=3, progress=False)
    interrupted.save()
    resumed = train.dcgan(cfg, device, checkpoint_path=tmp_path / "d.pt")
    assert resumed.load() == 3
    resumed.train(progress=False)
    pairs = zip(straight.generator_ema.state_dict().values(), resumed.generator_ema.state_dict().values(), strict=True)
    for a, b in pairs:
        assert torch.equal(a, b)
    for a, b in zip(weights(straight), weights(resumed), strict=True):
        assert torch.equal(a, b)
    assert straight.history == resumed.history


def test_sampling_between_trainings_leaves_the_run_unchanged():
    cfg = small_toy(checkpoint_every=0)
    straight = train.toy_gan(cfg, CPU)
    straight.train(progress=False)
    looked = train.toy_gan(cfg, CPU)
    looked.train(steps=20, progress=False)
    first = looked.generate(16)  # drawn from the inference stream, not the training noise
    assert not torch.equal(first, looked.generate(16))  # fresh noise on every call
    looked.train(progress=False)
    for a, b in zip(weights(straight), weights(looked), strict=True):
        assert torch.equal(a, b)
