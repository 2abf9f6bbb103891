"""How long each page of the referral journey takes to answer, through the whole Flask stack.

Walks the journey N times on a temporary SQLite database (the `make run` default) and prints
the median and 95th-percentile time of every page, GET and POST, then, last, the slowest
95th percentile as `slowest_page_p95_ms: N` (goal: under 100). The baseline line times
/healthz, the cheapest page, in the same run, so the figures can be read as a ratio.
Run: .venv/bin/python benchmarks/journey.py [journeys]
"""
from __future__ import annotations

import random
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from walk import Referrer, Target, make_app  # noqa: E402

from signpost import journey  # noqa: E402
from signpost.content import current_version  # noqa: E402
from signpost.extensions import db  # noqa: E402


def main(journeys: int = 30) -> None:
    app = make_app()
    timings: dict[str, list[float]] = defaultdict(list)
    rng = random.Random(1)
    with app.app_context():
        db.create_all()
        version = current_version()

    def hook(method, path, seconds):
        timings[f"{method} {path}"].append(seconds * 1000)

    referrer = Referrer(app, hook=hook)
    for _ in range(200):
        referrer.request("GET", "/healthz")
    for n in range(journeys + 1):
        if n == 1:  # the first journey compiles every template: a warm-up, not timed
            warm = timings.pop("GET /healthz")
            timings.clear()
            timings["GET /healthz"] = warm
        referrer.request("GET", "/")
        months = rng.randint(0, 215)
        chosen = journey.random_concerns(version, months, False, rng, 0.03)
        referrer.walk(version, Target(frozenset(chosen), months), finish=True)
        referrer.request("GET", "/refer/summary")

    print(f"{'page':40} {'n':>5} {'median ms':>10} {'p95 ms':>8}")
    worst = 0.0
    baseline = statistics.median(timings["GET /healthz"])
    for name, values in sorted(timings.items()):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        if "healthz" not in name:
            worst = max(worst, p95)
        print(f"{name:40} {len(values):>5} {statistics.median(values):>10.1f} {p95:>8.1f}")
    print(f"baseline_healthz_median_ms: {baseline:.2f}")
    print(f"slowest_page_p95_over_baseline: {worst / baseline:.1f}")
    print(f"slowest_page_p95_ms: {worst:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
