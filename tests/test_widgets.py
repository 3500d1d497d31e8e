import dataclasses
import inspect

import ipywidgets as w
import pytest

from gancourse import config, widgets
from gancourse.config import GaussianPair1D, ProGANConfig, RegressionConfig, StyleConfig

CONFIG_CLASSES = [
    c for c in vars(config).values() if inspect.isclass(c) and issubclass(c, config.Config) and c is not config.Config
]


def test_controls_follow_field_types_and_ranges():
    form = widgets.config_form(RegressionConfig(), lambda cfg: None)
    controls = {c.description: c for c in form.children if hasattr(c, "description") and c.description}
    assert isinstance(controls["lr"], w.FloatLogSlider)
    assert controls["lr"].min == pytest.approx(-5) and controls["lr"].max == pytest.approx(0)
    assert isinstance(controls["hidden"], w.IntSlider) and (controls["hidden"].min, controls["hidden"].max) == (1, 512)
    assert isinstance(controls["beta1"], w.FloatSlider)


def test_button_runs_quick_config_with_chosen_values():
    seen = []
    form = widgets.config_form(RegressionConfig(), seen.append, fields={"lr": None, "steps": (10, 500)})
    lr, steps, button = form.children[:3]
    assert steps.value == RegressionConfig.QUICK["steps"]  # starts from the quick variant
    lr.value, steps.value = 0.1, 20
    button.click()
    assert seen == [RegressionConfig().quick().replace(lr=0.1, steps=20)]


def test_live_form_runs_on_change():
    seen = []
    form = widgets.config_form(GaussianPair1D(), seen.append, fields=["gen_mean"], live=True, quick=False)
    assert seen == [GaussianPair1D()]
    form.children[0].value = 1.0
    assert seen[-1] == GaussianPair1D(gen_mean=1.0)


def test_invalid_combination_is_reported_not_run(capsys):
    class Checked(RegressionConfig):
        def check(self):
            if self.batch_size > self.n_train:
                raise ValueError(f"batch_size = {self.batch_size} must be <= n_train = {self.n_train}")

    seen = []
    form = widgets.config_form(Checked(), seen.append, fields={"batch_size": (1, 4096), "n_train": (16, 100)})
    batch, n_train, button, output = form.children
    batch.value, n_train.value = 4000, 50
    button.click()
    assert seen == []
    # outside a kernel the Output widget passes prints through to stdout
    assert "Not run: batch_size = 4000 must be <= n_train = 50" in capsys.readouterr().out


def test_bad_form_requests():
    with pytest.raises(ValueError, match="RegressionConfig has no field width"):
        widgets.config_form(RegressionConfig(), print, fields=["width"])
    with pytest.raises(ValueError, match="leave its allowed range"):
        widgets.config_form(RegressionConfig(), print, fields={"hidden": (0, 10)})


def test_step_slider_shows_the_chosen_item():
    shown = []
    form = widgets.step_slider(["a", "b", "c"], shown.append, labels=["10", "20", "30"])
    assert shown == ["c"]  # starts at the last snapshot
    form.children[0].value = 0
    assert shown[-1] == "a"
    with pytest.raises(ValueError, match="items is empty"):
        widgets.step_slider([], print)


def test_forms_say_they_need_a_kernel_where_widgets_cannot_run():
    form = widgets.config_form(RegressionConfig(), lambda cfg: None, fields=["lr"])
    bundle = form._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # a notebook with a kernel shows the widgets
    assert bundle["text/html"] == widgets.NEEDS_KERNEL  # the static book shows this note instead
    assert isinstance(widgets.panel(w.IntSlider(), form), widgets.Form)


