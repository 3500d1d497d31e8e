import numpy as np
import pytest

from gancourse.checks import check_int, check_positive_int, check_positive_ints


def test_accepted_values_are_returned():
    assert check_positive_int("n", 1) == 1
    assert check_int("k", 5, 1, 5) == 5
    assert check_int("test_limit", 0, 0) == 0
    check_positive_ints(a=1, b=2)
    assert check_positive_int("n", np.int64(3)) == 3 and type(check_positive_int("n", np.int64(3))) is int


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: check_positive_int("n", 0), r"n = 0 is out of range: allowed n >= 1 \(an integer\)"),
        (lambda: check_positive_int("n", 2.0), r"n = 2.0 is out of range: allowed n >= 1"),
        (lambda: check_positive_int("n", True), r"n = True is out of range"),  # a flag is not a size
        (lambda: check_int("k", 6, 1, 5), r"k = 6 is out of range: allowed 1 <= k <= 5"),
        (lambda: check_positive_int("group_size", 0, note="paper: 4"), r"\(an integer, paper: 4\)"),
        (lambda: check_positive_ints(hidden=3, out_features=-1), r"out_features = -1 is out of range"),
    ],
)
def test_errors_name_the_parameter_and_the_range(call, message):
    with pytest.raises(ValueError, match=message):
        call()
