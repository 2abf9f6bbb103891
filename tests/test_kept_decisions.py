"""A front door decision sent after the worker's session went idle, path by path: kept server-side for
that worker and that item (its own fields only, size-capped, audited), shown once after signing in
again with a notice that it is not recorded, never recorded by itself; a decision recorded meanwhile is
shown as a conflict; the retention purge and an erasure remove it.
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from sqlalchemy import func, select

from conftest import csrf_token, sign_in_as
from signpost import store, workdays
from signpost.extensions import db
from signpost.models import AuditEvent, Decision, KeptDecision, utcnow
from signpost.store import frontdoor as fd_store
from signpost.store import retention
from signpost.web.hygiene import KEPT_FORM_LIMIT
from test_frontdoor import make_item
from test_journey_web import PASSWORD, go_idle, sign_in_again
from test_retention import periods

NOTE = "(test) Spoke to the school nurse; the family hub will offer a visit this week."
NOTICE = "Your unsent decision was kept. It has not been recorded yet."


def item_path(item) -> str:
    return f"/front-door/items/{item.reference}"


def decision_form(item, note=NOTE, supersedes=0, **extra) -> dict:
    now = workdays.uk_local(utcnow())
    return {"outcome": "nfa_advice", "note": note, "supersedes": supersedes, "decided_day": now.day,
            "decided_month": now.month, "decided_year": now.year, "decided_time": now.strftime("%H:%M"), **extra}


def send_after_idle(client, item, **form):
    """Open the item, go idle while writing, then send the decision: where the browser is sent."""
    token = csrf_token(client, item_path(item))
    go_idle(client)
    return client.post(f"{item_path(item)}/decide", data={"csrf_token": token, **decision_form(item, **form)})


def kept_rows() -> list[KeptDecision]:
    return list(db.session.scalars(select(KeptDecision).order_by(KeptDecision.id)))


def decisions() -> int:
    return db.session.scalar(select(func.count()).select_from(Decision))


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def second_worker():
    return store.create_user("kit.ellison@example.org", "Kit Ellison", "front_door", PASSWORD, actor="test")


def test_a_decision_sent_after_the_idle_timeout_is_kept_and_shown_once_after_sign_in(app, users, front_door,
                                                                                      caplog):
    item = make_item(users["referrer"])
    caplog.set_level(logging.DEBUG)
    sent = send_after_idle(front_door, item)
    assert sent.status_code == 302 and sent.location.startswith("/sign-in")
    assert NOTE not in sent.headers.get("Set-Cookie", "") and NOTE not in sent.location
    assert decisions() == 0
    [kept] = kept_rows()
    assert (kept.referral_id, kept.user_id, kept.form["note"]) == (item.id, users["front_door"].id, [NOTE])
    [event] = audit("decision_form_kept")
    assert (event.record_type, event.record_id, event.user_id) == ("referrals", str(item.id), users["front_door"].id)
    assert NOTE not in str(event.detail)

    assert sign_in_again(front_door, users["front_door"]) == item_path(item)  # the item, not the start page
    page = front_door.get(item_path(item))
    assert page.status_code == 200 and NOTICE in page.text and NOTE in page.text
    assert 'value="nfa_advice" checked' in page.text
    assert decisions() == 0  # shown, never recorded by itself
    assert kept_rows() == [] and len(audit("decision_form_restored")) == 1
    assert NOTE not in caplog.text

    again = front_door.get(item_path(item))  # once
    assert NOTICE not in again.text and NOTE not in again.text

    # Sent from the page it was shown on, it is recorded as any decision is.
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    supersedes = re.search(r'name="supersedes" value="(\d+)"', page.text).group(1)
    assert front_door.post(f"{item_path(item)}/decide", data={"csrf_token": token, **decision_form(
        item, supersedes=supersedes)}).status_code == 302
    assert db.session.scalar(select(Decision.note)) == NOTE


def test_a_head_request_does_not_use_up_the_kept_decision(app, users, front_door):
    item = make_item(users["referrer"])
    send_after_idle(front_door, item)
    sign_in_again(front_door, users["front_door"])
    assert front_door.head(item_path(item)).status_code == 200
    assert len(kept_rows()) == 1
    assert NOTICE in front_door.get(item_path(item)).text


def test_only_the_decision_forms_own_fields_are_kept(app, users, front_door):
    item = make_item(users["referrer"])
    send_after_idle(front_door, item, first_name="(test) Ada", referral_advised="yes", draft_id="x" * 40)
    [kept] = kept_rows()
    assert set(kept.form) <= {"outcome", "referral_advised", "note", "decided_day", "decided_month", "decided_year",
                              "decided_time", "supersedes"}
    assert "first_name" not in kept.form and "draft_id" not in kept.form and "csrf_token" not in kept.form


def test_a_form_over_the_size_cap_is_not_kept_and_the_worker_is_still_signed_out(app, users, front_door):
    item = make_item(users["referrer"])
    sent = send_after_idle(front_door, item, note="x" * (KEPT_FORM_LIMIT + 1))
    assert sent.status_code == 302 and sent.location.startswith("/sign-in")
    assert kept_rows() == [] and audit("decision_form_kept") == []
    assert len(audit("signed_out")) == 1


def test_a_form_without_a_valid_csrf_token_is_not_kept(app, users, front_door):
    item = make_item(users["referrer"])
    front_door.get(item_path(item))
    go_idle(front_door)
    front_door.post(f"{item_path(item)}/decide", data={"csrf_token": "forged", **decision_form(item)})
    assert kept_rows() == []


def test_another_worker_never_sees_it_and_it_waits_for_its_own(app, users, front_door):
    item = make_item(users["referrer"])
    send_after_idle(front_door, item)
    other = app.test_client()
    sign_in_as(other, second_worker())
    page = other.get(item_path(item))
    assert page.status_code == 200 and NOTE not in page.text and NOTICE not in page.text
    assert len(kept_rows()) == 1
    sign_in_again(front_door, users["front_door"])
    assert NOTE in front_door.get(item_path(item)).text


def test_a_referrer_posting_to_decide_after_the_idle_timeout_keeps_nothing(app, users, referrer):
    item = make_item(users["referrer"])
    token = csrf_token(referrer, "/refer/my-referrals")
    go_idle(referrer)
    referrer.post(f"{item_path(item)}/decide", data={"csrf_token": token, **decision_form(item)})
    assert kept_rows() == []


def test_a_decision_recorded_meanwhile_is_shown_not_silently_superseded(app, users, front_door):
    item = make_item(users["referrer"])
    send_after_idle(front_door, item)
    kit = second_worker()
    fd_store.record_decision(item, "early_help", "(test) Passed to the family support team.", supersedes=0, actor=kit)
    sign_in_again(front_door, users["front_door"])
    page = front_door.get(item_path(item))
    assert page.status_code == 200 and NOTICE in page.text and NOTE in page.text
    assert "Someone else recorded a decision first" in page.text and "Kit Ellison" in page.text
    # Sent again, knowingly, it supersedes theirs: the form now names their decision.
    assert 'name="supersedes" value="1"' in page.text
    assert decisions() == 1


def test_unchanged_since_there_is_no_conflict(app, users, front_door):
    item = make_item(users["referrer"])
    fd_store.record_decision(item, "nfa", "(test) First look.", supersedes=0, actor=users["front_door"])
    send_after_idle(front_door, item, supersedes=1)
    sign_in_again(front_door, users["front_door"])
    page = front_door.get(item_path(item))
    assert NOTICE in page.text and "recorded a decision first" not in page.text and "already recorded" not in page.text
    assert 'name="supersedes" value="1"' in page.text


def test_recording_a_decision_some_other_way_discards_the_workers_kept_form(app, users, front_door):
    item = make_item(users["referrer"])
    send_after_idle(front_door, item)
    assert len(kept_rows()) == 1
    fd_store.record_decision(item, "nfa", "(test) Decided in another tab.", supersedes=0, actor=users["front_door"])
    assert kept_rows() == []


def test_the_retention_purge_deletes_kept_decisions_after_the_drafts_period(app, users, front_door):
    old, recent = make_item(users["referrer"]), make_item(users["referrer"])
    send_after_idle(front_door, old)
    sign_in_as(front_door, users["front_door"])
    send_after_idle(front_door, recent)
    stale = kept_rows()[0]
    stale.kept_at = utcnow() - dt.timedelta(days=31)
    db.session.commit()
    assert retention.purge(periods(), dry_run=True)["kept_decisions"] == 1
    assert len(kept_rows()) == 2
    assert retention.purge(periods())["kept_decisions"] == 1
    assert [k.referral_id for k in kept_rows()] == [recent.id]
    assert retention.Periods.from_config(app.config).kept_decisions.days == app.config["DRAFT_RETENTION_DAYS"]


def test_erasing_the_childs_referral_deletes_a_kept_decision(app, users, front_door):
    item = make_item(users["referrer"])
    send_after_idle(front_door, item)
    assert len(kept_rows()) == 1
    retention.erase_child(item.reference, same_child=False, reason="(test) DPO request", actor=users["admin"])
    assert kept_rows() == []


def test_the_purge_of_an_old_assessment_takes_its_items_kept_decision_with_it(app, users, front_door):
    item = make_item(users["referrer"], received=utcnow() - dt.timedelta(days=3000))
    send_after_idle(front_door, item)
    assert len(kept_rows()) == 1
    counts = retention.purge(periods(kept_decisions=9999))
    assert counts["assessments"] == 1 and kept_rows() == []


def test_advice_on_a_request_for_advice_is_kept_the_same_way(app, users, front_door):
    item = make_item(users["referrer"], kind="consultation")
    send_after_idle(front_door, item, outcome="advice_given", referral_advised="no")
    sign_in_again(front_door, users["front_door"])
    page = front_door.get(item_path(item))
    assert "Your unsent advice was kept. It has not been recorded yet." in page.text and NOTE in page.text
    assert 'value="no" checked' in page.text
    assert decisions() == 0
