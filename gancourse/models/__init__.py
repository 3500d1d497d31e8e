"""Networks of the book, one module per architecture family."""

from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator, TinyRegressor

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "TinyRegressor", "dcgan_init"]
