"""_core.exact_sums (the core's full_range_sum bound for the report's value curve and totals):
exact sums of consecutive segments, in units of 2^-1127, for doubles of every magnitude and in any
order; a bad argument is refused with its position."""

from fractions import Fraction

import numpy as np
import pytest

from crmkit import _core
from crmkit.plotting import exact_float, exact_total


def _exact(values) -> Fraction:
    # Reference: Python's exact rationals of the same doubles.
    return sum((Fraction(float(v)) for v in values), Fraction(0))


def test_segment_sums_are_exact_in_any_order_and_add_up_to_the_whole():
    rng = np.random.default_rng(11)
    values = np.r_[rng.lognormal(0, 30, 3000) * rng.choice([-1.0, 1.0], 3000), 5e-324, -5e-324,
                   2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308,
                   0.0, -0.0, 1e-320]
    values = values[np.isfinite(values)]
    rng.shuffle(values)
    ends = [0, 1, 1, 1500, 2999, len(values)]
    found = _core.exact_sums(values, np.array(ends, dtype=np.int64))
    for start, end, units in zip([0] + ends[:-1], ends, found):
        assert Fraction(units, 2**1127) == _exact(values[start:end])
    assert sum(found) == exact_total(values[::-1])
    assert exact_float(exact_total(values)) == float(_exact(values))


def test_many_values_of_one_binade_carry_exactly():
    # 3000 copies of 2^53 - 1 times a power of two overflow a 64-bit significand bucket unless
    # the accumulator moves them into its limbs in time.
    value = float(2**53 - 1) * 2.0**-1074 * 2**60
    values = np.full(3000, value)
    assert Fraction(exact_total(values), 2**1127) == 3000 * Fraction(value)


def test_values_after_the_last_end_are_left_out_and_no_ends_give_no_sums():
    assert _core.exact_sums(np.array([1.0, 2.0, np.nan]), np.array([2])) == [3 * 2**1127]
    assert _core.exact_sums(np.array([1.0]), np.array([], dtype=np.int64)) == []


def test_a_value_that_is_not_finite_is_refused_with_its_position():
    with pytest.raises(ValueError, match=r"value inf at position 1 is not finite"):
        _core.exact_sums(np.array([1.0, np.inf, 2.0]), np.array([3]))


@pytest.mark.parametrize("ends", [[2, 1], [4], [-1]])
def test_ends_out_of_order_or_range_are_refused(ends):
    with pytest.raises(ValueError, match=r"ends: end -?\d+ at position \d+ is not between"):
        _core.exact_sums(np.array([1.0, 2.0, 3.0]), np.array(ends, dtype=np.int64))
