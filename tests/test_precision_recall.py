import pytest
import torch

from gancourse import metrics


def points(n, d=8, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_a_subset_of_the_real_points_has_precision_one_and_recall_below_one():
    real = points(400)
    result = metrics.precision_recall(real, real[:80])
    assert result.precision == 1.0
    assert result.recall < 1.0


def test_a_collapsed_generator_has_recall_near_zero():
    real = points(400)
    collapsed = real[:1] + 1e-3 * points(300, seed=1)  # every sample next to one real point
    result = metrics.precision_recall(real, collapsed)
    assert result.precision == 1.0 and result.recall < 0.01


def test_a_shifted_generator_loses_both_and_a_fresh_sample_keeps_both():
    real = points(400)
    same = metrics.precision_recall(real, points(400, seed=2))
    far = metrics.precision_recall(real, points(400, seed=2) + 10.0)
    assert same.precision > 0.7 and same.recall > 0.7
    assert far.precision == 0.0 and far.recall == 0.0


def test_against_a_direct_computation_of_the_definition():
    real, fake, k = points(30, d=3), points(25, d=3, seed=4) * 1.5, 3

    def manifold(query, points):
        radius = [sorted(torch.dist(p, q).item() for q in points)[k] for p in points]  # [0] is the point itself
        return any(torch.dist(query, p).item() <= r for p, r in zip(points, radius, strict=True))

    precision = sum(manifold(f, real) for f in fake) / len(fake)
    recall = sum(manifold(r, fake) for r in real) / len(real)
    result = metrics.precision_recall(real, fake, k)
    assert result.precision == pytest.approx(precision) and result.recall == pytest.approx(recall)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="k = 5 is out of range"):
        metrics.precision_recall(points(5), points(10), k=5)
    with pytest.raises(ValueError, match="one extractor"):
        metrics.precision_recall(points(5, d=2), points(5, d=3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        metrics.precision_recall(torch.full((4, 2), float("nan")), points(4, d=2))
