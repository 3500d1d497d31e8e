"""Benchmarks of the package's hot paths, each runnable as ``python -m gancourse.bench.<name>``.

A benchmark measures the package's implementation against a plain reference
written inline in the same script, in the same run, and prints the ratio.
"""

from __future__ import annotations

import argparse


def int_at_least(low: int):
    """An argparse type: an integer >= ``low`` (a count of 0 would divide by zero or time nothing)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is out of range: allowed an integer >= {low}")
        return value

    parse.__name__ = f"integer >= {low}"  # argparse names the type in its messages
    return parse


positive_int = int_at_least(1)  # steps, images, rounds
non_negative_int = int_at_least(0)  # thread counts (0: torch's choice), warm-up steps
