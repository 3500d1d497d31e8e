"""The command line: ``python -m gancourse {train,sample,fid,stylize} ...``.

::

    python -m gancourse train dcgan --mode quick --out runs/dcgan      # a chapter's GAN, outside the notebook
    python -m gancourse train wgan_gp --set lr_g=1e-4 --set n_critic=5  # any config field, checked as in Python
    python -m gancourse train dcgan --out runs/dcgan --stop-after 200   # stop early ...
    python -m gancourse train dcgan --out runs/dcgan --resume           # ... and continue exactly
    torchrun --nproc_per_node=4 -m gancourse train dcgan --mode full    # data-parallel (gancourse.train.distributed)
    python -m gancourse sample runs/dcgan/checkpoint.pt -n 64 --out grid.png
    python -m gancourse fid real_images/ generated_images/
    python -m gancourse stylize photo.jpg painting.jpg --out pastiche.png

The options of ``train RECIPE`` and ``stylize`` are generated from the recipe's
config dataclass (:meth:`gancourse.config.Config.spec`): one ``--FIELD VALUE`` per
field, with its help, range, paper default and quick-mode value; ``--set
FIELD=VALUE`` does the same (tuples as ``32,32,16,16``). Values are checked by the
config itself, so a bad one fails with the message Python gives, and the command
exits with status 2. Torch is imported only once a command runs, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: The recipes of gancourse.train.recipes.RECIPES, named here so that ``--help`` need not import torch.
RECIPE_NAMES = (
    "toy_gan",
    "mlp_gan",
    "dcgan",
    "wgan",
    "wgan_gp",
    "resnet_gan",
    "conditional_gan",
    "pix2pix",
    "progan",
)
CHECKPOINT_NAME = "checkpoint.pt"


class UsageError(ValueError):
    """A command-line mistake that is not a config value (a missing file, a conflicting flag)."""


# --------------------------------------------------------------------------------------
# Config fields as options
# --------------------------------------------------------------------------------------


def _init_fields(cls: type) -> list[dict[str, Any]]:
    """``cls.spec()`` without the derived fields (``init=False``: ProGAN's ``steps``)."""
    settable = {f.name for f in dataclasses.fields(cls) if f.init}
    return [field for field in cls.spec() if field["name"] in settable]


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:
        return " or ".join(_type_name(arm) for arm in typing.get_args(hint))
    if origin is tuple:
        return "LIST"
    return {bool: "BOOL", int: "INT", float: "FLOAT", str: "STR"}.get(hint, "VALUE")


def add_config_options(
    parser: argparse.ArgumentParser, cls: type, title: str, prefix: str = "", skip: tuple[str, ...] = ()
) -> None:
    """One ``--{prefix}FIELD`` option per settable field of config class ``cls``, with help, range and defaults."""
    from gancourse.config.base import _allowed

    quick = dict(getattr(cls, "QUICK", {}))
    also = "" if prefix else "; also --set FIELD=VALUE"
    group = parser.add_argument_group(f"{title} ({cls.__name__} fields{also})")
    for field in _init_fields(cls):
        name = field["name"]
        if name in skip:
            continue
        default = field["default"]
        parts = [field.get("help") or "", f"[{_allowed(field)}]", f"default {_show(default)}"]
        if name in quick:
            parts.append(f"quick mode {_show(quick[name])}")
        text = " ".join(p for p in parts if p).replace("%", "%%")
        group.add_argument(
            f"--{prefix}{name}", dest=f"{prefix}cfg__{name}", metavar=_type_name(field["type"]), default=None, help=text
        )


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "(empty)"
    return repr(value) if isinstance(value, str) else str(value)


def parse_value(text: str, hint: Any) -> Any:
    """The Python value of option text ``text`` for a field typed ``hint``.

    Text that does not parse is returned unchanged, so the config rejects it with
    its own message (``DCGANConfig.lr_g = 'fast' must be a number``).
    """
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:
        arms = typing.get_args(hint)
        if "," in text:
            arms = sorted(arms, key=lambda arm: typing.get_origin(arm) is not tuple)  # tuples first
        for arm in arms:
            value = parse_value(text, arm)
            if not isinstance(value, str) or arm is str:
                return value
        return text
    if origin is tuple:
        item = (typing.get_args(hint) or (str,))[0]
        return tuple(parse_value(part.strip(), item) for part in text.split(",") if part.strip())
    if hint is bool:
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        return text
    if hint is int:
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)  # 1e4: the config accepts whole floats
            except ValueError:
                return text
    if hint is float:
        try:
            return float(text)
        except ValueError:
            return text
    return text


