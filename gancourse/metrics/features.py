"""Feature extractors, and streaming images through them in batches.

FID, KID and the Inception Score see images only through a network:

* **InceptionV3** (Szegedy et al. 2016) pool features (2048-d) and its ImageNet
  class probabilities, the choice of Heusel et al. (2017) and Salimans et al.
  (2016). Images are resized to 299 x 299, grey is repeated to three channels,
  and the ImageNet normalisation is applied. We load torchvision's
  ``IMAGENET1K_V1`` weights. Published FIDs use the TensorFlow Inception weights
  of Heusel et al. (in PyTorch: pytorch-fid's ``pt_inception`` weights, Seitzer
  2020), which give different numbers: FIDs from torchvision's weights are
  comparable only among themselves. In full and paper mode, FID and KID use the
  **FID Inception** network instead (:class:`FIDInceptionFeatures`): pytorch-fid's
  port of the TensorFlow graph, whose numbers compare with published ones.
* **The domain classifier** (:mod:`gancourse.metrics.classifier`), trained by
  gancourse on MNIST, Fashion-MNIST, emoji (category x designer) or CIFAR-10:
  128-d penultimate activations and the data set's class probabilities. It is used
  when the Inception weights cannot be loaded (no network and no cached copy), and
  is the better-informed judge of 32 x 32 digits anyway. It sees 32 x 32 images:
  larger ones (a 64 px generator's) are downsampled to 32 px (bilinear,
  antialiased) before it sees them, real and generated alike. Its numbers are
  comparable only among runs scored by the same classifier.

Every function here takes *images*: an (N, C, H, W) tensor or array in [-1, 1],
an :class:`~gancourse.data.ImageTensorDataset` (transformed in batches), any other
``Dataset`` or an iterable of batches (a ``DataLoader``: ``(images, labels)``
pairs are fine), or a function ``sample(b)`` returning b images (a generator;
give ``n``). They are pushed through the extractor ``batch_size`` at a time, so
memory does not grow with the number of images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from gancourse.checks import check_positive_int
from gancourse.config import run_mode
from gancourse.data import ImageTensorDataset
from gancourse.metrics.classifier import TrainedClassifier, classifier_classes, load_or_train_classifier
from gancourse.metrics.fid import FeatureStatistics
from gancourse.metrics.fid_inception import FID_CLASSES, fid_inception_v3, load_fid_weights
from gancourse.models.classifier import IMAGE_SIZE

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_SIZE = 299
KINDS = ("auto", "inception", "classifier")
FID_INCEPTION_NAME = "FID Inception (pytorch-fid pt_inception-2015-12-05, the TensorFlow graph of Heusel et al. 2017)"


class FeatureExtractor(nn.Module):
    """images (B, C, H, W) in [-1, 1] -> features (B, dim); ``probabilities`` -> p(y | x) (B, num_classes)."""

    name: str = "feature extractor"
    dim: int = 0
    num_classes: int = 0

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def train(self, mode: bool = True) -> FeatureExtractor:
        # always eval: in train mode batch norm would normalise with the batch's own statistics,
        # making an image's features depend on the other images of its batch
        return super().train(False)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, dim={self.dim}, num_classes={self.num_classes}"


class ClassifierFeatures(FeatureExtractor):
    """The domain classifier as a feature extractor: penultimate activations and p(class | x).

    Images larger than 32 x 32 are downsampled to 32 x 32 (bilinear, antialiased) first:
    a 64 px generator is then judged on what the classifier can see, exactly as the real
    64 px images it is compared with. Smaller images are refused (upsampling would blur
    them into images the classifier never saw). For emoji the classifier's 20 outputs
    (category x designer) are summed over the designers: ``probabilities`` gives the 10
    categories.
    """

    def __init__(self, trained: TrainedClassifier) -> None:
        super().__init__()
        self.classifier = trained.model.eval()
        self.trained = trained
        cfg = trained.config
        task = " (category x designer)" if cfg.dataset == "emoji" else ""
        self.name = f"domain classifier ({cfg.dataset}{task}, test accuracy {100 * trained.test_accuracy:.2f}%)"
        groups = torch.from_numpy(classifier_classes(cfg.dataset))  # (num_labels, num_classes) 0/1
        self.register_buffer("groups", groups.to(next(trained.model.parameters()).device))
        self.dim, self.num_classes = trained.model.feature_dim, groups.shape[1]
        self.eval()

    def resize(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) with S > 32 -> (B, C, 32, 32), antialiased; 32 px images unchanged."""
        if images.ndim == 4 and images.shape[-1] == images.shape[-2] and images.shape[-1] > IMAGE_SIZE:
            return F.interpolate(images, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", antialias=True)
        return images

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(self.resize(images))

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.classifier(self.resize(images)), dim=1) @ self.groups  # (B, num_classes)


