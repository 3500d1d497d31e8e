"""Training loops.

``train_regressor`` is the plain supervised loop of the PyTorch-basics chapter:
forward pass, loss, ``zero_grad``, ``backward``, optimizer ``step``.

:class:`GANTrainer` is the one GAN loop of the book (Goodfellow et al. 2014,
Alg. 1): for each generator update, ``n_critic`` discriminator updates on a real
batch and a *detached* fake batch, then one generator update through the
discriminator. What the losses are is a pluggable *objective*
(``gancourse.losses.MinimaxObjective``, later the Wasserstein ones), so every
chapter trains with this same code. The trainer also keeps a history, snapshots a
fixed noise batch, saves checkpoints from which a run resumes exactly, and stops
with a clear message when a loss becomes NaN or infinite.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from gancourse.checkpoints import CheckpointError, checkpoint_dir, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from gancourse.config import (
    ConditionalGANConfig,
    Config,
    DataConfig,
    DCGANConfig,
    GANConfig,
    MLPGANConfig,
    Pix2PixConfig,
    ProGANConfig,
    RegressionConfig,
    ResNetGANConfig,
    ToyGANConfig,
    WGANConfig,
    WGANGPConfig,
)
from gancourse.data import SPECS, ImageFiles, edge_pairs, grid_of_gaussians, preload, regression_data, ring_of_gaussians
from gancourse.device import autocast, pick_device, seed_everything
from gancourse.losses import MinimaxObjective, Pix2PixObjective, WassersteinObjective
from gancourse.models import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    PatchDiscriminator,
    ProDiscriminator,
    ProGenerator,
    ResNetCritic,
    ResNetGenerator,
    TinyRegressor,
    UNetGenerator,
)
from gancourse.models.progan import fade_real_images


@dataclasses.dataclass
class RegressionRun:
    """What a training run leaves behind: the model, the loss per step, and the held-out loss."""

    config: RegressionConfig
    model: TinyRegressor
    train_loss: list[float]
    test_loss: float


def train_regressor(cfg: RegressionConfig, device: torch.device | None = None) -> RegressionRun:
    """Fit :class:`TinyRegressor` to ``regression_data(cfg)`` with Adam and the mean squared error."""
    device = device or pick_device()
    seed_everything(cfg.seed)
    model = TinyRegressor(hidden=cfg.hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    loader = DataLoader(
        regression_data(cfg),
        batch_size=cfg.batch_size,
        shuffle=True,  # a new order every epoch, so batches are not correlated across epochs
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    losses: list[float] = []
    while len(losses) < cfg.steps:
        for x, y in loader:  # x (B, 3), y (B, 1)
            x, y = x.to(device), y.to(device)
            prediction = model(x)  # forward pass: (B, 1)
            loss = F.mse_loss(prediction, y)  # a 0-dim tensor that remembers how it was computed
            optimizer.zero_grad(set_to_none=True)  # .grad accumulates across backward calls otherwise
            loss.backward()  # fills p.grad = d loss / d p for every parameter p
            optimizer.step()  # p <- p - update(p.grad)
            losses.append(loss.item())
            if len(losses) == cfg.steps:
                break
    return RegressionRun(cfg, model, losses, evaluate_regressor(model, cfg, device))


@torch.no_grad()  # evaluation needs no graph: saves memory and time
def evaluate_regressor(model: torch.nn.Module, cfg: RegressionConfig, device: torch.device | None = None) -> float:
    """Mean squared error on 4,096 fresh examples; the noise floor is ``cfg.noise_std ** 2``."""
    device = device or next(model.parameters()).device
    x, y = regression_data(cfg, n=4096, seed_offset=1).tensors
    model.eval()  # no dropout or batch-norm updates here, but the habit matters later
    loss = F.mse_loss(model(x.to(device)), y.to(device)).item()
    model.train()
    return loss


# --------------------------------------------------------------------------------------
# The GAN trainer
# --------------------------------------------------------------------------------------


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
    """A loss became NaN or infinite; the message names the step and the last good checkpoint."""


class Objective(Protocol):
    """The losses of a GAN. ``critic`` maps a batch to one logit/score per sample; for a
    conditional GAN the trainer binds the batch's condition into it, so an objective
    never needs to know whether the GAN is conditional. ``loss_g`` also receives the
    real batch, which paired objectives (pix2pix's L1 term) need."""

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict]: ...

    def loss_g(self, critic: Callable, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict]: ...

    def after_d_step(self, discriminator: nn.Module) -> None: ...


