"""How long the referral journey is: pages to the recommendation, and concern labels read.

Walks the journey through the Flask test client for every YAML case (thresholds/tests) of
the version in force and for 300 random answer sets, as a referrer who knows their concerns
(benchmarks/walk.py says what counts as read). Checks each recorded recommendation agrees
with assess() for the same answers. Prints the median and 90th percentile of pages and of
concern labels, then `median_pages: N` (goal: at most 9) and last `median_concern_labels: N`
(goal: at most 30).
Run: .venv/bin/python benchmarks/journey_length.py [random_sets]
"""
from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
from pathlib import Path

from walk import Referrer, Target, make_app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signpost import journey  # noqa: E402
from signpost.content import current_directory, current_version  # noqa: E402
from signpost.engine import AnswerError, Answers, assess  # noqa: E402
from signpost.thresholds.cases import load_cases  # noqa: E402


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main(random_sets: int = 300) -> None:
    app = make_app()
    with app.app_context():
        from signpost.extensions import db
        db.create_all()
        version = current_version()
        directory = current_directory()
    referrer = Referrer(app)
    referrer.walk(version, Target())  # an account's first journey asks about the referrer once
    targets: list[tuple[str, Target]] = []
    skipped = 0
    for loaded in load_cases(ROOT / "thresholds" / "tests"):
        if not loaded.applies_to(version):
            continue
        a = loaded.case.answers
        target = Target(frozenset(a.indicators), a.age_months, a.unborn, a.consent, a.in_danger)
        try:
            assess(Answers(target.indicators, target.age_months, target.unborn, consent=target.consent,
                           in_danger=target.in_danger), version, dt.date.today())
        except AnswerError:
            skipped += 1  # a case about answers the engine refuses: no journey to walk
            continue
        targets.append((f"case: {loaded.name}", target))
    cases = len(targets)
    rng = random.Random(2026)
    for n in range(random_sets):
        unborn = rng.random() < 0.05
        months = None if unborn else rng.randint(0, 215)
        chosen = journey.random_concerns(version, months, unborn, rng, rng.choice([0.0, 0.01, 0.02, 0.04]))
        consent = rng.choice(["given", "given", "refused", "not_asked", "not_needed"])
        targets.append((f"random {n}", Target(frozenset(chosen), months, unborn, consent)))

    pages, labels, disagreements = [], [], []
    for name, target in targets:
        walked = referrer.walk(version, target)
        expected = assess(Answers(target.indicators, target.age_months, target.unborn, consent=target.consent,
                                  in_danger=target.in_danger), version, dt.date.today(), directory)
        if (walked.route, walked.level, walked.reasons) != (expected.route, expected.level, expected.reason_ids):
            disagreements.append(name)
        pages.append(len(walked.pages))
        labels.append(walked.labels)

    print(f"version: {version.id}; journeys: {len(targets)} ({cases} YAML cases, {random_sets} random; "
          f"{skipped} cases of refused answers skipped)")
    print(f"agreement with assess(): {len(targets) - len(disagreements)} of {len(targets)}"
          + (f"; disagreeing: {', '.join(disagreements[:5])}" if disagreements else ""))
    print(f"pages to the recommendation: median {statistics.median(pages):g}, p90 {percentile(pages, 0.9)}, "
          f"max {max(pages)}")
    print(f"concern labels read: median {statistics.median(labels):g}, p90 {percentile(labels, 0.9)}, "
          f"max {max(labels)}")
    print(f"median_pages: {statistics.median(pages):g}")
    print(f"median_concern_labels: {statistics.median(labels):g}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
