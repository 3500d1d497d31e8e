"""Training, saving and reloading the domain classifier that the metrics use on data without Inception.

FID, KID and the Inception Score need a network that has learnt what the images
of a domain look like. :class:`~gancourse.models.classifier.DomainClassifier` is
trained here by plain supervised learning (cross-entropy; Adam, Kingma & Ba 2015;
a cosine learning-rate decay, Loshchilov & Hutter 2017) on MNIST (LeCun et al.
1998) or Fashion-MNIST (Xiao et al. 2017), once per data set, run mode and training
data, and cached under ``checkpoint_dir()`` as
``classifier-<dataset>-<mode>-<N>img-<hash>.pt`` (:func:`classifier_path`): ``N`` is
the number of training images found and ``hash`` names where they came from, so a
classifier trained on a 4,000-digit offline sample and one trained on the full MNIST
never share a file (the cache is shared by every chapter and the command line). The
checkpoint holds only tensors and plain values, so it is reloaded with
``weights_only=True``; it records the config, the data source and the test
accuracy reached, and the classifier is retrained when any of them no longer matches.

Measured on a 2-core CPU (torch 2.15), test accuracy on the 10,000 test images:
quick mode (1 epoch, 30,000 images) 98.5 % on MNIST in 28 s, 88.3 % on
Fashion-MNIST in 20 s; full mode (8 epochs, 60,000 images) 99.3 % on MNIST and
92.7 % on Fashion-MNIST, about 9 minutes each on that CPU.

**Colour data.** The same code trains the classifier of ``emoji`` (3 channels) and of
CIFAR-10. For emoji the label is the pair (category, designer): 10 categories x
{Twemoji, Noto} = 20 classes. FID features must see style as well as content: a
classifier of the categories alone may learn to ignore how an emoji is drawn, and
then could not tell a generator that mixes the two designers' styles from one that
draws either faithfully. Its class probabilities are summed over the designers to
give p(category | x) (:func:`classifier_classes`), so class histograms and the
conditional accuracy speak of the 10 categories. One classifier serves ``emoji``,
``emoji_twemoji`` and ``emoji_noto`` (:func:`classifier_dataset`). Test accuracy is
measured on the emoji of the test split, which no training image shows: it measures
how well the features generalise to emoji never seen.

**Held-out training emoji.** A classifier trained for several epochs on 6,000 images
responds differently to the images it was trained on than to images it never saw (it
is more confident on them): a floor between its own training images and test images
would measure that difference, not the distance between two real samples, and a
generator (whose images it never saw either) could then score *below* the floor. So
the emoji classifier does not train on every tenth training emoji
(:data:`EMOJI_HELD_OUT`, :func:`held_out_rows`), and the floor draws its real training
images from those. The MNIST-family classifiers see each image once or a few times out
of 30,000-60,000, and keep their floor on the whole training split.

For speed on a CPU the whole training split is transformed once, in a few
batched calls, into one float tensor (60,000 x 32 x 32 floats = 245 MB), and
mini-batches are slices of a shuffled index: no per-item ``Dataset`` work.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gancourse.checkpoints import CheckpointError, checkpoint_dir, load_checkpoint, require_keys, save_checkpoint
from gancourse.checks import check_int
from gancourse.config import ClassifierConfig, run_mode
from gancourse.config.evaluation import CLASSIFIER_DATASETS
from gancourse.data import SPECS, dataset_info, emoji_set, load_arrays, load_images, transform_images
from gancourse.data.emoji import CATEGORIES as EMOJI_CATEGORIES
from gancourse.data.emoji import TEST_EVERY
from gancourse.device import pick_device
from gancourse.models.classifier import IMAGE_SIZE, DomainClassifier

EMOJI_DESIGNERS = ("Twemoji", "Noto")  # the order of the interleaved ``emoji`` data set
#: Training emoji (with all their variants) that the emoji classifier never sees: base index % 10 in this
#: tuple (the test split is base index % 10 == 9).
EMOJI_HELD_OUT = (0, 2, 4, 6, 8)


def classifier_dataset(dataset: str) -> str:
    """The data set whose classifier judges images of ``dataset``: ``emoji`` for the three emoji names."""
    name = "emoji" if dataset.startswith("emoji") else dataset
    if name not in CLASSIFIER_DATASETS:
        raise ValueError(
            f"dataset = {dataset!r} is not known to the domain classifier: allowed "
            f"{', '.join(map(repr, CLASSIFIER_DATASETS))} (and 'emoji_twemoji', 'emoji_noto')"
        )
    return name


def classifier_labels(dataset: str) -> tuple[str, ...]:
    """The names of the classifier's outputs: the classes, or for emoji (category, designer) pairs (20)."""
    if dataset == "emoji":
        return tuple(f"{c} / {d}" for c in EMOJI_CATEGORIES for d in EMOJI_DESIGNERS)
    return tuple(dataset_info(dataset).classes)