SchedulerFactory = Callable[[torch.optim.Optimizer, torch.optim.Optimizer], Sequence[torch.optim.lr_scheduler.LRScheduler]]


class GANTrainer:
    """Alternating discriminator and generator updates, with history, samples and checkpoints.

    ``real`` draws real batches; ``objective`` defaults to the minimax losses chosen
    by ``cfg``; ``schedulers`` builds learning-rate schedulers from the two
    optimisers (stepped once per generator update). With ``checkpoint_path`` set,
    a checkpoint is written every ``cfg.checkpoint_every`` steps and at the end.
    ``n_fixed`` is the size of the fixed noise batch whose samples are kept every
    ``cfg.sample_every`` steps; ``fixed_condition`` (conditional GANs: ``n_fixed``
    labels or input images) goes with it.

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
    ) -> None:
        self.cfg, self.real, self.n_fixed = cfg, real, n_fixed
        self.device = device or pick_device()
        seed_everything(cfg.seed)  # model initialisation below is reproducible too
        self.fast_layout = cfg.channels_last and self.device.type == "cuda"
        memory_format = torch.channels_last if self.fast_layout else torch.preserve_format
        self.generator = generator.to(self.device, memory_format=memory_format)
        self.discriminator = discriminator.to(self.device, memory_format=memory_format)
        self.objective = objective or MinimaxObjective(cfg.generator_loss, cfg.label_smoothing)
        self.opt_g = make_optimizer(self.generator.parameters(), cfg, cfg.lr_g)
        self.opt_d = make_optimizer(self.discriminator.parameters(), cfg, cfg.lr_d)
        self.schedulers = list(schedulers(self.opt_g, self.opt_d)) if schedulers else []
        # float16 autocast needs loss scaling; bfloat16 (and no autocast at all) does not
        fp16 = cfg.amp and self.device.type == "cuda" and not torch.cuda.is_bf16_supported()
        self.scaler_d = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.scaler_g = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.data_rng = torch.Generator().manual_seed(cfg.seed)  # real batches are drawn on the CPU
        self.noise_rng = torch.Generator(self.device).manual_seed(cfg.seed + 1)
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

    @property
    def latent_dim(self) -> int:
        return self.cfg.latent_dim

    def sample_z(self, n: int) -> torch.Tensor:
        """z ~ N(0, I), shape (n, latent_dim), from the trainer's own generator."""
        return torch.randn(n, self.latent_dim, generator=self.noise_rng, device=self.device)

    def generator_inputs(self, z: torch.Tensor, condition: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        """The arguments of G: ``(z,)``, or ``(z, condition)`` for a conditional GAN."""
        return (z,) if condition is None else (z, condition)

    def critic(self, condition: torch.Tensor | None) -> Callable[[torch.Tensor], torch.Tensor]:
        """D as a function of the samples alone: the condition, if any, bound in."""
        if condition is None:
            return self.discriminator
        return lambda x: self.discriminator(x, condition)

    @torch.no_grad()
    def generate(self, z: torch.Tensor | int, condition: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) (or G(z, condition)) in eval mode (batch norm uses its running statistics), on the CPU."""
        z = self.sample_z(z) if isinstance(z, int) else z.to(self.device)
        if condition is not None and len(condition) != len(z):
            raise ValueError(f"condition has {len(condition)} entries for {len(z)} noise vectors: give one each")
        conditions = [None] * len(z.split(1024)) if condition is None else condition.to(self.device).split(1024)
        was_training = self.generator.training
        self.generator.eval()
        out = torch.cat(
            [self.generator(*self.generator_inputs(chunk, c)).float().cpu() for chunk, c in zip(z.split(1024), conditions)]
        )
        self.generator.train(was_training)
        return out

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
        """One generator update preceded by ``n_critic`` discriminator updates; returns detached values."""
        cfg, amp = self.cfg, self.cfg.amp
        self.before_step()
        for _ in range(cfg.n_critic):
            real, condition = self.real_batch()
            z = self.sample_z(len(real))
            # detach: the discriminator's loss must not send gradients into the generator
            fake = self.generator(*self.generator_inputs(z, condition)).detach()
            with autocast(self.device, amp):
                loss_d, stats = self.objective.loss_d(self.critic(condition), real, fake)
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler_d.scale(loss_d).backward()
            self.scaler_d.step(self.opt_d)
            self.scaler_d.update()
            self.objective.after_d_step(self.discriminator)

        # The generator's loss goes through D, so backward() would also fill D's .grad;
        # freezing D skips that work (D's gradients are cleared before its next step anyway).
        if cfg.freeze_d_in_g_step:
            self.discriminator.requires_grad_(False)
        # G is updated against the last critic step's real batch: a conditional GAN reuses its
        # labels, pix2pix its input/target pairs (for the L1 term)
        with autocast(self.device, amp):
            fake = self.generator(*self.generator_inputs(self.sample_z(len(real)), condition))
            loss_g, g_stats = self.objective.loss_g(self.critic(condition), fake, real)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss_g).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        if cfg.freeze_d_in_g_step:
            self.discriminator.requires_grad_(True)
        for scheduler in self.schedulers:
            scheduler.step()
        self.step += 1
        values = {"loss_d": loss_d, "loss_g": loss_g, **stats, **g_stats}
        return {k: torch.as_tensor(v).detach().float() for k, v in values.items()}

    def train(self, steps: int | None = None, progress: bool = True) -> dict[str, list[float]]:
        """Train until ``steps`` generator updates in total (default ``cfg.steps``); returns the history.

        Losses are logged every ``cfg.log_every`` steps and samples kept every
        ``cfg.sample_every`` steps, both also at ``cfg.steps``; values of steps not yet
        logged wait (and travel in a checkpoint), so a run stopped anywhere and
        resumed records exactly what an uninterrupted run does.
        """
        target = self.cfg.steps if steps is None else steps
        bar = None
        if progress and self.step < target:
            from tqdm.auto import tqdm  # a widget in notebooks, text elsewhere

            bar = tqdm(total=target, initial=self.step, desc=type(self.generator).__name__, leave=False, mininterval=1.0)
        try:
            while self.step < target:
                self._window.append((self.step, self.train_step()))
                if self.step % self.cfg.log_every == 0 or self.step == self.cfg.steps:
                    logged = self._flush()
                    if bar is not None:
                        bar.set_postfix({k: f"{v:.3f}" for k, v in logged.items() if k.startswith("loss")})
                if self.step % self.cfg.sample_every == 0 or self.step == self.cfg.steps:
                    self.samples.append((self.step, self.generate_fixed()))
                if self.checkpoint_path and self.cfg.checkpoint_every and self.step % self.cfg.checkpoint_every == 0:
                    self.save()
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        if self.checkpoint_path:
            self.save()
        return self.history

    def _flush(self) -> dict[str, float]:
        """Check the pending per-step values for NaN/inf, then log their means."""
        if not self._window:
            return {}
        names, table = self._checked_window()
        logged = {"step": float(self._window[-1][0] + 1), **dict(zip(names, table.mean(dim=0).tolist()))}
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
            which = ", ".join(f"{n} = {float(table[bad, i])}" for i, n in enumerate(names) if not torch.isfinite(table[bad, i]))
            self._window.clear()
            where = (
                f"the last good checkpoint, {self.checkpoint_path}, is intact"
                if self.checkpoint_path and self.checkpoint_path.exists()
                else "no checkpoint was written"
            )
            raise TrainingDiverged(
                f"training diverged at step {step}: {which}. Stopped; {where}. "
                "Lower the learning rates, or check the data for NaNs."
            )
        return names, table

    # ----------------------------------------------------------------------------------
    # checkpoints
    # ----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "config_class": type(self.cfg).__name__,
            "config": self.cfg.as_dict(),
            "step": self.step,
            "finished": self.step >= self.cfg.steps,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "scaler_g": self.scaler_g.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
            "data_rng": self.data_rng.get_state(),
            "noise_rng": self.noise_rng.get_state(),
            "global_rng": rng_state(),
            "history": self.history,
            "window": [[step, values] for step, values in self._window],  # checked, not yet logged
            "samples": [[step, images] for step, images in self.samples],
        }

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write a checkpoint (atomically) to ``path`` or ``checkpoint_path``."""
        if self._window:
            self._checked_window()  # never save weights whose recent losses were not checked
        target = Path(path) if path else self.checkpoint_path
        if target is None:
            raise ValueError("path = None and no checkpoint_path was given: say where to save")
        return save_checkpoint(target, self.state_dict())

    def load(self, path: str | os.PathLike | None = None) -> int:
        """Restore everything from a checkpoint of the same config; returns the step reached."""
        source = Path(path) if path else self.checkpoint_path
        if source is None:
            raise ValueError("path = None and no checkpoint_path was given: say what to load")
        state = load_checkpoint(source, map_location=self.device)
        mine = {k: v for k, v in self.cfg.as_dict().items() if k != "steps"}
        theirs = {k: v for k, v in state["config"].items() if k != "steps"}
        if state["config_class"] != type(self.cfg).__name__ or _jsonable(mine) != _jsonable(theirs):
            diff = sorted(k for k in set(mine) | set(theirs) if _jsonable(mine.get(k)) != _jsonable(theirs.get(k)))
            raise CheckpointError(
                f"{source} was trained with another configuration ({state['config_class']}; differs in: "
                f"{', '.join(diff) or 'class'}): delete it or use a matching config"
            )
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for scheduler, s in zip(self.schedulers, state["schedulers"], strict=True):
            scheduler.load_state_dict(s)
        self.scaler_g.load_state_dict(state["scaler_g"])
        self.scaler_d.load_state_dict(state["scaler_d"])
        self.data_rng.set_state(state["data_rng"].cpu())
        self.noise_rng.set_state(state["noise_rng"].cpu())
        set_rng_state(state["global_rng"])
        self.step = state["step"]
        self.history = {k: list(v) for k, v in state["history"].items()}
        self._window = [(int(step), dict(values)) for step, values in state.get("window", [])]
        self.samples = [(int(step), images.cpu()) for step, images in state["samples"]]
        return self.step


def make_optimizer(parameters, cfg: GANConfig, lr: float) -> torch.optim.Optimizer:
    """The optimiser ``cfg.optimizer`` names: Adam with ``(beta1, beta2)``, or RMSprop (WGAN)."""
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr)
    return torch.optim.Adam(parameters, lr=lr, betas=(cfg.beta1, cfg.beta2))


