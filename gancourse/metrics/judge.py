"""Which network judges two folders of images, and the real-vs-real floor of a folder comparison.

FID and KID mean something only when the feature network knows what the images show.
:func:`choose_judge` picks it from what the images are (grey or colour), what the user
says they are (``dataset``) and what this machine has:

* **A domain the book trains on** (``dataset`` = ``mnist``, ``fashion_mnist``, ``emoji``;
  the three emoji names share one classifier): the domain classifier shipped with
  :mod:`gancourse.pretrained`, the file that scored the reference models, so every machine
  computes the same FID. Where none is shipped (``cifar10``), InceptionV3 if its weights
  load, else the classifier trained here (its numbers are comparable only on this machine).
  The domain must fit the images: colour images never go to a grey digit or garment
  classifier, grey images never to a colour one.
* **Anything else** (no ``dataset``: photographs, faces, paintings): InceptionV3 with its
  ImageNet weights (Szegedy et al. 2016; the judge of Heusel et al. 2017), the only
  network here that has seen natural images. Without its weights there is no sensible
  judge, and :class:`NoJudge` says which file to put where.

The floor (:func:`folder_scores`): FID and KID between two disjoint halves of the real
folder, at the same image count as the score (FID is biased upwards at small counts,
Chong & Forsyth 2020, so only equal counts compare). A score near the floor is as close
to the real images as another sample of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gancourse.data import dataset_info
from gancourse.data.files import offline
from gancourse.metrics import features as _features
from gancourse.metrics.classifier import classifier_dataset, load_or_train_classifier
from gancourse.metrics.fid import FeatureStatistics, fid_from_statistics
from gancourse.metrics.kid import MeanStd, kid_from_features, kid_per_mille

#: Fewest images per side of a score (and per half of the floor): below it a covariance of 128 or 2048
#: features from a handful of images is noise, and KID's subsets would hold one image.
MIN_IMAGES = 10
#: Two channels differing by less than this (in [-1, 1]) count as equal: a grey image saved as RGB.
GREY_TOLERANCE = 2 / 255
INCEPTION_FILE = "inception_v3_google-0cc3c7bd.pth"  # torchvision's IMAGENET1K_V1 file (sha256 prefix 0cc3c7bd)
INCEPTION_URL = "https://download.pytorch.org/models/" + INCEPTION_FILE


class NoJudge(ValueError):
    """No network here can judge these images sensibly; the message says what would."""


@dataclasses.dataclass(frozen=True)
class Judge:
    """The chosen feature network: ``kind`` ``'inception'`` or ``'classifier'`` (of ``dataset``), and why."""

    kind: str
    dataset: str | None
    shipped: bool
    reason: str

    @property
    def image_size(self) -> int:
        """The size to read the files at: the classifier sees 32 px, Inception 299 px."""
        return _features.INCEPTION_SIZE if self.kind == "inception" else 32


def is_grey(images: torch.Tensor) -> bool:
    """Whether images (N, C, H, W) in [-1, 1] are grey: one channel, or three equal ones (RGB files of grey)."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (N, 1 or 3, H, W), got {tuple(images.shape)}")
    if images.shape[1] == 1:
        return True
    spread = (images.amax(dim=1) - images.amin(dim=1)).abs().max().item()
    return spread <= GREY_TOLERANCE


def inception_weights_path() -> Path:
    """Where torchvision looks for (and caches) InceptionV3's ImageNet weights: torch hub's checkpoints folder."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


def inception_unavailable() -> str | None:
    """Why InceptionV3's weights cannot be had here (None when they are cached, or may be downloaded)."""
    path = inception_weights_path()
    if path.is_file():
        return None
    if offline():
        return f"downloads are off ($GANCOURSE_OFFLINE) and {path} does not exist"
    return None


def where_inception_goes() -> str:
    """The sentence telling the user how to get InceptionV3's weights onto an offline machine."""
    return (
        f"download {INCEPTION_URL} on a machine with network and put it at {inception_weights_path()} "
        "(torch hub's cache; $TORCH_HOME moves it)"
    )


