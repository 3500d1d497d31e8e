"""``python -m gancourse sample``: a grid of samples from a checkpoint or a chapter's cached model."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from gancourse.cli.options import UsageError, os_error, pick_device


def save_grid(images: Any, path: Path, nrow: int = 8, mixture: Any = None) -> Path:
    """Images (N, C, H, W) in [-1, 1] as a PNG grid; 2-D points (N, 2) as a scatter plot over ``mixture``.

    A file that cannot be written (a full disk, a folder that cannot be made) raises a
    :class:`CommandError` naming it, the reason and the fix.
    """
    path = Path(path)
    try:
        _save_grid(images, path, nrow, mixture)
    except OSError as err:
        raise os_error(err, f"write the sample grid {path}", "--out") from err
    return path


def _save_grid(images: Any, path: Path, nrow: int, mixture: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if images.ndim == 2:  # the toy GAN's points
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from gancourse.viz import plot_mixture

        fig = plot_mixture(mixture, images, title=path.stem) if mixture is not None else None
        if fig is None:
            fig, ax = plt.subplots(figsize=(3.2, 3.2))
            ax.scatter(images[:, 0], images[:, 1], s=3)
        try:
            fig.savefig(path, dpi=120, bbox_inches="tight")
        finally:
            plt.close(fig)
        return
    from torchvision.utils import save_image

    save_image(images.float().cpu(), path, nrow=nrow, normalize=True, value_range=(-1.0, 1.0), pad_value=1.0)


class Reference:
    """A shipped reference model (:mod:`gancourse.pretrained`) standing in for a loaded trainer where one is sampled."""

    def __init__(self, name: str) -> None:
        from types import SimpleNamespace

        from gancourse import pretrained
        from gancourse.data import dataset_info
        from gancourse.pretrained import reference

        record = pretrained.entry(name)  # NotShipped where the manifest has no weights for it
        self.name, self.cfg = name, reference._config_of(record)
        self.generator = pretrained.load(name)  # sha256-checked
        dataset = getattr(self.cfg, "dataset", None)
        classes = dataset_info(dataset).classes if dataset and record["recipe"] == "conditional_gan" else ()
        self.data = SimpleNamespace(classes=classes, mixture=None)
        self.recipe = record["recipe"]

    def sampler(self):
        return self.generator


def _unknown(source: str) -> UsageError:
    from gancourse.pretrained.registry import REFERENCES
    from gancourse.train.recipes import RECIPES

    return UsageError(
        f"{source} is not a checkpoint file, a recipe name ({', '.join(RECIPES)}) or a reference model "
        f"({', '.join(REFERENCES)}; 'python -m gancourse.pretrained list')"
    )


def load_trainer(source: str, mode: str | None, device_name: str | None):
    """A trainer restored from a checkpoint file, the chapter's cached model of a recipe name, or a reference model.

    Returns ``(trainer, recipe)``; a reference model (a :mod:`gancourse.pretrained` name) comes
    as a :class:`Reference`, which samples as a trainer does.
    """
    from gancourse.checkpoints import cache_file, load_checkpoint
    from gancourse.config import run_mode
    from gancourse.pretrained.registry import REFERENCES
    from gancourse.train.recipes import RECIPES, recipe_for_config

    if source in REFERENCES and not Path(source).exists():
        loaded = Reference(source)
        print(f"loaded the reference model {source} (shipped with gancourse.pretrained, sha256 checked)")
        return loaded, RECIPES[loaded.recipe]
    if not Path(source).exists() and source not in RECIPES:
        raise _unknown(source)
    device = pick_device(device_name)
    if source in RECIPES and not Path(source).exists():
        recipe = RECIPES[source]
        mode = run_mode(mode)
        cfg = recipe.config.for_mode(mode)
        path = cache_file(recipe.cache_name, cfg)
        if not path.exists():
            raise UsageError(
                f"no trained {source} for {mode} mode at {path}: run chapter {recipe.chapter}, or "
                f"'python -m gancourse train {source} --mode {mode}' and sample its checkpoint"
            )
    else:
        path = Path(source)
        state = load_checkpoint(path)
        import gancourse.config as configs

        cls = getattr(configs, state.get("config_class", ""), None)
        if cls is None:
            raise UsageError(
                f"{path} was written for config {state.get('config_class')!r}, which gancourse does not know"
            )
        settable = {f.name for f in dataclasses.fields(cls) if f.init}
        cfg = cls(**{k: v for k, v in state["config"].items() if k in settable})
        recipe = RECIPES[recipe_for_config(cfg)]
    trainer = recipe.build(cfg, device=device, checkpoint_path=path)
    step = trainer.load()
    print(f"loaded {path}: {type(cfg).__name__}, step {step} of {cfg.steps}")
    return trainer, recipe


def generated(trainer: Any, recipe: Any, n: int, seed: int = 0) -> Any:
    """``n`` samples of a loaded run, drawn by its recipe: pix2pix's outputs on its own first ``n`` test inputs."""
    cfg, generator = trainer.cfg, trainer.sampler()
    if recipe.condition == "images":
        inputs, _ = recipe.held_out_pairs(cfg, n)
        if len(inputs) < n:
            raise UsageError(f"-n = {n} but the test split of {cfg.dataset!r} holds only {len(inputs)} pairs")
        return recipe.sample(cfg, generator, n, seed, inputs=inputs)
    return recipe.sample(cfg, generator, n, seed)


