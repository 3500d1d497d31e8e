import numpy as np
import pytest
import scipy.linalg
import torch

from gancourse import data, metrics
from gancourse.data import ImageTensorDataset, grid_of_gaussians, ring_of_gaussians
from gancourse.metrics import features as features_module


def random_covariance(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d


def trace_sqrt_product(s1, s2):
    """Tr (S1 S2)^{1/2} = Tr (S1^{1/2} S2 S1^{1/2})^{1/2}: symmetric eigendecompositions only, no sqrtm."""
    w, v = np.linalg.eigh(s1)
    root1 = v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root1 @ s2 @ root1)
    return np.sqrt(np.clip(inner, 0, None)).sum()


# --------------------------------------------------------------------------------------
# Fréchet distance
# --------------------------------------------------------------------------------------


def test_frechet_distance_diagonal_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    std1, std2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = ((mu1 - mu2) ** 2).sum() + ((std1 - std2) ** 2).sum()
    got = metrics.frechet_distance(mu1, np.diag(std1**2), mu2, np.diag(std2**2))
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_matches_eigendecomposition():
    rng = np.random.default_rng(1)
    d = 20
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = random_covariance(rng, d), random_covariance(rng, d)
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_identical_symmetric_and_tensors():
    rng = np.random.default_rng(2)
    mu, s = rng.standard_normal(8), random_covariance(rng, 8)
    assert metrics.frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-9)
    mu2, s2 = rng.standard_normal(8), random_covariance(rng, 8)
    forward = metrics.frechet_distance(mu, s, mu2, s2)
    assert forward > 0
    assert metrics.frechet_distance(mu2, s2, mu, s) == pytest.approx(forward, rel=1e-9)
    as_tensors = metrics.frechet_distance(torch.tensor(mu), torch.tensor(s), torch.tensor(mu2), torch.tensor(s2))
    assert as_tensors == pytest.approx(forward, rel=1e-9)


def test_frechet_distance_singular_covariances():
    # diagonal with zeros: the product is singular, the closed form still holds
    s1, s2 = np.diag([1.0, 0.0, 4.0]), np.diag([0.0, 9.0, 1.0])
    assert metrics.frechet_distance(np.zeros(3), s1, np.zeros(3), s2) == pytest.approx(11.0, abs=1e-2)
    # rank-deficient dense covariances (fewer samples than dimensions), as with few real images
    rng = np.random.default_rng(3)
    d = 30
    s1, s2 = random_covariance(rng, d, rank=5), random_covariance(rng, d, rank=7)
    mu = np.zeros(d)
    expected = np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2)
    got = metrics.frechet_distance(mu, s1, mu, s2)
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-3, abs=1e-3)


def test_frechet_distance_is_what_scipy_gives_for_full_rank():
    rng = np.random.default_rng(4)
    s1, s2 = random_covariance(rng, 5), random_covariance(rng, 5)
    mu = np.zeros(5)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.trace(s1 + s2 - 2 * covmean)
    assert metrics.frechet_distance(mu, s1, mu, s2) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.zeros(3), np.eye(3), np.zeros(4), np.eye(4)), "mu1 has 3 feature dimensions but mu2 has 4"),
        ((np.zeros(3), np.eye(4), np.zeros(3), np.eye(3)), r"sigma1 has shape \(4, 4\)"),
        ((np.array([0, np.nan, 0]), np.eye(3), np.zeros(3), np.eye(3)), "mu1 holds 1 NaN or infinite"),
        ((np.zeros(3), np.eye(3), np.zeros(3), np.full((3, 3), np.inf)), "sigma2 holds 9 NaN or infinite"),
    ],
)
def test_frechet_distance_bad_inputs(args, message):
    with pytest.raises(ValueError, match=message):
        metrics.frechet_distance(*args)


def test_frechet_distance_rejects_non_covariance():
    # a negative "variance": the square root of the product is imaginary
    with pytest.raises(ValueError, match="imaginary part of 2 on its diagonal: .* positive semi-definite"):
        metrics.frechet_distance(np.zeros(2), np.diag([-1.0, -4.0]), np.zeros(2), np.eye(2))


