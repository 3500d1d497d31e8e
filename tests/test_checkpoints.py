import random

import numpy as np
import pytest
import torch

from gancourse import checkpoints
from gancourse.models import TinyRegressor


def test_roundtrip_with_weights_only(tmp_path):
    model = TinyRegressor()
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    path = checkpoints.save_checkpoint(
        tmp_path / "a" / "run.pt",
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 7, "config": {"lr": 0.1}},
    )
    state = checkpoints.load_checkpoint(path)
    assert state["step"] == 7 and state["config"] == {"lr": 0.1}
    restored = TinyRegressor()
    restored.load_state_dict(state["model"])
    x = torch.randn(2, 3)
    assert torch.equal(restored(x), model(x))
    assert not (tmp_path / "a" / "run.pt.tmp").exists()


def test_rng_state_restores_every_generator(tmp_path):
    checkpoints.save_checkpoint(tmp_path / "rng.pt", {"rng": checkpoints.rng_state()})
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    checkpoints.set_rng_state(checkpoints.load_checkpoint(tmp_path / "rng.pt")["rng"])
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first


def test_missing_file(tmp_path):
    with pytest.raises(checkpoints.CheckpointError, match="nothing.pt does not exist"):
        checkpoints.load_checkpoint(tmp_path / "nothing.pt")


def test_garbage_file(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"this is not a checkpoint")
    with pytest.raises(checkpoints.CheckpointError, match="garbage.pt is not a readable checkpoint"):
        checkpoints.load_checkpoint(path)


def test_foreign_torch_file(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(checkpoints.CheckpointError, match="foreign.pt is not a gancourse checkpoint"):
        checkpoints.load_checkpoint(path)


def test_pickled_object_is_refused(tmp_path):
    path = tmp_path / "object.pt"
    torch.save({"format": checkpoints.FORMAT, "model": TinyRegressor()}, path)  # a whole module, not a state dict
    with pytest.raises(checkpoints.CheckpointError, match="object.pt is not a readable checkpoint"):
        checkpoints.load_checkpoint(path)