def _jsonable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def config_key(cfg: Config) -> str:
    """A short hash of a config: checkpoints of different settings never collide."""
    blob = _jsonable({"class": type(cfg).__name__, **cfg.as_dict()})
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def load_or_train(
    name: str,
    cfg: GANConfig,
    build: Callable[..., GANTrainer],
    force: bool = False,
    directory: str | os.PathLike | None = None,
    device: torch.device | None = None,
    progress: bool = True,
) -> GANTrainer:
    """A trained trainer for ``cfg``: loaded from the checkpoint cache when one exists, else trained.

    A finished checkpoint is loaded and not retrained (``force=True`` retrains from
    scratch); an unfinished one, left by an interrupted run, is resumed from its step.
    This is how full-mode results trained once on a GPU reach a reader on a CPU.
    """
    path = Path(directory or checkpoint_dir()) / f"{name}-{config_key(cfg)}.pt"
    trainer = build(cfg, device=device, checkpoint_path=path)
    if force:
        path.unlink(missing_ok=True)
    if path.exists():
        step = trainer.load()
        verb = "loaded the finished run" if step >= cfg.steps else f"resuming the interrupted run from step {step}"
        print(f"{name}: {verb} ({path})")
    else:
        print(f"{name}: training {cfg.steps} steps on {trainer.device} (checkpoint: {path})")
    trainer.train(progress=progress)
    return trainer