class InceptionFeatures(FeatureExtractor):
    """torchvision's InceptionV3: 2048-d average-pool features and 1000 ImageNet class probabilities.

    ``weights=None`` builds a randomly initialised network (for shape tests and
    timing only: its features mean nothing).
    """

    def __init__(self, weights: Any = "IMAGENET1K_V1") -> None:
        super().__init__()
        from torchvision.models import Inception_V3_Weights, inception_v3

        if weights is not None and not isinstance(weights, Inception_V3_Weights):
            weights = Inception_V3_Weights[weights]
        # with weights, torchvision sets transform_input=True: the network expects ImageNet-normalised input
        net = inception_v3(weights=weights, aux_logits=True, init_weights=False)  # no slow truncated-normal init
        self.fc = net.fc  # 2048 -> 1000 ImageNet logits, kept for the class probabilities
        net.fc = nn.Identity()  # forward now ends at the flattened average pool: (B, 2048)
        self.net = net.eval()
        self.name = "InceptionV3 (torchvision " + (weights.name if weights is not None else "random weights") + ")"
        self.dim, self.num_classes = 2048, 1000
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.eval()

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 1 or 3, H, W) in [-1, 1] -> (B, 3, 299, 299) ImageNet-normalised."""
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"images must have shape (B, 1 or 3, H, W), got {tuple(images.shape)}")
        x = (images + 1) / 2  # [-1, 1] -> [0, 1]
        x = x.expand(-1, 3, -1, -1)  # grey -> RGB by repetition (no copy)
        x = F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(self.preprocess(images))  # eval mode: the pool features, no auxiliary logits

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.fc(self(images)), dim=1)


class FIDInceptionFeatures(FeatureExtractor):
    """The FID Inception network (:mod:`gancourse.metrics.fid_inception`): 2048-d pool features, 1008 class outputs.

    What pytorch-fid's ``InceptionV3([3])`` computes, with its resizing: images are
    resized to 299 x 299 (bilinear, ``align_corners=False``) and scaled to [-1, 1], the
    TensorFlow graph's input range; grey is repeated to three channels. The class
    probabilities are the softmax of the graph's 1008 logits (the Inception Score of
    Salimans et al. 2016 used the same). ``state_dict=None`` keeps random weights
    (shape tests only: its features mean nothing).
    """

    def __init__(self, state_dict: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        net = fid_inception_v3()
        if state_dict is not None:
            net.load_state_dict(state_dict)  # strict: a file of another layout is refused, naming the keys
        self.fc = net.fc  # 2048 -> 1008 logits
        net.fc = nn.Identity()  # forward ends at the flattened average pool: (B, 2048)
        self.net = net.eval()
        self.name = FID_INCEPTION_NAME if state_dict is not None else "FID Inception (random weights)"
        self.dim, self.num_classes = 2048, FID_CLASSES
        self.eval()

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 1 or 3, H, W) in [-1, 1] -> (B, 3, 299, 299) in [-1, 1], resized as pytorch-fid resizes."""
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"images must have shape (B, 1 or 3, H, W), got {tuple(images.shape)}")
        x = ((images + 1) / 2).expand(-1, 3, -1, -1)  # pytorch-fid's input range [0, 1]; grey -> RGB
        x = F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
        return 2 * x - 1  # pytorch-fid's normalize_input: [0, 1] -> [-1, 1]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(self.preprocess(images))

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.fc(self(images)), dim=1)


