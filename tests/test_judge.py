import numpy as np
import pytest
import torch

from gancourse.metrics import judge as judges
from gancourse.metrics.judge import NoJudge, choose_judge


def shipped(name):
    return name in ("mnist", "fashion_mnist", "emoji")


def test_grey_and_colour_are_told_apart():
    grey = torch.rand(4, 1, 8, 8) * 2 - 1
    assert judges.is_grey(grey) and judges.is_grey(grey.expand(-1, 3, -1, -1))  # grey saved as RGB
    colour = grey.repeat(1, 3, 1, 1)
    colour[:, 0] += 0.1
    assert not judges.is_grey(colour.clamp(-1, 1))
    with pytest.raises(ValueError, match="shape"):
        judges.is_grey(torch.zeros(4, 2, 8, 8))


def test_colour_images_never_get_a_grey_classifier():
    for kind in ("auto", "classifier"):
        with pytest.raises(NoJudge, match="the images are colour but the mnist classifier judges grey images"):
            choose_judge(grey=False, kind=kind, dataset="mnist", shipped=shipped)
    with pytest.raises(NoJudge, match="the images are grey but the emoji classifier judges colour"):
        choose_judge(grey=True, dataset="emoji", shipped=shipped)
    # no dataset, no Inception: refused, with what would work
    with pytest.raises(NoJudge, match=r"no sensible judge for colour images.*pass --dataset emoji.*download https"):
        choose_judge(grey=False, shipped=shipped, inception_missing="offline")
    with pytest.raises(NoJudge, match=r"grey images.*--dataset mnist"):
        choose_judge(grey=True, shipped=shipped, inception_missing="offline")


def test_shipped_classifiers_by_default_and_inception_for_the_rest():
    judge = choose_judge(grey=True, dataset="mnist", shipped=shipped)  # Inception available, still the shipped one
    assert (judge.kind, judge.dataset, judge.shipped, judge.image_size) == ("classifier", "mnist", True, 32)
    assert "shipped with gancourse.pretrained" in judge.reason
    assert choose_judge(grey=False, dataset="emoji_noto", shipped=shipped).dataset == "emoji"
    photos = choose_judge(grey=False, shipped=shipped)
    assert (photos.kind, photos.image_size) == ("inception", 299) and "InceptionV3" in photos.reason
    assert choose_judge(grey=True, kind="inception", dataset="mnist", shipped=shipped).kind == "inception"
    # CIFAR-10: no shipped classifier; Inception where it loads, else the one trained here, said so
    assert choose_judge(grey=False, dataset="cifar10", shipped=shipped).kind == "inception"
    local = choose_judge(grey=False, dataset="cifar10", shipped=shipped, inception_missing="offline")
    assert (local.kind, local.shipped) == ("classifier", False) and "trained on this machine" in local.reason
    with pytest.raises(NoJudge, match="needs --dataset"):
        choose_judge(grey=True, kind="classifier")
    with pytest.raises(NoJudge, match=r"cannot be loaded: offline; download .*inception_v3_google-0cc3c7bd.pth"):
        choose_judge(grey=True, kind="inception", inception_missing="offline")
    with pytest.raises(ValueError, match="dataset = 'svhn' is not known"):
        choose_judge(grey=True, dataset="svhn")


def test_offline_without_the_file_means_no_inception(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    assert "does not exist" in judges.inception_unavailable()
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / judges.INCEPTION_FILE).write_bytes(b"x")
    assert judges.inception_unavailable() is None


def test_floor_is_two_real_halves_at_the_score_count():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 8)).astype(np.float32)
    same = rng.normal(size=(300, 8)).astype(np.float32)
    shifted = same + 3
    close, far = judges.folder_scores(real, same), judges.folder_scores(real, shifted)
    assert close.n == far.n == 100  # half the real images a side, the fake cut to match
    assert close.floor_fid == far.floor_fid and close.floor_fid < 1.0
    assert abs(close.fid - close.floor_fid) < 1.0 and far.fid > 8 * 9 * 0.8  # ||mu shift||^2 = 8 * 9
    assert far.kid.mean > 100 * close.kid.mean and close.kid_subset == 50
    text = str(far)
    assert "real-vs-real floor" in text and "KID x 10^3" in text and "as papers print KID" in text
    assert judges.kid_per_mille(judges.MeanStd(0.0123, 0.001)) == "12.3 ± 1"


def test_too_few_images_are_refused_before_any_network():
    with pytest.raises(ValueError, match=r"DIR_B holds 2 image\(s\): FID and KID need at least 10"):
        judges.check_counts(400, 2)
    with pytest.raises(ValueError, match=r"DIR_A holds 15 image\(s\): at least 20 are needed"):
        judges.check_counts(15, 400)
    assert judges.check_counts(400, 50) == 50 and judges.check_counts(40, 400) == 20
    with pytest.raises(ValueError, match="kid_subset = 80 is out of range: allowed 2 <= kid_subset <= 20"):
        judges.folder_scores(np.zeros((40, 4)), np.zeros((40, 4)), kid_subset=80)


def test_load_judge_uses_the_shipped_file_and_names_the_missing_weights(monkeypatch):
    marker = object()
    judge = choose_judge(grey=True, dataset="fashion_mnist", shipped=shipped)
    assert judges.load_judge(judge, shipped_features=lambda name: marker if name == "fashion_mnist" else None) is marker
    with pytest.raises(NoJudge, match="shipped fashion_mnist classifier is missing"):
        judges.load_judge(judge)

    def no_weights():
        raise OSError("URL unreachable")

    monkeypatch.setattr(judges._features, "load_inception", no_weights)
    with pytest.raises(NoJudge, match=r"could not be loaded \(URL unreachable\); download https://download"):
        judges.load_judge(choose_judge(grey=False))
