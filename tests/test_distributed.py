"""Data-parallel training (gancourse.train.distributed) with gloo and 2 CPU processes on 127.0.0.1.

A launch costs ~12 s here, so there are two: one ``torch.multiprocessing.spawn`` of 2
ranks that runs every scenario (module fixture ``ddp_runs``), and one ``torchrun`` of the
command line (module fixture ``torchrun_cli``).
"""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gancourse.checkpoints import CheckpointError
from gancourse.config import (
    ConditionalGANConfig,
    DCGANConfig,
    MLPGANConfig,
    Pix2PixConfig,
    ProGANConfig,
    WGANGPConfig,
)
from gancourse.train import distributed, recipe_parts, recipes
from gancourse.train.loop import TensorSampler

pytestmark = pytest.mark.slow  # each launch of 2 ranks takes seconds

ROOT = Path(__file__).resolve().parent.parent
B = 4  # batch per rank
STEPS = 4
#: the WGAN-GP of the raw-gradient comparison: layer-norm critic (per sample, as Gulrajani et al. need)
GP = WGANGPConfig(image_size=16, base_channels=8, batch_size=B, steps=2, critic_norm="layer", checkpoint_every=0)
PENALTY_SEED = 77  # rank r draws the penalty's eps with the global seed PENALTY_SEED + r
MLP = MLPGANConfig(
    image_size=8,
    hidden=32,
    batch_size=B,
    steps=STEPS,
    lr_g=1e-3,
    lr_d=1e-3,
    log_every=1,
    sample_every=2,
    checkpoint_every=0,
)


def _images() -> torch.Tensor:
    return torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(123)) * 2 - 1  # (64, 1, 8, 8)


