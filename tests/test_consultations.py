"""Requests for advice (consultations) through the real pages: the record is the truth.

A request for advice records the revision of the recommendation the referrer was shown, never
one recorded later or one made for answers that have changed since; and a referral counts as
following a request for advice only when it continues from that request, never because the same
professional referred some other child.
"""
from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import func, select

from conftest import csrf_token, sign_in_as
from signpost import journey, metrics, store
from signpost.extensions import db
from signpost.models import Assessment, AuditEvent, Draft, Referral
from signpost.store import frontdoor as fd_store
from signpost.store import retention

from test_journey_web import (Walker, go_idle, level_items, referral_details, sign_in_again,  # noqa: F401  (walker: the fixture)
                             version as journey_version, walker)
from signpost.values import uk_today

ADVICE = "/front-door/ask-for-advice"
FAMILY = {"working_well": "Comes to school every day", "tried": "Breakfast club", "tried_by": "School",
          "aware": "yes"}


def advice_button(walker) -> dict:
    """The hidden fields the recommendation page's "ask for advice" button posts."""
    html = walker.client.get("/refer/recommendation").text
    form = re.search(r'<form method="post" action="/front-door/ask-for-advice".*?</form>', html, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


def ask(walker, button: dict, question="(test) Is this a referral?"):
    return walker.client.post(ADVICE, data={**button, "step": "send", "question": question,
                                            "phone": "01632 960 701"})


def at_early_help(walker) -> None:
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.finish_questions()
    assert walker.recommendation()[0] == "early_help"


def refuse_consent(walker) -> None:
    """In another tab: the family now refuses consent (the engine reads it: early help becomes universal)."""
    walker.answer("/refer/family", {**FAMILY, "consent": "refused", "reason": "They do not want help"},
                  "/refer/check")


def items() -> int:
    return db.session.scalar(select(func.count()).select_from(Referral))


# ---------------------------------------------------------------------------------------------- the revision

def test_a_request_for_advice_records_the_revision_the_referrer_was_shown(walker):
    at_early_help(walker)
    button = advice_button(walker)
    shown = walker.client.post(ADVICE, data=button)
    assert shown.status_code == 200 and f'name="revision_id" value="{button["revision_id"]}"' in shown.text
    response = ask(walker, button)
    assert response.status_code == 302 and response.location.startswith("/refer/my-referrals/")
    item = db.session.scalar(select(Referral))
    assert item.kind == "consultation" and item.assessment_id == int(button["revision_id"])
    assert item.assessment.recommended_route == "early_help"
    assert item.details["answers"]["consent"]["consent"] == "given"


def test_asking_for_advice_about_a_concern_that_needs_a_call_today_says_phone_now(walker):
    """A request for advice is answered within one working day. For a concern that needs a phone call
    to the front door today (a disclosure, a suicide attempt...) the page that offers it, and the
    request once sent, say to phone now with the numbers, rather than leave the referrer waiting a day
    for a call back."""
    contacts = journey_version().document.contacts
    walker.concerns(["disclosure_of_abuse"], location=walker.to_concerns())
    walker.finish_questions(consent="not_asked")
    button = advice_button(walker)
    for page in (walker.client.post(ADVICE, data=button).text,
                 walker.client.get(ask(walker, button).location).text):
        assert 'id="phone-today-advice"' in page and "do not wait" in page
        assert contacts.front_door.phone in page and contacts.out_of_hours.phone in page


def test_asking_for_advice_about_a_written_referral_says_nothing_of_phoning_today(walker):
    at_early_help(walker)
    button = advice_button(walker)
    for page in (walker.client.post(ADVICE, data=button).text,
                 walker.client.get(ask(walker, button).location).text):
        assert 'id="phone-today-advice"' not in page


def test_a_request_for_advice_needs_a_uk_phone_number_and_keeps_the_question(walker):
    """The front door calls back: a number it cannot call is refused beside the field, as on the
    referral form, and what was typed is kept."""
    at_early_help(walker)
    button = advice_button(walker)
    response = walker.client.post(ADVICE, data={**button, "step": "send", "question": "(test) Is this early help?",
                                                "phone": "nope"})
    assert response.status_code == 400 and "Enter a UK phone number" in response.text
    assert "(test) Is this early help?" in response.text and items() == 0
    assert ask(walker, button).status_code == 302 and items() == 1


def test_a_recommendation_recorded_after_the_one_shown_is_never_asked_about(walker):
    at_early_help(walker)
    button = advice_button(walker)
    refuse_consent(walker)
    walker.answer("/refer/check", {}, "/refer/recommendation")  # revision 2: universal services
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Assessment)) == 2
    response = ask(walker, button)
    assert response.status_code == 302 and response.location == "/refer/check"
    assert items() == 0
    # Once the referrer has seen the new recommendation, they can ask about that one.
    fresh = advice_button(walker)
    assert fresh["revision_id"] != button["revision_id"]
    assert ask(walker, fresh).status_code == 302
    item = db.session.scalar(select(Referral))
    assert item.assessment_id == int(fresh["revision_id"]) and item.assessment.recommended_route == "universal"


