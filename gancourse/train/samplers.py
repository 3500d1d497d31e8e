"""Where a trainer's real batches come from: :class:`RealSampler`, :class:`TensorSampler`, and :class:`RunData`."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import torch


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
