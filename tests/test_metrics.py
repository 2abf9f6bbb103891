"""The reports' numbers against a small dataset whose every answer is worked out by hand below.

Runs on SQLite and (with SIGNPOST_TEST_DATABASE_URL) PostgreSQL. The page and the CSV are
checked cell by cell against the same hand-worked figures.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from signpost import metrics, workdays
from signpost.extensions import db
from signpost.models import Assessment, ExternalContact, Referral
from signpost.store.history import record_demo_history
from signpost.values import uk_today

T = dt.datetime
NOW = T(2026, 3, 15, 12, 0)
BASELINE = metrics.Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
CURRENT = metrics.Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def contact(received, source, outcome, decided=None, **extra):
    contact.serial += 1
    return {"reference": f"X{contact.serial}", "received_at": received, "source_code": source, "channel": "phone",
            "age_band": "5 to 9", "urgency": "standard", "outcome": outcome,
            "decided_at": decided or received + dt.timedelta(hours=2), **extra}


contact.serial = 0


def journey(user_id, received, *, kind="referral", source="2A", route="social_care", reasons=("ind_a",),
            outcomes=(), child_key=None, threshold="v1", urgency="standard", age_band="5 to 9", follows=None):
    """A Signpost item; outcomes: [(outcome, decided_at)], in order (the last is the latest); follows:
    the reference of the consultation whose advice it was made from."""
    taken = {"referral": "social_care", "early_help_request": "early_help"}.get(kind, route)
    journey.serial += 1
    decisions = [{"sequence": n, "outcome": outcome, "decided_on": at.date(), "decided_at": at,
                  "decided_by": user_id, "note": "", "created_at": at,
                  "referral_advised": True if outcome == "advice_given" else None}
                 for n, (outcome, at) in enumerate(outcomes, start=1)]
    return {
        "assessment": {"user_id": user_id, "started_at": received - dt.timedelta(minutes=9),
                       "completed_at": received - dt.timedelta(minutes=1), "source_code": source,
                       "referrer_role": "dsl", "age_band": age_band, "unborn": False, "indicator_ids": list(reasons),
                       "consent": "given", "in_danger": False, "immediate": False, "recommended_route": route,
                       "recommended_level": 3, "reason_ids": list(reasons), "route_taken": taken,
                       "overridden": taken != route, "override_reason": "x" if taken != route else None,
                       "threshold_id": threshold, "threshold_hash": "h" * 64, "urgency": urgency},
        "referral": {"reference": f"T-{journey.serial}", "kind": kind, "user_id": user_id, "created_at": received,
                     "details": {}, "family_aware": "yes", "consent": "given", "consent_reason": None,
                     "child_key": child_key, **({"follows": follows} if follows else {}),
                     "latest_outcome": outcomes[-1][0] if outcomes else None,
                     "latest_decided_at": outcomes[-1][1] if outcomes else None},
        "decisions": decisions,
    }


journey.serial = 0


@pytest.fixture
def known(app, users):
    """The dataset. Baseline: January 2026; this period: February 2026 (GMT throughout)."""
    who = users["referrer"].id
    other = users["admin"].id
    contacts = [
        # Baseline: 10 referrals recorded by the front door, 4 ending in NFA; one consultation.
        *(contact(T(2026, 1, 5 + n, 10), "6", o) for n, o in enumerate(
            ["nfa", "nfa", "assessment_s17", "assessment_s17", "early_help"])),
        *(contact(T(2026, 1, 19 + n, 10), "2A", o) for n, o in enumerate(["nfa_advice", "strategy_s47", "lado"])),
        *(contact(T(2026, 1, 26 + n, 10), "3B", o) for n, o in enumerate(["nfa_advice", "assessment_s17"])),
        contact(T(2026, 1, 28, 10), "3B", "advice_given"),
        # This period: two police contacts, one on time and NFA, one decided two days later.
        contact(T(2026, 2, 16, 10), "6", "nfa", T(2026, 2, 16, 12)),
        contact(T(2026, 2, 17, 10), "6", "strategy_s47", T(2026, 2, 19, 10)),
    ]
    journeys = [
        # R0: R5's child, referred 13 months before R5 (too long ago: R5 is not a re-referral).
        journey(who, T(2025, 1, 2, 10), child_key="child-2", outcomes=[("nfa", T(2025, 1, 2, 15))]),
        # R1 Mon 2 Feb 10:00, decided Tue 09:00 (on time); Signpost and the front door agree.
        journey(who, T(2026, 2, 2, 10), reasons=("ind_a",), child_key="child-1",
                outcomes=[("assessment_s17", T(2026, 2, 3, 9))]),
        # C1: a consultation on Tue 3 Feb; R2, made from its advice, three days later.
        c1 := journey(who, T(2026, 2, 3, 10), kind="consultation", route="early_help", reasons=("ind_b",),
                outcomes=[("advice_given", T(2026, 2, 3, 11))]),
        # R2 Fri 6 Feb 15:00, decided Mon 9 Feb 15:00 exactly (due then: on time); the same child as R1
        # (a re-referral); first decided early help, then changed to NFA: the latest decision counts.
        journey(who, T(2026, 2, 6, 15), reasons=("ind_a", "rule_x"), child_key="child-1",
                follows=c1["referral"]["reference"],
                outcomes=[("early_help", T(2026, 2, 9, 15)), ("nfa", T(2026, 2, 10, 9))]),
        # R3 Sat 7 Feb (a day off: due by the end of Monday), decided Mon 23:59 (on time);
        # early help recommended, the referrer referred anyway (an override up); NFA with advice.
        journey(other, T(2026, 2, 7, 11), source="3B", route="early_help", reasons=("ind_b",),
                outcomes=[("nfa_advice", T(2026, 2, 9, 23, 59))]),
        # R4 Tue 10 Feb 09:00, decided Thu 09:00 (late); universal recommended, referred; early help.
        journey(other, T(2026, 2, 10, 9), source="3B", route="universal", reasons=("ind_c",), urgency="same_day",
                outcomes=[("early_help", T(2026, 2, 12, 9))]),
        # R5 Fri 20 Feb, still undecided on 15 March (late).
        journey(who, T(2026, 2, 20, 10), reasons=("ind_a",), child_key="child-2", threshold="v2"),
        # E1: an early help request, decided the same day.
        journey(other, T(2026, 2, 11, 10), kind="early_help_request", source="3C", route="early_help",
                reasons=("ind_d",), outcomes=[("early_help", T(2026, 2, 11, 16))]),
    ]
    record_demo_history(contacts, journeys, months=0, recorded_by=other)
    return users


def overview(filters=metrics.Filters()):
    return metrics.overview(CURRENT, BASELINE, filters, now=NOW)


def close(a, b, places=6):
    return math.isclose(a, b, abs_tol=10 ** -places)


# ---- the figures ---------------------------------------------------------------------------------

def test_headline_nfa_now_and_baseline_with_intervals(known):
    o = overview()
    # This period: decided referrals R1 R2 R3 R4 and the two police contacts = 6; NFA: R2 R3 X = 3.
    assert (o.nfa_now.k, o.nfa_now.n) == (3, 6)
    # Wilson, 3 of 6: centre (0.5 + 1.92073/6) / (1 + 3.84146/6) = 0.5;
    # half = 1.95996 * sqrt(0.25/6 + 3.84146/144) / 1.64024 = 0.312384.
    low, high = o.nfa_now.interval
    assert close(low, 0.5 - 0.312384) and close(high, 0.5 + 0.312384)
    # Baseline: 4 of 10 (the consultation is not a referral): Wilson 0.168180 to 0.687326.
    assert (o.nfa_baseline.k, o.nfa_baseline.n) == (4, 10)
    assert close(o.nfa_baseline.interval[0], 0.168180) and close(o.nfa_baseline.interval[1], 0.687326)
    # Newcombe: 0.1 - sqrt(0.312384^2 + 0.287326^2) = -0.324429; 0.1 + sqrt(0.312384^2 + 0.231820^2) = 0.489004.
    difference, (dlow, dhigh) = o.difference
    assert close(difference, 0.1) and close(dlow, -0.324429) and close(dhigh, 0.489004)


def test_how_each_kind_ended(known):
    e = overview().endings
    assert e["referral"] == {"nfa": 3, "early_help": 1, "social_care": 2, "elsewhere": 0, "advice": 0, "awaiting": 1}
    assert e["early_help_request"] == {"nfa": 0, "early_help": 1, "social_care": 0, "elsewhere": 0, "advice": 0,
                                       "awaiting": 0}
    assert e["consultation"]["advice"] == 1 and sum(e["consultation"].values()) == 1
    assert sum(e["all"].values()) == 9


def test_months_and_control_limits(known):
    months = {m.month: m for m in overview().months}
    assert list(months) == ["2026-01", "2026-02"]
    jan, feb = months["2026-01"], months["2026-02"]
    assert (jan.nfa.k, jan.nfa.n, jan.in_baseline, jan.in_current) == (4, 10, True, False)
    # 0.4 +/- 3 * sqrt(0.4 * 0.6 / 10) = 0.4 +/- 0.464758: clipped at 0.
    assert jan.limits[0] == 0.0 and close(jan.limits[1], 0.864758)
    # 0.4 +/- 3 * sqrt(0.04) = 0.4 +/- 0.6: clipped both ends.
    assert feb.limits == (0.0, 1.0) and feb.signal is None
    assert (feb.nfa.k, feb.nfa.n) == (3, 6)


def monthly_rows(o):
    return [(m.month, m.describe(), "baseline" if m.in_baseline else "this period", m.nfa.n, m.nfa.k)
            for m in o.months]


def test_a_month_cut_by_the_periods_counts_only_its_days_in_each(known):
    """The baseline ends on 9 February and this period starts on the 10th: February has a row for each."""
    current = metrics.Period(dt.date(2026, 2, 10), dt.date(2026, 2, 28))
    o = metrics.overview(current, metrics.Period(dt.date(2026, 1, 1), dt.date(2026, 2, 9)), now=NOW)
    assert monthly_rows(o) == [
        ("2026-01", "January 2026", "baseline", 10, 4),
        # R1 (an assessment), R2 and R3 (both NFA).
        ("2026-02", "1 to 9 February 2026", "baseline", 3, 2),
        # R4 (early help), the police contacts on the 16th (NFA) and 17th (section 47); R5 undecided.
        ("2026-02", "10 to 28 February 2026", "this period", 3, 1),
    ]
    assert [m.whole for m in o.months] == [True, False, False]
    assert [m.label for m in o.months] == ["Jan 2026", "1 to 9 Feb 2026", "10 to 28 Feb 2026"]
    assert (o.nfa_baseline.n, o.nfa_baseline.k) == (13, 6) and (o.nfa_now.n, o.nfa_now.k) == (3, 1)


def test_each_periods_months_add_up_to_its_headline_even_when_they_overlap(known):
    """This period from 15 January, the baseline all of January: January has a row for each."""
    o = metrics.overview(metrics.Period(dt.date(2026, 1, 15), dt.date(2026, 2, 28)), BASELINE, now=NOW)
    assert monthly_rows(o) == [
        ("2026-01", "January 2026", "baseline", 10, 4),
        # The contacts of the 19th to the 27th: two NFA with advice, section 47, LADO, an assessment.
        ("2026-01", "15 to 31 January 2026", "this period", 5, 2),
        ("2026-02", "February 2026", "this period", 6, 3),
    ]
    for in_baseline, headline in ((True, o.nfa_baseline), (False, o.nfa_now)):
        rows = [m.nfa for m in o.months if m.in_baseline == in_baseline]
        assert (sum(p.n for p in rows), sum(p.k for p in rows)) == (headline.n, headline.k)


def test_a_partial_month_is_marked_on_the_page_and_in_the_csv(known, policy_lead, frozen_now):
    query = "start=2026-02-10&end=2026-02&baseline_start=2026-01&baseline_end=2026-02-09"
    html = policy_lead.get(f"/reports/?{query}").get_data(as_text=True)
    rows = [row[:5] for row in table_cells(html, "monthly")[1:]]
    assert rows == [["2026-01", "whole month", "baseline", "10", "4"],
                    ["2026-02", "1 to 9 February 2026", "baseline", "3", "2"],
                    ["2026-02", "10 to 28 February 2026", "this period", "3", "1"]]
    assert table_cells(html, "monthly") == csv_cells(policy_lead, "monthly", query)
    assert "(for example, 1 to 9 February 2026)" in re.sub(r"\s+", " ", html)


def test_a_period_by_month():
    assert metrics.Period(dt.date(2025, 12, 19), dt.date(2026, 2, 28)).by_month() == [
        ("2025-12", metrics.Period(dt.date(2025, 12, 19), dt.date(2025, 12, 31))),
        ("2026-01", metrics.Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))),
        ("2026-02", metrics.Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28)))]
    assert metrics.Period(dt.date(2024, 2, 3), dt.date(2024, 2, 3)).by_month() == [
        ("2024-02", metrics.Period(dt.date(2024, 2, 3), dt.date(2024, 2, 3)))]


def test_agreement_and_overrides(known):
    o = overview()
    assert o.agreement["social_care"] == {"nfa": 1, "early_help": 0, "social_care": 1, "elsewhere": 0,
                                          "advice": 0, "awaiting": 1}
    assert o.agreement["early_help"]["nfa"] == 1 and o.agreement["universal"]["early_help"] == 1
    # Only R1 agreed (social care and an assessment) of the four decided Signpost referrals.
    assert (o.agreed.k, o.agreed.n) == (1, 4)
    directions = {(d["from"], d["to"]): d for d in o.overrides}
    assert set(directions) == {("early_help", "social_care"), ("universal", "social_care")}
    assert directions[("early_help", "social_care")]["endings"]["nfa"] == 1
    assert directions[("universal", "social_care")]["endings"]["early_help"] == 1
    assert all(d["up"] and d["total"] == 1 for d in o.overrides)


def test_timeliness_re_referrals_and_consultations(known):
    o = overview()
    # Due and counted: R1 R2 R3 R4 R5 E1 C1 and both police contacts = 9; late: R4, R5 (undecided), X2.
    assert (o.on_time.k, o.on_time.n) == (6, 9)
    # Signpost referrals R1..R5: R2 follows R1 (same child, 4 days); R5's child was last referred 13 months before.
    assert (o.re_referrals.k, o.re_referrals.n) == (1, 5)
    assert (o.consultations_followed.k, o.consultations_followed.n) == (1, 1)


def test_only_signpost_consultations_count_towards_followed_by_a_referral(known, users):
    """A contact the front door recorded and answered with advice is a consultation, but nothing links it to
    a later referral: it is left out of the measure rather than counted as one never followed."""
    record_demo_history([contact(T(2026, 2, 18, 10), "2A", "advice_given")], [], months=0,
                        recorded_by=users["front_door"].id)
    o = overview()
    assert o.endings["consultation"]["advice"] == 2  # still counted as a consultation that arrived
    assert (o.consultations_followed.k, o.consultations_followed.n) == (1, 1)
    recorded = overview(metrics.Filters(origin="front_door")).consultations_followed
    assert (recorded.k, recorded.n) == (0, 0)


def test_deciding_concerns(known):
    rows = {r.reason_id: r for r in metrics.deciding_concerns(CURRENT, labels={"ind_a": ("Concern", "A concern")})}
    # ind_a decided R1, R2 and R5 (R5 undecided); the early help request and consultation are not referrals.
    assert (rows["ind_a"].referrals, rows["ind_a"].nfa.n, rows["ind_a"].nfa.k) == (3, 2, 1)
    assert rows["ind_a"].label == "A concern" and rows["ind_a"].kind == "Concern"
    assert (rows["rule_x"].referrals, rows["rule_x"].nfa.k) == (1, 1)
    assert (rows["ind_b"].referrals, rows["ind_b"].nfa.k) == (1, 1)
    assert (rows["ind_c"].referrals, rows["ind_c"].nfa.k) == (1, 0)
    assert "ind_d" not in rows
    assert list(rows)[0] == "ind_a"  # most referrals first


@pytest.mark.parametrize("filters, now, base", [
    (metrics.Filters(source="6"), (1, 2), (2, 5)),
    (metrics.Filters(organisation="health"), (1, 2), (1, 2)),
    (metrics.Filters(route="social_care"), (1, 2), (0, 0)),
    (metrics.Filters(followed="overridden"), (1, 2), (0, 0)),
    (metrics.Filters(followed="followed"), (1, 2), (0, 0)),
    (metrics.Filters(origin="front_door"), (1, 2), (4, 10)),
    (metrics.Filters(origin="signpost"), (2, 4), (0, 0)),
    (metrics.Filters(threshold="v2"), (0, 0), (0, 0)),
    (metrics.Filters(urgency="same_day"), (0, 1), (0, 0)),
    (metrics.Filters(age_band="16 to 17"), (0, 0), (0, 0)),
])
def test_filters(known, filters, now, base):
    o = overview(filters)
    assert (o.nfa_now.k, o.nfa_now.n) == now
    assert (o.nfa_baseline.k, o.nfa_baseline.n) == base


def test_breakdowns(known):
    o = overview()
    by_org = {r.key: (r.received, r.nfa.n, r.nfa.k) for r in o.by_organisation}
    assert by_org == {"education": (3, 2, 1), "health": (2, 2, 1), "police": (2, 2, 1)}
    by_source = {r.key: (r.received, r.nfa.n, r.nfa.k) for r in o.by_source}
    assert by_source == {"2A": (3, 2, 1), "3B": (2, 2, 1), "3C": (0, 0, 0), "6": (2, 2, 1)}
    by_threshold = {r.key: (r.received, r.nfa.n, r.nfa.k) for r in o.by_threshold}
    assert by_threshold == {"v1": (4, 4, 2), "v2": (1, 0, 0), "none": (2, 2, 1)}


def test_an_empty_period_has_counts_of_zero_and_no_rates(known):
    empty = metrics.Period(dt.date(2030, 1, 1), dt.date(2030, 1, 31))
    o = metrics.overview(empty, empty, now=NOW)
    assert (o.nfa_now.n, o.nfa_now.rate, o.nfa_now.interval, o.difference) == (0, None, None, None)
    assert o.months[0].limits is None and o.on_time.n == 0 and sum(o.endings["all"].values()) == 0
    assert metrics.deciding_concerns(empty) == []


def test_a_one_item_period(known):
    one = metrics.Period(dt.date(2026, 2, 16), dt.date(2026, 2, 16))
    o = metrics.overview(one, BASELINE, now=NOW)
    assert (o.nfa_now.k, o.nfa_now.n) == (1, 1)
    # Wilson for 1 of 1: (1 + 1.92073) / 4.84146 -/+ 1.95996 * sqrt(3.84146 / 4) / 4.84146 = 0.206549 to 1.
    assert close(o.nfa_now.interval[0], 0.206549) and o.nfa_now.interval[1] == 1.0


def test_only_the_latest_revision_of_an_assessment_counts():
    """The one place that knows about revisions; when assessments gain a link to their successor, it filters."""
    condition = str(metrics.latest_revision())
    if "superseded_by_id" in metrics.Assessment.__table__.c:
        assert "superseded_by_id IS NULL" in condition
    else:
        assert condition == "true"


def test_default_baseline_is_the_12_months_before_the_first_signpost_referral(known):
    assert metrics.first_signpost_referral() == dt.date(2025, 1, 2)
    baseline = metrics.default_baseline(CURRENT)
    assert (baseline.start, baseline.end) == (dt.date(2024, 1, 2), dt.date(2025, 1, 1))
    # A period that began before that referral: the 12 months before the period, never overlapping it.
    early = metrics.Period(dt.date(2024, 12, 1), dt.date(2025, 11, 30))
    assert metrics.default_baseline(early) == metrics.Period(dt.date(2023, 12, 1), dt.date(2024, 11, 30))


def test_days_and_months_are_the_uk_calendars(app, users):
    """Stored times are UTC; a report's days and months are the ones staff live in. In summer 23:30 UTC on
    31 March is 00:30 on 1 April in the UK: that item was received in April, in April's row, in a period
    from 1 April, and the day before is 31 March in both zones."""
    who = users["referrer"].id
    contacts = [contact(T(2026, 3, 31, 23, 30), "6", "nfa"),   # 1 April, 00:30 BST
                contact(T(2026, 3, 31, 22, 30), "6", "nfa"),   # 31 March, 23:30 BST
                contact(T(2026, 4, 30, 23, 30), "6", "nfa")]   # 1 May, 00:30 BST
    journeys = [journey(who, T(2026, 6, 30, 23, 15), outcomes=[("nfa", T(2026, 7, 1, 9))])]  # 1 July, 00:15 BST
    record_demo_history(contacts, journeys, months=0, recorded_by=users["front_door"].id)
    assert db.session.scalar(select(Referral.month)) == "2026-07"
    assert sorted(db.session.scalars(select(ExternalContact.month))) == ["2026-03", "2026-04", "2026-05"]
    april = metrics.Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    march = metrics.Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    o = metrics.overview(april, march, now=T(2026, 8, 1))
    assert (o.nfa_now.n, o.nfa_baseline.n) == (1, 1)
    assert [(m.month, m.nfa.n) for m in o.months] == [("2026-03", 1), ("2026-04", 1)]
    july = metrics.overview(metrics.Period(dt.date(2026, 7, 1), dt.date(2026, 7, 1)), march, now=T(2026, 8, 1))
    assert july.nfa_now.n == 1 and [m.nfa.n for m in july.months if m.in_current] == [1]
    concerns = metrics.deciding_concerns(metrics.Period(dt.date(2026, 7, 1), dt.date(2026, 7, 31)))
    assert [(c.reason_id, c.referrals) for c in concerns] == [("ind_a", 1)]


# ---- the one-working-day clock in SQL agrees with workdays.within_one_working_day ---------------------

def test_timeliness_in_sql_matches_the_python_clock(app, users):
    """Random receipts over both clock changes, Easter, the August bank holiday and Christmas."""
    rng = random.Random(7)
    span = metrics.Period(dt.date(2025, 3, 20), dt.date(2026, 1, 10))
    minutes = int((span.end_before - span.start_at).total_seconds() // 60)
    contacts = []
    expected = 0
    for _ in range(600):
        received = span.start_at + dt.timedelta(minutes=rng.randrange(minutes), microseconds=rng.randrange(10 ** 6))
        if rng.random() < 0.1:  # a CSV import's date alone: midnight, London time
            day = received.date()
            received = dt.datetime.combine(day, dt.time(), tzinfo=workdays.LONDON).astimezone(dt.UTC) \
                .replace(tzinfo=None)
        decided = received + dt.timedelta(minutes=rng.randrange(1, 6 * 24 * 60))
        if rng.random() < 0.15:  # exactly at the deadline counts as on time
            decided = workdays.due_by(received)
        expected += workdays.within_one_working_day(received, decided)
        contacts.append(contact(received, "6", "nfa", decided))
    record_demo_history(contacts, [], months=0, recorded_by=users["front_door"].id)
    o = metrics.overview(span, span, now=T(2026, 6, 1))
    assert o.on_time.n == 600
    assert o.on_time.k == expected


# ---- the page and the CSV show exactly these figures ----------------------------------------------

def table_cells(html: str, name: str) -> list[list[str]]:
    table = re.search(rf'<table class="govuk-table" id="table-{name}">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [[unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
            for r in rows]


def csv_cells(client, name: str, query: str) -> list[list[str]]:
    response = client.get(f"/reports/{name}.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())  # a byte order mark: Excel then reads UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


QUERY = "start=2026-02&end=2026-02&baseline_start=2026-01&baseline_end=2026-01"


@pytest.fixture
def frozen_now(monkeypatch):
    real = metrics.overview
    monkeypatch.setattr(metrics, "overview", lambda *a, **k: real(*a, **{**k, "now": NOW}))


def test_every_figure_on_the_page_and_in_the_csv(known, policy_lead, frozen_now):
    html = policy_lead.get(f"/reports/?{QUERY}").get_data(as_text=True)
    expected = {
        "headline": [
            ["Period", "From", "To", "Referrals decided", "Ended in NFA", "NFA rate", "95% interval"],
            ["This period", "2026-02-01", "2026-02-28", "6", "3", "50.0%", "18.8% to 81.2%"],
            ["Baseline", "2026-01-01", "2026-01-31", "10", "4", "40.0%", "16.8% to 68.7%"],
            ["Difference", "", "", "", "", "10.0 points higher", "32.4 points lower to 48.9 points higher"],
        ],
        "measures": [
            ["Measure", "Count", "Out of", "Rate", "95% interval"],
            ["Decisions that agreed with Signpost's recommendation", "1", "4", "25.0%", "4.6% to 69.9%"],
            ["Decided within one working day", "6", "9", "66.7%", "35.4% to 87.9%"],
            ["Re-referrals within 12 months", "1", "5", "20.0%", "3.6% to 62.4%"],
            ["Consultations made through Signpost followed by a referral within 30 days", "1", "1", "100.0%", "20.7% to 100.0%"],
        ],
        "monthly": [
            ["Month", "Days counted", "Period", "Referrals decided", "Ended in NFA", "NFA rate",
             "Lower control limit", "Upper control limit", "Outside the limits"],
            ["2026-01", "whole month", "baseline", "10", "4", "40.0%", "0.0%", "86.5%", "no"],
            ["2026-02", "whole month", "this period", "6", "3", "50.0%", "0.0%", "100.0%", "no"],
        ],
        "organisations": [
            ["Group", "Referrals received", "Referrals decided", "Ended in NFA", "NFA rate", "95% interval"],
            ["Schools and education", "3", "2", "1", "50.0%", "9.5% to 90.5%"],
            ["Health services", "2", "2", "1", "50.0%", "9.5% to 90.5%"],
            ["Police", "2", "2", "1", "50.0%", "9.5% to 90.5%"],
        ],
    }
    for name, cells in expected.items():
        assert table_cells(html, name) == cells, name
        assert csv_cells(policy_lead, name, QUERY) == cells, name
    # The headline in words.
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html)))
    # Counted by the day each was received, whenever it was decided: the sentence says so, not "decided
    # from ... to ...", which reads as the decisions made in those days.
    assert "Of the 6 referrals received from 1 February 2026 to 28 February 2026 that the front door has " \
           "decided, 3 (50.0%) ended in No Further Action." in text
    assert "In the baseline period (1 January 2026 to 31 January 2026) it was 40.0% (4 of 10)." in text
    assert "the difference could be chance" in text
    # Every other table: the page and the CSV carry the same cells.
    for name in ("endings", "sources", "thresholds", "origins", "agreement", "overrides", "concerns"):
        assert table_cells(html, name) == csv_cells(policy_lead, name, QUERY), name
    assert table_cells(html, "endings")[1] == ["Referrals", "7", "3", "1", "2", "0", "0", "1"]
    assert table_cells(html, "concerns")[1][1:] == ["ind_a", "", "3", "2", "1", "50.0%", "9.5% to 90.5%"]


def test_csv_cells_that_look_like_formulas_are_neutralised(known, policy_lead, monkeypatch):
    from signpost.web import reports
    real = reports.report_tables

    def with_a_formula(o, concerns):
        tables = real(o, concerns)
        tables["concerns"].rows.append(["=HYPERLINK(\"x\")", "+44", "-3", "@SUM", "1", "1", "1", "1"])
        return tables

    monkeypatch.setattr(reports, "report_tables", with_a_formula)
    rows = csv_cells(policy_lead, "concerns", QUERY)
    assert rows[-1][:4] == ["'=HYPERLINK(\"x\")", "'+44", "'-3", "'@SUM"]


SAFE_ATTACHMENT = re.compile(r'attachment; filename="[a-z0-9]+(-[a-z0-9]+)*\.csv"')


def attachment_name(response) -> str:
    """The file name a download is saved under, after checking the whole header is one safe name."""
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header = response.headers["Content-Disposition"]
    assert SAFE_ATTACHMENT.fullmatch(header), header
    assert len(response.headers.getlist("Content-Disposition")) == 1
    assert not any(cookie.startswith("a=") for cookie in response.headers.getlist("Set-Cookie"))  # the session's only
    return header.split('"')[1]


def test_csv_file_names_say_the_period_and_every_filter_applied(known, policy_lead):
    """A policy lead who downloads the same table with three sets of filters gets three names."""
    from signpost.content import current_library
    version = current_library().versions[-1].id
    names = {attachment_name(policy_lead.get(f"/reports/monthly.csv?{QUERY}{filters}")) for filters in (
        "", "&source=6", "&organisation=police", "&age_band=10+to+15&urgency=same_day&route=social_care",
        f"&threshold={version}&followed=overridden&origin=signpost")}
    assert names == {
        "signpost-monthly-2026-02-01-to-2026-02-28-baseline-2026-01-01-to-2026-01-31.csv",
        "signpost-monthly-2026-02-01-to-2026-02-28-baseline-2026-01-01-to-2026-01-31-source-6.csv",
        "signpost-monthly-2026-02-01-to-2026-02-28-baseline-2026-01-01-to-2026-01-31-organisation-police.csv",
        "signpost-monthly-2026-02-01-to-2026-02-28-baseline-2026-01-01-to-2026-01-31-age-band-10-to-15-route-"
        "social-care-urgency-same-day.csv",
        f"signpost-monthly-2026-02-01-to-2026-02-28-baseline-2026-01-01-to-2026-01-31-origin-signpost-threshold-"
        f"{version}-followed-overridden.csv"}


def test_a_csv_linked_from_the_page_leaves_out_the_default_baseline(known, policy_lead):
    """The page's links always carry the baseline; the name gives it only when it is not the default one,
    so an ordinary download's name is the table, the period and the filters."""
    html = policy_lead.get("/reports/?start=2026-02&end=2026-02&source=6").get_data(as_text=True)
    link = unescape(re.search(r'href="(/reports/headline\.csv[^"]*)"', html).group(1))
    assert "baseline_start=" in link
    assert attachment_name(policy_lead.get(link)) == "signpost-headline-2026-02-01-to-2026-02-28-source-6.csv"


