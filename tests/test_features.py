"""gancourse.metrics.features: image sources in batches, the feature extractors, the offline fallback."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gancourse import metrics
from gancourse.data import ImageTensorDataset
from gancourse.metrics import features as features_module


def test_feature_statistics_streams_images_in_batches():
    seen = []

    def extractor(batch):  # (B, 1, 4, 4) -> (B, 3)
        seen.append(len(batch))
        flat = batch.flatten(1)
        return torch.stack([flat.mean(1), flat.max(1).values, flat[:, 0]], dim=1)

    images = torch.rand(530, 1, 4, 4, generator=torch.Generator().manual_seed(0)) * 2 - 1
    stats = metrics.feature_statistics(extractor, images, n=500, batch_size=128)
    assert seen == [128, 128, 128, 116]
    full = extractor(images[:500]).numpy().astype(np.float64)  # a float32 mean is only good to ~1e-6
    np.testing.assert_allclose(stats.mean, full.mean(0), rtol=1e-6)
    np.testing.assert_allclose(stats.cov, np.cov(full, rowvar=False), rtol=1e-5, atol=1e-8)


def test_image_batches_sources():
    images = torch.rand(10, 1, 4, 4) * 2 - 1
    as_list = lambda source, **kw: [b.shape[0] for b in metrics.image_batches(source, **kw)]  # noqa: E731
    assert as_list(images, batch_size=4) == [4, 4, 2]
    assert as_list(images.numpy(), n=5, batch_size=4) == [4, 1]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, torch.zeros(10)), batch_size=3)
    assert as_list(loader, n=7) == [3, 3, 1]
    assert as_list(lambda b: torch.zeros(b, 1, 4, 4), n=9, batch_size=4) == [4, 4, 1]
    uint8 = torch.randint(0, 256, (6, 1, 28, 28), dtype=torch.uint8)
    from gancourse.data import image_transform

    dataset = ImageTensorDataset(uint8, torch.zeros(6, dtype=torch.long), image_transform(32))
    batches = list(metrics.image_batches(dataset, batch_size=4))
    assert [tuple(b.shape) for b in batches] == [(4, 1, 32, 32), (2, 1, 32, 32)]
    torch.testing.assert_close(batches[0][1], dataset[1][0])  # batched transform = per-item transform
    augmented = ImageTensorDataset(uint8, torch.zeros(6, dtype=torch.long), image_transform(32, augment=True))
    with pytest.raises(ValueError, match=r"the dataset augments its images \(RandomAffine\)"):
        list(metrics.image_batches(augmented))


def test_image_batches_errors():
    with pytest.raises(ValueError, match="n = 20 images were asked for but only 10 are available"):
        list(metrics.image_batches(torch.zeros(10, 1, 4, 4), n=20))
    with pytest.raises(ValueError, match="give the number of images to draw"):
        list(metrics.image_batches(lambda b: torch.zeros(b, 1, 4, 4)))
    with pytest.raises(ValueError, match="images are uint8"):
        list(metrics.image_batches(torch.zeros(3, 1, 4, 4, dtype=torch.uint8)))
    with pytest.raises(ValueError, match="images must lie in \\[-1, 1\\]"):
        metrics.extract_features(lambda b: b.flatten(1), torch.full((3, 1, 4, 4), 255.0))


def test_inception_offline_falls_back_to_the_classifier(monkeypatch, capsys, untrained_classifier):
    def no_network():
        raise OSError("<urlopen error [Errno -2] Name or service not known>")

    monkeypatch.setattr(features_module, "load_inception", no_network)
    monkeypatch.setattr(
        features_module, "load_or_train_classifier", lambda dataset, mode, device=None: untrained_classifier(dataset)
    )
    extractor = metrics.load_feature_extractor("fashion_mnist", kind="auto", mode="quick")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("InceptionV3 ImageNet weights unavailable (<urlopen error")
    assert "using the gancourse domain classifier for fashion_mnist" in lines[0]
    assert isinstance(extractor, metrics.ClassifierFeatures)
    assert extractor(torch.zeros(3, 1, 32, 32)).shape == (3, 8)
    with pytest.raises(RuntimeError, match="InceptionV3 ImageNet weights could not be loaded"):
        metrics.load_feature_extractor("mnist", kind="inception")
    with pytest.raises(ValueError, match="kind = 'vgg' is not allowed"):
        metrics.load_feature_extractor("mnist", kind="vgg")


def test_classifier_features_and_probabilities(untrained_classifier):
    extractor = metrics.ClassifierFeatures(untrained_classifier())
    images = torch.rand(7, 1, 32, 32) * 2 - 1
    features = metrics.extract_features(extractor, images, batch_size=3)
    assert features.shape == (7, 8) and features.dtype == np.float32
    p = metrics.class_probabilities(extractor, images, batch_size=3)
    assert p.shape == (7, 10)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-6)
    assert 1.0 <= metrics.inception_score(p, splits=1).mean <= 10.0
    with pytest.raises(ValueError, match=r"takes \(B, 1, 32, 32\) in \[-1, 1\]: load data with DataConfig"):
        extractor(torch.zeros(2, 1, 28, 28))
    extractor.train()  # refused: features must not depend on the other images of a batch
    assert not extractor.classifier.training
    one_by_one = np.concatenate([metrics.extract_features(extractor, images[i : i + 1]) for i in range(7)])
    np.testing.assert_allclose(one_by_one, features, rtol=1e-4, atol=1e-5)


def test_inception_features_shapes_without_weights():
    inception = metrics.InceptionFeatures(weights=None)  # random weights: shapes only
    images = torch.rand(2, 1, 32, 32) * 2 - 1
    x = inception.preprocess(images)
    assert x.shape == (2, 3, 299, 299)
    torch.testing.assert_close(x[:, 0] * 0.229 + 0.485, x[:, 1] * 0.224 + 0.456)  # grey -> 3 equal channels
    with torch.no_grad():
        assert inception(images[:1]).shape == (1, 2048)
    assert inception.dim == 2048 and "random weights" in inception.name


def test_sampler_returning_no_images_raises_instead_of_looping():
    calls = []

    def empty(k):
        calls.append(k)
        if len(calls) > 100:  # the old code looped forever: fail instead of hanging
            raise RuntimeError("image_batches kept asking an empty sampler")
        return torch.zeros(0, 1, 8, 8)

    with pytest.raises(ValueError, match="the sampling function returned 0 images when asked for 10"):
        list(features_module.image_batches(empty, n=10, batch_size=50))
    calls.clear()
    with pytest.raises(ValueError, match="returned 0 images"):
        metrics.frechet_inception_distance(torch.zeros(10, 1, 8, 8), empty, extractor=lambda b: b.flatten(1), n=10)
