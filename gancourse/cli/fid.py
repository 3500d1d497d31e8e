"""``python -m gancourse fid DIR_A DIR_B``: FID and KID between two folders of images."""

from __future__ import annotations

import argparse

from gancourse.cli.options import UsageError, pick_device


def fid(args: argparse.Namespace) -> int:
    import torch

    from gancourse import metrics
    from gancourse.data import ImageFiles

    if args.n is not None and args.n < 4:
        raise UsageError(f"-n = {args.n} is out of range: allowed n >= 4")
    device = pick_device(args.device)
    extractor = metrics.load_feature_extractor(args.dataset, kind=args.features, mode=args.mode, device=device)
    judge = isinstance(extractor, metrics.ClassifierFeatures)  # the domain classifier sees 32 x 32 images
    grey = judge and extractor.classifier.in_channels == 1  # grey for the MNIST family, colour for emoji, CIFAR-10
    size = 32 if judge else 299

    def images(folder: str) -> torch.Tensor:
        files = ImageFiles(folder, size)
        count = len(files) if args.n is None else args.n
        if count > len(files):
            raise UsageError(f"-n = {args.n} but {folder} holds only {len(files)} images")
        batch = torch.stack([files[i][0] for i in range(count)])  # (N, 3, S, S) in [-1, 1]
        return batch.mean(dim=1, keepdim=True) if grey else batch

    a, b = images(args.dir_a), images(args.dir_b)
    subset = args.kid_subset or min(1000, len(a), len(b)) // 2
    features_a = metrics.extract_features(extractor, a)
    features_b = metrics.extract_features(extractor, b)
    fid = metrics.frechet_inception_distance(features_a, features_b)
    kid = metrics.kid_from_features(features_a, features_b, subset_size=subset)
    print(f"{args.dir_a}: {len(a)} images, {args.dir_b}: {len(b)} images; features: {extractor.name}")
    print(f"FID {fid:.3f}")
    print(f"KID {kid}  (subsets of {subset})")
    return 0
