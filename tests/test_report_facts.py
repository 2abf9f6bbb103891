"""The reports' stored facts (signpost.store.facts): written with each row and decision, in its transaction.

Rows are written through the models (so the store's listeners run, as for the app's own writes),
then the stored columns are checked against answers worked out by hand; a last test writes rows in
a random order and checks that filling every row again from scratch changes nothing.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import random

import pytest
from sqlalchemy import select

from signpost import values
from signpost.extensions import db
from signpost.models import Assessment, Referral
from signpost.store import facts, retention
from signpost.store import frontdoor as fd_store

T = dt.datetime
_numbers = itertools.count(1)


def child(name: str) -> dict:
    return {"first_name": name, "last_name": "Fenwick", "date_of_birth": "2016-05-04"}


def item(user, received: dt.datetime, *, kind="referral", details=None, route="early_help", reasons=("ind_a",),
         source="3B", urgency="same_day", follows: Referral | None = None) -> Referral:
    assessment = Assessment(user_id=user.id, started_at=received, completed_at=received, source_code=source,
                            age_band="5 to 9", indicator_ids=list(reasons), recommended_route=route,
                            recommended_level=2, reason_ids=list(reasons), urgency=urgency,
                            route_taken="social_care" if kind == "referral" else route,
                            overridden=kind == "referral" and route != "social_care", threshold_id="v1",
                            threshold_hash="h" * 64)
    db.session.add(assessment)
    db.session.flush()
    referral = Referral(reference=f"F-{next(_numbers)}", kind=kind, assessment_id=assessment.id, user_id=user.id,
                        created_at=received, details=details or {},
                        consultation_id=follows.id if follows else None)
    db.session.add(referral)
    db.session.commit()
    return referral


def stored(referral: Referral) -> Referral:
    db.session.expire_all()
    return db.session.get(Referral, referral.id)


def test_a_referral_carries_its_recommendation_month_and_due_time(app, users):
    # Friday 6 February 2026, 15:00 (GMT): due at the same time on Monday.
    r = stored(item(users["referrer"], T(2026, 2, 6, 15), reasons=("ind_a", "rule_x")))
    assert (r.source_code, r.age_band, r.urgency, r.recommended_route, r.route_taken, r.overridden,
            r.threshold_id) == ("3B", "5 to 9", "same_day", "early_help", "social_care", True, "v1")
    assert json.loads(r.reasons_key) == ["ind_a", "rule_x"]
    assert r.month == "2026-02"
    assert r.due_at == T(2026, 2, 9, 15)
    assert r.first_decided_at is None and not r.re_referral and not r.followed_up


@pytest.mark.parametrize("kind, route, taken", [
    ("referral", "early_help", "social_care"), ("consultation", "universal", "universal"),
    ("early_help_request", "early_help", "early_help")])
def test_a_referral_stores_its_kind_and_routes_as_the_number_the_reports_read_back(app, users, kind, route, taken):
    r = stored(item(users["referrer"], T(2026, 2, 6, 15), kind=kind, route=route))
    assert r.kind_routes == values.kind_routes(kind, route, taken)
    assert values.KIND_ROUTES[r.kind_routes] == (kind, route, taken)


def test_the_kind_and_routes_numbers_keep_their_meaning():
    """Stored numbers: these must never change (add new kinds and routes at the end of their sets)."""
    assert values.kind_routes("referral", "universal", "social_care") == 0o113
    assert values.kind_routes("consultation", "early_help", None) == 0o320
    assert values.kind_routes(None, None, None) == 0
    every = list(itertools.product(*((None, *v) for _column, v in values.KIND_ROUTES_PARTS)))
    assert len({values.kind_routes(*parts) for parts in every}) == len(every) == len(values.KIND_ROUTES)
    assert all(values.KIND_ROUTES[values.kind_routes(*parts)] == parts for parts in every)


@pytest.mark.parametrize("received, due", [
    # Friday before the spring bank holiday (Monday 25 May 2026), in summer time: due on Tuesday.
    (T(2026, 5, 22, 14, 30), T(2026, 5, 26, 14, 30)),
    # Saturday: the clock starts on Monday morning, so due by the end of Monday (midnight London = 23:00 UTC).
    (T(2026, 5, 16, 10), T(2026, 5, 18, 23)),
    # Thursday 23:30 UTC is already Friday 00:30 in London: due at that time on Monday.
    (T(2026, 6, 4, 23, 30), T(2026, 6, 7, 23, 30)),
])
def test_the_due_time_follows_working_days_and_london_time(app, users, received, due):
    assert stored(item(users["referrer"], received)).due_at == due
    contact = fd_store.record_external_contact(
        {"reference": f"C-{next(_numbers)}", "received_at": received, "source_code": "6", "channel": "phone",
         "age_band": "5 to 9", "urgency": "standard", "outcome": "nfa", "decided_at": received},
        actor=users["front_door"])
    assert (contact.due_at, contact.month) == (due, f"{received.year}-{received.month:02d}")


def test_the_first_decision_stays_when_a_later_one_supersedes_it(app, users):
    referral = item(users["referrer"], T(2026, 2, 2, 10))
    door = users["front_door"]
    fd_store.record_decision(referral, "early_help", "(test) first", supersedes=0, actor=door,
                             decided_at=T(2026, 2, 3, 9))
    r = stored(referral)
    assert (r.first_decided_at, r.latest_outcome) == (T(2026, 2, 3, 9), "early_help")
    fd_store.record_decision(r, "nfa", "(test) changed", supersedes=1, actor=door, decided_at=T(2026, 2, 5, 9))
    r = stored(referral)
    assert (r.first_decided_at, r.latest_outcome, r.latest_decided_at) == (T(2026, 2, 3, 9), "nfa", T(2026, 2, 5, 9))


def test_re_referrals_within_12_months_even_when_written_out_of_order(app, users):
    who = users["referrer"]
    first = item(who, T(2025, 1, 10, 9), details=child("Ada"))
    second = item(who, T(2025, 1, 14, 9), details=child("Ada"))            # 4 days later: a re-referral
    other_child = item(who, T(2025, 1, 15, 9), details=child("Bea"))
    early_help = item(who, T(2025, 1, 16, 9), kind="early_help_request", details=child("Ada"))
    late = item(who, T(2026, 2, 1, 9), details=child("Ada"))               # over 12 months after the second
    assert [stored(r).re_referral for r in (first, second, other_child, early_help, late)] == [
        False, True, False, False, False]
    # A referral written afterwards but received in between (a backdated one) makes the later one a
    # re-referral: exactly 12 months before `late` still counts.
    between = item(who, T(2025, 2, 1, 9), details=child("Ada"))
    assert stored(between).re_referral and stored(late).re_referral
    assert not stored(first).re_referral


def test_consultations_followed_by_a_referral_within_30_days(app, users):
    who, other = users["referrer"], users["admin"]
    named = item(who, T(2026, 3, 1, 9), kind="consultation", details=child("Cai"))
    unnamed = item(who, T(2026, 3, 2, 9), kind="consultation")
    unnamed_other = item(who, T(2026, 3, 2, 10), kind="consultation")
    assert not any(stored(c).followed_up for c in (named, unnamed, unnamed_other))
    item(who, T(2026, 3, 31, 9), details=child("Cai"))   # exactly 30 days after the named consultation
    assert stored(named).followed_up and not stored(unnamed).followed_up
    # With no child's name, only the referral made from its advice counts (not the same professional's).
    item(who, T(2026, 3, 20, 9), follows=unnamed)
    assert stored(unnamed).followed_up and not stored(unnamed_other).followed_up
    # An early help request is not a referral; a consultation written after its referral is followed up.
    too_late = item(other, T(2026, 1, 1, 9), kind="consultation", details=child("Dee"))
    item(other, T(2026, 1, 31, 9, 0, 1), details=child("Dee"))   # 30 days and a second
    item(other, T(2026, 1, 2, 9), kind="early_help_request", details=child("Dee"))
    backdated = item(other, T(2026, 1, 30, 9), kind="consultation", details=child("Dee"))
    assert not stored(too_late).followed_up and stored(backdated).followed_up


def test_an_erasure_changes_no_stored_fact_when_the_same_child_is_referred_again(app, users):
    """An erased referral no longer names its child, so the facts worked out with it are kept as
    they were: a later referral for the child changes only what it can change."""
    who = users["referrer"]
    asked = item(who, T(2026, 1, 1, 9), kind="consultation", details=child("Ada"))
    first = item(who, T(2026, 1, 10, 9), details=child("Ada"))   # follows the request for advice
    second = item(who, T(2026, 3, 1, 9), details=child("Ada"))   # a re-referral
    assert stored(asked).followed_up and stored(second).re_referral
    retention.erase_child(first.reference, same_child=False, reason="(test) the wrong child",
                          actor=users["admin"])
    later = item(who, T(2026, 6, 1, 9), details=child("Ada"))
    assert stored(later).re_referral  # after the second, which still names the child
    assert stored(second).re_referral and stored(asked).followed_up and not stored(first).re_referral


def test_filling_every_row_again_changes_nothing(app, users):
    """Rows written one by one in a random order end with the facts a fill of the whole table gives."""
    rng = random.Random(10)
    who = [users["referrer"], users["admin"]]
    rows = []
    for _ in range(60):
        received = T(2025, 1, 1) + dt.timedelta(minutes=rng.randrange(600 * 24 * 60))
        kind = rng.choice(("referral", "referral", "consultation", "early_help_request"))
        name = rng.choice(("Ada", "Bea", "Cai", None))
        unnamed = [r for r in rows if r.kind == "consultation" and not r.details]
        follows = rng.choice(unnamed) if kind == "referral" and unnamed and rng.random() < 0.3 else None
        rows.append(item(rng.choice(who), received, kind=kind, details=child(name) if name else None,
                         follows=follows))
    columns = [c for c in Referral.__table__.c if c.name in (
        "source_code", "recommended_route", "reasons_key", "month", "due_at", "first_decided_at", "re_referral",
        "followed_up")]

    def snapshot():
        return db.session.execute(select(Referral.id, *columns).order_by(Referral.id)).all()

    written = snapshot()
    assert any(r.re_referral for r in written) and any(r.followed_up for r in written)
    facts.fill(db.session.connection())
    assert snapshot() == written
    db.session.rollback()