@pytest.mark.parametrize("hostile", [
    'source=6"; filename="evil.exe', "threshold=../../etc/passwd", "age_band=%22%0D%0ASet-Cookie:+a%3Db",
    "route=social_care%3B+filename%2A%3DUTF-8%27%27evil.exe", "urgency=Zo%C3%AB+%E2%80%AE", "baseline_end=2026-01%22x",
])
def test_a_hostile_filter_value_cannot_change_a_csvs_file_name_or_header(known, policy_lead, hostile):
    """Only a filter's own choices (and dates it could read) reach the name, as slugs: anything else is
    ignored, as on the page, or the request refused; never part of the header."""
    response = policy_lead.get(f"/reports/monthly.csv?start=2026-02&end=2026-02&{hostile}")
    if response.status_code == 400:  # a control character: refused before the view
        assert "Content-Disposition" not in response.headers
        return
    name = attachment_name(response)
    assert name.startswith("signpost-monthly-2026-02-01-to-2026-02-28") and name.count(".") == 1, name
    for fragment in ("evil", "etc", "passwd", "cookie", "zo"):
        assert fragment not in name, name


def test_a_file_name_is_slugs_whatever_it_is_given():
    from signpost.spreadsheet import file_name
    name = file_name("Signpost", 'x"; filename="evil.exe\r\nSet-Cookie: a=b', "Zoë/../ ", "", "10 to 15", dt.date(2026, 4, 1))
    assert name == "signpost-x-filename-evil-exe-set-cookie-a-b-zo-10-to-15-2026-04-01.csv"
    long_a, long_b = file_name("signpost", "x" * 300, "a"), file_name("signpost", "x" * 300, "b")
    assert long_a != long_b and len(long_a) <= 204 and re.fullmatch(r"[a-z0-9-]+\.csv", long_a)
    assert file_name("", "--") == "download.csv"


