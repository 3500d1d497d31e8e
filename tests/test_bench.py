import argparse

import pytest

from gancourse import bench
from gancourse.bench import metrics as bench_metrics
from gancourse.bench import style as bench_style
from gancourse.bench import train as bench_train


@pytest.mark.parametrize("text, ok", [("3", 3), ("0", None), ("-2", None), ("2.5", None), ("x", None)])
def test_positive_int(text, ok):
    if ok is None:
        with pytest.raises(argparse.ArgumentTypeError):
            bench.positive_int(text)
    else:
        assert bench.positive_int(text) == ok
    assert bench.non_negative_int("0") == 0


@pytest.mark.parametrize(
    "module, argv",
    [
        (bench_metrics, ["--n", "0"]),
        (bench_metrics, ["--batch-size", "-1"]),
        (bench_style, ["--sizes", "256", "0"]),
        (bench_style, ["--steps", "0"]),
        (bench_train, ["--steps", "0"]),
        (bench_train, ["--threads", "-1"]),
    ],
)
def test_benchmarks_refuse_counts_that_would_divide_by_zero(module, argv, capsys):
    with pytest.raises(SystemExit) as info:
        module.main(argv)
    assert info.value.code == 2 and "is out of range" in capsys.readouterr().err