def test_frechet_distance_rejects_a_non_symmetric_covariance():
    # a rotation-like matrix: the old code returned -0.70 for it
    with pytest.raises(ValueError, match=r"sigma1 is not symmetric \(largest \|sigma1 - sigma1\^T\| = 6"):
        metrics.frechet_distance(np.zeros(2), np.array([[2.0, -3.0], [3.0, 2.0]]), np.zeros(2), np.eye(2))
    # asymmetry at rounding level is symmetrised away, not refused
    rng = np.random.default_rng(0)
    s = random_covariance(rng, 4)
    nudged = s + 1e-12 * np.triu(np.ones((4, 4)), 1)
    assert metrics.frechet_distance(np.zeros(4), nudged, np.zeros(4), s) == pytest.approx(0.0, abs=1e-6)


def test_fid_of_a_set_with_itself_is_never_negative_with_fewer_samples_than_dimensions():
    for seed in range(5):
        x = np.random.default_rng(seed).normal(size=(20, 64))  # n < d: a singular covariance
        assert metrics.frechet_inception_distance(x, x) == 0.0  # was about -2e-6


def test_frechet_distance_far_below_zero_raises():
    # symmetric but not positive semi-definite with a real root of the product: not a covariance
    s1 = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="(< 0, beyond rounding|imaginary part)"):
        metrics.frechet_distance(np.zeros(2), s1, np.zeros(2), s1)


def test_metric_helpers_live_in_one_shared_module():
    import importlib

    arrays = importlib.import_module("gancourse.metrics.arrays")
    for name in ("fid", "kid", "coverage", "inception_score"):
        module = importlib.import_module(f"gancourse.metrics.{name}")
        assert module.as_numpy is arrays.as_numpy and module.check_finite is arrays.check_finite


# --------------------------------------------------------------------------------------
# Streaming statistics
# --------------------------------------------------------------------------------------


def test_streaming_statistics_equal_numpy():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1003, 7)) * rng.uniform(0.1, 10, 7) + 1000.0  # large offset: tests cancellation
    stats = metrics.FeatureStatistics()
    for chunk in np.array_split(x, [1, 50, 51, 700]):  # uneven batches, one of size 1
        stats.update(torch.tensor(chunk, dtype=torch.float64))
    assert stats.n == 1003 and stats.dim == 7
    np.testing.assert_allclose(stats.mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov, np.cov(x, rowvar=False), rtol=1e-9)


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


def test_statistics_bad_inputs():
    stats = metrics.FeatureStatistics().update(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="n = 1 sample.* too few for a covariance: need n >= 2"):
        _ = stats.cov
    with pytest.raises(ValueError, match="features have 3 dimensions but earlier batches had 4"):
        stats.update(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="features holds 1 NaN"):
        stats.update(np.array([[0, 0, np.nan, 0]]))
    a = metrics.FeatureStatistics.of(np.random.randn(10, 4))
    b = metrics.FeatureStatistics.of(np.random.randn(10, 5))
    with pytest.raises(ValueError, match="real features have 4 dimensions but fake features have 5"):
        metrics.fid_from_statistics(a, b)


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


# --------------------------------------------------------------------------------------
# KID
# --------------------------------------------------------------------------------------


def test_kid_near_zero_for_one_distribution_positive_for_two():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((1000, 16)), rng.standard_normal((1000, 16))
    same = metrics.kid_from_features(a, b, subsets=20, subset_size=400)
    shifted = metrics.kid_from_features(a, b + 0.5, subsets=20, subset_size=400)
    assert abs(same.mean) < 3 * same.std + 1e-3
    assert shifted.mean > 0.05 and shifted.mean > 10 * shifted.std
    mean, std = shifted  # unpacks like a tuple
    assert std > 0


def test_mmd2_unbiased_matches_a_double_loop():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3)) + 1
    k = lambda u, v: (u @ v / 3 + 1) ** 3  # noqa: E731
    m = 6
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m**2
    assert metrics.mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-10)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"subset_size": 101}, r"subset_size = 101 is larger than the number of samples \(real 100, fake 100\)"),
        ({"subsets": 0}, "subsets = 0 is out of range"),
    ],
)
def test_kid_bad_arguments(kwargs, message):
    x = np.zeros((100, 4))
    with pytest.raises(ValueError, match=message):
        metrics.kid_from_features(x, x, **kwargs)


