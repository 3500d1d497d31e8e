"""Networks of the book, one module per architecture family."""

from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator, TinyRegressor

# ---- chapter 6-7 model imports (WGAN critic, ResNet GAN) go below this line ----

# ---- chapter 8 model imports (conditional GAN, pix2pix) go below this line ----

# ---- chapter 9 model imports (ProGAN) go below this line ----

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "TinyRegressor", "dcgan_init"]
# ---- extend __all__ below this line, one `__all__ += [...]` per chapter ----
