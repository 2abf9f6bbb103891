"""Two things measured in turn, round after round, for the benchmarks that print a ratio of them.

This machine's speed drifts by up to a third within minutes, so the two sides of a ratio are
measured one just after the other, taking turns at going first (A then B, B then A, ...): a drift
changes both alike, and each round gives a ratio of its own.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


def in_turn(first: Callable[[], A], second: Callable[[], B], rounds: int) -> list[tuple[A, B]]:
    """(first's result, second's result) for each round."""
    results = []
    for number in range(rounds):
        if number % 2 == 0:
            a = first()
            b = second()
        else:
            b = second()
            a = first()
        results.append((a, b))
    return results
