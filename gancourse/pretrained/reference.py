"""Train, ship, load, show and verify the reference models.

- :func:`train` runs a reference through the recipe's trainer and the checkpoint cache
  (an interrupted run resumes exactly), exports the generator's weights as fp16 to the
  package's ``weights/`` folder, scores it at n = 1,000 and 10,000 next to the
  real-data floor, recomputes the n = 1,000 check from the exported file, and records
  everything in ``manifest.json``.
- :func:`load` returns the generator with the shipped weights, after checking the
  file's sha256 against the manifest; :func:`samples` draws from it with a seed;
  :func:`show` draws a grid and prints the metrics as the reference run's, loaded,
  not retrained.
- :func:`verify` is what CI runs: every shipped file's hash, load, samples, and the
  n = 1,000 check within :data:`~gancourse.pretrained.scores.TOLERANCE`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gancourse.checkpoints import cache_file, checkpoint_dir, config_record
from gancourse.checks import check_positive_int
from gancourse.config import GANConfig
from gancourse.data import dataset_classes
from gancourse.metrics.kid import kid_per_mille
from gancourse.pretrained import files, scores
from gancourse.pretrained.provenance import CurveRecorder, add_wall_time, device_line, git_commit
from gancourse.pretrained.registry import REFERENCES, get
from gancourse.train.cache import load_or_train
from gancourse.train.recipes import RECIPES, class_rows

#: The seed of the samples every recorded score and check is computed from.
SAMPLE_SEED = 0
LABEL = "reference run (loaded, not retrained)"


class NotShipped(LookupError):
    """A registered reference whose weights are not in the package yet; the message says how to train them."""


def training_dir() -> Path:
    """Where reference trainings keep their resumable checkpoints: ``checkpoint_dir() / "pretrained"``."""
    return checkpoint_dir() / "pretrained"


# --------------------------------------------------------------------------------------
# Training and export
# --------------------------------------------------------------------------------------


def train(
    name: str,
    progress: bool = True,
    force: bool = False,
    device: torch.device | str = "cpu",
    directory: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Train reference ``name`` (or resume it), export its generator, score it, record it; returns its manifest entry.

    The run goes through :func:`gancourse.train.load_or_train` with checkpoints in
    ``directory`` (default :func:`training_dir`), named by the config's hash: interrupted,
    it resumes exactly where it stopped; finished, it is loaded, not retrained; changed
    settings in the registry start a new run. ``force=True`` retrains the same settings
    from scratch (the finished run stays until the new one finishes; an interrupted
    forced run starts again from scratch). The reference device is the CPU. Wall time is
    summed over the sessions of the run (data loading included).

    If the trainer keeps a moving average of G's weights (``trainer.generator_ema``), it
    is exported too and is the model's main score. The weights and the manifest entry go
    to the package (``weights/``, ``manifest.json``), or with ``out`` to that folder (a
    reader's retraining, then compared with the shipped entry).
    """
    reference = get(name)
    cfg = reference.config()
    recipe = RECIPES[reference.recipe]
    device = torch.device(device)
    directory = Path(directory or training_dir())
    ledger = cache_file(name, cfg, directory).with_suffix(".time.json")
    if force:  # a forced run has its own ledger until it replaces the finished run
        ledger = ledger.with_name(ledger.name.replace(".time.json", ".retrain.time.json"))
        ledger.unlink(missing_ok=True)
    curve_path = ledger.with_name(ledger.name.replace(".time.json", ".curve.json"))
    if force:
        curve_path.unlink(missing_ok=True)  # a forced run's curve starts again, as its ledger does
    curve = CurveRecorder(reference.recipe, cfg, curve_path)
    start = time.perf_counter()
    try:
        trainer = load_or_train(
            name, cfg, recipe.build, force=force, directory=directory, device=device, progress=progress, on_step=curve
        )
    finally:
        wall = add_wall_time(ledger, time.perf_counter() - start)
    if force:
        os.replace(ledger, ledger.with_name(ledger.name.replace(".retrain.time.json", ".time.json")))
        if curve.path.exists():
            os.replace(curve.path, curve.path.with_name(curve.path.name.replace(".retrain.curve.json", ".curve.json")))
    if trainer.step < cfg.steps:
        raise RuntimeError(f"{name}: training stopped at step {trainer.step} of {cfg.steps}; run it again to resume")
    threads = torch.get_num_threads()
    generator = copy.deepcopy(trainer.generator).cpu().float()
    averaged = None
    if getattr(trainer, "generator_ema", None) is not None:  # with batch-norm statistics of its own weights
        averaged = copy.deepcopy(trainer.sampler(averaged=True)).cpu().float()
    weights_dir = Path(out) if out is not None else files.WEIGHTS_DIR
    manifest_path = weights_dir / "manifest.json" if out is not None else files.MANIFEST_PATH
    path = files.export_weights(generator, averaged, weights_dir / f"{name}.pt")
    print(f"{name}: exported {path} ({path.stat().st_size / 1e6:.2f} MB, fp16)")

    main = "averaged" if averaged is not None else "generator"
    networks = {"generator": generator, **({"averaged": averaged} if averaged is not None else {})}
    dataset = scores.features_dataset(reference.recipe, cfg)
    if dataset is not None and out is None:
        scores.ship_features(dataset)  # the first reference on this data set ships the classifier that scores it
    counts, notes = scores.sample_counts(reference.recipe, cfg)
    metrics: dict[str, Any] = {"main": main, "notes": notes, "by_n": {}}
    if curve.points:  # FID against training time, scored while it trained (a run loaded finished has none new)
        metrics["curve"] = {"n": curve.n, "generator": main, "points": curve.points}
    for n in counts:
        print(f"{name}: scoring at n = {n:,} ...", flush=True)
        metrics["by_n"][str(n)] = scores.measure(reference.recipe, cfg, networks, n, SAMPLE_SEED)

    # the check CI repeats: the main generator rebuilt from the exported fp16 file, at the first count
    from_file = _module_from_state(reference.recipe, cfg, files.read_weights(path), averaged=main == "averaged")
    check_score = scores.measure(reference.recipe, cfg, {"fp16": from_file}, counts[0], SAMPLE_SEED)
    check = {
        "n": counts[0],
        "seed": SAMPLE_SEED,
        "generator": main,
        "tolerance": scores.TOLERANCE,
        "features_sha256": check_score.get("features_sha256"),
        "values": scores.checked_values(check_score["fp16"]),
    }
    record = {
        "name": name,
        "recipe": reference.recipe,
        "description": reference.description,
        "paper_differences": reference.paper_differences,
        "command": reference.command,
        "overrides": _jsonable(dict(reference.overrides)),
        **_jsonable(config_record(cfg)),
        "file": path.name,
        "sha256": files.sha256_file(path),
        "bytes": path.stat().st_size,
        "averaged": averaged is not None,
        "provenance": {
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            "torch": str(torch.__version__),
            "python": platform.python_version(),
            "device": device_line(trainer.device),
            "torch_threads": threads,
            "wall_time_s": round(wall["seconds"], 1),
            "sessions": int(wall["sessions"]),
            "steps": int(trainer.step),
            "git_commit": git_commit(),
        },
        "metrics": metrics,
        "check": check,
    }
    files.update_manifest(name, record, manifest_path)
    print(summary_of(record))
    shipped = files.read_manifest()["models"].get(name)
    if out is not None and shipped is not None:
        differences = scores.compare(shipped["check"]["values"], check["values"])
        verdict = "the same within the tolerance" if not differences else "; ".join(differences)
        print(f"{name}: compared with the shipped reference: {verdict}")
    return record