def test_the_chart_is_svg_with_a_title_and_a_description(known, policy_lead, frozen_now):
    html = policy_lead.get(f"/reports/?{QUERY}").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*aria-labelledby=\"chart-monthly-title chart-monthly-desc\"[^>]*>(.*?)</svg>",
                    html, re.S)
    assert svg and "<title id=\"chart-monthly-title\">" in svg.group(1)
    desc = re.search(r'<desc id="chart-monthly-desc">(.*?)</desc>', svg.group(1), re.S).group(1)
    assert "The baseline rate, the chart's centre line, is 40%" in unescape(desc)
    assert "from 50% (Feb 2026) to 50% (Feb 2026)" in desc


def test_filters_are_kept_in_the_query_string_and_in_the_csv_links(known, policy_lead):
    html = policy_lead.get(f"/reports/?{QUERY}&source=6").get_data(as_text=True)
    assert 'href="/reports/monthly.csv?start=2026-02-01&amp;end=2026-02-28&amp;baseline_start=2026-01-01&amp;' \
           'baseline_end=2026-01-31&amp;source=6"' in html
    assert table_cells(html, "headline")[1][3:5] == ["2", "1"]


@pytest.mark.parametrize("query", [
    "start=2026-02&end=2026-01&source=6",                      # 'To' before 'From': the default period
    "start=2026-02&end=2026-02&baseline_start=2025-01&baseline_end=2024-06",  # the same for the baseline
    "start=last+year&end=2026-02",                             # a date not understood: 'To' alone
    "",                                                        # nothing asked for: the defaults
])
def test_every_csv_link_downloads_the_period_the_page_shows_even_after_an_error(known, policy_lead, frozen_now,
                                                                                  query):
    html = policy_lead.get(f"/reports/?{query}").get_data(as_text=True)
    assert ("There is a problem" in html) == bool(query)
    links = {unescape(href) for href in re.findall(r'href="(/reports/[a-z]+\.csv[^"]*)"', html)}
    assert len({link.split("?")[1] for link in links}) == 1  # every table's link carries the same query
    for link in links:
        name = link.split("/")[2].split(".")[0]
        shown = [row for row in table_cells(html, name) if row != ["Nothing in this period."]]
        assert shown == csv_cells(policy_lead, name, link.split("?")[1]), (name, link)


