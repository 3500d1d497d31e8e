"""The metrics of a reference model, with the package's own metric code, next to the real-data floor.

What each kind of GAN is scored by (the chapters score their quick runs alike):

- image GANs on MNIST or Fashion-MNIST: :func:`gancourse.metrics.evaluate`, FID and KID
  with the quick-mode domain classifier's features against real test images, the floor
  (real train vs real test) at the same n, and the class histogram;
- the conditional GAN: the same, plus the conditional accuracy and its per-class accuracy;
- pix2pix: the L1 distance of the outputs to their targets on the first n test pairs,
  and FID/KID of the outputs against real images (chapter 8's table);
- the toy GAN: the mode count and the share of high-quality samples on 2,500 samples
  (the protocol of Srivastava et al. 2017 and Lin et al. 2018, :func:`gancourse.metrics.mode_coverage`).

All by :func:`gancourse.metrics.score_run`, the one scoring of a finished run, with the
shipped domain classifiers' features. Image scores are computed at n = 1,000 and
n = 10,000 where the test split holds that many images; where it does not, the entry says so. Data sets without a domain
classifier (the emoji) get no FID: the entry says why, and the sample statistics remain.

Every score also records the mean absolute value and the standard deviation of the
samples: the numbers ``verify`` recomputes for every model, a FID or not.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from typing import Any

from torch import nn

from gancourse.checkpoints import config_record
from gancourse.config import GANConfig
from gancourse.data import SPECS
from gancourse.metrics import (
    ClassifierFeatures,
    classifier_dataset,
    load_classifier,
    load_or_train_classifier,
    save_classifier,
    split_size,
)
from gancourse.metrics.runs import number as _number
from gancourse.metrics.runs import sample_stats, score_run, state_fingerprint  # noqa: F401 - verify uses them here
from gancourse.pretrained import files
from gancourse.train.recipes import RECIPES

#: Relative tolerance of ``verify``: a recomputed value must be within 2 % of the manifest's.
#: Samples and features are deterministic given the weights and the seed, but the number of
#: threads changes the order of floating-point sums in convolutions and matrix products, so the
#: last digits of every image and feature differ between machines; FID (a matrix square root of
#: covariances) amplifies them, and the domain classifier whose features it uses is trained on
#: each machine, which moves FID by up to about a percent.
TOLERANCE = 0.02
#: The sample counts of the image scores (Heusel et al. 2017 recommend >= 10,000).
SAMPLE_COUNTS = (1000, 10_000)
#: The toy GAN's sample count (Srivastava et al. 2017; Lin et al. 2018: 2,500).
TOY_SAMPLES = 2500
#: The classifier run mode whose features every reference score uses (the one CI trains).
FEATURES_MODE = "quick"
#: The values ``verify`` compares with the manifest, where a score has them.
CHECKED = (
    "fid",
    "conditional_accuracy",
    "l1",
    "modes_captured",
    "high_quality_share",
    "sample_mean_abs",
    "sample_std",
)


#: the data sets with a domain classifier that runs offline (the MNIST family; the emoji judge of chapter 11,
#: one classifier for both designers): references on them get FID/KID
JUDGED = (*SPECS, "emoji", "emoji_twemoji", "emoji_noto")


def kind(recipe: str) -> str:
    """How a recipe's GAN is scored: ``"toy"``, ``"conditional"``, ``"paired"`` (pix2pix) or ``"image"``."""
    return RECIPES[recipe].kind


def domain_features(dataset: str) -> ClassifierFeatures | None:
    """The feature extractor of every reference score on ``dataset`` (CPU); None where gancourse has none.

    The domain classifier shipped in ``features/`` once a reference on ``dataset`` has
    been scored (:func:`ship_features`; its sha256 checked against the manifest), else
    this machine's quick-mode classifier. FID moves by 2-3 % between two classifiers
    trained alike on machines with different thread counts (measured: the MNIST floor
    8.22 vs 8.40), more than the tolerance; scoring with the same shipped classifier
    everywhere leaves only the last digits to the machine.
    """
    if dataset not in JUDGED:
        return None
    dataset = classifier_dataset(dataset)  # one classifier judges all three emoji names
    record = files.read_manifest()["features"].get(dataset)
    if record is None:
        return ClassifierFeatures(load_or_train_classifier(dataset, FEATURES_MODE, device="cpu"))
    path = files.FEATURES_DIR / record["file"]
    expected = files.recorded_sha256(record, f"the {dataset} feature extractor")
    actual = files.sha256_file(path) if path.is_file() else "(missing)"
    if actual != expected:
        raise files.WeightsError(
            f"{path} has sha256 {actual}, but the manifest expects {expected}: the shipped feature extractor "
            "was altered or is missing; reinstall gancourse (or `git checkout` the file)"
        )
    return _shipped_features(str(path), actual)


@functools.lru_cache(maxsize=4)
def _shipped_features(path: str, sha256: str) -> ClassifierFeatures:
    """The shipped classifier at ``path`` (whose hash was just checked), loaded once per process and hash."""
    features = ClassifierFeatures(load_classifier(path, device="cpu"))
    features.name += ", the copy shipped with gancourse.pretrained"
    return features


