"""The command line: ``python -m gancourse {train,sample,fid,stylize} ...``.

::

    python -m gancourse train dcgan --mode quick --out runs/dcgan      # a chapter's GAN, outside the notebook
    python -m gancourse train wgan_gp --set lr_g=1e-4 --set n_critic=5  # any config field, checked as in Python
    python -m gancourse train dcgan --out runs/dcgan --stop-after 200   # stop early ...
    python -m gancourse train dcgan --out runs/dcgan --resume           # ... and continue exactly
    torchrun --nproc_per_node=4 -m gancourse train dcgan --mode full    # data-parallel (gancourse.train.distributed)
    python -m gancourse sample runs/dcgan/checkpoint.pt -n 64 --out grid.png
    python -m gancourse fid real_images/ generated_images/
    python -m gancourse fid runs/dcgan/checkpoint.pt real_images/       # a run's samples against a folder
    python -m gancourse stylize photo.jpg painting.jpg --out pastiche.png

The options of ``train RECIPE`` and ``stylize`` are generated from the recipe's
config dataclass (:meth:`gancourse.config.Config.spec`): one ``--FIELD VALUE`` per
field, with its help, range, paper default and quick-mode value; ``--set
FIELD=VALUE`` does the same (tuples as ``32,32,16,16``). Values are checked by the
config itself, so a bad one fails with the message Python gives, and the command
exits with status 2. What stops a command although its arguments are right (a full
disk, a folder it may not write, a checkpoint that cannot be read) is one line naming
the path and the fix, status 1; ``python -m gancourse --debug ...`` shows the traceback
instead. Torch is imported only once a command runs, so ``--help`` is fast.

Ctrl-C or SIGTERM during ``train`` saves the run as it was before the unfinished step
(the trainer's steps are atomic), prints the ``--resume`` command that continues it
exactly, and exits with status 130 or 143 (``interrupts.py``).

================  ======================================================
``options.py``    config fields as options, and the values they parse to
``training.py``   ``train RECIPE`` (its parser, the run, the final scores)
``sampling.py``   ``sample`` (a grid from a checkpoint or a chapter's model)
``fid.py``        ``fid DIR_A DIR_B``
``stylize.py``    ``stylize CONTENT STYLE``
``interrupts.py`` Ctrl-C and SIGTERM during ``train``: save, say how to resume
================  ======================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gancourse.cli import fid, options, sampling, stylize, training
from gancourse.cli.options import (
    CHECKPOINT_NAME,
    RECIPE_NAMES,
    CommandError,
    UsageError,
    add_config_options,
    changed_fields,
    config_overrides,
    make_config,
    parse_value,
)
from gancourse.cli.sampling import save_grid
from gancourse.cli.training import evaluate, recipe_parser, train

__all__ = [
    "CHECKPOINT_NAME",
    "RECIPE_NAMES",
    "CommandError",
    "UsageError",
    "add_config_options",
    "build_parser",
    "changed_fields",
    "config_overrides",
    "evaluate",
    "main",
    "make_config",
    "parse_value",
    "recipe_parser",
    "save_grid",
    "train",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gancourse",
        description="Train, sample and score the GANs of 'GANs with PyTorch, from zero to style transfer'.",
    )
    parser.add_argument("--debug", action="store_true", help="on an error, show the full traceback")
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
    train.set_defaults(run=training.train_entry, train_parser=train)

    sample_parser = commands.add_parser("sample", help="draw a grid of samples from a checkpoint or a chapter's model")
    sample_parser.add_argument(
        "checkpoint",
        metavar="CHECKPOINT",
        help="a checkpoint file, a recipe name for the chapter's cached model (" + ", ".join(RECIPE_NAMES) + "), "
        "or a reference model of gancourse.pretrained (dcgan_mnist, ...: 'python -m gancourse.pretrained list')",
    )
    sample_parser.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    sample_parser.add_argument("--out", default="samples.png", help="grid image to write (default samples.png)")
    sample_parser.add_argument(
        "--out-dir",
        default=None,
        metavar="FOLDER",
        help="instead of a grid: one PNG per image, seed<S>_00000.png ..., and seed<S>.json recording the seed "
        "(a folder that 'fid' reads)",
    )
    sample_parser.add_argument("--nrow", type=int, default=8, help="images per row (default 8)")
    sample_parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    sample_parser.add_argument("--label", type=int, default=None, help="conditional GAN: draw only this class")
    sample_parser.add_argument(
        "--mode", choices=("quick", "full"), default=None, help="with a recipe name: which mode's model"
    )
    sample_parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps (default: the best available)")
    sample_parser.set_defaults(run=sampling.sample)

    fid_parser = commands.add_parser(
        "fid",
        help="FID and KID between two folders of images (or a model's samples), beside the real-vs-real floor",
        description="FID (Heusel et al. 2017) and KID (Binkowski et al. 2018) between the images of two folders, "
        "or a folder and a model (a checkpoint, a recipe name, a reference model). Half of the real folder (A, "
        "else B) is compared with the other side, and its two halves give the floor, at the same image count. "
        "The judge: the domain classifier shipped with gancourse for --dataset mnist, fashion_mnist or emoji "
        "(the same file on every machine); InceptionV3 (ImageNet) for any other images; a refusal, saying what "
        "would work, where neither fits (colour images never go to a grey classifier).",
    )
    fid_parser.add_argument("dir_a", metavar="A", help="a folder of images, or a model (its samples)")
    fid_parser.add_argument("dir_b", metavar="B", help="a folder of images, or a model (its samples)")
    fid_parser.add_argument(
        "--features",
        choices=("auto", "inception", "classifier"),
        default="auto",
        help="auto (default): the shipped classifier of --dataset, else InceptionV3; inception: InceptionV3 "
        "(ImageNet weights); classifier: the domain classifier of --dataset (trained here where none is shipped)",
    )
    fid_parser.add_argument(
        "--dataset",
        default=None,
        help="what the images are, if a domain of the book: mnist, fashion_mnist, emoji (shipped classifiers), "
        "cifar10; default: none (InceptionV3)",
    )
    fid_parser.add_argument(
        "-n",
        type=int,
        default=None,
        help="images a side of each comparison: n of the other side (a model draws n) against n real images, and "
        "the floor those n against n more, so the real folder gives its first 2n; two models: n each "
        "(default: as many as the folders hold)",
    )
    fid_parser.add_argument(
        "--kid-subset", type=int, default=None, help="KID subset size (default min(1000, images a side) // 2)"
    )
    fid_parser.add_argument("--mode", choices=("quick", "full"), default=None, help="which mode's domain classifier")
    fid_parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps")
    fid_parser.set_defaults(run=fid.fid)

    from gancourse.config import StyleConfig  # no torch

    stylize_parser = commands.add_parser(
        "stylize",
        help="neural style transfer (Gatys et al. 2016)",
        description="Paint CONTENT in the style of STYLE (a second style image is blended by style_blend).",
    )
    stylize_parser.add_argument("content", metavar="CONTENT", help="the photo: a file or URL")
    stylize_parser.add_argument("style", metavar="STYLE", nargs="+", help="one or two style images")
    stylize_parser.add_argument("--out", default="stylized.png", help="PNG file to write (default stylized.png)")
    stylize_parser.add_argument("--mode", choices=("quick", "full"), default=None, help="quick: 128 px, 40 steps")
    stylize_parser.add_argument("--set", action="append", metavar="FIELD=VALUE", help="set a StyleConfig field")
    stylize_parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps")
    stylize_parser.add_argument(
        "--square",
        action="store_true",
        help="crop the content photo to its centre square, as the chapter does (default: keep its aspect ratio, "
        "image_size its longer side)",
    )
    add_config_options(stylize_parser, StyleConfig, "style transfer", skip=("keep_aspect",))
    stylize_parser.set_defaults(run=stylize.stylize)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    2: a bad option or value (the config's message); 1: the command could not do its work (a
    full disk, a folder it may not write, a checkpoint it cannot read: one line naming the path
    and the fix); 130 or 143: ``train`` interrupted by SIGINT or SIGTERM, the run saved.
    ``--debug`` lets every error through with its traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except Exception as err:  # noqa: BLE001 - sorted below: our errors are messages, anything else a bug
        if args.debug:
            raise
        if isinstance(err, ValueError):
            print(f"gancourse {args.command}: error: {err}", file=sys.stderr)
            return 2
        if isinstance(err, CommandError):
            print(f"gancourse {args.command}: error: {err}", file=sys.stderr)
            return 1
        if isinstance(err, OSError):  # a file the command reads or writes: the path, the reason, the fix
            reason, fix = options.os_reason(err)
            where = f"{err.filename}: " if err.filename else ""
            print(f"gancourse {args.command}: error: {where}{reason}; {fix} (--debug shows where)", file=sys.stderr)
            return 1
        if type(err).__module__.startswith("gancourse."):  # CheckpointError, DataError, TrainingDiverged
            print(f"gancourse {args.command}: {type(err).__name__}: {err}", file=sys.stderr)
            return 1
        raise
