import math

import pytest
import torch

from gancourse import losses

X = torch.linspace(-12, 12, 4001, dtype=torch.float64)
DX = float(X[1] - X[0])


def densities(gen_mean=1.0, gen_std=0.8):
    return losses.normal_pdf(X, 0.0, 1.0), losses.normal_pdf(X, gen_mean, gen_std)


def test_normal_pdf_integrates_to_one():
    assert abs(float(losses.normal_pdf(X, 0.5, 1.3).sum() * DX) - 1) < 1e-9
    with pytest.raises(ValueError, match="std = 0 is out of range: allowed a finite std > 0"):
        losses.normal_pdf(X, 0.0, 0)


def test_optimal_discriminator_closed_form():
    p_data = torch.tensor([0.3, 0.0, 0.2, 0.0])
    p_g = torch.tensor([0.1, 0.4, 0.2, 0.0])
    assert torch.allclose(losses.optimal_discriminator(p_data, p_g), torch.tensor([0.75, 0.0, 0.5, 0.5]))


def test_value_at_equal_densities_is_minus_log_four():
    p, _ = densities()
    d_star = losses.optimal_discriminator(p, p)
    assert float(losses.value_function(d_star, p, p, DX)) == pytest.approx(-math.log(4), abs=1e-9)
    assert float(losses.optimal_value(p, p, DX)) == pytest.approx(-math.log(4), abs=1e-9)


@pytest.mark.parametrize("gen_mean, gen_std", [(0.5, 1.0), (1.0, 0.8), (2.0, 0.5), (-1.5, 2.0)])
def test_theorem_one(gen_mean, gen_std):
    p_data, p_g = densities(gen_mean, gen_std)
    d_star = losses.optimal_discriminator(p_data, p_g)
    inner = (d_star > 0) & (d_star < 1)  # far tails, where D* rounds to 0 or 1, carry < 1e-30 mass
    v = float(losses.value_function(d_star[inner], p_data[inner], p_g[inner], DX))
    exact = float(losses.optimal_value(p_data, p_g, DX))
    assert v == pytest.approx(exact, abs=1e-7)
    # equal up to the quadrature error of the finite grid
    assert exact == pytest.approx(-math.log(4) + 2 * float(losses.jensen_shannon(p_data, p_g, DX)), abs=1e-6)


def test_optimal_value_stays_finite_where_d_star_rounds():
    p_data, p_g = densities(gen_mean=9.0, gen_std=0.3)
    d_star = losses.optimal_discriminator(p_data, p_g)
    assert math.isinf(float(losses.value_function(d_star, p_data, p_g, DX)))  # log(1 - 1.0) in the tail
    value = float(losses.optimal_value(p_data, p_g, DX))
    assert value == pytest.approx(0.0, abs=1e-6)  # JSD = log 2: disjoint supports


def test_d_star_maximises_v():
    p_data, p_g = densities()
    d_star = losses.optimal_discriminator(p_data, p_g)
    inner = (d_star > 1e-6) & (d_star < 1 - 1e-6)
    p_data, p_g, d_star = p_data[inner], p_g[inner], d_star[inner]
    best = float(losses.value_function(d_star, p_data, p_g, DX))
    for delta in (0.05, -0.05):
        d = (d_star + delta * torch.sin(X[inner])).clamp(1e-6, 1 - 1e-6)
        assert float(losses.value_function(d, p_data, p_g, DX)) < best


def test_jensen_shannon_bounds_and_symmetry():
    p, q = densities()
    assert float(losses.jensen_shannon(p, p, DX)) == pytest.approx(0.0, abs=1e-12)
    assert float(losses.jensen_shannon(p, q, DX)) == pytest.approx(float(losses.jensen_shannon(q, p, DX)))
    far = losses.normal_pdf(X, 10.0, 0.3)
    assert float(losses.jensen_shannon(p, far, DX)) == pytest.approx(math.log(2), abs=1e-6)


@pytest.mark.parametrize("mu1, mu2, std", [(0.0, 1.0, 1.0), (-2.0, 0.5, 0.3), (1.0, 1.0, 0.8), (3.0, -4.0, 0.05)])
def test_wasserstein_1d_between_normals_of_one_std_is_the_distance_of_the_means(mu1, mu2, std):
    p, q = losses.normal_pdf(X, mu1, std), losses.normal_pdf(X, mu2, std)
    assert float(losses.wasserstein_1d(p, q, DX)) == pytest.approx(abs(mu1 - mu2), abs=1e-3)
    assert float(losses.wasserstein_1d(q, p, DX)) == pytest.approx(float(losses.wasserstein_1d(p, q, DX)))