def test_answers_changed_since_the_recommendation_go_back_to_check(walker):
    at_early_help(walker)
    button = advice_button(walker)
    refuse_consent(walker)  # not yet checked: no recommendation is recorded for these answers
    for step in ({}, {"step": "send", "question": "(test) ?", "phone": "01632 960 701"}):
        response = walker.client.post(ADVICE, data={**button, **step})
        assert response.status_code == 302 and response.location == "/refer/check"
    assert items() == 0


def test_a_revision_of_another_draft_or_none_is_never_asked_about(walker):
    at_early_help(walker)
    button = advice_button(walker)
    other = Walker(walker.client)
    at_early_help(other)
    other_button = advice_button(other)
    for revision_id in (other_button["revision_id"], "", "not a number"):
        response = ask(walker, {**button, "revision_id": revision_id})
        assert response.status_code == 302 and response.location == "/refer/check"
    assert items() == 0


def test_the_store_refuses_a_revision_that_is_not_the_drafts_latest(walker, users):
    at_early_help(walker)
    first = advice_button(walker)["revision_id"]
    refuse_consent(walker)
    walker.answer("/refer/check", {}, "/refer/recommendation")
    draft = db.session.get(Draft, walker.draft_id)
    older = db.session.get(Assessment, int(first))
    with pytest.raises(fd_store.RevisionNotCurrent):
        fd_store.request_consultation(draft, older, question="(test) ?", phone="01632 960 701", answers={},
                                      reference_prefix="NM", actor=users["referrer"])
    assert items() == 0 and db.session.get(Draft, walker.draft_id).submitted_at is None


# ---------------------------------------------------------------------------------------------- one item a draft

def test_a_request_that_loses_the_race_returns_the_item_the_winner_made(walker, users, monkeypatch):
    """Two requests both find no item, both write: the unique draft_id keeps one, the loser returns it."""
    at_early_help(walker)
    button = advice_button(walker)
    assert ask(walker, button).status_code == 302  # the winner
    winner = db.session.scalar(select(Referral))
    draft = db.session.get(Draft, walker.draft_id)
    draft.submitted_at = None  # as the loser read it, before the winner committed
    db.session.commit()
    real = store.item_made_from

    def loses_the_race(call) -> None:
        calls = []
        monkeypatch.setattr(store, "item_made_from",
                            lambda d: calls.append(d) or (None if len(calls) == 1 else real(d)))
        made, created = call()
        assert (made.id, created, len(calls)) == (winner.id, False, 2)

    revision = db.session.get(Assessment, int(button["revision_id"]))
    loses_the_race(lambda: fd_store.request_consultation(
        draft, revision, question="(test) again", phone="01632 960 702", answers={}, reference_prefix="NM",
        actor=users["referrer"]))
    loses_the_race(lambda: store.submit_referral(
        draft, {}, family_aware=None, consent=None, consent_reason=None, reference_prefix="NM",
        actor=users["referrer"]))
    assert items() == 1


# ---------------------------------------------------------------------------------------------- followed by a referral

def consultations_followed() -> tuple[int, int]:
    """The reports' "consultations followed by a referral within 30 days", over the last 30 days."""
    today = uk_today()
    o = metrics.overview(metrics.Period(today - dt.timedelta(days=30), today + dt.timedelta(days=1)),
                         metrics.Period(today - dt.timedelta(days=400), today - dt.timedelta(days=31)))
    return o.consultations_followed.k, o.consultations_followed.n


