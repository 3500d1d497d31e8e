"""Interactive controls built from a config dataclass: the only module that imports ipywidgets.

:func:`config_form` turns the fields of any :class:`gancourse.config.Config`
into sliders, drop-downs and check boxes whose ranges are the fields' declared
ranges, so every value a reader can pick is one the code accepts. A button (or,
with ``live=True``, every change) calls ``run(new_config)`` and shows its output.

The static HTML book has no Python kernel, so widgets there cannot run: each
chapter that offers a form also shows precomputed results (a sweep, see
``gancourse.viz.sweep_row``, or a kernel-free slider, see ``gancourse.players``).
Forms are :class:`Form` boxes, whose output also carries an HTML note saying that
they need a kernel: the book's build shows that note instead of dead controls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as w
from IPython.display import clear_output

from gancourse import viz
from gancourse.config import Config

NEEDS_KERNEL = (
    '<div class="gancourse-needs-kernel"><strong>Live form: it needs a running Python kernel.</strong> '
    "Open this chapter as a notebook (Jupyter, or Colab with the launch button at the top of the page) to "
    "use it; this page shows precomputed results next to it.</div>"
)


class Form(w.VBox):
    """A box of controls whose static rendering (no kernel: the HTML book) is the :data:`NEEDS_KERNEL` note.

    A notebook with a kernel shows the widgets (their MIME type ranks first); the book's
    build drops the widget view, which cannot run without a kernel, and shows the note.
    """

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        return {**bundle, "text/html": NEEDS_KERNEL}


def panel(*children: w.Widget) -> Form:
    """Several controls and forms shown as one :class:`Form`."""
    return Form(list(children))


def control(spec: Mapping[str, Any], value: Any, bounds: tuple[float, float] | None = None) -> w.Widget:
    """The widget for one field ``spec`` (an entry of ``Config.spec()``), starting at ``value``.

    ``bounds`` narrows the slider to a sub-range of the declared range (a slider
    from 1 to 100,000 steps would be unusable); it may not widen it. A slider
    would silently clamp a starting ``value`` outside its range (5000 steps shown,
    and run, as 100), so the slider is widened to include ``value`` instead; the
    declared range always includes it, since the config was validated.
    """
    name, kind = spec["name"], spec["type"]
    low, high = spec.get("low"), spec.get("high")
    if bounds is not None:
        if (low is not None and bounds[0] < low) or (high is not None and bounds[1] > high):
            raise ValueError(f"bounds {bounds} for {name} leave its allowed range [{low}, {high}]")
        if bounds[0] > bounds[1]:
            raise ValueError(f"bounds {bounds} for {name}: low must not exceed high")
        low, high = bounds
        if spec.get("choices") is None and kind is not bool and isinstance(value, (int, float)):
            low, high = min(low, value), max(high, value)  # never clamp the config's own value
    style = {"description_width": "initial"}
    common = {"description": name, "tooltip": spec.get("help", ""), "style": style, "continuous_update": False}
    if spec.get("choices") is not None:
        return w.Dropdown(options=list(spec["choices"]), value=value, description=name, style=style)
    if kind is bool:
        return w.Checkbox(value=value, description=name, style=style)
    if low is None or high is None:
        raise ValueError(f"field {name} has no range: give bounds=(low, high) for its slider")
    if kind is int:
        return w.IntSlider(value=value, min=int(low), max=int(high), **common)
    if spec.get("log"):
        return w.FloatLogSlider(
            value=value, base=10, min=math.log10(low), max=math.log10(high), step=0.1, readout_format=".1e", **common
        )
    step = spec.get("step") or (high - low) / 100
    return w.FloatSlider(value=value, min=low, max=high, step=step, **common)


def config_form(
    cfg: Config,
    run: Callable[[Config], Any],
    fields: Sequence[str] | Mapping[str, tuple[float, float] | None] | None = None,
    live: bool = False,
    quick: bool = True,
    button: str = "Run",
) -> Form:
    """Controls for ``fields`` of ``cfg`` (all by default) and an output area where ``run`` shows results.

    With ``quick=True`` the form starts from ``cfg.quick()``, so a retrain takes
    seconds to a minute whatever the chapter's own mode. ``fields`` may map a
    name to slider bounds. An invalid combination is reported in the output area.
    """
    base = cfg.quick() if quick else cfg
    if fields is None:
        fields = [f["name"] for f in cfg.spec()]
    bounds = dict(fields) if isinstance(fields, Mapping) else dict.fromkeys(fields)
    specs = {s["name"]: s for s in cfg.spec()}
    unknown = sorted(set(bounds) - set(specs))
    if unknown:
        raise ValueError(f"{type(cfg).__name__} has no field {', '.join(unknown)}: fields are {', '.join(specs)}")
    controls = {name: control(specs[name], getattr(base, name), bounds[name]) for name in bounds}
    output = w.Output()

    def refresh(*_: Any) -> None:
        with output:
            clear_output(wait=True)
            try:
                chosen = base.replace(**{name: c.value for name, c in controls.items()})
            except ValueError as err:
                print(f"Not run: {err}")
                return
            run(chosen)
            viz.flush()  # callbacks run outside a cell, so figures must be shown explicitly

    children: list[w.Widget] = list(controls.values())
    if live:
        for c in controls.values():
            c.observe(refresh, names="value")
        refresh()
    else:
        go = w.Button(description=button, button_style="primary", icon="play")
        go.on_click(refresh)
        children.append(go)
    return Form([*children, output])


def step_slider(items: Sequence[Any], draw: Callable[[Any], Any], labels: Sequence[str] | None = None) -> Form:
    """A slider over precomputed results (training snapshots): ``draw(item)`` shows the chosen one."""
    if not items:
        raise ValueError("items is empty: nothing to show")
    labels = list(labels) if labels is not None else [str(i) for i in range(len(items))]
    if len(labels) != len(items):
        raise ValueError(f"labels has {len(labels)} entries for {len(items)} items: give one label per item")
    slider = w.SelectionSlider(
        options=list(zip(labels, range(len(items)), strict=True)), value=len(items) - 1, description="step"
    )
    output = w.Output()

    def show(*_: Any) -> None:
        with output:
            clear_output(wait=True)
            draw(items[slider.value])
            viz.flush()

    slider.observe(show, names="value")
    show()
    return Form([slider, output])