def ship_features(dataset: str) -> None:
    """Ship ``dataset``'s quick-mode domain classifier (fp16) with the package, if none is yet, for every score.

    Called by :func:`gancourse.pretrained.train` before it scores a model; the classifier
    is this machine's (trained if not cached), its tensors rounded to fp16.
    """
    if dataset not in JUDGED:
        return
    dataset = classifier_dataset(dataset)  # one classifier judges all three emoji names
    if dataset in files.read_manifest()["features"]:
        return
    trained = load_or_train_classifier(dataset, FEATURES_MODE, device="cpu")
    rounded = copy.deepcopy(trained)
    rounded.model.half()  # saved as fp16 (1.1 MB); load_classifier copies it into an fp32 network
    path = files.readable(save_classifier(rounded, files.FEATURES_DIR / f"classifier-{dataset}.pt"))
    record = {
        "file": path.name,
        "sha256": files.sha256_file(path),
        "bytes": path.stat().st_size,
        "test_accuracy": _number(trained.test_accuracy),
        "source": trained.source,
        **json.loads(json.dumps(config_record(trained.config))),
    }
    files.update_manifest(dataset, record, section="features")
    print(f"shipped the {dataset} domain classifier that scores every reference model: {path}")


def features_dataset(recipe: str, cfg: GANConfig) -> str | None:
    """The data set whose domain classifier scores this GAN (pix2pix: the targets'), or None."""
    dataset = RECIPES[recipe].features(cfg)
    return dataset if dataset in JUDGED else None


def no_features_reason(dataset: str) -> str:
    return (
        f"no FID for {dataset!r}: gancourse's domain classifiers cover {', '.join(JUDGED)} only, and InceptionV3 "
        "needs its ImageNet weights (a download); only the sample statistics are recorded"
    )


def _real_count(recipe: str, cfg: GANConfig) -> int | None:
    """How many real test images (pix2pix: test pairs) the scores can use; None where there is no limit."""
    k = kind(recipe)
    if k == "toy":
        return None
    if k == "paired":
        return len(RECIPES[recipe].held_out_pairs(cfg, SAMPLE_COUNTS[-1])[0])
    return split_size(cfg.dataset, "test") if cfg.dataset in JUDGED else None


def sample_counts(recipe: str, cfg: GANConfig) -> tuple[list[int], list[str]]:
    """The sample counts to score at, and a note for each count of :data:`SAMPLE_COUNTS` the data cannot give."""
    if kind(recipe) == "toy":
        return [TOY_SAMPLES], [f"the toy GAN is scored on {TOY_SAMPLES:,} samples (Srivastava et al. 2017's protocol)"]
    if kind(recipe) != "paired" and cfg.dataset not in JUDGED:  # no FID: the sample statistics need no more
        return [SAMPLE_COUNTS[0]], [no_features_reason(cfg.dataset)]
    available = _real_count(recipe, cfg)
    counts = [n for n in SAMPLE_COUNTS if available is None or n <= available]
    notes = [
        f"n = {n:,} not measured: the test split holds only {available:,}"
        for n in SAMPLE_COUNTS
        if available is not None and n > available
    ]
    if not counts:  # a small test split (the emoji pairs): all of it
        counts = [available]
    return counts, notes


def measure(recipe: str, cfg: GANConfig, generators: Mapping[str, nn.Module], n: int, seed: int = 0) -> dict[str, Any]:
    """Scores of each generator (``{label: module}``) at sample count ``n``, samples drawn with ``seed``.

    :func:`gancourse.metrics.score_run` with the features every reference score uses
    (:func:`domain_features`); JSON-ready, see the module docstring.
    """
    return score_run(
        recipe, cfg, generators, n, seed, features=_reference_features, reason=no_features_reason, device="cpu"
    )


def _reference_features(dataset: str) -> ClassifierFeatures | None:
    return domain_features(dataset) if dataset in JUDGED else None


def checked_values(score: Mapping[str, Any]) -> dict[str, float]:
    """The entries of one generator's score that ``verify`` compares (:data:`CHECKED`, where present)."""
    return {key: score[key] for key in CHECKED if score.get(key) is not None}


def compare(expected: Mapping[str, float], actual: Mapping[str, float], tolerance: float = TOLERANCE) -> list[str]:
    """A line per value of ``expected`` that ``actual`` lacks or misses by more than ``tolerance`` (relative)."""
    problems = []
    for key, want in expected.items():
        got = actual.get(key)
        if got is None:
            problems.append(f"{key}: expected {want}, not recomputed")
        elif abs(got - want) > tolerance * abs(want) + 1e-9:
            problems.append(
                f"{key}: recomputed {got}, manifest {want} ({100 * abs(got - want) / max(abs(want), 1e-12):.2f}% off, "
                f"tolerance {100 * tolerance:.0f}%)"
            )
    return problems