def _jsonable(value: Any) -> Any:
    """Tuples as lists (what JSON stores), recursively."""
    return json.loads(json.dumps(value))


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def _config_of(record: dict[str, Any]) -> GANConfig:
    """The config a manifest entry's weights were trained with (derived fields, e.g. ProGAN's steps, left out)."""
    cls = RECIPES[record["recipe"]].config
    if record["config_class"] != cls.__name__:
        raise files.WeightsError(f"{record['name']}: the manifest's {record['config_class']} is not {cls.__name__}")
    settable = {f.name for f in dataclasses.fields(cls) if f.init}
    return cls(**{k: v for k, v in record["config"].items() if k in settable})


def _module_from_state(recipe: str, cfg: GANConfig, state: dict[str, torch.Tensor], averaged: bool) -> nn.Module:
    """The recipe's generator for ``cfg`` holding ``state`` (the averaged weights if ``averaged`` and present)."""
    plain, ema = files.split_state(state)
    generator = RECIPES[recipe].build_generator(cfg)  # ProGAN: at its final stage
    try:
        generator.load_state_dict(ema if averaged and ema is not None else plain)  # fp16 copied into fp32
    except RuntimeError as err:
        raise files.WeightsError(
            f"the weights do not fit the {type(generator).__name__} that {recipe} builds for this config: {err}"
        ) from err
    return generator.eval()


