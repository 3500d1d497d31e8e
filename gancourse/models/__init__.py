"""Networks of the book, one module per architecture family."""

from gancourse.models.conditional import ConditionalDiscriminator, ConditionalGenerator, check_labels
from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init
from gancourse.models.minibatch import MinibatchDiscrimination
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator, TinyRegressor
from gancourse.models.pix2pix import (
    NoiseDropout,
    PatchDiscriminator,
    UNetGenerator,
    receptive_field,
    receptive_field_steps,
)
from gancourse.models.progan import (
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    PixelNorm,
    ProDiscriminator,
    ProGenerator,
)
from gancourse.models.resnet import OptimizedBlock, ResBlock, ResidualBlock, ResNetCritic, ResNetGenerator
from gancourse.models.spectral import SpectralNorm, apply_spectral_norm, spectral_norm, spectral_norms
from gancourse.models.stylegan2 import (
    MappingNetwork,
    ModulatedConv2d,
    StyleGAN2Discriminator,
    StyleGAN2Generator,
    SynthesisNetwork,
)

__all__ = [
    # chapters 4 and 5
    "DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "TinyRegressor", "dcgan_init",
    # chapter 7
    "OptimizedBlock", "ResBlock", "ResidualBlock", "ResNetCritic", "ResNetGenerator",
    "SpectralNorm", "apply_spectral_norm", "spectral_norm", "spectral_norms",
    # chapter 8
    "ConditionalDiscriminator", "ConditionalGenerator", "check_labels",
    "NoiseDropout", "PatchDiscriminator", "UNetGenerator", "receptive_field", "receptive_field_steps",
    # chapter 9
    "EqualizedConv2d", "EqualizedLinear", "MinibatchStdDev", "PixelNorm", "ProDiscriminator", "ProGenerator",
    # chapter 12
    "MinibatchDiscrimination",
    # chapter 13
    "MappingNetwork", "ModulatedConv2d", "StyleGAN2Discriminator", "StyleGAN2Generator", "SynthesisNetwork",
]  # fmt: skip
