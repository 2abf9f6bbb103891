"""The pages one load-test journey posts, worked out from the threshold version in force.

A 9-year-old with one top-level (not immediate) concern: every journey ends in a referral.
Uses signpost.journey's own routing, so the plan follows the questions the service asks.
If the journey's pages change (issue 8's page registry), this is the one place to follow them.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signpost import journey  # noqa: E402
from signpost.thresholds import load_library  # noqa: E402

YEARS, MONTHS = 9, 3


class Plan(dict):
    """{path: form data} for each question page up to Check your answers (the journey is followed
    by its redirects: "About you" is only asked on an account's first journey), and the
    referral form. Every post also names its draft (`draft_id`, from the page's form)."""

    referral: dict


DRAFT_ID = __import__("re").compile(r'name="draft_id" value="([^"]+)"')


def build(thresholds_dir: str | Path = ROOT / "thresholds", today: dt.date | None = None) -> Plan:
    today = today or dt.date.today()
    version = load_library(thresholds_dir).in_force(today)
    child = journey.JourneyAnswers(in_danger="no", child=journey.Child(unborn=False, years=YEARS, months=MONTHS))
    top = version.document.levels[-1].number
    item = next(i for i in version.document.indicators if i.level == top and not i.asks_for and not i.lado
                and not journey.is_emergency(i) and journey.applies(i, YEARS * 12 + MONTHS, False))
    target = journey.with_concerns(version, child, [item.id])
    plan = Plan({
        "/refer/danger": {"in_danger": "no"},
        "/refer/about-you": {"role": "dsl", "organisation": "school"},
        "/refer/about-child": {"born": "born", "years": str(YEARS), "months": str(MONTHS)},
        "/refer/serious": {"concerns": list(target.serious.ticked) or ["none"]},
        "/refer/areas": {"concerns": list(target.areas.ticked) or ["none"]},
        "/refer/concerns": {"concerns": list(target.concerns.ticked) if target.concerns else ["none"]},
        "/refer/what-happened": {"what_happened": "(load test) what the referrer saw", "seen": "yes",
                                 "says": "(load test) fictional words", "wants": "(load test) to be safe"},
        "/refer/family": {"working_well": "(load test) attends school", "aware": "yes", "consent": "given"},
        "/refer/check": {},
    })
    born = today - dt.timedelta(days=YEARS * 365 + MONTHS * 30 + 5)
    plan.referral = {"first_name": "Load", "last_name": "Test", "dob_day": str(born.day),
                     "dob_month": str(born.month), "dob_year": str(born.year),
                     "address": "1 Fictional Row, Northmere", "postcode": "NM1 4AB",
                     "parents": "(load test) a fictional parent, 01632 960 555", "interpreter": "no",
                     "referrer_phone": "01632 960 777"}
    return plan


PLAN = build(os.environ.get("SIGNPOST_THRESHOLDS_DIR", ROOT / "thresholds"))
