"""The FID Inception network: the TensorFlow graph of Heusel et al. (2017) as ported by pytorch-fid.

Published FIDs (Heusel et al. 2017, and the papers that followed them) are computed with
the TensorFlow Inception graph ``inception-2015-12-05``, not with torchvision's
ImageNet InceptionV3: its weights differ, and so do three kinds of blocks. pytorch-fid
(Seitzer 2020) ports that graph to PyTorch: torchvision's InceptionV3 with 1008 classes,
whose Mixed_5b-d, Mixed_6b-e and Mixed_7b-c blocks are replaced by ``FIDInceptionA``,
``FIDInceptionC``, ``FIDInceptionE_1`` and ``FIDInceptionE_2`` (TensorFlow's average pool
leaves the padding out of its average; the last block max-pools instead). This module
builds that network from pytorch-fid's blocks, and fetches its weights with a checked
sha256 into gancourse's cache (``cache_dir() / "metrics"``) rather than through
``torch.hub``, whose download pytorch-fid's ``fid_inception_v3()`` would start unchecked.

The file's sha256 is the one the file's name begins with (torch hub's convention,
``...-6726825d.pth``), as published with the file's size, 95,628,359 bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from pytorch_fid.inception import FID_WEIGHTS_URL as PYTORCH_FID_URL
from pytorch_fid.inception import FIDInceptionA, FIDInceptionC, FIDInceptionE_1, FIDInceptionE_2
from torchvision.models.inception import Inception3, inception_v3

from gancourse.cache import cache_dir
from gancourse.data.files import download

# read at call time, so that tests serve a locally made file instead (monkeypatch.setattr)
FID_WEIGHTS_URL = PYTORCH_FID_URL
FID_WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
FID_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
FID_CLASSES = 1008  # the TensorFlow graph's 1,008 outputs (1,000 ImageNet classes and 8 unused)


def fid_inception_v3() -> Inception3:
    """pytorch-fid's ``fid_inception_v3()`` without its download: the FID Inception network, untrained.

    torchvision's InceptionV3 (no auxiliary classifier, no input transform) with the
    blocks of the TensorFlow graph in place of torchvision's, exactly as pytorch-fid
    assembles it; load the weights with :func:`load_fid_weights`.
    """
    net = inception_v3(weights=None, num_classes=FID_CLASSES, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


def fid_weights_path() -> Path:
    """Where the weights are cached: ``cache_dir() / "metrics" / pt_inception-2015-12-05-6726825d.pth``."""
    return cache_dir() / "metrics" / FID_WEIGHTS_FILE


def load_fid_weights(path: str | os.PathLike | None = None) -> dict[str, torch.Tensor]:
    """The FID Inception state dict: downloaded once from pytorch-fid's release (sha256-checked), then cached.

    A cached file with the right sha256 is used without a download; a download whose
    sha256 differs is never saved (:class:`gancourse.data.DataError` names both hashes).
    ``path`` overrides the cache location (a copy fetched by hand is checked the same way).
    The file is loaded with ``weights_only=True``, which runs no pickled code.
    """
    target = download(FID_WEIGHTS_URL, Path(path) if path is not None else fid_weights_path(), FID_WEIGHTS_SHA256)
    return torch.load(target, map_location="cpu", weights_only=True)