def entry(name: str) -> dict[str, Any]:
    """The manifest entry of a shipped reference; clear errors for an unknown name or weights not shipped yet."""
    manifest = files.read_manifest()
    if name not in manifest["models"]:
        if name in REFERENCES:
            raise NotShipped(
                f"the reference {name!r} is registered but its weights are not shipped yet: train them with "
                f"`{REFERENCES[name].command}` (then commit gancourse/pretrained/weights/{name}.pt and manifest.json)"
            )
        get(name)  # raises UnknownReference listing the known names
    return manifest["models"][name]


def load(name: str, averaged: bool = True) -> nn.Module:
    """The generator of reference ``name`` with its shipped weights (in eval mode, on the CPU).

    The file's sha256 is checked against the manifest first; a mismatch raises
    :class:`~gancourse.pretrained.files.WeightsError` naming the file and both hashes.
    ``averaged``: the moving average of G's weights where the run kept one (the main
    model then), else G itself. The config is the manifest's, the one the weights were
    trained with. :func:`samples` runs it as its trainer does (pix2pix: the batch's
    statistics and test-time dropout; eval mode for the others).
    """
    record = entry(name)
    path = files.WEIGHTS_DIR / record["file"]
    if not path.is_file():
        raise NotShipped(
            f"{path} is listed in the manifest but missing: reinstall gancourse, or retrain it with "
            f"`python -m gancourse.pretrained train {name} --force`"
        )
    state = files.read_weights(path, files.recorded_sha256(record, f"the model {name!r}"))
    return _module_from_state(record["recipe"], _config_of(record), state, averaged)


def samples(
    name: str,
    n: int = 64,
    seed: int = SAMPLE_SEED,
    labels: torch.Tensor | None = None,
    inputs: torch.Tensor | None = None,
    averaged: bool = True,
) -> torch.Tensor:
    """``n`` samples of reference ``name``, the same for the same seed: images (n, C, S, S) in [-1, 1] or points (n, 2).

    Conditional GAN: ``labels`` (default: class order, a row per class in an 8-wide grid
    of 80); pix2pix: ``inputs`` (default: the first ``n`` test inputs of its task).
    """
    check_positive_int("n", n)
    record = entry(name)
    generator = load(name, averaged)
    return RECIPES[record["recipe"]].sample(_config_of(record), generator, n, seed, labels=labels, inputs=inputs)


def _provenance_line(record: dict[str, Any]) -> str:
    p = record["provenance"]
    return (
        f"trained {p['date_utc']} UTC on {p['device']}, {p['torch_threads']} threads, "
        f"{p['wall_time_s'] / 60:.1f} min wall time, {p['steps']:,} steps, torch {p['torch']}, commit {p['git_commit']}"
    )


def summary(name: str) -> str:
    """The shipped reference run's metrics next to the floor, labelled as loaded, with its provenance line."""
    return summary_of(entry(name))