# --------------------------------------------------------------------------------------
# Builders: the models and data of each chapter's GAN
# --------------------------------------------------------------------------------------


def toy_gan(cfg: ToyGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """MLP generator and discriminator on a 2-D mixture of Gaussians."""
    mixture = ring_of_gaussians() if cfg.mixture == "ring" else grid_of_gaussians()
    seed_everything(cfg.seed)
    generator = MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=(2,), n_hidden=3, image_output=False)
    discriminator = MLPDiscriminator((2,), cfg.hidden, n_hidden=3)
    kwargs.setdefault("n_fixed", 1000)  # enough points to see the modes in a scatter plot
    trainer = GANTrainer(generator, discriminator, mixture.sample, cfg, device=device, checkpoint_path=checkpoint_path, **kwargs)
    trainer.mixture = mixture
    return trainer


def _images(cfg: MLPGANConfig | DCGANConfig) -> TensorSampler:
    images, _ = preload(DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit))
    return TensorSampler(images)


def mlp_gan(cfg: MLPGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """Fully connected G and D on MNIST-family images."""
    seed_everything(cfg.seed)
    shape = (1, cfg.image_size, cfg.image_size)
    generator = MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=shape, n_hidden=3)
    discriminator = MLPDiscriminator(shape, cfg.hidden, n_hidden=2)
    return GANTrainer(generator, discriminator, _images(cfg), cfg, device=device, checkpoint_path=checkpoint_path, **kwargs)


