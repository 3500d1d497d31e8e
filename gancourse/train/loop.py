"""The GAN loop: :class:`GANTrainer`, the one training loop of the book.

Goodfellow et al. 2014, Alg. 1: for each generator update, ``n_critic``
discriminator updates on a real batch and a *detached* fake batch, then one
generator update through the discriminator. What the losses are is a pluggable
*objective* (:class:`gancourse.losses.Objective`: minimax, Wasserstein, pix2pix), so
every chapter trains with this same code. The trainer also keeps a history,
snapshots a fixed noise batch, saves checkpoints from which a run resumes exactly,
and stops with a clear message when a loss becomes NaN or infinite.

The recipes that build a trainer for each chapter's GAN are in ``recipes.py``; the
trainers that change what the networks see are ``paired.py`` (pix2pix) and
``progressive.py`` (ProGAN).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from gancourse.augment import Augmented
from gancourse.checkpoints import (
    CheckpointError,
    NonFiniteState,
    check_writable,
    config_differences,
    config_record,
    generator_state,
    load_checkpoint,
    nonfinite_entries,
    require_keys,
    rng_state,
    save_checkpoint,
    set_generator_state,
    set_rng_state,
)
from gancourse.config import GANConfig
from gancourse.device import autocast, pick_device, seed_everything
from gancourse.losses import (
    FeatureMatchingObjective,
    HingeObjective,
    HistoricalAverage,
    LeastSquaresObjective,
    MinimaxObjective,
    Objective,
    R1Regularised,
    WassersteinObjective,
)

SchedulerFactory = Callable[
    [torch.optim.Optimizer, torch.optim.Optimizer], Sequence[torch.optim.lr_scheduler.LRScheduler]
]


@dataclasses.dataclass(frozen=True)
class RunData:
    """What a recipe knows about its data that the chapters use besides the real batches.

    ``mixture``: the toy 2-D mixture (chapter 4); ``classes``: class names of a
    labelled data set (chapter 8); ``fixed_target``: the targets of pix2pix's fixed
    inputs (chapter 8); ``channels``: image channels (1 grey, 3 colour); ``source``:
    where the images came from.
    """

    mixture: Any = None
    classes: tuple[str, ...] = ()
    fixed_target: torch.Tensor | None = None
    channels: int = 1
    source: str = ""


class RealSampler(Protocol):
    """Anything that draws ``n`` real samples with a given generator (a data set, a toy mixture).

    It returns a tensor of samples, or a pair ``(real, condition)`` for conditional
    GANs: class labels (a conditional GAN) or input images (pix2pix).
    """

    def __call__(self, n: int, generator: torch.Generator) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]: ...


class TensorSampler:
    """Minibatches drawn uniformly, with replacement, from a tensor of real samples.

    Independent draws from one seeded ``torch.Generator`` make the data order part
    of the checkpoint: a resumed run sees exactly the batches it would have seen.
    With ``condition`` (labels, or paired input images) the sampler returns
    ``(real, condition)`` pairs drawn at the same indices.
    """

    def __init__(self, data: torch.Tensor, condition: torch.Tensor | None = None) -> None:
        if len(data) == 0:
            raise ValueError("data is empty: a sampler needs at least one real sample")
        if condition is not None and len(condition) != len(data):
            raise ValueError(
                f"condition has {len(condition)} entries but data has {len(data)}: they must be paired one to one"
            )
        self.data, self.condition = data, condition

    def __call__(self, n: int, generator: torch.Generator) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(len(self.data), (n,), generator=generator)
        return self.data[index] if self.condition is None else (self.data[index], self.condition[index])


class TrainingDiverged(RuntimeError):
    """A loss, a weight or an optimiser state became NaN or infinite.

    The message names the step and the last good checkpoint.
    """


#: What a trainer checkpoint must hold (older files without "networks" are accepted).
REQUIRED_KEYS = (
    "config_class",
    "config",
    "step",
    "generator",
    "discriminator",
    "opt_g",
    "opt_d",
    "schedulers",
    "scaler_g",
    "scaler_d",
    "data_rng",
    "noise_rng",
    "global_rng",
    "history",
    "samples",
)
#: The entries that must be finite before a checkpoint is written.
FINITE_KEYS = ("generator", "discriminator", "opt_g", "opt_d")


def _clone(value: Any) -> Any:
    """A deep copy of nested dicts/lists/tuples whose tensors are cloned (a state dict holds live tensors).

    Used for the small state dicts of schedulers and gradient scalers; the networks' and
    optimisers' tensors go through :class:`_ReusedCopies`.
    """
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _clone(x) for k, x in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(x) for x in value)
    return value


class _ReusedCopies:
    """Copies of a list of tensors, kept in buffers that are reused while the tensors' shapes stay the same.

    The per-step copy of atomic steps: no allocation after the first step, and one fused
    ``torch._foreach_copy_`` per (device, dtype) group, so that a launch-bound GPU step or a
    small CPU step does not pay for cloning every weight and Adam moment one by one
    (book/results.md, "On a GPU").
    """

    def __init__(self) -> None:
        self._layout: list[tuple[torch.Size, torch.dtype, torch.device]] = []
        self._buffers: list[torch.Tensor] = []
        self._groups: list[list[int]] = []

    @torch.no_grad()
    def save(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """Copy ``tensors`` into the buffers (reallocated when the shapes changed); returns the buffers."""
        layout = [(t.shape, t.dtype, t.device) for t in tensors]
        if layout != self._layout:
            self._layout = layout
            self._buffers = [torch.empty_like(t) for t in tensors]  # same strides (channels_last too)
            groups: dict[tuple[torch.device, torch.dtype], list[int]] = {}
            for i, t in enumerate(tensors):
                groups.setdefault((t.device, t.dtype), []).append(i)
            self._groups = list(groups.values())
        for index in self._groups:
            torch._foreach_copy_([self._buffers[i] for i in index], [tensors[i] for i in index])
        return self._buffers


def _check_steps(steps: Any) -> int | None:
    """``steps`` as an int (None allowed); ``ValueError`` for 2.5, True, -1 or "10"."""
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(
            f"steps = {steps!r} is out of range: allowed an integer >= 0 (total generator updates), or None"
        )
    return int(steps)


class GANTrainer:
    """Alternating discriminator and generator updates, with history, samples and checkpoints.

    ``real`` draws real batches; ``objective`` defaults to the one ``cfg.objective``
    names (:func:`make_objective`); ``cfg.feature_matching`` replaces its generator loss
    by feature matching, and ``cfg.historical_averaging`` adds the historical-averaging
    penalty to both players' losses (its running means travel in the checkpoint).
    ``schedulers`` builds learning-rate schedulers from the two optimisers (stepped
    once per generator update). With ``checkpoint_path`` set,
    a checkpoint is written every ``cfg.checkpoint_every`` steps and at the end.
    ``n_fixed`` is the size of the fixed noise batch whose samples are kept every
    ``cfg.sample_every`` steps; ``fixed_condition`` (conditional GANs: ``n_fixed``
    labels or input images) goes with it. ``data`` is what the recipe knows about its
    data that a chapter needs (the toy mixture, the class names, pix2pix's targets).

    Subclasses change what the networks see by overriding :meth:`generator_inputs`
    (pix2pix: the input image, no z), :meth:`real_batch` (ProGAN: real images at the
    current resolution) and :meth:`before_step` (ProGAN: the growth schedule).
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
        # Data-parallel training (gancourse.train.distributed, under torchrun) sets this process's rank,
        # the number of processes, and the DistributedDataParallel wrappers through which the forwards
        # whose gradients are applied run; in one process they are the networks themselves.
        self.rank, self.world_size = 0, 1
        self.synced_generator, self.synced_discriminator = self.generator, self.discriminator
        self.objective = self._objective(objective)
        # Salimans et al. 2016, Sec. 3.3: each player's running mean of its past parameters
        self.historical: dict[str, HistoricalAverage] = {}
        if cfg.historical_averaging:
            self.historical = {player: HistoricalAverage() for player in ("generator", "discriminator")}
        #: the exponential moving average of G's weights (``cfg.ema_decay``; None when off): samples and
        #: metrics use it (Karras et al. 2018, App. A.1). It is never trained, only averaged.
        self.generator_ema: nn.Module | None = None
        if cfg.ema_decay > 0:
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.opt_g = make_optimizer(self.generator.parameters(), cfg, cfg.lr_g)
        self.opt_d = make_optimizer(self.discriminator.parameters(), cfg, cfg.lr_d)
        self.schedulers = list(schedulers(self.opt_g, self.opt_d)) if schedulers else []
        # float16 autocast needs loss scaling; bfloat16 (and no autocast at all) does not
        fp16 = cfg.amp and self.device.type == "cuda" and not torch.cuda.is_bf16_supported()
        self.scaler_d = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.scaler_g = torch.amp.GradScaler(self.device.type, enabled=fp16)
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
        self._step_copies = _ReusedCopies()  # the buffers atomic steps copy the state into

    def _objective(self, objective: Objective | None) -> Objective:
        """``objective``, or the one ``cfg`` names; wrapped for feature matching; tricks D cannot take refused."""
        cfg, name = self.cfg, type(self.discriminator).__name__
        if objective is not None and cfg.objective in ("least_squares", "wasserstein_gp", "hinge"):
            raise ValueError(
                f"objective = {cfg.objective!r} in the config, but the recipe passed {type(objective).__name__}: "
                "this GAN trains with its recipe's own objective"
            )
        objective = make_objective(cfg, objective)  # cfg's objective, or the recipe's; with R1 and DiffAugment
        if cfg.minibatch_kernels and getattr(self.discriminator, "minibatch", None) is None:
            raise ValueError(
                f"minibatch_kernels = {cfg.minibatch_kernels}, but this recipe's discriminator ({name}) has no "
                "minibatch discrimination: the toy, MLP and DCGAN recipes have it (0 = off)"
            )
        if cfg.minibatch_kernels and getattr(objective, "gp_weight", 0):
            raise ValueError(
                f"minibatch_kernels = {cfg.minibatch_kernels} with a gradient penalty: minibatch discrimination makes "
                "each score depend on the batch, so the per-sample penalty is undefined; set one of them to 0"
            )
        if cfg.feature_matching:
            # a conditional D's features need its labels too: not a features(x) method
            if not inspect.ismethod(getattr(self.discriminator, "features", None)):
                raise ValueError(
                    f"feature_matching = True needs a discriminator with a features(x) method; {name} has none"
                )
            objective = FeatureMatchingObjective(objective)
        return objective

    def historical_penalty(self, player: str) -> torch.Tensor | float:
        """lambda ||theta - (1/t) sum_i theta[i]||^2 for ``player`` ("generator" or "discriminator"); 0 when off."""
        if not self.historical:
            return 0.0
        return self.cfg.historical_averaging * self.historical[player].penalty(getattr(self, player))

    @property
    def latent_dim(self) -> int:
        return self.cfg.latent_dim

    def sample_z(self, n: int, inference: bool = False) -> torch.Tensor:
        """z ~ N(0, I), shape (n, latent_dim): from the training noise stream, or with ``inference=True``
        from the inference stream, so that drawing samples to look at never changes the training run."""
        generator = self.inference_rng if inference else self.noise_rng
        return torch.randn(n, self.latent_dim, generator=generator, device=self.device)

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

    def ema_beta(self, updates: int) -> float:
        """The averaging weight after ``updates`` generator updates: min(ema_decay, (1 + t) / (10 + t)).

        The warm-up (the schedule of TensorFlow's ``ExponentialMovingAverage`` with
        ``num_updates``) keeps the average of a short run from being dominated by the
        random initialisation: 0.1 at the first update, 0.5 at the 8th, 0.9 at the 80th,
        0.99 at the 890th, 0.999 at the 8,990th, capped at ``ema_decay``.
        """
        return min(self.cfg.ema_decay, (1 + updates) / (10 + updates))

    @torch.no_grad()
    def update_ema(self) -> None:
        """theta_ema <- beta theta_ema + (1 - beta) theta (Karras et al. 2018, App. A.1); buffers copied.

        Called after every generator update (``self.step`` has not been incremented yet,
        so ``t`` is the number of earlier updates). Batch-norm running statistics are
        buffers: copied from G, not averaged.
        """
        beta = self.ema_beta(self.step)
        averaged, current = self.generator_ema.parameters(), self.generator.parameters()
        torch._foreach_lerp_(list(averaged), list(current), 1.0 - beta)  # ema + (1 - beta) (theta - ema)
        for mine, theirs in zip(self.generator_ema.buffers(), self.generator.buffers(), strict=True):
            mine.copy_(theirs)

    def sampler(self, averaged: bool = True) -> nn.Module:
        """The generator that samples: the moving average when there is one and ``averaged``, else G."""
        return self.generator_ema if averaged and self.generator_ema is not None else self.generator

    @torch.no_grad()
    def generate(
        self, z: torch.Tensor | int, condition: torch.Tensor | None = None, averaged: bool = True
    ) -> torch.Tensor:
        """G(z) (or G(z, condition)) in inference mode (:meth:`inference`), on the CPU.

        With ``cfg.ema_decay > 0`` the averaged generator samples, unless ``averaged=False``.
        ``z`` given as a count is drawn from the inference stream: sampling between two calls
        of :meth:`train` leaves the run exactly as if it had not happened.
        """
        z = self.sample_z(z, inference=True) if isinstance(z, int) else z.to(self.device)
        if condition is not None and len(condition) != len(z):
            raise ValueError(f"condition has {len(condition)} entries for {len(z)} noise vectors: give one each")
        conditions = [None] * len(z.split(1024)) if condition is None else condition.to(self.device).split(1024)
        generator = self.sampler(averaged)
        with self.inference(generator):
            chunks = zip(z.split(1024), conditions, strict=True)
            return torch.cat([generator(*self.generator_inputs(chunk, c)).float().cpu() for chunk, c in chunks])

    @contextlib.contextmanager
    def inference(self, generator: nn.Module | None = None) -> Iterator[None]:
        """How G (or ``generator``, e.g. the averaged one) runs in :meth:`generate`: eval mode.

        In eval mode batch norm uses its running statistics. The mode is restored
        afterwards, also when an exception interrupts it.
        """
        generator = self.generator if generator is None else generator
        was_training = generator.training
        generator.eval()
        try:
            yield
        finally:
            generator.train(was_training)

    def generate_fixed(self) -> torch.Tensor:
        """G on the fixed noise batch (and fixed conditions): the samples kept during training."""
        return self.generate(self.fixed_z, self.fixed_condition)

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

    def train_step(self) -> dict[str, torch.Tensor]:
        """One generator update preceded by ``n_critic`` discriminator updates; returns detached values.

        With ``cfg.reuse_fake`` and ``n_critic == 1`` the generator's update goes through
        the fake batch the discriminator has just been trained on (one G forward per
        step, as pytorch/examples' DCGAN and pix2pix do); otherwise it draws fresh z
        (Goodfellow et al. 2014, Alg. 1) and the discriminator's fake batch is made
        without an autograd graph.
        """
        cfg, amp = self.cfg, self.cfg.amp
        reuse = cfg.reuse_fake and cfg.n_critic == 1
        self.before_step()
        for _ in range(cfg.n_critic):
            real, condition = self.real_batch()
            z = self.sample_z(len(real))
            # G's graph is kept only when G's update goes through this batch (then through the
            # data-parallel wrapper, whose gradients are synchronised); either way D sees it
            # detached: the discriminator's loss must not send gradients into G
            generator = self.synced_generator if reuse else self.generator
            with torch.set_grad_enabled(reuse), autocast(self.device, amp, cpu=True):
                fake = generator(*self.generator_inputs(z, condition))
            with autocast(self.device, amp, cpu=True):
                critic = self.critic(condition, self.synced_discriminator)
                loss_d, stats = self.objective.loss_d(critic, real, fake.detach())
            loss_d = loss_d + self.historical_penalty("discriminator")
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler_d.scale(loss_d).backward()
            self.scaler_d.step(self.opt_d)
            self.scaler_d.update()
            self.objective.after_d_step(self.discriminator)
            if self.historical:
                self.historical["discriminator"].update(self.discriminator)

        # The generator's loss goes through D, so backward() would also fill D's .grad;
        # freezing D skips that work (D's gradients are cleared before its next step anyway).
        # finally: an exception or Ctrl-C in the G update must not leave D frozen.
        flags = [p.requires_grad for p in self.discriminator.parameters()]
        if cfg.freeze_d_in_g_step:
            self.discriminator.requires_grad_(False)
        try:
            # G is updated against the last critic step's real batch: a conditional GAN reuses its
            # labels, pix2pix its input/target pairs (for the L1 term). D runs unwrapped here: only G's
            # gradients are applied in this step, so only G's are synchronised across processes.
            with autocast(self.device, amp, cpu=True):
                if not reuse:
                    fake = self.synced_generator(*self.generator_inputs(self.sample_z(len(real)), condition))
                loss_g, g_stats = self.objective.loss_g(self.critic(condition), fake, real)
            loss_g = loss_g + self.historical_penalty("generator")
            self.opt_g.zero_grad(set_to_none=True)
            self.scaler_g.scale(loss_g).backward()
            self.scaler_g.step(self.opt_g)
            self.scaler_g.update()
            if self.historical:
                self.historical["generator"].update(self.generator)
            if self.generator_ema is not None:
                self.update_ema()
        finally:
            for p, flag in zip(self.discriminator.parameters(), flags, strict=True):
                p.requires_grad_(flag)
        for scheduler in self.schedulers:
            scheduler.step()
        self.step += 1
        values = {"loss_d": loss_d, "loss_g": loss_g, **stats, **g_stats}
        return {k: torch.as_tensor(v).detach().float() for k, v in values.items()}

    def train(
        self, steps: int | None = None, progress: bool = True, on_step: Callable[[GANTrainer], None] | None = None
    ) -> dict[str, list[float]]:
        """Train until ``steps`` generator updates in total (default ``cfg.steps``); returns the history.

        Losses are logged every ``cfg.log_every`` steps and samples kept every
        ``cfg.sample_every`` steps, both also at ``cfg.steps``; values of steps not yet
        logged wait (and travel in a checkpoint), so a run stopped anywhere and
        resumed records exactly what an uninterrupted run does. ``on_step(trainer)`` is called
        after every step (the command line writes sample grids with it). In a data-parallel run
        only rank 0 shows progress and keeps samples.

        Every step is atomic: the state at its start is kept in memory, and an exception
        or Ctrl-C anywhere in the step (in D's or G's update, logging, a snapshot, a
        checkpoint, ``on_step``) restores it, weights, optimisers, schedulers, scalers,
        random generators, history and samples, before it propagates. Calling ``train()``
        again therefore re-runs the interrupted step from the same state and continues
        exactly as an uninterrupted run. The price is one in-memory copy of the
        networks and optimiser states per step (``trainer.atomic_steps = False``
        skips it; then only a run resumed from a checkpoint is exact).

        The checkpoint folder is checked to be writable before the first step. If the
        final save fails, the :class:`~gancourse.checkpoints.CheckpointError` says where
        it could not be written; the trained networks stay in this trainer
        (``trainer.save(other_path)``).
        """
        target = self.cfg.steps if steps is None else _check_steps(steps)
        if self.checkpoint_path and self.step < target:
            check_writable(self.checkpoint_path)  # before hours of training, not at the final save
        bar = None
        if progress and self.step < target and self.rank == 0:
            from tqdm.auto import tqdm  # a widget in notebooks, text elsewhere

            bar = tqdm(
                total=target, initial=self.step, desc=type(self.generator).__name__, leave=False, mininterval=1.0
            )
        try:
            while self.step < target:
                before = self._snapshot() if self.atomic_steps else None
                try:
                    index = self.step
                    values = self.train_step()
                    self._window.append((index, values))
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
        finally:
            if bar is not None:
                bar.close()
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
    # atomic steps: the state in memory
    # ----------------------------------------------------------------------------------

    def _step_tensors(self) -> tuple[list[torch.Tensor], list[list[tuple[Any, dict[str, Any], list[str]]]]]:
        """The tensors a step updates in place, and where the optimisers keep theirs.

        Returns ``(tensors, layouts)``: the parameters and buffers of G, D and G's average,
        then every tensor of the optimisers' per-parameter states; ``layouts`` has, per
        optimiser, ``(parameter, non-tensor entries, tensor keys)`` in the order of ``tensors``.
        """
        average = [self.generator_ema] if self.generator_ema is not None else []
        tensors = [t for m in (self.generator, self.discriminator, *average) for t in (*m.parameters(), *m.buffers())]
        layouts = []
        for optimizer in (self.opt_g, self.opt_d):
            layout = []
            for param, entry in optimizer.state.items():
                keys = [k for k, v in entry.items() if isinstance(v, torch.Tensor)]
                tensors += [entry[k] for k in keys]
                layout.append((param, {k: copy.deepcopy(v) for k, v in entry.items() if k not in keys}, keys))
            layouts.append(layout)
        return tensors, layouts

    def _snapshot(self) -> dict[str, Any]:
        """Everything a step changes: its in-place tensors copied into reused buffers (:class:`_ReusedCopies`),
        the optimisers' layout and hyperparameters, and the rest (schedulers, scalers, random generators,
        history, window, samples) as in a checkpoint; undone by :meth:`_undo`."""
        tensors, layouts = self._step_tensors()
        return {
            "tensors": self._step_copies.save(tensors),
            "n_module_tensors": len(tensors) - sum(len(keys) for layout in layouts for _, _, keys in layout),
            "layouts": layouts,
            "param_groups": [
                [{k: copy.copy(v) for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
                for optimizer in (self.opt_g, self.opt_d)
            ],
            "schedulers": _clone([s.state_dict() for s in self.schedulers]),
            "scaler_g": _clone(self.scaler_g.state_dict()),
            "scaler_d": _clone(self.scaler_d.state_dict()),
            "data_rng": generator_state(self.data_rng),
            "noise_rng": generator_state(self.noise_rng),
            "inference_rng": generator_state(self.inference_rng),
            "global_rng": rng_state(),
            "step": self.step,
            "history": {k: list(v) for k, v in self.history.items()},
            "window": list(self._window),
            "samples": list(self.samples),
            "historical": {player: average.state_dict() for player, average in self.historical.items()},  # copies
            "requires_grad": [[p.requires_grad for p in m.parameters()] for m in (self.generator, self.discriminator)],
        }

    @torch.no_grad()
    def _undo(self, snapshot: dict[str, Any]) -> None:
        """Put back the state :meth:`_snapshot` kept at the start of an interrupted step."""
        saved = snapshot["tensors"]
        n = snapshot["n_module_tensors"]
        modules = self._step_tensors()[0][:n]  # G's, D's and the average's parameters and buffers come first
        if [(t.shape, t.dtype) for t in modules] != [(t.shape, t.dtype) for t in saved[:n]]:
            raise RuntimeError("atomic step: the networks' tensors changed shape during the step; cannot undo it")
        for tensor, copy_ in zip(modules, saved[:n], strict=True):  # in place: the optimisers hold these tensors
            tensor.copy_(copy_)
        index = n
        optimizers = (self.opt_g, self.opt_d)
        for optimizer, layout, groups in zip(optimizers, snapshot["layouts"], snapshot["param_groups"], strict=True):
            optimizer.state.clear()  # entries a step created (Adam's first step) go; the others come back
            for param, plain, keys in layout:
                entry = copy.deepcopy(plain)
                for key in keys:
                    entry[key] = saved[index].clone()  # the buffers are overwritten by the next snapshot
                    index += 1
                optimizer.state[param] = entry
            for group, hyperparameters in zip(optimizer.param_groups, groups, strict=True):
                group.update(hyperparameters)  # a scheduler's learning rate
        self._restore_rest(snapshot)

    def _restore(self, state: dict[str, Any]) -> None:
        """Put back what a checkpoint holds (no checks: see :meth:`load`)."""
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.generator_ema is not None:  # the config (and so ema_decay) matched: the checkpoint has it
            self.generator_ema.load_state_dict(state["generator_ema"])
        self._restore_rest(state)

    def _restore_rest(self, state: dict[str, Any]) -> None:
        """The part of :meth:`_restore` and :meth:`_undo` that is not the networks and optimiser states."""
        for scheduler, s in zip(self.schedulers, state["schedulers"], strict=True):
            scheduler.load_state_dict(s)
        self.scaler_g.load_state_dict(state["scaler_g"])
        self.scaler_d.load_state_dict(state["scaler_d"])
        set_generator_state(self.data_rng, state["data_rng"])
        set_generator_state(self.noise_rng, state["noise_rng"])
        if "inference_rng" in state:  # absent from checkpoints written before it existed
            set_generator_state(self.inference_rng, state["inference_rng"])
        set_rng_state(state["global_rng"])
        self.step = int(state["step"])
        self.history = {k: list(v) for k, v in state["history"].items()}
        self._window = [(int(step), dict(values)) for step, values in state.get("window", [])]
        self.samples = [(int(step), images.cpu()) for step, images in state["samples"]]
        for player, average in self.historical.items():  # historical averaging's running means (chapter 12)
            average.load_state_dict(state["historical"][player])
        for module, flags in zip((self.generator, self.discriminator), state.get("requires_grad", ()), strict=False):
            for p, flag in zip(module.parameters(), flags, strict=True):
                p.requires_grad_(flag)
        self.after_restore()

    def after_restore(self) -> None:
        """Called after a checkpoint or an interrupted step was restored (ProGAN sets its stage here)."""

    def _flush(self) -> dict[str, float]:
        """Check the pending per-step values for NaN/inf, then log their means."""
        if not self._window:
            return {}
        names, table = self._checked_window()
        self._check_weights()
        logged = {"step": float(self._window[-1][0] + 1), **dict(zip(names, table.mean(dim=0).tolist(), strict=True))}
        logged["lr_g"] = self.opt_g.param_groups[0]["lr"]
        for name, value in logged.items():
            self.history.setdefault(name, []).append(value)
        self._window.clear()
        return logged

    def _checked_window(self) -> tuple[list[str], torch.Tensor]:
        """The pending values as (names, (T, K) table); raises TrainingDiverged on a NaN or inf."""
        names = list(self._window[0][1])
        table = torch.stack([torch.stack([values[n] for n in names]) for _, values in self._window]).cpu()  # (T, K)
        finite = torch.isfinite(table).all(dim=1)
        if not finite.all():
            bad = int((~finite).nonzero()[0])
            step = self._window[bad][0] + 1
            which = ", ".join(
                f"{n} = {float(table[bad, i])}" for i, n in enumerate(names) if not torch.isfinite(table[bad, i])
            )
            self._window.clear()
            raise TrainingDiverged(
                f"training diverged at step {step}: {which}. Stopped; {self._last_good()}. "
                "Lower the learning rates, or check the data for NaNs."
            )
        return names, table

    def _check_weights(self) -> None:
        """TrainingDiverged if a weight or an optimiser state is NaN/inf (a NaN gradient with finite losses)."""
        networks = [getattr(self, key) for key in self.finite_keys() if not key.startswith("opt")]
        tensors = [t for m in networks for t in m.state_dict().values() if t.is_floating_point()]
        tensors += [
            t
            for opt in (self.opt_g, self.opt_d)
            for st in opt.state.values()
            for t in st.values()
            if isinstance(t, torch.Tensor) and t.is_floating_point()
        ]
        # one host sync for all of them; Adam keeps its step counts on the CPU even for CUDA weights
        if not tensors or bool(torch.stack([torch.isfinite(t).all().to(self.device) for t in tensors]).all()):
            return
        # the checkpoint keys are the attribute names of the networks and optimisers
        bad = [name for key in self.finite_keys() for name in nonfinite_entries(getattr(self, key).state_dict(), key)]
        shown = ", ".join(bad[:4]) + (f" and {len(bad) - 4} more" if len(bad) > 4 else "")
        raise TrainingDiverged(
            f"training diverged by step {self.step}: NaN or inf in {shown} although the logged losses were finite "
            f"(a NaN gradient). Stopped; {self._last_good()}. Lower the learning rates, or check the data for NaNs."
        )

    def finite_keys(self) -> tuple[str, ...]:
        """The state entries that must never hold NaN or inf (the averaged generator too, when kept)."""
        return FINITE_KEYS + (("generator_ema",) if self.generator_ema is not None else ())

    def _last_good(self) -> str:
        """What the diverged run left on disk, said truthfully."""
        saved = getattr(self, "_saved_step", None)
        if self.checkpoint_path and self.checkpoint_path.exists() and saved is not None:
            return f"the last good checkpoint, {self.checkpoint_path} (step {saved}), is intact"
        if self.checkpoint_path and self.checkpoint_path.exists():
            return f"{self.checkpoint_path} was not overwritten by this run"
        return "no checkpoint was written"

    # ----------------------------------------------------------------------------------
    # checkpoints
    # ----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a resume needs; in a data-parallel run a collective (every rank's RNG states)."""
        state = {
            **config_record(self.cfg),
            "step": self.step,
            "finished": self.step >= self.cfg.steps,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "scaler_g": self.scaler_g.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
            "networks": [type(self.generator).__name__, type(self.discriminator).__name__],
            "data_rng": generator_state(self.data_rng),
            "noise_rng": generator_state(self.noise_rng),  # tagged with its device: loads on a CPU or a GPU
            "inference_rng": generator_state(self.inference_rng),
            "global_rng": rng_state(),
            "history": self.history,
            "window": [[step, values] for step, values in self._window],  # checked, not yet logged
            "samples": [[step, images] for step, images in self.samples],
            "historical": {player: average.state_dict() for player, average in self.historical.items()},
        }
        if self.generator_ema is not None:
            state["generator_ema"] = self.generator_ema.state_dict()
        if self.world_size > 1:
            from gancourse.train.distributed import gather_rng_states

            state["rank_rng"] = gather_rng_states(self)
        return state

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write a checkpoint (atomically) to ``path`` or ``checkpoint_path``.

        Never writes NaN or inf weights or optimiser state: :class:`TrainingDiverged`
        is raised instead and the previous checkpoint stays as it was. The new file
        replaces the old one only after it was written, flushed and read back.
        """
        if self._window:
            self._checked_window()  # never save weights whose recent losses were not checked
        target = Path(path) if path else self.checkpoint_path
        if target is None:
            raise ValueError("path = None and no checkpoint_path was given: say where to save")
        state = self.state_dict()  # a collective in a data-parallel run: every rank calls it
        try:
            if self.rank == 0:  # only rank 0 writes
                written = save_checkpoint(target, state, finite=self.finite_keys())
            else:
                bad = [name for key in self.finite_keys() for name in nonfinite_entries(state[key], key)]
                if bad:
                    raise NonFiniteState(f"not saving {target}: NaN or inf in {', '.join(bad[:5])}")
                written = target
        except NonFiniteState as err:
            raise TrainingDiverged(
                f"training diverged by step {self.step}: {err}; the losses were finite (a NaN gradient). "
                f"Stopped; {self._last_good()}. Lower the learning rates, or check the data for NaNs."
            ) from err
        if target == self.checkpoint_path:
            self._saved_step = self.step
        return written

    def load(self, path: str | os.PathLike | None = None) -> int:
        """Restore everything from a checkpoint of the same config; returns the step reached."""
        source = Path(path) if path else self.checkpoint_path
        if source is None:
            raise ValueError("path = None and no checkpoint_path was given: say what to load")
        state = load_checkpoint(source, map_location=self.device)
        require_keys(state, REQUIRED_KEYS, source)
        differ = config_differences(self.cfg, state)
        if differ:
            raise CheckpointError(
                f"{source} was trained with another configuration ({state['config_class']}; differs in: "
                f"{', '.join(differ)}): delete it or use a matching config"
            )
        mine = [type(self.generator).__name__, type(self.discriminator).__name__]
        if "networks" in state and list(state["networks"]) != mine:
            raise CheckpointError(
                f"{source} holds a {' and a '.join(state['networks'])}, but this trainer has a {' and a '.join(mine)}: "
                "it was written by another builder with the same config; load it with that builder"
            )
        if len(state["schedulers"]) != len(self.schedulers):
            raise CheckpointError(
                f"{source} holds {len(state['schedulers'])} learning-rate scheduler(s), this trainer has "
                f"{len(self.schedulers)}: build it with the same schedulers"
            )
        before = self._snapshot()
        try:  # all or nothing: a mismatch half way puts everything back
            self._restore(state)
            if self.world_size > 1 or "rank_rng" in state:
                from gancourse.train.distributed import restore_rng_states

                restore_rng_states(self, state)  # this rank's own streams
        except CheckpointError:
            self._undo(before)
            raise
        except Exception as err:
            self._undo(before)
            detail = " ".join(str(err).split())[:600]
            raise CheckpointError(
                f"{source} does not fit this trainer ({type(err).__name__}: {detail}); nothing was loaded. "
                "Was it written by another builder or version? Delete it, or load it with the builder that wrote it"
            ) from err
        self._saved_step = self.step if source == self.checkpoint_path else getattr(self, "_saved_step", None)
        return self.step


def make_objective(cfg: GANConfig, base: Objective | None = None) -> Objective:
    """The objective ``cfg.objective`` names, or ``base`` (a recipe's own), with ``cfg``'s regularisers around it.

    Named: minimax (with ``generator_loss`` and ``label_smoothing``), least squares (Mao et al.
    2017, 0-1 coding), hinge (Lim & Ye 2017, Miyato et al. 2018) or, for the toy GAN, WGAN-GP
    (``gp_weight``). The Wasserstein GANs, ProGAN and pix2pix pass their own as ``base``.
    Around it, for every GAN: the R1 penalty on D (``r1_gamma``, every ``r1_every`` D steps;
    :class:`~gancourse.losses.R1Regularised`), then DiffAugment (``diff_augment``;
    :class:`~gancourse.augment.Augmented`), so that R1 differentiates through the augmentation
    as in Zhao et al.'s StyleGAN2 code, where the augmentation is part of D.
    """
    if cfg.objective != "minimax" and (cfg.generator_loss != "non_saturating" or cfg.label_smoothing):
        raise ValueError(
            f"generator_loss = {cfg.generator_loss!r} and label_smoothing = {cfg.label_smoothing} are options of the "
            f"minimax objective, but objective = {cfg.objective!r}: leave them at 'non_saturating' and 0"
        )
    named = {"minimax": lambda: MinimaxObjective(cfg.generator_loss, cfg.label_smoothing)}
    named |= {"least_squares": LeastSquaresObjective, "hinge": HingeObjective}
    named["wasserstein_gp"] = lambda: WassersteinObjective(gp_weight=cfg.gp_weight)
    if base is None and cfg.objective not in named:
        raise ValueError(f"objective = {cfg.objective!r} is built by its recipe, not by GANTrainer: pass objective=")
    objective = base if base is not None else named[cfg.objective]()
    if cfg.r1_gamma and cfg.minibatch_kernels:
        raise ValueError(
            f"r1_gamma = {cfg.r1_gamma} with minibatch_kernels = {cfg.minibatch_kernels}: minibatch discrimination "
            "makes each score depend on the batch, so the per-sample penalty is undefined; set one of them to 0"
        )
    if cfg.r1_every != 1 and not cfg.r1_gamma:
        raise ValueError(f"r1_every = {cfg.r1_every} with r1_gamma = 0: lazy R1 needs the penalty on (r1_gamma > 0)")
    if cfg.diff_augment and cfg.feature_matching:
        raise ValueError(
            f"diff_augment = {cfg.diff_augment!r} with feature_matching = True: G's feature-matching loss reads D's "
            "features without the augmentation, which would leak it into G; turn one of them off"
        )
    if cfg.r1_gamma:
        objective = R1Regularised(objective, cfg.r1_gamma, cfg.r1_every)
    if cfg.diff_augment:
        objective = Augmented(objective, cfg.diff_augment)
    return objective


def make_optimizer(parameters, cfg: GANConfig, lr: float) -> torch.optim.Optimizer:
    """The optimiser ``cfg.optimizer`` names: Adam with ``(beta1, beta2)``, or RMSprop (WGAN)."""
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr)
    return torch.optim.Adam(parameters, lr=lr, betas=(cfg.beta1, cfg.beta2))