def summary_of(record: dict[str, Any]) -> str:
    """:func:`summary` of a manifest entry."""
    name = record["name"]
    metrics = record["metrics"]
    main = metrics["main"]
    lines = [f"{name}: {LABEL}", f"  {record['description']}", f"  {_provenance_line(record)}"]
    lines.append(f"  differs from the paper: {record['paper_differences']}")
    for n, score in metrics["by_n"].items():
        mine = score[main]
        head = f"  n = {int(n):,}"
        if "fid" in mine:
            floor = score["floor"]
            lines.append(
                f"{head}: FID {mine['fid']:.2f} vs real floor {floor['fid']:.2f} ({mine['fid_over_floor']:.1f}x), "
                f"KID x 10^3 {kid_per_mille(mine['kid'][0])} vs {kid_per_mille(floor['kid'][0])}; "
                f"features: {score['features']}"
            )
        elif "modes_captured" in mine:
            floor = score["floor"]
            lines.append(
                f"{head}: {mine['modes_captured']}/{mine['n_modes']} modes, "
                f"{100 * mine['high_quality_share']:.1f}% high-quality samples "
                f"(real samples: {floor['modes_captured']}/{mine['n_modes']}, "
                f"{100 * floor['high_quality_share']:.1f}%)"
            )
        else:
            lines.append(f"{head}: {score.get('note', 'no score')}")
        if "conditional_accuracy" in mine:
            lines.append(
                f"    conditional accuracy {100 * mine['conditional_accuracy']:.1f}%, worst class "
                f"{100 * mine['worst_class_accuracy']:.1f}%"
            )
        if "l1" in mine:
            lines.append(f"    L1 to the targets {mine['l1']:.4f}")
    lines += [f"  {note}" for note in metrics["notes"]]
    if main == "averaged":
        lines.append("  (scores of the moving average of G's weights; G's own are in the manifest)")
    return "\n".join(lines)


def show(name: str, n: int = 64, seed: int = SAMPLE_SEED, nrow: int = 8):
    """Print :func:`summary` and draw ``n`` samples; returns the figure.

    Conditional GAN: a row of ``nrow`` samples per class; pix2pix: input / output / target
    rows of 12 test pairs; the toy GAN: 2,500 points over the mixture's centres.
    """
    from gancourse import viz  # matplotlib only when drawing

    record = entry(name)
    cfg = _config_of(record)
    text = summary(name)
    print(text)
    title = f"{name}\n{LABEL}"  # two lines: an 8-wide grid is narrower than both
    if record["recipe"] == "toy_gan":
        from gancourse.data import grid_of_gaussians, ring_of_gaussians

        mixture = ring_of_gaussians() if cfg.mixture == "ring" else grid_of_gaussians()
        return viz.plot_mixture(mixture, samples(name, max(n, scores.TOY_SAMPLES), seed), title=title)
    if record["recipe"] == "pix2pix":
        inputs, targets = RECIPES["pix2pix"].held_out_pairs(cfg, min(n, 12))
        outputs = samples(name, len(inputs), seed, inputs=inputs)
        return viz.compare_rows({"input": inputs, f"output ({LABEL})": outputs, "target": targets})
    if record["recipe"] == "conditional_gan":  # one row of nrow samples per class
        n_classes = len(dataset_classes(cfg.dataset))
        images = samples(name, n_classes * nrow, seed, labels=class_rows(n_classes, nrow))
        return viz.show_images(images, nrow=nrow, title=f"{title}\none row per class")
    return viz.show_images(samples(name, n, seed), nrow=nrow, title=title)


