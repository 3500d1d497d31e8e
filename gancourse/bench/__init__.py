"""Benchmarks of the package's hot paths, each runnable as ``python -m gancourse.bench.<name>``.

A benchmark measures the package's implementation against a plain reference
written inline in the same script, in the same run, and prints the ratio.
"""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (0 or a negative count would divide by zero or time nothing)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range: allowed an integer >= 1")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (thread counts, where 0 means torch's choice; warm-up steps)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is out of range: allowed an integer >= 0")
    return value