def test_bad_dates_are_explained_and_unknown_choices_ignored(known, policy_lead):
    response = policy_lead.get("/reports/?start=last+year&source=ZZ&end=2026-01&baseline_end=2025-01"
                               "&baseline_start=2025-06")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "Enter &#39;from&#39; as a month like 2026-04" in html
    assert "&#39;Baseline to&#39; must be the same as or after &#39;Baseline from&#39;" in html


def test_nothing_identifying_on_the_page(known, policy_lead):
    html = policy_lead.get(f"/reports/?{QUERY}").get_data(as_text=True)
    for secret in ("child-1", "child-2", "T-1", "X1"):
        assert secret not in re.sub(r"<[^>]+>", " ", html).split()


# ---- the page's queries read at the same time ----------------------------------------------------------

@pytest.mark.parametrize("filters", [metrics.Filters(), metrics.Filters(origin="front_door"),
                                     metrics.Filters(origin="signpost", source="3B"), metrics.Filters(route="universal")])
def test_the_page_read_at_once_gives_what_one_after_the_other_gives(known, filters):
    labels = {"ind_a": ("Concern", "A concern")}
    at_once = metrics.report(CURRENT, BASELINE, filters, labels, now=NOW, threads=True)
    in_turn = metrics.report(CURRENT, BASELINE, filters, labels, now=NOW, threads=False)
    assert at_once == in_turn
    assert at_once == (overview(filters), metrics.deciding_concerns(CURRENT, filters, labels))