def test_wasserstein_1d_between_centred_normals_is_the_std_difference_times_e_abs_z():
    # in 1-D the quantile coupling x2 = (s2 / s1) x1 is optimal: W1 = E|X1 - X2| = |s1 - s2| E|Z|,
    # and E|Z| = sqrt(2 / pi) for a standard normal Z
    p, q = losses.normal_pdf(X, 0.0, 1.0), losses.normal_pdf(X, 0.0, 2.5)
    assert float(losses.wasserstein_1d(p, q, DX)) == pytest.approx(1.5 * math.sqrt(2 / math.pi), abs=1e-3)


def test_wasserstein_1d_needs_one_grid():
    with pytest.raises(ValueError, match="p and q must be densities on one 1-D grid"):
        losses.wasserstein_1d(torch.ones(3), torch.ones(4), 0.1)


def test_share_at_clip_bound_counts_the_weights_at_plus_or_minus_c():
    layer = torch.nn.Linear(4, 2)  # 8 weights and 2 biases
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.01, -0.01, 0.0, 0.005], [0.00999, -0.02, 0.0099, 0.003]]))
        layer.bias.copy_(torch.tensor([0.0, -0.01]))
    # at the bound within 0.1 %: 0.01, -0.01, 0.00999, -0.02 (beyond), -0.01 (bias); 0.0099 is 1 % inside
    assert losses.share_at_clip_bound(layer, 0.01) == pytest.approx(5 / 10)
    losses.clip_weights(layer, 0.01)
    assert losses.share_at_clip_bound(layer, 0.01) == pytest.approx(5 / 10)
    assert losses.share_at_clip_bound(layer, 0.01, tolerance=0.02) == pytest.approx(6 / 10)
    with pytest.raises(ValueError, match="clip_value = 0 is out of range"):
        losses.share_at_clip_bound(layer, 0)


def test_value_function_gradcheck():
    p_data, p_g = densities()
    idx = slice(1800, 2200, 40)  # a few interior points, float64
    d = torch.rand(10, dtype=torch.float64).mul(0.8).add(0.1).requires_grad_()
    assert torch.autograd.gradcheck(lambda d: losses.value_function(d, p_data[idx], p_g[idx], DX), (d,))


# ------------------------------------------------------------------------------------
# Training losses on logits
# ------------------------------------------------------------------------------------


def test_gan_losses_at_an_undecided_discriminator():
    zeros = torch.zeros(5)  # logit 0: D = 1/2
    assert float(losses.discriminator_loss(zeros, zeros)) == pytest.approx(2 * math.log(2))
    assert float(losses.generator_loss_non_saturating(zeros)) == pytest.approx(math.log(2))
    assert float(losses.generator_loss_saturating(zeros)) == pytest.approx(-math.log(2))


def test_gan_losses_closed_form():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    sig = torch.sigmoid
    expected_d = -(torch.log(sig(real)).mean() + torch.log(1 - sig(fake)).mean())
    assert torch.isclose(losses.discriminator_loss(real, fake), expected_d)
    assert torch.isclose(losses.generator_loss_non_saturating(fake), -torch.log(sig(fake)).mean())
    assert torch.isclose(losses.generator_loss_saturating(fake), torch.log(1 - sig(fake)).mean())
    smoothed = losses.discriminator_loss(real, fake, label_smoothing=0.1)
    expected = -(0.9 * torch.log(sig(real)) + 0.1 * torch.log(1 - sig(real))).mean() - torch.log(1 - sig(fake)).mean()
    assert torch.isclose(smoothed, expected)


def test_losses_stay_exact_at_extreme_logits():
    big = torch.tensor([60.0])
    assert float(losses.discriminator_loss(-big, big)) == pytest.approx(120.0)
    assert float(losses.generator_loss_non_saturating(-big)) == pytest.approx(60.0)


def test_saturating_loss_vanishes_where_non_saturating_does_not():
    """When D confidently rejects a fake (logit -8), the saturating loss gives G almost no gradient."""
    grads = {}
    for name, fn in [("sat", losses.generator_loss_saturating), ("ns", losses.generator_loss_non_saturating)]:
        logit = torch.tensor([-8.0], requires_grad=True)
        fn(logit).backward()
        grads[name] = abs(float(logit.grad))
    assert grads["sat"] < 1e-3 < 0.99 < grads["ns"]


