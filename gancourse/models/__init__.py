"""Networks of the book, one module per architecture family."""

from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator, TinyRegressor

# ---- chapter 6-7 model imports (WGAN critic, ResNet GAN) go below this line ----
from gancourse.models.resnet import OptimizedBlock, ResBlock, ResidualBlock, ResNetCritic, ResNetGenerator

# ---- chapter 8 model imports (conditional GAN, pix2pix) go below this line ----
from gancourse.models.conditional import ConditionalDiscriminator, ConditionalGenerator, check_labels
from gancourse.models.pix2pix import NoiseDropout, PatchDiscriminator, UNetGenerator, receptive_field, receptive_field_steps

# ---- chapter 9 model imports (ProGAN) go below this line ----
from gancourse.models.progan import (
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    PixelNorm,
    ProDiscriminator,
    ProGenerator,
)

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "TinyRegressor", "dcgan_init"]
# ---- extend __all__ below this line, one `__all__ += [...]` per chapter ----
__all__ += ["EqualizedConv2d", "EqualizedLinear", "MinibatchStdDev", "PixelNorm", "ProDiscriminator", "ProGenerator"]
__all__ += ["OptimizedBlock", "ResBlock", "ResidualBlock", "ResNetCritic", "ResNetGenerator"]
__all__ += ["ConditionalDiscriminator", "ConditionalGenerator", "check_labels", "NoiseDropout", "PatchDiscriminator", "UNetGenerator", "receptive_field", "receptive_field_steps"]
