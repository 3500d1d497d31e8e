"""Sliders that work without a kernel: a small HTML/JavaScript player over precomputed frames.

The ipywidgets forms of :mod:`gancourse.widgets` need a running Python kernel, so
in the static HTML book (and in a notebook opened without one) they are dead. A
:class:`Player` instead carries every frame with it: each frame is a figure drawn
once, while the chapter runs, and stored in the page as an image; a range slider
(and a play button) picks which one is shown. It needs nothing but a browser: no
kernel, no network, no script library.

Frames are PNG (or JPEG where that is smaller, for photographs) images of a fixed
figure size, so a player costs a few hundred kB however large the underlying
images are; :func:`player` refuses one over ``max_kb`` rather than bloat the page.
In Jupyter the same HTML output works in a trusted notebook (one you ran yourself).
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from PIL import Image

from gancourse import latent, viz
from gancourse.alt_text import alt_text

_ids = itertools.count()

# Inline handlers (no <script> element), so the player also works where HTML is inserted as
# innerHTML (JupyterLab, Sphinx pages): the slider shows frame i and hides the others; the
# play button advances the slider every `data-interval` ms, wrapping around.
_SHOW = (
    "var p=this.closest('.gancourse-player'),f=p.querySelectorAll('.gcp-frame'),i=+this.value;"
    "for(var k=0;k<f.length;k++){f[k].style.display=k===i?'block':'none';}"
    "p.querySelector('.gcp-label').textContent=f[i].dataset.label;"
)
_PLAY = (
    "var p=this.closest('.gancourse-player'),s=p.querySelector('.gcp-slider'),b=this;"
    "if(p.gcpTimer){clearInterval(p.gcpTimer);p.gcpTimer=null;b.textContent='\u25b6';return;}"
    "b.textContent='\u275a\u275a';"
    "p.gcpTimer=setInterval(function(){s.value=(+s.value+1)%(+s.max+1);"
    "s.dispatchEvent(new Event('input'));},+p.dataset.interval);"
)


#: A frame's MIME type: an image type (``image/png``, ``image/svg+xml``); it is written into the page's HTML.
_IMAGE_MIME = re.compile(r"image/[a-z0-9][a-z0-9.+-]{0,40}")


@dataclass(frozen=True)
class Frame:
    """One encoded image of a player: its bytes, MIME type (``image/...``) and label (any text, escaped)."""

    data: bytes
    mime: str
    label: str
    #: what the frame shows in words (the figure's alt text); the frame's alt attribute adds title and label
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.data, (bytes, bytearray)):
            raise ValueError(f"Frame data must be the image's bytes, got {type(self.data).__name__}")
        if not isinstance(self.mime, str) or not _IMAGE_MIME.fullmatch(self.mime):
            raise ValueError(
                f"Frame mime = {self.mime!r} is not allowed: an image MIME type such as 'image/png' or 'image/jpeg'"
            )
        if not isinstance(self.label, str):
            raise ValueError(f"Frame label must be a str, got {type(self.label).__name__}: {self.label!r:.80}")


def encode_figure(fig: Figure, dpi: int = 72, jpeg_above: int = 40_000) -> tuple[bytes, str]:
    """``fig`` as a PNG with at most 256 colours, or as JPEG when that PNG is over ``jpeg_above`` bytes.

    Line plots and digit grids stay PNG (sharp, and small once quantised to a palette);
    photographs (style transfer) become JPEG, which is then usually a fraction of the size.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    image = Image.open(buffer).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(256).save(buffer, format="png", optimize=True)
    png = buffer.getvalue()
    if len(png) <= jpeg_above:
        return png, "image/png"
    buffer = io.BytesIO()
    image.save(buffer, format="jpeg", quality=85)
    jpeg = buffer.getvalue()
    return (jpeg, "image/jpeg") if len(jpeg) < len(png) else (png, "image/png")


class Player:
    """A slider over precomputed frames, shown as self-contained HTML (``_repr_html_``)."""

    def __init__(self, frames: Sequence[Frame], title: str = "", start: int = 0, interval_ms: int = 700):
        if not frames:
            raise ValueError("frames is empty: a player needs at least one frame")
        if not -len(frames) <= start < len(frames):
            raise ValueError(f"start = {start} is out of range: allowed -{len(frames)} to {len(frames) - 1}")
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, (int, float)) or not interval_ms >= 50:
            raise ValueError(f"interval_ms = {interval_ms!r} is out of range: allowed a number >= 50 (milliseconds)")
        if not math.isfinite(interval_ms):
            raise ValueError(f"interval_ms = {interval_ms!r} is out of range: allowed a finite number >= 50")
        if not isinstance(title, str):
            raise ValueError(f"title must be a str, got {type(title).__name__}: {title!r:.80}")
        if not all(isinstance(f, Frame) for f in frames):
            raise ValueError("frames must be Frame objects (bytes, an image MIME type, a label)")
        self.frames = list(frames)
        self.title = title
        self.start = start % len(frames)
        self.interval_ms = int(interval_ms)

    @property
    def labels(self) -> list[str]:
        return [f.label for f in self.frames]

    @property
    def nbytes(self) -> int:
        """The size of the player's HTML, about 4/3 of its images' bytes (base64)."""
        return len(self._repr_html_().encode())

    def _repr_html_(self) -> str:
        uid = f"gcp-{next(_ids)}"
        images = []
        for i, frame in enumerate(self.frames):
            src = f"data:{html.escape(frame.mime)};base64,{base64.b64encode(frame.data).decode()}"  # mime checked
            shown = "block" if i == self.start else "none"
            alt = ", ".join(t for t in (self.title, frame.label) if t)
            alt += f": {frame.description}" if frame.description else ""
            images.append(
                f'<img class="gcp-frame" src="{src}" alt="{html.escape(alt)}" data-label="{html.escape(frame.label)}" '
                f'style="display:{shown};max-width:100%;height:auto;margin:0 auto">'
            )
        title = f'<div class="gcp-title" style="font-weight:600">{html.escape(self.title)}</div>' if self.title else ""
        n = len(self.frames)
        return (
            f'<div class="gancourse-player" id="{uid}" data-interval="{self.interval_ms}" '
            f'style="margin:0.5em 0;max-width:100%">{title}'
            f'<div class="gcp-frames">{"".join(images)}</div>'
            f'<div class="gcp-controls" style="display:flex;align-items:center;gap:0.6em">'
            f'<button type="button" class="gcp-play" title="play / pause" onclick="{html.escape(_PLAY)}">'
            "\u25b6</button>"
            f'<input type="range" class="gcp-slider" min="0" max="{n - 1}" step="1" value="{self.start}" '
            f'aria-label="{html.escape(self.title or "frame")}" style="flex:1" oninput="{html.escape(_SHOW)}">'
            f'<output class="gcp-label" style="min-width:9em">{html.escape(self.frames[self.start].label)}</output>'
            "</div></div>"
        )

    def __repr__(self) -> str:
        return f"Player({self.title!r}, {len(self.frames)} frames, {self.nbytes / 1000:.0f} kB)"