def classifier_classes(dataset: str) -> np.ndarray:
    """(num_labels, num_classes) 0/1 matrix: output label -> data set class (p(class) = p(label) @ it)."""
    labels = classifier_labels(dataset)
    classes = dataset_info(dataset).classes
    owner = np.arange(len(labels)) // (len(labels) // len(classes))  # emoji: label 2c + d -> category c
    return np.eye(len(classes), dtype=np.float32)[owner]


def held_out_rows(dataset: str, root: str | os.PathLike | None = None) -> np.ndarray | None:
    """Boolean mask over the rows of ``load_images(dataset, "train")``: the images the domain classifier never saw.

    Emoji (all three names): the held-out emoji. Other data sets: None (the classifier's
    floor uses the whole training split).
    """
    if not dataset.startswith("emoji"):
        return None
    part = emoji_set(IMAGE_SIZE, root).split("train")
    held_out = np.isin(part.base % TEST_EVERY, EMOJI_HELD_OUT)  # (emoji,)
    return np.repeat(held_out, len(EMOJI_DESIGNERS)) if dataset == "emoji" else held_out


def classifier_split(
    dataset: str, split: str = "train", root: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(images uint8 (N, C, H, W), classifier labels int64 (N,), source)`` that the classifier learns from.

    MNIST family: the 28 px digits or garments and their class. Emoji: both designers'
    drawings of every emoji of the split at 32 px, label ``2 * category + designer``
    (0 Twemoji, 1 Noto); the training split without the held-out emoji
    (:func:`held_out_rows`). CIFAR-10: the 32 px photos and their class.
    """
    if dataset in SPECS:
        images, labels, source = load_arrays(dataset, split, root)  # uint8 (N, 28, 28)
        return images[:, None], labels, source
    if dataset == "emoji":
        part = emoji_set(IMAGE_SIZE, root).split(split)  # row i of .twemoji and .noto: the same emoji
        if split == "train":  # the held-out emoji are kept for the floor
            keep = ~np.isin(part.base % TEST_EVERY, EMOJI_HELD_OUT)
            part = dataclasses.replace(
                part, **{f: getattr(part, f)[keep] for f in ("twemoji", "noto", "labels", "names", "base")}
            )
        images = np.stack([part.twemoji, part.noto], axis=1).reshape(-1, *part.twemoji.shape[1:])
        designer = np.tile(np.arange(len(EMOJI_DESIGNERS)), len(part))  # 0, 1, 0, 1, ...
        labels = len(EMOJI_DESIGNERS) * np.repeat(part.labels, len(EMOJI_DESIGNERS)) + designer
        return (
            images,
            labels.astype(np.int64),
            part.source + " (Twemoji and Noto)" + (" without the held-out emoji" if split == "train" else ""),
        )
    return load_images(classifier_dataset(dataset), split, root)


@dataclasses.dataclass
class TrainedClassifier:
    """A domain classifier (in eval mode) with what is known about it."""

    model: DomainClassifier
    config: ClassifierConfig
    test_accuracy: float  # share of correctly classified test images, in [0, 1]
    test_images: int  # how many test images that accuracy was measured on
    train_seconds: float  # wall-clock training time where it was trained
    source: str  # where the training images came from
    path: Path | None = None  # the checkpoint file, if saved or loaded


def preload_split(
    dataset: str, split: str = "train", limit: int = 0, root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """A whole split as ``(images float32 (N, C, 32, 32) in [-1, 1], labels int64 (N,), source)``.

    Labels are the classifier's (:func:`classifier_split`). The transform runs on chunks of
    the uint8 stack, not image by image: on a 2-core CPU 60,000 MNIST images take about 2 s this way.
    """
    images, labels, source = classifier_split(dataset, split, root)  # uint8 (N, C, H, W), int64 (N,)
    if limit:
        images, labels = images[:limit], labels[:limit]
    return to_model_input(images), torch.from_numpy(np.array(labels, dtype=np.int64)), source


def to_model_input(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N, 28, 28) or (N, C, H, W) -> float32 (N, C, 32, 32) in [-1, 1]: the classifier's input."""
    return transform_images(images, IMAGE_SIZE)


def new_classifier(cfg: ClassifierConfig) -> DomainClassifier:
    """An untrained :class:`DomainClassifier` shaped for ``cfg.dataset``: its channels and labels."""
    labels = classifier_labels(cfg.dataset)
    return DomainClassifier(cfg.channels, cfg.feature_dim, len(labels), dataset_info(cfg.dataset).channels)


@torch.no_grad()
def classifier_accuracy(
    model: DomainClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000
) -> float:
    """Share of ``images`` (N, C, 32, 32) whose arg-max class equals ``labels`` (N,)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()  # batch norm uses its running statistics, not the batch's
    correct = 0
    for x, y in zip(images.split(batch_size), labels.split(batch_size), strict=True):
        correct += (model(x.to(device)).argmax(dim=1).cpu() == y).sum().item()
    model.train(was_training)
    return correct / len(images)


class Accuracies(dict):
    """Test accuracies by name, in [0, 1]; shown as percentages."""

    def __repr__(self) -> str:
        return ", ".join(f"{name}: {100 * value:.1f}%" for name, value in self.items())


@torch.no_grad()
def classifier_accuracies(trained: TrainedClassifier, root: str | os.PathLike | None = None) -> Accuracies:
    """Test accuracy of the classifier's labels, for emoji also of the category and of the designer alone.

    ``{"label": a, ...}`` for one-label data sets; for emoji ``{"category x designer": a,
    "category": b, "designer": c, ...}``. The last entry is the baseline of always
    answering the commonest class (category for emoji) of the test split.
    """
    dataset = trained.config.dataset
    images, labels, _ = preload_split(dataset, "test", 0, root)
    model = trained.model
    device = next(model.parameters()).device
    predicted = torch.cat([model(x.to(device)).argmax(dim=1).cpu() for x in images.split(1000)])
    if dataset != "emoji":
        commonest = labels.bincount().max().item() / len(labels)
        return Accuracies({"label": (predicted == labels).double().mean().item(), "commonest class": commonest})
    designers = len(EMOJI_DESIGNERS)  # label = designers * category + designer
    categories = labels // designers
    return Accuracies(
        {
            "category x designer": (predicted == labels).double().mean().item(),
            "category": (predicted // designers == categories).double().mean().item(),
            "designer": (predicted % designers == labels % designers).double().mean().item(),
            "commonest category": categories.bincount().max().item() / len(labels),
        }
    )


def train_classifier(
    cfg: ClassifierConfig | None = None,
    root: str | os.PathLike | None = None,
    device: torch.device | str | None = None,
    test_limit: int = 0,
) -> TrainedClassifier:
    """Train a :class:`DomainClassifier` as ``cfg`` says; accuracy on the first ``test_limit`` test images (0 = all).

    The global random state of the caller is left untouched: the weights are
    initialised inside ``torch.random.fork_rng`` and the order is drawn from a
    generator of its own, both seeded by ``cfg.seed``.
    """
    cfg = cfg or ClassifierConfig()
    check_int("test_limit", test_limit, 0, note="0 = all")
    device = pick_device(device)
    images, labels, source = preload_split(cfg.dataset, "train", cfg.limit, root)
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = new_classifier(cfg).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps = cfg.epochs * math.ceil(len(images) / cfg.batch_size)
    # cosine decay of the step size to 0 (Loshchilov & Hutter 2017, without restarts): the last, small
    # steps settle into a minimum; on Fashion-MNIST a constant rate stalled near 91 %, this reaches 92.7 %
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    order_rng = torch.Generator().manual_seed(cfg.seed)
    model.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(images), generator=order_rng)
        for batch in order.split(cfg.batch_size):
            if len(batch) < 2:  # batch norm needs two samples to estimate a variance
                continue
            x, y = images[batch].to(device), labels[batch].to(device)  # (B, C, 32, 32), (B,)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    seconds = time.perf_counter() - start
    test_images, test_labels, _ = preload_split(cfg.dataset, "test", test_limit, root)
    accuracy = classifier_accuracy(model, test_images, test_labels)
    model.eval()
    return TrainedClassifier(model, cfg, accuracy, len(test_images), seconds, source)


def classifier_data_key(source: str, size: int) -> str:
    """``'<size>img-<hash>'``: the training data of a classifier, as its cache file names it.

    ``hash`` is the first 10 hex digits of the sha256 of ``source`` (a folder, or the
    shipped sample's name): two sources, or two sizes of one source, give two keys.
    """
    check_int("size", size, 0)
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:10]
    return f"{size}img-{digest}"


def classifier_path(dataset: str, mode: str, source: str, size: int) -> Path:
    """``checkpoint_dir() / 'classifier-<dataset>-<mode>-<size>img-<hash>.pt'``: one file per training data."""
    return checkpoint_dir() / f"classifier-{dataset}-{mode}-{classifier_data_key(source, size)}.pt"


def save_classifier(trained: TrainedClassifier, path: str | os.PathLike) -> Path:
    """Save weights, config, accuracy and data source as a ``weights_only``-loadable checkpoint."""
    trained.path = save_checkpoint(
        path,
        {
            "kind": "domain-classifier",
            "model": trained.model.state_dict(),
            "config": trained.config.as_dict(),
            "test_accuracy": float(trained.test_accuracy),
            "test_images": int(trained.test_images),
            "train_seconds": float(trained.train_seconds),
            "source": trained.source,
            "torch_version": str(torch.__version__),  # TorchVersion is a str subclass that weights_only refuses
        },
        finite=["model"],  # a classifier with NaN weights is never cached
    )
    return trained.path


def load_classifier(path: str | os.PathLike, device: torch.device | str | None = None) -> TrainedClassifier:
    """Reload a classifier saved by :func:`save_classifier`; :class:`CheckpointError` if it is not one."""
    state = load_checkpoint(path)  # weights_only=True
    if state.get("kind") != "domain-classifier":
        raise CheckpointError(f"{path} is a gancourse checkpoint but not of a domain classifier")
    require_keys(state, ("config", "model", "test_accuracy", "test_images", "train_seconds", "source"), path)
    try:
        cfg = ClassifierConfig(**state["config"])
        model = new_classifier(cfg)
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{path} does not hold a usable domain classifier ({err}): delete it") from err
    model.to(pick_device(device)).eval()
    return TrainedClassifier(
        model, cfg, state["test_accuracy"], state["test_images"], state["train_seconds"], state["source"], Path(path)
    )


def load_or_train_classifier(
    dataset: str = "mnist",
    mode: str | None = None,
    force: bool = False,
    root: str | os.PathLike | None = None,
    device: torch.device | str | None = None,
) -> TrainedClassifier:
    """The domain classifier of ``dataset`` for the run ``mode``: loaded if cached and valid, else trained and saved.

    ``dataset`` may be any name of :func:`classifier_dataset` (the emoji names share one
    classifier). Prints one line saying which, with the test accuracy. A cached file is
    valid when it loads, was trained with the config of this mode, and on the
    data that ``load_arrays`` finds now: the file's name holds that data's source and
    size (:func:`classifier_path`), so a classifier trained on the 5,000-digit offline
    sample lives beside, never over, the one of the full MNIST. ``force`` retrains.
    """
    dataset = classifier_dataset(dataset)
    mode = run_mode(mode)
    cfg = ClassifierConfig.for_dataset(dataset, mode)
    train_images, _, source = classifier_split(dataset, "train", root)
    available = len(train_images)
    path = classifier_path(dataset, mode, source, available)
    label = f"domain classifier ({dataset}, {mode})"
    why = "forced" if force else f"no checkpoint yet for {available:,} training images from {source}"
    if not force and path.exists():
        try:
            trained = load_classifier(path, device)
            if trained.config != cfg:
                why = "its config differs from this mode's"
            elif trained.source != source:
                why = f"it was trained on {trained.source}, the data now come from {source}"
            else:
                print(f"{label}: loaded {path} (test accuracy {100 * trained.test_accuracy:.2f}%)")
                return trained
        except CheckpointError as err:
            why = f"the checkpoint is unusable: {str(err)[:120]}"
    print(f"{label}: training ({why})...", end=" ", flush=True)
    trained = train_classifier(cfg, root, device)
    try:
        save_classifier(trained, path)
    except CheckpointError as err:  # a full disk or read-only cache must not throw the trained model away
        print(f"\n{label}: WARNING: {err}; using it without caching it")
    n_train = min(cfg.limit or available, available)
    print(
        f"done in {trained.train_seconds:.0f} s, {cfg.epochs} epoch(s) on {n_train:,} images, "
        f"test accuracy {100 * trained.test_accuracy:.2f}%, saved to {path}"
    )
    return trained