def load_fid_inception() -> FIDInceptionFeatures:
    """The FID Inception network with its weights (downloaded sha256-checked on first use, then cached)."""
    return FIDInceptionFeatures(load_fid_weights())


def load_inception() -> InceptionFeatures:
    """InceptionV3 with torchvision's ImageNet weights (downloaded on first use, then cached by torch hub)."""
    return InceptionFeatures("IMAGENET1K_V1")


def load_feature_extractor(
    dataset: str = "mnist",
    kind: str = "auto",
    mode: str | None = None,
    device: torch.device | str | None = None,
) -> FeatureExtractor:
    """The feature extractor for ``dataset``: ``"inception"``, ``"classifier"``, or ``"auto"``.

    ``"inception"`` is the FID Inception network of pytorch-fid (:class:`FIDInceptionFeatures`,
    comparable with published FIDs) in full and paper mode, and torchvision's ImageNet
    InceptionV3 in quick mode (``mode`` as :func:`gancourse.config.run_mode` resolves it).
    ``"auto"`` tries that network's weights and, if they cannot be loaded (offline, no
    cached copy), prints one line saying so and uses the domain classifier of ``dataset``
    (see :func:`load_or_train_classifier`). The extractor's ``name`` says which network it is.
    """
    if kind not in KINDS:
        raise ValueError(f"kind = {kind!r} is not allowed: choose one of {', '.join(map(repr, KINDS))}")
    if kind in ("auto", "inception"):
        fid_network = run_mode(mode) != "quick"
        what = "the FID Inception weights (pytorch-fid)" if fid_network else "InceptionV3 ImageNet weights"
        try:
            extractor = load_fid_inception() if fid_network else load_inception()
        except Exception as err:  # URLError, HTTPError, OSError, a corrupt file: all mean "no weights"
            if kind == "inception":
                raise RuntimeError(f"{what} could not be loaded: {err}") from err
            reason = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
            print(
                f"{what} unavailable ({reason}): using the gancourse domain classifier "
                f"for {dataset} as the feature extractor instead (its scores are not comparable to published ones)."
            )
        else:
            from gancourse.device import pick_device

            return extractor.to(pick_device(device))
    return ClassifierFeatures(load_or_train_classifier(dataset, mode, device=device))


# --------------------------------------------------------------------------------------
# Images in, batches out
# --------------------------------------------------------------------------------------


def image_batches(images: Any, n: int | None = None, batch_size: int = 250) -> Iterator[torch.Tensor]:
    """Float batches (B, C, H, W) of the first ``n`` images of ``images`` (all if ``n`` is None).

    See the module docstring for what ``images`` may be. Raises ``ValueError`` when
    fewer than ``n`` images are available, or ``n`` is missing for a sampler.
    """
    check_positive_int("batch_size", batch_size)
    if n is not None:
        check_positive_int("n", n, note="or None for all images")
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if isinstance(images, torch.Tensor):
        _check_available(len(images), n)
        stop = len(images) if n is None else n
        for start in range(0, stop, batch_size):
            yield _as_images(images[start : min(start + batch_size, stop)])
        return
    if isinstance(images, ImageTensorDataset):  # transform whole slices of the uint8 stack at once
        random_steps = [type(t).__name__ for t in getattr(images.transform, "transforms", [])]
        random_steps = [name for name in random_steps if name.startswith("Random")]
        if random_steps:
            raise ValueError(
                f"images: the dataset augments its images ({', '.join(random_steps)}); metrics compare the "
                "images as they are: load it with DataConfig(augment=False)"
            )
        _check_available(len(images), n)
        stop = len(images) if n is None else n
        for start in range(0, stop, batch_size):
            chunk = images.images[start : min(start + batch_size, stop)]
            yield _as_images(images.transform(chunk) if images.transform is not None else chunk)
        return
    if isinstance(images, Dataset):
        _check_available(len(images), n)  # type: ignore[arg-type]
        images = DataLoader(images, batch_size=batch_size, shuffle=False)
    elif callable(images) and not isinstance(images, Iterable):
        if n is None:
            raise ValueError("n = None: give the number of images to draw from a sampling function")
        drawn = 0
        while drawn < n:
            asked = min(batch_size, n - drawn)
            with torch.no_grad():
                batch = _as_images(images(asked))
            if len(batch) == 0:  # drawing again would loop forever
                raise ValueError(
                    f"images: the sampling function returned 0 images when asked for {asked} "
                    f"(after {drawn} of n = {n}): it must return (k, C, H, W) for k requested"
                )
            batch = batch[:asked]
            drawn += len(batch)
            yield batch
        return
    if not isinstance(images, Iterable):
        raise ValueError(
            f"images of type {type(images).__name__} is not supported: give a tensor (N, C, H, W), a Dataset, "
            "an iterable of batches or a sampling function"
        )
    served = 0
    for batch in images:
        if isinstance(batch, (tuple, list)):  # (images, labels) from a DataLoader
            batch = batch[0]
        batch = _as_images(batch)
        if n is not None and served + len(batch) > n:
            batch = batch[: n - served]
        served += len(batch)
        if len(batch):
            yield batch
        if n is not None and served >= n:
            return
    _check_available(served, n)


