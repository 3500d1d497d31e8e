import torch

from gancourse import losses, notebook


def test_start_reports_mode_device_and_seed(capsys, monkeypatch):
    monkeypatch.setenv("GANCOURSE_MODE", "quick")
    session = notebook.start(seed=3, device="cpu")
    assert session == notebook.Session("quick", torch.device("cpu"), 3)
    line = capsys.readouterr().out
    assert line.startswith("mode: quick ($GANCOURSE_MODE) | device: cpu | seed: 3 | data root:")
    assert notebook.start("full", device="cpu").mode == "full"


def test_show_source_is_the_package_code():
    code = notebook.show_source(losses.optimal_discriminator)
    assert "def optimal_discriminator" in code.data and code.language == "python"
