"""gancourse.train.samplers: real minibatches drawn uniformly with replacement from a seeded generator."""

import dataclasses

import pytest
import torch

from gancourse.train.samplers import RunData, TensorSampler


def test_tensor_sampler_draws_the_indices_of_randint():
    data, labels = torch.arange(10.0).view(10, 1) * 2, torch.arange(10)
    real, condition = TensorSampler(data, labels)(25, torch.Generator().manual_seed(4))  # more than len: replacement
    index = torch.randint(10, (25,), generator=torch.Generator().manual_seed(4))  # recomputed independently
    assert torch.equal(real, data[index]) and torch.equal(condition, labels[index])
    assert torch.equal(TensorSampler(data)(25, torch.Generator().manual_seed(4)), data[index])


def test_tensor_sampler_refuses_empty_or_unpaired_data():
    with pytest.raises(ValueError, match="data is empty"):
        TensorSampler(torch.zeros(0, 2))
    with pytest.raises(ValueError, match="condition has 2 entries but data has 3"):
        TensorSampler(torch.zeros(3, 2), torch.zeros(2))


def test_run_data_is_frozen_with_defaults():
    data = RunData()
    assert data.channels == 1 and data.classes == () and data.mixture is None and data.fixed_target is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.channels = 3