def advised_to_refer(walker, users, advised: bool = True) -> Referral:
    """A request for advice, sent through the pages, that the front door answered "make a referral" (or,
    not `advised`, "no referral needed")."""
    walker.concerns([level_items(3)[0]], location=walker.to_concerns())
    walker.finish_questions()
    assert ask(walker, advice_button(walker)).status_code == 302
    consultation = db.session.scalar(select(Referral))
    fd_store.record_decision(consultation, "advice_given", "(test) Please refer." if advised else "(test) Early help.",
                             supersedes=0, actor=users["front_door"], referral_advised=advised)
    return consultation


STILL_WORRIED = ("If you are still worried about the child, or something new happens, you can make a referral. "
                 "If a child is in immediate danger, call 999 now.")


def test_advice_that_no_referral_is_needed_says_a_referral_can_still_be_made(walker, users):
    """Anyone with concerns about a child can refer (Working Together to Safeguard Children 2023), and
    concerns change: after the advice that no referral is needed, the request for advice and My referrals
    say so, with 999 for a child in immediate danger, and start a new referral from its first question
    (is the child in immediate danger?), nothing carried over from the advice."""
    consultation = advised_to_refer(walker, users, advised=False)
    for path in (f"/refer/my-referrals/{consultation.reference}", "/refer/my-referrals"):
        page = walker.client.get(path).text
        assert "No referral needed" in page or "does not think a referral is needed" in page
        block = re.search(rf'data-still-worried="{consultation.reference}">.*?</form>', page, re.S)
        assert block, path
        assert STILL_WORRIED in " ".join(block.group(0).split()) and 'action="/refer/new"' in block.group(0)
        assert 'name="csrf_token"' in block.group(0)
        # The button's words with the reference for screen readers, as markup (not shown as "<span ...>").
        assert re.search(r'>\s*Start a new referral<span class="govuk-visually-hidden"> after the advice on '
                         rf'{consultation.reference}</span>\s*</button>', block.group(0)), block.group(0)
        assert 'id="refer-after-advice"' not in page  # no referral "from these answers": they may have changed
    started = walker.client.post("/refer/new", data={"csrf_token": walker.token})  # the button
    assert started.status_code == 302 and started.location == "/refer/danger"
    with walker.client.session_transaction() as session:
        walker.draft_id = session["draft_id"]
    assert walker.draft_id != consultation.draft_id
    fresh = walker.answers()
    assert fresh.in_danger is None and fresh.child is None and fresh.concerns is None
    db.session.expire_all()
    assert db.session.get(Referral, consultation.id).follow_up_draft_id is None  # not a referral from the advice


def test_advice_to_refer_or_advice_not_given_yet_has_no_still_worried_block(walker, users):
    at_early_help(walker)
    assert ask(walker, advice_button(walker)).status_code == 302
    waiting = db.session.scalar(select(Referral))
    for path in (f"/refer/my-referrals/{waiting.reference}", "/refer/my-referrals"):
        assert "data-still-worried" not in walker.client.get(path).text
    fd_store.record_decision(waiting, "advice_given", "(test) Please refer.", supersedes=0,
                             actor=users["front_door"], referral_advised=True)
    for path in (f"/refer/my-referrals/{waiting.reference}", "/refer/my-referrals"):
        page = walker.client.get(path).text
        assert "data-still-worried" not in page
        assert "Make a referral" in page or "advises you to make a referral" in page