def draw(trainer: Any, recipe: Any, n: int, seed: int = 0, label: int | None = None) -> tuple[Any, int, str]:
    """``(images, nrow, what the rows are)`` of a sample grid of ``n`` from a loaded run, drawn by its recipe.

    Noise GANs: ``n`` samples (a conditional GAN: of class ``label``, else in class order).
    A paired task (pix2pix): its own first ``n`` test inputs (Sobel edges, Twemoji or the
    folder's A halves), the outputs and the targets, a row each.
    """
    import torch

    cfg, generator = trainer.cfg, trainer.sampler()
    if recipe.condition == "images":
        inputs, targets = recipe.held_out_pairs(cfg, n)
        outputs = recipe.sample(cfg, generator, len(inputs), seed, inputs=inputs)
        return torch.cat([inputs, outputs, targets]), len(inputs), "rows: the test inputs, pix2pix's outputs, targets"
    labels = None
    if recipe.condition == "labels":
        n_classes = len(trainer.data.classes)
        if label is not None and not 0 <= label < n_classes:
            raise UsageError(f"--label = {label} is out of range: allowed 0 <= label <= {n_classes - 1}")
        labels = torch.full((n,), label) if label is not None else None  # None: class order
    return recipe.sample(cfg, generator, n, seed, labels=labels), 0, ""


GRID_SUFFIXES = (".png", ".jpg", ".jpeg")


def check_grid_path(out: str) -> None:
    """``--out`` must name an image file: a folder (or a name without an image suffix) is refused, saying why."""
    path = Path(out)
    if out.endswith(("/", "\\")) or path.is_dir():
        raise UsageError(
            f"--out = {out!r} is a folder: --out writes one grid image (e.g. --out grid.png); "
            f"for one PNG per image, give the folder as --out-dir {out}"
        )
    if path.suffix.lower() not in GRID_SUFFIXES:
        raise UsageError(
            f"--out = {out!r} has no image suffix ({', '.join(GRID_SUFFIXES)}): e.g. --out grid.png, "
            f"or --out-dir {out} for a folder of one PNG per image"
        )


def write_samples(images: Any, folder: str | Path, seed: int, source: str, label: int | None = None) -> list[Path]:
    """One PNG per image, ``seed<S>_<i>.png`` (i from 0), and ``seed<S>.json`` recording what drew them."""
    import json

    from gancourse.data.folders import write_image_folder

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out-dir = {str(folder)!r} is a file: give a folder (it is made if missing)")
    prefix = f"seed{seed}"
    paths = [folder / f"{prefix}_{i:05d}.png" for i in range(len(images))]
    record = {"source": source, "seed": seed, "n": len(images), "label": label, "files": [p.name for p in paths]}
    try:
        write_image_folder(images.float().cpu().clamp(-1, 1), folder, prefix=prefix)
        (folder / f"{prefix}.json").write_text(json.dumps(record, indent=1))
    except OSError as err:
        raise os_error(err, f"write the samples into {folder}", "--out-dir") from err
    return paths


#: The seeds a ``torch.Generator`` takes (``manual_seed`` refuses larger ones with "Overflow when unpacking long").
MAX_SEED = 2**63 - 1


def check_seed(seed: int, option: str = "--seed") -> int:
    """``seed`` if a random-number generator takes it; a :class:`UsageError` naming the range otherwise."""
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(f"{option} = {seed} is out of range: allowed 0 <= seed <= 2**63 - 1 = {MAX_SEED}")
    return seed


def sample(args: argparse.Namespace) -> int:
    if args.n < 1 or args.nrow < 1:
        raise UsageError(f"-n = {args.n} and --nrow = {args.nrow} must both be >= 1")
    check_seed(args.seed)
    out_dir = getattr(args, "out_dir", None)
    if out_dir is None:
        check_grid_path(args.out)  # before anything loads
    trainer, recipe = load_trainer(args.checkpoint, args.mode, args.device)
    if out_dir is not None:
        if recipe.kind == "toy":
            raise UsageError(f"{args.checkpoint} is a toy GAN: its samples are 2-D points, not images (use --out)")
        if recipe.condition == "images":
            images = generated(trainer, recipe, args.n, args.seed)  # the outputs alone, not the input/target rows
        else:
            images = draw(trainer, recipe, args.n, args.seed, args.label)[0]
        paths = write_samples(images, out_dir, args.seed, args.checkpoint, args.label)
        print(f"wrote {len(paths)} images to {out_dir} ({paths[0].name} ... {paths[-1].name}; seed {args.seed})")
        return 0
    images, nrow, rows = draw(trainer, recipe, args.n, args.seed, args.label)
    if rows:
        print(rows)
    path = save_grid(images, Path(args.out), nrow=nrow or args.nrow, mixture=trainer.data.mixture)
    print(f"wrote {len(images)} samples to {path}")
    return 0
