"""Metrics that tell a good GAN from a bad one.

* :func:`frechet_inception_distance` (FID, Heusel et al. 2017) and its core
  :func:`frechet_distance`; streaming :class:`FeatureStatistics`;
* :func:`kernel_inception_distance` (KID, Bińkowski et al. 2018), unbiased and
  so usable at small sample counts;
* :func:`precision_recall` (Kynkäänniemi et al. 2019): fidelity and diversity as two
  numbers, from k-nearest-neighbour manifolds in the same features;
* :func:`inception_score` (IS, Salimans et al. 2016);
* :func:`mode_coverage` on the 2-D mixtures (Srivastava et al. 2017) and
  :func:`class_coverage` on labelled image data;
* :func:`conditional_accuracy`: the share of a conditional generator's samples that the
  domain classifier assigns to the requested class;
* :func:`within_class_diversity` / :func:`conditional_diversity`: a conditional generator's
  variety within each class against the data's (a row of identical digits scores near 0);
* :func:`nearest_neighbours`: the closest training images of each sample, the
  visual check for memorisation (Goodfellow et al. 2014, Fig. 2);
* :func:`degradation_scores`: FID and KID of real images blurred, noised, desaturated or
  colour-shifted by known amounts, the check that a feature extractor ranks a
  better generator above a worse one;
* :func:`fid_curve`: FID during training, against steps and training seconds; :func:`compare_fid_curves`
  for several runs on one budget, with their floor;
* :func:`evaluate`: all of the above for a set of generators, as every GAN chapter
  scores them (:class:`~gancourse.config.EvalConfig` says how);
* :func:`score_run`: the scores of a finished run of a recipe next to its floor, one way for
  the command line, the reference models and the chapters (:func:`scores_table` prints them);
* :func:`real_floor` / :func:`fid_kid_floor`: the same metric between two real
  samples, the reference every score needs;
* feature extractors: InceptionV3 when its ImageNet weights load, else the
  domain classifier that gancourse trains (:func:`load_feature_extractor`,
  :func:`load_or_train_classifier`).
"""

from gancourse.metrics.classifier import (
    ClassifierConfig,
    TrainedClassifier,
    classifier_accuracies,
    classifier_accuracy,
    classifier_dataset,
    classifier_split,
    held_out_rows,
    load_classifier,
    load_or_train_classifier,
    save_classifier,
    train_classifier,
)
from gancourse.metrics.coverage import (
    ClassCoverage,
    ConditionalAccuracy,
    ModeCoverage,
    class_coverage,
    conditional_accuracy,
    kl_from_uniform,
    mode_coverage,
)
from gancourse.metrics.curves import FIDComparison, FIDCurve, compare_fid_curves, fid_curve, fid_probe
from gancourse.metrics.degradation import (
    DEGRADATIONS,
    DegradationScores,
    degradation_scores,
    degrade,
    degraded_rows,
)
from gancourse.metrics.diversity import (
    WithinClassDiversity,
    conditional_diversity,
    mean_pairwise_distance,
    within_class_diversity,
)
from gancourse.metrics.features import (
    ClassifierFeatures,
    FeatureExtractor,
    FIDInceptionFeatures,
    InceptionFeatures,
    class_probabilities,
    extract_features,
    feature_statistics,
    image_batches,
    load_feature_extractor,
    load_fid_inception,
)
from gancourse.metrics.fid import FeatureStatistics, fid_from_statistics, frechet_distance
from gancourse.metrics.inception_score import inception_score
from gancourse.metrics.kid import MeanStd, kid_from_features, kid_per_mille, mmd2_unbiased, polynomial_kernel
from gancourse.metrics.neighbours import nearest_neighbours
from gancourse.metrics.precision_recall import PrecisionRecall, in_manifold, knn_radii, precision_recall
from gancourse.metrics.report import Evaluation, Score, evaluate
from gancourse.metrics.runs import sample_stats, score_run, scores_table
from gancourse.metrics.scores import (
    fid_kid_floor,
    frechet_inception_distance,
    kernel_inception_distance,
    real_floor,
    real_images,
    split_size,
)

__all__ = [
    "ClassCoverage",
    "ClassifierConfig",
    "ClassifierFeatures",
    "DEGRADATIONS",
    "DegradationScores",
    "ConditionalAccuracy",
    "Evaluation",
    "FeatureExtractor",
    "FIDCurve",
    "FeatureStatistics",
    "FIDInceptionFeatures",
    "InceptionFeatures",
    "MeanStd",
    "PrecisionRecall",
    "ModeCoverage",
    "Score",
    "TrainedClassifier",
    "WithinClassDiversity",
    "class_coverage",
    "sample_stats",
    "score_run",
    "scores_table",
    "class_probabilities",
    "classifier_accuracy",
    "classifier_dataset",
    "classifier_split",
    "conditional_accuracy",
    "conditional_diversity",
    "degradation_scores",
    "degrade",
    "degraded_rows",
    "evaluate",
    "extract_features",
    "feature_statistics",
    "fid_curve",
    "compare_fid_curves",
    "FIDComparison",
    "fid_probe",
    "fid_from_statistics",
    "fid_kid_floor",
    "frechet_distance",
    "frechet_inception_distance",
    "held_out_rows",
    "image_batches",
    "in_manifold",
    "inception_score",
    "kernel_inception_distance",
    "kid_from_features",
    "kid_per_mille",
    "kl_from_uniform",
    "knn_radii",
    "load_classifier",
    "load_feature_extractor",
    "load_fid_inception",
    "load_or_train_classifier",
    "mean_pairwise_distance",
    "mmd2_unbiased",
    "mode_coverage",
    "nearest_neighbours",
    "polynomial_kernel",
    "precision_recall",
    "real_floor",
    "real_images",
    "save_classifier",
    "split_size",
    "within_class_diversity",
    "classifier_accuracies",
    "train_classifier",
]