def test_kid_bad_features():
    with pytest.raises(ValueError, match="real features have 4 dimensions but fake features have 5"):
        metrics.kid_from_features(np.zeros((10, 4)), np.zeros((10, 5)), subset_size=5)
    with pytest.raises(ValueError, match="fake holds 1 NaN"):
        metrics.kid_from_features(np.zeros((10, 4)), np.pad(np.full((1, 1), np.inf), ((0, 9), (0, 3))), subset_size=5)


# --------------------------------------------------------------------------------------
# Inception Score
# --------------------------------------------------------------------------------------


def test_inception_score_bounds():
    confident_uniform = np.eye(10)[np.arange(1000) % 10]
    assert metrics.inception_score(confident_uniform).mean == pytest.approx(10.0)
    constant = np.tile(np.full(10, 0.1), (1000, 1))
    assert metrics.inception_score(constant).mean == pytest.approx(1.0)
    one_class = np.eye(10)[np.zeros(1000, dtype=int)]
    assert metrics.inception_score(one_class, splits=5).mean == pytest.approx(1.0)
    rng = np.random.default_rng(9)
    random = torch.softmax(torch.tensor(rng.standard_normal((1000, 10)) * 3), dim=1)
    score = metrics.inception_score(random, splits=10)
    assert 1.0 < score.mean < 10.0 and score.std > 0


def test_inception_score_half_the_classes():
    # confident predictions spread over 5 of 10 classes: exp(log 5) = 5
    five = np.eye(10)[np.arange(1000) % 5]
    assert metrics.inception_score(five, splits=1).mean == pytest.approx(5.0)


@pytest.mark.parametrize(
    "probabilities, splits, message",
    [
        (np.full((10, 4), 0.25), 0, "splits = 0 is out of range"),
        (np.full((10, 4), 0.25), 11, "splits = 11 is larger than the number of samples"),
        (np.full((10, 4), 0.3), 1, "rows must sum to 1 but one sums to 1.2"),
        (np.full((10, 4), -0.25), 1, "negative values: pass softmax outputs, not logits"),
        (np.full(4, 0.25), 1, r"must have shape \(N, K\)"),
    ],
)
def test_inception_score_bad_inputs(probabilities, splits, message):
    with pytest.raises(ValueError, match=message):
        metrics.inception_score(probabilities, splits=splits)


# --------------------------------------------------------------------------------------
# Mode and class coverage
# --------------------------------------------------------------------------------------


def test_mode_coverage_all_modes():
    ring = ring_of_gaussians()
    points = ring.sample(2500, generator=torch.Generator().manual_seed(0))
    result = metrics.mode_coverage(points, ring)
    assert result.modes_captured == 8 and result.n_modes == 8
    assert result.high_quality_share > 0.98  # 3 std in 2-D holds 1 - exp(-4.5) = 98.9 %
    assert result.kl_from_uniform < 0.01
    assert "8/8 modes" in str(result)


def test_mode_coverage_some_modes_and_threshold():
    grid = grid_of_gaussians()
    g = torch.Generator().manual_seed(1)
    centres = grid.centers[:5]  # a generator collapsed onto 5 of 25 modes
    points = centres[torch.randint(5, (2000,), generator=g)] + grid.std * torch.randn(2000, 2, generator=g)
    stray = grid.centers[5] + grid.std * torch.randn(10, 2, generator=g)  # 10 of 2,010 samples: below 0.8 %
    result = metrics.mode_coverage(torch.cat([points, stray]), grid)
    assert result.modes_captured == 5
    assert result.captured[:5].all() and not result.captured[5:].any()
    assert result.counts[5] == 10
    assert metrics.mode_coverage(torch.cat([points, stray]), grid, min_share=0.001).modes_captured == 6
    assert result.kl_from_uniform == pytest.approx(np.log(25 / 5), abs=0.05)


def test_mode_coverage_garbage():
    ring = ring_of_gaussians()
    far = torch.randn(1000, 2) * 0.1 + torch.tensor([10.0, 10.0])  # nowhere near the ring
    result = metrics.mode_coverage(far, ring)
    assert result.modes_captured == 0 and result.high_quality_share == 0.0
    assert np.isnan(result.kl_from_uniform)
    between = torch.zeros(500, 2)  # the centre of the ring: 2 = 100 std from every mode
    assert metrics.mode_coverage(between, ring).high_quality_share == 0.0


