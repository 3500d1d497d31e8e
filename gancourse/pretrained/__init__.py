"""Reference models: GANs trained by the book's own code on a CPU, shipped with the package, verified in CI.

Every chapter's own run is a one-minute quick run; next to it the chapter
shows the *reference* run of the same GAN, trained once for up to about 20 minutes by
``python -m gancourse.pretrained train NAME`` and shipped as fp16 generator weights
(``weights/NAME.pt``) with a manifest (``manifest.json``: sha256, config, provenance,
metrics next to the real-data floor). Loading checks the sha256; CI recomputes each
model's n = 1,000 score from the shipped file (``python -m gancourse.pretrained verify``).

::

    from gancourse import pretrained
    pretrained.show("dcgan_mnist")                    # a grid + metrics vs floor, "loaded, not retrained"
    images = pretrained.samples("dcgan_mnist", 64, seed=0)
    generator = pretrained.load("dcgan_mnist")         # the nn.Module, sha256-checked
    state = pretrained.load_from_url(url, sha256)      # a larger model published elsewhere

The runs and their settings are in :mod:`gancourse.pretrained.registry`.
"""

from gancourse.pretrained.files import WeightsError, load_from_url
from gancourse.pretrained.reference import (
    NotShipped,
    Verified,
    entry,
    load,
    samples,
    show,
    summary,
    train,
    verify,
)
from gancourse.pretrained.registry import REFERENCES, Reference, UnknownReference, get

__all__ = [
    "REFERENCES",
    "NotShipped",
    "Reference",
    "UnknownReference",
    "Verified",
    "WeightsError",
    "entry",
    "get",
    "load",
    "load_from_url",
    "samples",
    "show",
    "summary",
    "train",
    "verify",
]