def test_reading_at_once_uses_a_connection_each_in_one_snapshot(app, users):
    """Each call runs in a thread and on a connection of its own; on PostgreSQL all in one snapshot, even
    when a row is committed between the first call's start and the others'."""
    import threading
    from sqlalchemy import text
    postgresql = db.engine.dialect.name == "postgresql"
    started = threading.Event()

    def seen():
        connection = db.session.connection().connection.driver_connection
        rows = db.session.scalar(select(func.count()).select_from(ExternalContact))
        snapshot = db.session.scalar(text("SELECT pg_current_snapshot()::text")) if postgresql else None
        return threading.get_ident(), id(connection), rows, snapshot

    def first():
        out = seen()
        started.set()
        return out

    def later():
        started.wait(10)
        with app.app_context():  # committed after the snapshot was taken
            record_demo_history([contact(T(2026, 2, 2, 10), "6", "nfa")], [], months=0,
                                recorded_by=users["front_door"].id)
        return seen()

    (thread_a, conn_a, rows_a, snap_a), (thread_b, conn_b, rows_b, snap_b) = metrics.read_together(
        first, later, threads=True)
    assert thread_a != thread_b and conn_a != conn_b
    if postgresql:
        assert snap_a == snap_b and rows_a == rows_b == 0
    assert db.session.scalar(select(func.count()).select_from(ExternalContact)) == 1


