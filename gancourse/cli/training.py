"""``python -m gancourse train RECIPE``: build the recipe's trainer, train, write grids, a checkpoint and scores."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from gancourse.cli.options import (
    CHECKPOINT_NAME,
    RECIPE_NAMES,
    UsageError,
    add_config_options,
    changed_fields,
    config_overrides,
    make_config,
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
    if not args.no_eval:  # the final scores' settings; the data set is the one the recipe's samples are scored on
        scored = recipe.features(cfg)
        known = {"dataset": scored} if scored in LABELLED_DATASETS else {}
        eval_cfg = make_config(EvalConfig, mode, {**known, **config_overrides(args, EvalConfig, "eval_")})
    out = Path(args.out or Path("runs") / name)
    path = out / CHECKPOINT_NAME
    if path.exists() and not args.resume:
        raise UsageError(f"{path} exists: pass --resume to continue that run, or choose another --out")

    launch = distributed.init_from_env(args.device)
    try:
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
                scores = evaluate(name, trainer, mode, eval_cfg)
                (out / "scores.json").write_text(json.dumps(scores, indent=1))
    finally:
        distributed.finish(launch)
    return 0


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


def evaluate(name: str, trainer: Any, mode: str, eval_cfg: Any) -> dict[str, Any]:
    """The final scores of a finished run next to their real-data floor; printed, and returned for scores.json.

    :func:`gancourse.metrics.score_run` on the trainer's sampling generator (the average
    where there is one), ``eval_cfg.n`` samples drawn with ``eval_cfg.seed``, the features
    ``eval_cfg.features`` says for the recipe's scored data set (none for a data set without
    a domain classifier: then only the sample statistics).
    """
    from gancourse import metrics
    from gancourse.config import LABELLED_DATASETS

    def features(dataset: str):
        if dataset not in LABELLED_DATASETS:
            return None
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
    print(metrics.scores_table(result))
    if getattr(trainer.cfg, "dataset", None) == "folder":
        result["held_out"] = _held_out(name, trainer, eval_cfg)
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
