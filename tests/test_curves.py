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
