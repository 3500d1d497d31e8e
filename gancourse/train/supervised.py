"""The plain supervised loop of the PyTorch-basics chapter (chapter 3).

Forward pass, loss, ``zero_grad``, ``backward``, optimizer ``step``: the cycle that
every GAN update in the book repeats twice.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from gancourse.config import RegressionConfig
from gancourse.data import regression_data
from gancourse.device import pick_device, seed_everything
from gancourse.models import TinyRegressor


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