def choose_judge(
    grey: bool,
    kind: str = "auto",
    dataset: str | None = None,
    shipped: Callable[[str], bool] = lambda name: False,
    inception_missing: str | None = None,
) -> Judge:
    """The judge of images that are ``grey`` (else colour), as the module docstring lays out.

    ``kind``: ``'auto'``, ``'inception'`` or ``'classifier'``; ``dataset``: what the images
    show (a domain-classifier data set) or None; ``shipped(name)``: whether a classifier of
    ``name`` ships with the package; ``inception_missing``: why InceptionV3's weights cannot
    be loaded, or None. Raises :class:`NoJudge` where nothing fits.
    """
    if kind not in _features.KINDS:
        raise ValueError(f"features = {kind!r} is not allowed: choose one of {', '.join(map(repr, _features.KINDS))}")
    colour = "grey" if grey else "colour"
    if dataset is not None:
        domain = classifier_dataset(dataset)  # a ValueError naming the allowed data sets
        domain_grey = dataset_info(domain).channels == 1
        if grey != domain_grey and kind != "inception":
            suggestion = (
                "--dataset mnist or fashion_mnist if they are digits or garments, else InceptionV3 (no --dataset)"
                if grey
                else "InceptionV3 (no --dataset), or --dataset emoji if they are emoji"
            )
            raise NoJudge(
                f"the images are {colour} but the {domain} classifier judges "
                f"{'grey' if domain_grey else 'colour'} images: its features would measure the colour, not the "
                f"images; use {suggestion}"
            )
        if kind == "classifier" or (kind == "auto" and shipped(domain)):
            if shipped(domain):
                why = f"the {domain} classifier shipped with gancourse.pretrained: the same file on every machine"
            else:
                why = f"no {domain} classifier is shipped: one trained on this machine (compare only its own numbers)"
            return Judge("classifier", domain, shipped(domain), f"{colour} {domain} images -> {why}")
    elif kind == "classifier":
        raise NoJudge(
            "features = 'classifier' needs --dataset: which domain classifier (mnist, fashion_mnist, emoji, cifar10)"
        )
    if inception_missing is None:
        what = f"{dataset} images" if dataset else f"{colour} images of no domain gancourse trains on"
        return Judge(
            "inception",
            None,
            False,
            f"{what} -> InceptionV3 (ImageNet weights), the network of Heusel et al. 2017 that has seen "
            "natural images" + ("; grey is repeated to three channels" if grey else ""),
        )
    if kind == "inception":
        raise NoJudge(f"InceptionV3's ImageNet weights cannot be loaded: {inception_missing}; {where_inception_goes()}")
    if dataset is not None:  # auto, no shipped classifier: the one trained here
        domain = classifier_dataset(dataset)
        return Judge(
            "classifier",
            domain,
            False,
            f"{colour} {domain} images, no shipped classifier and no InceptionV3 ({inception_missing}) -> "
            f"the {domain} classifier trained on this machine (compare only its own numbers)",
        )
    hint = (
        "if they are MNIST digits or Fashion-MNIST garments, pass --dataset mnist or --dataset fashion_mnist"
        if grey
        else "if they are emoji, pass --dataset emoji"
    )
    raise NoJudge(
        f"no sensible judge for {colour} images here: InceptionV3's ImageNet weights cannot be loaded "
        f"({inception_missing}), and the domain classifiers know only their own data ({hint}); for any other "
        f"images {where_inception_goes()}"
    )


def load_judge(
    judge: Judge,
    shipped_features: Callable[[str], _features.FeatureExtractor | None] = lambda name: None,
    mode: str | None = None,
    device: torch.device | str | None = None,
) -> _features.FeatureExtractor:
    """The feature extractor of ``judge``; ``shipped_features(dataset)`` gives a shipped classifier's."""
    if judge.kind == "inception":
        try:
            extractor = _features.load_inception()
        except Exception as err:  # URLError, HTTPError, OSError, a corrupt file: all mean "no weights"
            reason = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
            message = f"InceptionV3's ImageNet weights could not be loaded ({reason}); {where_inception_goes()}"
            raise NoJudge(message) from err
        from gancourse.device import pick_device

        return extractor.to(pick_device(device))
    if judge.shipped:
        extractor = shipped_features(judge.dataset)
        if extractor is None:
            raise NoJudge(f"the shipped {judge.dataset} classifier is missing from this installation")
        return extractor
    return _features.ClassifierFeatures(load_or_train_classifier(judge.dataset, mode, device=device))


@dataclasses.dataclass(frozen=True)
class FolderScores:
    """FID and KID of ``fake`` against half the real images, and the same between the real halves (the floor)."""

    n: int  # images on each side of every comparison
    fid: float
    kid: MeanStd
    floor_fid: float
    floor_kid: MeanStd
    kid_subset: int

    def __str__(self) -> str:
        return (
            f"FID {self.fid:.3f}   real-vs-real floor {self.floor_fid:.3f}   ({self.n} images a side)\n"
            f"KID x 10^3 {kid_per_mille(self.kid)}   floor {kid_per_mille(self.floor_kid)}   "
            f"(MMD^2 x 1000, as papers print KID; subsets of {self.kid_subset})"
        )


