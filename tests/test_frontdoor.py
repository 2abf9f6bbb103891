"""The front door, path by path: the queue, an item, allocation, decisions (with optimistic locking),
consultations, outside contacts and CSV import, the audit viewer, the export, and closing the loop.

Items are made straight in the database (the journey that makes them is tested in test_journey_web),
so these tests hold whatever shape the journey's pages take.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import threading
from html import unescape

import pytest
from sqlalchemy import func, select

from conftest import csrf_token, sign_in_as, submit
from signpost import contacts_csv, frontdoor_queue as fq, store, workdays
from signpost.content import current_library
from signpost.extensions import db
from signpost.models import (Assessment, AuditEvent, Decision, Draft, ExternalContact, OutboxMessage, Referral,
                             utcnow)
from signpost.settings import ROOT
from signpost.store import frontdoor as fd_store
from test_consultations import advice_button, at_early_help
from test_journey_web import Walker
from signpost.values import uk_today
from signpost.web.forms import uk_time

_numbers = itertools.count(1)
CHILD = {"first_name": "Ada", "last_name": "Fenwick", "date_of_birth": "2016-05-04", "address": "1 Demo Street",
         "postcode": "NM1 4AB", "parents": "(test) a parent", "referrer_phone": "01632 960 700",
         "answers": {"what_happened": "(test) Ada came to school hungry again.",
                     "voice": {"seen": "yes", "says": "(test) I am hungry", "wants": "(test) breakfast"},
                     "consent": {"aware": "yes", "consent": "given", "reason": ""},
                     "child": {"unborn": False, "years": 10, "months": 2}}}


def version():
    return current_library().in_force(uk_today())


def level_indicators(level: int, n: int = 1) -> list[str]:
    return [i.id for i in version().indicators.values() if i.level == level and not i.immediate][:n]


def make_item(user, *, kind="referral", urgency="standard", route="social_care", source="2A", consent="given",
              overridden=False, received=None, details=None, indicators=None, allocated_to=None) -> Referral:
    v = version()
    received = received or utcnow() - dt.timedelta(minutes=5)
    indicators = level_indicators(2, 2) if indicators is None else indicators
    assessment = Assessment(user_id=user.id, started_at=received, completed_at=received, source_code=source,
                            age_band="10 to 15", indicator_ids=indicators, consent=consent,
                            recommended_route=route, recommended_level=2, reason_ids=indicators[:1], urgency=urgency,
                            immediate=urgency == "emergency", route_taken="social_care", overridden=overridden,
                            override_reason="(test) I know the family" if overridden else None,
                            threshold_id=v.id, threshold_hash=v.content_hash)
    db.session.add(assessment)
    db.session.flush()
    item = Referral(reference=f"NM-T-{next(_numbers):05d}", kind=kind, assessment_id=assessment.id, user_id=user.id,
                    created_at=received, details=dict(CHILD if details is None else details), consent=consent,
                    allocated_to_id=allocated_to.id if allocated_to else None)
    db.session.add(item)
    db.session.commit()
    return item


def queue_refs(client, query="") -> list[str]:
    import re
    html = client.get(f"/front-door/{query}").text
    return re.findall(r'<tr class="govuk-table__row" data-reference="([^"]+)"', html)


def decide(client, item, outcome="nfa_advice", note="(test) Signposted to the family hub.", supersedes=0, **extra):
    now = workdays.uk_local(utcnow())
    return submit(client, f"/front-door/items/{item.reference}/decide",
                  {"outcome": outcome, "note": note, "supersedes": supersedes, "decided_day": now.day,
                   "decided_month": now.month, "decided_year": now.year, "decided_time": now.strftime("%H:%M"),
                   **extra}, form_page=f"/front-door/items/{item.reference}")


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# ---------------------------------------------------------------------------------------------- queue

def test_queue_is_most_urgent_first_then_oldest_and_leaves_out_decided(front_door, users):
    r = users["referrer"]
    now = utcnow()
    old_standard = make_item(r, urgency="standard", received=now - dt.timedelta(hours=3))
    new_standard = make_item(r, urgency="standard", received=now - dt.timedelta(hours=1))
    same_day = make_item(r, urgency="same_day", received=now - dt.timedelta(minutes=30))
    emergency = make_item(r, urgency="emergency", received=now - dt.timedelta(minutes=10))
    decided = make_item(r, urgency="emergency", received=now - dt.timedelta(hours=5))
    fd_store.record_decision(decided, "nfa", "done", supersedes=0, actor=users["front_door"])
    assert queue_refs(front_door) == [emergency.reference, same_day.reference, old_standard.reference,
                                      new_standard.reference]
    assert decided.reference in queue_refs(front_door, "?status=decided")
    assert len(queue_refs(front_door, "?status=all")) == 5


def test_overdue_count_uses_working_days(front_door, users):
    r = users["referrer"]
    now = utcnow()
    make_item(r, received=now - dt.timedelta(days=6))   # overdue whatever the weekends and bank holidays
    make_item(r, received=now - dt.timedelta(minutes=1))
    assert fq.overdue_count(now) == 1
    html = front_door.get("/front-door/").text
    assert "1 item is past the one-working-day target" in html
    assert "Overdue" in html


def test_times_are_shown_in_uk_time_as_staff_type_them(front_door, users):
    """Stored in UTC; shown as the UK clock shows them (BST in summer), like the decision form's time."""
    summer = make_item(users["referrer"], received=dt.datetime(2026, 6, 15, 10, 0))
    winter = make_item(users["referrer"], received=dt.datetime(2026, 1, 15, 10, 0))
    assert "Received 15 June 2026 at 11:00;" in front_door.get(f"/front-door/items/{summer.reference}").text
    assert "Received 15 January 2026 at 10:00;" in front_door.get(f"/front-door/items/{winter.reference}").text
    queue = front_door.get("/front-door/?status=all").text
    assert "Received 15 Jun 2026 11:00" in queue and "UTC" not in queue


def test_the_clock_gives_long_overdue_items_in_working_days(app):
    clock = app.jinja_env.get_template("frontdoor/_hours.html").module.clock

    def said(hours):
        import re
        return " ".join(re.sub(r"<[^>]+>", " ", str(clock(hours, None))).split())
    assert said(5.5) == "5 working hours left"
    assert said(-2.5) == "Overdue by 3 working hours"
    assert said(-24) == "Overdue by 1 working day"
    assert said(-30) == "Overdue by more than 1 working day"
    assert said(-5500) == "Overdue by more than 229 working days"
    assert said(None) == "Decided"


def test_the_item_shows_the_date_of_birth_in_words_and_why_only_with_a_reason(front_door, users):
    item = make_item(users["referrer"], details={**CHILD, "date_of_birth": "2016-02-29"})
    page = front_door.get(f"/front-door/items/{item.reference}").text
    assert "29 February 2016" in page and "2016-02-29" not in page
    why = re.compile(r'summary-list__key">\s*Why\s*<')
    assert not why.search(page)  # consent given, no reason: no "Why: Not given" beside it
    refused = make_item(users["referrer"], consent="refused", details={**CHILD, "answers": {
        **CHILD["answers"], "consent": {"aware": "yes", "consent": "refused", "reason": "(test) They want to wait"}}})
    page = front_door.get(f"/front-door/items/{refused.reference}").text
    assert why.search(page) and "(test) They want to wait" in page


def test_the_item_says_when_consent_was_a_young_persons_own_and_only_then(front_door, users):
    """A young person of 16 or 17 asked for their own agreement: the front door reads whose it was."""
    own = make_item(users["referrer"], details={**CHILD, "answers": {
        **CHILD["answers"], "consent": {"aware": "no", "consent": "given", "reason": "", "asked_of": "young_person"}}})
    page = " ".join(unescape(front_door.get(f"/front-door/items/{own.reference}").text).split())
    assert "Given (the young person's own, at 16 or 17)" in page
    family = make_item(users["referrer"])
    page = unescape(front_door.get(f"/front-door/items/{family.reference}").text)
    assert "the young person's own" not in page


