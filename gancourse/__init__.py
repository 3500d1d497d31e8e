"""gancourse: the implementations behind *GANs with PyTorch, from zero to style transfer*.

Modules, from the bottom up: ``config`` (hyperparameters, run mode), ``checks``
(argument checks), ``device`` (device, seeding, precision), ``cache`` (the cache folder),
``checkpoints``, ``data`` (data sets; the embedded copies' files in ``assets``),
``models``, ``losses``, ``latent``, ``train`` (the GAN loop, the recipes, data-parallel
training), ``metrics`` (FID, KID, IS, coverage, the chapters' ``evaluate``),
``experiments`` (seed sweeps), ``style`` (neural style transfer), ``viz`` (figures),
``pretrained`` (the shipped reference models), ``players`` (sliders for the static HTML),
``widgets`` (live forms), ``cli`` (``python -m gancourse``), ``bench`` (benchmarks), and
for the chapters ``notebook`` and ``sphinxext``. See the README's Architecture
(``tests/test_architecture.py`` checks it).
Import the submodules you need; importing ``gancourse`` itself loads nothing heavy.
"""

__version__ = "0.1.0"