def _check_available(available: int, n: int | None) -> None:
    if n is not None and available < n:
        raise ValueError(f"n = {n} images were asked for but only {available} are available")


def _as_images(batch: Any) -> torch.Tensor:
    batch = torch.as_tensor(batch)
    if batch.dtype == torch.uint8:
        raise ValueError("images are uint8: scale them to floats in [-1, 1] first (gancourse.data.image_transform)")
    if batch.ndim != 4:
        raise ValueError(f"images must have shape (B, C, H, W), got {tuple(batch.shape)}")
    return batch.float()


def _device_of(extractor: Callable) -> torch.device:
    if isinstance(extractor, nn.Module):
        for tensor in extractor.parameters():
            return tensor.device
    return torch.device("cpu")


def _check_range(batch: torch.Tensor) -> None:
    # one cheap guard against the commonest slip, images in [0, 255]; [0, 1] cannot be told from [-1, 1]
    if batch.numel() and (batch.max() > 1.01 or batch.min() < -1.01):
        raise ValueError(
            f"images must lie in [-1, 1] (a generator's tanh output), got values in "
            f"[{batch.min().item():.3g}, {batch.max().item():.3g}]"
        )


@torch.no_grad()
def iter_features(
    extractor: Callable[[torch.Tensor], torch.Tensor],
    images: Any,
    n: int | None = None,
    batch_size: int = 250,
) -> Iterator[torch.Tensor]:
    """Features (B, d) on the CPU, one batch at a time, of the first ``n`` images."""
    device = _device_of(extractor)
    for batch in image_batches(images, n, batch_size):
        _check_range(batch)
        yield extractor(batch.to(device)).float().cpu()


def extract_features(
    extractor: Callable[[torch.Tensor], torch.Tensor], images: Any, n: int | None = None, batch_size: int = 250
) -> np.ndarray:
    """All features (N, d) as a float32 array: what KID needs (N x d floats; FID needs only the statistics)."""
    parts = [f.numpy() for f in iter_features(extractor, images, n, batch_size)]
    if not parts:
        raise ValueError("images: no images to extract features from")
    return np.concatenate(parts).astype(np.float32, copy=False)


def feature_statistics(
    extractor: Callable[[torch.Tensor], torch.Tensor], images: Any, n: int | None = None, batch_size: int = 250
) -> FeatureStatistics:
    """Mean and covariance of the features of ``images``, accumulated batch by batch (O(d^2) memory)."""
    stats = FeatureStatistics()
    for features in iter_features(extractor, images, n, batch_size):
        stats.update(features)
    return stats


@torch.no_grad()
def class_probabilities(
    extractor: FeatureExtractor, images: Any, n: int | None = None, batch_size: int = 250
) -> np.ndarray:
    """p(y | x) for the first ``n`` images, (N, num_classes) float64: the input of IS and class coverage."""
    device = _device_of(extractor)
    parts = []
    for batch in image_batches(images, n, batch_size):
        _check_range(batch)
        parts.append(extractor.probabilities(batch.to(device)).double().cpu().numpy())
    if not parts:
        raise ValueError("images: no images to classify")
    return np.concatenate(parts)
