"""Proportions with honest uncertainty: Wilson intervals, Newcombe differences, p-chart limits.

Pure arithmetic (no Flask, no database) so the reports and their tests share one definition.
"""
from __future__ import annotations

import dataclasses
import math

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal: a 95% two-sided interval


@dataclasses.dataclass(frozen=True)
class Proportion:
    """k out of n, with its 95% Wilson score interval (None when n is 0: no rate at all)."""

    k: int
    n: int

    @property
    def rate(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.k, self.n)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for k successes in n trials (Wilson 1927); None for n = 0.

    Unlike p +/- z*sqrt(p(1-p)/n) it never leaves [0, 1] and is not zero-width at 0 or n,
    which matters for the small monthly counts of one source or one concern.
    """
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError(f"k must be between 0 and n, got k={k}, n={n}")
    p = k / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At 0 or n the interval touches the end exactly (centre -/+ half is that end, bar rounding).
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def newcombe(now: Proportion, then: Proportion) -> tuple[float, tuple[float, float]] | None:
    """now.rate - then.rate and its 95% interval by Newcombe's hybrid score method (1998, method 10).

    Built from the two Wilson intervals; None when either side has no items.
    """
    if not now.n or not then.n:
        return None
    p1, p2 = now.rate, then.rate
    l1, u1 = now.interval
    l2, u2 = then.interval
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return difference, (lower, upper)


def p_chart_limits(centre: float, n: int, sigmas: float = 3.0) -> tuple[float, float] | None:
    """Shewhart p-chart control limits for a month of n items around the baseline rate; None for n = 0."""
    if n <= 0:
        return None
    spread = sigmas * math.sqrt(centre * (1 - centre) / n)
    return max(0.0, centre - spread), min(1.0, centre + spread)


def longest_run(sides: list[int]) -> int:
    """The longest run of consecutive equal non-zero signs (+1 above, -1 below the centre line).

    A run of 8 or more points on one side is the usual signal of a shift too steady to be noise.
    """
    best = current = 0
    previous = 0
    for side in sides:
        current = current + 1 if side and side == previous else (1 if side else 0)
        previous = side
        best = max(best, current)
    return best
