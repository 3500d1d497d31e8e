import pytest
import torch
from torch import nn

from gancourse.models import DCGANDiscriminator, PatchDiscriminator, ResidualBlock, ResNetCritic
from gancourse.models.layers import NORMS, has_shift, n_doublings, norm_layer


@pytest.mark.parametrize(
    "name, kind",
    [("batch", nn.BatchNorm2d), ("layer", nn.GroupNorm), ("instance", nn.InstanceNorm2d), ("none", nn.Identity)],
)
def test_norm_layer_by_name(name, kind):
    layer = norm_layer(name)(6)
    assert isinstance(layer, kind)
    assert has_shift(layer) == (name != "none")  # every norm but none has a learnt per-channel shift
    assert layer(torch.randn(2, 6, 4, 4)).shape == (2, 6, 4, 4)


def test_layer_norm_is_one_group_and_instance_norm_is_affine():
    assert norm_layer("layer")(8).num_groups == 1
    assert norm_layer("instance")(8).affine


def test_a_callable_is_used_as_it_is():
    def four_groups(c: int) -> nn.Module:
        return nn.GroupNorm(4, c)

    assert norm_layer(four_groups) is four_groups
    d = DCGANDiscriminator(4, 16, norm=four_groups)
    groups = [m for m in d.modules() if isinstance(m, nn.GroupNorm)]
    assert len(groups) == 1 and groups[0].num_groups == 4 and groups[0].num_channels == 8
    assert d(torch.randn(2, 1, 16, 16)).shape == (2,)
    block = ResidualBlock(8, norm=four_groups)
    assert sum(isinstance(m, nn.GroupNorm) for m in block.modules()) == 2
    patch = PatchDiscriminator(2, 4, 2, norm=nn.InstanceNorm2d)
    assert patch(torch.zeros(1, 1, 32, 32), torch.zeros(1, 1, 32, 32)).ndim == 3


def test_a_callable_batch_norm_is_refused_in_the_resnet_critic():
    with pytest.raises(ValueError, match="not allowed in the critic"):
        ResNetCritic(8, 32, norm=nn.BatchNorm2d)
    assert ResNetCritic(8, 32, norm=lambda c: nn.GroupNorm(2, c))(torch.randn(2, 1, 32, 32)).shape == (2,)


def test_bad_names_list_the_allowed_ones():
    with pytest.raises(ValueError, match="norm = 'group' is not allowed: choose one of " + ", ".join(map(repr, NORMS))):
        norm_layer("group")
    with pytest.raises(ValueError, match="critic_norm = 'instance' is not allowed: choose one of 'layer', 'none'"):
        norm_layer("instance", allowed=("layer", "none"), name="critic_norm")


@pytest.mark.parametrize("size, doublings", [(16, 2), (32, 3), (64, 4), (128, 5)])
def test_n_doublings(size, doublings):
    assert n_doublings(size) == doublings
    assert 4 * 2**doublings == size


@pytest.mark.parametrize("size", [8, 24, 256, 32.0, True])
def test_n_doublings_refuses_other_sizes(size):
    allowed = "allowed values are 16, 32, 64, 128"
    with pytest.raises(ValueError, match=f"image_size = {size!r} is not supported: .* {allowed}"):
        n_doublings(size)
