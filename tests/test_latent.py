import math

import pytest
import torch

from gancourse import latent


def test_lerp_endpoints_and_midpoint():
    z0, z1 = torch.zeros(4), torch.ones(4)
    path = latent.lerp(z0, z1, 5)
    assert path.shape == (5, 4)
    assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    assert torch.allclose(path[2], torch.full((4,), 0.5))


def test_slerp_keeps_the_norm_between_orthogonal_unit_vectors():
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    path = latent.slerp(z0, z1, 9)
    assert torch.allclose(path.norm(dim=1), torch.ones(9), atol=1e-6)
    assert torch.allclose(path[0], z0, atol=1e-6) and torch.allclose(path[-1], z1, atol=1e-6)
    assert torch.allclose(path[4], torch.tensor([2**-0.5, 2**-0.5]), atol=1e-6)
    assert latent.lerp(z0, z1, 9)[4].norm() < 0.75  # the straight line cuts inside the sphere


def test_slerp_of_parallel_vectors_is_the_line():
    z = torch.tensor([1.0, 2.0])
    assert torch.allclose(latent.slerp(z, 2 * z, 3), latent.lerp(z, 2 * z, 3))


def test_arithmetic_and_bad_inputs():
    a, b, c = torch.tensor([3.0]), torch.tensor([1.0]), torch.tensor([2.0])
    assert latent.arithmetic(a, b, c).item() == 4.0
    with pytest.raises(ValueError, match="steps = 1 is out of range"):
        latent.lerp(a, b, 1)
    with pytest.raises(ValueError, match="z0 and z1 must be vectors of one shape"):
        latent.slerp(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match="a, b, c must have one shape"):
        latent.arithmetic(torch.zeros(2), torch.zeros(2), torch.zeros(3))


@pytest.mark.parametrize(
    "z0, z1, steps, message",
    [
        (torch.zeros(4), torch.ones(4), 5, "z0 is the zero vector"),
        (torch.tensor([1.0, float("nan"), 0, 0]), torch.ones(4), 5, "z0 holds NaN or infinite"),
        (torch.ones(4), torch.tensor([float("inf"), 0, 0, 0]), 5, "z1 holds NaN or infinite"),
        (torch.ones(4), torch.ones(4), 2.5, r"steps = 2.5 is out of range: allowed an integer >= 2"),
        (torch.ones(4, dtype=torch.float64), torch.ones(4), 5, "must share dtype and device"),
    ],
)
def test_slerp_refuses_inputs_that_would_give_nan_or_crash(z0, z1, steps, message):
    with pytest.raises(ValueError, match=message):
        latent.slerp(z0, z1, steps)
    if "zero vector" not in message:
        with pytest.raises(ValueError, match=message):
            latent.lerp(z0, z1, steps)


def test_slerp_of_antiparallel_vectors_raises_instead_of_dividing_by_zero():
    z = torch.tensor([1.0, 2.0, -0.5])
    with pytest.raises(ValueError, match="z0 and z1 are antiparallel"):
        latent.slerp(z, -3 * z)
    with pytest.raises(ValueError, match="non-zero vectors"):
        latent.slerp(z, torch.zeros(3))
    # near, but not at, antiparallel the path is finite and keeps the norm of unit endpoints
    angle = math.pi - 1e-2
    u0, u1 = torch.tensor([1.0, 0.0]), torch.tensor([math.cos(angle), math.sin(angle)])
    path = latent.slerp(u0, u1, 5)
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path.norm(dim=1), torch.ones(5), atol=1e-4, rtol=0)
    torch.testing.assert_close(path[-1], u1, atol=1e-4, rtol=0)