def test_a_value_outside_the_slider_bounds_widens_the_slider_instead_of_clamping():
    seen = []
    cfg = RegressionConfig(steps=5000)
    form = widgets.config_form(cfg, seen.append, fields={"steps": (10, 100), "lr": (1e-3, 1e-2)}, quick=False)
    steps, lr, button = form.children[:3]
    assert steps.value == 5000 and (steps.min, steps.max) == (10, 5000)
    assert lr.value == pytest.approx(cfg.lr)
    button.click()
    assert seen == [cfg]  # run with the config's own values, not clamped ones
    small = widgets.control({s["name"]: s for s in cfg.spec()}["steps"], 5, (10, 100))
    assert (small.value, small.min, small.max) == (5, 5, 100)
    with pytest.raises(ValueError, match="low must not exceed high"):
        widgets.config_form(cfg, print, fields={"steps": (100, 10)})


def test_step_slider_needs_one_label_per_item():
    with pytest.raises(ValueError, match="labels has 2 entries for 3 items"):
        widgets.step_slider(["a", "b", "c"], print, labels=["10", "20"])


@pytest.mark.parametrize("cls", CONFIG_CLASSES, ids=lambda c: c.__name__)
def test_config_form_works_with_its_defaults_for_every_config_class(cls):
    """Strings and tuples get text boxes, derived fields are left out; Run gives back the quick config itself."""
    cfg = cls()
    seen = []
    form = widgets.config_form(cfg, seen.append)
    shown = {c.description for c in form.children if isinstance(c, w.ValueWidget)}
    settable = {f.name for f in dataclasses.fields(cls) if f.init}
    assert shown == settable  # every field a reader can set has a control
    form.children[-2].click()
    assert seen == [cfg.quick()]


def test_text_boxes_for_strings_and_tuples_and_bad_values_name_their_field(capsys):
    seen = []
    form = widgets.config_form(StyleConfig(), seen.append, fields=["style_layers", "content_layers"], quick=False)
    style, content, button = form.children[:3]
    assert isinstance(style, w.Text) and style.value == ", ".join(StyleConfig().style_layers)
    style.value = "conv1_1, conv2_1"
    button.click()
    assert seen == [StyleConfig(style_layers=("conv1_1", "conv2_1"))]
    content.value = "conv9_9"
    button.click()
    assert len(seen) == 1 and "Not run: StyleConfig.content_layers" in capsys.readouterr().out
    progan = widgets.config_form(ProGANConfig(), seen.append, fields=["fade_images", "image_folder"], quick=False)
    fade, folder, button = progan.children[:3]
    assert isinstance(folder, w.Text) and isinstance(fade, w.Text)
    fade.value = "1000"
    button.click()
    assert seen[-1] == ProGANConfig(fade_images=1000)  # int | tuple: one number is the int
    with pytest.raises(ValueError, match="ProGANConfig.steps is derived"):
        widgets.config_form(ProGANConfig(), print, fields=["steps"])


def test_control_refuses_a_bad_starting_value_or_bounds_instead_of_clamping():
    spec = {s["name"]: s for s in RegressionConfig.spec()}
    with pytest.raises(ValueError, match="steps = -5 is out of range"):
        widgets.control(spec["steps"], -5)
    with pytest.raises(ValueError, match="lr = nan must be a finite number"):
        widgets.control(spec["lr"], float("nan"))
    with pytest.raises(ValueError, match="hidden = 2.5 must be a finite integer"):
        widgets.control(spec["hidden"], 2.5)
    with pytest.raises(ValueError, match=r"bounds \(nan, 100\) for steps must be two finite numbers"):
        widgets.control(spec["steps"], 50, (float("nan"), 100))
    with pytest.raises(ValueError, match="bounds .* for steps must be two finite numbers"):
        widgets.control(spec["steps"], 50, (10, float("inf")))
    depth = {"name": "K", "type": int, "low": 1, "high": 5}  # a hand-made spec, as chapter 10's
    assert widgets.control(depth, 5).value == 5
    with pytest.raises(ValueError, match="K = 7 is out of range"):
        widgets.control(depth, 7)