def test_mode_coverage_bad_inputs():
    ring = ring_of_gaussians()
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\)"):
        metrics.mode_coverage(torch.zeros(5, 3), ring)
    with pytest.raises(ValueError, match="points holds 1 NaN"):
        metrics.mode_coverage(torch.tensor([[0.0, float("nan")]]), ring)
    with pytest.raises(ValueError, match="quality_std = 0"):
        metrics.mode_coverage(torch.zeros(5, 2), ring, quality_std=0)


def test_class_coverage():
    balanced = np.eye(10)[np.arange(100) % 10]
    result = metrics.class_coverage(balanced)
    assert result.classes_present == 10 and result.kl_from_uniform == pytest.approx(0.0)
    collapsed = np.eye(10)[np.array([3] * 90 + [4] * 10)]
    result = metrics.class_coverage(collapsed)
    assert result.classes_present == 2
    assert list(result.counts[3:5]) == [90, 10]
    assert result.kl_from_uniform == pytest.approx(0.9 * np.log(9) + 0.1 * np.log(1.0))
    assert metrics.kl_from_uniform([5, 0, 0, 0]) == pytest.approx(np.log(4))


# --------------------------------------------------------------------------------------
# Image sources and the real-data floor
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Feature extractors
# --------------------------------------------------------------------------------------


def untrained_classifier(dataset="mnist"):
    from gancourse.models.classifier import DomainClassifier

    cfg = metrics.ClassifierConfig(dataset=dataset, channels=4, feature_dim=8)
    model = DomainClassifier(cfg.channels, cfg.feature_dim).eval()
    return metrics.TrainedClassifier(model, cfg, 0.1, 0, 0.0, "test")


def test_inception_offline_falls_back_to_the_classifier(monkeypatch, capsys):
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


def test_classifier_features_and_probabilities():
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


def test_nearest_neighbours_closed_form():
    # reference: the corners of the unit square; queries at known places
    reference = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    queries = torch.tensor([[0.1, 0.0], [0.9, 1.0], [0.5, 0.5]])
    distances, indices = metrics.nearest_neighbours(queries, reference, k=2, batch_size=2)
    assert distances.shape == indices.shape == (3, 2)
    assert indices[0].tolist() == [0, 1] and indices[1].tolist() == [3, 2]
    torch.testing.assert_close(distances[0], torch.tensor([0.1, 0.9], dtype=torch.float64))
    torch.testing.assert_close(distances[2], torch.full((2,), 0.5**0.5, dtype=torch.float64))
    assert (distances[:, 0] <= distances[:, 1]).all()


def test_nearest_neighbours_finds_copies_among_images_and_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    reference = torch.rand(300, 1, 8, 8, generator=g) * 2 - 1
    copies = reference[[17, 250, 3]]
    distances, indices = metrics.nearest_neighbours(copies, reference)
    assert indices[:, 0].tolist() == [17, 250, 3]
    assert distances.abs().max() < 1e-6  # exact copies: distance 0 despite the ||a||^2 - 2ab + ||b||^2 form
    queries = torch.rand(20, 1, 8, 8, generator=g)
    distances, indices = metrics.nearest_neighbours(queries, reference, k=3, batch_size=7)
    brute = torch.cdist(queries.flatten(1).double(), reference.flatten(1).double())  # (20, 300)
    expected, expected_i = brute.sort(dim=1)
    torch.testing.assert_close(distances, expected[:, :3])
    assert (indices == expected_i[:, :3]).all()


