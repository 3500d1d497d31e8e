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


def test_evaluate_reports_precision_and_recall_beside_fid(real_root):
    from gancourse.config import EvalConfig
    from gancourse.metrics.classifier import TrainedClassifier
    from gancourse.models.classifier import DomainClassifier

    torch.manual_seed(0)
    classifier_cfg = metrics.ClassifierConfig(channels=4, feature_dim=8)
    model = DomainClassifier(classifier_cfg.channels, classifier_cfg.feature_dim).eval()
    extractor = metrics.ClassifierFeatures(TrainedClassifier(model, classifier_cfg, 0.1, 0, 0.0, "test"))
    cfg = EvalConfig(n=200, features="classifier", kid_subsets=10, kid_subset_size=50, class_histogram=False)
    real_train = metrics.real_images("mnist", "train", 200, seed=7)
    collapsed = real_train[:1].repeat(200, 1, 1, 1)  # one real digit, 200 times
    result = metrics.evaluate({"real train": real_train, "collapsed": collapsed}, cfg, extractor=extractor)
    real, one = result.scores["real train"].precision_recall, result.scores["collapsed"].precision_recall
    assert real.k == cfg.pr_k == 3 and real.recall > 0.5 and real.precision > 0.5
    assert one.recall < 0.05  # the collapse FID folds into one number, recall names
    assert result.floor.precision_recall is not None
    assert "recall" in str(result)
