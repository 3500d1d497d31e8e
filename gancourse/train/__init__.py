"""Training: the GAN loop, its recipes, and the supervised loop of chapter 3.

====================  ==================================================================================================
``loop.py``           :class:`GANTrainer`, the one GAN training loop of the book (:meth:`GANTrainer.train_step`: Alg. 1)
``updates.py``        one call per optimiser update (mixed precision), the frozen opponent
``ema.py``            :class:`GeneratorAverage`, the moving average of G's weights
``state.py``          the registry of stateful parts: checkpoints and atomic steps
``checkpointing.py``  save, load and state_dict over that registry
``guards.py``         :class:`TrainingDiverged` and the NaN/inf checks
``generation.py``     how a trainer samples (the average's batch-norm statistics)
``objectives.py``     the objective and optimisers a config asks for
``parallel.py``       :class:`OneProcess`: how the networks run (the default, one process)
``distributed.py``    :class:`DataParallel`: DistributedDataParallel under torchrun
``samplers.py``       where real batches come from (:class:`TensorSampler`)
``recipes.py``        one description per chapter's GAN (:data:`RECIPES`) and its builder
``recipe_parts.py``   what each recipe builds from its config alone: networks, objective, pairs
``sampling.py``       drawing samples from a generator, with or without its trainer
``cache.py``          :func:`load_or_train`: the model cache (a longer run continues a shorter one)
``paired.py``         pix2pix's trainer (an input image instead of noise)
``progressive.py``    ProGAN's trainer (growing resolution, fade-in)
``styled.py``         StyleGAN2's trainer (samples clipped to [-1, 1])
``supervised.py``     the plain supervised loop of the PyTorch-basics chapter
====================  ==================================================================================================

Everything is re-exported here: ``from gancourse.train import dcgan, load_or_train``.
"""

from gancourse.train import recipe_parts, sampling
from gancourse.train.cache import load_or_train
from gancourse.train.ema import GeneratorAverage
from gancourse.train.guards import TrainingDiverged
from gancourse.train.loop import GANTrainer, SchedulerFactory
from gancourse.train.objectives import build_objective, make_objective, make_optimizer
from gancourse.train.paired import Pix2PixTrainer
from gancourse.train.progressive import ProgressiveTrainer
from gancourse.train.recipes import (
    RECIPES,
    Recipe,
    class_rows,
    conditional_gan,
    dcgan,
    linear_decay,
    mlp_gan,
    pix2pix,
    progan,
    recipe_for_config,
    resnet_gan,
    seconds_per_step,
    stylegan2,
    toy_gan,
    wgan,
    wgan_gp,
)
from gancourse.train.samplers import RealSampler, RunData, TensorSampler
from gancourse.train.styled import StyleGAN2Trainer
from gancourse.train.supervised import RegressionRun, evaluate_regressor, train_regressor

__all__ = [
    "GANTrainer",
    "GeneratorAverage",
    "RECIPES",
    "Recipe",
    "Pix2PixTrainer",
    "ProgressiveTrainer",
    "RealSampler",
    "RegressionRun",
    "RunData",
    "StyleGAN2Trainer",
    "SchedulerFactory",
    "TensorSampler",
    "TrainingDiverged",
    "build_objective",
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
    "stylegan2",
    "toy_gan",
    "train_regressor",
    "wgan",
    "wgan_gp",
]
