"""Benchmarks: their command lines refuse counts that would divide by zero; the training
benchmark's loops have the example's shapes, and where their algorithm is the trainer's, the
trainer reproduces them bit for bit. (No timings here: see the benchmarks themselves.)"""

from __future__ import annotations

import argparse
import copy
import math

import pytest
import torch
from torch import nn

from gancourse import bench
from gancourse.bench import metrics as bench_metrics
from gancourse.bench import style as bench_style
from gancourse.bench import train as bench_train
from gancourse.config import DCGANConfig
from gancourse.models import DCGANDiscriminator, DCGANGenerator
from gancourse.train import GANTrainer, TensorSampler


@pytest.mark.parametrize("text, ok", [("3", 3), ("0", None), ("-2", None), ("2.5", None), ("x", None)])
def test_positive_int(text, ok):
    if ok is None:
        with pytest.raises(argparse.ArgumentTypeError):
            bench.positive_int(text)
    else:
        assert bench.positive_int(text) == ok
    assert bench.non_negative_int("0") == 0


@pytest.mark.parametrize(
    "module, argv",
    [
        (bench_metrics, ["--n", "0"]),
        (bench_metrics, ["--batch-size", "-1"]),
        (bench_style, ["--sizes", "256", "0"]),
        (bench_style, ["--steps", "0"]),
        (bench_train, ["--rounds", "0"]),
        (bench_train, ["--configs", "32:0"]),
        (bench_train, ["--threads", "-1"]),
    ],
)
def test_benchmarks_refuse_counts_that_would_divide_by_zero(module, argv, capsys):
    with pytest.raises(SystemExit) as info:
        module.main(argv)
    assert info.value.code == 2 and "is out of range" in capsys.readouterr().err


CPU = torch.device("cpu")
TINY = DCGANConfig(
    image_size=16, base_channels=4, batch_size=8, latent_dim=8, log_every=2, sample_every=3, checkpoint_every=0
)
IMAGES = torch.rand(40, 1, 16, 16, generator=torch.Generator().manual_seed(5)) * 2 - 1


