import pytest
import torch

from gancourse.models import DCGANDiscriminator, MinibatchDiscrimination, MLPDiscriminator


def test_output_shape_is_features_and_one_value_per_kernel():
    layer = MinibatchDiscrimination(in_features=12, kernels=7, kernel_dims=3)
    assert layer.T.shape == (12, 7, 3)
    x = torch.randn(5, 12)
    out = layer(x)
    assert out.shape == (5, 12 + 7)
    assert torch.equal(out[:, :12], x)  # the features pass through, o(x) is appended


def test_closeness_matches_the_papers_sum():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(4, 3, 2)
    x = torch.randn(6, 4)
    m = torch.einsum("na,abc->nbc", x, layer.T)
    expected = torch.zeros(6, 3)
    for i in range(6):
        for j in range(6):
            if j != i:
                expected[i] += torch.exp(-(m[i] - m[j]).abs().sum(dim=1))
    assert torch.allclose(layer.closeness(x), expected, atol=1e-6)


def test_a_collapsed_batch_stands_out():
    """n identical samples give o = n - 1 in every kernel (the maximum); a varied batch gives much less."""
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(16, 10, 5)
    n = 8
    collapsed = torch.randn(1, 16).expand(n, 16)
    varied = torch.randn(n, 16) * 3
    assert torch.allclose(layer.closeness(collapsed), torch.full((n, 10), n - 1.0))
    assert float(layer.closeness(varied).detach().max()) < 0.5 * (n - 1)


def test_bad_sizes_name_the_parameter():
    with pytest.raises(ValueError, match="kernels = 0 is out of range"):
        MinibatchDiscrimination(4, 0, 2)
    with pytest.raises(ValueError, match=r"features must have shape \(n, 4\)"):
        MinibatchDiscrimination(4, 2, 2).closeness(torch.zeros(3, 5))


@pytest.mark.parametrize(
    "make",
    [
        lambda k: MLPDiscriminator((2,), 32, n_hidden=2, minibatch_kernels=k),
        lambda k: DCGANDiscriminator(4, 16, norm="none", minibatch_kernels=k),
    ],
)
def test_discriminators_with_minibatch_discrimination_score_a_sample_by_its_batch(make):
    torch.manual_seed(0)
    d = make(6)
    shape = (2,) if isinstance(d, MLPDiscriminator) else (1, 16, 16)
    x = torch.randn(5, *shape)
    assert d(x).shape == (5,)
    assert not torch.allclose(d(x[:2]), d(x)[:2])  # the rest of the batch changes the score
    plain = make(0)
    assert plain.minibatch is None and torch.allclose(plain(x[:2]), plain(x)[:2])
    with pytest.raises(ValueError, match="minibatch_kernels = -1"):
        make(-1)
