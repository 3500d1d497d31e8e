"""Training: the GAN loop, its recipes, and the supervised loop of chapter 3.

===================  =======================================================================================
``loop.py``          :class:`GANTrainer`, the one GAN training loop of the book
``recipes.py``       one description per chapter's GAN (:data:`RECIPES`), its builder, :func:`load_or_train`
``recipe_parts.py``  what each recipe builds from its config alone: networks, objective, pairs
``sampling.py``      drawing samples from a generator, with or without its trainer
``paired.py``        pix2pix's trainer (an input image instead of noise)
``progressive.py``   ProGAN's trainer (growing resolution, fade-in)
``supervised.py``    the plain supervised loop of the PyTorch-basics chapter
===================  =======================================================================================

Everything is re-exported here: ``from gancourse.train import dcgan, load_or_train``.
"""

from gancourse.train import recipe_parts, sampling
from gancourse.train.loop import (
    GANTrainer,
    RealSampler,
    RunData,
    SchedulerFactory,
    TensorSampler,
    TrainingDiverged,
    make_objective,
    make_optimizer,
)
from gancourse.train.paired import Pix2PixTrainer
from gancourse.train.progressive import ProgressiveTrainer
from gancourse.train.recipes import (
    RECIPES,
    Recipe,
    class_rows,
    conditional_gan,
    dcgan,
    linear_decay,
    load_or_train,
    mlp_gan,
    pix2pix,
    progan,
    recipe_for_config,
    resnet_gan,
    seconds_per_step,
    toy_gan,
    wgan,
    wgan_gp,
)
from gancourse.train.supervised import RegressionRun, evaluate_regressor, train_regressor

__all__ = [
    "GANTrainer",
    "RECIPES",
    "Recipe",
    "Pix2PixTrainer",
    "ProgressiveTrainer",
    "RealSampler",
    "RegressionRun",
    "RunData",
    "SchedulerFactory",
    "TensorSampler",
    "TrainingDiverged",
    "class_rows",
    "conditional_gan",
    "dcgan",
    "evaluate_regressor",
    "linear_decay",
    "load_or_train",
    "make_objective",
    "make_optimizer",
    "mlp_gan",
    "pix2pix",
    "progan",
    "recipe_for_config",
    "recipe_parts",
    "resnet_gan",
    "sampling",
    "seconds_per_step",
    "toy_gan",
    "train_regressor",
    "wgan",
    "wgan_gp",
]
