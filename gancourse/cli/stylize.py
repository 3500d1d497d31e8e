"""``python -m gancourse stylize CONTENT STYLE``: neural style transfer (Gatys et al. 2016)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gancourse.cli.options import UsageError, config_overrides, make_config, os_error, pick_device


def stylize(args: argparse.Namespace) -> int:
    from gancourse.config import StyleConfig, run_mode
    from gancourse.style import stylize

    mode = run_mode(args.mode)
    # the reader's photo keeps its shape unless --square asks for the chapter's centre square
    keep = {"keep_aspect": not getattr(args, "square", False)}
    cfg = make_config(StyleConfig, mode, {**keep, **config_overrides(args, StyleConfig)})
    if len(args.style) > 2:
        raise UsageError(f"{len(args.style)} style images given: allowed one or two")
    styles = args.style[0] if len(args.style) == 1 else list(args.style)
    run = stylize(args.content, styles, cfg, device=pick_device(args.device), progress=True)
    from torchvision.utils import save_image

    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        save_image(run.image, out)
    except OSError as err:
        raise os_error(err, f"write the stylised image {out}", "--out") from err
    vgg = "ImageNet VGG19" if run.weights == "imagenet" else "random VGG19"
    print(
        f"wrote {out} ({run.image.shape[-1]} x {run.image.shape[-2]} px, {cfg.steps} {cfg.optimizer} steps, {vgg}; "
        f"final loss {run.losses['total'][-1]:.4g})"
    )
    return 0
