"""Multi-layer perceptrons: the smallest networks of the book.

``TinyRegressor`` is the 3 -> 20 -> 1 network of the PyTorch-basics chapter: one
hidden layer with a ReLU, enough to fit a smooth function of three inputs
(a one-hidden-layer network is a universal approximator, Hornik et al. 1989).
"""

from __future__ import annotations

import torch
from torch import nn


class TinyRegressor(nn.Module):
    """x (B, in_features) -> y (B, out_features) through one hidden ReLU layer."""

    def __init__(self, in_features: int = 3, hidden: int = 20, out_features: int = 1) -> None:
        super().__init__()  # registers the parameters of the layers assigned below
        for name, value in (("in_features", in_features), ("hidden", hidden), ("out_features", out_features)):
            if value < 1:
                raise ValueError(f"{name} = {value} is out of range: allowed {name} >= 1")
        self.hidden = nn.Linear(in_features, hidden)  # weight (hidden, in), bias (hidden,)
        self.output = nn.Linear(hidden, out_features)  # weight (out, hidden), bias (out,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(torch.relu(self.hidden(x)))