def test_label_smoothing_range():
    with pytest.raises(ValueError, match="label_smoothing = 1.0 is out of range"):
        losses.discriminator_loss(torch.zeros(1), torch.zeros(1), label_smoothing=1.0)
    with pytest.raises(ValueError, match="generator_loss = 'wgan' is not allowed"):
        losses.MinimaxObjective("wgan")


def test_gan_losses_gradcheck():
    real = torch.randn(4, dtype=torch.float64, requires_grad=True)
    fake = torch.randn(4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda r, f: losses.discriminator_loss(r, f, 0.1), (real, fake))
    assert torch.autograd.gradcheck(losses.generator_loss_saturating, (fake,))
    assert torch.autograd.gradcheck(losses.generator_loss_non_saturating, (fake,))


def test_minimax_objective_statistics():
    class Constant(torch.nn.Module):
        def forward(self, x):
            return x.sum(dim=1)

    objective = losses.MinimaxObjective()
    loss, stats = objective.loss_d(Constant(), torch.zeros(3, 2), torch.zeros(3, 2))
    assert float(loss) == pytest.approx(2 * math.log(2))
    assert float(stats["d_real"]) == pytest.approx(0.5) and float(stats["d_fake"]) == pytest.approx(0.5)


# ------------------------------------------------------------------------------------
# Wasserstein losses
# ------------------------------------------------------------------------------------


def test_wasserstein_losses_closed_form():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])
    assert float(losses.wasserstein_critic_loss(real, fake)) == pytest.approx(-0.5 - 2.0)
    assert float(losses.wasserstein_generator_loss(fake)) == pytest.approx(0.5)


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_gradient_penalty_of_a_linear_critic_is_closed_form(scale):
    """f(x) = <w, x>: grad f = w everywhere, so the penalty is (||w|| - 1)^2 whatever eps is."""
    w = torch.randn(3, 4, 4, dtype=torch.float64)
    w = scale * w / w.norm()
    critic = lambda x: (x * w).flatten(1).sum(dim=1)  # noqa: E731
    real, fake = torch.randn(5, 3, 4, 4, dtype=torch.float64), torch.randn(5, 3, 4, 4, dtype=torch.float64)
    assert float(losses.gradient_penalty(critic, real, fake)) == pytest.approx((scale - 1) ** 2)


def test_gradient_penalty_takes_the_norm_per_sample_and_trains_the_critic():
    """f(x) = 0.5 ||x||^2 per sample: grad at x^ is x^ itself, so the norm differs per sample."""
    torch.manual_seed(0)
    real, fake = torch.randn(6, 2, dtype=torch.float64), torch.randn(6, 2, dtype=torch.float64)
    weight = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    critic = lambda x: weight * (x**2).sum(dim=1)  # noqa: E731
    torch.manual_seed(1)
    penalty = losses.gradient_penalty(critic, real, fake)
    torch.manual_seed(1)
    eps = torch.rand(6, 1, dtype=torch.float64)
    x_hat = eps * real + (1 - eps) * fake
    expected = ((2 * 0.5 * x_hat.norm(dim=1) - 1) ** 2).mean()
    assert float(penalty.detach()) == pytest.approx(float(expected))
    penalty.backward()  # create_graph=True: the penalty depends on the critic's weights
    assert weight.grad is not None and float(weight.grad) != 0.0


def test_gradient_penalty_gradcheck():
    real, fake = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    w = torch.randn(2, dtype=torch.float64, requires_grad=True)

    def penalty(w):
        torch.manual_seed(0)  # the same eps at every evaluation
        return losses.gradient_penalty(lambda x: torch.tanh(x @ w), real, fake)

    assert torch.autograd.gradcheck(penalty, (w,))


def test_gradient_penalty_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="same shape"):
        losses.gradient_penalty(lambda x: x.sum(1), torch.zeros(2, 3), torch.zeros(3, 3))


def test_wasserstein_objective_clips_every_critic_weight():
    critic = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(100)
    objective = losses.WassersteinObjective(clip_value=0.01)
    objective.after_d_step(critic)
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    assert any(p.abs().max() == 0.01 for p in critic.parameters())


