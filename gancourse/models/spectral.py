"""Spectral normalisation (Miyato et al. 2018): every layer of D divided by its largest singular value.

A network's Lipschitz constant is at most the product of its layers' (Miyato et al., Eq. 7):
a linear layer h -> W h has constant sigma(W), the spectral norm (largest singular value),
and ReLU and leaky ReLU have constant 1. Dividing each weight by its spectral norm,

    W_SN = W / sigma(W)                                                  (Eq. 8)

bounds D's constant by 1: the constraint of WGAN without weight clipping or a gradient
penalty, and without a per-sample term (so batch size and the loss are unconstrained).
sigma(W) is estimated by the power iteration (Alg. 1), one step per forward pass with
the vector u kept between passes (W changes slowly, so one step keeps up):

    v <- W^T u / ||W^T u||,   u <- W v / ||W v||,   sigma(W) ~ u^T W v.

u and v are treated as constants in the gradient (Alg. 1 differentiates W / (u^T W v)
in W only). A convolution's weight (out, in, kh, kw) is read as the matrix
(out, in kh kw) (Sec. 2.1: "we reshape the kernel"), whose spectral norm bounds the
convolution's only loosely; the paper uses this reshaping and so does this code.

This is the book's own implementation, a parametrization (``torch.nn.utils.parametrize``)
so that ``layer.weight`` is W_SN while the optimiser trains the raw W; it mirrors
``torch.nn.utils.parametrizations.spectral_norm``, against which the tests check it. The
vectors u and v are buffers of the parametrization: they travel in ``state_dict()``, so a
checkpoint resumes with the same estimate. The iteration runs only in training mode; in
evaluation mode the stored u, v give sigma without updating them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from gancourse.checks import check_positive_int

#: The layers :func:`apply_spectral_norm` normalises: every weight matrix a discriminator has.
NORMALISED_LAYERS = (nn.Conv2d, nn.Linear)


class SpectralNorm(nn.Module):
    """The parametrization W -> W / sigma(W), sigma by ``n_power_iterations`` power-iteration steps per forward.

    ``shape`` is the weight's shape; ``eps`` keeps the normalisations finite for a zero
    weight. u (out,) and v (in kh kw,) start as normalised Gaussian draws from the global RNG.
    """

    def __init__(self, shape: torch.Size | tuple[int, ...], n_power_iterations: int = 1, eps: float = 1e-12) -> None:
        super().__init__()
        check_positive_int("n_power_iterations", n_power_iterations)
        if len(shape) < 2:
            raise ValueError(f"spectral normalisation needs a weight matrix or kernel, got shape {tuple(shape)}")
        rows, columns = shape[0], int(torch.Size(shape[1:]).numel())
        self.n_power_iterations, self.eps = n_power_iterations, eps
        self.register_buffer("u", F.normalize(torch.randn(rows), dim=0, eps=eps))  # (out,)
        self.register_buffer("v", F.normalize(torch.randn(columns), dim=0, eps=eps))  # (in kh kw,)

    @torch.no_grad()
    def power_iteration(self, matrix: torch.Tensor, steps: int) -> None:
        """``steps`` steps of Alg. 1 on ``matrix`` (out, in kh kw), updating the buffers u and v in place."""
        for _ in range(steps):
            self.v.copy_(F.normalize(matrix.T @ self.u, dim=0, eps=self.eps))  # v <- W^T u / ||W^T u||
            self.u.copy_(F.normalize(matrix @ self.v, dim=0, eps=self.eps))  # u <- W v / ||W v||

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        # in float32 even under autocast: the iteration's normalisations lose too much in bf16/fp16
        with torch.autocast(weight.device.type, enabled=False):
            matrix = weight.float().reshape(weight.shape[0], -1)  # (out, in kh kw)
            if self.training:
                self.power_iteration(matrix.detach(), self.n_power_iterations)
            # clones: a later forward updates the buffers in place, while this forward's graph still needs them
            u, v = self.u.clone(), self.v.clone()
            sigma = u @ matrix @ v  # u^T W v, differentiable in W only
            return (weight.float() / sigma).to(weight.dtype)


def spectral_norm(layer: nn.Module, n_power_iterations: int = 1, name: str = "weight") -> nn.Module:
    """Register :class:`SpectralNorm` on ``layer.<name>`` and return ``layer`` (its weight is now W / sigma(W)).

    The raw weight moves to ``layer.parametrizations.<name>.original``; u and v are at
    ``layer.parametrizations.<name>[0].u`` / ``.v``.
    """
    weight = getattr(layer, name, None)
    if not isinstance(weight, torch.Tensor):
        raise ValueError(f"{type(layer).__name__} has no tensor {name!r} to normalise")
    if parametrize.is_parametrized(layer, name):
        raise ValueError(f"{type(layer).__name__}.{name} is already parametrized: normalise a layer once")
    parametrization = SpectralNorm(weight.shape, n_power_iterations).to(weight.device)
    # a first power-iteration step from W itself, so that sigma is meaningful from the first forward
    parametrization.power_iteration(weight.detach().float().reshape(weight.shape[0], -1), 1)
    parametrize.register_parametrization(layer, name, parametrization)
    return layer


def apply_spectral_norm(net: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Spectrally normalise every :data:`NORMALISED_LAYERS` layer of ``net`` in place (Miyato et al.: all of D's).

    Returns ``net``. Call it after the weights are initialised: the normalisation divides
    whatever W the layer holds.
    """
    layers = [m for m in net.modules() if isinstance(m, NORMALISED_LAYERS)]
    if not layers:
        raise ValueError(f"{type(net).__name__} has no convolution or linear layer to normalise")
    for layer in layers:
        spectral_norm(layer, n_power_iterations)
    return net


def spectral_norms(net: nn.Module) -> list[float]:
    """sigma of every normalised layer's effective weight W / (u^T W v), in order: each is 1 once u has converged.

    Exact singular values (``torch.linalg.matrix_norm(ord=2)`` of the reshaped weight), computed from the
    raw weight and the stored u, v: reading ``layer.weight`` in training mode would step the iteration.
    """
    norms = []
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, NORMALISED_LAYERS) and parametrize.is_parametrized(m, "weight"):
                parametrization = m.parametrizations.weight
                matrix = parametrization.original.float().reshape(parametrization.original.shape[0], -1)
                estimate = parametrization[0].u @ matrix @ parametrization[0].v
                norms.append(float(torch.linalg.matrix_norm(matrix / estimate, ord=2)))
    return norms
