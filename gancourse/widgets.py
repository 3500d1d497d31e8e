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

import dataclasses
import math
import types
import typing
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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _holds_tuple(kind: Any) -> bool:
    """Whether a field's type is a tuple or a union with a tuple (``int | tuple[int, ...]``)."""
    if typing.get_origin(kind) is tuple:
        return True
    return typing.get_origin(kind) in (types.UnionType, typing.Union) and any(map(_holds_tuple, typing.get_args(kind)))


def _check_start(spec: Mapping[str, Any], value: Any) -> None:
    """A widget's starting value must be one its field allows: a slider would clamp it silently."""
    name, kind, low, high = spec["name"], spec["type"], spec.get("low"), spec.get("high")
    if spec.get("choices") is not None:
        if value not in spec["choices"]:
            allowed = ", ".join(map(repr, spec["choices"]))
            raise ValueError(f"{name} = {value!r} is not allowed: choose one of {allowed}")
        return
    if kind is bool and not isinstance(value, bool):
        raise ValueError(f"{name} = {value!r} must be a bool (True or False)")
    if kind in (int, float):
        if not _is_number(value) or not math.isfinite(value) or (kind is int and not isinstance(value, int)):
            raise ValueError(f"{name} = {value!r} must be a finite {'integer' if kind is int else 'number'}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{name} = {value!r} is out of range: allowed [{low}, {high}]")


def _parse_items(name: str, kind: Any, text: str) -> Any:
    """A text box's ``"a, b, c"`` as the field's value: a tuple, or one number for ``int | tuple``."""
    if not isinstance(text, str):
        raise ValueError(f"{name} = {text!r} must be text: items separated by commas")
    items: list[Any] = []
    for part in (t.strip() for t in text.split(",")):
        if not part:
            continue
        for convert in (int, float, str):
            try:
                items.append(convert(part))
                break
            except ValueError:
                pass
    scalar = typing.get_origin(kind) is not tuple and "," not in text and len(items) == 1
    return items[0] if scalar else tuple(items)


def control(spec: Mapping[str, Any], value: Any, bounds: tuple[float, float] | None = None) -> w.Widget:
    """The widget for one field ``spec`` (an entry of ``Config.spec()``), starting at ``value``.

    Choices give a drop-down, a bool a check box, a ranged number a slider, a string a
    text box, a tuple a text box of comma-separated items (read back by
    :func:`widget_value`). A number without a range needs ``bounds`` for its slider.
    ``bounds`` narrows the slider to a sub-range of the declared range (a slider
    from 1 to 100,000 steps would be unusable); it may not widen it. A slider
    would silently clamp a starting ``value`` outside its range (5000 steps shown,
    and run, as 100), so the slider is widened to include ``value`` instead; a
    ``value`` outside the declared range, or not of the field's type, is a
    ``ValueError`` naming the field, and so are bounds that are not two finite numbers.
    """
    name, kind = spec["name"], spec["type"]
    low, high = spec.get("low"), spec.get("high")
    _check_start(spec, value)
    if bounds is not None:
        if len(bounds) != 2 or not all(_is_number(b) and math.isfinite(b) for b in bounds):
            raise ValueError(f"bounds {bounds} for {name} must be two finite numbers (low, high)")
        if (low is not None and bounds[0] < low) or (high is not None and bounds[1] > high):
            raise ValueError(f"bounds {bounds} for {name} leave its allowed range [{low}, {high}]")
        if bounds[0] > bounds[1]:
            raise ValueError(f"bounds {bounds} for {name}: low must not exceed high")
        low, high = bounds
        if spec.get("choices") is None and kind is not bool and _is_number(value):
            low, high = min(low, value), max(high, value)  # never clamp the config's own value
    style = {"description_width": "initial"}
    common = {"description": name, "tooltip": spec.get("help", ""), "style": style, "continuous_update": False}
    if spec.get("choices") is not None:
        return w.Dropdown(options=list(spec["choices"]), value=value, description=name, style=style)
    if kind is bool:
        return w.Checkbox(value=value, description=name, style=style)
    if kind is str:
        return w.Text(value=value, description=name, tooltip=spec.get("help", ""), style=style)
    if _holds_tuple(kind):
        shown = ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)
        return w.Text(value=shown, description=name, tooltip=spec.get("help", "") + " (comma-separated)", style=style)
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


def widget_value(spec: Mapping[str, Any], widget: w.Widget) -> Any:
    """The field value a :func:`control` holds (a tuple's text parsed); a bad one is a ``ValueError`` naming it."""
    if _holds_tuple(spec["type"]) and spec.get("choices") is None:
        return _parse_items(spec["name"], spec["type"], widget.value)
    return widget.value


def _settable(cfg: Config) -> set[str]:
    """The fields a form may set: those ``__init__`` takes (a derived field, ``init=False``, is computed)."""
    return {f.name for f in dataclasses.fields(cfg) if f.init}


def _has_widget(spec: Mapping[str, Any]) -> bool:
    kind = spec["type"]
    if spec.get("choices") is not None or kind in (bool, str) or _holds_tuple(kind):
        return True
    return kind in (int, float) and spec.get("low") is not None and spec.get("high") is not None


def config_form(
    cfg: Config,
    run: Callable[[Config], Any],
    fields: Sequence[str] | Mapping[str, tuple[float, float] | None] | None = None,
    live: bool = False,
    quick: bool = True,
    button: str = "Run",
) -> Form:
    """Controls for ``fields`` of ``cfg`` (by default every field a widget can offer) and an output area.

    With ``quick=True`` the form starts from ``cfg.quick()``, so a retrain takes
    seconds to a minute whatever the chapter's own mode. ``fields`` may map a
    name to slider bounds. The default leaves out derived fields (computed, not
    set) and numbers without a declared range (they need bounds). An invalid value
    or combination is reported in the output area, naming the field.
    """
    base = cfg.quick() if quick else cfg
    specs = {s["name"]: s for s in cfg.spec()}
    settable = _settable(cfg)
    if fields is None:
        fields = [name for name, spec in specs.items() if name in settable and _has_widget(spec)]
    bounds = dict(fields) if isinstance(fields, Mapping) else dict.fromkeys(fields)
    unknown = sorted(set(bounds) - set(specs))
    if unknown:
        raise ValueError(f"{type(cfg).__name__} has no field {', '.join(unknown)}: fields are {', '.join(specs)}")
    derived = sorted(set(bounds) - settable)
    if derived:
        raise ValueError(f"{type(cfg).__name__}.{', '.join(derived)} is derived from other fields: it cannot be set")
    controls = {name: control(specs[name], getattr(base, name), bounds[name]) for name in bounds}
    output = w.Output()

    def refresh(*_: Any) -> None:
        with output:
            clear_output(wait=True)
            try:
                chosen = base.replace(**{name: widget_value(specs[name], c) for name, c in controls.items()})
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