def test_only_a_referral_made_from_the_advice_counts_as_following_it(walker, users):
    consultation = advised_to_refer(walker, users)

    # The same teacher refers another child, from a draft of its own: that does not follow the advice.
    other = Walker(walker.client)
    other.concerns([level_items(4)[0]], location=other.to_concerns())
    other.finish_questions()
    assert other.send(referral_details(first_name="Bea")) == "/refer/confirmation"
    assert db.session.scalar(select(Referral).where(Referral.kind == "referral")).consultation_id is None
    assert consultations_followed() == (0, 1)

    # From the advice: a draft with the answers asked about (the same one if asked twice while unfinished).
    page = walker.client.get(f"/refer/my-referrals/{consultation.reference}").text
    assert 'id="refer-after-advice"' in page
    # A request for advice chose no route: no blank "You chose", no "You followed the recommendation".
    assert "You chose" not in page and "You followed the recommendation" not in page
    start = f"/front-door/ask-for-advice/{consultation.reference}/refer"
    drafts = []
    for _ in range(2):
        response = walker.client.post(start, data={"csrf_token": walker.token})
        assert response.status_code == 302 and response.location == "/refer/check"
        with walker.client.session_transaction() as session:
            drafts.append(session["draft_id"])
    assert drafts[0] == drafts[1] != consultation.draft_id
    walker.draft_id = drafts[0]
    db.session.expire_all()
    assert walker.answers().dump() == consultation.details["answers"]
    walker.answer("/refer/check", {}, "/refer/recommendation")
    assert walker.send(referral_details()) == "/refer/confirmation"
    made = db.session.scalar(select(Referral).where(Referral.draft_id == walker.draft_id))
    assert made.kind == "referral" and made.consultation_id == consultation.id
    assert consultations_followed() == (1, 1)


def refer_from_the_advice(walker, consultation: Referral) -> Referral:
    """"Start a referral" from the advice, then send it: the referral that follows the request."""
    response = walker.client.post(f"/front-door/ask-for-advice/{consultation.reference}/refer",
                                  data={"csrf_token": walker.token})
    assert response.status_code == 302 and response.location == "/refer/check"
    with walker.client.session_transaction() as session:
        walker.draft_id = session["draft_id"]
    walker.answer("/refer/check", {}, "/refer/recommendation")
    assert walker.send(referral_details()) == "/refer/confirmation"
    return db.session.scalar(select(Referral).where(Referral.draft_id == walker.draft_id))


def test_the_advice_and_the_referral_sent_from_it_link_each_other_and_are_sent_once(walker, app, users):
    """Both ends show the link, to the referrer and to the front door; once the referral is sent, the
    advice offers no second one, and a "Start a referral" left open in another tab shows the one sent."""
    from conftest import _client_for
    consultation = advised_to_refer(walker, users)
    listing = walker.client.get("/refer/my-referrals").text
    assert "Make a referral" in listing and "Waiting for a decision" not in listing
    stale_tab = {"csrf_token": walker.token}  # the advice page, still open in a second tab
    made = refer_from_the_advice(walker, consultation)
    assert made.consultation_id == consultation.id
    # The audit trail has each step, with what the advice was and what the referral followed.
    trail = {e.action: e.detail for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))}
    assert trail["consultation_requested"]["reference"] == consultation.reference
    assert trail["decision_recorded"]["referral_advised"] is True
    assert trail["draft_started"]["follows"] == consultation.reference
    assert trail["referral_submitted"]["follows"] == consultation.reference
    drafts = db.session.scalar(select(func.count()).select_from(Draft))

    advice_page = walker.client.get(f"/refer/my-referrals/{consultation.reference}").text
    assert 'id="refer-after-advice"' not in advice_page
    assert re.search(rf'id="referral-from-advice">.*?href="/refer/my-referrals/{made.reference}"', advice_page, re.S)
    referral_page = walker.client.get(f"/refer/my-referrals/{made.reference}").text
    assert re.search(rf'id="follows-advice">.*?href="/refer/my-referrals/{consultation.reference}"', referral_page,
                     re.S)
    front_door = _client_for(app, users, "front_door")
    seen = front_door.get(f"/front-door/items/{consultation.reference}").text
    assert re.search(rf'id="referral-from-advice">.*?href="/front-door/items/{made.reference}"', seen, re.S)
    seen = front_door.get(f"/front-door/items/{made.reference}").text
    assert re.search(rf'id="follows-advice">.*?href="/front-door/items/{consultation.reference}"', seen, re.S)

    again = walker.client.post(f"/front-door/ask-for-advice/{consultation.reference}/refer", data=stale_tab)
    assert again.status_code == 302 and again.location == f"/refer/my-referrals/{made.reference}"
    assert db.session.scalar(select(func.count()).select_from(Draft)) == drafts
    assert db.session.scalar(select(func.count()).select_from(Referral).where(
        Referral.consultation_id == consultation.id)) == 1
    assert f"already sent {made.reference}" in walker.client.get(again.location).text


