"""gancourse: the implementations behind *GANs with PyTorch, from zero to style transfer*.

Modules, from the bottom up: ``config`` (hyperparameters, run mode), ``device``
(device, seeding, precision), ``data``, ``checkpoints``, ``models``, ``losses``,
``latent``, ``train`` (the GAN trainer), ``metrics`` (FID, KID, IS, mode coverage),
``style`` (neural style transfer), ``bench`` (benchmarks), and for the chapters
``viz`` (figures), ``widgets`` (controls) and ``notebook``.
Import the submodules you need; importing ``gancourse`` itself loads nothing heavy.
"""

__version__ = "0.1.0"
