"""gancourse.metrics.scores: FID and KID from features, statistics or images, and the real-data floor."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gancourse import metrics


def test_fid_of_features_images_and_statistics_agree():
    rng = np.random.default_rng(6)
    real, fake = rng.standard_normal((400, 3)), rng.standard_normal((400, 3)) + 0.5
    from_features = metrics.frechet_inception_distance(real, fake)
    from_stats = metrics.frechet_inception_distance(metrics.FeatureStatistics.of(real), fake)
    assert from_stats == pytest.approx(from_features, rel=1e-10)
    assert from_features == pytest.approx(0.75, abs=0.25)  # 3 * 0.5^2 plus sampling noise
    images = torch.tensor(real, dtype=torch.float32).view(400, 3, 1, 1) / 10  # in [-1, 1]
    fakes = torch.tensor(fake, dtype=torch.float32).view(400, 3, 1, 1) / 10
    from_images = metrics.frechet_inception_distance(images, fakes, extractor=lambda b: b.flatten(1) * 10)
    assert from_images == pytest.approx(from_features, rel=1e-4)
    with pytest.raises(ValueError, match="real holds images but extractor is None"):
        metrics.frechet_inception_distance(images, fakes)


@pytest.mark.parametrize("which", ["real", "fake"])
def test_precomputed_features_with_too_large_n(which):
    rng = np.random.default_rng(0)
    sets = {"real": rng.normal(size=(50, 4)), "fake": rng.normal(size=(50, 4))}
    sets[which] = sets[which][:30]
    with pytest.raises(ValueError, match=f"n = 40 samples were asked for but {which} holds only 30 feature rows"):
        metrics.frechet_inception_distance(sets["real"], sets["fake"], n=40)
    with pytest.raises(ValueError, match=f"n = 40 samples were asked for but {which} holds only 30 feature rows"):
        metrics.kernel_inception_distance(sets["real"], sets["fake"], n=40, subset_size=10, subsets=2)
    stats = metrics.FeatureStatistics.of(sets["real"])
    with pytest.raises(ValueError, match="accumulated from"):
        metrics.frechet_inception_distance(stats, sets["fake"], n=20)


def test_real_floor_on_real_data(real_root):
    calls = []

    def metric(train, test):
        calls.append((tuple(train.shape), tuple(test.shape)))
        return float(train.mean() - test.mean())

    difference = metrics.real_floor(metric, "mnist", n=500, root=real_root)
    assert calls == [((500, 1, 32, 32), (500, 1, 32, 32))]
    assert abs(difference) < 0.05  # two samples of the same digits
    with pytest.raises(ValueError, match="n = 20000 is out of range: the test split of mnist allows"):
        metrics.real_floor(metric, "mnist", n=20_000, root=real_root)


def test_fid_kid_floor_is_small_against_a_broken_generator(real_root):
    # a fixed random projection of the pixels is a crude but honest feature extractor
    projection = torch.randn(32 * 32, 16, generator=torch.Generator().manual_seed(0)) / 32
    extractor = lambda b: b.flatten(1) @ projection  # noqa: E731
    floor = metrics.fid_kid_floor(extractor, "mnist", n=600, subsets=20, root=real_root)
    real = metrics.real_images("mnist", "train", 600, root=real_root)
    blurred = torch.nn.functional.avg_pool2d(real, 4).repeat_interleave(4, 2).repeat_interleave(4, 3)
    fid = metrics.frechet_inception_distance(real, blurred, extractor)
    kid = metrics.kernel_inception_distance(real, blurred, extractor, subsets=20, subset_size=600)
    assert 0 <= floor["fid"] < fid / 5
    assert floor["kid"].mean < kid.mean / 5
