"""Hyperparameters as frozen dataclasses, and the quick/full/paper run mode.

Every experiment in the book is described by one frozen dataclass derived from
:class:`Config` (``base.py``, the machinery: fields declared with :func:`param`
carry their range, which validation, the widgets and the command line all use).
The configs themselves live beside it, one file per group of chapters:

=================  =============================================================
``basics.py``      chapter 1's two densities, chapter 3's regressor, image data sets
``gan.py``         chapters 4-5: what every GAN shares, toy GAN, MLP GAN, DCGAN
``wgan.py``        chapters 6-7: WGAN, WGAN-GP, the ResNet GAN
``conditional.py`` chapter 8: class-conditional GAN, pix2pix
``progan.py``      chapter 9: ProGAN's growth schedule
``style.py``       chapter 10: neural style transfer
``evaluation.py``  chapters 5-11: how generators are scored; the domain classifier
``stabilising.py`` chapter 12: the budget of the comparison of stabilisation tricks
``stylegan2.py``   chapter 13: StyleGAN2
``budget.py``      how long each chapter trains in full and paper mode on a T4 (one table)
=================  =============================================================

Everything is re-exported here: ``from gancourse.config import DCGANConfig``.
"""

from gancourse.config import budget
from gancourse.config.base import MODE_ENV, MODES, SMOKE_ENV, Config, param, run_mode, smoke, sweep
from gancourse.config.basics import (
    DATASETS,
    IMAGE_DATASETS,
    LABELLED_DATASETS,
    DataConfig,
    GaussianPair1D,
    RegressionConfig,
)
from gancourse.config.conditional import ConditionalGANConfig, ConditionalSampleConfig, Pix2PixConfig
from gancourse.config.evaluation import ClassifierConfig, CurveConfig, EvalConfig
from gancourse.config.gan import DCGANConfig, GANConfig, LatentArithmeticConfig, MLPGANConfig, ToyGANConfig
from gancourse.config.progan import ABLATIONS, ProGANConfig, ProGANPhase, ablation_configs
from gancourse.config.stabilising import StabilisationConfig
from gancourse.config.style import CONTENT_LAYERS, STYLE_LAYERS, VGG19_LAYERS, StyleConfig
from gancourse.config.stylegan2 import StyleGAN2Config
from gancourse.config.wgan import ResNetGANConfig, WGANConfig, WGANGPConfig

__all__ = [
    "ABLATIONS",
    "CONTENT_LAYERS",
    "DATASETS",
    "IMAGE_DATASETS",
    "LABELLED_DATASETS",
    "MODES",
    "MODE_ENV",
    "SMOKE_ENV",
    "STYLE_LAYERS",
    "VGG19_LAYERS",
    "ClassifierConfig",
    "Config",
    "ConditionalGANConfig",
    "ConditionalSampleConfig",
    "CurveConfig",
    "DCGANConfig",
    "DataConfig",
    "EvalConfig",
    "GANConfig",
    "GaussianPair1D",
    "LatentArithmeticConfig",
    "MLPGANConfig",
    "Pix2PixConfig",
    "ProGANConfig",
    "ProGANPhase",
    "RegressionConfig",
    "StabilisationConfig",
    "ResNetGANConfig",
    "StyleConfig",
    "StyleGAN2Config",
    "ToyGANConfig",
    "WGANConfig",
    "WGANGPConfig",
    "ablation_configs",
    "budget",
    "param",
    "run_mode",
    "smoke",
    "sweep",
]