@pytest.mark.parametrize("filters", [metrics.Filters(), metrics.Filters(origin="front_door"),
                                     metrics.Filters(source="3B", age_band="5 to 9"),
                                     metrics.Filters(threshold="v1", followed="overridden", urgency="same_day")])
def test_grouped_in_the_index_order_or_hashed_the_figures_are_the_same(known, filters, monkeypatch):
    """On PostgreSQL the cube is grouped off the covering index when its tables are mostly all-visible,
    and hashed otherwise (metrics._index_order_pays): the same figures either way."""
    monkeypatch.setattr(metrics, "_index_order_pays", lambda tables: True)
    in_index_order = overview(filters)
    monkeypatch.setattr(metrics, "_index_order_pays", lambda tables: False)
    assert overview(filters) == in_index_order


def test_in_index_order_postgresql_reads_the_covering_index_with_no_sort_or_hash(known):
    from sqlalchemy import text
    if db.engine.dialect.name != "postgresql":
        assert metrics._index_order_pays(("referrals",)) is False  # SQLite reads the index in order itself
        return
    for filters in (metrics.Filters(), metrics.Filters(source="6", urgency="standard")):
        metrics._tune_for_reports(in_index_order=True)
        query, tables = metrics._cube_query(filters, CURRENT, BASELINE, NOW)
        assert tables == ("referrals", "external_contacts")
        statement = query.compile(
            db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN {statement}")))
        assert "ix_referrals_reports" in plan and "ix_external_contacts_reports" in plan, plan
        assert "GroupAggregate" in plan and "HashAggregate" not in plan and "Sort" not in plan, plan
        db.session.rollback()
    # The choice is read from pg_class (what it decides depends on autovacuum, so only that it reads).
    assert metrics._index_order_pays(("referrals", "external_contacts")) in (True, False)


def test_reading_at_once_passes_on_an_error(app):
    def fails():
        raise LookupError("no such report")
    with pytest.raises(LookupError):
        metrics.read_together(lambda: 1, fails, threads=True)


# ---- the demo history -------------------------------------------------------------------------------

def test_demo_history_is_seeded_once_and_shows_nfa_falling(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "history", "--months", "24", "--per-month", "120"])
    assert result.exit_code == 0, result.output
    contacts = db.session.scalar(select(func.count()).select_from(ExternalContact))
    items = db.session.scalar(select(func.count()).select_from(Referral))
    again = runner.invoke(args=["demo", "history", "--months", "24"])
    assert "already there" in again.output
    assert db.session.scalar(select(func.count()).select_from(ExternalContact)) == contacts
    assert db.session.scalar(select(func.count()).select_from(Referral)) == items
    kinds = set(db.session.scalars(select(Referral.kind).distinct()))
    assert kinds == {"referral", "early_help_request", "consultation"}
    today = uk_today()
    current = metrics.default_current(today)
    o = metrics.overview(current, metrics.default_baseline(current))
    assert 0.33 <= o.nfa_baseline.rate <= 0.47          # a baseline of about 40%
    assert o.difference[1][1] < 0                        # and a fall that is not chance
    assert len(o.by_threshold) >= 3                      # a threshold version change part-way
    police = next(r for r in o.by_organisation if r.key == "police")
    everyone = sum(r.received for r in o.by_organisation)
    assert 0.2 <= police.received / everyone <= 0.4      # police the largest source
    assert o.re_referrals.k > 0 and o.consultations_followed.n > 0