def config_overrides(args: argparse.Namespace, cls: type, prefix: str = "") -> dict[str, Any]:
    """The values of the ``--{prefix}FIELD`` options (and ``--set FIELD=VALUE``), parsed by the fields' types."""
    hints = typing.get_type_hints(cls)
    raw: dict[str, str] = {}
    for key, value in vars(args).items():
        if key.startswith(f"{prefix}cfg__") and value is not None:
            raw[key[len(f"{prefix}cfg__") :]] = value
    for item in [] if prefix else args.set or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(
                f"--set {item!r} is not FIELD=VALUE: e.g. --set lr_g=1e-4 or --set batch_sizes=32,32,16,16"
            )
        raw[name.strip()] = value.strip()
    # an unknown name is left as text: Config.replace names it and lists the fields
    return {name: parse_value(value, hints[name]) if name in hints else value for name, value in raw.items()}


def make_config(cls: type, mode: str | None, overrides: Mapping[str, Any]):
    """``cls`` for the run mode with ``overrides``; a bad value raises the config's ``ValueError``."""
    return cls.for_mode(mode, **overrides)


def changed_fields(cfg: Any) -> dict[str, Any]:
    """The fields of ``cfg`` that differ from its class's (paper) defaults."""
    defaults = {f["name"]: f["default"] for f in type(cfg).spec()}
    return {k: v for k, v in dataclasses.asdict(cfg).items() if k in defaults and v != defaults[k]}