def test_the_item_gives_the_reasons_the_referrer_was_shown(front_door, users):
    """The front door reads why Signpost recommended what it did in the words the referrer saw, as
    recorded with the revision: not rebuilt from ids, where a consent rule's id would give its early
    help wording ("keep supporting the child through universal services") on a referral."""
    from markupsafe import escape
    v = version()
    consent_rule = next(r for r in v.document.rules if getattr(r, "referral_reason", None))
    indicator = level_indicators(3)[0]
    shown = [{"kind": "immediate", "id": "in_immediate_danger", "text": "You told us the child is in immediate danger.",
              "level": 4},
             {"kind": "consent", "id": consent_rule.id, "text": consent_rule.referral_reason, "level": None}]
    item = make_item(users["referrer"], consent="refused", indicators=[indicator])
    item.assessment.shown = {"reasons": shown}
    item.assessment.reason_ids = ["in_immediate_danger", consent_rule.id]
    db.session.commit()
    page = front_door.get(f"/front-door/items/{item.reference}").text
    assert "You told us the child is in immediate danger." in page
    assert str(escape(consent_rule.referral_reason)) in page and str(escape(consent_rule.reason)) not in page
    assert "<strong>Consent:</strong>" in page
    # Recorded before the words were kept with it: described from its ids, with the referral's wording.
    older = make_item(users["referrer"], consent="refused", indicators=[indicator])
    older.assessment.reason_ids = [indicator, consent_rule.id]
    db.session.commit()
    page = front_door.get(f"/front-door/items/{older.reference}").text
    assert str(escape(consent_rule.referral_reason)) in page and str(escape(consent_rule.reason)) not in page
    assert str(escape(v.indicators[indicator].text)) in page


def test_an_immediate_danger_referral_says_the_family_was_not_asked(front_door, users):
    answers = {k: v for k, v in CHILD["answers"].items() if k != "consent"}
    item = make_item(users["referrer"], urgency="emergency", consent=None, details={**CHILD, "answers": answers})
    page = front_door.get(f"/front-door/items/{item.reference}").text
    assert page.count("Not asked: the referrer said the child was in immediate danger") == 2
    assert "telling the family would increase the risk" not in page


def test_queue_shows_source_override_consent_and_re_referrals(front_door, users):
    r = users["referrer"]
    now = utcnow()
    earlier = make_item(r, received=now - dt.timedelta(days=100))
    fd_store.record_decision(earlier, "nfa", "(test) nothing needed", supersedes=0, actor=users["front_door"])
    too_old = make_item(r, received=now - dt.timedelta(days=400))
    # The same child, typed differently: case, spaces and an accent do not hide a re-referral.
    latest = make_item(r, consent="refused", overridden=True, source="3B",
                       details={**CHILD, "first_name": " ADA ", "last_name": "Fénwick"})
    other_child = make_item(r, details={**CHILD, "first_name": "Bea"})
    page = fq.queue_page(fq.Filters(status="all"), users["front_door"].id)
    rows = {row.referral.reference: row for row in page.rows}
    assert [e.reference for e in rows[latest.reference].earlier] == [earlier.reference]
    assert too_old.reference not in [e.reference for e in rows[latest.reference].earlier]
    assert rows[other_child.reference].earlier == []
    html = front_door.get("/front-door/").text
    assert "Re-referral" in html and f'/front-door/items/{earlier.reference}' in html
    assert "Referrer overrode the recommendation" in html and "Consent refused" in html and "3B" in html


def test_queue_filters_and_paging(front_door, users):
    r, me = users["referrer"], users["front_door"]
    today = utcnow()
    consultation = make_item(r, kind="consultation", details={"question": "?", "referrer_phone": "1"})
    early = make_item(r, route="early_help", urgency="same_day", source="3C", allocated_to=me)
    yesterday = make_item(r, received=today - dt.timedelta(days=1, hours=1))
    assert queue_refs(front_door, "?kind=consultation") == [consultation.reference]
    assert queue_refs(front_door, "?route=early_help") == [early.reference]
    assert queue_refs(front_door, "?urgency=same_day") == [early.reference]
    assert queue_refs(front_door, "?source=3c") == [early.reference]
    assert queue_refs(front_door, "?allocated=me") == [early.reference]
    assert early.reference not in queue_refs(front_door, "?allocated=nobody")
    day = workdays.uk_local(today - dt.timedelta(days=1, hours=1)).date().isoformat()
    assert queue_refs(front_door, f"?from={day}&to={day}") == [yesterday.reference]
    html = front_door.get("/front-door/?urgency=nonsense&from=not-a-date").text
    assert "There is a problem" in html and len(queue_refs(front_door, "?urgency=nonsense&from=not-a-date")) == 3
    for _ in range(fq.PAGE_SIZE):
        make_item(r)
    first, second = queue_refs(front_door), queue_refs(front_door, "?page=2")
    assert len(first) == fq.PAGE_SIZE and len(second) == 3 and not set(first) & set(second)
    assert 'href="/front-door/?status=awaiting&amp;page=2"' in front_door.get("/front-door/").text


def test_queue_dates_received_are_uk_days_as_the_queue_shows_them(front_door, users):
    """Received at 00:30 on 2 June UK time (23:30 UTC on 1 June): the queue says 2 June, so a filter
    for 2 June finds it and one for 1 June does not."""
    item = make_item(users["referrer"], received=dt.datetime(2026, 6, 1, 23, 30))
    winter = make_item(users["referrer"], received=dt.datetime(2026, 1, 15, 23, 30))
    assert "Received 2 Jun 2026 00:30" in front_door.get("/front-door/?status=all").text
    assert queue_refs(front_door, "?status=all&from=2026-06-02&to=2026-06-02") == [item.reference]
    assert queue_refs(front_door, "?status=all&from=2026-06-01&to=2026-06-01") == []
    assert queue_refs(front_door, "?status=all&from=2026-01-15&to=2026-01-15") == [winter.reference]


