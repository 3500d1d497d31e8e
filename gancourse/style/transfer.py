"""Style transfer by optimising the pixels of an image (Gatys, Ecker & Bethge 2016, Sec. 2).

The network is fixed; the image x is the variable. Its loss (Eq. 7) is

    L(x) = alpha * L_content(x, photo) + beta * L_style(x, painting) [+ tv * TV(x)],

and x starts from the photo or from white noise. The paper minimises it with
L-BFGS (Liu & Nocedal 1989); Adam (Kingma & Ba 2015) is the alternative. Here one
*step* is one L-BFGS iteration with one loss evaluation (``max_iter=1``, no line
search: the curvature history persists between calls), or one Adam update, so
that both optimisers are compared per network evaluation. Adam's pixels are
projected back onto [0, 1] after every step; L-BFGS runs unconstrained, as in
the paper, because projecting would corrupt its curvature pairs (it then
diverges on some images), and its image is clamped to [0, 1] only for display.

Nothing here is adversarial: style transfer trains no generator and no
discriminator, it solves one optimisation problem per image.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Iterable, Iterator, Sequence

import torch

from gancourse.config.style import StyleConfig
from gancourse.device import pick_device
from gancourse.style.color import luminance, match_luminance, with_content_colors
from gancourse.style.images import fit_longer_side, load_style_image, square
from gancourse.style.losses import content_loss, gram_matrix, style_loss, total_variation
from gancourse.style.vgg import VGGFeatures, vgg19_features

ImageLike = torch.Tensor | str | os.PathLike


@dataclasses.dataclass
class StyleRun:
    """What a run leaves behind: the image, its loss terms per step, snapshots and timings.

    ``losses[name][k]`` is the (weighted) term after k steps, so it holds
    ``steps + 1`` values: the start and the state after every step.
    """

    config: StyleConfig
    image: torch.Tensor  # (1, 3, S, S) RGB in [0, 1], on the CPU
    losses: dict[str, list[float]]  # "total", "content", "style", "tv"
    snapshots: dict[int, torch.Tensor]  # step -> (1, 3, S, S) image after that many steps
    weights: str  # "imagenet" or "random": which VGG19 produced it
    seconds: float  # time spent in the optimisation steps

    @property
    def steps_per_second(self) -> float:
        return self.config.steps / self.seconds if self.seconds > 0 else float("inf")


class StyleDiverged(RuntimeError):
    """The style-transfer loss became NaN or infinite; the message names the step and the remedies."""


def prepare(
    image: ImageLike | None, size: int, verbose: bool = True, name: str = "image", keep_aspect: bool = False
) -> torch.Tensor | None:
    """A path, URL or tensor as a (1, 3, size, size) RGB tensor in [0, 1] on the CPU; ``name`` is used in errors.

    ``keep_aspect``: (1, 3, H, W) with the longer side ``size`` (:func:`~gancourse.style.images.fit_longer_side`).
    """
    if image is None:
        return None
    if isinstance(image, torch.Tensor):
        image = image.detach().float().cpu()
        if image.numel() == 0:
            raise ValueError(f"{name} is an empty tensor {tuple(image.shape)}: give an RGB image (3, H, W)")
        if not bool(torch.isfinite(image).all()):
            bad = int((~torch.isfinite(image)).sum())
            raise ValueError(f"{name} holds {bad} NaN or infinite value(s): give RGB values in [0, 1]")
        if image.min() < 0 or image.max() > 1:
            raise ValueError(f"{name}: image tensors must hold RGB values in [0, 1] (convert [-1, 1] with (x + 1) / 2)")
        return (fit_longer_side(image, size) if keep_aspect else square(image, size))[:1]
    return load_style_image(image, size, verbose, keep_aspect)


#: What :func:`settings_for_weights` changes in a config when the VGG19 has random weights (not in the paper).
RANDOM_WEIGHTS_SETTINGS: dict[str, object] = {"normalize_losses": True, "style_weight": 10.0}


def settings_for_weights(cfg: StyleConfig, extractor: VGGFeatures) -> StyleConfig:
    """``cfg`` for ImageNet weights; for random weights, ``cfg`` with :data:`RANDOM_WEIGHTS_SETTINGS`.

    Random filters give responses whose Gram entries shrink by orders of magnitude from conv1_1
    to conv5_1, so in the paper's sum of absolute Gram errors the deep layers would vanish. With
    ``normalize_losses`` each layer's error is relative to its target
    (:func:`gancourse.style.losses.style_loss`), every style term starts near 1, and beta is
    set for errors of that size (the default beta = 1e6 is meant for absolute errors).
    """
    if extractor.weights == "random":
        return cfg.replace(**RANDOM_WEIGHTS_SETTINGS)
    return cfg


def matching_extractor(extractor: VGGFeatures | None, cfg: StyleConfig, verbose: bool = True) -> VGGFeatures:
    """``extractor`` adapted to ``cfg`` (its pooling), or a new one with ImageNet weights if it can get them."""
    layers = cfg.content_layers + cfg.style_layers
    if extractor is None:
        return vgg19_features(layers, pooling=cfg.pooling, seed=cfg.seed, verbose=verbose)
    missing = [layer for layer in layers if layer not in extractor.taps]
    if missing:
        raise ValueError(
            f"the extractor stops at {list(extractor.taps)[-1]} but the config needs {', '.join(missing)}: "
            "build it with vgg19_features(...) for all the layers you will use"
        )
    if extractor.pooling != cfg.pooling:
        extractor = extractor.with_pooling(cfg.pooling)
    return extractor


def stylize(
    content: ImageLike | None,
    style: ImageLike | Sequence[ImageLike] | None,
    cfg: StyleConfig | None = None,
    extractor: VGGFeatures | None = None,
    device: torch.device | None = None,
    snapshots: Iterable[int] = (),
    progress: bool = False,
    verbose: bool = True,
) -> StyleRun:
    """Optimise an image to have ``content``'s content and ``style``'s style; see the module docstring.

    ``style`` is one image or two (then blended by ``cfg.style_blend``).
    ``content`` may be None when ``cfg.content_layers`` is empty and
    ``cfg.init == "noise"`` (a pure texture); ``style`` may be None when
    ``cfg.style_layers`` is empty (a content reconstruction). ``snapshots``
    lists the step counts after which the image is kept.
    """
    from tqdm.auto import tqdm

    cfg = cfg or StyleConfig()
    device = device or pick_device()
    size = cfg.image_size
    styles = [] if style is None else list(style) if isinstance(style, (list, tuple)) else [style]
    if cfg.style_layers and not 1 <= len(styles) <= 2:
        raise ValueError(f"give one or two style images, got {len(styles)}")
    if content is None and (cfg.content_layers or cfg.init == "content" or cfg.preserve_color):
        raise ValueError("content is None, but the config needs a content image (content_layers, init or colour)")
    # the images first: a missing file fails at once, not after VGG19 has loaded (or failed to download)
    photo = prepare(content, size, verbose, name="content", keep_aspect=cfg.keep_aspect)
    names = ["style"] if len(styles) == 1 else [f"style[{i}]" for i in range(len(styles))]
    paintings = [prepare(s, size, verbose, name=name) for s, name in zip(styles, names, strict=True)]  # squares
    extractor = matching_extractor(extractor, cfg, verbose).to(device)
    height, width = (size, size) if photo is None else photo.shape[-2:]  # the output's shape is the photo's
    photo = None if photo is None else photo.to(device)
    paintings = [p.to(device) for p in paintings]

    # What the network sees: RGB, or the luminance repeated on 3 channels for colour preservation.
    def as_input(x: torch.Tensor) -> torch.Tensor:  # (1, 1 or 3, S, S) -> (1, 3, S, S)
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    if cfg.preserve_color:
        photo_y = luminance(photo)  # (1, 1, S, S)
        paintings = [match_luminance(luminance(p), photo_y) for p in paintings]
        start = photo_y
    else:
        start = photo

    with torch.no_grad():
        content_targets = extractor(as_input(start), cfg.content_layers) if cfg.content_layers else {}
        grams: dict[str, torch.Tensor] = {}
        if cfg.style_layers:
            mix = [1.0] if len(paintings) == 1 else [1.0 - cfg.style_blend, cfg.style_blend]
            for weight, painting in zip(mix, paintings, strict=True):
                for layer, feats in extractor(as_input(painting), cfg.style_layers).items():
                    grams[layer] = grams.get(layer, 0) + weight * gram_matrix(feats)  # (1, C, C)

    channels = 1 if cfg.preserve_color else 3
    if cfg.init == "content":
        x = start.clone()
    else:
        generator = torch.Generator().manual_seed(cfg.seed)
        x = torch.rand(1, channels, height, width, generator=generator).to(device)  # white noise in [0, 1]
    x.requires_grad_(True)
    layer_weights = cfg.layer_weights() if cfg.style_layers else {}
    needed = cfg.content_layers + cfg.style_layers

    def terms(image: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = extractor(as_input(image), needed)
        t = {
            "content": cfg.content_weight * content_loss(feats, content_targets, cfg.normalize_losses),
            "style": cfg.style_weight * style_loss(feats, grams, layer_weights, cfg.normalize_losses),
            "tv": cfg.tv_weight * total_variation(image) if cfg.tv_weight else image.new_zeros(()),
        }
        t["total"] = t["content"] + t["style"] + t["tv"]
        return t

    losses: dict[str, list[float]] = {k: [] for k in ("total", "content", "style", "tv")}
    keep = set(snapshots)
    kept: dict[int, torch.Tensor] = {}

    def record(t: dict[str, torch.Tensor]) -> None:
        for k, v in t.items():
            losses[k].append(v.item())

    def to_rgb(image: torch.Tensor) -> torch.Tensor:
        image = image.detach()
        rgb = with_content_colors(image, photo) if cfg.preserve_color else image.clamp(0, 1)
        return rgb.cpu()

    if cfg.optimizer == "lbfgs":
        # zero tolerances: never stop on a small gradient or change; a small loss is still a loss to lower
        optimizer = torch.optim.LBFGS([x], lr=1.0, max_iter=1, history_size=100, tolerance_grad=0, tolerance_change=0)
    else:
        optimizer = torch.optim.Adam([x], lr=cfg.lr)

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        t = terms(x)
        t["total"].backward()
        record(t)  # the loss at x before this step's update
        return t["total"]

    if 0 in keep:
        kept[0] = to_rgb(x)
    bar = tqdm(range(1, cfg.steps + 1), disable=not progress, desc=f"{cfg.optimizer} {size}px", leave=False)
    with _flush_denormals():
        began = time.perf_counter()
        for step in bar:
            optimizer.step(closure)
            if not math.isfinite(losses["total"][-1]):  # LBFGS/Adam would carry NaN into the image silently
                bar.close()
                which = ", ".join(f"{k} = {v[-1]}" for k, v in losses.items() if v and not math.isfinite(v[-1]))
                raise StyleDiverged(
                    f"style transfer diverged at step {step}: {which}. Lower style_weight/content_weight, "
                    "set normalize_losses=True, or use optimizer='adam' with a smaller lr"
                )
            if cfg.optimizer == "adam":
                with torch.no_grad():
                    x.clamp_(0, 1)  # projected gradient steps: pixels stay valid colours
            if step in keep:
                kept[step] = to_rgb(x)
            if progress:
                bar.set_postfix(loss=f"{losses['total'][-1]:.3g}")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - began
    bar.close()
    with torch.no_grad():
        record(terms(x))  # the loss after the last step
    return StyleRun(cfg, to_rgb(x), losses, kept, extractor.weights, seconds)


@contextlib.contextmanager
def _flush_denormals() -> Iterator[None]:
    """Treat subnormal floats as zero on the CPU while optimising, then restore the default.

    Near convergence the gradients become tiny; arithmetic on subnormal numbers
    is 10-100x slower on x86 CPUs, which would stall the last steps. The flag
    is per thread: it covers the calling thread, where much of the work runs,
    and intra-op worker threads only if they were started after it was set.
    """
    changed = torch.set_flush_denormal(True)  # False where the CPU cannot
    try:
        yield
    finally:
        if changed:
            torch.set_flush_denormal(False)


def reconstruct_content(
    image: ImageLike, layer: str, cfg: StyleConfig, extractor: VGGFeatures | None = None, **kwargs
) -> StyleRun:
    """White noise optimised to give ``image``'s response at ``layer``: what that layer keeps (Fig. 1)."""
    cfg = cfg.replace(content_layers=(layer,), style_layers=(), init="noise", preserve_color=False, tv_weight=0.0)
    return stylize(image, None, cfg, extractor, **kwargs)


def reconstruct_style(
    image: ImageLike, layers: Sequence[str], cfg: StyleConfig, extractor: VGGFeatures | None = None, **kwargs
) -> StyleRun:
    """White noise optimised to match ``image``'s Gram matrices at ``layers``: a texture (Fig. 1)."""
    cfg = cfg.replace(content_layers=(), style_layers=tuple(layers), style_layer_weights=(), init="noise",
                      preserve_color=False, tv_weight=0.0)  # fmt: skip
    return stylize(None, image, cfg, extractor, **kwargs)
