"""Benchmarks of the package's hot paths, each runnable as ``python -m gancourse.bench.<name>``.

A benchmark measures the package's implementation against a plain reference
written inline in the same script, in the same run, and prints the ratio.
"""
