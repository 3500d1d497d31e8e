import random

import numpy as np
import pytest
import torch

from gancourse import device


def test_pick_device_prefers_accelerators():
    chosen = device.pick_device()
    if torch.cuda.is_available():
        assert chosen.type == "cuda"
    elif torch.backends.mps.is_available():
        assert chosen.type == "mps"
    else:
        assert chosen.type == "cpu"
    assert device.pick_device("cpu") == torch.device("cpu")


def test_pick_device_rejects_unknown_and_unavailable():
    with pytest.raises(ValueError, match="prefer = 'gpu0' is not a device name: allowed cuda, mps, cpu"):
        device.pick_device("gpu0")
    with pytest.raises(ValueError, match="prefer = 'meta' is not a device type: allowed cuda, mps, cpu"):
        device.pick_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="prefer = 'cuda' is not available on this machine: available"):
            device.pick_device("cuda")


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_seed_everything_reproduces_every_generator():
    device.seed_everything(123)
    first = draws()
    device.seed_everything(123)
    assert draws() == first
    device.seed_everything(124)
    assert draws() != first


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed = .* is out of range: allowed an integer 0 <= seed < 2\\*\\*32"):
        device.seed_everything(bad)


def test_autocast_is_a_no_op_on_cpu():
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    with device.autocast("cpu"):
        product = a @ b
    assert product.dtype == torch.float32
    assert torch.equal(product, a @ b)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_autocast_lowers_precision_on_cuda():
    a = torch.randn(4, 4, device="cuda")
    with device.autocast("cuda"):
        assert (a @ a).dtype in (torch.bfloat16, torch.float16)
    with device.autocast("cuda", enabled=False):
        assert (a @ a).dtype == torch.float32


def test_describe_device_names_the_choice():
    text = device.describe_device(torch.device("cpu"))
    assert "PyTorch " + torch.__version__ in text and "chosen device: cpu" in text


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "", 1.5, ["cpu"]])
def test_pick_device_names_the_allowed_devices(bad):
    with pytest.raises(ValueError, match=r"is not a device name: allowed cuda, mps, cpu \(e.g. 'cuda:1'\)"):
        device.pick_device(bad)