def check_counts(real: int, fake: int, real_name: str = "DIR_A", fake_name: str = "DIR_B") -> int:
    """The images a side of :func:`folder_scores` (min(real // 2, fake)); ``ValueError`` if too few, saying why."""
    if fake < MIN_IMAGES:
        raise ValueError(
            f"{fake_name} holds {fake} image(s): FID and KID need at least {MIN_IMAGES} a side "
            "(published scores use 10,000 or more)"
        )
    if real < 2 * MIN_IMAGES:
        raise ValueError(
            f"{real_name} holds {real} image(s): at least {2 * MIN_IMAGES} are needed, half to compare with "
            f"{fake_name} and half for the real-vs-real floor"
        )
    return min(real // 2, fake)


def folder_scores(
    real_features: np.ndarray, fake_features: np.ndarray, kid_subset: int | None = None, seed: int = 0
) -> FolderScores:
    """Score and floor at one count n = min(N_real // 2, N_fake): FID/KID(real half A, fake) and (A, real half B).

    The halves are the even and odd rows (a folder sorted by name may be sorted by class).
    ``kid_subset`` defaults to min(1000, n) // 2, at least 2.
    """
    n = check_counts(len(real_features), len(fake_features))
    half_a, half_b = real_features[0::2][:n], real_features[1::2][:n]
    fake = fake_features[:n]
    subset = kid_subset if kid_subset is not None else max(2, min(1000, n) // 2)
    if not 2 <= subset <= n:
        raise ValueError(f"kid_subset = {subset} is out of range: allowed 2 <= kid_subset <= {n} (images a side)")
    return FolderScores(
        n=n,
        fid=_fid(half_a, fake),
        kid=kid_from_features(half_a, fake, subset_size=subset, seed=seed),
        floor_fid=_fid(half_a, half_b),
        floor_kid=kid_from_features(half_a, half_b, subset_size=subset, seed=seed),
        kid_subset=subset,
    )


def _fid(a: np.ndarray, b: np.ndarray) -> float:
    return fid_from_statistics(FeatureStatistics.of(a), FeatureStatistics.of(b))


def held_out_scores(
    folder: str,
    image_size: int,
    sample: Callable[[int], torch.Tensor],
    kind: str = "auto",
    device: torch.device | str | None = None,
    kid_subset: int | None = None,
) -> tuple[FolderScores, Judge]:
    """A folder run's final FID/KID: ``sample(n)`` against the folder's held-out split, beside the real floor.

    n is the number of held-out images (every 10th file, or ``test/``); the floor compares
    them with as many training images. The judge is :func:`choose_judge`'s for images of no
    book domain (InceptionV3), so offline without its weights this raises :class:`NoJudge`.
    """
    from gancourse.data.folders import folder_arrays

    held_out = _as_float(folder_arrays(folder, "test", image_size)[0])  # (n, 3, S, S) in [-1, 1]
    n = len(held_out)
    if n < MIN_IMAGES:
        raise ValueError(
            f"{folder} holds {n} held-out image(s): a final FID needs at least {MIN_IMAGES} (every 10th file of "
            f"{10 * MIN_IMAGES} or more, or a test/ folder)"
        )
    train = _as_float(folder_arrays(folder, "train", image_size, limit=n)[0])
    if len(train) < n:
        raise ValueError(f"{folder}: {len(train)} training images, fewer than the {n} held-out ones the floor needs")
    fake = sample(n).detach().float().cpu()[:n]
    grey = is_grey(held_out) and is_grey(fake)
    chosen = choose_judge(grey, kind, None, inception_missing=inception_unavailable())
    extractor = load_judge(chosen, device=device)

    def features(images: torch.Tensor) -> np.ndarray:
        images = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
        return _features.extract_features(extractor, images)

    reference, fake_features, other = features(held_out), features(fake), features(train)
    subset = kid_subset if kid_subset is not None else max(2, min(1000, n) // 2)
    scores = FolderScores(
        n=n,
        fid=_fid(reference, fake_features),
        kid=kid_from_features(reference, fake_features, subset_size=subset),
        floor_fid=_fid(reference, other),
        floor_kid=kid_from_features(reference, other, subset_size=subset),
        kid_subset=subset,
    )
    return scores, chosen


def _as_float(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).float().div(127.5).sub(1)
