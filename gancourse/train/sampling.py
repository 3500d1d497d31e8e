"""Drawing samples from a generator, with or without its trainer: the one way G makes images to look at.

:func:`generate` runs G in inference mode on chunks of the noise (and condition), and
brings the samples to the CPU as float32. How G runs at inference depends on the GAN:

- most GANs: eval mode (:func:`eval_mode`), batch norm with its running statistics;
- pix2pix (:func:`paired_mode`; Isola et al. 2017, Sec. 3.3): "at inference time, we run
  the generator net in exactly the same manner as during the training phase": batch
  norm with the statistics of the batch, dropout on, its masks drawn from a random
  stream of its own, so looking at samples never moves the training run's stream;
- ProGAN: G's output layer is linear, so the images are clamped to [-1, 1] (``clamp=True``).

:class:`~gancourse.train.loop.GANTrainer` samples through it, and so does a loaded model
without its trainer (:mod:`gancourse.pretrained`, ``python -m gancourse sample``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import torch
from torch import nn

from gancourse.models.pix2pix import NoiseDropout

#: G's arguments for a noise batch and its condition: ``(z,)``, ``(z, labels)`` or pix2pix's ``(image,)``
Inputs = Callable[[torch.Tensor, "torch.Tensor | None"], tuple[torch.Tensor, ...]]
#: how G runs while sampling: a context manager factory called with the generator
Inference = Callable[[nn.Module], AbstractContextManager]
#: the number of samples G draws at once
CHUNK = 1024


def noise_inputs(z: torch.Tensor, condition: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    """The arguments of a noise-driven G: ``(z,)``, or ``(z, condition)`` for a conditional GAN."""
    return (z,) if condition is None else (z, condition)


def image_inputs(z: torch.Tensor, condition: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    """pix2pix's G sees only the input image (``condition``); ``z`` is empty, dropout is the noise."""
    if condition is None:
        raise ValueError("condition = None: pix2pix's generator needs the input image")
    return (condition,)


@contextlib.contextmanager
def eval_mode(generator: nn.Module) -> Iterator[None]:
    """G in eval mode (batch norm with its running statistics); its mode is restored afterwards, also on errors."""
    was_training = generator.training
    generator.eval()
    try:
        yield
    finally:
        generator.train(was_training)


@contextlib.contextmanager
def paired_mode(generator: nn.Module, rng: torch.Generator, device: torch.device | str = "cpu") -> Iterator[None]:
    """pix2pix's G as in training: batch statistics, dropout as built, no running-average update.

    Dropout draws from the global random generator of G's device: it runs on ``rng``
    (a ``torch.Generator`` on ``device``), which is advanced by what was drawn, and the
    global stream is given back untouched afterwards.
    """
    device = torch.device(device)
    was_training = generator.training
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    tracked = [m.track_running_stats for m in norms]
    generator.train()
    for m in norms:
        m.track_running_stats = False  # in train mode: normalise by this batch, leave the running averages alone
    for m in generator.modules():
        if isinstance(m, NoiseDropout):
            m.eval()  # NoiseDropout drops in eval mode only if built with test_dropout=True
    cuda = device.type == "cuda"
    try:
        with torch.random.fork_rng(devices=[device] if cuda else []):
            if cuda:
                torch.cuda.set_rng_state(rng.get_state(), device)
            else:
                torch.set_rng_state(rng.get_state())
            try:
                yield
            finally:
                rng.set_state(torch.cuda.get_rng_state(device) if cuda else torch.get_rng_state())
    finally:
        for m, flag in zip(norms, tracked, strict=True):
            m.track_running_stats = flag
        generator.train(was_training)


def paired_inference(rng: torch.Generator, device: torch.device | str = "cpu") -> Inference:
    """:func:`paired_mode` with its random stream bound: an ``inference`` for :func:`generate`."""
    return functools.partial(paired_mode, rng=rng, device=device)


@torch.no_grad()
def generate(
    generator: nn.Module,
    z: torch.Tensor,
    condition: torch.Tensor | None = None,
    *,
    inference: Inference = eval_mode,
    inputs: Inputs = noise_inputs,
    clamp: bool = False,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """G(z) (or G(z, condition), or pix2pix's G(x)) in inference mode, as float32 on the CPU.

    ``z``: (N, latent_dim) noise (pix2pix: (N, 0)); ``condition``: N labels or N input
    images, or None. Runs on ``device`` (default: where G's parameters are) in chunks of
    :data:`CHUNK`; ``clamp`` clips the images to [-1, 1] (ProGAN's linear output).
    """
    if condition is not None and len(condition) != len(z):
        raise ValueError(f"condition has {len(condition)} entries for {len(z)} noise vectors: give one each")
    if device is None:
        device = next(generator.parameters()).device
    z = z.to(device)
    conditions = [None] * len(z.split(CHUNK)) if condition is None else condition.to(device).split(CHUNK)
    with inference(generator):
        chunks = zip(z.split(CHUNK), conditions, strict=True)
        images = torch.cat([generator(*inputs(chunk, c)).float().cpu() for chunk, c in chunks])
    return images.clamp(-1, 1) if clamp else images