def error_summary_links(html: str) -> list[tuple[str, str]]:
    """(href, words) for each error in the page's error summary, in order."""
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return [(href, unescape(text).strip()) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', summary)]


def test_a_queue_filter_typed_wrong_into_the_address_is_named_and_the_queue_shown_without_it(front_door, users):
    """A date or choice the queue cannot use: an error summary and a message beside the field each name
    the filter and say what a good value looks like, and the queue is shown as if it had not been given."""
    today = workdays.uk_local(utcnow()).date()
    old = make_item(users["referrer"], received=utcnow() - dt.timedelta(days=10))
    new = make_item(users["referrer"], urgency="same_day")
    response = front_door.get("/front-door/?from=2026-13-45")
    assert response.status_code == 200 and re.search(r"<title>\s*Error: Front door queue", response.text)
    [(href, words)] = error_summary_links(response.text)
    assert href == "#from" and words.startswith("Received from must be a real date, written as year-month-day, "
                                                "for example ")
    assert re.search(r"for example \d{4}-\d{2}-\d{2}", words)
    assert 'id="from-error"' in response.text and "The queue is shown without this filter." in response.text
    assert set(queue_refs(front_door, "?from=2026-13-45")) == {old.reference, new.reference}
    # Every filter, named in the form's order, whichever order the address gives them in.
    html = front_door.get("/front-door/?to=1066-10-14&urgency=nonsense&allocated=someone&source=ZZ").text
    assert error_summary_links(html) == [
        ("#urgency", "Urgency must be one of the options in the list"),
        ("#source", "Referral source must be one of the options in the list"),
        ("#to", "Received to must be a date in a year from 1900 to 2999"),
        ("#allocated", "Allocated to must be one of the options in the list")]
    assert "The queue is shown without these filters." in html
    # A range that ends before it starts keeps its start.
    since = (today - dt.timedelta(days=2)).isoformat()
    query = f"?from={since}&to={(today - dt.timedelta(days=3)).isoformat()}"
    assert error_summary_links(front_door.get(f"/front-door/{query}").text) == [
        ("#to", "Received to must be the same as or after received from")]
    assert queue_refs(front_door, query) == [new.reference]
    # Filters it can read are no error.
    good = front_door.get(f"/front-door/?from={since}&urgency=same_day&source=2a").text
    assert not re.search(r"<title>\s*Error:", good) and "govuk-form-group--error" not in good
    assert 'class="govuk-error-summary"' not in good


def test_a_bad_filter_is_never_written_back_into_the_page_unescaped(front_door, users):
    item = make_item(users["referrer"])
    attack = "<script>alert(1)</script>"
    for name in ("from", "to", "status", "kind", "source", "allocated", "page"):
        response = front_door.get("/front-door/", query_string={name: attack})
        assert response.status_code == 200, name
        assert attack not in response.text and "<script>alert" not in response.text, name
        assert item.reference in response.text, name
        page = front_door.get(f"/front-door/items/{item.reference}", query_string={name: attack, "kind": "referral"})
        assert page.status_code == 200 and "<script>alert" not in page.text, name
        assert back_link(page.text) == "/front-door/?kind=referral", name
    raw = front_door.get(f'/front-door/?from=2026-01-01"><script>alert(1)</script>').text
    assert "<script>alert" not in raw and "&lt;script&gt;alert(1)" in raw  # only in the escaped sign-in-again link


def back_link(html: str) -> str:
    return unescape(re.search(r'<a href="([^"]+)" class="govuk-back-link', html).group(1))


def form_action(html: str, ending: str) -> str:
    return unescape(re.search(rf'<form method="post" action="([^"]*/{ending}(?:\?[^"]*)?)"', html).group(1))


def many_items(user, n: int) -> list[Referral]:
    """n referrals received a minute apart, oldest first: the awaiting queue's order."""
    start = utcnow() - dt.timedelta(hours=1)
    return [make_item(user, received=start + dt.timedelta(minutes=i)) for i in range(n)]


FILTERED = "?kind=referral&urgency=standard&page=2"


def test_an_item_opened_from_a_filtered_page_goes_back_to_that_page(front_door, users):
    """Filters and page travel with the item (its own links too), and its back link is that page again."""
    items = many_items(users["referrer"], fq.PAGE_SIZE + 2)
    make_item(users["referrer"], kind="consultation", details={"question": "?", "referrer_phone": "1"})
    queue = front_door.get(f"/front-door/{FILTERED}").text
    assert queue_refs(front_door, FILTERED) == [i.reference for i in items[fq.PAGE_SIZE:]]
    opened = items[fq.PAGE_SIZE]
    link = f"/front-door/items/{opened.reference}{FILTERED}"
    assert f'href="{link.replace("&", "&amp;")}"' in queue
    page = front_door.get(link).text
    assert back_link(page) == f"/front-door/{FILTERED}" and ">Back to the queue<" in page
    assert queue_refs(front_door, back_link(page).removeprefix("/front-door/")) == queue_refs(front_door, FILTERED)
    for action in ("decide", "take"):
        assert form_action(page, action) == f"/front-door/items/{opened.reference}/{action}{FILTERED}"
    # The unfiltered first page opens items at their plain address, and comes back to itself.
    assert f'href="/front-door/items/{items[0].reference}"' in front_door.get("/front-door/").text
    assert back_link(front_door.get(f"/front-door/items/{items[0].reference}").text) == "/front-door/"


def test_deciding_taking_or_allocating_an_item_keeps_the_way_back_to_the_filtered_page(front_door, users):
    """Each action returns to the item (its result shown there), whose back link is still the page it
    was opened from; a decision sent back with its errors keeps the filters in its form too."""
    items = many_items(users["referrer"], fq.PAGE_SIZE + 2)
    opened = items[fq.PAGE_SIZE]
    page = f"/front-door/items/{opened.reference}{FILTERED}"
    action = form_action(front_door.get(page).text, "decide")
    refused = decide_at(front_door, action, page, note="")
    assert refused.status_code == 400 and back_link(refused.text) == f"/front-door/{FILTERED}"
    assert form_action(refused.text, "decide") == action
    assert f'data-again-url="{page.replace("&", "&amp;")}"' in refused.text  # sign in again: this page
    response = decide_at(front_door, action, page)
    assert response.status_code == 302 and response.location == page
    decided = front_door.get(response.location).text
    assert "Decision recorded for" in decided and back_link(decided) == f"/front-door/{FILTERED}"
    taken = submit(front_door, form_action(decided, "take"), {}, form_page=page)
    assert taken.status_code == 302 and taken.location == page
    db.session.refresh(opened)
    assert opened.allocated_to_id == users["front_door"].id
    users["front_door"].manager = True
    db.session.commit()
    allocate = form_action(front_door.get(page).text, "allocate")
    allocated = submit(front_door, allocate, {"worker": ""}, form_page=page)
    assert allocated.status_code == 302 and allocated.location == page


def decide_at(client, action: str, page: str, note: str = "(test) Signposted to the family hub."):
    now = workdays.uk_local(utcnow())
    return submit(client, action, {"outcome": "nfa_advice", "note": note, "supersedes": 0, "decided_day": now.day,
                                   "decided_month": now.month, "decided_year": now.year,
                                   "decided_time": now.strftime("%H:%M")}, form_page=page)


@pytest.mark.parametrize("query", ["?next=https://evil.example/", "?status=//evil.example&page=2",
                                   "?kind=https://evil.example&next=//evil.example&return_to=/x",
                                   "?page=https:%2F%2Fevil.example", "?from=2026-13-45&page=2"])
def test_the_way_back_is_rebuilt_from_the_queues_own_filters_never_an_address_from_the_request(front_door, users,
                                                                                              query):
    item = make_item(users["referrer"])
    kept = "/front-door/?page=2" if "page=2" in query else "/front-door/"
    page = front_door.get(f"/front-door/items/{item.reference}{query}")
    assert page.status_code == 200 and back_link(page.text) == kept
    assert "evil" not in form_action(page.text, "decide")
    response = decide_at(front_door, f"/front-door/items/{item.reference}/decide{query}",
                         f"/front-door/items/{item.reference}")
    assert response.status_code == 302
    assert response.location == f"/front-door/items/{item.reference}" + kept.removeprefix("/front-door/")
    assert "evil" not in response.location


def test_a_page_emptied_by_decisions_says_so_and_links_to_the_first_page_with_the_filters(front_door, users):
    make_item(users["referrer"])
    html = front_door.get("/front-door/?kind=referral&page=3").text
    assert "There is nothing on page 3 now." in html
    assert 'href="/front-door/?status=awaiting&amp;kind=referral">Go to the first page' in html


def test_reading_the_queue_is_audited(front_door, users):
    item = make_item(users["referrer"])
    front_door.get("/front-door/")
    viewed = events("queue_viewed")
    assert viewed and item.reference in viewed[-1].detail["references"]


# ---------------------------------------------------------------------------------------------- an item

def test_item_page_reads_in_a_social_workers_order_and_every_view_is_audited(front_door, users):
    earlier = make_item(users["referrer"], received=utcnow() - dt.timedelta(days=30))
    item = make_item(users["referrer"], urgency="same_day")
    html = front_door.get(f"/front-door/items/{item.reference}").text
    headings = ["Urgency", "What has happened, in the referrer", "The child's voice", "Consent",
                "Signpost's recommendation", "The concerns", "Identifying details", "Previous referrals",
                "Decisions"]
    positions = [html.index(h) for h in headings]
    assert positions == sorted(positions)
    assert "Ada came to school hungry again" in html and "I am hungry" in html and "Fenwick" in html
    assert earlier.reference in html
    assert version().indicators[item.assessment.indicator_ids[0]].text in html
    front_door.get(f"/front-door/items/{item.reference}")
    viewed = [e for e in events("item_viewed") if e.record_id == str(item.id)]
    assert len(viewed) == 2 and viewed[0].actor == users["front_door"].email
    assert "Fenwick" not in str(viewed[0].detail) and "Ada" not in str(viewed[0].detail)


def test_an_erased_referral_says_so_and_is_never_shown_as_an_unborn_baby(front_door, referrer, users):
    """Erased (retention, or a referral about the wrong child), a referral has no name or date of birth
    left: the front door and the referrer are told its details were erased, not that the child is unborn."""
    from signpost.store import retention
    item = make_item(users["referrer"])
    retention.erase_child(item.reference, same_child=False, reason="(test) the wrong child", actor=users["admin"])
    for html in (front_door.get(f"/front-door/items/{item.reference}").text,
                 referrer.get("/refer/my-referrals").text,
                 referrer.get(f"/refer/my-referrals/{item.reference}").text):
        assert "Unborn baby" not in html and "Not born yet" not in html
        assert "erased" in html


def test_an_unknown_item_is_404_and_audited(front_door):
    assert front_door.get("/front-door/items/NM-2026-99999").status_code == 404
    denied = events("access_denied")
    assert denied and denied[-1].record_id == "NM-2026-99999"


def test_a_referrer_opening_another_referrers_item_gets_404_audited(app, users, referrer):
    other = store.create_user("other.referrer@example.org", "Other", "referrer", "a long enough password",
                              actor="test")
    theirs = make_item(other)
    mine = make_item(users["referrer"])
    assert referrer.get(f"/refer/my-referrals/{mine.reference}").status_code == 200
    assert referrer.get(f"/refer/my-referrals/{theirs.reference}").status_code == 404
    denied = events("access_denied")[-1]
    assert (denied.record_type, denied.record_id) == ("referrals", str(theirs.id))
    assert denied.detail["status"] == 404
    assert denied.actor == users["referrer"].email


def test_a_referrer_opening_another_referrers_summary_gets_404_audited(app, users, referrer):
    other = store.create_user("other.referrer@example.org", "Other", "referrer", "a long enough password",
                              actor="test")
    theirs = make_item(other).assessment_id
    mine = make_item(users["referrer"]).assessment_id
    assert referrer.get(f"/refer/my-referrals/summary/{mine}").status_code == 200
    assert referrer.get(f"/refer/my-referrals/summary/{theirs}").status_code == 404
    denied = events("access_denied")[-1]
    assert (denied.record_type, denied.record_id) == ("assessments", str(theirs))
    assert denied.detail["status"] == 404 and denied.actor == users["referrer"].email


@pytest.mark.parametrize("path", ["/refer/my-referrals/NM-2026-99999", "/refer/my-referrals/summary/99999"])
def test_a_referrer_asking_for_a_referral_that_is_not_there_gets_404_audited(referrer, users, path):
    """As for the front door: a missing record leaves the same trace as someone else's, so guessing
    references shows in the audit trail whether or not they exist."""
    assert referrer.get(path).status_code == 404
    denied = events("access_denied")
    assert denied and denied[-1].record_id == path.rsplit("/", 1)[1]
    assert denied[-1].actor == users["referrer"].email and denied[-1].detail["status"] == 404


# ---------------------------------------------------------------------------------------------- allocation

def test_a_worker_takes_an_item_and_the_queue_shows_who_has_it(front_door, users):
    item = make_item(users["referrer"])
    response = submit(front_door, f"/front-door/items/{item.reference}/take", {},
                      form_page=f"/front-door/items/{item.reference}")
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.allocated_to_id == users["front_door"].id and item.allocated_at is not None
    assert users["front_door"].name in front_door.get("/front-door/").text
    assert events("item_allocated")[-1].detail["to_user_id"] == users["front_door"].id


def test_two_workers_taking_one_item_are_not_both_told_it_is_theirs(front_door, users):
    """Both opened the item while nobody had it; the colleague took it first. The second 'Take this
    item' changes nothing and says who has it, rather than quietly taking it from them."""
    item = make_item(users["referrer"])
    colleague = store.create_user("colleague@example.org", "Colleague Two", "front_door", "a long enough password",
                                  actor="test")
    page = f"/front-door/items/{item.reference}"
    token = csrf_token(front_door, page)  # the page as it was: nobody had the item
    fd_store.allocate(item, colleague, actor=colleague)
    response = front_door.post(f"{page}/take", data={"csrf_token": token, "allocated_to": ""})
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.allocated_to_id == colleague.id
    html = front_door.get(response.location).text
    assert "Colleague Two took this item" in html and "is now yours" not in html
    assert len(events("item_allocated")) == 1
    # Seen as theirs, taking it is a choice: it is then the worker's.
    response = front_door.post(f"{page}/take", data={"csrf_token": csrf_token(front_door, page),
                                                     "allocated_to": str(colleague.id)})
    db.session.refresh(item)
    assert item.allocated_to_id == users["front_door"].id


def test_only_a_manager_allocates_to_someone_else(app, front_door, users, admin):
    colleague = store.create_user("colleague@example.org", "Colleague Two", "front_door", "a long enough password",
                                  actor="test")
    item = make_item(users["referrer"])
    path = f"/front-door/items/{item.reference}/allocate"
    page = f"/front-door/items/{item.reference}"
    assert submit(front_door, path, {"worker": colleague.id}, form_page=page).status_code == 403
    # An administrator makes the worker a manager (audited), then the allocation works.
    assert submit(admin, f"/front-door/team/{users['front_door'].id}", {"manager": "yes"},
                  form_page="/front-door/team").status_code == 302
    db.session.refresh(users["front_door"])
    assert users["front_door"].manager
    assert events("user_changed")[-1].detail["changes"] == {"manager": [False, True]}
    sign_in_as(front_door, users["front_door"])
    assert submit(front_door, path, {"worker": colleague.id}, form_page=page).status_code == 302
    db.session.refresh(item)
    assert item.allocated_to_id == colleague.id


# ---------------------------------------------------------------------------------------------- decisions

def test_recording_a_decision_then_superseding_it_keeps_both(front_door, users):
    item = make_item(users["referrer"])
    response = decide(front_door, item, "nfa_advice", "(test) Signposted to the family hub.")
    assert response.status_code == 302
    response = decide(front_door, item, "early_help", "(test) On reflection, early help.", supersedes=1)
    assert response.status_code == 302
    decisions = fq.decision_history(item.id)
    assert [(d.sequence, d.outcome) for d in decisions] == [(1, "nfa_advice"), (2, "early_help")]
    db.session.refresh(item)
    assert item.latest_outcome == "early_help"
    assert [e.action for e in events("decision_recorded") + events("decision_superseded")] == [
        "decision_recorded", "decision_superseded"]
    html = front_door.get(f"/front-door/items/{item.reference}").text
    assert "(superseded)" in html and "On reflection, early help" in html


def a_colleague_decides_first(item) -> None:
    """Colleague Two, of the front door team, records a strategy discussion before the worker sends theirs."""
    colleague = store.create_user("colleague@example.org", "Colleague Two", "front_door", "a long enough password",
                                  actor="test")
    fd_store.record_decision(item, "strategy_s47", "(test) Strategy discussion today.", supersedes=0,
                             actor=colleague)


def test_a_stale_decision_is_refused_and_shows_the_winner(front_door, users):
    item = make_item(users["referrer"])
    a_colleague_decides_first(item)
    response = decide(front_door, item, "nfa", "(test) Nothing to do.", supersedes=0)
    assert response.status_code == 409
    assert "Someone else recorded a decision first" in response.text and "Colleague Two" in response.text
    assert "Strategy discussion today" in response.text
    assert [d.outcome for d in fq.decision_history(item.id)] == ["strategy_s47"]
    assert 'name="supersedes" value="1"' in response.text  # sending again now supersedes theirs, knowingly
    # The conflict is shown as an error summary: the title says so first, as on every page sent back.
    assert re.search(r"<title>\s*Error: " + item.reference, response.text)


def test_two_workers_advising_at_once_the_second_is_told_what_the_first_advised(front_door, users):
    """On a request for advice the two answers differ most in whether a referral should follow: the worker
    whose advice was not saved is told which the colleague's was, and that it was advice, not a decision."""
    item = make_item(users["referrer"], kind="consultation", details={"question": "(test) ?", "referrer_phone": "1"})
    colleague = store.create_user("colleague@example.org", "Colleague Two", "front_door", "a long enough password",
                                  actor="test")
    fd_store.record_decision(item, "advice_given", "(test) Refer today.", supersedes=0, actor=colleague,
                             referral_advised=True)
    response = decide(front_door, item, "advice_given", "(test) No need.", supersedes=0, referral_advised="no")
    assert response.status_code == 409 and "Someone else recorded advice first" in response.text
    winner = re.search(r'id="conflict-winner">(.*?)</p>', response.text, re.S).group(1)
    assert "Colleague Two" in winner and "a referral should follow" in winner
    assert "The advice you sent was not saved" in winner
    assert [d.referral_advised for d in fq.decision_history(item.id)] == [True]


def test_a_conflict_says_when_the_winning_decision_was_made_in_plain_words(front_door, users):
    """"recorded ... on <day> at <time>" (the time the colleague gave as decided), never "at <day> at <time>"."""
    item = make_item(users["referrer"])
    a_colleague_decides_first(item)
    response = decide(front_door, item, "nfa", "(test) Nothing to do.", supersedes=0)
    winner = fq.decision_history(item.id)[-1]
    said = " ".join(re.sub(r"<[^>]+>", " ", response.text).split())
    assert (f"Colleague Two recorded Strategy discussion or section 47 enquiry , while you were deciding "
            f"(decided on {uk_time(winner.decided_at)}). The decision you sent was not saved.") in said


def test_a_double_submitted_decision_is_recorded_once_and_not_called_someone_elses(front_door, users):
    """The same worker sending the same decision twice (a double-click, a resend after a slow response)
    made it the first time: they are not told that someone else decided, nor that theirs was not saved."""
    item = make_item(users["referrer"])
    assert decide(front_door, item, "nfa_advice", "(test) Signposted to the family hub.").status_code == 302
    again = decide(front_door, item, "nfa_advice", "(test) Signposted to the family hub.")
    assert again.status_code == 302
    assert "Someone else" not in front_door.get(again.location).text
    assert [d.outcome for d in fq.decision_history(item.id)] == ["nfa_advice"]
    assert len(events("decision_recorded")) == 1 and not events("decision_superseded")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_different_decision_from_another_tab_says_it_was_yours(front_door, users):
    item = make_item(users["referrer"])
    assert decide(front_door, item, "nfa", "(test) Nothing to do.").status_code == 302
    response = decide(front_door, item, "early_help", "(test) Early help after all.", supersedes=0)
    assert response.status_code == 409
    assert "You recorded" in response.text and "Someone else" not in response.text
    assert [d.outcome for d in fq.decision_history(item.id)] == ["nfa"]


def test_a_stale_decision_keeps_what_the_worker_wrote(front_door, users):
    """Told that a colleague decided first, the worker still has their own decision and note on the
    page, to send again knowingly (it then supersedes the colleague's) or to change."""
    item = make_item(users["referrer"])
    a_colleague_decides_first(item)
    response = decide(front_door, item, "early_help", "(test) My careful note about the family hub.", supersedes=0)
    assert response.status_code == 409
    form = response.text.split('id="decide"', 1)[1]
    assert "My careful note about the family hub" in form
    assert re.search(r'value="early_help"[^>]*checked', form)
    assert 'name="supersedes" value="1"' in form


@pytest.mark.parametrize("sent", ["an empty form", "after someone else's decision", "a decision the store refuses"])
def test_a_decision_sent_back_shows_the_childs_details_and_is_audited_like_a_view(front_door, users, sent,
                                                                                  monkeypatch):
    """The page sent back with the errors, or with the other decision, is the item page: reading it
    leaves the same trace as opening it."""
    item = make_item(users["referrer"])
    path = f"/front-door/items/{item.reference}"
    data = {"csrf_token": csrf_token(front_door, path)}
    if sent != "an empty form":
        now = workdays.uk_local(utcnow())
        data.update({"outcome": "nfa", "note": "(test) Nothing to do.", "supersedes": 0, "decided_day": now.day,
                     "decided_month": now.month, "decided_year": now.year, "decided_time": now.strftime("%H:%M")})
    if sent == "after someone else's decision":
        fd_store.record_decision(item, "strategy_s47", "(test) Strategy discussion today.", supersedes=0,
                                 actor=users["admin"])
    if sent == "a decision the store refuses":
        def refuse(*args, **kwargs):
            raise store.StoreError("(test) refused")
        monkeypatch.setattr(fd_store, "record_decision", refuse)
    before = [e.id for e in events("item_viewed")]
    response = front_door.post(f"{path}/decide", data=data)
    assert response.status_code == (409 if sent == "after someone else's decision" else 400)
    assert "Fenwick" in response.text and "Ada came to school hungry again" in response.text
    (viewed,) = [e for e in events("item_viewed") if e.id not in before]
    assert (viewed.record_id, viewed.actor) == (str(item.id), users["front_door"].email)
    assert viewed.detail["reference"] == item.reference


def test_the_timeout_warnings_sign_in_again_on_a_decision_sent_back_is_the_items_page(front_door, users):
    """The decision's errors are the answer to a POST, at an address that takes only a POST: the timeout
    warning's Sign in again (static/timeout.js) goes to the item, where the form is, never "Page not found"."""
    item = make_item(users["referrer"])
    response = decide(front_door, item, "nfa", "")
    assert response.status_code == 400
    assert f'data-again-url="/front-door/items/{item.reference}"' in response.text
    page = front_door.get(f"/front-door/items/{item.reference}?x=1").text
    assert f'data-again-url="/front-door/items/{item.reference}?x=1"' in page


def test_a_decision_needs_a_note_and_a_real_time(front_door, users):
    item = make_item(users["referrer"])
    response = decide(front_door, item, "nfa", "")
    assert response.status_code == 400 and "Write a note for the referrer" in response.text
    future = workdays.uk_local(utcnow()) + dt.timedelta(days=2)
    response = decide(front_door, item, "nfa", "x", decided_day=future.day, decided_month=future.month,
                      decided_year=future.year)
    assert response.status_code == 400 and "cannot be in the future" in response.text
    response = decide(front_door, item, "advice_given", "x")  # advice is for consultations only
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 0


def test_a_decision_dated_before_the_item_arrived_points_at_the_date(front_door, users):
    item = make_item(users["referrer"], received=utcnow() - dt.timedelta(days=1))
    when = workdays.uk_local(utcnow() - dt.timedelta(days=3))
    response = decide(front_door, item, "nfa", "(test) Nothing to do.", decided_day=when.day,
                      decided_month=when.month, decided_year=when.year)
    assert response.status_code == 400
    summary = response.text.split('govuk-error-summary__list', 1)[1].split("</ul>", 1)[0]
    assert 'href="#decided_day"' in summary and 'href="#outcome"' not in summary
    assert "cannot be before the item was received" in summary
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 0


@pytest.mark.parametrize("attempt", range(3))
def test_two_simultaneous_decisions_cannot_both_win(app, users, attempt, monkeypatch):
    """Both workers read 'no decision yet' before either writes; the database keeps exactly one."""
    item = make_item(users["referrer"])
    colleague = store.create_user("colleague@example.org", "Colleague Two", "front_door", "a long enough password",
                                  actor="test")
    both_read = threading.Barrier(2, timeout=30)
    original = fd_store.latest_decision
    waited = threading.local()

    def read_then_wait(referral_id):
        found = original(referral_id)
        if not getattr(waited, "once", False):  # the first read of each worker: wait for the other's
            waited.once = True
            both_read.wait()
        return found

    monkeypatch.setattr(fd_store, "latest_decision", read_then_wait)
    results: dict = {}

    def worker(user_id, outcome):
        with app.app_context():
            from signpost.models import User
            referral, user = db.session.get(Referral, item.id), db.session.get(User, user_id)
            try:
                fd_store.record_decision(referral, outcome, f"(test) {outcome}", supersedes=0, actor=user)
                results[outcome] = "won"
            except fd_store.DecisionConflict as conflict:
                results[outcome] = conflict.winner.outcome if conflict.winner else None
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(users["front_door"].id, "nfa")),
               threading.Thread(target=worker, args=(colleague.id, "strategy_s47"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    db.session.expire_all()
    stored = fq.decision_history(item.id)
    assert len(stored) == 1
    winner = stored[0].outcome
    loser = "nfa" if winner == "strategy_s47" else "strategy_s47"
    assert results == {winner: "won", loser: winner}  # the loser was told, and told who won


# ---------------------------------------------------------------------------------------------- closing the loop

def test_the_referrer_sees_the_decision_note_thresholds_and_services(front_door, referrer, users):
    item = make_item(users["referrer"])
    decide(front_door, item, "nfa_advice", "(test) The family hub can help with breakfast club.")
    html = referrer.get(f"/refer/my-referrals/{item.reference}").text
    assert "No further action: advice given" in html and "The family hub can help with breakfast club" in html
    assert "The thresholds the front door saw" in html
    assert version().indicators[item.assessment.indicator_ids[0]].text in html
    assert "Services that could help now" in html and 'data-service-id="' in html
    listing = referrer.get("/refer/my-referrals").text
    assert "No further action: advice given" in listing


@pytest.mark.parametrize(("said", "fits"), [
    ({"date_of_birth": (uk_today() - dt.timedelta(days=15 * 365 + 100)).isoformat()},
     lambda s: s.minimum_age <= 180 <= s.maximum_age),
    ({"first_name": "", "last_name": "", "date_of_birth": None, "unborn": "yes"}, lambda s: s.unborn),
], ids=["aged_15_by_date_of_birth", "not_born_yet"])
def test_services_after_nfa_fit_a_child_whose_age_only_the_referral_gives(front_door, referrer, users, said, fits):
    """The immediate-danger path skips About the child: the services offered after the front door's
    decision are for the child the referral describes, never for a newborn (age 0 was assumed)."""
    from signpost.content import current_directory
    answers = {k: v for k, v in CHILD["answers"].items() if k not in ("child", "consent", "voice")}
    item = make_item(users["referrer"], urgency="emergency", consent=None,
                     details={**CHILD, **said, "answers": {**answers, "in_danger": "yes"}})
    decide(front_door, item, "nfa_advice", "(test) Signposted.")
    html = referrer.get(f"/refer/my-referrals/{item.reference}").text
    shown = re.findall(r'data-service-id="([a-z0-9_]+)"', html)
    directory = current_directory()
    assert shown and all(fits(directory.get(s)) for s in shown), shown


@pytest.mark.parametrize(("consent", "said"), [
    ({"aware": "yes", "consent": "given", "reason": ""}, "Given"),
    ({"aware": "yes", "consent": "refused", "reason": "(test) They want to try the school's help first"}, "Refused"),
    ({"aware": "no", "consent": "not_asked", "reason": ""}, "Not asked"),
    ({"aware": "no", "consent": "given", "reason": "", "asked_of": "young_person"},
     "Given (the young person's own, at 16 or 17)"),
], ids=["given", "refused", "not_asked", "young_persons_own"])
def test_the_referrer_sees_the_consent_they_sent_as_the_front_door_reads_it(front_door, referrer, users, consent, said):
    """Whether consent was asked for and given, and whose, on the referral's own page in My referrals: in
    the front door's words (one macro), with the reason for a refusal."""
    item = make_item(users["referrer"], consent=consent["consent"],
                     details={**CHILD, "answers": {**CHILD["answers"], "consent": consent}})
    item.family_aware, item.consent_reason = consent["aware"], consent["reason"] or None
    db.session.commit()
    mine = referrer.get(f"/refer/my-referrals/{item.reference}").text
    theirs = front_door.get(f"/front-door/items/{item.reference}").text
    aware = {"yes": "Yes", "no": "No"}[consent["aware"]]
    assert re.search(rf"Family knows you are worried\s*</dt>\s*<dd[^>]*>\s*{aware}\s*<", mine)
    for html in (mine, theirs):
        row = re.search(r'summary-list__key">\s*Consent\s*</dt>\s*<dd[^>]*>(.*?)</dd>', html, re.S)
        assert row and " ".join(unescape(row.group(1)).split()) == said
        why = re.search(r'summary-list__key">\s*Why\s*</dt>\s*<dd[^>]*>(.*?)</dd>', html, re.S)
        assert (" ".join(unescape(why.group(1)).split()) if why else "") == consent["reason"]
    assert ("young person" in unescape(mine)) == ("asked_of" in consent)


@pytest.mark.parametrize("kind", ["referral", "consultation", "early_help_request"])
def test_a_referrer_waiting_is_told_plainly_when_to_expect_a_decision(referrer, users, kind):
    """Each kind in its own words: a request for advice or for early help is never called a referral,
    and a request for early help, sent to the Family Help Hub, is not promised the front door's day."""
    item = make_item(users["referrer"], kind=kind,
                     details={**CHILD, "question": "(test) ?", "referrer_phone": "1"})
    html = referrer.get(f"/refer/my-referrals/{item.reference}").text
    expected = {"consultation": "The front door has not replied yet. They aim to reply within one working day.",
                "early_help_request": "Your request for early help has not been decided yet.",
                "referral": "The front door has not made a decision yet. They aim to decide within one working day."}
    assert expected[kind] in html and "aim to within" not in html
    named = {"consultation": "Request for advice", "early_help_request": "Request for early help",
             "referral": "Referral"}[kind]
    assert re.search(rf"<title>{named} {item.reference}\b", html)
    assert re.search(rf'govuk-caption-l">{named} {item.reference}<', html)
    if kind != "referral":
        assert "Referral " + item.reference not in html and "front door decided" not in html


def test_a_decision_queues_one_email_with_a_link_and_no_child_data(front_door, users, app):
    item = make_item(users["referrer"])
    decide(front_door, item)
    message = db.session.scalar(select(OutboxMessage))
    assert message.to_address == users["referrer"].email and message.sent_at is None  # no SMTP host set
    assert f"/refer/my-referrals/{item.reference}" in message.body
    assert app.config["BASE_URL"] in message.body
    for secret in ("Ada", "Fenwick", "hungry", "2016-05-04", "Demo Street", "Signposted"):
        assert secret not in message.body and secret not in message.subject


@pytest.mark.parametrize(("kind", "outcome", "says", "subject"), [
    ("referral", "nfa_advice", "The front door has recorded a decision on your referral", "a decision"),
    ("early_help_request", "early_help", "A decision has been recorded on your request for early help", "a decision"),
    ("consultation", "advice_given", "The front door has answered your request for advice", "advice"),
])
def test_the_decision_email_names_what_was_sent_in_its_own_words(front_door, users, kind, outcome, says, subject):
    """Advice is not called a decision, a request for advice or for early help never a referral, and
    the hub's decision not the front door's; whatever the kind, nothing about the child."""
    item = make_item(users["referrer"], kind=kind, details={**CHILD, "question": "(test) hungry?", "referrer_phone": "1"})
    extra = {"referral_advised": "yes"} if kind == "consultation" else {}
    response = decide(front_door, item, outcome, "(test) Signposted.", **extra)
    assert response.status_code == 302
    flashed = front_door.get(response.location).text
    assert ("Advice recorded for " if kind == "consultation" else "Decision recorded for ") + item.reference in flashed
    message = db.session.scalar(select(OutboxMessage))
    assert message.body.startswith(f"{says}, reference {item.reference}.")
    assert message.subject == f"Signpost: {subject} on {item.reference}"
    if kind != "referral":
        assert "referral" not in message.body.replace(f"/refer/my-referrals/{item.reference}", "").lower()
    for secret in ("Ada", "Fenwick", "hungry", "2016-05-04", "Demo Street", "Signposted"):
        assert secret not in message.body and secret not in message.subject


# ---------------------------------------------------------------------------------------------- consultations

def make_draft_with_assessment(user) -> Draft:
    v = version()
    draft = Draft(user_id=user.id, answers=dict(CHILD["answers"]), threshold_id=v.id, threshold_hash=v.content_hash)
    db.session.add(draft)
    db.session.flush()
    db.session.add(Assessment(draft_id=draft.id, user_id=user.id, started_at=utcnow(), source_code="2A",
                              age_band="10 to 15", indicator_ids=level_indicators(2), consent="refused",
                              recommended_route="early_help", recommended_level=2, reason_ids=[],
                              urgency="standard", threshold_id=v.id, threshold_hash=v.content_hash))
    db.session.commit()
    return draft


def test_a_referrer_asks_for_advice_and_the_front_door_answers(referrer, front_door, users):
    walker = Walker(referrer)
    at_early_help(walker)
    button = advice_button(walker)
    shown = referrer.post("/front-door/ask-for-advice", data=button)
    assert shown.status_code == 200 and "Ask the front door for advice" in shown.text
    empty = referrer.post("/front-door/ask-for-advice", data={**button, "step": "send"})
    assert empty.status_code == 400 and "Say what you would like advice about" in empty.text
    sent = {**button, "step": "send", "question": "(test) Consent refused: refer?", "phone": "01632 960 701"}
    first = referrer.post("/front-door/ask-for-advice", data=sent)
    second = referrer.post("/front-door/ask-for-advice", data=sent)  # a double-click
    assert first.status_code == second.status_code == 302 and first.location == second.location
    item = db.session.scalar(select(Referral))
    assert item.kind == "consultation" and db.session.scalar(select(func.count()).select_from(Referral)) == 1
    assert queue_refs(front_door, "?kind=consultation") == [item.reference]
    page = front_door.get(f"/front-door/items/{item.reference}").text
    assert "Consent refused: refer?" in page and "01632 960 701" in page
    no_answer = decide(front_door, item, "advice_given", "(test) Please refer.")
    assert no_answer.status_code == 400 and "Select whether a referral should follow" in no_answer.text
    assert decide(front_door, item, "advice_given", "(test) Please refer, saying why the family refused.",
                  referral_advised="yes").status_code == 302
    decision = fq.decision_history(item.id)[0]
    assert decision.outcome == "advice_given" and decision.referral_advised is True
    html = referrer.get(first.location).text
    assert "The front door advises you to make a referral" in html and "saying why the family refused" in html


def test_asking_about_someone_elses_draft_is_404_audited(referrer, users):
    other = store.create_user("other.referrer@example.org", "Other", "referrer", "a long enough password",
                              actor="test")
    draft = make_draft_with_assessment(other)
    token = csrf_token(referrer, "/refer/my-referrals")
    response = referrer.post("/front-door/ask-for-advice", data={"csrf_token": token, "draft_id": draft.id})
    assert response.status_code == 404
    assert events("access_denied")[-1].record_type == "drafts"


def test_immediate_danger_is_never_turned_into_a_request_for_advice(referrer, users):
    walker = Walker(referrer)
    at_early_help(walker)
    button = advice_button(walker)
    draft = db.session.get(Draft, walker.draft_id)
    with db.session.begin_nested():
        draft.assessment.immediate, draft.assessment.urgency = True, "emergency"
    db.session.commit()
    response = referrer.post("/front-door/ask-for-advice", data={**button, "step": "send", "question": "?",
                                                                  "phone": "1"})
    assert response.status_code == 302 and response.location.endswith("/refer/phone-now")
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_the_recommendation_page_offers_advice_instead(app):
    html = app.jinja_env.get_template("journey/recommendation.html")
    assert "frontdoor/_ask_for_advice_button.html" in open(html.filename).read()


# ---------------------------------------------------------------------------------------------- outside contacts

EXAMPLE = (ROOT / "docs" / "external-contacts-example.csv").read_text()


def upload(client, text: str, name="contacts.csv"):
    token = csrf_token(client, "/front-door/contacts/import")
    return client.post("/front-door/contacts/import", data={"csrf_token": token,
                                                            "file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def test_recording_a_contact_by_hand(front_door, users):
    response = submit(front_door, "/front-door/contacts/new", {
        "reference": "CMS-1", "received_day": "5", "received_month": "10", "received_year": "2026",
        "received_time": "09:30", "channel": "phone", "source_code": "6", "age_band": "5 to 9",
        "urgency": "same_day", "outcome": "strategy_s47"})
    assert response.status_code == 302
    contact = db.session.scalar(select(ExternalContact))
    assert contact.received_at == dt.datetime(2026, 10, 5, 8, 30)  # 09:30 British Summer Time
    assert contact.recorded_by == users["front_door"].id and contact.import_batch is None
    again = submit(front_door, "/front-door/contacts/new", {
        "reference": "CMS-1", "received_day": "5", "received_month": "10", "received_year": "2026",
        "received_time": "09:30", "channel": "phone", "source_code": "6", "age_band": "5 to 9",
        "urgency": "same_day", "outcome": "strategy_s47"})
    assert again.status_code == 400 and "already recorded" in again.text


def test_importing_the_example_twice_adds_it_once(front_door):
    first = upload(front_door, EXAMPLE)
    assert first.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ExternalContact)) == 6
    second = upload(front_door, EXAMPLE)
    assert second.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ExternalContact)) == 6
    assert "6 were already recorded" in front_door.get("/front-door/contacts").text
    imported = events("external_contacts_imported")
    assert [e.detail["added"] for e in imported] == [6, 0]