# --------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gancourse",
        description="Train, sample and score the GANs of 'GANs with PyTorch, from zero to style transfer'.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train a recipe of the book",
        description="Train one of the book's GANs. 'python -m gancourse train RECIPE --help' lists its config fields. "
        "Under torchrun (--nproc_per_node=N) the run is data-parallel.",
        add_help=False,
    )
    train.add_argument("recipe", nargs="?", metavar="RECIPE", help="one of: " + ", ".join(RECIPE_NAMES))
    train.add_argument("-h", "--help", action="store_true", help="show this help (with RECIPE: its options)")
    train.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    train.set_defaults(run=_train_entry, train_parser=train)

    sample = commands.add_parser("sample", help="draw a grid of samples from a checkpoint or a chapter's model")
    sample.add_argument(
        "checkpoint",
        metavar="CHECKPOINT",
        help="a checkpoint file, or a recipe name for the chapter's cached model (" + ", ".join(RECIPE_NAMES) + ")",
    )
    sample.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    sample.add_argument("--out", default="samples.png", help="PNG file to write (default samples.png)")
    sample.add_argument("--nrow", type=int, default=8, help="images per row (default 8)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    sample.add_argument("--label", type=int, default=None, help="conditional GAN: draw only this class")
    sample.add_argument(
        "--mode", choices=("quick", "full"), default=None, help="with a recipe name: which mode's model"
    )
    sample.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps (default: the best available)")
    sample.set_defaults(run=_sample)

    fid = commands.add_parser(
        "fid",
        help="FID and KID between two folders of images",
        description="FID (Heusel et al. 2017) and KID (Binkowski et al. 2018) between the images of two folders. "
        "Scores are comparable only at equal image counts and with the same feature extractor (printed).",
    )
    fid.add_argument("dir_a", metavar="DIR_A")
    fid.add_argument("dir_b", metavar="DIR_B")
    fid.add_argument(
        "--features",
        choices=("auto", "inception", "classifier"),
        default="auto",
        help="InceptionV3 (ImageNet weights; 'auto' falls back to the classifier when they cannot be loaded) "
        "or the gancourse domain classifier (32 x 32; grey for the MNIST family)",
    )
    fid.add_argument(
        "--dataset", default="mnist", help="the classifier's data set (mnist, fashion_mnist, emoji, cifar10)"
    )
    fid.add_argument("-n", type=int, default=None, help="use the first n images of each folder (default: all)")
    fid.add_argument("--kid-subset", type=int, default=None, help="KID subset size (default min(1000, n) // 2)")
    fid.add_argument("--mode", choices=("quick", "full"), default=None, help="which mode's domain classifier")
    fid.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps")
    fid.set_defaults(run=_fid)

    from gancourse.config import StyleConfig  # no torch

    stylize = commands.add_parser(
        "stylize",
        help="neural style transfer (Gatys et al. 2016)",
        description="Paint CONTENT in the style of STYLE (a second style image is blended by style_blend).",
    )
    stylize.add_argument("content", metavar="CONTENT", help="the photo: a file or URL")
    stylize.add_argument("style", metavar="STYLE", nargs="+", help="one or two style images")
    stylize.add_argument("--out", default="stylized.png", help="PNG file to write (default stylized.png)")
    stylize.add_argument("--mode", choices=("quick", "full"), default=None, help="quick: 128 px, 40 steps")
    stylize.add_argument("--set", action="append", metavar="FIELD=VALUE", help="set a StyleConfig field")
    stylize.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps")
    add_config_options(stylize, StyleConfig, "style transfer")
    stylize.set_defaults(run=_stylize)
    return parser


def recipe_parser(name: str) -> argparse.ArgumentParser:
    """The parser of ``train NAME``: the run's options and one option per field of the recipe's config."""
    from gancourse.train.recipes import RECIPES

    recipe = RECIPES[name]
    parser = argparse.ArgumentParser(
        prog=f"python -m gancourse train {name}",
        description=f"{recipe.summary}: chapter {recipe.chapter}. Config {recipe.config.__name__}; "
        "defaults are the paper's, quick mode replaces the fields marked 'quick mode'.",
    )
    parser.add_argument(
        "--mode", choices=("quick", "full"), default=None, help="default: $GANCOURSE_MODE, else full on a GPU"
    )
    parser.add_argument("--set", action="append", metavar="FIELD=VALUE", help="set a config field (repeatable)")
    parser.add_argument(
        "--out", default=None, help=f"run folder: checkpoint, sample grids, scores (default runs/{name})"
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    parser.add_argument(
        "--stop-after",
        type=int,
        default=None,
        metavar="N",
        help="stop at step N, before the config's steps (continue later with --resume)",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps (default: the best available)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-eval", action="store_true", help="skip the final scores")
    add_config_options(parser, recipe.config, name)
    from gancourse.config import EvalConfig

    # the final FID/KID next to the real-data floor, as the chapters score (the recipe's data set)
    add_config_options(parser, EvalConfig, "final scores", prefix="eval_", skip=("dataset",))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2: a bad option or value, with the config's message)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except Exception as err:  # noqa: BLE001 - sorted below: our errors are messages, anything else a bug
        if isinstance(err, ValueError):
            print(f"gancourse {args.command}: error: {err}", file=sys.stderr)
            return 2
        if type(err).__module__.startswith("gancourse."):  # CheckpointError, DataError, TrainingDiverged
            print(f"gancourse {args.command}: {type(err).__name__}: {err}", file=sys.stderr)
            return 1
        raise


# --------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------


def _train_entry(args: argparse.Namespace) -> int:
    if args.recipe is None:
        args.train_parser.print_help()
        return 0 if args.help else 2
    if args.recipe not in RECIPE_NAMES:
        raise UsageError(f"recipe = {args.recipe!r} is not known: choose one of {', '.join(RECIPE_NAMES)}")
    parser = recipe_parser(args.recipe)
    rest = list(args.rest) + (["--help"] if args.help else [])
    return train(args.recipe, parser.parse_args(rest))


def _say(launch, *parts: Any) -> None:
    if launch is None or launch.rank == 0:
        print(*parts, flush=True)


def train(name: str, args: argparse.Namespace) -> int:
    """``train NAME``: build the recipe's trainer, resume if asked, train, write grids, checkpoint and scores."""
    from gancourse.config import LABELLED_DATASETS, EvalConfig, run_mode
    from gancourse.train import distributed
    from gancourse.train.recipes import RECIPES

    recipe = RECIPES[name]
    mode = run_mode(args.mode)
    cfg = make_config(recipe.config, mode, config_overrides(args, recipe.config))
    if args.stop_after is not None and not 1 <= args.stop_after <= cfg.steps:
        raise UsageError(
            f"--stop-after = {args.stop_after} is out of range: allowed 1 <= N <= {cfg.steps} (the config's steps)"
        )
    eval_cfg = None
    if not args.no_eval and getattr(cfg, "dataset", None) in LABELLED_DATASETS and name != "pix2pix":
        eval_cfg = make_config(
            EvalConfig, mode, {"dataset": cfg.dataset, **config_overrides(args, EvalConfig, "eval_")}
        )
    elif not args.no_eval and name == "toy_gan":
        eval_cfg = make_config(EvalConfig, mode, config_overrides(args, EvalConfig, "eval_"))  # n: the toy's samples
    out = Path(args.out or Path("runs") / name)
    path = out / CHECKPOINT_NAME
    if path.exists() and not args.resume:
        raise UsageError(f"{path} exists: pass --resume to continue that run, or choose another --out")

    launch = distributed.init_from_env(args.device)
    try:
        device = launch.device if launch else _device(args.device)
        trainer = recipe.build(cfg, device=device, checkpoint_path=path)
        if launch:
            distributed.distribute(trainer, launch)
        where = f"{launch.world_size} processes ({launch.backend}, {device.type})" if launch else str(device)
        _say(
            launch,
            f"{name} (chapter {recipe.chapter}), {mode} mode, on {where}; changed from the paper defaults: "
            f"{changed_fields(cfg) or 'none'}",
        )
        if args.resume:
            step = trainer.load()
            _say(launch, f"resumed {path} at step {step} of {cfg.steps}")
        target = args.stop_after or cfg.steps
        grids = _GridWriter(out / "samples", trainer)
        if launch is None or launch.rank == 0:
            out.mkdir(parents=True, exist_ok=True)
            (out / "config.json").write_text(
                json.dumps({"recipe": name, "mode": mode, **dataclasses.asdict(cfg)}, indent=1)
            )
        trainer.train(target, progress=not args.no_progress, on_step=grids)
        grids(trainer)
        if launch is None or launch.rank == 0:
            (out / "history.json").write_text(json.dumps(trainer.history))
            _say(launch, f"step {trainer.step} of {cfg.steps}; checkpoint {path}; sample grids in {out / 'samples'}")
            if trainer.step < cfg.steps:
                _say(launch, f"stopped before the end: continue with --resume --out {out}")
            elif not args.no_eval:
                scores = evaluate(name, trainer, cfg, mode, eval_cfg)
                if scores:
                    (out / "scores.json").write_text(json.dumps(scores, indent=1))
    finally:
        distributed.finish(launch)
    return 0


def _device(name: str | None):
    from gancourse.device import pick_device

    return pick_device(name)


class _GridWriter:
    """Writes each new fixed-noise snapshot of a trainer as ``samples/step_NNNNNN.png`` (rank 0 only)."""

    def __init__(self, folder: Path, trainer: Any) -> None:
        self.folder = folder
        self.written = {step for step, _ in trainer.samples}  # a resumed run has written these already

    def __call__(self, trainer: Any) -> None:
        if trainer.rank != 0:
            return
        for step, images in trainer.samples:
            if step not in self.written:
                save_grid(images, self.folder / f"step_{step:07d}.png", mixture=trainer.data.mixture)
                self.written.add(step)


def save_grid(images: Any, path: Path, nrow: int = 8, mixture: Any = None) -> Path:
    """Images (N, C, H, W) in [-1, 1] as a PNG grid; 2-D points (N, 2) as a scatter plot over ``mixture``."""
    path = Path(path)
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
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        return path
    from torchvision.utils import save_image

    save_image(images.float().cpu(), path, nrow=nrow, normalize=True, value_range=(-1.0, 1.0), pad_value=1.0)
    return path


def evaluate(name: str, trainer: Any, cfg: Any, mode: str, eval_cfg: Any) -> dict[str, Any]:
    """The final scores next to their real-data floor, as the chapters show them; returns them for scores.json.

    Image GANs: :func:`gancourse.metrics.evaluate` (FID/KID against real test images, the
    floor, the class histogram; conditional accuracy for the conditional GAN). The toy
    GAN: mode coverage of ``eval_cfg.n`` samples, and of as many real samples (chapter 4).
    pix2pix and ProGAN on a folder have no real-data floor here: a line says so.
    """
    import torch

    from gancourse import metrics

    if name == "toy_gan":
        mixture, n = trainer.data.mixture, eval_cfg.n
        floor = metrics.mode_coverage(mixture.sample(n, torch.Generator().manual_seed(eval_cfg.seed)), mixture)
        score = metrics.mode_coverage(trainer.generate(n), mixture)
        print(f"mode coverage, {n} samples: GAN {score}; real floor {floor}")
        return {
            "n": n,
            "modes_captured": score.modes_captured,
            "floor_modes_captured": floor.modes_captured,
            "high_quality_share": score.high_quality_share,
            "floor_high_quality_share": floor.high_quality_share,
        }
    if eval_cfg is None:
        what = "pix2pix is scored on its test pairs in chapter 8" if name == "pix2pix" else f"dataset = {cfg.dataset!r}"
        print(f"no final FID/KID: {what} has no real-data floor here (score samples with 'python -m gancourse fid')")
        return {}
    size = 32  # the real test images and the domain classifier are 32 x 32

    def fit(images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] == size:
            return images
        return torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear", antialias=True)

    if cfg.image_size != size:
        print(f"generated images are resized from {cfg.image_size} to {size} pixels for the scores")
    available = metrics.split_size(eval_cfg.dataset, "test")  # emoji: 742 test images
    if eval_cfg.n > available:
        print(f"eval n = {eval_cfg.n}, but the {eval_cfg.dataset} test split holds {available} images: n = {available}")
        eval_cfg = eval_cfg.replace(n=available)
    extractor = metrics.load_feature_extractor(
        eval_cfg.dataset, kind=eval_cfg.features, mode=mode, device=trainer.device
    )
    conditional = bool(trainer.data.classes)

    def sample(n: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        return fit(
            trainer.generate(n) if labels is None else trainer.generate(trainer.sample_z(n, inference=True), labels)
        )

    result = metrics.evaluate(
        {name: sample}, eval_cfg, conditional=conditional, mode=mode, device=trainer.device, extractor=extractor
    )
    print(result)
    score = result.scores[name]
    return {
        "n": eval_cfg.n,
        "features": result.features,
        "fid": score.fid,
        "kid": list(score.kid),
        "floor_fid": result.floor.fid,
        "floor_kid": list(result.floor.kid),
        **({"conditional_accuracy": score.accuracy.accuracy} if score.accuracy is not None else {}),
    }


# --------------------------------------------------------------------------------------
# sample
# --------------------------------------------------------------------------------------


def _load_trainer(source: str, mode: str | None, device_name: str | None):
    """A trainer restored from a checkpoint file, or the chapter's cached model of a recipe name."""
    from gancourse.checkpoints import checkpoint_dir, config_key, load_checkpoint
    from gancourse.config import run_mode
    from gancourse.train.recipes import RECIPES, recipe_for_config

    device = _device(device_name)
    if source in RECIPES and not Path(source).exists():
        recipe = RECIPES[source]
        mode = run_mode(mode)
        cfg = recipe.config.for_mode(mode)
        path = checkpoint_dir() / f"{recipe.cache_name}-{config_key(cfg)}.pt"
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
    return trainer


def _sample(args: argparse.Namespace) -> int:
    import torch

    from gancourse.train.paired import Pix2PixTrainer

    if args.n < 1 or args.nrow < 1:
        raise UsageError(f"-n = {args.n} and --nrow = {args.nrow} must both be >= 1")
    trainer = _load_trainer(args.checkpoint, args.mode, args.device)
    z = torch.randn(args.n, trainer.latent_dim, generator=torch.Generator().manual_seed(args.seed))
    if isinstance(trainer, Pix2PixTrainer):
        from gancourse.config import DataConfig
        from gancourse.data import edge_pairs

        cfg = trainer.cfg
        data = DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=args.n)
        edges, targets, _ = edge_pairs(data, "test", cfg.edge_threshold)
        outputs = trainer.translate(edges)
        images = torch.cat(
            [edges * 2 - 1 if edges.min() >= 0 else edges, outputs, targets]
        )  # rows: input, G(x), target
        nrow = len(edges)
        print("rows: input edges, pix2pix output, real target")
    elif trainer.data.classes:
        n_classes = len(trainer.data.classes)
        if args.label is not None and not 0 <= args.label < n_classes:
            raise UsageError(f"--label = {args.label} is out of range: allowed 0 <= label <= {n_classes - 1}")
        labels = torch.full((args.n,), args.label) if args.label is not None else torch.arange(args.n) % n_classes
        images, nrow = trainer.generate(z, labels), args.nrow
    else:
        images, nrow = trainer.generate(z), args.nrow
    path = save_grid(images, Path(args.out), nrow=nrow, mixture=trainer.data.mixture)
    print(f"wrote {len(images)} samples to {path}")
    return 0


# --------------------------------------------------------------------------------------
# fid
# --------------------------------------------------------------------------------------


def _fid(args: argparse.Namespace) -> int:
    import torch

    from gancourse import metrics
    from gancourse.data import ImageFiles

    if args.n is not None and args.n < 4:
        raise UsageError(f"-n = {args.n} is out of range: allowed n >= 4")
    device = _device(args.device)
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


# --------------------------------------------------------------------------------------
# stylize
# --------------------------------------------------------------------------------------


def _stylize(args: argparse.Namespace) -> int:
    from gancourse.config import StyleConfig, run_mode
    from gancourse.style import stylize

    mode = run_mode(args.mode)
    cfg = make_config(StyleConfig, mode, config_overrides(args, StyleConfig))
    if len(args.style) > 2:
        raise UsageError(f"{len(args.style)} style images given: allowed one or two")
    styles = args.style[0] if len(args.style) == 1 else list(args.style)
    run = stylize(args.content, styles, cfg, device=_device(args.device), progress=True)
    from torchvision.utils import save_image

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(run.image, out)
    vgg = "ImageNet VGG19" if run.weights == "imagenet" else "random VGG19"
    print(
        f"wrote {out} ({cfg.image_size} px, {cfg.steps} {cfg.optimizer} steps, {vgg}; "
        f"final loss {run.losses['total'][-1]:.4g})"
    )
    return 0