def test_a_request_for_early_help_sent_from_the_advice_does_not_stop_the_referral_it_advised(walker, users):
    """Told to refer, a referrer who sent a request for early help from the advice's draft keeps the button
    (and a stale tab its use): only a referral sent from the advice makes it the advice's one referral."""
    consultation = advised_to_refer(walker, users)
    sent = refer_from_the_advice(walker, consultation)
    sent.kind = "early_help_request"  # as if the draft had gone to the Family Help Hub instead
    db.session.commit()
    page = walker.client.get(f"/refer/my-referrals/{consultation.reference}").text
    assert 'id="refer-after-advice"' in page
    again = walker.client.post(f"/front-door/ask-for-advice/{consultation.reference}/refer",
                               data={"csrf_token": walker.token})
    assert again.status_code == 302 and again.location == "/refer/check"
    with walker.client.session_transaction() as session:
        assert session["draft_id"] != sent.draft_id


def test_a_request_for_advice_waiting_says_so_in_my_referrals(walker):
    at_early_help(walker)
    assert ask(walker, advice_button(walker)).status_code == 302
    listing = walker.client.get("/refer/my-referrals").text
    assert "Waiting for advice" in listing and "Waiting for a decision" not in listing
    assert "requests for advice" in listing


def erase(app, reference: str, *args: str):
    return app.test_cli_runner().invoke(args=["retention", "erase", reference, "--reason", "(test) SAR",
                                              "--as", "admin@example.org", *args])


def test_erasing_the_child_erases_the_request_for_advice_their_referral_followed(walker, app, users):
    consultation = advised_to_refer(walker, users)
    made = refer_from_the_advice(walker, consultation)
    again = Walker(walker.client)  # the same child referred again, from a journey of its own
    again.concerns([level_items(4)[0]], location=again.to_concerns())
    again.finish_questions()
    assert again.send(referral_details()) == "/refer/confirmation"
    other = db.session.scalar(select(Referral).where(Referral.draft_id == again.draft_id))
    by_outcome, followed = retention.counts_by_outcome(), consultations_followed()
    assert followed == (1, 1)
    drafts = (consultation.draft_id, consultation.follow_up_draft_id)
    assert all(drafts) and all(db.session.get(Draft, d) for d in drafts)

    result = erase(app, other.reference, "--same-child")
    assert result.exit_code == 0, result.output
    assert all(r in result.output for r in (consultation.reference, made.reference, other.reference))
    db.session.expire_all()
    asked = db.session.get(Referral, consultation.id)
    assert asked.details == {} and asked.erased_at is not None and asked.decisions[0].note == ""
    assert asked.decisions[0].referral_advised is True and asked.followed_up
    assert not any(db.session.get(Draft, d) for d in drafts) and asked.follow_up_draft_id is None
    assert retention.counts_by_outcome() == by_outcome and consultations_followed() == followed


def test_erasing_a_request_for_advice_erases_the_referral_made_from_it_and_its_unsent_draft(walker, app, users):
    consultation = advised_to_refer(walker, users)
    made = refer_from_the_advice(walker, consultation)
    assert erase(app, consultation.reference, "--same-child").exit_code == 0
    db.session.expire_all()
    assert db.session.get(Referral, made.id).details == {}

    # A request for advice erased while a referral from its advice is still being written: that draft goes too.
    second = Walker(walker.client)
    second.concerns([level_items(3)[0]], location=second.to_concerns())
    second.finish_questions()
    assert ask(second, advice_button(second)).status_code == 302
    asked = db.session.scalar(select(Referral).where(Referral.draft_id == second.draft_id))
    fd_store.record_decision(asked, "advice_given", "(test) Please refer.", supersedes=0,
                             actor=users["front_door"], referral_advised=True)
    started = walker.client.post(f"/front-door/ask-for-advice/{asked.reference}/refer",
                                 data={"csrf_token": walker.token})
    assert started.status_code == 302
    db.session.expire_all()
    follow_up = db.session.get(Referral, asked.id).follow_up_draft_id
    assert follow_up is not None
    assert erase(app, asked.reference).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Draft, follow_up) is None and db.session.get(Referral, asked.id).details == {}


