"""The GAN loop: :class:`GANTrainer`, the one training loop of the book.

:meth:`GANTrainer.train_step` is Goodfellow et al. 2014, Alg. 1 and nothing else: for
each generator update, ``n_critic`` discriminator updates on a real batch and a
detached fake batch, then one generator update through the discriminator. What the
losses are is a pluggable *objective* (:class:`gancourse.losses.Objective`: minimax,
least squares, Wasserstein, pix2pix, with feature matching or historical averaging
wrapped around them), so every chapter trains with this same step.

The machinery lives around the step, each part in a module named for it:
``updates.py`` (one call per optimiser update, mixed precision, the frozen opponent),
``ema.py`` (the generator's moving average), ``state.py`` (the registry of stateful
parts that checkpoints and the undo of an interrupted step both read), ``guards.py``
(NaN and divergence), ``parallel.py`` (one process, or data-parallel wrappers from
``distributed.py``). :meth:`GANTrainer.advance` runs one step with all of it, and
:meth:`GANTrainer.train` loops, logs, keeps samples and saves checkpoints.

The recipes that build a trainer for each chapter's GAN are in ``recipes.py``; the
trainers that change what the networks see are ``paired.py`` (pix2pix) and
``progressive.py`` (ProGAN).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gancourse.checkpoints import (
    CheckpointError,
    check_writable,
)
from gancourse.config import GANConfig
from gancourse.device import pick_device, seed_everything
from gancourse.losses import (
    HistoricallyAveraged,
    Objective,
)
from gancourse.train.checkpointing import Checkpointing
from gancourse.train.ema import GeneratorAverage
from gancourse.train.generation import Generating
from gancourse.train.guards import TrainingDiverged, check_weights, checked_window, last_good
from gancourse.train.objectives import build_objective, make_optimizer
from gancourse.train.parallel import OneProcess
from gancourse.train.progress import RunTimer
from gancourse.train.samplers import RealSampler, RunData, TensorSampler
from gancourse.train.tensorboard import TensorBoardLogger, with_tensorboard
from gancourse.train.updates import MixedPrecision, frozen

__all__ = ["GANTrainer", "RealSampler", "RunData", "SchedulerFactory", "TensorSampler", "TrainingDiverged"]

SchedulerFactory = Callable[
    [torch.optim.Optimizer, torch.optim.Optimizer], Sequence[torch.optim.lr_scheduler.LRScheduler]
]


def _check_steps(steps: Any) -> int | None:
    """``steps`` as an int (None allowed); ``ValueError`` for 2.5, True, -1 or "10"."""
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(
            f"steps = {steps!r} is out of range: allowed an integer >= 0 (total generator updates), or None"
        )
    return int(steps)


class GANTrainer(Checkpointing, Generating):
    """Alternating discriminator and generator updates, with history, samples and checkpoints.

    ``real`` draws real batches; ``objective`` defaults to the one ``cfg.objective``
    names (:func:`make_objective`); ``cfg.feature_matching`` replaces its generator loss
    by feature matching, and ``cfg.historical_averaging`` adds the historical-averaging
    penalty to both players' losses. ``schedulers`` builds learning-rate schedulers from
    the two optimisers (stepped once per generator update). With ``checkpoint_path`` set,
    a checkpoint is written every ``cfg.checkpoint_every`` steps and at the end.
    ``n_fixed`` is the size of the fixed noise batch whose samples are kept every
    ``cfg.sample_every`` steps; ``fixed_condition`` (conditional GANs: ``n_fixed``
    labels or input images) goes with it. ``data`` is what the recipe knows about its
    data that a chapter needs (the toy mixture, the class names, pix2pix's targets).

    Subclasses change what the networks see by overriding :meth:`generator_inputs`
    (pix2pix: the input image, no z), :meth:`real_batch` (ProGAN: real images at the
    current resolution), :meth:`before_step` and :meth:`after_step` (ProGAN: the growth
    schedule and its snapshots).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        real: RealSampler,
        cfg: GANConfig,
        objective: Objective | None = None,
        device: torch.device | None = None,
        checkpoint_path: str | os.PathLike | None = None,
        schedulers: SchedulerFactory | None = None,
        n_fixed: int = 64,
        fixed_condition: torch.Tensor | None = None,
        data: RunData | None = None,
    ) -> None:
        self.cfg, self.real, self.n_fixed = cfg, real, n_fixed
        self.data = data or RunData()
        self.device = device or pick_device()
        seed_everything(cfg.seed)  # the noise, data and fixed-batch generators below start from the seed
        self.fast_layout = cfg.channels_last and self.device.type in ("cuda", "cpu")  # MPS: not reliably faster
        memory_format = torch.channels_last if self.fast_layout else torch.preserve_format
        self.generator = generator.to(self.device, memory_format=memory_format)
        self.discriminator = discriminator.to(self.device, memory_format=memory_format)
        self.objective = build_objective(cfg, self.generator, self.discriminator, objective)
        #: with n_critic = 1, G's update may go through the fake batch D was just trained on (``cfg.reuse_fake``)
        self.reuse_fake = cfg.reuse_fake and cfg.n_critic == 1
        #: the moving average of G's weights (``cfg.ema_decay``; None when off): samples and metrics use it
        self.average = GeneratorAverage(self.generator, cfg.ema_decay) if cfg.ema_decay > 0 else None
        self.opt_g = make_optimizer(self.generator.parameters(), cfg, cfg.lr_g)
        self.opt_d = make_optimizer(self.discriminator.parameters(), cfg, cfg.lr_d)
        self.schedulers = list(schedulers(self.opt_g, self.opt_d)) if schedulers else []
        self.precision = MixedPrecision(self.device, cfg.amp, (self.opt_g, self.opt_d))
        self.data_rng = torch.Generator().manual_seed(cfg.seed)  # real batches are drawn on the CPU
        self.noise_rng = torch.Generator(self.device).manual_seed(cfg.seed + 1)
        # randomness at inference (pix2pix's test-time dropout) has its own stream: looking at samples
        # never changes the training run, and repeated calls still draw fresh noise
        self.inference_rng = torch.Generator(self.device).manual_seed(cfg.seed + 3)
        fixed = torch.Generator().manual_seed(cfg.seed + 2)
        self.fixed_z = torch.randn(self.n_fixed, self.latent_dim, generator=fixed).to(self.device)  # (n_fixed, latent)
        if fixed_condition is not None and len(fixed_condition) != n_fixed:
            raise ValueError(f"fixed_condition has {len(fixed_condition)} entries: it needs n_fixed = {n_fixed}")
        self.fixed_condition = None if fixed_condition is None else fixed_condition.to(self.device)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.step = 0
        self.history: dict[str, list[float]] = {}
        self.samples: list[tuple[int, torch.Tensor]] = []  # (step, G(fixed_z) on the CPU)
        self._window: list[tuple[int, dict[str, torch.Tensor]]] = []  # per-step values not yet logged
        self._saved_step: int | None = None  # the step of the last checkpoint this trainer wrote or loaded
        #: keep the state at the start of each step in memory, so that an interrupted step is undone
        #: (see :meth:`train`); False saves one copy of the networks and optimisers per step
        self.atomic_steps = True
        self.state = self._register_state()
        self.parallel: OneProcess = OneProcess().attach(self)

    def run_in(self, parallel: OneProcess) -> None:
        """Train through ``parallel`` (e.g. :class:`gancourse.train.distributed.DataParallel`), which attaches."""
        self.parallel = parallel.attach(self)

    @property
    def rank(self) -> int:
        return self.parallel.rank

    @property
    def world_size(self) -> int:
        return self.parallel.world_size

    # ----------------------------------------------------------------------------------
    # the algorithm
    # ----------------------------------------------------------------------------------

    def train_step(self) -> dict[str, torch.Tensor]:
        """One iteration of Goodfellow et al. 2014, Alg. 1: ``n_critic`` updates of D, then one of G.

        D ascends its objective on a real batch and a fake batch G(z), which it sees
        detached (D's loss must not send gradients into G); then G descends its loss
        through D, with D frozen: D's parameters are not updated by G's loss. With
        ``reuse_fake`` G's update goes through the fake batch D was just trained on
        instead of fresh noise (``GANConfig`` says when that is the same algorithm).
        Returns the losses and the objective's statistics.
        """
        G, D = self.parallel.generator, self.parallel.discriminator  # data-parallel: wrappers that sync gradients
        for _ in range(self.cfg.n_critic):
            real, condition = self.real_batch()  # x ~ p_data: (B, C, H, W), labels or input images (or None)
            z = self.sample_z(len(real))  # z ~ p_z = N(0, I): (B, latent_dim)
            with torch.set_grad_enabled(self.reuse_fake):  # G's graph only if G's update reuses this batch
                fake = G(*self.generator_inputs(z, condition))  # G(z): (B, C, H, W)
            loss_d, stats = self.objective.loss_d(self.critic(condition, D), real, fake.detach())
            self.update(self.opt_d, loss_d)
            self.objective.after_d_step(self.discriminator)  # WGAN: clip the weights; the others: nothing
        with self.frozen(self.discriminator):
            if not self.reuse_fake:
                fake = G(*self.generator_inputs(self.sample_z(len(real)), condition))  # fresh z ~ p_z
            # through the plain D: only G's gradients are applied (and synchronised) in this update
            loss_g, g_stats = self.objective.loss_g(self.critic(condition), fake, real)
            self.update(self.opt_g, loss_g)
        return {"loss_d": loss_d, "loss_g": loss_g, **stats, **g_stats}

    def update(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """One optimiser step on ``loss`` (gradients cleared first; scaled under float16: :class:`MixedPrecision`)."""
        self.precision.update(optimizer, loss)

    def frozen(self, module: nn.Module) -> contextlib.AbstractContextManager:
        """``module`` without gradients inside the block (``cfg.freeze_d_in_g_step``; :func:`updates.frozen`)."""
        return frozen(module, enabled=self.cfg.freeze_d_in_g_step)

    # ----------------------------------------------------------------------------------
    # the parts the chapters and the pretrained runs read
    # ----------------------------------------------------------------------------------

    @property
    def generator_ema(self) -> nn.Module | None:
        """The averaged generator (``cfg.ema_decay`` > 0), else None."""
        return None if self.average is None else self.average.module

    @generator_ema.setter
    def generator_ema(self, module: nn.Module | None) -> None:
        """Set an averaged generator to sample with (a loaded one), or drop it with None."""
        decay = self.cfg.ema_decay if 0 < self.cfg.ema_decay < 1 else 0.999
        self.average = None if module is None else GeneratorAverage(module, decay, copy_generator=False)

    @property
    def historical(self) -> dict[str, Any]:
        """Historical averaging's running means by player (chapter 12); empty when it is off."""
        return self.objective.averages if isinstance(self.objective, HistoricallyAveraged) else {}

    def historical_penalty(self, player: str) -> torch.Tensor | float:
        """lambda ||theta - (1/t) sum_i theta[i]||^2 for ``player`` ("generator" or "discriminator"); 0 when off."""
        return self.objective.penalty(player) if self.historical else 0.0

    # ----------------------------------------------------------------------------------
    # what the networks see
    # ----------------------------------------------------------------------------------

    def generator_inputs(self, z: torch.Tensor, condition: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        """The arguments of G: ``(z,)``, or ``(z, condition)`` for a conditional GAN."""
        return (z,) if condition is None else (z, condition)

    def critic(
        self, condition: torch.Tensor | None, discriminator: nn.Module | None = None
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """D (or ``discriminator``, e.g. its DDP wrapper) as a function of the samples alone: the condition bound in."""
        discriminator = self.discriminator if discriminator is None else discriminator
        if condition is None:
            return discriminator
        return lambda x: discriminator(x, condition)

    def real_batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(real, condition)`` on the device; ``condition`` is None for an unconditional GAN."""
        batch = self.real(self.cfg.batch_size, self.data_rng)
        real, condition = batch if isinstance(batch, (tuple, list)) else (batch, None)
        real = real.to(self.device, non_blocking=True)
        if self.fast_layout and real.ndim == 4:
            real = real.contiguous(memory_format=torch.channels_last)
        return real, None if condition is None else condition.to(self.device, non_blocking=True)

    def before_step(self) -> None:
        """Called before every generator update (ProGAN sets its resolution and fade-in here)."""

    def after_step(self, values: dict[str, torch.Tensor]) -> None:
        """Called after every step, ``self.step`` already counted, with its logged ``values`` (ProGAN adds its own)."""

    def update_ema(self) -> None:
        """Fold G into its moving average (:class:`GeneratorAverage`); t = the number of earlier updates."""
        self.average.update(self.generator, self.step)

    def advance(self) -> dict[str, torch.Tensor]:
        """One step of training: :meth:`train_step` with the machinery around it; returns detached values.

        Before it, :meth:`before_step`; around it, mixed precision; after it, the
        objective's after-G rule (historical averaging's running mean), the generator
        average, the learning-rate schedulers, the step count and :meth:`after_step`.
        """
        self.before_step()
        with self.precision.autocast():
            values = self.train_step()
        after_g_step = getattr(self.objective, "after_g_step", None)
        if after_g_step is not None:
            after_g_step(self.generator)
        if self.average is not None:
            self.update_ema()
        for scheduler in self.schedulers:
            scheduler.step()
        self.step += 1
        values = {k: torch.as_tensor(v).detach().float() for k, v in values.items()}
        self.after_step(values)
        return values

    def train(
        self,
        steps: int | None = None,
        progress: bool = True,
        on_step: Callable[[GANTrainer], None] | None = None,
        tensorboard: str | os.PathLike | TensorBoardLogger | None = None,
    ) -> dict[str, list[float]]:
        """Train until ``steps`` generator updates in total (default ``cfg.steps``); returns the history.

        Losses are logged every ``cfg.log_every`` steps and samples kept every
        ``cfg.sample_every`` steps, both also at ``cfg.steps``; values of steps not yet
        logged wait (and travel in a checkpoint), so a run stopped anywhere and
        resumed records exactly what an uninterrupted run does. ``on_step(trainer)`` is called
        after every step (the command line writes sample grids with it). ``tensorboard``, a folder or a
        :class:`~gancourse.train.tensorboard.TensorBoardLogger`, also logs the losses, D's outputs and the
        sample grids there after every step (``tensorboard --logdir FOLDER`` shows them). In a data-parallel run
        only rank 0 shows progress and keeps samples.

        Every step is atomic: the state at its start is kept in memory (:class:`TrainerState`),
        and an exception or Ctrl-C anywhere in the step (in D's or G's update, logging, a
        snapshot, a checkpoint, ``on_step``) restores it, weights, optimisers, schedulers,
        scalers, random generators, history and samples, before it propagates. Calling
        ``train()`` again therefore re-runs the interrupted step from the same state and
        continues exactly as an uninterrupted run. The price is one in-memory copy of the
        networks and optimiser states per step (``trainer.atomic_steps = False`` skips it;
        then only a run resumed from a checkpoint is exact).

        The checkpoint folder is checked to be writable before the first step. If the
        final save fails, the :class:`~gancourse.checkpoints.CheckpointError` says where
        it could not be written; the trained networks stay in this trainer
        (``trainer.save(other_path)``).
        """
        target = self.cfg.steps if steps is None else _check_steps(steps)
        logger = None
        if tensorboard is not None:
            on_step, logger = with_tensorboard(tensorboard, on_step)
        if self.checkpoint_path and self.step < target:
            check_writable(self.checkpoint_path)  # before hours of training, not at the final save
        bar = None
        if progress and self.step < target and self.parallel.is_main:
            from tqdm.auto import tqdm  # a widget in notebooks, text elsewhere

            name = type(self.cfg).__name__.removesuffix("Config")
            bar = tqdm(total=target, initial=self.step, desc=f"training {name}", leave=False, mininterval=1.0)
            timer = RunTimer(self.cfg, self.step, target, self.device.type, name, show=bar.set_description_str)
        try:
            while self.step < target:
                before = self.state.snapshot() if self.atomic_steps else None
                try:
                    index = self.step
                    self._window.append((index, self.advance()))
                    if self.step % self.cfg.log_every == 0 or self.step == self.cfg.steps:
                        logged = self._flush()
                        if bar is not None:
                            bar.set_postfix({k: f"{v:.3f}" for k, v in logged.items() if k.startswith("loss")})
                    if (self.step % self.cfg.sample_every == 0 or self.step == self.cfg.steps) and self.rank == 0:
                        self.samples.append((self.step, self.generate_fixed()))
                    every = self.cfg.checkpoint_every
                    if self.checkpoint_path and every and self.step % every == 0:
                        self.save()
                    if on_step is not None:
                        on_step(self)
                except BaseException:  # KeyboardInterrupt included: undo the unfinished step
                    if before is not None:
                        self._undo(before)
                    raise
                if bar is not None:
                    bar.update(1)
                    timer.update(self.step)
        finally:
            if bar is not None:
                bar.close()
            if logger is not None:
                logger.close()
        if self.checkpoint_path and self._saved_step != self.step:  # a loaded, finished run is not rewritten
            try:
                self.save()
            except CheckpointError as err:
                raise CheckpointError(
                    f"{err}. Training reached step {self.step}, and the trained networks are still in this trainer: "
                    "save them elsewhere with trainer.save(path)"
                ) from err
        return self.history

    # ----------------------------------------------------------------------------------
    # logging and the guards
    # ----------------------------------------------------------------------------------

    def _flush(self) -> dict[str, float]:
        """Check the pending per-step values for NaN/inf, then log their means."""
        if not self._window:
            return {}
        names, table = self._checked_window()
        check_weights(self.state.networks(), self.state.optimizers(), self.device, self.step, self._last_good())
        logged = {"step": float(self._window[-1][0] + 1), **dict(zip(names, table.mean(dim=0).tolist(), strict=True))}
        logged["lr_g"] = self.opt_g.param_groups[0]["lr"]
        for name, value in logged.items():
            self.history.setdefault(name, []).append(value)
        self._window.clear()
        return logged

    def _checked_window(self) -> tuple[list[str], torch.Tensor]:
        try:
            return checked_window(self._window, self._last_good())
        except TrainingDiverged:
            self._window.clear()
            raise

    def finite_keys(self) -> tuple[str, ...]:
        """The state entries that must never hold NaN or inf (the averaged generator too, when kept)."""
        return self.state.finite

    def _last_good(self) -> str:
        return last_good(self.checkpoint_path, self._saved_step)
