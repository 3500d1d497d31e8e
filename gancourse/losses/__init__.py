"""Losses and the quantities of GAN theory they come from, one module per family.

* :mod:`~gancourse.losses.theory`: the 1-D closed forms the first chapters draw: the
  optimal discriminator, the value function, the Jensen-Shannon divergence
  (Goodfellow et al. 2014), the 1-D earth mover's distance, and the least-squares GAN's
  optimal D and Pearson chi^2 (Mao et al. 2017);
* :mod:`~gancourse.losses.minimax`: the original GAN's losses on logits, the
  :class:`Objective` protocol every objective follows, :class:`MinimaxObjective`;
* :mod:`~gancourse.losses.wasserstein`: the critic's losses, weight clipping and the
  gradient penalty (Arjovsky et al. 2017, Gulrajani et al. 2017), :class:`WassersteinObjective`;
* :mod:`~gancourse.losses.least_squares`: LSGAN's losses, :class:`LeastSquaresObjective`;
* :mod:`~gancourse.losses.pix2pix`: the cGAN loss plus lambda L1, :class:`Pix2PixObjective`;
* :mod:`~gancourse.losses.stabilising`: feature matching and historical averaging
  (Salimans et al. 2016);
* :mod:`~gancourse.losses.hinge`: the hinge loss of SNGAN (Lim & Ye 2017, Miyato et al.
  2018), :class:`HingeObjective`;
* :mod:`~gancourse.losses.r1`: the R1 penalty on real data (Mescheder et al. 2018), lazily
  every k steps (Karras et al. 2020), :class:`R1Regularised` around any objective.

Every public name is re-exported here, so ``losses.gradient_penalty`` and
``from gancourse.losses import gradient_penalty`` work as before the split.
"""

from gancourse.losses.hinge import HingeObjective, hinge_discriminator_loss, hinge_generator_loss
from gancourse.losses.least_squares import (
    LeastSquaresObjective,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
)
from gancourse.losses.minimax import (
    MinimaxObjective,
    Objective,
    discriminator_loss,
    generator_loss_non_saturating,
    generator_loss_saturating,
)
from gancourse.losses.pix2pix import Pix2PixObjective
from gancourse.losses.r1 import R1Regularised, r1_penalty
from gancourse.losses.stabilising import (
    FeatureMatchingObjective,
    HistoricalAverage,
    HistoricallyAveraged,
    feature_matching_loss,
)
from gancourse.losses.theory import (
    jensen_shannon,
    least_squares_optimal_discriminator,
    least_squares_value,
    normal_pdf,
    optimal_discriminator,
    optimal_value,
    pearson_chi2,
    value_function,
    wasserstein_1d,
)
from gancourse.losses.wasserstein import (
    WassersteinObjective,
    clip_weights,
    gradient_penalty,
    share_at_clip_bound,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

__all__ = [
    "FeatureMatchingObjective",
    "HingeObjective",
    "HistoricalAverage",
    "HistoricallyAveraged",
    "LeastSquaresObjective",
    "MinimaxObjective",
    "Objective",
    "Pix2PixObjective",
    "R1Regularised",
    "WassersteinObjective",
    "clip_weights",
    "discriminator_loss",
    "feature_matching_loss",
    "generator_loss_non_saturating",
    "generator_loss_saturating",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "jensen_shannon",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "least_squares_optimal_discriminator",
    "least_squares_value",
    "normal_pdf",
    "optimal_discriminator",
    "optimal_value",
    "pearson_chi2",
    "r1_penalty",
    "share_at_clip_bound",
    "value_function",
    "wasserstein_1d",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
