import numpy as np
import pytest
import torch

from gancourse import data, metrics

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


def test_kid_of_huge_features_is_an_error_naming_their_size_not_nan():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((20, 4)), rng.standard_normal((20, 4))
    with pytest.raises(ValueError, match=r"KID overflowed: the features reach \|value\| = [0-9.]+e\+110"):
        metrics.kid_from_features(x * 1e110, y * 1e110, subsets=3, subset_size=10)
    big = metrics.kid_from_features(x * 1e20, y * 1e20, subsets=3, subset_size=10)  # large but representable
    assert np.isfinite(big.mean) and np.isfinite(big.std)


def test_kid_spread_is_the_reference_std_of_the_subset_estimates():
    """Bińkowski et al.'s compute_scores.py and torch-fidelity report np.std of the estimates: ddof = 0."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((50, 4)), rng.standard_normal((50, 4)) + 0.3
    kid = metrics.kid_from_features(x, y, subsets=5, subset_size=20, seed=11)
    draw = np.random.default_rng(11)
    estimates = []
    for _ in range(5):  # the same subsets, drawn in the same order
        i, j = draw.choice(50, 20, replace=False), draw.choice(50, 20, replace=False)
        estimates.append(metrics.mmd2_unbiased(x[i], y[j]))
    assert kid.mean == pytest.approx(np.mean(estimates), rel=1e-12)
    assert kid.std == pytest.approx(np.std(estimates, ddof=0), rel=1e-12)
    assert np.isnan(metrics.kid_from_features(x, y, subsets=1, subset_size=20).std)  # one estimate: no spread


def test_kid_per_mille_is_1000_times_the_mmd2_written_out():
    assert metrics.kid_per_mille(metrics.MeanStd(0.0123, 0.001)) == "12.3 ± 1"
    assert metrics.kid_per_mille(metrics.MeanStd(161.4, 74.2)) == "161,000 ± 74,000"  # no 1.61e+05
    assert metrics.kid_per_mille(metrics.MeanStd(-0.00042, 0.00031)) == "-0.42 ± 0.31"
    assert metrics.kid_per_mille(0.0896) == "89.6"  # a bare mean, as the tables' columns hold it


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
    grey_rows = metrics.degraded_rows(images[:, :1])
    assert "hue 0.5" not in grey_rows and "desaturate 1" not in grey_rows  # grey images: no colour rows
    with pytest.raises(ValueError, match="kind = 'swirl' is not a degradation"):
        metrics.degrade(images, "swirl", 1.0)
    with pytest.raises(ValueError, match="strength = -1 is out of range"):
        metrics.degrade(images, "blur", -1)
    with pytest.raises(ValueError, match="'hue' needs colour images"):
        metrics.degrade(torch.zeros(1, 1, 8, 8), "hue", 0.1)


def test_desaturate_fades_to_the_bt601_grey_and_keeps_grey_pixels():
    g = torch.Generator().manual_seed(1)
    images = torch.rand(3, 3, 8, 8, generator=g) * 2 - 1
    rgb = (images + 1) / 2
    luma = 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]  # ITU-R BT.601, recomputed here
    grey = (luma * 2 - 1).unsqueeze(1).expand_as(images)
    torch.testing.assert_close(metrics.degrade(images, "desaturate", 1.0), grey, atol=1e-3, rtol=0)
    half = metrics.degrade(images, "desaturate", 0.5)
    torch.testing.assert_close(half, (images + grey) / 2, atol=1e-3, rtol=0)  # halfway to grey
    spread = lambda x: (x.max(dim=1).values - x.min(dim=1).values).mean()  # noqa: E731  (0 for grey pixels)
    assert spread(metrics.degrade(images, "desaturate", 0.25)) > spread(half) > 0
    flat_grey = torch.linspace(-1, 1, 16).expand(1, 3, 16, 16)
    torch.testing.assert_close(metrics.degrade(flat_grey, "desaturate", 1.0), flat_grey, atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="strength = 1.5 is out of range for 'desaturate'"):
        metrics.degrade(images, "desaturate", 1.5)
    with pytest.raises(ValueError, match="'desaturate' needs colour images"):
        metrics.degrade(torch.zeros(1, 1, 8, 8), "desaturate", 0.5)


def _scores(floor_kid: float, kids: list[float]) -> metrics.DegradationScores:
    """Made-up scores whose FID grows with the strength and whose KID means are ``kids``."""
    strengths = (0.25, 0.5, 1.0)
    return metrics.DegradationScores(
        features="made up",
        n=10,
        floor_fid=1.0,
        floor_kid=metrics.MeanStd(floor_kid, 0.1),
        fid={"desaturate": dict(zip(strengths, (2.0, 3.0, 4.0), strict=True))},
        kid={"desaturate": {s: metrics.MeanStd(k, 0.1) for s, k in zip(strengths, kids, strict=True)}},
    )


def test_degradation_verdicts_ask_fid_and_kid_separately():
    blind = _scores(0.161, [0.15, 0.12, 0.096])  # KID falls below the floor: it cannot see the degradation
    assert blind.monotonic("desaturate") and not blind.monotonic("desaturate", "kid")
    assert "desaturate: FID grows with the strength; KID does NOT grow with the strength" in str(blind)
    assert "KID x 10^3" in str(blind) and "161 ± 100" in str(blind)  # the floor, x 1000
    assert _scores(0.1, [0.2, 0.3, 0.4]).monotonic("desaturate", "kid")
    with pytest.raises(ValueError, match="metric = 'is' is not a score here"):
        blind.monotonic("desaturate", "is")


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
def test_the_shipped_emoji_judges_fid_sees_greyscale_and_its_kid_does_not():
    # what chapter 11 says of the emoji KID: desaturated real emoji score at or below the floor
    from gancourse.pretrained.scores import domain_features

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        judge = domain_features("emoji")  # the shipped classifier: the same features on every machine
        n = metrics.split_size("emoji", "test")
        result = metrics.degradation_scores(
            judge, "emoji", n=n, degradations={"desaturate": (0.5, 1.0)}, kid_subsets=30
        )
    finally:
        torch.set_num_threads(threads)
    fid, kid = result.fid["desaturate"], result.kid["desaturate"]
    assert result.monotonic("desaturate") and fid[1.0] > 1.5 * result.floor_fid, str(result)
    assert kid[1.0].mean < result.floor_kid.mean and not result.monotonic("desaturate", "kid"), str(result)
    assert "desaturate: FID grows with the strength; KID does NOT grow with the strength" in str(result)


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


# --------------------------------------------------------------------------------------
# score_run: the one scoring of a finished run
# --------------------------------------------------------------------------------------


class _Projection(metrics.FeatureExtractor):
    """A fixed random projection of grey 32 x 32 images (features for the plumbing only)."""

    name = "random projection (test only)"
    dim = 6

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(32 * 32, 6)
        torch.nn.init.normal_(self.proj.weight, generator=torch.Generator().manual_seed(0))

    def forward(self, images):
        grey = torch.nn.functional.interpolate(images.mean(dim=1, keepdim=True), size=32)
        return self.proj(grey.flatten(1))


def test_score_run_of_image_gans_against_the_floor_with_the_recipes_samples():
    from gancourse.config import DCGANConfig, EvalConfig
    from gancourse.train import RECIPES

    cfg = DCGANConfig(base_channels=4, image_size=16)  # 16 px: resized to the real images' 32 for the score
    generator = RECIPES["dcgan"].build_generator(cfg)
    eval_cfg = EvalConfig(class_histogram=False, kid_subset_size=10)
    result = metrics.score_run(
        "dcgan", cfg, {"untrained": generator}, 40, seed=3, features=lambda dataset: _Projection(), eval_cfg=eval_cfg
    )
    assert result["n"] == 40 and result["features"] == _Projection.name and "resized from 16 to 32" in result["note"]
    score = result["untrained"]
    assert score["fid"] > result["floor"]["fid"] > 0 and score["fid_over_floor"] > 1
    drawn = RECIPES["dcgan"].sample(cfg, generator, 40, seed=3)  # the same samples, recomputed independently
    assert score["sample_std"] == pytest.approx(drawn.std().item(), rel=1e-5)
    table = metrics.scores_table(result)
    assert "untrained" in table and "real floor" in table
    row = next(line for line in table.splitlines() if line.startswith("untrained"))
    assert "kid x 10^3" in table and f" {metrics.kid_per_mille(score['kid'][0])}" in row  # the stored MMD^2 x 1000
    bare = metrics.score_run("dcgan", cfg, {"untrained": generator}, 40, seed=3, features=lambda dataset: None)
    assert bare["features"] is None and "no FID for 'mnist'" in bare["note"]
    assert bare["untrained"] == {k: score[k] for k in ("sample_mean_abs", "sample_std")}


def test_score_run_of_pix2pix_is_the_l1_to_its_own_test_pairs(monkeypatch):
    from gancourse.config import Pix2PixConfig
    from gancourse.train import RECIPES, recipe_parts

    edges = torch.rand(12, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    monkeypatch.setattr(recipe_parts, "edge_pairs", lambda cfg, split, threshold: (edges, edges.flip(-1), None))
    cfg = Pix2PixConfig(base_channels=4, d_layers=1)
    generator = RECIPES["pix2pix"].build_generator(cfg)
    result = metrics.score_run("pix2pix", cfg, {"G": generator}, 20, seed=1, features=lambda dataset: None)
    assert result["n"] == 12 and "holds 12 pairs" in result["note"]  # capped at the test split
    outputs = RECIPES["pix2pix"].sample(cfg, generator, 12, seed=1, inputs=edges)
    assert result["G"]["l1"] == pytest.approx((outputs - edges.flip(-1)).abs().mean().item(), rel=1e-5)
    assert result["G"]["dropout_spread"] > 0  # test-time dropout: a second draw differs


def test_score_run_of_the_toy_gan_counts_modes():
    from gancourse.config import ToyGANConfig
    from gancourse.train import RECIPES

    cfg = ToyGANConfig(hidden=16)
    result = metrics.score_run("toy_gan", cfg, {"G": RECIPES["toy_gan"].build_generator(cfg)}, 500, features=None)
    assert result["floor"]["modes_captured"] == 8 and 0 <= result["G"]["modes_captured"] <= 8
    assert "modes_captured" in metrics.scores_table(result)