def test_wasserstein_objective_terms():
    critic = lambda x: 2 * x.sum(dim=1)  # noqa: E731  gradient norm 2 sqrt(d) everywhere
    real, fake = torch.ones(4, 1), torch.zeros(4, 1)
    loss, stats = losses.WassersteinObjective(gp_weight=10.0, drift=0.001).loss_d(critic, real, fake)
    # -(2 - 0) + 10 (2 - 1)^2 + 0.001 * 2^2
    assert float(loss) == pytest.approx(-2 + 10 + 0.004)
    assert float(stats["wasserstein"]) == pytest.approx(2.0) and float(stats["gradient_penalty"]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="clip_value = 0 is out of range"):
        losses.WassersteinObjective(clip_value=0)
    with pytest.raises(ValueError, match="gp_weight = -1 is out of range"):
        losses.WassersteinObjective(gp_weight=-1)


# ------------------------------------------------------------------------------------
# Least-squares GAN (Mao et al. 2017)
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize("a, b", [(0.0, 1.0), (-1.0, 1.0)])
def test_least_squares_optimal_discriminator_is_the_pointwise_minimiser(a, b):
    p_data, p_g = densities(1.0, 0.8)
    d_star = losses.least_squares_optimal_discriminator(p_data, p_g, a, b)

    def d_loss(d):  # 1/2 ∫ p_data (D - b)^2 + p_g (D - a)^2 dx
        return float((0.5 * (p_data * (d - b) ** 2 + p_g * (d - a) ** 2)).sum() * DX)

    best = d_loss(d_star)
    for bump in (torch.sin(X), torch.exp(-(X**2)), torch.ones_like(X)):
        for eps in (1e-2, -1e-2):
            assert d_loss(d_star + eps * bump) > best
    # closed form at a few points: equal densities give the mid-point, one density alone its target
    p, q = torch.tensor([0.2, 0.3, 0.0, 0.0]), torch.tensor([0.2, 0.0, 0.4, 0.0])
    expected = torch.tensor([(a + b) / 2, b, a, (a + b) / 2])
    assert torch.allclose(losses.least_squares_optimal_discriminator(p, q, a, b), expected)


@pytest.mark.parametrize("gen_mean, gen_std", [(0.5, 1.0), (1.0, 0.8), (-1.5, 2.0)])
def test_least_squares_generator_objective_is_pearson_chi2(gen_mean, gen_std):
    """With b - c = 1 and b - a = 2, 2 C(G) = chi^2_Pearson(p_data + p_g || 2 p_g) (Mao et al. 2017, Eq. 5-7)."""
    a, b, c = -1.0, 1.0, 0.0
    p_data, p_g = densities(gen_mean, gen_std)
    d_star = losses.least_squares_optimal_discriminator(p_data, p_g, a, b)
    two_c = 2 * losses.least_squares_value(d_star, p_data, p_g, DX, target=c)
    assert float(two_c) == pytest.approx(float(losses.pearson_chi2(p_data + p_g, 2 * p_g, DX)), rel=1e-9)
    assert float(two_c) > 0.01  # different densities: a real divergence
    same = losses.least_squares_optimal_discriminator(p_data, p_data, a, b)
    assert float(losses.least_squares_value(same, p_data, p_data, DX, target=c)) == pytest.approx(0.0, abs=1e-12)


def test_least_squares_losses_closed_form_and_objective():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])
    # 1/2 mean((real - 1)^2) + 1/2 mean((fake - 0)^2) = 1/2 * 2 + 1/2 * 0.5
    assert float(losses.least_squares_discriminator_loss(real, fake)) == pytest.approx(1.25)
    assert float(losses.least_squares_generator_loss(fake, c=1.0)) == pytest.approx(0.5 * (4 + 1) / 2)

    objective = losses.LeastSquaresObjective(a=-1.0, b=1.0, c=0.0)
    critic = lambda x: x.sum(dim=1)  # noqa: E731
    loss, stats = objective.loss_d(critic, torch.ones(3, 2) / 2, -torch.ones(3, 2) / 2)  # scores 1 and -1: perfect
    assert float(loss) == 0.0 and float(stats["d_real"]) == 1.0 and float(stats["d_fake"]) == -1.0
    loss_g, _ = objective.loss_g(critic, torch.zeros(3, 2), None)  # score 0 = c
    assert float(loss_g) == 0.0
    with pytest.raises(ValueError, match="a = b = 1.0"):
        losses.LeastSquaresObjective(a=1.0, b=1.0)


def test_least_squares_generator_gradient_does_not_vanish_where_cross_entropy_saturates():
    """A fake scored far on the real side (logit 10) still gets pulled back: the gradient grows with the error."""
    scores = torch.tensor([10.0], requires_grad=True)
    (ls_grad,) = torch.autograd.grad(losses.least_squares_generator_loss(scores, c=1.0), scores)
    (ns_grad,) = torch.autograd.grad(losses.generator_loss_non_saturating(scores), scores)
    assert float(ls_grad) == pytest.approx(9.0) and abs(float(ns_grad)) < 1e-4