def dcgan(cfg: DCGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """The DCGAN of Radford et al. 2015 on MNIST-family images."""
    seed_everything(cfg.seed)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size)
    discriminator = DCGANDiscriminator(cfg.base_channels, cfg.image_size)
    return GANTrainer(generator, discriminator, _images(cfg), cfg, device=device, checkpoint_path=checkpoint_path, **kwargs)


# Chapters 6 and 7: WGAN, WGAN-GP, ResNet GAN


def wgan(cfg: WGANConfig | WGANGPConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """WGAN (Arjovsky et al. 2017, Alg. 1) or, for a WGANGPConfig, WGAN-GP (Gulrajani et al. 2017, Alg. 1).

    The DCGAN networks; the discriminator, read without a sigmoid, is the critic.
    WGAN clips every critic weight to [-c, c] after each critic step; WGAN-GP
    instead adds lambda * E[(||grad f(x^)|| - 1)^2] to the critic's loss, and its
    critic has layer norm (or none) instead of batch norm (``cfg.critic_norm``).
    """
    seed_everything(cfg.seed)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size)
    critic = DCGANDiscriminator(cfg.base_channels, cfg.image_size, norm=cfg.critic_norm)
    if isinstance(cfg, WGANGPConfig):
        objective = WassersteinObjective(gp_weight=cfg.gp_weight)
    else:
        objective = WassersteinObjective(clip_value=cfg.clip_value)
    return GANTrainer(
        generator, critic, _images(cfg), cfg, objective=objective, device=device, checkpoint_path=checkpoint_path, **kwargs
    )