def test_a_file_with_bad_rows_imports_nothing_and_names_every_line(front_door):
    rows = EXAMPLE.splitlines()
    rows[2] = rows[2].replace(",2A,", ",99,")                      # line 3: unknown source
    rows[4] = rows[4].replace("2026-10-06 14:20", "14/10/2026")     # line 5: a date in another format
    rows.append(rows[1])                                            # line 8: line 2 again
    rows.append("NM-CMS-9,2026-10-08 10:00,2A,fax,5 to 9,standard,nfa,")  # line 9: unknown channel
    response = upload(front_door, "\n".join(rows) + "\n")
    assert response.status_code == 400
    text = response.text
    for expected in ("line 3, source_code", "line 5, received_at", "line 8, reference", "line 9, channel"):
        assert expected in text, expected
    assert "Nothing was imported" in text
    assert db.session.scalar(select(func.count()).select_from(ExternalContact)) == 0


def test_a_reference_already_recorded_with_other_details_stops_the_import(front_door):
    upload(front_door, EXAMPLE)
    changed = EXAMPLE.replace("NM-CMS-104231,2026-10-05 08:40,6,police_notification,5 to 9,standard,nfa",
                              "NM-CMS-104231,2026-10-05 08:40,6,police_notification,5 to 9,standard,lado")
    changed += "NM-CMS-200000,2026-10-09 10:00,2A,phone,5 to 9,standard,nfa,\n"
    response = upload(front_door, changed)
    assert response.status_code == 400 and "line 2, reference: NM-CMS-104231 is already recorded" in response.text
    assert db.session.scalar(select(func.count()).select_from(ExternalContact)) == 6


