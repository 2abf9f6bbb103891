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


class Plan(list):
    """[(path, form data)] from the danger question to Check your answers, and the referral form."""

    referral: dict


def build(thresholds_dir: str | Path = ROOT / "thresholds", today: dt.date | None = None) -> Plan:
    today = today or dt.date.today()
    version = load_library(thresholds_dir).in_force(today)
    answers: dict = {"in_danger": "no", "about_you": {"role": "dsl", "organisation": "school"},
                     "child": {"unborn": False, "years": YEARS, "months": MONTHS}}
    pages = journey.concerns_pages(version, answers)
    top = version.document.levels[-1].number
    page, item = next((p, i) for p in pages for i in p.items
                      if i.question is None and i.level == top and not version.indicators[i.id].immediate)
    ticks = {p.id: ([item.id] if p.id == page.id else []) for p in pages}
    answers["concerns"] = ticks
    answers["voice"] = {"seen": "yes", "says": "(load test) fictional words", "wants": "(load test) to be safe"}
    answers["family"] = {"working_well": "(load test) attends school", "tried": "", "tried_by": ""}
    answers["consent"] = {"aware": "yes", "consent": "given", "reason": ""}
    data = {
        "danger": {"in_danger": "no"},
        "about_you": {"role": "dsl", "organisation": "school"},
        "about_child": {"born": "born", "years": str(YEARS), "months": str(MONTHS)},
        "voice": {"seen": "yes", "says": answers["voice"]["says"], "wants": answers["voice"]["wants"]},
        "family": {"working_well": answers["family"]["working_well"]},
        "consent": {"aware": "yes", "consent": "given"},
        "check": {},
    }
    plan = Plan()
    for name in journey.sequence(version, answers):
        if name == "recommendation":
            break
        if name.startswith("concerns_"):
            form = {"concerns": ticks.get(name) or ["none"]}
        else:
            form = data[name]
        path = "/refer/check" if name == "check" else "/refer/" + name.replace("_", "-")
        plan.append((path, form))
    born = today - dt.timedelta(days=YEARS * 365 + MONTHS * 30 + 5)
    plan.referral = {"first_name": "Load", "last_name": "Test", "dob_day": str(born.day),
                     "dob_month": str(born.month), "dob_year": str(born.year),
                     "address": "1 Fictional Row, Northmere", "postcode": "NM1 4AB",
                     "parents": "(load test) a fictional parent, 01632 960 555", "interpreter": "no",
                     "referrer_phone": "01632 960 777"}
    return plan


PLAN = build(os.environ.get("SIGNPOST_THRESHOLDS_DIR", ROOT / "thresholds"))
