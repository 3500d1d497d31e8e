"""``python -m gancourse fid A B``: FID and KID between two folders of images, or a checkpoint's samples."""

from __future__ import annotations

import argparse
from pathlib import Path

from gancourse.cli.options import UsageError, pick_device


def _check_source(source: str) -> None:
    """A folder or a checkpoint file that exists: checked before any feature extractor is loaded or trained."""
    from gancourse.data import DataError

    if not Path(source).exists():
        raise DataError(f"{source} does not exist: give a folder of images or a checkpoint file")


def fid(args: argparse.Namespace) -> int:
    import torch

    from gancourse import metrics
    from gancourse.cli.sampling import generated, load_trainer
    from gancourse.data import ImageFiles

    if args.n is not None and args.n < 4:
        raise UsageError(f"-n = {args.n} is out of range: allowed n >= 4")
    for source in (args.dir_a, args.dir_b):
        _check_source(source)
    if Path(args.dir_a).is_file() and Path(args.dir_b).is_file() and args.n is None:
        raise UsageError("two checkpoints: say how many samples to draw from each with -n")
    device = pick_device(args.device)
    extractor = metrics.load_feature_extractor(args.dataset, kind=args.features, mode=args.mode, device=device)
    judge = isinstance(extractor, metrics.ClassifierFeatures)  # the domain classifier sees 32 x 32 images
    grey = judge and extractor.classifier.in_channels == 1  # grey for the MNIST family, colour for emoji, CIFAR-10
    size = 32 if judge else 299

    def as_features_input(batch: torch.Tensor) -> torch.Tensor:
        if grey:
            return batch.mean(dim=1, keepdim=True)
        return batch.expand(-1, 3, -1, -1) if batch.shape[1] == 1 else batch

    def folder_images(folder: str) -> torch.Tensor:
        files = ImageFiles(folder, size)
        count = len(files) if args.n is None else args.n
        if count > len(files):
            raise UsageError(f"-n = {args.n} but {folder} holds only {len(files)} images")
        return as_features_input(torch.stack([files[i][0] for i in range(count)]))  # (N, C, S, S) in [-1, 1]

    def checkpoint_images(path: str, count: int) -> torch.Tensor:
        trainer, recipe = load_trainer(path, None, args.device)
        if recipe.kind == "toy":
            raise UsageError(f"{path} is a toy GAN: its samples are 2-D points, not images (its score: mode coverage)")
        batch = generated(trainer, recipe, count, seed=0)
        batch = torch.nn.functional.interpolate(batch, size=(size, size), mode="bilinear", antialias=True)
        return as_features_input(batch)

    a = folder_images(args.dir_a) if Path(args.dir_a).is_dir() else None
    b = folder_images(args.dir_b) if Path(args.dir_b).is_dir() else None
    if a is None:
        a = checkpoint_images(args.dir_a, args.n or len(b))
    if b is None:
        b = checkpoint_images(args.dir_b, args.n or len(a))
    subset = args.kid_subset or min(1000, len(a), len(b)) // 2
    features_a = metrics.extract_features(extractor, a)
    features_b = metrics.extract_features(extractor, b)
    fid = metrics.frechet_inception_distance(features_a, features_b)
    kid = metrics.kid_from_features(features_a, features_b, subset_size=subset)
    print(f"{args.dir_a}: {len(a)} images, {args.dir_b}: {len(b)} images; features: {extractor.name}")
    print(f"FID {fid:.3f}")
    print(f"KID {kid}  (subsets of {subset})")
    return 0
