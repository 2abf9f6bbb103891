"""Wilson intervals, Newcombe differences and p-chart limits against published and hand-worked values."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signpost.statistics import Proportion, longest_run, newcombe, p_chart_limits, wilson


def close(a, b, places=4):
    return all(math.isclose(x, y, abs_tol=10 ** -places) for x, y in zip(a, b, strict=True))


def test_wilson_known_values():
    # Worked by hand: p = 0.4, z^2 = 3.8415; centre = (0.4 + 0.19207) / 1.38415 = 0.42775;
    # half = 1.95996 * sqrt(0.024 + 0.0096036) / 1.38415 = 0.25957. Newcombe (1998) Table I agrees.
    assert close(wilson(4, 10), (0.1682, 0.6873))
    assert close(wilson(0, 10), (0.0, 0.2775))
    assert close(wilson(10, 10), (0.7225, 1.0))
    # One item: the interval is wide, never a point.
    assert close(wilson(1, 1), (0.2065, 1.0))
    assert close(wilson(0, 1), (0.0, 0.7935))


def test_no_items_no_rate_and_no_interval():
    assert wilson(0, 0) is None
    assert Proportion(0, 0).rate is None and Proportion(0, 0).interval is None
    assert newcombe(Proportion(0, 0), Proportion(4, 10)) is None
    assert p_chart_limits(0.4, 0) is None


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError):
        wilson(11, 10)


def test_newcombe_published_example():
    # Newcombe (1998), example (b): 56/70 against 48/80, method 10: 0.0524 to 0.3339.
    difference, (low, high) = newcombe(Proportion(56, 70), Proportion(48, 80))
    assert math.isclose(difference, 0.2)
    assert close((low, high), (0.0524, 0.3339))


def test_p_chart_limits_by_hand():
    # 0.4 +/- 3 * sqrt(0.4 * 0.6 / 100) = 0.4 +/- 0.146969
    assert close(p_chart_limits(0.4, 100), (0.253031, 0.546969), 6)
    assert p_chart_limits(0.4, 1) == (0.0, 1.0)  # clipped to what a rate can be


def test_longest_run():
    assert longest_run([]) == 0
    assert longest_run([1, 1, -1, -1, -1, 0, -1]) == 3
    assert longest_run([0, 0]) == 0


@given(st.integers(0, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_rate_and_stays_in_zero_to_one(kn):
    k, n = kn
    if n == 0:
        assert wilson(k, n) is None
        return
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert high > low


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_newcombe_contains_the_difference(a, b):
    difference, (low, high) = newcombe(Proportion(*a), Proportion(*b))
    assert -1.0 <= low <= difference <= high <= 1.0
