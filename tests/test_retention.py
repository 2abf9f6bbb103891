"""Retention and erasure: each period applied, dry runs change nothing, the counts survive erasure."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from signpost import store
from signpost.content import current_version
from signpost.engine import Answers, assess
from signpost.extensions import db
from signpost.models import Assessment, AuditEvent, Decision, Draft, OutboxMessage, Referral, child_key, utcnow
from signpost.store import retention

from test_journey_web import walker  # noqa: F401  (the fixture: a referrer on the real pages)
from signpost.values import uk_today

DAY = dt.timedelta(days=1)


def journey(users, *, days_ago: float, name: str = "Ada", dob: str = "2017-03-01", referred=True,
            outcome=("nfa", "Spoke to school; no role for social care")):
    version = current_version()
    rec = assess(Answers.of([], age_months=100), version, uk_today(), None)
    at = utcnow() - dt.timedelta(days=days_ago)
    answers = {"voice": {"seen": "yes", "says": "I am scared at home", "wants": "to stay with gran"}}
    details = {"first_name": name, "last_name": "Example", "date_of_birth": dob, "address": "1 Fictional Row",
               "postcode": "NM1 4AB", "answers": answers} if referred else None
    return store.record_demo_journey(users["referrer"], answers, rec, at=at, referral_details=details,
                                     decision=outcome if referred else None, decided_by=users["front_door"],
                                     assessment_fields={"age_band": "5-9", "indicator_ids": []})


def erase(app, reference: str, *args: str):
    """`flask retention erase` run by the test administrator."""
    return app.test_cli_runner().invoke(args=["retention", "erase", reference, *args, "--as", "admin@example.org"])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def periods(**days) -> retention.Periods:
    base = {"drafts": 30, "kept_decisions": 30, "referrals": 2190, "decisions": 2190, "assessments": 2920,
            "audit_events": 2190, "emails": 2190}
    return retention.Periods(**{k: dt.timedelta(days=v) for k, v in {**base, **days}.items()})


def test_defaults_come_from_the_settings(app):
    p = retention.Periods.from_config(app.config)
    assert (p.drafts.days, p.referrals.days, p.decisions.days, p.assessments.days, p.audit_events.days) == (
        30, 2190, 2190, 2920, 2190)


def test_dry_run_counts_and_changes_nothing(app, users):
    journey(users, days_ago=2200)
    journey(users, days_ago=10)
    before = (count(Referral), count(Decision), count(AuditEvent), count(Draft))
    counts = retention.purge(periods(), dry_run=True)
    assert counts == {"drafts": 1, "kept_decisions": 0, "referrals": 1, "decisions": 1, "assessments": 0,
                      "audit_events": 0, "emails": 0}
    assert (count(Referral), count(Decision), count(AuditEvent), count(Draft)) == before
    old = db.session.scalar(select(Referral).order_by(Referral.created_at))
    assert old.details["first_name"] == "Ada" and old.erased_at is None


def test_referrals_past_their_period_lose_identifying_details_but_keep_their_counts(app, users):
    old = journey(users, days_ago=2200)
    recent = journey(users, days_ago=10)
    by_outcome = retention.counts_by_outcome()
    counts = retention.purge(periods())
    assert counts["referrals"] == 1 and counts["decisions"] == 1 and counts["drafts"] == 1
    db.session.expire_all()
    erased = db.session.get(Assessment, old.id).referral
    assert erased.details == {} and erased.erased_at is not None and erased.consent_reason is None
    assert "scared" not in str(erased.details) and erased.decisions[0].note == ""
    assert erased.decisions[0].outcome == "nfa" and erased.assessment.recommended_route
    kept = db.session.get(Assessment, recent.id).referral
    assert kept.details["first_name"] == "Ada" and kept.decisions[0].note
    assert retention.counts_by_outcome() == by_outcome
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention_purged"))
    assert event.detail["referrals"] == 1 and event.detail["periods_days"]["referrals"] == 2190
    # A second run finds nothing more to do.
    assert retention.purge(periods())["referrals"] == 0


def test_decision_emails_go_at_the_end_of_the_audit_period_sent_or_not(app, users):
    """The outbox keeps each referrer's address with a reference: kept as long as the audit trail, which
    records the same address, and no longer (a message never sent, with no mail server, included)."""
    from signpost.store import frontdoor as fd_store
    assert retention.Periods.from_config(app.config).emails.days == 2190  # SIGNPOST_AUDIT_RETENTION_DAYS
    for days_ago in (2200, 10):
        item = journey(users, days_ago=days_ago, outcome=None).referral
        fd_store.record_decision(item, "nfa", "x", supersedes=0, actor=users["front_door"], link="https://x/y")
        message = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        with db.session.begin_nested():
            message.created_at = utcnow() - dt.timedelta(days=days_ago)
        db.session.commit()
    assert retention.purge(periods(), dry_run=True)["emails"] == 1 and count(OutboxMessage) == 2
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert "Deleted 1 decision email(s) to referrers, sent or not, older than 2190 days" in result.output
    (kept,) = db.session.scalars(select(OutboxMessage))
    assert kept.created_at > utcnow() - dt.timedelta(days=11)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention_purged"))
    assert event.detail["emails"] == 1 and event.detail["periods_days"]["emails"] == 2190


def test_assessments_past_their_period_go_with_their_referral_and_decisions(app, users):
    journey(users, days_ago=3000)
    journey(users, days_ago=3000, referred=False)
    journey(users, days_ago=5)
    counts = retention.purge(periods())
    assert counts["assessments"] == 2
    assert count(Assessment) == 1 and count(Referral) == 1 and count(Decision) == 1


def test_a_drafts_revisions_either_side_of_the_cutoff_each_go_at_the_end_of_their_own_period(app, walker):
    """A changed answer makes revision 2, linked to revision 1: when only revision 1 is past its
    period, it goes alone (revision 2 no longer names it), and the rest of the purge still runs."""
    walker.finish_questions(location=walker.concerns(location=walker.to_concerns()))
    walker.answer("/refer/about-child?change=1", {"born": "born", "years": "10", "months": "0"})
    walker.answer("/refer/check", {}, "/refer/recommendation")
    first, second = db.session.scalars(select(Assessment).order_by(Assessment.revision)).all()
    assert (first.revision, first.replaces_id, second.revision, second.replaces_id) == (1, None, 2, first.id)
    db.session.execute(Assessment.__table__.update().where(Assessment.id == first.id)
                       .values(completed_at=utcnow() - 2921 * DAY))
    db.session.execute(Assessment.__table__.update().where(Assessment.id == second.id)
                       .values(completed_at=utcnow() - 2919 * DAY))
    db.session.commit()

    counts = retention.purge(retention.Periods.from_config(app.config))
    assert counts["assessments"] == 1
    db.session.expire_all()
    (kept,) = db.session.scalars(select(Assessment)).all()
    assert kept.id == second.id and kept.revision == 2 and kept.replaces_id is None
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention_purged"))
    assert event.detail["assessments"] == 1

    # Two days on, revision 2 reaches the end of its period too.
    assert retention.purge(retention.Periods.from_config(app.config), now=utcnow() + 2 * DAY)["assessments"] == 1
    assert count(Assessment) == 0


def test_old_audit_events_are_deleted_and_the_purge_itself_is_audited(app, users):
    journey(users, days_ago=1)
    db.session.execute(AuditEvent.__table__.update().values(at=utcnow() - 2200 * DAY))
    db.session.commit()
    assert retention.purge(periods())["audit_events"] >= 1
    assert [e.action for e in db.session.scalars(select(AuditEvent))] == ["retention_purged"]


def test_erasing_one_child_keeps_other_children_and_the_counts(app, users):
    first = journey(users, days_ago=300).referral.reference
    again = journey(users, days_ago=100).referral.reference  # the same child referred again
    other = journey(users, days_ago=50, name="Ben").referral.reference
    by_outcome = retention.counts_by_outcome()
    result = erase(app, first, "--same-child", "--reason", "SAR-2026-17")
    assert result.exit_code == 0, result.output
    assert first in result.output and again in result.output and other not in result.output
    refs = {r.reference: r for r in db.session.scalars(select(Referral))}
    assert refs[first].details == {} and refs[again].details == {} and refs[other].details["first_name"] == "Ben"
    assert retention.counts_by_outcome() == by_outcome
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "referrals_erased"))
    assert event.detail["references"] == sorted([first, again]) and event.detail["reason"] == "SAR-2026-17"
    assert (event.user_id, event.actor) == (users["admin"].id, users["admin"].email)


def test_an_erased_referral_no_longer_matches_the_childs_name_and_is_not_linked_to_their_next(app, users,
                                                                                             front_door):
    erased = journey(users, days_ago=100).referral
    assert erased.child_key == child_key({"first_name": "Ada", "last_name": "Example", "date_of_birth": "2017-03-01"})
    assert erase(app, erased.reference, "--reason", "Sent about the wrong child").exit_code == 0
    db.session.expire_all()
    assert db.session.get(Referral, erased.id).child_key is None
    assert db.session.get(Referral, erased.id).re_referral is False

    again = journey(users, days_ago=1).referral  # the same name and date of birth, within 12 months
    db.session.expire_all()
    assert db.session.get(Referral, again.id).re_referral is False
    page = front_door.get(f"/front-door/items/{again.reference}")
    assert page.status_code == 200 and erased.reference not in page.text


def test_the_purge_erases_the_childs_key_with_their_details(app, users):
    old = journey(users, days_ago=2200).referral
    kept = journey(users, days_ago=10).referral
    key = old.child_key
    assert key is not None
    retention.purge(periods())
    db.session.expire_all()
    assert db.session.get(Referral, old.id).child_key is None
    assert db.session.get(Referral, kept.id).child_key == key


@pytest.mark.parametrize("who", [None, "nobody@example.org", "referrer@example.org", "disabled"])
def test_an_erasure_names_an_active_administrator_or_erases_nothing(app, users, who):
    reference = journey(users, days_ago=100).referral.reference
    if who == "disabled":  # another administrator stays: the last one cannot be disabled
        store.create_user("other.admin@example.org", "Other", "admin", "a long enough password", actor="test")
        store.update_user(users["admin"], active=False, actor="test")
        who = users["admin"].email
    args = ["retention", "erase", reference, "--reason", "SAR-2026-17"] + (["--as", who] if who else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == (2 if who is None else 1), result.output
    db.session.expire_all()
    assert db.session.scalar(select(Referral)).details["first_name"] == "Ada"
    assert not db.session.scalar(select(AuditEvent).where(AuditEvent.action == "referrals_erased"))


def test_erase_an_unknown_reference_fails(app, users):
    result = erase(app, "NM-1999-00001", "--reason", "x")
    assert result.exit_code == 1 and "No referral NM-1999-00001." in result.output  # never lowercased


def test_a_reference_typed_in_lower_case_finds_its_referral(app, users):
    reference = journey(users, days_ago=100).referral.reference
    result = erase(app, f" {reference.lower()}", "--reason", "SAR-2026-17")
    assert result.exit_code == 0 and f"Erased 1 referral(s): {reference}" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Referral)).erased_at is not None


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_erasure_without_a_reason_erases_nothing(app, users, reason):
    reference = journey(users, days_ago=100).referral.reference
    result = erase(app, reference, "--reason", reason)
    assert result.exit_code == 1 and "--reason must say why" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Referral)).details["first_name"] == "Ada"
    assert not db.session.scalar(select(AuditEvent).where(AuditEvent.action == "referrals_erased"))


def test_same_child_from_an_already_erased_referral_says_the_others_cannot_be_found(app, users):
    first = journey(users, days_ago=300).referral.reference
    again = journey(users, days_ago=100).referral.reference  # the same child referred again
    assert erase(app, first, "--reason", "Sent about the wrong child").exit_code == 0
    result = erase(app, first, "--same-child", "--reason", "SAR-2026-17")
    assert result.exit_code == 0 and f"{first} was already erased." in result.output
    assert "other referrals cannot be found from it" in result.output
    db.session.expire_all()
    assert {r.reference: r.details for r in db.session.scalars(select(Referral))}[again]["first_name"] == "Ada"


def test_purge_command_dry_run_says_what_it_would_do(app, users):
    journey(users, days_ago=2200)
    result = app.test_cli_runner().invoke(args=["retention", "purge", "--dry-run"])
    assert result.exit_code == 0 and "Dry run: nothing is changed." in result.output
    assert "Would erase the identifying details of 1 referral(s) older than 2190 days" in result.output
    assert "Would delete 1 draft(s) not changed for more than 30 days" in result.output
    assert count(Referral) == 1 and db.session.scalar(select(Referral)).erased_at is None
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert result.exit_code == 0 and "Dry run" not in result.output
    assert "Erased the identifying details of 1 referral(s) older than 2190 days" in result.output
    assert "Deleted 0 audit event(s) older than 2190 days" in result.output


@pytest.fixture
def app_settings():
    return {}