def test_a_wrong_header_or_an_empty_file_is_one_clear_problem(front_door):
    assert "missing columns: outcome" in upload(front_door, "reference,received_at,source_code,channel,age_band,"
                                                             "urgency\n").text
    assert "the file is empty" in upload(front_door, "").text
    # A spreadsheet saved with an empty column after the last: said plainly, not "unknown columns: ".
    trailing = upload(front_door, ",".join(contacts_csv.COLUMNS) + ",\nA-1,2026-01-05 09:30,2A,phone,1 to 4,standard,nfa,,\n")
    assert "a column has no name" in trailing.text and "unknown columns" not in trailing.text
    assert "The file must be a CSV file" in upload(front_door, EXAMPLE, name="contacts.xlsx").text


def test_contacts_import_from_the_command_line(app, users):
    runner = app.test_cli_runner()
    path = str(ROOT / "docs" / "external-contacts-example.csv")
    result = runner.invoke(args=["contacts", "import", path, "--as", users["front_door"].email])
    assert result.exit_code == 0 and "Imported 6" in result.output
    result = runner.invoke(args=["contacts", "import", path, "--as", users["front_door"].email])
    assert result.exit_code == 0 and "Imported 0 contact(s); 6 already recorded" in result.output


@pytest.mark.parametrize("who", ["nobody@example.org", "admin@example.org", "disabled"])
def test_contacts_import_from_the_command_line_names_an_active_front_door_account(app, users, who):
    if who == "disabled":
        store.update_user(users["front_door"], active=False, actor="test")
        who = users["front_door"].email
    path = str(ROOT / "docs" / "external-contacts-example.csv")
    result = app.test_cli_runner().invoke(args=["contacts", "import", path, "--as", who])
    assert result.exit_code == 1 and f"No active front door account {who}." in result.output
    assert db.session.scalar(select(func.count()).select_from(ExternalContact)) == 0


