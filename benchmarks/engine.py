"""How fast the engine assesses: 100,000 random valid answer sets on the version in force.

Prints baselines from the same run first (a trivial loop, assess() without the directory), then,
last, `assessments_per_second: N` for assess() with the directory, as the referral flow calls it.
Run: .venv/bin/python benchmarks/engine.py [--count N] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signpost.directory import load_directory  # noqa: E402
from signpost.engine import Answers, applies_to_age, assess  # noqa: E402
from signpost.thresholds import load_library  # noqa: E402
from signpost.thresholds.schema import CONSENT_VALUES  # noqa: E402


def make_answers(version, count: int, seed: int = 20240901) -> list[Answers]:
    """Valid answer sets: an age (or unborn), concerns for that age, one option per question."""
    rng = random.Random(seed)
    pools = {age: [i for i in version.document.indicators if applies_to_age(i, age, False)]
             for age in range(216)}
    pools["unborn"] = [i for i in version.document.indicators if applies_to_age(i, None, True)]
    made = []
    for _ in range(count):
        unborn = rng.random() < 0.05
        age = None if unborn else rng.randrange(216)
        pool = pools["unborn" if unborn else age]
        picked, asked = [], set()
        for ind in rng.sample(pool, min(len(pool), rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 7)))):
            if ind.asks_for:
                if ind.asks_for in asked:
                    continue
                asked.add(ind.asks_for)
            picked.append(ind.id)
        made.append(Answers(indicators=frozenset(picked), age_months=age, unborn=unborn,
                            consent=rng.choice(CONSENT_VALUES), in_danger=rng.random() < 0.01))
    return made


def per_second(label: str, func, items, on_date, repeat: int = 3) -> float:
    """Best of `repeat` runs over every item, as items per second."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func(items, on_date)
        best = min(best, time.perf_counter() - start)
    rate = len(items) / best
    print(f"{label}: {rate:,.0f}".replace(",", ""))
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of assess() with the directory")
    args = parser.parse_args()

    library = load_library(ROOT / "thresholds", strict=True)
    on_date = dt.date.today()
    version = library.in_force(on_date)
    directory = load_directory(ROOT / "directory" / "services.yaml",
                               known_areas={a for v in library.versions for a in v.areas})
    answers = make_answers(version, args.count)
    print(f"version: {version.id} ({len(version.indicators)} indicators, {len(version.document.rules)} rules); "
          f"directory: {len(directory.services)} services; answer sets: {len(answers)}")

    def trivial(items, day):
        total = 0
        for a in items:
            total += len(a.indicators) + (a.age_months or 0)
        return total

    def without_directory(items, day):
        for a in items:
            assess(a, version, day)

    def with_directory(items, day):
        for a in items:
            assess(a, version, day, directory)

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        with_directory(answers, on_date)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)

    loop = per_second("baseline_trivial_loop_per_second", trivial, answers, on_date)
    bare = per_second("assessments_without_directory_per_second", without_directory, answers, on_date)
    full = per_second("assessments_with_directory_per_second", with_directory, answers, on_date)
    print(f"ratio_trivial_loop_to_assess: {loop / full:.1f}")
    print(f"ratio_without_to_with_directory: {bare / full:.2f}")
    print(f"assessments_per_second: {full:.0f}")


if __name__ == "__main__":
    main()