def wgan_gp(cfg: WGANGPConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """WGAN-GP with the DCGAN networks: :func:`wgan` with a WGANGPConfig."""
    if not isinstance(cfg, WGANGPConfig):
        raise TypeError(f"wgan_gp needs a WGANGPConfig, got {type(cfg).__name__}")
    return wgan(cfg, device, checkpoint_path, **kwargs)


def resnet_gan(cfg: ResNetGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """The WGAN-GP CIFAR ResNet (Gulrajani et al. 2017, App. F) on MNIST-family images, ``cfg``: ResNetGANConfig."""
    seed_everything(cfg.seed)
    generator = ResNetGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size)
    critic = ResNetCritic(cfg.base_channels, cfg.image_size, norm=cfg.critic_norm)
    objective = WassersteinObjective(gp_weight=cfg.gp_weight)
    return GANTrainer(
        generator, critic, _images(cfg), cfg, objective=objective, device=device, checkpoint_path=checkpoint_path, **kwargs
    )


def seconds_per_step(
    build: Callable[..., GANTrainer], cfg: GANConfig, device: torch.device | None = None, steps: int = 3
) -> float:
    """Wall-clock seconds per generator update (its ``n_critic`` critic updates included) of a fresh run.

    Equal steps are not equal compute: this is the price of one step on ``device``,
    averaged over ``steps`` steps after one warm-up step, with no checkpoint written.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps = {steps!r} is out of range: allowed steps >= 1 (an integer)")
    trainer = build(cfg, device=device)
    trainer.train_step()  # warm-up: first-call allocations and kernel selection
    sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    sync()
    return (time.perf_counter() - start) / steps


# Chapter 8: conditional GAN, pix2pix


def class_rows(n_classes: int, per_class: int) -> torch.Tensor:
    """Labels 0, ..., 0, 1, ..., 1, ...: ``per_class`` of each, so an ``nrow=per_class`` grid has one row per class."""
    return torch.arange(n_classes).repeat_interleave(per_class)  # (n_classes * per_class,)


def conditional_gan(cfg: ConditionalGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """Class-conditional DCGAN (Mirza & Osindero 2014; projection D of Miyato & Koyama 2018) on MNIST-family data.

    Real batches are ``(images, labels)``; G draws the fakes of a batch for the same
    labels. The fixed sample grid has 8 samples of each class (``trainer.samples``
    images in class order: ``nrow=8`` shows one row per class).
    """
    n_classes = len(SPECS[cfg.dataset].classes)
    images, labels = preload(DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit))
    seed_everything(cfg.seed)
    generator = ConditionalGenerator(cfg.latent_dim, n_classes, cfg.base_channels, cfg.image_size, embed_dim=cfg.embed_dim)
    discriminator = ConditionalDiscriminator(
        n_classes, cfg.base_channels, cfg.image_size, projection=cfg.projection, embed_dim=cfg.embed_dim
    )
    per_class = kwargs.pop("per_class", 8)
    kwargs.setdefault("n_fixed", n_classes * per_class)
    kwargs.setdefault("fixed_condition", class_rows(n_classes, kwargs["n_fixed"] // n_classes))
    trainer = GANTrainer(
        generator, discriminator, TensorSampler(images, labels), cfg, device=device, checkpoint_path=checkpoint_path, **kwargs
    )
    trainer.classes = SPECS[cfg.dataset].classes
    return trainer


class Pix2PixTrainer(GANTrainer):
    """GANTrainer for pix2pix: G sees only the input image (no z; dropout is its noise), D sees (output, input).

    The real sampler returns ``(target, input)`` pairs, so the trainer's ``condition``
    is the input image; :meth:`translate` maps input images to outputs.
    """

    def generator_inputs(self, z: torch.Tensor, condition: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        if condition is None:
            raise ValueError("condition = None: pix2pix's generator needs the input image")
        return (condition,)

    def translate(self, condition: torch.Tensor) -> torch.Tensor:
        """G(x) for input images x (B, C_in, S, S), in eval mode (dropout stays on if ``test_dropout``), on the CPU."""
        return self.generate(len(condition), condition)


def pix2pix(cfg: Pix2PixConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> Pix2PixTrainer:
    """pix2pix (Isola et al. 2017) on edges -> images: Sobel edges of MNIST-family images as input, the image as target.

    The fixed batch is the first ``n_fixed`` (16) test pairs: ``trainer.fixed_condition``
    holds their edges and ``trainer.fixed_target`` their images.
    """
    data_cfg = DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit)
    edges, images, _ = edge_pairs(data_cfg, "train", cfg.edge_threshold)
    n_fixed = kwargs.setdefault("n_fixed", 16)
    test_edges, test_images, _ = edge_pairs(data_cfg.replace(limit=n_fixed), "test", cfg.edge_threshold)
    kwargs.setdefault("fixed_condition", test_edges)
    seed_everything(cfg.seed)
    generator = UNetGenerator(1, 1, cfg.base_channels, cfg.image_size, cfg.norm, cfg.dropout, cfg.test_dropout)
    discriminator = PatchDiscriminator(2, cfg.base_channels, cfg.d_layers, cfg.norm)
    objective = Pix2PixObjective(cfg.l1_weight, cfg.adversarial, cfg.d_loss_factor)
    trainer = Pix2PixTrainer(
        generator,
        discriminator,
        TensorSampler(images, edges),  # (target, input) pairs
        cfg,
        objective=objective,
        device=device,
        checkpoint_path=checkpoint_path,
        **kwargs,
    )
    trainer.fixed_target = test_images if kwargs["fixed_condition"] is test_edges else None
    return trainer


# Chapter 9: ProGAN


class ProgressiveTrainer(GANTrainer):
    """ProGAN's training (Karras et al. 2018): the resolution, fade-in and batch size follow the schedule.

    Everything is a function of the generator step (``cfg.stage(step)``): before each
    update :meth:`before_step` sets G's and D's resolution and alpha, and
    :meth:`real_batch` draws that resolution's batch size of real images,
    downsampled and blended exactly as G's output is. A run resumed in the middle of
    a fade-in therefore continues exactly. When a new phase starts, Adam's moments
    are cleared (``cfg.reset_optimizer``), as the official code does
    (``reset_opt_for_new_lod``): the moments of a network with different layers and
    a different output scale are stale. A fixed-noise snapshot is kept at the end of
    every phase, at that phase's resolution.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_stage(0)

    def _set_stage(self, step: int) -> int:
        self.phase, self.resolution, self.alpha, self.stage_batch_size = self.cfg.stage(step)
        self.generator.set_stage(self.resolution, self.alpha)
        self.discriminator.set_stage(self.resolution, self.alpha)
        return self.phase

    def before_step(self) -> None:
        previous = self.cfg.stage(self.step - 1)[0] if self.step > 0 else 0
        if self._set_stage(self.step) != previous and self.cfg.reset_optimizer:
            for optimizer in (self.opt_g, self.opt_d):
                optimizer.state.clear()  # Adam re-initialises m, v and its step count on the next step

    def real_batch(self) -> tuple[torch.Tensor, None]:
        real = self.real(self.stage_batch_size, self.data_rng)  # (B, C, S, S) at the target size
        real = real.to(self.device, non_blocking=True)
        return fade_real_images(real, self.resolution, self.alpha), None  # (B, C, r, r)

    def train_step(self) -> dict[str, torch.Tensor]:
        values = super().train_step()
        phase = self.cfg.phases()[self.phase]
        if self.step == phase.start + phase.steps and self.step % self.cfg.sample_every and self.step != self.cfg.steps:
            self.samples.append((self.step, self.generate_fixed()))  # the end of a phase (the loop keeps the others)
        values["alpha"] = torch.tensor(self.alpha)
        values["resolution"] = torch.tensor(float(self.resolution))
        return values

    @torch.no_grad()
    def generate(self, z: torch.Tensor | int, condition: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) at the current resolution and alpha, clipped to [-1, 1] (G's output is linear)."""
        return super().generate(z, condition).clamp(-1, 1)

    def phase_samples(self) -> dict[int, torch.Tensor]:
        """The fixed-noise snapshots taken at the end of each phase, by step (images at that phase's size)."""
        ends = {p.start + p.steps for p in self.cfg.phases()}
        return {step: images for step, images in self.samples if step in ends}

    def load(self, path: str | os.PathLike | None = None) -> int:
        step = super().load(path)
        self._set_stage(max(step - 1, 0))  # the stage the last step ran at, for generate()
        return step


def _progan_images(cfg: ProGANConfig) -> tuple[TensorSampler, int]:
    """Real images at the target size (``cfg``: ProGANConfig) and their number of channels."""
    if cfg.dataset == "folder":
        files = ImageFiles(cfg.image_folder, cfg.image_size)
        n = len(files) if not cfg.data_limit else min(cfg.data_limit, len(files))
        return TensorSampler(torch.stack([files[i][0] for i in range(n)])), 3  # (N, 3, S, S)
    images, _ = preload(DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit))
    return TensorSampler(images), 1


def progan(cfg: ProGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> ProgressiveTrainer:
    """ProGAN (Karras et al. 2018) on MNIST-family images or a folder, ``cfg``: ProGANConfig."""
    real, channels = _progan_images(cfg)
    seed_everything(cfg.seed)
    generator = ProGenerator(
        cfg.latent_dim, cfg.image_size, channels, cfg.fmap_base, cfg.fmap_max, cfg.equalized_lr, cfg.pixel_norm
    )
    discriminator = ProDiscriminator(
        cfg.image_size, channels, cfg.fmap_base, cfg.fmap_max, cfg.equalized_lr, cfg.minibatch_std, cfg.group_size
    )
    objective = WassersteinObjective(gp_weight=cfg.gp_weight, drift=cfg.drift)
    return ProgressiveTrainer(
        generator, discriminator, real, cfg, objective=objective, device=device, checkpoint_path=checkpoint_path, **kwargs
    )