# --------------------------------------------------------------------------------------
# Verification (CI)
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Verified:
    """What :func:`verify` found for one shipped model."""

    name: str
    problems: tuple[str, ...]  # failures: a wrong hash, a missing file, a value out of tolerance
    warnings: tuple[str, ...]  # worth knowing, not failures (registry settings changed since training)
    values: dict[str, float]  # the recomputed check values

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    names: Iterable[str] | None = None, tolerance: float | None = None, samples_only: bool = False
) -> list[Verified]:
    """Check shipped models: sha256, load, regenerate the samples, recompute the check values within ``tolerance``.

    ``names`` default to every model in the manifest. Files in ``weights/`` that the
    manifest does not list are reported as problems (they would ship unverified).
    ``samples_only``: compare only the sample statistics, which need no data set (a
    machine without the real images; pix2pix on MNIST-family edges is then only loaded).
    """
    manifest = files.read_manifest()
    listed = manifest["models"]
    results = []
    if names is None:
        names = sorted(listed)
        stray = sorted(p.name for p in files.WEIGHTS_DIR.glob("*.pt") if p.stem not in listed)
        features = {record["file"] for record in manifest["features"].values()}
        stray += sorted(f"features/{p.name}" for p in files.FEATURES_DIR.glob("*.pt") if p.name not in features)
        if stray:
            results.append(Verified("(weights folder)", (f"files not in the manifest: {', '.join(stray)}",), (), {}))
    for name in names:
        results.append(_verify_one(name, tolerance, samples_only))
    return results


def _verify_one(name: str, tolerance: float | None, samples_only: bool) -> Verified:
    problems: list[str] = []
    warnings: list[str] = []
    try:
        record = entry(name)
    except LookupError as err:
        return Verified(name, (str(err),), (), {})
    check = record["check"]
    try:
        generator = load(name, averaged=check["generator"] == "averaged")
    except (files.WeightsError, LookupError) as err:
        return Verified(name, (str(err),), (), {})
    cfg = _config_of(record)
    if name not in REFERENCES:
        warnings.append("not in the registry any more (it still loads from the manifest's config)")
    elif REFERENCES[name].config() != cfg:
        warnings.append(
            f"the registry's settings changed since it was trained: retrain with `{REFERENCES[name].command} --force`"
        )
    tolerance = check.get("tolerance", scores.TOLERANCE) if tolerance is None else tolerance
    if samples_only:
        expected = {k: v for k, v in check["values"].items() if k.startswith("sample_")}
        if scores.kind(record["recipe"]) == "paired" and cfg.dataset not in ("emoji", "paired_folder"):
            warnings.append(f"loaded; its samples need the {cfg.dataset} test images: not regenerated without data")
            return Verified(name, (), tuple(warnings), {})
        values = scores.sample_stats(RECIPES[record["recipe"]].sample(cfg, generator, check["n"], check["seed"]))
        problems += scores.compare(expected, values, tolerance)
        return Verified(name, tuple(problems), tuple(warnings), values)
    try:
        score = scores.measure(record["recipe"], cfg, {"check": generator}, check["n"], check["seed"])
    except files.WeightsError as err:  # the shipped feature extractor's hash
        return Verified(name, (str(err),), tuple(warnings), {})
    values = scores.checked_values(score["check"])
    problems += scores.compare(check["values"], values, tolerance)
    expected_features, features = check.get("features_sha256"), score.get("features_sha256")
    if problems and expected_features and features != expected_features:
        warnings.append(
            "the domain classifier that computed these features differs from the one the manifest was scored with "
            f"(sha256 {str(features)[:12]}... vs {expected_features[:12]}...): it is trained on each machine, so part "
            "of the difference may be the classifier's"
        )
    return Verified(name, tuple(problems), tuple(warnings), values)


def main_verify(names: list[str] | None, tolerance: float | None = None, samples_only: bool = False) -> int:
    """``verify`` for the command line: one line per model, exit status 1 on any problem."""
    if not files.read_manifest()["models"] and not names:
        print(f"no models shipped yet ({files.MANIFEST_PATH} lists none): nothing to verify")
        return 0
    results = verify(names or None, tolerance, samples_only)
    for result in results:
        status = "ok" if result.ok else "FAILED"
        shown = ", ".join(f"{k} {v:.4g}" for k, v in result.values.items())
        print(f"{result.name}: {status}" + (f" ({shown})" if shown else ""))
        for line in result.problems:
            print(f"  problem: {line}")
        for line in result.warnings:
            print(f"  warning: {line}")
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"verification FAILED for {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(results)} shipped model(s) verified")
    return 0