# ---------------------------------------------------------------------------------------------- audit viewer

def test_the_audit_viewer_is_for_admins_and_front_door_managers(front_door, admin, users):
    item = make_item(users["referrer"])
    front_door.get(f"/front-door/items/{item.reference}")
    assert front_door.get("/front-door/audit").status_code == 403
    fd_store.set_manager(users["front_door"], True, actor=users["admin"])
    sign_in_as(front_door, users["front_door"])
    by_record = front_door.get(f"/front-door/audit?record={item.reference}").text
    assert "item_viewed" in by_record
    by_person = search_audit(admin, person=users['front_door'].email, action="item_viewed").text
    assert "item_viewed" in by_person and "user_created" not in by_person
    today = uk_today().isoformat()
    assert "item_viewed" in admin.get(f"/front-door/audit?date_from={today}&date_to={today}").text
    assert "No events match" in admin.get("/front-door/audit?date_from=2001-01-01&date_to=2001-01-02").text
    assert events("audit_searched")[-1].detail["search"]["date_from"] == "2001-01-01"


def search_audit(client, **fields):
    """The audit trail's search, as its form sends it: POSTed, so an email address is never in a URL."""
    return submit(client, "/front-door/audit", fields)


def test_an_accounts_email_address_finds_the_changes_made_to_that_account(admin, users):
    """Account events are stored under the account's number, which an administrator never sees: searching
    the record by its email address (in any case) finds them, and not another account's."""
    submit(admin, f"/admin/users/{users['referrer'].id}/password", {"password": "a new temporary password"})
    html = search_audit(admin, record=users['referrer'].email.upper()).text
    assert "password_changed" in html
    assert "password_changed" not in search_audit(admin, record=users['policy_lead'].email).text
    assert "No events match" in search_audit(admin, record="nobody@example.org").text
    assert 'href="/front-door/audit"' in admin.get("/admin/users").text  # the list of accounts links to it
    # An address longer than a reference (up to 254 characters) is searched for, not refused.
    from signpost import store
    long_email = "a" * 70 + "@" + "b" * 60 + ".example.org"
    made = store.create_user(long_email, "Long Address", "referrer", "a long temporary password", actor="test")
    submit(admin, f"/admin/users/{made.id}/password", {"password": "another temporary password"})
    found = search_audit(admin, record=long_email)
    assert found.status_code == 200 and "<title>Error:" not in found.text and "password_changed" in found.text