# ------------------------------------------------------------------------------------
# Salimans et al. 2016: feature matching, historical averaging
# ------------------------------------------------------------------------------------


def test_feature_matching_loss_compares_batch_means_only():
    real = torch.tensor([[0.0, 2.0], [2.0, 0.0]])  # mean (1, 1)
    assert float(losses.feature_matching_loss(real, torch.tensor([[1.0, 1.0]]))) == 0.0  # same mean, no spread
    assert float(losses.feature_matching_loss(real, torch.tensor([[3.0, 0.0], [3.0, 0.0]]))) == pytest.approx(4 + 1)
    with pytest.raises(ValueError, match="same F"):
        losses.feature_matching_loss(real, torch.zeros(2, 3))
    r, f = torch.randn(4, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda fake: losses.feature_matching_loss(r, fake), (f,))


def test_feature_matching_objective_uses_the_discriminators_features():
    from gancourse.models import MLPDiscriminator

    torch.manual_seed(0)
    d = MLPDiscriminator((2,), 16, n_hidden=2)
    objective = losses.FeatureMatchingObjective(losses.MinimaxObjective())
    real, fake = torch.randn(8, 2), torch.randn(8, 2, requires_grad=True)
    loss, _ = objective.loss_g(d, fake, real)
    expected = ((d.features(real).mean(0) - d.features(fake).mean(0)) ** 2).sum()
    assert torch.allclose(loss, expected)
    loss_same, _ = objective.loss_g(d, real.clone().requires_grad_(True), real)
    assert float(loss_same.detach()) == 0.0
    # D's own loss is the base objective's
    assert torch.equal(objective.loss_d(d, real, fake)[0], losses.MinimaxObjective().loss_d(d, real, fake)[0])
    with pytest.raises(TypeError, match="features"):
        objective.loss_g(lambda x: x.sum(1), fake, real)


def test_historical_average_is_the_running_mean_of_past_parameters():
    net = torch.nn.Linear(3, 2)
    average = losses.HistoricalAverage()
    assert float(average.penalty(net)) == 0.0  # no history yet
    history = []
    for _ in range(4):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        average.update(net)
        history.append([p.detach().clone() for p in net.parameters()])
    means = [torch.stack(ps).mean(dim=0) for ps in zip(*history, strict=True)]  # (1/t) sum_i theta[i]
    assert average.count == 4 and all(torch.allclose(m, e, atol=1e-6) for m, e in zip(average.mean, means, strict=True))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    expected = sum(((p - m) ** 2).sum() for p, m in zip(net.parameters(), means, strict=True))
    penalty = average.penalty(net)
    assert torch.allclose(penalty, expected)
    # the penalty's gradient pulls each parameter towards the mean: 2 (theta - mean)
    penalty.backward()
    pairs = zip(net.parameters(), means, strict=True)
    assert all(torch.allclose(p.grad, 2 * (p.detach() - m), atol=1e-6) for p, m in pairs)
    # the state travels: a copy restored from state_dict gives the same penalty and the same next mean
    restored = losses.HistoricalAverage()
    restored.load_state_dict(average.state_dict())
    assert torch.equal(restored.penalty(net), average.penalty(net))
    average.update(net)
    restored.update(net)
    assert restored.count == 5 and all(torch.equal(a, b) for a, b in zip(average.mean, restored.mean, strict=True))


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: losses.WassersteinObjective(gp_weight=NAN), "gp_weight = nan is out of range"),
        (lambda: losses.WassersteinObjective(gp_weight=INF), "gp_weight = inf is out of range"),
        (lambda: losses.WassersteinObjective(drift=NAN), "drift = nan is out of range"),
        (lambda: losses.WassersteinObjective(clip_value=INF), "clip_value = inf is out of range"),
        (lambda: losses.Pix2PixObjective(l1_weight=INF), "l1_weight = inf is out of range"),
        (lambda: losses.normal_pdf(torch.zeros(3), 0.0, NAN), "std = nan is out of range"),
        (lambda: losses.normal_pdf(torch.zeros(3), INF, 1.0), "mean = inf is out of range"),
    ],
)
def test_nan_and_inf_settings_are_refused_not_trained_on(make, message):
    # NaN fails every comparison, so a check written as "if x < 0: raise" lets it through
    with pytest.raises(ValueError, match=message):
        make()