def _critic_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed real and fake batches of 2B images (2B, 1, 16, 16): rank r takes rows r*B to (r+1)*B."""
    g = torch.Generator().manual_seed(321)
    return torch.rand(2 * B, 1, 16, 16, generator=g) * 2 - 1, torch.rand(2 * B, 1, 16, 16, generator=g) * 2 - 1


def _critic_gradients(trainer, critic, real, fake) -> dict[str, torch.Tensor]:
    """The critic's raw gradients of WGAN-GP's loss_d (with the penalty) on one batch, before any optimiser step."""
    trainer.opt_d.zero_grad(set_to_none=True)
    loss, _ = trainer.objective.loss_d(critic, real, fake)
    loss.backward()
    return {name: p.grad.detach().clone() for name, p in trainer.discriminator.named_parameters()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _build(build, cfg, launch, path=None):
    trainer = build(cfg, device=torch.device("cpu"), checkpoint_path=path)
    return distributed.distribute(trainer, launch)


def _worker(rank: int, world_size: int, port: int, out: str) -> None:
    """One rank: every scenario, results saved as out/rank{rank}.pt for the test to check."""
    import torch.distributed as dist

    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank)
    )
    torch.set_num_threads(1)
    recipes._images = lambda cfg: TensorSampler(_images())  # no data set to load: fixed random images
    launch = distributed.init_from_env("cpu")
    out_dir = Path(out)
    result: dict = {"spread": {}}

    def check_identical(name):
        def on_step(trainer):  # after every step: the largest difference between the ranks' parameters
            flat = torch.cat([_flat(trainer.generator), _flat(trainer.discriminator)])
            gathered = [torch.empty_like(flat) for _ in range(world_size)]
            dist.all_gather(gathered, flat)
            result["spread"].setdefault(name, []).append(max(float((g - flat).abs().max()) for g in gathered))

        return on_step

    # 1. four uninterrupted steps, each rank naming its own checkpoint file: only rank 0's may appear
    full = _build(recipes.mlp_gan, MLP, launch, out_dir / f"full-rank{rank}.pt")
    full.train(progress=False, on_step=check_identical("mlp"))
    result["mlp"] = {"generator": full.generator.state_dict(), "discriminator": full.discriminator.state_dict()}
    result["history"] = full.history

    # 2. interrupted after 2 steps, resumed by fresh trainers: the same weights and history as (1)
    shared = out_dir / "interrupted.pt"
    _build(recipes.mlp_gan, MLP, launch, shared).train(2, progress=False)
    dist.barrier()  # rank 0 has written the file
    resumed = _build(recipes.mlp_gan, MLP, launch, shared)
    result["resumed_from"] = resumed.load()
    resumed.train(progress=False)
    result["resumed"] = {
        "generator": resumed.generator.state_dict(),
        "discriminator": resumed.discriminator.state_dict(),
    }
    result["resumed_history"] = resumed.history

    # 3. the gradient penalty (autograd.grad with create_graph, then one backward), layer-norm critic
    gp = WGANGPConfig(
        image_size=16, base_channels=8, batch_size=B, steps=2, n_critic=2, critic_norm="layer", checkpoint_every=0
    )
    recipes._images = lambda cfg: TensorSampler(torch.nn.functional.interpolate(_images(), size=16))
    _build(recipes.wgan_gp, gp, launch).train(progress=False, on_step=check_identical("wgan_gp"))
    # 4. batch norm (plain BatchNorm on CPUs: SyncBatchNorm is CUDA-only)
    dc = DCGANConfig(image_size=16, base_channels=8, batch_size=B, steps=2, checkpoint_every=0)
    _build(recipes.dcgan, dc, launch).train(progress=False, on_step=check_identical("dcgan"))
    # 5. ProGAN across phases 4 x 4 -> fade-in to 8 x 8 -> 8 x 8: inactive blocks get no gradient
    recipes._progan_images = lambda cfg: (TensorSampler(_images()), 1)
    pro = ProGANConfig(
        image_size=8,
        latent_dim=16,
        fmap_base=32,
        fmap_max=16,
        fade_images=8,
        stable_images=8,
        batch_sizes=(4, 4),
        checkpoint_every=0,
    )
    pro_trainer = _build(recipes.progan, pro, launch)
    pro_trainer.train(progress=False, on_step=check_identical("progan"))
    result["progan_steps"] = pro_trainer.step
    # 6. D not frozen in G's step: its gradients from G's loss stay local and are cleared before D's step
    unfrozen = MLP.replace(freeze_d_in_g_step=False, steps=2)
    recipes._images = lambda cfg: TensorSampler(_images())
    _build(recipes.mlp_gan, unfrozen, launch).train(progress=False, on_step=check_identical("unfrozen"))
    # 7. the conditional GAN (labels bound into D) and pix2pix (an input image instead of z; dropout)
    images16 = torch.nn.functional.interpolate(_images(), size=16)  # (64, 1, 16, 16)
    recipes.preload = lambda data_cfg, *args, **kwargs: (images16, torch.arange(64) % 10)

    def edge_pairs(data_cfg, split="train", threshold=None, root=None):
        n = data_cfg.limit or 64
        return (images16[:n] > 0).float() * 2 - 1, images16[:n], torch.arange(n) % 10

    recipe_parts.edge_pairs = edge_pairs
    cgan = ConditionalGANConfig(image_size=16, base_channels=8, batch_size=B, steps=2, checkpoint_every=0)
    _build(recipes.conditional_gan, cgan, launch).train(progress=False, on_step=check_identical("conditional_gan"))
    p2p = Pix2PixConfig(image_size=16, base_channels=8, d_layers=1, batch_size=2, steps=2, checkpoint_every=0)
    _build(recipes.pix2pix, p2p, launch).train(progress=False, on_step=check_identical("pix2pix"))
    # 8. raw gradients of WGAN-GP's critic loss with the penalty, on this rank's half of a fixed 2B batch:
    # through D's DDP wrapper (averaged over the ranks) and through the plain D (this rank's own)
    recipes._images = lambda cfg: TensorSampler(images16)
    critic_trainer = _build(recipes.wgan_gp, GP, launch)
    real, fake = (t[rank * B : (rank + 1) * B] for t in _critic_batch())
    torch.manual_seed(PENALTY_SEED + rank)
    eps = torch.rand(B, 1, 1, 1)  # the penalty's eps, drawn again below from the same state
    grads = {"eps": eps, "initial": copy.deepcopy(critic_trainer.discriminator.state_dict())}
    for name, critic in (("averaged", critic_trainer.parallel.discriminator), ("own", critic_trainer.discriminator)):
        torch.manual_seed(PENALTY_SEED + rank)  # the critic's forwards draw nothing: eps is the one above
        grads[name] = _critic_gradients(critic_trainer, critic, real, fake)
    result["gp_gradients"] = grads
    torch.save(result, out_dir / f"rank{rank}.pt")
    distributed.finish(launch)


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    torch.multiprocessing.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    return out, [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


def test_parameters_are_identical_across_ranks_after_every_step(ddp_runs):
    _, results = ddp_runs
    two = {"wgan_gp": 2, "dcgan": 2, "unfrozen": 2, "conditional_gan": 2, "pix2pix": 2}
    for name, steps in {"mlp": STEPS, "progan": results[0]["progan_steps"], **two}.items():
        spread = results[0]["spread"][name]
        assert len(spread) == steps, name
        assert max(spread) == 0.0, f"{name}: ranks differ by {max(spread)}"
    assert results[0]["progan_steps"] == 6  # 2 steps each: stable 4 x 4, fade-in, stable 8 x 8


def test_two_ranks_of_batch_b_equal_one_process_of_batch_2b(ddp_runs, monkeypatch):
    """The same real images and noise, split over 2 ranks or in one batch: the same parameters (float tolerance)."""
    _, results = ddp_runs
    monkeypatch.setattr(recipes, "_images", lambda cfg: TensorSampler(_images()))
    one = recipes.mlp_gan(MLP.replace(batch_size=2 * B), device=torch.device("cpu"))
    sampler = TensorSampler(_images())
    data = [torch.Generator().manual_seed(distributed.rank_seed(MLP.seed, r)) for r in range(2)]
    noise = [torch.Generator().manual_seed(distributed.rank_seed(MLP.seed + 1, r)) for r in range(2)]
    # rank r's images and noise, in the order rank r draws them, side by side in one batch
    one.real = lambda n, generator: torch.cat([sampler(n // 2, g) for g in data])
    one.sample_z = lambda n: torch.cat([torch.randn(n // 2, MLP.latent_dim, generator=g) for g in noise])
    one.train(progress=False)
    for net in ("generator", "discriminator"):
        ddp = results[0]["mlp"][net]
        for name, value in getattr(one, net).state_dict().items():
            torch.testing.assert_close(ddp[name], value, rtol=1e-4, atol=1e-5, msg=f"{net}.{name}")
    moved = (_flat(one.generator) - _flat(recipes.mlp_gan(MLP, device=torch.device("cpu")).generator)).abs().max()
    assert moved > 2e-3  # Adam moved weights by ~lr per step: the comparison is not between untrained networks


def test_raw_critic_gradients_with_the_penalty_of_two_ranks_of_b_equal_one_process_of_2b(ddp_runs, monkeypatch):
    """Loss and penalty are per-sample means, so DDP's average of 2 ranks' gradients is the 2B batch's gradient."""
    from gancourse.losses import WassersteinObjective

    _, results = ddp_runs
    monkeypatch.setattr(recipes, "_images", lambda cfg: TensorSampler(torch.zeros(8, 1, 16, 16)))
    one = recipes.wgan_gp(GP.replace(batch_size=2 * B), device=torch.device("cpu"))
    for name, value in one.discriminator.state_dict().items():  # the same seed: the critic both runs started from
        assert torch.equal(value, results[0]["gp_gradients"]["initial"][name]), name
    real, fake = _critic_batch()
    eps = torch.cat([result["gp_gradients"]["eps"] for result in results])  # (2B, 1, 1, 1): rank 0's rows first
    rand = torch.rand

    def penalty_eps(*shape, **kwargs):  # the penalty's one call: each rank's eps, side by side
        assert shape == tuple(eps.shape), shape
        return eps.to(kwargs.get("dtype") or eps.dtype)

    monkeypatch.setattr(torch, "rand", penalty_eps)
    expected = _critic_gradients(one, one.discriminator, real, fake)
    one.objective = WassersteinObjective()  # the same loss without the penalty
    without_penalty = _critic_gradients(one, one.discriminator, real, fake)
    monkeypatch.setattr(torch, "rand", rand)
    for result in results:
        averaged = result["gp_gradients"]["averaged"]  # identical on both ranks: DDP averaged them
        for name, value in expected.items():
            torch.testing.assert_close(averaged[name], value, rtol=1e-4, atol=1e-6, msg=name)
    for name, value in expected.items():  # the average of the ranks' own gradients, recomputed here
        mean = (results[0]["gp_gradients"]["own"][name] + results[1]["gp_gradients"]["own"][name]) / 2
        torch.testing.assert_close(mean, value, rtol=1e-4, atol=1e-6, msg=name)
    # the comparison can fail: a rank's own half-batch gradient and the one without the penalty both differ
    flat = lambda grads: torch.cat([g.flatten() for g in grads.values()])  # noqa: E731
    scale = flat(expected).abs().max()
    assert (flat(results[0]["gp_gradients"]["own"]) - flat(expected)).abs().max() > 1e-2 * scale
    assert (flat(without_penalty) - flat(expected)).abs().max() > 1e-2 * scale