def test_the_audit_search_keeps_what_was_typed_out_of_every_url(admin, users):
    """The form was a GET: an email address typed into it went into the URL (proxy logs, browser history),
    and into every page link. It is POSTed, and its other pages are buttons that POST it again."""
    page = admin.get("/front-door/audit").text
    form = page.split('class="signpost-audit-search"', 1)[0].rsplit("<form", 1)[1]
    assert 'method="post"' in form and 'name="csrf_token"' in page.split('class="signpost-audit-search"', 1)[1]
    email = users["front_door"].email
    with store.transaction() as session:
        session.add_all(AuditEvent(at=dt.datetime(2026, 3, 2, 9, n % 60), actor=email, action=f"paged_{n}")
                        for n in range(60))
    first = search_audit(admin, person=email, action="")
    assert first.status_code == 200 and "paged_59" in first.text and "Next page" in first.text
    assert email not in "".join(re.findall(r'href="([^"]*)"', first.text))  # in no link
    nav = first.text.split('aria-label="Audit pages"', 1)[1].split("</nav>", 1)[0]
    assert f'name="person" value="{email}"' in nav and 'name="page" value="2"' in nav
    token = CSRF_VALUE.search(first.text)[1]
    second = admin.post("/front-door/audit", data={"csrf_token": token, "person": email, "page": "2"})
    assert second.status_code == 200 and "Previous page" in second.text and "Next page" not in second.text
    assert "paged_0" in second.text and "paged_59" not in second.text
    # A date it cannot read is in the error summary, as from a link; the rest of the search goes on.
    wrong = search_audit(admin, person=email, date_from="2026-13-40")
    assert re.search(r"<title>\s*Error: Audit trail", wrong.text) and 'href="#date_from"' in wrong.text
    assert "paged_59" in wrong.text
    assert admin.post("/front-door/audit", data={"person": email}).status_code == 400  # no CSRF token


