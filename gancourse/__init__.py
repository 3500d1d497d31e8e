"""gancourse: the implementations behind *GANs with PyTorch, from zero to style transfer*.

Modules, from the bottom up: ``config`` (hyperparameters, run mode), ``checks``
(argument checks), ``device`` (device, seeding, precision), ``data`` (data sets, the
embedded copies in ``assets``), ``checkpoints``, ``models``, ``losses``, ``latent``,
``train`` (the GAN loop, the recipes, data-parallel training), ``metrics`` (FID, KID,
IS, coverage, the chapters' ``evaluate``), ``experiments`` (seed sweeps), ``style``
(neural style transfer), ``pretrained`` (the shipped reference models), ``cli``
(``python -m gancourse``), ``bench`` (benchmarks), and
for the chapters ``viz`` (figures), ``players`` (sliders for the static HTML),
``widgets`` (live forms), ``notebook`` and ``sphinxext``. See the README's Architecture.
Import the submodules you need; importing ``gancourse`` itself loads nothing heavy.
"""

__version__ = "0.1.0"
