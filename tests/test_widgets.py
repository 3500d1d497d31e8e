import ipywidgets as w
import pytest

from gancourse import widgets
from gancourse.config import GaussianPair1D, RegressionConfig


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
