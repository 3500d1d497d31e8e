"""The T4 estimate: counted FLOPs agree with the table's scaling; chapters' full mode fits its budget."""

import pytest

from gancourse.bench.budget import count_gflop
from gancourse.config import DCGANConfig, budget


def test_the_table_scales_a_fresh_count_of_a_small_dcgan():
    cfg = DCGANConfig(base_channels=16, batch_size=8)
    assert budget.gflop_per_step(cfg) == pytest.approx(count_gflop("dcgan", cfg), rel=0.25)


@pytest.mark.parametrize("chapter", [4, 5, 6, 7, 8, 9, 10, 13])
def test_full_mode_fits_about_fifteen_t4_minutes_and_paper_mode_is_at_least_as_long(chapter):
    full = sum(row["t4_seconds"] for row in budget.chapter_plan(chapter, "full"))
    paper = sum(row["t4_seconds"] for row in budget.chapter_plan(chapter, "paper"))
    assert 0 < full <= 16 * 60
    assert paper >= 0.6 * full  # paper mode is never much shorter (chapter 6's full runs more steps)


def test_a_penalty_free_critic_is_not_charged_for_the_gradient_penalty():
    from gancourse.config import ResNetGANConfig

    penalised, spectral = ResNetGANConfig(), ResNetGANConfig.sngan("paper")
    assert budget.gflop_per_step(penalised) == pytest.approx(
        budget.GRADIENT_PENALTY_FACTOR * budget.gflop_per_step(spectral)
    )


def test_the_stylegan2_count_scales_with_its_widest_layer():
    from gancourse.config import StyleGAN2Config

    paper, narrow = StyleGAN2Config(), StyleGAN2Config(fmap_max=128)
    assert budget.gflop_per_step(paper) == pytest.approx(16 * budget.gflop_per_step(narrow))
