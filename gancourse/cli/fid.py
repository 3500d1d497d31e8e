"""``python -m gancourse fid A B``: FID and KID between two folders of images, or a model's samples, beside the floor.

The judge (the feature network) is chosen by :func:`gancourse.metrics.judge.choose_judge`
from what the images are and ``--dataset``; the line ``judge:`` says which and why. With a
folder of real images on one side, the score is printed beside the real-vs-real floor of
that folder (its two halves, at the same image count).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from gancourse.cli.options import UsageError, pick_device

#: Images read to tell grey from colour before the judge is chosen.
PROBE = 64
BATCH = 100


def _check_source(source: str) -> None:
    """A folder, a checkpoint file or a reference model's name: checked before any network is loaded."""
    from gancourse.data import DataError
    from gancourse.pretrained.registry import REFERENCES
    from gancourse.train.recipes import RECIPES

    if not Path(source).exists() and source not in REFERENCES and source not in RECIPES:
        raise DataError(
            f"{source} does not exist: give a folder of images, a checkpoint file or a reference model "
            f"({', '.join(REFERENCES)})"
        )


def _shipped() -> set[str]:
    from gancourse.pretrained import files

    return set(files.read_manifest()["features"])


def fid(args: argparse.Namespace) -> int:
    import torch

    from gancourse.cli.sampling import generated, load_trainer
    from gancourse.data import ImageFiles
    from gancourse.metrics import extract_features, judge
    from gancourse.pretrained.scores import domain_features

    if args.n is not None and args.n < judge.MIN_IMAGES:
        raise UsageError(f"-n = {args.n} is out of range: allowed n >= {judge.MIN_IMAGES}")
    for source in (args.dir_a, args.dir_b):
        _check_source(source)
    folders = [Path(s).is_dir() for s in (args.dir_a, args.dir_b)]
    if not any(folders) and args.n is None:
        raise UsageError("two models: say how many samples to draw from each with -n")
    # the real images: the first folder (its halves give the floor); two models have no floor
    real = 0 if folders[0] else 1 if folders[1] else None
    names = (args.dir_a, args.dir_b)
    files = {i: ImageFiles(names[i], 32) for i in (0, 1) if folders[i]}
    count = {i: len(f) for i, f in files.items()}
    if args.n is not None:  # n images a side: the real folder gives 2n (n against the other side, n for the floor)
        needed = {i: 2 * args.n if i == real else args.n for i in files}
        for i, f in files.items():
            if len(f) < needed[i]:
                role = " (n to compare, n more for the real-vs-real floor)" if i == real else ""
                raise UsageError(
                    f"-n = {args.n} needs {needed[i]} images of {names[i]}{role}, but it holds {len(f)}: "
                    f"allowed n <= {len(f) // 2 if i == real else len(f)}"
                )
        count = {i: needed[i] for i in files}
    if real is not None:
        fake_count = count.get(1 - real, args.n or count[real] // 2)
        judge.check_counts(count[real], fake_count, names[real], names[1 - real])
    device = pick_device(args.device)

    models = {}
    for i in (0, 1):
        if not folders[i]:
            source = (args.dir_a, args.dir_b)[i]
            trainer, recipe = load_trainer(source, None, args.device)
            if recipe.kind == "toy":
                raise UsageError(f"{source} is a toy GAN: its samples are 2-D points, not images (its score: modes)")
            n = args.n or (count[real] // 2 if real is not None else 0)
            models[i] = generated(trainer, recipe, n, seed=0).float().cpu()  # (n, C, S, S) in [-1, 1]
            count[i] = n

    def probe(i: int) -> torch.Tensor:
        if i in models:
            return models[i][:PROBE]
        return torch.stack([files[i][k][0] for k in range(min(PROBE, count[i]))])

    grey = judge.is_grey(probe(0)) and judge.is_grey(probe(1))
    chosen = judge.choose_judge(
        grey,
        args.features,
        args.dataset,
        shipped=lambda name: name in _shipped(),
        inception_missing=judge.inception_unavailable(),
    )
    print(f"judge: {chosen.reason}")
    extractor = judge.load_judge(chosen, domain_features, args.mode, device)
    size = chosen.image_size

    def fit(batch: torch.Tensor) -> torch.Tensor:  # what the judge takes: its size, grey as one channel
        if batch.shape[-1] != size or batch.shape[-2] != size:
            batch = torch.nn.functional.interpolate(batch, size=(size, size), mode="bilinear", antialias=True)
        if chosen.kind == "classifier" and grey:
            return batch.mean(dim=1, keepdim=True)
        return batch.expand(-1, 3, -1, -1) if batch.shape[1] == 1 else batch

    def batches(i: int) -> Iterator[torch.Tensor]:
        if i in models:
            yield from (fit(b) for b in models[i].split(BATCH))
            return
        read = ImageFiles((args.dir_a, args.dir_b)[i], size)
        for start in range(0, count[i], BATCH):
            stop = min(start + BATCH, count[i])
            yield fit(torch.stack([read[k][0] for k in range(start, stop)]))

    features = {i: extract_features(extractor, batches(i)) for i in (0, 1)}
    print(f"{names[0]}: {count[0]} images, {names[1]}: {count[1]} images; features: {extractor.name}")
    if real is None:
        n = min(count.values())
        subset = args.kid_subset or max(2, min(1000, n) // 2)
        if not 2 <= subset <= n:
            raise UsageError(f"--kid-subset = {subset} is out of range: allowed 2 <= kid_subset <= {n}")
        from gancourse.metrics import frechet_inception_distance, kid_from_features

        score = frechet_inception_distance(features[0][:n], features[1][:n])
        kid = kid_from_features(features[0][:n], features[1][:n], subset_size=subset)
        print(f"FID {score:.3f}   ({n} images a side; no real-vs-real floor: neither side is a folder of real images)")
        print(f"KID x 10^3 {judge.kid_per_mille(kid)}   (MMD^2 x 1000, as papers print KID; subsets of {subset})")
        return 0
    scores = judge.folder_scores(features[real], features[1 - real], kid_subset=args.kid_subset)
    print(f"the score compares half of {names[real]} with {names[1 - real]}; the floor, its two halves")
    print(scores)
    return 0
