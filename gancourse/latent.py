"""Walking the latent space: interpolation and vector arithmetic on z.

Radford et al. 2015 (Sec. 6) show that a trained DCGAN's latent space is smooth
(walking between two z changes the image gradually, no sudden jumps: evidence
against memorisation) and that averaged z vectors support arithmetic
("smiling woman - neutral woman + neutral man = smiling man", Fig. 7).

For z ~ N(0, I) in many dimensions almost all mass lies near the sphere of radius
sqrt(d); a straight line between two samples passes closer to the origin, where
the generator saw few inputs. Spherical interpolation (White 2016, "Sampling
generative networks") stays on that shell.
"""

from __future__ import annotations

import torch


def _check(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> None:
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"z0 and z1 must be vectors of one shape, got {tuple(z0.shape)} and {tuple(z1.shape)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps = {steps!r} is out of range: allowed an integer >= 2")
    if z0.dtype != z1.dtype or z0.device != z1.device:
        raise ValueError(f"z0 ({z0.dtype}, {z0.device}) and z1 ({z1.dtype}, {z1.device}) must share dtype and device")
    for name, z in (("z0", z0), ("z1", z1)):
        if not bool(torch.isfinite(z).all()):
            raise ValueError(f"{name} holds NaN or infinite values: latent vectors must be finite")


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int = 8) -> torch.Tensor:
    """(steps, d): z0 + t (z1 - z0) for t evenly spaced in [0, 1]."""
    _check(z0, z1, steps)
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).unsqueeze(1)  # (steps, 1)
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int = 8) -> torch.Tensor:
    """(steps, d): spherical interpolation, sin((1-t)θ)/sin θ z0 + sin(tθ)/sin θ z1, θ the angle between them.

    Parallel vectors (θ ≈ 0) span no plane, and the arc is the straight line: :func:`lerp` is
    returned. Antiparallel vectors (θ ≈ π) have infinitely many great circles between them
    and the formula divides by sin θ ≈ 0, so they raise a ``ValueError``, as does a zero vector.
    """
    _check(z0, z1, steps)
    for name, z in (("z0", z0), ("z1", z1)):
        if z.norm() == 0:
            raise ValueError(f"{name} is the zero vector: it has no direction; slerp needs non-zero vectors")
    u0, u1 = z0 / z0.norm(), z1 / z1.norm()
    # θ = 2 atan2(|u0 - u1|, |u0 + u1|) (Kahan): accurate near 0 and π, where arccos(u0 · u1) is not
    theta = 2 * torch.atan2((u0 - u1).norm(), (u0 + u1).norm())
    if theta < 1e-4:  # parallel within rounding: the arc is the line
        return lerp(z0, z1, steps)
    if torch.pi - theta < 1e-4:
        raise ValueError(
            f"z0 and z1 are antiparallel (angle {theta.item():.6f} rad, within 1e-4 of pi): no unique arc joins them; "
            "use lerp, or interpolate through a third vector"
        )
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).unsqueeze(1)  # (steps, 1)
    return (torch.sin((1 - t) * theta) * z0 + torch.sin(t * theta) * z1) / torch.sin(theta)


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """a - b + c on latent vectors (each may be the mean of several z, as Radford et al. average three)."""
    if not a.shape == b.shape == c.shape:
        raise ValueError(f"a, b, c must have one shape, got {tuple(a.shape)}, {tuple(b.shape)}, {tuple(c.shape)}")
    return a - b + c
