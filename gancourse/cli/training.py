"""``python -m gancourse train RECIPE``: build the recipe's trainer, train, write grids, a checkpoint and scores."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from gancourse.cli import interrupts
from gancourse.cli.options import (
    CHECKPOINT_NAME,
    RECIPE_NAMES,
    CommandError,
    UsageError,
    add_config_options,
    changed_fields,
    config_overrides,
    make_config,
    os_error,
    pick_device,
)
from gancourse.cli.sampling import save_grid


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
        "--mode", choices=("quick", "full", "paper"), default=None, help="default: $GANCOURSE_MODE, else full on a GPU"
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
    parser.add_argument(
        "--tensorboard",
        default=None,
        metavar="DIR",
        help="log losses, D's outputs, sample grids and an FID (1,000 samples, at each grid's step) to DIR "
        "for TensorBoard (tensorboard --logdir DIR)",
    )
    add_config_options(parser, recipe.config, name)
    from gancourse.config import EvalConfig

    # the final FID/KID next to the real-data floor, as the chapters score (the recipe's data set)
    add_config_options(parser, EvalConfig, "final scores", prefix="eval_", skip=("dataset",))
    return parser


def train_entry(args: argparse.Namespace) -> int:
    if args.recipe is None:
        args.train_parser.print_help()
        return 0 if args.help else 2
    if args.recipe not in RECIPE_NAMES:
        raise UsageError(f"recipe = {args.recipe!r} is not known: choose one of {', '.join(RECIPE_NAMES)}")
    parser = recipe_parser(args.recipe)
    rest = list(args.rest) + (["--help"] if args.help else [])
    parsed = parser.parse_args(rest)
    parsed.argv = rest  # for the command that resumes an interrupted run
    return train(args.recipe, parsed)


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
    if not args.no_eval:  # the final scores' settings; the data set is the one the recipe's samples are scored on
        scored = recipe.features(cfg)
        known = {"dataset": scored} if scored in LABELLED_DATASETS else {}
        eval_cfg = make_config(EvalConfig, mode, {**known, **config_overrides(args, EvalConfig, "eval_")})
    out = Path(args.out or Path("runs") / name)
    check_run_folder(out, args.resume)
    launch = distributed.init_from_env(args.device)
    ready: list[Any] = []  # the trainer, once it holds a run worth saving
    # a data-parallel run keeps the signals' defaults: its ranks may be a step apart, and a save is collective
    with interrupts.interruptible(enabled=launch is None):
        try:
            _run(name, args, cfg, mode, eval_cfg, out, launch, ready)
        except interrupts.Interrupted as stop:
            return _interrupted(stop, ready[0] if ready else None, name, args, mode, out)
        except (CommandError, OSError):  # a grid or a record that could not be written: keep the steps trained
            if ready and launch is None:
                _save_before_failing(ready[0], name, args, mode, out)
            raise
        finally:
            distributed.finish(launch)
    return 0


def check_run_folder(out: Path, resume: bool) -> Path:
    """The checkpoint path of the run folder ``out``, once it is clear that the run may go there.

    Without ``resume`` the folder must be missing or empty: one holding a checkpoint asks
    for ``--resume``, one holding anything else is refused, naming the files (a run would
    write over a ``config.json`` or sample grids that are not its own). With ``resume`` it
    must hold a checkpoint. A folder that cannot be written is reported now, before the
    data is read and the networks are built.
    """
    path = out / CHECKPOINT_NAME
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out = {str(out)!r} is a file: give a folder for the run (it is made if missing)")
    if path.exists():
        if not resume:
            raise UsageError(f"{path} exists: pass --resume to continue that run, or choose another --out")
    elif out.is_dir() or resume:
        # the temporaries of a killed save are the run's own (the next save removes them)
        own = (f".{CHECKPOINT_NAME}.", ".tmp")
        held = sorted(p.name for p in out.iterdir() if not p.name.startswith(own[0]) or not p.name.endswith(own[1]))
        shown = ", ".join(held[:6]) + (f" and {len(held) - 6} more" if len(held) > 6 else "")
        if resume:
            inside = f" (it holds {shown})" if held else ""
            raise UsageError(
                f"--resume: {out} holds no {CHECKPOINT_NAME}{inside}, so there is no run to continue: train without "
                "--resume, or give the run's folder as --out"
            )
        if held:
            raise UsageError(
                f"--out = {str(out)!r} holds files but no {CHECKPOINT_NAME}: {shown}. A run would write over them: "
                "choose another --out, or remove them"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise os_error(err, f"write the run into --out = {out}", "--out") from err
    return path


def _run(name: str, args: argparse.Namespace, cfg: Any, mode: str, eval_cfg: Any, out: Path, launch, ready) -> None:
    """Build, resume if asked, train, write grids, history and scores; the trainer goes into ``ready`` once loaded."""
    from gancourse.train import distributed
    from gancourse.train.recipes import RECIPES

    recipe = RECIPES[name]
    path = out / CHECKPOINT_NAME
    device = launch.device if launch else pick_device(args.device)
    trainer = recipe.build(cfg, device=device, checkpoint_path=path)
    if launch:
        distributed.distribute(trainer, launch)
    where = f"{launch.world_size} processes ({launch.backend}, {device.type})" if launch else str(device)
    _say(
        launch,
        f"{name} (chapter {recipe.chapter}), {mode} mode, on {where}; changed from the paper defaults: "
        f"{changed_fields(cfg) or 'none'}",
    )
    if getattr(cfg, "dataset", None) == "folder" and (launch is None or launch.rank == 0):
        from gancourse.data.folders import folder_report

        for line in folder_report(cfg.image_folder).lines(getattr(cfg, "batch_size", None)):
            print(line, flush=True)
    if args.resume:
        step = trainer.load()
        _say(launch, f"resumed {path} at step {step} of {cfg.steps}")
    ready.append(trainer)  # from here on an interrupt saves it (a half-done load is never saved)
    target = args.stop_after or cfg.steps
    grids = _GridWriter(out / "samples", trainer)
    if launch is None or launch.rank == 0:
        (out / "config.json").write_text(
            json.dumps({"recipe": name, "mode": mode, **dataclasses.asdict(cfg)}, indent=1)
        )
    board = None
    if args.tensorboard and (launch is None or launch.rank == 0):
        board = tensorboard_logger(name, trainer, mode, eval_cfg, Path(args.tensorboard))
    trainer.train(target, progress=not args.no_progress, on_step=grids, tensorboard=board)
    grids(trainer)
    if launch is None or launch.rank == 0:
        (out / "history.json").write_text(json.dumps(trainer.history))
        _say(launch, f"step {trainer.step} of {cfg.steps}; checkpoint {path}; sample grids in {out / 'samples'}")
        if trainer.step < cfg.steps:
            _say(launch, f"stopped before the end: continue with --resume --out {out}")
        elif not args.no_eval:
            scores = evaluate(name, trainer, mode, eval_cfg)
            (out / "scores.json").write_text(json.dumps(scores, indent=1))


def _interrupted(
    stop: interrupts.Interrupted, trainer: Any, name: str, args: argparse.Namespace, mode: str, out: Path
) -> int:
    """Save the run an interrupt stopped (as it was after its last finished step) and say how to resume it."""
    command = interrupts.resume_command(name, getattr(args, "argv", None), mode, str(out))
    if trainer is None:  # stopped while building or loading: nothing trained, nothing changed on disk
        print(
            f"\n{stop.name}: stopped before training began; nothing was written to {out / CHECKPOINT_NAME}", flush=True
        )
        return stop.status
    saved = trainer.save()  # the step that was running has been undone: this is the state after the last one
    (out / "history.json").write_text(json.dumps(trainer.history))
    known = "" if getattr(args, "argv", None) is not None else " (with the config options of this run)"
    print(
        f"\n{stop.name}: stopped at step {trainer.step} of {trainer.cfg.steps}; saved {saved}, the state after the "
        f"last finished step. Continue exactly with{known}:\n  {command}",
        flush=True,
    )
    return stop.status


def _save_before_failing(trainer: Any, name: str, args: argparse.Namespace, mode: str, out: Path) -> None:
    """Save a run that an error outside the trainer stops (the error itself is reported after this)."""
    if trainer.step == 0:
        return
    try:
        saved = trainer.save()  # an unfinished step was undone: the state after the last finished one
    except RuntimeError as err:  # CheckpointError (the disk is full), TrainingDiverged (NaN: never saved)
        print(f"the run could not be saved either: {err}", file=sys.stderr, flush=True)
        return
    command = interrupts.resume_command(name, getattr(args, "argv", None), mode, str(out))
    print(f"saved {saved} at step {trainer.step}; once the error is fixed, continue with:\n  {command}", flush=True)


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


def tensorboard_logger(name: str, trainer: Any, mode: str, eval_cfg: Any, folder: Path) -> Any:
    """``--tensorboard DIR``: a TensorBoardLogger with an FID on 1,000 samples (at most ``eval_n``) every grid.

    The FID's features are the final scores' (``--eval-features``, the recipe's scored data
    set); a run without final scores (``--no-eval``) or without such a data set logs no FID.
    """
    from gancourse import metrics
    from gancourse.config import LABELLED_DATASETS
    from gancourse.train.recipes import RECIPES
    from gancourse.train.tensorboard import TensorBoardLogger

    dataset = RECIPES[name].features(trainer.cfg)
    if eval_cfg is None or dataset not in LABELLED_DATASETS:
        print(f"TensorBoard logs in {folder}: losses, D's outputs and sample grids (no FID: no scored data set)")
        return TensorBoardLogger(folder)
    extractor = metrics.load_feature_extractor(dataset, kind=eval_cfg.features, mode=mode, device=trainer.device)
    real = metrics.real_images(dataset, "test", min(1000, eval_cfg.n), seed=eval_cfg.seed)

    def sample(trainer: Any, n: int):
        return RECIPES[name].sample(trainer.cfg, trainer.sampler(), n, eval_cfg.seed)

    fid = metrics.fid_probe(real, extractor, sample)
    print(f"TensorBoard logs in {folder}: losses, D's outputs, sample grids, FID of {len(real)} in {fid.features}")
    return TensorBoardLogger(folder, fid, trainer.cfg.sample_every, features=fid.features)


def evaluate(name: str, trainer: Any, mode: str, eval_cfg: Any) -> dict[str, Any]:
    """The final scores of a finished run next to their real-data floor; printed, and returned for scores.json.

    :func:`gancourse.metrics.score_run` on the trainer's sampling generator (the average
    where there is one), ``eval_cfg.n`` samples drawn with ``eval_cfg.seed``, the features
    ``eval_cfg.features`` says for the recipe's scored data set (none for a data set without
    a domain classifier: then only the sample statistics). The classifier is the one shipped
    with the package where one ships, the judge of ``fid --dataset``, so that the two commands'
    numbers compare.
    """
    from gancourse import metrics
    from gancourse.config import LABELLED_DATASETS
    from gancourse.pretrained.scores import domain_features

    def features(dataset: str):
        if dataset not in LABELLED_DATASETS:
            return None
        if eval_cfg.features == "classifier":  # the judge `fid --dataset` uses: the shipped classifier where one ships
            shipped = domain_features(dataset)
            if shipped is not None:
                return shipped
        return metrics.load_feature_extractor(dataset, kind=eval_cfg.features, mode=mode, device=trainer.device)

    result = metrics.score_run(
        name,
        trainer.cfg,
        {name: trainer.sampler()},
        eval_cfg.n,
        eval_cfg.seed,
        features=features,
        eval_cfg=eval_cfg,
        device=trainer.device,
    )
    if getattr(trainer.cfg, "dataset", None) == "folder":  # no domain classifier: the held-out images judge
        result["held_out"] = _held_out(name, trainer, eval_cfg)
    else:
        print(metrics.scores_table(result))
    return result


def _held_out(name: str, trainer: Any, eval_cfg: Any) -> dict[str, Any]:
    """A folder run's FID/KID against its held-out images (every 10th file), beside the real floor; printed."""
    from gancourse.metrics import judge
    from gancourse.train.recipes import RECIPES

    cfg, generator = trainer.cfg, trainer.sampler()

    def sample(n: int):
        return RECIPES[name].sample(cfg, generator, n, eval_cfg.seed)

    kind = "inception" if eval_cfg.features == "inception" else "auto"
    try:
        scores, chosen = judge.held_out_scores(cfg.image_folder, cfg.image_size, sample, kind, trainer.device)
    except ValueError as err:  # NoJudge, too few held-out images: the run is kept, the reason printed
        print(f"no FID against the held-out images: {err}")
        return {"note": str(err)}
    print(f"against the {scores.n} held-out images of {cfg.image_folder} (judge: {chosen.reason}):")
    print(scores)
    return {
        "n": scores.n,
        "judge": chosen.reason,
        "fid": scores.fid,
        "floor_fid": scores.floor_fid,
        "kid": list(scores.kid),
        "floor_kid": list(scores.floor_kid),
    }