CSRF_VALUE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def test_a_date_the_audit_viewer_cannot_read_is_in_an_error_summary_too(admin):
    """Beside the field alone it was missed: the title and an error summary say so first, linked to it."""
    html = admin.get("/front-door/audit?date_from=2026-13-40&date_to=2026-01-02").text
    assert re.search(r"<title>\s*Error: Audit trail", html)
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</div>\n</div>", 1)[0]
    assert 'href="#date_from"' in summary and 'href="#date_to"' not in summary
    assert 'id="date_from-error"' in html
    # In the service's words, naming the field and the form a date takes; never WTForms' own.
    assert "From must be a real date, written as year-month-day, for example 2026-03-31" in summary
    assert "Not a valid date" not in html
    assert "Error: Audit trail" not in admin.get("/front-door/audit?date_from=2026-01-01").text



def test_the_audit_viewer_shows_and_searches_uk_times(admin):
    """It said "When (UTC)", unlike every other page: an event at 00:30 on 1 July (BST) was shown at
    23:30 on 30 June, and only a search for 30 June found it."""
    with store.transaction() as session:
        session.add(AuditEvent(at=dt.datetime(2026, 6, 30, 23, 30, 5), actor="cli", action="summer_event"))
    on_the_day = admin.get("/front-door/audit?date_from=2026-07-01&date_to=2026-07-01").text
    assert "summer_event" in on_the_day and "1 Jul 2026 00:30:05" in on_the_day and "When (UK time)" in on_the_day
    assert "summer_event" not in admin.get("/front-door/audit?date_from=2026-06-30&date_to=2026-06-30").text


# ---------------------------------------------------------------------------------------------- export

def test_decisions_export_neutralises_formulas_and_is_audited(front_door, policy_lead, users, referrer):
    item = make_item(users["referrer"])
    decide(front_door, item, "nfa", "=HYPERLINK(\"http://example.invalid\")")
    today = workdays.uk_local(utcnow()).date().isoformat()
    response = policy_lead.get(f"/front-door/export?date_from={today}&date_to={today}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="signpost-decisions-{today}-to-{today}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["reference"] == item.reference and rows[0]["outcome"] == "nfa"
    assert rows[0]["note"].startswith("'=") and rows[0]["within_one_working_day"] == "True"
    assert "Fenwick" not in response.text
    exported = events("decisions_exported")[-1]
    assert exported.actor == users["policy_lead"].email and exported.detail["rows"] == 1
    assert referrer.get(f"/front-door/export?date_from={today}&date_to={today}").status_code == 403
    bad = front_door.get(f"/front-door/export?date_from={today}&date_to=2001-01-01")
    assert bad.status_code == 400 and "same as or after the first date" in bad.text
    unreadable = front_door.get(f"/front-door/export?date_from={today}&date_to=31/13/2026")
    assert unreadable.status_code == 400 and "Not a valid date" not in unreadable.text
    assert "The last date must be a real date, written as year-month-day" in unreadable.text


@pytest.mark.parametrize("query", ['date_from=2026-07-01"; filename="evil.exe&date_to=2026-07-01',
                                   "date_from=2026-07-01&date_to=../../etc/passwd"])
def test_a_decisions_export_with_a_date_it_cannot_read_is_never_named_from_it(policy_lead, query):
    """The export's file name is made from the dates as read, never as typed: a date it cannot read is
    an error on the page, with no download at all."""
    response = policy_lead.get(f"/front-door/export?{query}")
    assert response.status_code == 400 and "Content-Disposition" not in response.headers
    assert "evil" not in str(response.headers) and "passwd" not in str(response.headers)


def test_decisions_export_uses_uk_days_and_times(policy_lead, users):
    """Staff read and type UK time everywhere else: a decision made at 00:30 on 1 July (BST, stored as 23:30
    UTC on 30 June) is in the export for 1 July, not 30 June, and shows the time their clock showed."""
    from signpost.store.history import record_demo_history
    from test_metrics import journey
    T = dt.datetime
    record_demo_history([], [journey(users["referrer"].id, T(2026, 6, 30, 22, 45),
                                     outcomes=[("nfa", T(2026, 6, 30, 23, 30))])],
                        months=0, recorded_by=users["front_door"].id)
    july = list(csv.DictReader(io.StringIO(
        policy_lead.get("/front-door/export?date_from=2026-07-01&date_to=2026-07-01").data.decode("utf-8-sig"))))
    assert [(r["received_at"], r["decided_at"]) for r in july] == [("2026-06-30 23:45", "2026-07-01 00:30")]
    june = policy_lead.get("/front-door/export?date_from=2026-06-30&date_to=2026-06-30").data.decode("utf-8-sig")
    assert list(csv.DictReader(io.StringIO(june))) == []
    assert "UTC" not in policy_lead.get("/front-door/export").get_data(as_text=True)


def test_decisions_export_opens_in_a_spreadsheet_with_its_accents_intact(front_door, policy_lead, users):
    """Excel reads a CSV without a byte order mark in the computer's old code page: 'Zoë’s' became 'ZoÃ«â€™s'.
    UTF-8 with a byte order mark is read as UTF-8 by Excel, LibreOffice and Numbers alike."""
    item = make_item(users["referrer"])
    note = "(test) Zoë’s school nurse will follow up – £20 bus pass arranged"
    decide(front_door, item, "nfa", note)
    today = workdays.uk_local(utcnow()).date().isoformat()
    response = policy_lead.get(f"/front-door/export?date_from={today}&date_to={today}")
    assert response.data.startswith("\ufeff".encode("utf-8"))
    assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r["note"] for r in rows] == [note] and list(rows[0])[0] == "reference"


# ---------------------------------------------------------------------------------------------- demo

@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_seed_gives_a_realistic_queue_once(app):
    from signpost import demo
    demo.seed(echo=lambda _line: None)
    demo.seed(echo=lambda _line: None)
    front_door = demo.demo_user("front_door")
    page = fq.queue_page(fq.Filters(), front_door.id)
    awaiting = [row for row in page.rows]
    assert {row.urgency for row in awaiting} == {"emergency", "same_day", "standard"}
    assert {row.referral.kind for row in awaiting} == {"referral", "early_help_request", "consultation"}
    assert page.overdue >= 3 and any(row.allocated_to for row in awaiting)
    assert any(row.earlier for row in awaiting)  # a re-referral, linked to the earlier NFA
    assert front_door.manager
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "demo_item_seeded")) == len(demo.DEMO_QUEUE) + 2


def test_the_exports_back_link_returns_each_role_to_its_own_section(front_door, policy_lead):
    """A policy lead's Back went to the referral start page, a page for referrers."""
    assert 'href="/reports/" class="govuk-back-link"' in policy_lead.get("/front-door/export").text
    assert 'href="/front-door/" class="govuk-back-link"' in front_door.get("/front-door/export").text


# ---------------------------------------------------------------------------------------------- narrow screens

def unlabelled_cells(html: str) -> list[str]:
    """Cells that would stand alone on a phone: on narrow screens tables become lists and their headings
    are hidden, so each cell under a visible heading must carry it (data-label) unless it is empty."""
    problems = []
    for table in re.findall(r'<table class="govuk-table.*?</table>', html, re.S):
        headings = [None if "govuk-visually-hidden" in th else unescape(re.sub(r"<[^>]+>", "", th)).strip()
                    for th in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody", 1)[1], re.S):
            for heading, (cell, attributes, content) in zip(headings, re.findall(r"<(td|th)([^>]*)>(.*?)</\1>", row, re.S)):
                if cell == "th" or "colspan" in attributes:  # a row's own heading, or a row of its own
                    continue
                label = re.search(r'data-label="([^"]*)"', attributes)
                if heading and re.sub(r"<[^>]+>|\s", "", content) and (label is None or unescape(label[1]) != heading):
                    problems.append(f"{heading}: {' '.join(re.sub(r'<[^>]+>', ' ', content).split())[:60]}")
    return problems


def test_every_cell_of_the_front_doors_and_accounts_tables_says_its_column_on_a_phone(front_door, admin, users):
    """At 320 pixels "Nobody", "Never" and "Yes" stood alone, with no sign of what they answered."""
    make_item(users["referrer"], overridden=True)
    make_item(users["referrer"])
    fd_store.record_external_contact(
        {"reference": "C-phone-1", "received_at": utcnow() - dt.timedelta(hours=1), "source_code": "6",
         "channel": "phone", "age_band": "5 to 9", "urgency": "standard", "outcome": "nfa",
         "decided_at": utcnow()}, actor=users["front_door"])
    pages = {"queue": (front_door, "/front-door/"), "contacts": (front_door, "/front-door/contacts"),
             "audit": (admin, "/front-door/audit"), "team": (admin, "/front-door/team"),
             "users": (admin, "/admin/users")}
    for name, (client, path) in pages.items():
        html = client.get(path).text
        assert 'class="govuk-table' in html, name
        assert unlabelled_cells(html) == [], name
    assert "@media (max-width" in (css := (ROOT / "signpost/static/signpost.css").read_text())
    assert re.search(r"\.govuk-table td\[data-label\]::before \{ content: attr\(data-label\)", css)