@pytest.mark.parametrize("attempt", range(2))
def test_a_double_click_on_start_a_referral_from_the_advice_opens_one_draft(walker, app, users, attempt,
                                                                             monkeypatch):
    """Both requests read "no follow-up draft yet" before either writes: one draft is made, and both
    requests carry on with it."""
    from signpost.content import current_version_or_none
    consultation = advised_to_refer(walker, users)
    before = db.session.scalar(select(func.count()).select_from(Draft))
    both_read = threading.Barrier(2, timeout=30)
    original = fd_store.follow_up_draft
    waited = threading.local()

    def read_then_wait(item):
        found = original(item)
        if not getattr(waited, "once", False):  # each request's first read: wait for the other's
            waited.once = True
            both_read.wait()
        return found

    monkeypatch.setattr(fd_store, "follow_up_draft", read_then_wait)
    opened, failed = [], []

    def click():
        with app.app_context():
            from signpost.models import User
            try:
                item, user = db.session.get(Referral, consultation.id), db.session.get(User, users["referrer"].id)
                opened.append(fd_store.start_referral_after_advice(
                    item, current_version_or_none(), dict(item.details["answers"]), actor=user).id)
            except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
                failed.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failed and len(opened) == 2
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Draft)) == before + 1
    assert opened[0] == opened[1] == db.session.get(Referral, consultation.id).follow_up_draft_id
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "draft_started",
                                    AuditEvent.record_id == opened[0])) == 1


def test_someone_else_cannot_follow_up_a_request_for_advice(walker, app, users):
    walker.concerns([level_items(3)[0]], location=walker.to_concerns())
    walker.finish_questions()
    assert ask(walker, advice_button(walker)).status_code == 302
    consultation = db.session.scalar(select(Referral))
    colleague = store.create_user("colleague@example.org", "Colleague", "referrer", "a long enough password",
                                  actor="test")
    client = app.test_client()
    sign_in_as(client, colleague)
    token = csrf_token(client, "/refer/my-referrals")
    response = client.post(f"/front-door/ask-for-advice/{consultation.reference}/refer", data={"csrf_token": token})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Referral, consultation.id).follow_up_draft_id is None
    assert db.session.scalar(select(func.count()).select_from(Draft).where(Draft.user_id == colleague.id)) == 0


def test_advice_asked_about_a_recommendation_from_a_superseded_version_is_not_sent(walker):
    """The recommendation was shown just before a new version came in: the request for advice about it
    is not sent; the referrer checks their answers under the version in force first."""
    from test_journey_web import _on_older_version
    at_early_help(walker)
    button = advice_button(walker)
    v, older = _on_older_version(walker)
    draft = db.session.get(Draft, walker.draft_id)
    draft.assessment.answers_key = journey.answers_key(older, walker.answers())
    db.session.commit()
    response = ask(walker, button)
    assert response.status_code == 302 and response.location == "/refer/check"
    assert items() == 0
    walker.client.get("/refer/check")  # where the referrer is sent: the draft moves as it is shown
    assert db.session.get(Draft, walker.draft_id).threshold_id == v.id


def test_a_request_for_advice_sent_after_the_idle_timeout_comes_back_after_sign_in(app, users, walker):
    """"Nothing you saved is lost", said the sign-in page, but the question typed for the front door was:
    its page could not be shown again, and Sign in went to My referrals."""
    at_early_help(walker)
    button = advice_button(walker)
    go_idle(walker.client)
    sent = ask(walker, button, question="(test) Mum has asked us not to tell anyone")
    assert sent.status_code == 302 and sent.location.startswith("/sign-in")
    assert items() == 0
    assert sign_in_again(walker.client, users["referrer"]) == ADVICE
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    head = walker.client.head(ADVICE)  # a link checker, a prefetch: neither uses up the kept form
    assert head.status_code == 302 and head.location.endswith("/refer/my-referrals")
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events  # and is not a "no such draft"
    page = walker.client.get(ADVICE)
    assert page.status_code == 200 and "Mum has asked us not to tell anyone" in page.text
    assert "We kept what you entered" in page.text
    walker.token = csrf_token(walker.client, "/")
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    assert ask(walker, form, question="(test) Mum has asked us not to tell anyone").status_code == 302
    assert items() == 1
    assert walker.client.get(ADVICE).location.endswith("/refer/my-referrals")  # shown once, then as before
