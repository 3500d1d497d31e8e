import torch

from gancourse import train
from gancourse.config import RegressionConfig
from gancourse.models import TinyRegressor


def test_training_lowers_held_out_error():
    cfg = RegressionConfig(steps=300, lr=1e-2)
    torch.manual_seed(cfg.seed)
    untrained = train.evaluate_regressor(TinyRegressor(hidden=cfg.hidden), cfg, torch.device("cpu"))
    run = train.train_regressor(cfg, torch.device("cpu"))
    assert len(run.train_loss) == cfg.steps
    assert run.test_loss < untrained / 5
    assert run.test_loss < 0.25  # the target's variance is about 1.4; noise floor 0.01


def test_runs_are_reproducible_and_seed_dependent():
    cfg = RegressionConfig(steps=40)
    a = train.train_regressor(cfg, torch.device("cpu"))
    b = train.train_regressor(cfg, torch.device("cpu"))
    c = train.train_regressor(cfg.replace(seed=1), torch.device("cpu"))
    assert a.train_loss == b.train_loss
    assert a.train_loss != c.train_loss


def test_steps_span_epochs():
    cfg = RegressionConfig(steps=50, n_train=64, batch_size=32)  # 2 batches per epoch
    assert len(train.train_regressor(cfg, torch.device("cpu")).train_loss) == 50