def test_demo_history_records_only_concerns_as_ticked_never_the_rule_that_decided(app):
    """A demo assessment decided by the cumulative rule once stored the rule's id among the concerns
    ticked: Preview a change then showed 'cumulative_additional_needs (not in this version)' as a
    concern in its examples and counted those assessments as having concerns the draft no longer has."""
    from signpost.content import current_library
    result = app.test_cli_runner().invoke(args=["demo", "history", "--months", "24", "--per-month", "120"])
    assert result.exit_code == 0, result.output
    library = current_library()
    rows = db.session.execute(select(Assessment.threshold_id, Assessment.indicator_ids, Assessment.reason_ids)).all()
    ruled = [row for row in rows if set(row.reason_ids) - set(row.indicator_ids)]
    assert ruled  # some were decided by a rule as well as their concerns
    for threshold_id, ticked, _reasons in rows:
        assert set(ticked) <= set(library.by_id(threshold_id).indicators), (threshold_id, ticked)


def test_the_default_period_starts_no_earlier_than_signpost_so_it_never_overlaps_the_baseline():
    today = dt.date(2026, 12, 7)
    assert metrics.default_current(today, since=dt.date(2025, 12, 18)) == metrics.Period(
        dt.date(2025, 12, 18), dt.date(2026, 11, 30))
    assert metrics.default_current(today, since=dt.date(2024, 5, 1)) == metrics.default_current(today)
    assert metrics.default_current(today, since=dt.date(2026, 12, 2)) == metrics.default_current(today)
    current = metrics.default_current(today, since=dt.date(2025, 12, 18))
    baseline = metrics.Period(dt.date(2024, 12, 18), dt.date(2025, 12, 17))  # default_baseline's, for that date
    assert current.overlap(baseline) is None
    assert metrics.default_current(today).overlap(baseline) == metrics.Period(dt.date(2025, 12, 1),
                                                                            dt.date(2025, 12, 17))


