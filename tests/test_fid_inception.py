"""gancourse.metrics.fid_inception: pytorch-fid's FID Inception network, its weights fetched sha256-checked.

No download: the weights are a locally made state dict of the same layout (random values),
served from a file:// URL.
"""

from __future__ import annotations

import pytest
import torch
from pytorch_fid import inception as pytorch_fid_inception

from gancourse import metrics
from gancourse.data import DataError, sha256_file
from gancourse.metrics import features as features_module
from gancourse.metrics import fid_inception


@pytest.fixture(scope="module")
def random_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    net = fid_inception.fid_inception_v3()
    for name, tensor in net.state_dict().items():  # init_weights=False left the convolutions at torch's default
        if name.endswith("running_var"):
            tensor.uniform_(0.5, 1.5)  # batch norms that do something, as in the trained file
        elif name.endswith("running_mean"):
            tensor.normal_(0, 0.1)
    return {k: v.clone() for k, v in net.state_dict().items()}


@pytest.fixture
def served_weights(tmp_path, monkeypatch, random_state):
    """The random state dict as a file behind a file:// URL, with its sha256; an empty cache."""
    source = tmp_path / "served" / fid_inception.FID_WEIGHTS_FILE
    source.parent.mkdir()
    torch.save(random_state, source)
    monkeypatch.setattr(fid_inception, "FID_WEIGHTS_URL", source.as_uri())
    monkeypatch.setattr(fid_inception, "FID_WEIGHTS_SHA256", sha256_file(source))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return source


def test_the_network_has_pytorch_fids_layout_and_url():
    state = fid_inception.fid_inception_v3().state_dict()
    assert state["fc.weight"].shape == (1008, 2048)
    assert not any(k.startswith("AuxLogits") for k in state)
    # the blocks that differ from torchvision's are pytorch-fid's own classes
    net = fid_inception.fid_inception_v3()
    assert type(net.Mixed_5b) is pytorch_fid_inception.FIDInceptionA
    assert type(net.Mixed_6e) is pytorch_fid_inception.FIDInceptionC
    assert type(net.Mixed_7b) is pytorch_fid_inception.FIDInceptionE_1
    assert type(net.Mixed_7c) is pytorch_fid_inception.FIDInceptionE_2
    assert fid_inception.FID_WEIGHTS_URL == pytorch_fid_inception.FID_WEIGHTS_URL
    assert fid_inception.FID_WEIGHTS_URL.endswith(fid_inception.FID_WEIGHTS_FILE)
    # torch hub's convention: the file name ends with the first 8 hex digits of its sha256
    assert fid_inception.FID_WEIGHTS_FILE.removesuffix(".pth").endswith(fid_inception.FID_WEIGHTS_SHA256[:8])


@pytest.mark.slow
def test_features_equal_pytorch_fids_inceptionv3(monkeypatch, random_state):
    """Independent recomputation: pytorch-fid's own InceptionV3([3]) (its resizing, its normalisation), same weights."""
    monkeypatch.setattr(pytorch_fid_inception, "load_state_dict_from_url", lambda *args, **kwargs: random_state)
    reference = pytorch_fid_inception.InceptionV3([3]).eval()  # expects [0, 1]; resizes to 299, scales to [-1, 1]
    ours = metrics.FIDInceptionFeatures(random_state)
    images = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        expected = reference((images + 1) / 2)[0].flatten(1)  # (3, 2048, 1, 1) -> (3, 2048)
        got = ours(images)
        grey = ours(images[:, :1])
        grey_expected = reference(((images[:, :1] + 1) / 2).expand(-1, 3, -1, -1))[0].flatten(1)
    assert expected.std() > 1e-3  # the comparison sees features that vary
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(grey, grey_expected, rtol=1e-4, atol=1e-5)
    p = metrics.class_probabilities(ours, images)
    assert p.shape == (3, 1008)
    torch.testing.assert_close(torch.from_numpy(p).sum(1), torch.ones(3, dtype=torch.float64))


@pytest.mark.slow
def test_weights_are_fetched_checked_cached_and_named(served_weights, random_state):
    extractor = metrics.load_feature_extractor("mnist", kind="inception", mode="full")
    assert isinstance(extractor, metrics.FIDInceptionFeatures)
    assert "FID Inception (pytorch-fid" in extractor.name  # what score_run records as the features
    cached = fid_inception.fid_weights_path()
    assert cached.is_file() and sha256_file(cached) == fid_inception.FID_WEIGHTS_SHA256
    torch.testing.assert_close(extractor.fc.weight, random_state["fc.weight"])
    served_weights.unlink()  # the cached copy is used: no second download
    assert set(fid_inception.load_fid_weights()) == set(random_state)


def test_a_file_with_another_sha256_is_refused_and_not_cached(served_weights, monkeypatch):
    monkeypatch.setattr(fid_inception, "FID_WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(DataError, match="its sha256 is .* not the expected 0000"):
        fid_inception.load_fid_weights()
    assert not fid_inception.fid_weights_path().exists()
    with pytest.raises(RuntimeError, match=r"the FID Inception weights \(pytorch-fid\) could not be loaded"):
        metrics.load_feature_extractor("mnist", kind="inception", mode="full")


def test_full_mode_auto_without_weights_says_so_and_uses_the_classifier(
    monkeypatch, capsys, served_weights, untrained_classifier
):
    monkeypatch.setattr(fid_inception, "FID_WEIGHTS_URL", (served_weights.parent / "missing.pth").as_uri())
    monkeypatch.setattr(
        features_module, "load_or_train_classifier", lambda dataset, mode, device=None: untrained_classifier(dataset)
    )
    extractor = metrics.load_feature_extractor("mnist", kind="auto", mode="full")
    assert isinstance(extractor, metrics.ClassifierFeatures)
    line = capsys.readouterr().out.strip()
    assert line.startswith("the FID Inception weights (pytorch-fid) unavailable (could not download file://")
    assert "using the gancourse domain classifier for mnist" in line
