"""VGG19 feature taps by layer name, for style transfer (Gatys, Ecker & Bethge 2016).

Gatys et al. describe an image by the responses of the 16 convolutional layers
of VGG19 (Simonyan & Zisserman 2015, configuration E), named ``convX_Y`` (block
X, layer Y). As in their Caffe model, whose ReLUs work in place, the response
of ``convX_Y`` is taken *after* its ReLU. Two details of the paper (Sec. 2):

* the fully connected layers are not used, and here the convolutional stack is
  also cut after the deepest layer a run needs, which saves most of the compute
  when only shallow layers are tapped;
* max pooling may be replaced by average pooling, which the authors found to
  give "slightly more appealing results" (``pooling="avg"``).

Inputs are RGB images in [0, 1]; the ImageNet mean and standard deviation that
torchvision's weights were trained with are applied inside the module.

Weights: torchvision's ImageNet VGG19 (downloaded once into torch's cache,
``$TORCH_HOME``, default ``~/.cache/torch``). When they cannot be loaded (no
network, say) :func:`vgg19_features` says so and uses random weights drawn with
a fixed seed, as torchvision initialises VGG (He et al. 2015, fan-out).
Ustyuzhaninov et al. (2017) showed that random filters still capture texture,
though not ImageNet semantics; ``extractor.weights`` records which was used so
that every figure can say so.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from gancourse.checks import check_int
from gancourse.config.style import VGG19_LAYERS
from gancourse.data.files import offline

#: Output channels of each VGG19 convolution, "M" marking a 2x2 pooling (configuration E).
VGG19_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHTS = ("imagenet", "random")
_DOWNLOAD_TIMEOUT_S = 30  # per socket operation: a blocked host fails instead of hanging


class CorruptWeights(RuntimeError):
    """The cached pretrained weights exist but cannot be read; the message names the file to delete."""


def vgg19_layers(depth: int, pooling: str = "max") -> tuple[nn.Sequential, dict[str, int]]:
    """The first ``depth`` convolutions of VGG19 with their ReLUs and poolings.

    Returns the ``nn.Sequential`` (laid out exactly like torchvision's
    ``vgg19().features``, so its state-dict keys match) and, per layer name, the
    index of the module whose output is that layer's rectified response.
    """
    check_int("depth", depth, 1, len(VGG19_LAYERS))
    if pooling not in ("max", "avg"):
        raise ValueError(f"pooling = {pooling!r} is not allowed: choose 'max' or 'avg'")
    modules: list[nn.Module] = []
    taps: dict[str, int] = {}
    in_channels, n_conv = 3, 0
    for item in VGG19_CFG:
        if n_conv == depth:
            break
        if item == "M":
            modules.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
            continue
        modules += [nn.Conv2d(in_channels, item, kernel_size=3, padding=1), nn.ReLU(inplace=False)]
        taps[VGG19_LAYERS[n_conv]] = len(modules) - 1  # the ReLU's output
        in_channels, n_conv = item, n_conv + 1
    return nn.Sequential(*modules), taps


class VGGFeatures(nn.Module):
    """Responses of named VGG19 layers to RGB images in [0, 1]: ``{name: (B, C_l, H_l, W_l)}``.

    Only the convolutions up to the deepest of ``layers`` are built, and a
    forward pass stops at the deepest layer it is asked for. The parameters are
    frozen: style transfer optimises the image, never the network.
    """

    def __init__(self, layers: Iterable[str], pooling: str = "max", weights: str = "random", seed: int = 0) -> None:
        super().__init__()
        self.layers = tuple(dict.fromkeys(layers))
        unknown = [layer for layer in self.layers if layer not in VGG19_LAYERS]
        if not self.layers or unknown:
            raise ValueError(f"layers = {layers!r} must name layers among {', '.join(VGG19_LAYERS)}")
        if weights not in WEIGHTS:
            raise ValueError(f"weights = {weights!r} is not allowed: choose 'imagenet' or 'random'")
        depth = max(VGG19_LAYERS.index(layer) for layer in self.layers) + 1
        self.features, self.taps = vgg19_layers(depth, pooling)
        self.pooling, self.weights, self.seed = pooling, weights, seed
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        if weights == "random":
            generator = torch.Generator().manual_seed(seed)  # fixed filters, global RNG untouched
            for m in self.features:
                if isinstance(m, nn.Conv2d):  # torchvision's VGG initialisation
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=generator)
                    nn.init.zeros_(m.bias)
        self.requires_grad_(False)
        self.eval()

    def load_features_state(self, state: Mapping[str, torch.Tensor]) -> None:
        """Copy ``features.*`` tensors of a torchvision VGG19 state dict into the built layers."""
        own = self.features.state_dict()
        missing = [k for k in own if f"features.{k}" not in state]
        if missing:
            raise KeyError(f"the state dict lacks features.{missing[0]} (is it a VGG19?)")
        self.features.load_state_dict({k: state[f"features.{k}"] for k in own})

    def with_pooling(self, pooling: str) -> VGGFeatures:
        """The same network with other pooling layers (pooling has no weights, so nothing else changes)."""
        twin = VGGFeatures(self.layers, pooling=pooling, weights="random", seed=self.seed)
        twin.features.load_state_dict(self.features.state_dict())
        twin.weights = self.weights
        return twin.to(self.mean.device)

    def forward(self, images: torch.Tensor, layers: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
        """``{layer: response}`` for ``layers`` (default: all of ``self.layers``); images (B, 3, H, W) in [0, 1]."""
        wanted = self.layers if layers is None else tuple(layers)
        stops = {self.taps[layer]: layer for layer in wanted}  # KeyError names a layer not built
        last = max(stops)
        x = (images - self.mean) / self.std  # the statistics the ImageNet weights expect
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in stops:
                out[stops[i]] = x
            if i == last:
                break
        return out

    def extra_repr(self) -> str:
        return f"weights={self.weights!r}, pooling={self.pooling!r}, layers={self.layers}"


def vgg19_features(
    layers: Iterable[str], pooling: str = "avg", weights: str = "imagenet", seed: int = 0, verbose: bool = True
) -> VGGFeatures:
    """A :class:`VGGFeatures` with ImageNet weights if they can be loaded, else random weights.

    ``weights="imagenet"`` tries torchvision's ``VGG19_Weights.IMAGENET1K_V1``
    (cached after the first download); if that fails, one printed line gives the
    reason and the extractor gets random weights (``extractor.weights == "random"``).
    ``weights="random"`` skips the attempt.
    """
    extractor = VGGFeatures(layers, pooling=pooling, weights="random", seed=seed)
    if weights == "random":
        return extractor
    if weights != "imagenet":
        raise ValueError(f"weights = {weights!r} is not allowed: choose 'imagenet' or 'random'")
    try:
        state = _imagenet_state_dict()
        extractor.load_features_state(state)
    except CorruptWeights:
        raise  # a broken cache is not "no network": say which file to delete rather than fall back
    except Exception as err:  # no network, blocked host, corrupt cache, missing torchvision
        reason = f"{type(err).__name__}: {err}".strip()
        if verbose:
            print(
                f"pretrained VGG19 weights could not be loaded ({reason}); using RANDOM weights (seed {seed}), "
                "which capture texture (Ustyuzhaninov et al. 2016) but not ImageNet semantics; "
                "every figure below is labelled 'random VGG19'.\n" + where_weights_go()
            )
        return extractor
    extractor.weights = "imagenet"
    if verbose:
        print("VGG19 with ImageNet weights (torchvision VGG19_Weights.IMAGENET1K_V1)")
    return extractor


def where_weights_go() -> str:
    """The sentence telling an offline user which file gives the ImageNet VGG19, where to put it, and its hash.

    torchvision names the file by the first 8 hex digits of its sha256 (``vgg19-dcbb9e9d.pth``) and checks
    them when it downloads; ``sha256sum`` of a copy fetched by hand must begin with them.
    """
    from torchvision.models import VGG19_Weights

    url = VGG19_Weights.IMAGENET1K_V1.url
    path = cached_weights_path()
    prefix = path.stem.rsplit("-", 1)[-1]
    return (
        f"To use the ImageNet VGG19: download {url} (548 MB) on a machine with network and put it at {path} "
        f"(its sha256 begins with {prefix}, as the file name says; $TORCH_HOME moves the folder)."
    )


def cached_weights_path() -> Path:
    """Where torch keeps the downloaded ImageNet VGG19 weights (``$TORCH_HOME/hub/checkpoints/...``)."""
    from torchvision.models import VGG19_Weights

    name = os.path.basename(urlparse(VGG19_Weights.IMAGENET1K_V1.url).path)
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def _imagenet_state_dict() -> Mapping[str, torch.Tensor]:
    """torchvision's ImageNet VGG19 state dict: from torch's cache, else downloaded into it.

    Raises :class:`CorruptWeights` naming the cached file when it exists but cannot be loaded
    (an interrupted download, a damaged disk): torch checks the hash only when downloading.
    """
    from torchvision.models import VGG19_Weights

    cached = cached_weights_path()
    was_cached = cached.is_file()
    if not was_cached and offline():
        raise FileNotFoundError(f"downloads are off ($GANCOURSE_OFFLINE) and {cached} does not exist")
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)
    try:
        state = VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=True, check_hash=True)
    except Exception as err:
        if was_cached:
            raise CorruptWeights(
                f"the cached VGG19 weights {cached} cannot be read ({type(err).__name__}: {err}): "
                "delete that file and run again to download them afresh"
            ) from err
        raise
    finally:
        socket.setdefaulttimeout(previous)
    if was_cached and not isinstance(state, Mapping):
        raise CorruptWeights(
            f"the cached VGG19 weights {cached} do not hold a state dict: delete that file and run again"
        )
    return state


def weights_label(extractor: VGGFeatures) -> str:
    """'ImageNet VGG19' or 'random VGG19': the tag every figure title carries."""
    return "ImageNet VGG19" if extractor.weights == "imagenet" else "random VGG19"
