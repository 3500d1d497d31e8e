"""Count the FLOPs of one training step: the measurement behind ``gancourse.config.budget.MEASURED``.

``python -m gancourse.bench.budget dcgan`` builds the recipe at its paper settings (on a few
hundred images, which does not change a step's cost), runs one ``trainer.advance()`` on the CPU
inside ``torch.utils.flop_counter.FlopCounterMode`` and prints the GFLOP. The counter cannot follow
a double backward: count a gradient-penalty critic with ``gp_weight=0`` (the budget multiplies it).
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.flop_counter import FlopCounterMode

from gancourse.config import GANConfig
from gancourse.train.recipes import RECIPES


def count_gflop(recipe: str, cfg: GANConfig | None = None) -> float:
    """GFLOP of one generator step (with its ``n_critic`` critic steps) of ``recipe`` at ``cfg`` (default: paper)."""
    cfg = cfg or RECIPES[recipe].config()
    if hasattr(cfg, "data_limit") and cfg.data_limit == 0:
        cfg = cfg.replace(data_limit=512)
    trainer = RECIPES[recipe].build(cfg, device=torch.device("cpu"))
    trainer.atomic_steps = False
    with FlopCounterMode(display=False) as counter:
        trainer.advance()
    return counter.get_total_flops() / 1e9


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", choices=sorted(RECIPES))
    args = parser.parse_args(argv)
    print(f"{args.recipe}: {count_gflop(args.recipe):.3f} GFLOP a step at the paper settings")


if __name__ == "__main__":
    main()