def test_canonical_networks_have_the_examples_shapes_at_64_px():
    generator, discriminator = bench_train.Generator(100, 64, 3, 64), bench_train.Discriminator(64, 3, 64)
    convs = [m.weight.shape for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert convs == [(100, 512, 4, 4), (512, 256, 4, 4), (256, 128, 4, 4), (128, 64, 4, 4), (64, 3, 4, 4)]
    convs = [m.weight.shape for m in discriminator.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [(64, 3, 4, 4), (128, 64, 4, 4), (256, 128, 4, 4), (512, 256, 4, 4), (1, 512, 4, 4)]
    modules = [*generator.modules(), *discriminator.modules()]
    assert all(m.bias is None for m in modules if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    fake = generator(torch.randn(2, 100, 1, 1))
    assert fake.shape == (2, 3, 64, 64)
    probability = discriminator(fake)
    assert probability.shape == (2,) and ((probability > 0) & (probability < 1)).all()  # Sigmoid at the end


def _trainer_and_twins(cfg):
    """A trainer, copies of its (initial) networks and optimisers, and its data and noise streams."""
    torch.manual_seed(0)
    trainer = GANTrainer(DCGANGenerator(8, 4, 16), DCGANDiscriminator(4, 16), TensorSampler(IMAGES), cfg, device=CPU)
    generator, discriminator = copy.deepcopy(trainer.generator), copy.deepcopy(trainer.discriminator)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    data_rng, noise_rng = torch.Generator().manual_seed(cfg.seed), torch.Generator().manual_seed(cfg.seed + 1)

    def real():
        return IMAGES[torch.randint(len(IMAGES), (cfg.batch_size,), generator=data_rng)]

    def noise():
        return torch.randn(cfg.batch_size, cfg.latent_dim, generator=noise_rng)

    return trainer, generator, discriminator, opt_g, opt_d, real, noise


def _assert_same(trainer, generator, discriminator):
    for mine, theirs in ((trainer.generator, generator), (trainer.discriminator, discriminator)):
        a, b = mine.state_dict(), theirs.state_dict()
        for name in a:  # weights and batch-norm running statistics
            assert torch.equal(a[name], b[name]), name


@pytest.mark.parametrize("freeze", [True, False])
def test_trainer_with_reuse_fake_is_the_canonical_iteration(freeze):
    cfg = TINY.replace(reuse_fake=True, freeze_d_in_g_step=freeze, channels_last=False)
    trainer, generator, discriminator, opt_g, opt_d, real, noise = _trainer_and_twins(cfg)
    for _ in range(4):  # the example's iteration on the trainer's networks (logits: BCEWithLogitsLoss)
        bench_train.canonical_step(generator, discriminator, nn.BCEWithLogitsLoss(), opt_g, opt_d, real(), noise())
    trainer.train(4, progress=False)  # with its history and fixed-noise snapshots
    _assert_same(trainer, generator, discriminator)
    assert len(trainer.samples) == 1 and trainer.history["step"] == [2.0, 4.0]


def test_trainer_without_reuse_is_algorithm_1_with_fresh_noise():
    cfg = TINY.replace(reuse_fake=False, channels_last=False)
    trainer, generator, discriminator, opt_g, opt_d, real, noise = _trainer_and_twins(cfg)
    for _ in range(4):
        batch, noise_d = real(), noise()
        bench_train.plain_step(generator, discriminator, nn.BCEWithLogitsLoss(), opt_g, opt_d, batch, noise_d, noise())
    trainer.train(4, progress=False)
    _assert_same(trainer, generator, discriminator)
    reused = _trainer_and_twins(cfg.replace(reuse_fake=True))[0]
    reused.train(4, progress=False)
    assert not torch.equal(reused.generator.net[0].weight, trainer.generator.net[0].weight)  # other noise, other run


def test_channels_last_changes_the_layout_not_the_math():
    nchw, nhwc = (_trainer_and_twins(TINY.replace(channels_last=flag))[0] for flag in (False, True))
    assert nhwc.generator.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    nchw.train(4, progress=False)
    nhwc.train(4, progress=False)
    for a, b in zip(nchw.generator.state_dict().values(), nhwc.generator.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)  # summation order differs, nothing else
    assert nchw.history["loss_d"] == pytest.approx(nhwc.history["loss_d"], rel=1e-4)


def test_amp_on_the_cpu_computes_convolutions_in_bfloat16():
    trainer = _trainer_and_twins(TINY.replace(amp=True))[0]
    dtypes = []
    trainer.discriminator.net[0].register_forward_hook(lambda module, inputs, output: dtypes.append(output.dtype))
    trainer.train(2, progress=False)
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in trainer.generator.parameters())  # the weights stay float32
    assert all(math.isfinite(v) for v in trainer.history["loss_d"] + trainer.history["loss_g"])


def test_benchmark_paths_run_and_report(capsys):
    paths = bench_train.build_paths(TINY, IMAGES, CPU, compile=False)
    names = [p.name for p in paths]
    assert names[:3] == [
        "canonical: pytorch/examples dcgan",
        "plain loop: Alg. 1, two G forwards",
        "GANTrainer, reuse_fake=True (the canonical algorithm)",
    ]
    bench_train.measure(paths, TINY.batch_size, CPU, warmup=1, rounds=2, seconds=1e-3)
    assert all(not p.failed and len(p.rates) == len(p.ratios) == 2 for p in paths)
    assert paths[0].ratios == [1.0, 1.0]
    bench_train.report(paths)
    out = capsys.readouterr().out
    assert "canonical: pytorch/examples dcgan" in out and "1.00x" in out


def test_a_failing_lever_is_a_row_not_a_crash(capsys):
    def broken(steps):
        raise RuntimeError("no C++ compiler\nmore")

    paths = [bench_train.Path("canonical", lambda steps: None), bench_train.Path("compile", broken)]
    bench_train.measure(paths, 8, CPU, warmup=1, rounds=1, seconds=1e-3)
    bench_train.report(paths)
    assert paths[1].failed == "RuntimeError: no C++ compiler"
    assert "failed" in capsys.readouterr().out