def test_overlapping_periods_are_said_and_no_claim_about_chance_is_made(known, policy_lead):
    html = policy_lead.get("/reports/?start=2026-01-15&end=2026-02-28&baseline_start=2026-01-01"
                           "&baseline_end=2026-01-31").get_data(as_text=True)
    assert 'id="overlap"' in html and "overlap from 15 January 2026 to 31 January 2026" in html
    assert "unlikely to be chance" not in html and "could be chance" not in html and "95% confidence" not in html
    apart = policy_lead.get(f"/reports/?{QUERY}").get_data(as_text=True)
    assert 'id="overlap"' not in apart and "95% confidence" in apart
    # No difference and no range in the table or its CSV either.
    overlapping = "start=2026-01-15&end=2026-02-28&baseline_start=2026-01-01&baseline_end=2026-01-31"
    rows = list(csv.reader(io.StringIO(policy_lead.get(f"/reports/headline.csv?{overlapping}").data.decode("utf-8-sig"))))
    assert [r[0] for r in rows] == ["Period", "This period", "Baseline"]
    assert "Difference" in policy_lead.get(f"/reports/headline.csv?{QUERY}").get_data(as_text=True)


def test_a_filter_in_the_address_that_is_not_understood_is_said_not_silently_dropped(known, policy_lead):
    html = policy_lead.get(f"/reports/?{QUERY}&organisation=2&age_band=%3Cb%3Enonsense").get_data(as_text=True)
    assert 'id="ignored-filters"' in html and "the figures are not filtered by them" in html
    assert "How it reached the front door" not in html.split('id="ignored-filters"')[1].split("</div>")[0]
    assert "Organisation type: &#39;2&#39; is not one of its choices" in html
    assert "&lt;b&gt;nonsense" in html and "<b>nonsense" not in html
    assert 'id="ignored-filters"' not in policy_lead.get(f"/reports/?{QUERY}&organisation=police").get_data(as_text=True)


def test_to_alone_gives_the_12_whole_months_it_ends(known, policy_lead):
    html = policy_lead.get("/reports/?end=2025-10").get_data(as_text=True)
    assert "There is a problem" not in html and "1 November 2024 to 31 October 2025" in html


def test_the_default_period_is_the_last_12_whole_months():
    assert metrics.default_current(dt.date(2026, 12, 1)) == metrics.Period(dt.date(2025, 12, 1), dt.date(2026, 11, 30))
    assert metrics.default_current(dt.date(2026, 3, 31)) == metrics.Period(dt.date(2025, 3, 1), dt.date(2026, 2, 28))


def test_from_this_month_alone_gives_this_month_so_far(known, policy_lead):
    """'To' left empty ends the period at the end of last month; a lead asking for this month (or any day
    since) left it empty too, and was told 'To' must be after 'From' about a field they never filled in."""
    today = uk_today()
    first = today.replace(day=1)
    html = policy_lead.get(f"/reports/?start={first:%Y-%m}").get_data(as_text=True)
    assert "There is a problem" not in html
    assert metrics.Period(first, today).describe() in html
    later = policy_lead.get(f"/reports/?start={today + dt.timedelta(days=1)}").get_data(as_text=True)
    assert "There is a problem" in later and "&#39;From&#39; must be today or earlier" in later
    assert 'href="#start"' in later
