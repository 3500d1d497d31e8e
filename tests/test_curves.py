import pytest
import torch

from gancourse import config, metrics, train
from gancourse.metrics.classifier import TrainedClassifier
from gancourse.models.classifier import DomainClassifier

CPU = torch.device("cpu")


def extractor():
    cfg = metrics.ClassifierConfig(channels=4, feature_dim=8)
    return metrics.ClassifierFeatures(TrainedClassifier(DomainClassifier(4, 8).eval(), cfg, 0.1, 0, 0.0, "test"))


def test_fid_curve_scores_every_k_steps_until_the_end_or_the_budget(monkeypatch):
    torch.manual_seed(0)
    images = torch.rand(64, 1, 32, 32) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(images))
    cfg = config.DCGANConfig(steps=5, image_size=32, base_channels=4, batch_size=8, latent_dim=8)
    real = torch.rand(40, 1, 32, 32) * 2 - 1
    features = extractor()
    long = metrics.fid_curve(
        train.dcgan, cfg, config.CurveConfig(seconds=3600, every=2, n=40), extractor=features, real=real, device=CPU
    )
    assert long.steps == (0, 2, 4, 5) and long.trainer.step == 5
    assert long.seconds[0] == 0.0 and all(a < b for a, b in zip(long.seconds, long.seconds[1:], strict=False))
    assert all(f >= 0 for f in long.fid) and len(long.fid) == 4
    short = metrics.fid_curve(
        train.dcgan, cfg, config.CurveConfig(seconds=1, every=1, n=40), extractor=features, real=real, device=CPU
    )
    assert short.seconds[-2] < 1.0 <= short.seconds[-1] or short.steps[-1] == cfg.steps  # stops once spent


def test_compare_fid_curves_shares_judge_and_real_images_and_scores_the_floor(monkeypatch):
    torch.manual_seed(0)
    images = torch.rand(64, 1, 32, 32) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(images))
    real = torch.rand(40, 1, 32, 32) * 2 - 1
    drawn = []

    def fake_real_images(dataset, split, n, seed=0, image_size=32, **kwargs):
        drawn.append((dataset, split, n, image_size))
        return real[:n]

    floors = []

    def fake_floor(metric, dataset, n, seed=0, root=None, image_size=32):
        floors.append((dataset, n, image_size))
        return metric(real[:n], real[:n])  # identical sets: FID 0 up to rounding

    monkeypatch.setattr(metrics.curves, "real_images", fake_real_images)
    monkeypatch.setattr(metrics.curves, "real_floor", fake_floor)
    cfg = config.DCGANConfig(steps=4, image_size=32, base_channels=4, batch_size=8, latent_dim=8)
    runs = {"plain": (train.dcgan, cfg), "augmented": (train.dcgan, cfg.replace(diff_augment="translation"))}
    curve = config.CurveConfig(seconds=3600, every=2, n=40)
    comparison = metrics.compare_fid_curves(runs, curve, extractor=extractor(), device=CPU)
    assert drawn == [("mnist", "test", 40, 32)] and floors == [("mnist", 40, 32)]  # one real set, one floor
    assert list(comparison.curves) == ["plain", "augmented"] and comparison.n == 40
    assert all(c.steps == (0, 2, 4) for c in comparison.curves.values())  # seconds above the steps: equal steps
    assert abs(comparison.floor) < 1e-6
    # the same data, seed and judge give the same first FID; DiffAugment changes the training after it
    assert comparison.curves["plain"].fid[0] == comparison.curves["augmented"].fid[0]
    assert comparison.series("steps")["plain"] == ((0, 2, 4), comparison.curves["plain"].fid)
    assert "real floor" in str(comparison) and "augmented" in str(comparison)
    with pytest.raises(ValueError, match="x = 'epochs'"):
        comparison.series("epochs")


def test_compare_fid_curves_refuses_runs_on_different_data():
    cfg = config.DCGANConfig(steps=1)
    with pytest.raises(ValueError, match="one data set and one image size"):
        metrics.compare_fid_curves({"a": (train.dcgan, cfg), "b": (train.dcgan, cfg.replace(image_size=64))})
    with pytest.raises(ValueError, match="runs is empty"):
        metrics.compare_fid_curves({})


def test_fid_curve_shortens_the_chunk_that_would_cross_the_budget(monkeypatch):
    clock = [0.0]

    class Trainer:  # each step costs 0.1 s on the fake clock
        step = 0

        def train(self, steps, progress=False):
            clock[0] += 0.1 * (steps - self.step)
            self.step = steps

        def generate(self, n):
            return torch.rand(n, 1, 32, 32) * 2 - 1

    monkeypatch.setattr(metrics.curves.time, "perf_counter", lambda: clock[0])
    cfg = config.DCGANConfig(steps=1000)
    curve = config.CurveConfig(seconds=2.5, every=10, n=20)
    result = metrics.fid_curve(
        lambda cfg, device=None: Trainer(), cfg, curve, extractor=extractor(), real=torch.rand(20, 1, 32, 32) * 2 - 1
    )
    assert result.steps == (0, 10, 20, 25)  # 2.5 s at 0.1 s per step: the last chunk is 5 steps, not 10
    assert result.seconds[-1] == pytest.approx(2.5)