@pytest.mark.parametrize(
    "queries, reference, kwargs, message",
    [
        (torch.zeros(2, 3), torch.zeros(4, 2), {}, "values per row"),
        (torch.zeros(2, 3), torch.zeros(4, 3), {"k": 5}, "k = 5"),
        (torch.zeros(2, 3), torch.zeros(4, 3), {"k": 0}, "k = 0"),
        (torch.zeros(2, 3), torch.zeros(4, 3), {"batch_size": 0}, "batch_size"),
        (torch.zeros(0, 3), torch.zeros(4, 3), {}, "queries must have shape"),
        (torch.full((2, 3), float("nan")), torch.zeros(4, 3), {}, "NaN"),
    ],
)
def test_nearest_neighbours_bad_inputs(queries, reference, kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.nearest_neighbours(queries, reference, **kwargs)


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


def test_kl_from_uniform_refuses_nan_counts():
    with pytest.raises(ValueError, match="counts holds 1 NaN or infinite"):
        metrics.kl_from_uniform(np.array([1.0, np.nan, 2.0]))


# --------------------------------------------------------------------------------------
# evaluate: the chapters' one evaluation call
# --------------------------------------------------------------------------------------


def test_evaluate_ranks_real_images_above_noise_and_reports_the_floor(real_root):
    extractor = metrics.ClassifierFeatures(untrained_classifier())
    from gancourse.config import EvalConfig

    cfg = EvalConfig(n=200, features="classifier", kid_subsets=10, kid_subset_size=50)
    real_train = metrics.real_images("mnist", "train", 400, seed=7)
    noise = torch.rand(400, 1, 32, 32) * 2 - 1
    result = metrics.evaluate(
        {"real train": real_train, "noise": lambda n: noise[:n]}, cfg, extractor=extractor, mode="quick"
    )
    assert result.features == extractor.name and result.config.n == 200
    assert result.scores["real train"].fid < result.scores["noise"].fid
    assert result.scores["real train"].kid.mean < result.scores["noise"].kid.mean
    # the floor is a real-vs-real score at the same n: close to real train images, far from noise
    assert result.floor.fid < result.scores["noise"].fid / 5
    shares = result.class_shares()
    assert list(shares) == ["real test images", "real train", "noise"]
    assert all(abs(float(np.sum(s)) - 1) < 1e-6 for s in shares.values())
    text = str(result)
    assert "n = 200 generated and 200 real images each" in text and "real floor" in text


def test_evaluate_conditional_asks_for_balanced_labels(real_root):
    extractor = metrics.ClassifierFeatures(untrained_classifier())
    from gancourse.config import EvalConfig

    cfg = EvalConfig(n=100, features="classifier", kid_subsets=5, kid_subset_size=20)
    asked = []

    def sample(n, labels):
        asked.append(labels)
        return torch.rand(n, 1, 32, 32) * 2 - 1

    result = metrics.evaluate({"cGAN": sample}, cfg, conditional=True, extractor=extractor, mode="quick")
    assert torch.equal(asked[0], torch.arange(10).repeat_interleave(10))
    accuracy = result.scores["cGAN"].accuracy
    assert accuracy is not None and accuracy.confusion.sum() == 100


def test_evaluate_refuses_too_few_or_no_samples():
    extractor = metrics.ClassifierFeatures(untrained_classifier())
    from gancourse.config import EvalConfig

    cfg = EvalConfig(n=100, features="classifier")
    with pytest.raises(ValueError, match="samples is empty"):
        metrics.evaluate({}, cfg, extractor=extractor)
    with pytest.raises(ValueError, match=r"samples\['G'\] returned 3 images for n = 100"):
        metrics.evaluate({"G": lambda n: torch.zeros(3, 1, 32, 32)}, cfg, extractor=extractor)


# --------------------------------------------------------------------------------------
# Colour: degradations, the emoji classifier's ranking, evaluate on colour generators
# --------------------------------------------------------------------------------------


def test_degrade_keeps_shape_and_range_and_does_what_it_says():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 16, 16, generator=g) * 2 - 1
    for kind in metrics.DEGRADATIONS:
        assert metrics.degrade(images, kind, 0) is images  # strength 0: the images themselves
        out = metrics.degrade(images, kind, 0.3)
        assert out.shape == images.shape and out.min() >= -1 and out.max() <= 1
        assert not torch.allclose(out, images)
    flat = torch.full((1, 3, 16, 16), 0.2)
    torch.testing.assert_close(metrics.degrade(flat, "blur", 2.0), flat)  # blur leaves a flat image alone
    grey = torch.linspace(-1, 1, 16).expand(1, 3, 16, 16)  # grey levels have no hue
    torch.testing.assert_close(metrics.degrade(grey, "hue", 0.3), grey, atol=1e-5, rtol=0)
    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    cyan = torch.tensor([-1.0, 1.0, 1.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    torch.testing.assert_close(metrics.degrade(red, "hue", 0.5), cyan, atol=1e-5, rtol=0)  # half a turn
    noisy = metrics.degrade(torch.zeros(1, 1, 64, 64), "noise", 0.1)
    assert 0.09 < noisy.std() < 0.11
    rows = metrics.degraded_rows(images)
    assert list(rows)[:2] == ["real", "blur 0.5"] and len(rows) == 1 + sum(map(len, metrics.DEGRADATIONS.values()))
    assert "hue 0.5" not in metrics.degraded_rows(images[:, :1])  # grey images: no hue rows
    with pytest.raises(ValueError, match="kind = 'swirl' is not a degradation"):
        metrics.degrade(images, "swirl", 1.0)
    with pytest.raises(ValueError, match="strength = -1 is out of range"):
        metrics.degrade(images, "blur", -1)
    with pytest.raises(ValueError, match="'hue' needs colour images"):
        metrics.degrade(torch.zeros(1, 1, 8, 8), "hue", 0.1)


@pytest.fixture(scope="module")
def emoji_judge():
    """The emoji classifier (category x designer) after four epochs: about 10 s on one core."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trained = metrics.train_classifier(metrics.ClassifierConfig(dataset="emoji", epochs=4, channels=16))
    finally:
        torch.set_num_threads(threads)
    return metrics.ClassifierFeatures(trained)


@pytest.mark.slow
def test_emoji_features_rank_degraded_real_images(emoji_judge):
    # real emoji blurred, noised or with their hue turned are generators whose ranking is known:
    # FID must grow with every degradation, from the real-data floor on, and the floor must sit far below
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = metrics.degradation_scores(
            emoji_judge,
            "emoji",
            n=400,
            degradations={"blur": (0.5, 1.0, 2.0), "noise": (0.1, 0.2, 0.4), "hue": (0.3, 0.5)},
            kid_subsets=10,
        )
    finally:
        torch.set_num_threads(threads)
    # the classifier sees colour only as far as it tells categories and designers apart: a hue
    # turn costs less than blur or noise
    for kind, factor in (("blur", 3), ("noise", 3), ("hue", 2)):
        assert result.monotonic(kind), str(result)
        strongest = list(result.fid[kind].values())[-1]
        assert result.floor_fid < strongest / factor, str(result)
        assert result.floor_kid.mean < list(result.kid[kind].values())[-1].mean, str(result)
    floor = metrics.fid_kid_floor(emoji_judge, "emoji", n=400, subsets=10, subset_size=200)
    assert floor["fid"] == pytest.approx(result.floor_fid)  # strength 0 is the floor: same images
    assert "grows with the strength" in str(result) and emoji_judge.name in str(result)


@pytest.mark.slow
def test_evaluate_scores_a_64px_colour_generator_against_64px_real_emoji(emoji_judge):
    from gancourse.config import EvalConfig

    cfg = EvalConfig(dataset="emoji", n=200, features="classifier", kid_subsets=5, kid_subset_size=50)
    real = metrics.real_images("emoji", "train", 200, seed=3, image_size=64)
    assert real.shape == (200, 3, 64, 64) and real.min() >= -1 and real.max() <= 1
    blurred = metrics.degrade(real, "blur", 3.0)
    result = metrics.evaluate({"real": real, "blurred": blurred}, cfg, extractor=emoji_judge, mode="quick")
    assert result.scores["real"].fid < result.scores["blurred"].fid
    assert result.floor.fid < result.scores["blurred"].fid / 3
    assert result.classes == data.EMOJI_CATEGORIES and len(result.real.coverage.shares) == 10
    assert "domain classifier (emoji (category x designer)" in str(result)
    with pytest.raises(ValueError, match=r"emoji has 3 channel\(s\)"):
        metrics.evaluate({"grey": torch.zeros(200, 1, 32, 32)}, cfg, extractor=emoji_judge)
    with pytest.raises(ValueError, match="different image shapes"):
        metrics.evaluate({"a": real, "b": real[:, :, :32, :32]}, cfg, extractor=emoji_judge)
    with pytest.raises(ValueError, match="n = 1000 is out of range: the test split of emoji allows 2 <= n <= 742"):
        metrics.evaluate({"real": real.repeat(5, 1, 1, 1)}, cfg.replace(n=1000), extractor=emoji_judge)