def test_only_rank_0_writes_the_checkpoint_with_every_ranks_rng(ddp_runs):
    out, _ = ddp_runs
    assert (out / "full-rank0.pt").exists()
    assert not (out / "full-rank1.pt").exists()
    state = torch.load(out / "full-rank0.pt", weights_only=True)
    assert len(state["rank_rng"]) == 2
    assert not torch.equal(state["rank_rng"][0]["data_rng"], state["rank_rng"][1]["data_rng"])  # own streams


def test_an_interrupted_two_rank_run_resumes_exactly(ddp_runs):
    _, results = ddp_runs
    assert results[0]["resumed_history"] == results[0]["history"]  # the history is rank 0's (rank 1 logs nothing)
    for result in results:
        assert result["resumed_from"] == 2
        for net in ("generator", "discriminator"):
            for name, value in result["mlp"][net].items():
                assert torch.equal(result["resumed"][net][name], value), f"{net}.{name}"


def test_a_checkpoint_resumes_only_with_its_number_of_processes(ddp_runs, monkeypatch):
    out, _ = ddp_runs
    monkeypatch.setattr(recipes, "_images", lambda cfg: TensorSampler(_images()))
    path = out / "interrupted.pt"  # finished by the resumed run: 4 of 4 steps
    longer = recipes.mlp_gan(MLP.replace(steps=8), device=torch.device("cpu"), checkpoint_path=path)
    with pytest.raises(CheckpointError, match="written by 2 process"):
        longer.load()  # 4 more steps to train: the streams matter
    finished = recipes.mlp_gan(MLP, device=torch.device("cpu"), checkpoint_path=path)
    assert finished.load() == STEPS  # nothing left to train: loads anywhere


# --------------------------------------------------------------------------------------
# torchrun and the command line
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torchrun_cli(tmp_path_factory):
    out = tmp_path_factory.mktemp("torchrun") / "run"
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
        "-m", "gancourse", "train", "mlp_gan", "--mode", "quick", "--device", "cpu",
        "--set", "steps=3", "--set", "data_limit=128", "--set", "batch_size=4", "--set", "image_size=8",
        "--set", "hidden=16", "--set", "sample_every=1", "--out", str(out), "--no-eval", "--no-progress",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    return out, done


def test_torchrun_trains_with_the_command_line_and_rank_0_reports(torchrun_cli):
    out, done = torchrun_cli
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("step 3 of 3") == 1  # one report, from rank 0
    assert "2 processes (gloo, cpu)" in done.stdout
    assert sorted(p.name for p in (out / "samples").iterdir()) == [f"step_000000{i}.png" for i in (1, 2, 3)]
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] == 3 and len(state["rank_rng"]) == 2


def test_a_finished_two_rank_run_samples_in_one_process(torchrun_cli, tmp_path):
    from gancourse import cli

    out, done = torchrun_cli
    assert done.returncode == 0
    assert cli.main(["sample", str(out / "checkpoint.pt"), "-n", "4", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").exists()
