"""``python -m gancourse.pretrained list | train NAME [--force] | verify [NAME ...]``.

::

    python -m gancourse.pretrained list                  # the reference runs, shipped or not, and their scores
    python -m gancourse.pretrained train dcgan_mnist     # train (or resume), export, score, record in the manifest
    python -m gancourse.pretrained train dcgan_mnist --force   # retrain the same settings from scratch
    python -m gancourse.pretrained train dcgan_mnist --out my_run   # a reader's retraining, compared with the shipped
    python -m gancourse.pretrained verify                # CI: hashes, loads, n = 1,000 scores within tolerance

``verify`` exits with status 1 when a file's hash or a recomputed score does not match
the manifest.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

#: The shipped weights stay within about 30 MB in all, inside the 40 MB every shipped binary together may take.
SIZE_BUDGET_MB = 30.0


def _list() -> int:
    from gancourse.pretrained import files
    from gancourse.pretrained.registry import REFERENCES

    manifest = files.read_manifest()
    shipped = manifest["models"]
    total = sum(record["bytes"] for record in manifest["features"].values())  # the scoring classifiers
    print(f"{'NAME':32s} {'SIZE':>9s}  {'TRAINED':>9s}  SCORE (against the real-data floor at the same n)")
    for name, reference in REFERENCES.items():
        record = shipped.get(name)
        if record is None:
            print(f"{name:32s} not shipped yet   {reference.command}")
            continue
        total += record["bytes"]
        score = next(iter(record["metrics"]["by_n"].values()))
        mine = score[record["metrics"]["main"]]
        if "fid" in mine:
            what = f"FID {mine['fid']:.2f} vs floor {score['floor']['fid']:.2f} at n = {score['n']:,}"
        elif "modes_captured" in mine:
            what = f"{mine['modes_captured']}/{mine['n_modes']} modes"
        else:
            what = "no FID (see manifest)"
        minutes = record["provenance"]["wall_time_s"] / 60
        print(f"{name:32s} {record['bytes'] / 1e6:6.2f} MB  {minutes:5.1f} min  {what}")
    for name in sorted(set(shipped) - set(REFERENCES)):
        print(f"{name:32s} shipped, but not in the registry any more")
    for dataset, record in manifest["features"].items():
        print(f"{'features: ' + dataset:32s} {record['bytes'] / 1e6:6.2f} MB  the domain classifier that scores them")
    shipped_here = len(set(shipped) & set(REFERENCES))
    budget = f"budget about {SIZE_BUDGET_MB:.0f} MB"
    print(f"shipped: {shipped_here} of {len(REFERENCES)}, {total / 1e6:.2f} MB in all ({budget})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gancourse.pretrained", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the reference runs, shipped or not")
    train = commands.add_parser("train", help="train (or resume) a reference run, export and score it")
    train.add_argument("name", help="a reference run (see `list`)")
    train.add_argument(
        "--force",
        action="store_true",
        help="retrain the same settings from scratch (changed settings in the registry start a new run anyway)",
    )
    train.add_argument(
        "--out",
        default=None,
        help="write the weights and a manifest to this folder instead of the package, and compare with the shipped run",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--device", default="cpu", help="torch device (the reference runs use the CPU)")
    verify = commands.add_parser("verify", help="check shipped files: hash, load, n = 1,000 scores")
    verify.add_argument("names", nargs="*", help="models to verify (default: every shipped one)")
    verify.add_argument("--tolerance", type=float, default=None, help="relative tolerance (default: the manifest's)")
    verify.add_argument(
        "--samples-only",
        action="store_true",
        help="compare only the sample statistics (no data set needed; no FID, accuracy or L1)",
    )
    args = parser.parse_args(argv)

    if args.command == "list":
        return _list()
    from gancourse.pretrained import reference
    from gancourse.pretrained.registry import REFERENCES

    if args.command == "train":
        if args.name not in REFERENCES:
            print(f"error: no reference run named {args.name!r}: known are {', '.join(REFERENCES)}", file=sys.stderr)
            return 2
        reference.train(args.name, not args.no_progress, args.force, args.device, out=args.out)
        return 0
    return reference.main_verify(args.names, args.tolerance, args.samples_only)


if __name__ == "__main__":
    sys.exit(main())