def evenly(n: int, k: int) -> list[int]:
    """Up to ``k`` indices spread evenly over range(n), the first and last included."""
    if k < 2:
        raise ValueError(f"k = {k} is out of range: allowed k >= 2")
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def player(
    items: Sequence[Any],
    draw: Callable[[Any], Figure],
    labels: Sequence[str] | None = None,
    title: str = "",
    start: int = -1,
    max_frames: int = 25,
    dpi: int = 72,
    max_kb: int = 800,
    interval_ms: int = 700,
) -> Player:
    """A player with one frame per item: ``draw(item)`` returns the frame's figure (any ``viz`` function does).

    With more than ``max_frames`` items, ``max_frames`` of them are shown, evenly spaced and
    including the first and last (the labels say which). Each figure is closed after it is
    encoded, so a notebook shows only the player. ``start`` is the frame shown first (default:
    the last, the end of training). A player over ``max_kb`` kB is an error naming its size:
    lower ``dpi`` or ``max_frames``.
    """
    if not items:
        raise ValueError("items is empty: nothing to show")
    labels = list(labels) if labels is not None else [str(i) for i in range(len(items))]
    if len(labels) != len(items):
        raise ValueError(f"labels has {len(labels)} entries for {len(items)} items")
    frames = []
    for i in evenly(len(items), max_frames):
        fig = draw(items[i])
        if not isinstance(fig, Figure):
            raise TypeError(f"draw must return a matplotlib Figure, got {type(fig).__name__}")
        try:
            data, mime = encode_figure(fig, dpi)
            description = alt_text(fig)
        finally:
            plt.close(fig)
        frames.append(Frame(data, mime, labels[i], description))
    result = Player(frames, title, start, interval_ms)
    size_kb = result.nbytes / 1000
    if size_kb > max_kb:
        raise ValueError(
            f"the player is {size_kb:.0f} kB, over max_kb = {max_kb}: lower dpi ({dpi}) or max_frames ({max_frames})"
        )
    return result


def training_player(trainer: Any, n: int = 16, nrow: int = 8, title: str = "", **kwargs: Any) -> Player:
    """The generator's images on the fixed noise batch at each snapshot of training (``trainer.samples``)."""
    if not trainer.samples:
        raise ValueError("trainer.samples is empty: train first (samples are taken every cfg.sample_every steps)")
    kwargs.setdefault("max_frames", 16)  # early samples are noise, which compresses badly: about 20 kB a frame
    last = trainer.samples[-1][0]
    return player(
        trainer.samples,
        lambda snap: viz.show_images(snap[1][:n], nrow=nrow, size=0.7),
        labels=[f"step {step} of {last}" for step, _ in trainer.samples],
        title=title or "the fixed noise batch during training",
        **kwargs,
    )


def latent_walk_player(
    generate: Callable[[torch.Tensor], torch.Tensor],
    start: torch.Tensor,
    end: torch.Tensor,
    steps: int = 16,
    spherical: bool = True,
    nrow: int = 8,
    title: str = "",
    **kwargs: Any,
) -> Player:
    """Walk from each row of ``start`` (N, d) to the same row of ``end`` along the latent path.

    Frame t shows ``generate`` on the N points at position t of the walk (spherical by
    default, :func:`gancourse.latent.slerp`), so dragging the slider morphs N images at once.
    """
    if start.shape != end.shape or start.ndim != 2:
        raise ValueError(f"start and end must be (N, d) of one shape, got {tuple(start.shape)} and {tuple(end.shape)}")
    path = latent.slerp if spherical else latent.lerp
    walk = torch.stack([path(a, b, steps) for a, b in zip(start, end, strict=True)], dim=1)  # (steps, N, d)
    with torch.no_grad():
        images = [generate(points) for points in walk]
    return player(
        images,
        lambda batch: viz.show_images(batch, nrow=nrow, size=0.7),
        labels=[f"t = {t / (steps - 1):.2f}" for t in range(steps)],
        title=title or f"{'spherical' if spherical else 'linear'} walk from z (t = 0) to z' (t = 1)",
        start=0,
        **kwargs,
    )
