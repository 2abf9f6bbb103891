"""The referral journey through the web layer, path by path (Flask test client).

Each test walks real pages with real CSRF tokens; outcomes are checked in the database
and against signpost.engine.assess for the same answers.
"""
from __future__ import annotations

import datetime as dt
import html
import random
import re
import time

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from signpost import journey, workdays
from signpost.content import current_directory, current_library, current_version
from signpost.web.journey_forms import eighteenth_birthday
from signpost.engine import Answers, assess
from signpost.extensions import db
from signpost import store
from signpost.models import Assessment, AuditEvent, Draft, Referral

from conftest import PASSWORD, csrf_token, sign_in_as
from signpost.values import uk_today

ROUTE_RE = re.compile(r'id="recommendation"[^>]*data-route="(\w+)"[^>]*data-level="(\d+)"')
REASON_RE = re.compile(r'data-reason-id="([a-z0-9_]+)"')
SERVICE_RE = re.compile(r'data-service-id="([a-z0-9_]+)"')


class Walker:
    """A referrer going through the journey; every post names its draft, as the pages do."""

    def __init__(self, client):
        self.client = client
        self.token = csrf_token(client, "/")
        self.draft_id = None

    def post(self, path, data=None, **kwargs):
        named = {"draft_id": self.draft_id} if self.draft_id else {}
        if path.split("?")[0] == "/refer/family" and self.draft_id and "warned" not in (data or {}):
            named["warned"] = self.warnings_shown()  # as the page sends them, unless the test says otherwise
        return self.client.post(path, data={"csrf_token": self.token, **named, **(data or {})}, **kwargs)

    def change_concerns(self, indicators) -> str:
        """Choose exactly these indicators from Check your answers; where the last concerns page went."""
        target = journey.with_concerns(version(), self.answers(), indicators)
        location = "/refer/serious?change=1"
        while location.split("?")[0] in ("/refer/serious", "/refer/areas", "/refer/concerns"):
            ticks = getattr(target, location.split("?")[0].removeprefix("/refer/"))
            location = self.answer(location, {"concerns": list(ticks.ticked if ticks else ()) or ["none"]})
        return location

    def warnings_shown(self) -> str:
        """The family page's `warned` field as the page shows it now: the warnings for the draft's answers."""
        db.session.expire_all()
        draft = db.session.get(Draft, self.draft_id)
        on = current_library().by_id(draft.threshold_id) or version()
        return " ".join(journey.family_not_told(on, journey.JourneyAnswers.load(draft.answers)))

    def start(self):
        response = self.post("/refer/new")
        assert response.status_code == 302 and response.location == "/refer/danger"
        with self.client.session_transaction() as session:
            self.draft_id = session["draft_id"]
        return response

    def answer(self, path, data, expect_next=None):
        response = self.post(path, data)
        assert response.status_code == 302, (path, response.status_code, errors(response))
        if expect_next is not None:
            assert response.location == expect_next, (path, response.location)
        return response.location

    def answers(self) -> journey.JourneyAnswers:
        db.session.expire_all()
        return journey.JourneyAnswers.load(db.session.get(Draft, self.draft_id).answers)

    def to_concerns(self, years=9, months=3, unborn=False, role="dsl", organisation="school"):
        self.start()
        location = self.answer("/refer/danger", {"in_danger": "no"})
        if location == "/refer/about-you":  # asked once per account
            location = self.answer(location, {"role": role, "organisation": organisation})
        assert location == "/refer/about-child"
        if unborn:
            due = uk_today() + dt.timedelta(days=90)
            child = {"born": "unborn", "due_day": due.day, "due_month": due.month, "due_year": due.year}
        else:
            child = {"born": "born", "years": years, "months": months}
        return self.answer("/refer/about-child", child, "/refer/serious")

    def concerns(self, indicators=(), location="/refer/serious"):
        """Answer the concerns pages so that exactly these indicators are chosen."""
        target = journey.with_concerns(version(), self.answers(), indicators)
        while location in ("/refer/serious", "/refer/areas", "/refer/concerns"):
            page = location.removeprefix("/refer/")
            ticks = getattr(target, page)
            data = {"concerns": list(ticks.ticked if ticks else ()) or ["none"]}
            if page == "concerns":
                data.update({f"severity_{q}": ind for q, ind in target.severity.items()})
            location = self.answer(location, data)
        return location

    def finish_questions(self, consent="given", voice=None, unborn=False, location=None):
        words = {"what_happened": "She said she was hungry and had no coat in the snow"}
        if not unborn:
            words.update(voice or {"seen": "yes", "says": "I am hungry at school",
                                   "wants": "I want my mum to be well"})
        self.answer("/refer/what-happened", words, "/refer/family")
        self.family(consent)
        assert self.client.get("/refer/check").status_code == 200
        return self.answer("/refer/check", {}, "/refer/recommendation")

    def family(self, consent="given"):
        reason = "" if consent in ("given", "not_asked") else "They said they do not want help"
        return self.answer("/refer/family", {"working_well": "Comes to school every day", "tried": "Breakfast club",
                                             "tried_by": "School", "aware": "yes", "consent": consent,
                                             "reason": reason}, "/refer/check")

    def send(self, details, kind="referral"):
        """The details page, then Check before you send, then send; returns where it went."""
        path = "/refer/referral" if kind == "referral" else "/refer/early-help-request"
        self.answer(path, details, f"/refer/send/{kind.replace('_', '-')}")
        assert self.client.get(f"/refer/send/{kind.replace('_', '-')}").status_code == 200
        return self.answer(f"/refer/send/{kind.replace('_', '-')}", {})

    def recommendation(self):
        page = self.client.get("/refer/recommendation")
        assert page.status_code == 200
        route, level = ROUTE_RE.search(page.text).groups()
        return route, int(level), REASON_RE.findall(page.text), SERVICE_RE.findall(page.text), page.text


def errors(response) -> list[str]:
    return re.findall(r'govuk-error-message">\s*<span[^>]*>Error:</span>\s*(.*?)\s*</p>', response.text, re.S)


def version():
    return current_version()


def level_items(level: int, age_months: int = 111) -> list[str]:
    """Plain indicators (no severity question) at this level, not emergencies, for this age."""
    return [i.id for i in version().document.indicators
            if i.level == level and not i.asks_for and not journey.is_emergency(i)
            and journey.applies(i, age_months, False)]


def do_not_tell_concerns(how_many: int) -> list:
    """Concerns the family must not hear of (plain, not emergencies, for a child of 9); skips without enough."""
    found = [i for i in version().document.indicators if i.family_not_told and not i.lado and not i.asks_for
             and not journey.is_emergency(i) and journey.applies(i, 111, False)]
    if len(found) < how_many:
        pytest.skip(f"the version in force marks fewer than {how_many} such concerns family_not_told")
    return found[:how_many]


@pytest.fixture
def walker(referrer):
    return Walker(referrer)


# ---------------------------------------------------------------------------------- immediate danger

def test_yes_to_immediate_danger_goes_straight_to_phone_now_and_logs_it(walker):
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "yes"}, "/refer/phone-now")
    page = walker.client.get("/refer/phone-now")
    assert page.status_code == 200
    assert "999" in page.text and version().document.contacts.front_door.phone in page.text
    assert version().document.contacts.out_of_hours.phone in page.text
    assessment = db.session.scalar(select(Assessment))
    assert assessment.immediate and assessment.in_danger and assessment.recommended_route == "social_care"
    assert assessment.threshold_hash == version().content_hash


def test_ticking_an_immediate_indicator_says_phone_now_without_more_pages(walker):
    walker.to_concerns(years=0, months=3)
    v = version()
    plan = journey.layout(v, walker.answers())
    immediate = next(i.id for i in plan.serious_items if journey.is_emergency(v.indicators[i.id]))
    page = walker.client.get("/refer/serious").text
    assert 'data-immediate="true"' in page
    box = page.index(f'value="{immediate}"')  # the emergency concern's hint says what to do now
    assert "If this is happening now, call 999." in page[page.rindex('<div class="govuk-checkboxes__item">', 0, box):
                                                         page.index("</div>", page.index("govuk-hint", box))]
    walker.answer("/refer/serious", {"concerns": [immediate]}, "/refer/phone-now")
    phone_now = walker.client.get("/refer/phone-now")
    assert phone_now.status_code == 200
    why = v.indicators[immediate].urgency_reason
    if why:  # why it cannot wait, after the numbers and the steps, under a heading of the page's own
        assert '<h2 class="govuk-heading-m">Why this cannot wait</h2>' in phone_now.text
        assert f'data-urgent-reason-id="{immediate}"' in phone_now.text and str(escape(why)) in phone_now.text
        assert phone_now.text.index("Why this cannot wait") > phone_now.text.index(v.document.contacts.out_of_hours.phone)
    assessment = db.session.scalar(select(Assessment))
    assert assessment.immediate and immediate in assessment.indicator_ids


def test_immediate_danger_cannot_be_overridden_to_a_lower_route(walker):
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "yes"}, "/refer/phone-now")
    walker.client.get("/refer/phone-now")
    assert walker.client.get("/refer/disagree").location == "/refer/phone-now"
    response = walker.post("/refer/disagree", {"route": "universal", "reason": "I know the family"})
    assert response.location == "/refer/phone-now"
    assessment = db.session.scalar(select(Assessment))
    assert assessment.route_taken is None and not assessment.overridden
    from signpost import store
    with pytest.raises(store.StoreError):
        store.choose_route(db.session.scalar(select(Draft)), "early_help", override_reason="no", finished=True)


def test_after_phoning_the_referrer_can_send_the_referral(walker):
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "yes"}, "/refer/phone-now")
    phone = walker.client.get("/refer/phone-now")
    assert 'href="/refer/what-happened"' in phone.text
    # The front door needs the referrer's own words: asked after the phone numbers, never before.
    assert walker.client.get("/refer/referral").location == "/refer/what-happened"
    asked = walker.client.get("/refer/what-happened")
    assert "What has happened, and what are you worried about?" in asked.text
    walker.answer("/refer/what-happened", {"what_happened": "Her father hit her with a belt this morning"},
                  "/refer/referral")
    assert walker.client.get("/refer/referral").status_code == 200
    assert walker.send(referral_details()) == "/refer/confirmation"
    made = db.session.scalar(select(Referral))
    assert made.assessment.immediate and made.assessment.route_taken == "social_care"
    assert made.details["answers"]["what_happened"] == "Her father hit her with a belt this morning"
    # Never asked about the family on this path: nothing says the referrer judged telling them risky.
    assert made.consent is None and made.family_aware is None


def test_after_phoning_about_an_unborn_baby_the_referral_can_say_the_baby_is_not_born_yet(walker):
    """The danger path skips About the child, so only the referral can say the child is not born yet: a
    midwife phoning 999 about a pregnant mother being hurt must still be able to write the referral,
    which a name and a date of birth in the past would stop."""
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "yes"}, "/refer/phone-now")
    walker.answer("/refer/what-happened", {"what_happened": "Her partner is kicking her; she is 30 weeks pregnant"},
                  "/refer/referral")
    nameless = referral_details(first_name="", last_name="", dob_day="", dob_month="", dob_year="")
    page = walker.post("/refer/referral", nameless)
    assert page.status_code == 200 and 'name="unborn"' in page.text  # a born child still needs them
    assert "Enter the child&#39;s first name, or say that the baby is not born yet" in errors(page)
    walker.answer("/refer/referral", {**nameless, "first_name": "Ignored", "unborn": "y"}, "/refer/send/referral")
    shown = walker.client.get("/refer/send/referral").text
    assert "The baby is not born yet" in shown and "Ignored" not in shown
    assert walker.answer("/refer/send/referral", {}) == "/refer/confirmation"
    made = db.session.scalar(select(Referral))
    db.session.refresh(made.assessment)
    assert made.details["unborn"] == "yes" and made.details["first_name"] == "" and made.details["date_of_birth"] is None
    assert made.assessment.age_band == "unborn" and made.assessment.unborn is True


def test_the_referral_asks_whether_the_baby_is_born_only_when_about_the_child_was_not_asked(walker):
    walker.concerns([level_items(4)[0]], location=walker.to_concerns())
    walker.finish_questions()
    page = walker.client.get("/refer/referral")
    assert page.status_code == 200 and 'name="unborn"' not in page.text
    walker.answer("/refer/referral", referral_details(unborn="y"))  # not asked here: the child is born
    assert db.session.get(Draft, walker.draft_id).answers["sending"]["details"].get("unborn") is None


def test_after_the_phone_numbers_a_concern_about_an_adult_adds_the_lado_outcome_after_999(walker):
    lado = next(i.id for i in version().document.indicators if i.lado)
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "yes"}, "/refer/phone-now")
    walker.client.get("/refer/phone-now")
    assert "adult who works with children" in walker.client.get("/refer/what-happened").text
    walker.answer("/refer/what-happened", {"what_happened": "A coach hit him at training", "lado": [lado]},
                  "/refer/phone-now")
    page = walker.client.get("/refer/phone-now").text
    # 999 first, then the LADO, then the front door.
    assert page.index("signpost-emergency") < page.index('id="lado"') < page.index("Then phone the front door")
    assert 'href="/refer/referral"' in page
    latest = db.session.get(Draft, walker.draft_id).assessment
    assert latest.lado and latest.immediate and lado in latest.indicator_ids and latest.revision == 2


def test_999_comes_first_when_an_emergency_is_added_after_a_concern_about_an_adult(walker):
    """A referrer who ticked a concern about staff, then goes back and ticks an emergency, has not
    phoned yet: the phone page puts 999 before the LADO outcome."""
    v = version()
    about_staff = next(i for i in v.document.indicators if i.lado)
    walker.concerns([about_staff.id], location=walker.to_concerns(years=0, months=3))
    plan = journey.layout(v, walker.answers())
    emergency = next(i.id for i in plan.serious_items if journey.is_emergency(v.indicators[i.id]))
    walker.answer("/refer/serious", {"concerns": [emergency]}, "/refer/phone-now")
    page = walker.client.get("/refer/phone-now").text
    assert page.index("signpost-emergency") < page.index('id="lado"')


def test_answers_of_pages_the_journey_has_left_no_longer_count(walker):
    """A referrer who finished the "not in danger" journey (a concern about staff, consent refused)
    then says the child is in danger now: the staff concern is carried to the emergency path's own
    question, ticked, and unticking it there removes the LADO outcome; the refused consent, asked
    on a page no longer in the journey, is not recorded."""
    about_staff = next(i for i in version().document.indicators if i.lado)
    walker.concerns([about_staff.id], location=walker.to_concerns())
    walker.finish_questions(consent="refused")
    walker.answer("/refer/danger?change=1", {"in_danger": "yes"}, "/refer/phone-now")
    asked = walker.client.get("/refer/what-happened").text
    assert re.search(rf'<input[^>]*value="{about_staff.id}"[^>]*checked', asked)  # carried over, ticked
    walker.answer("/refer/what-happened", {"what_happened": "Hit with a belt this morning"}, "/refer/referral")
    latest = db.session.get(Draft, walker.draft_id).assessment
    assert latest.immediate and not latest.lado and about_staff.id not in latest.indicator_ids
    assert latest.consent is None
    assert walker.answers().concerns.ticked  # kept in the draft, should the referrer change back


def test_a_concern_about_staff_carried_to_the_emergency_path_keeps_the_lado_outcome(walker):
    about_staff = next(i for i in version().document.indicators if i.lado)
    walker.concerns([about_staff.id], location=walker.to_concerns())
    walker.finish_questions()
    walker.answer("/refer/danger?change=1", {"in_danger": "yes"}, "/refer/phone-now")
    walker.answer("/refer/what-happened", {"what_happened": "A coach hit him", "lado": [about_staff.id]},
                  "/refer/phone-now")
    latest = db.session.get(Draft, walker.draft_id).assessment
    assert latest.immediate and latest.lado and about_staff.id in latest.indicator_ids


def test_an_overdue_baby_can_be_referred_before_birth_but_not_a_date_long_past(walker):
    walker.start()
    location = walker.answer("/refer/danger", {"in_danger": "no"})
    if location == "/refer/about-you":
        walker.answer(location, {"role": "midwife", "organisation": "primary_health"})
    long_ago = uk_today() - dt.timedelta(days=40)
    refused = walker.post("/refer/about-child", {"born": "unborn", "due_day": long_ago.day,
                                                 "due_month": long_ago.month, "due_year": long_ago.year})
    assert refused.status_code == 200 and "no more than 4 weeks ago" in refused.text
    overdue = uk_today() - dt.timedelta(days=10)
    walker.answer("/refer/about-child", {"born": "unborn", "due_day": overdue.day, "due_month": overdue.month,
                                         "due_year": overdue.year}, "/refer/serious")
    assert walker.answers().child.expected_date == overdue


def test_a_concern_about_staff_alone_gives_the_lado_steps_not_talk_to_the_child(walker):
    """Only a concern about an adult who works with children: the LADO's steps say do not question
    the child, so universal services' "talk to the child" and "agree with the family" are not shown,
    on the page or in the printable summary, which gives the LADO's steps."""
    v = version()
    about_staff = next(i for i in v.document.indicators if i.lado)
    walker.concerns([about_staff.id], location=walker.to_concerns())
    walker.finish_questions(consent="not_asked")
    route, _level, _reasons, _services, page = walker.recommendation()
    assert route == "universal" and 'id="lado"' in page
    universal_steps = v.document.routes.universal.next_steps
    assert not any(escape(step) in page for step in universal_steps)
    assert "Follow the steps for the LADO above" in page and "go back and choose that concern too" in page
    summary = walker.client.get("/refer/summary").text
    for step in v.document.lado.next_steps:
        assert str(escape(step)) in summary
    assert not any(str(escape(step)) in summary for step in universal_steps)


def test_a_concern_the_family_must_not_hear_of_says_so_on_the_family_page_and_the_result(walker):
    """Forced marriage, FGM, fabricated illness...: the family page says not to ask for consent, and
    the recommendation says not to tell the family, never "tell the parents you are referring"."""
    v = version()
    flagged = [i for i in v.document.indicators if i.family_not_told and journey.applies(i, 15 * 12, False)]
    if not flagged:
        pytest.skip("the version in force marks no concern family_not_told")
    walker.concerns([flagged[0].id], location=walker.to_concerns(years=15, months=0))
    walker.answer("/refer/what-happened", {"what_happened": "She said she is to be married in the summer",
                                          "seen": "yes", "says": "I do not want to", "wants": "to finish school"},
                  "/refer/family")
    page = walker.client.get("/refer/family").text
    assert 'id="family-not-told"' in page and str(escape(flagged[0].text)) in page
    walker.answer("/refer/family", {"working_well": "Attends school", "aware": "no", "consent": "not_asked"},
                  "/refer/check")
    walker.answer("/refer/check", {}, "/refer/recommendation")
    result = walker.recommendation()[4]
    for step in v.document.consent_advice.not_needed.social_care:
        assert str(escape(step)) in result
    for step in v.document.consent_advice.not_asked.social_care:
        assert str(escape(step)) not in result


def test_the_family_page_has_no_such_warning_for_other_concerns(walker):
    v = version()
    ordinary = next(i for i in v.document.indicators if not i.family_not_told and not i.lado and i.level == 2
                    and not i.asks_for and journey.applies(i, 9 * 12 + 3, False))
    walker.concerns([ordinary.id], location=walker.to_concerns())
    walker.answer("/refer/what-happened", {"what_happened": "Often hungry", "seen": "yes", "says": "hungry",
                                          "wants": "lunch"}, "/refer/family")
    assert 'id="family-not-told"' not in walker.client.get("/refer/family").text


def test_a_do_not_tell_concern_ticked_from_check_shows_the_family_page_again(walker):
    """The family agreed to early help for behaviour; sexual abuse (say) ticked afterwards from Check your
    answers goes back to the family page with its warning, not straight to Check: no referral says the
    family know and agree without the referrer having seen it."""
    v = version()
    flagged = do_not_tell_concerns(1)[0]
    ordinary = level_items(2)[0]
    walker.concerns([ordinary], location=walker.to_concerns())
    walker.finish_questions(consent="given")
    assert walker.change_concerns([ordinary, flagged.id]).split("?")[0] == "/refer/family"
    assert walker.client.get("/refer/check").location.split("?")[0] == "/refer/family"
    page = walker.client.get("/refer/family").text
    assert 'id="family-not-told"' in page and str(escape(flagged.text)) in page
    walker.answer("/refer/family", {"working_well": "Attends school", "aware": "yes", "consent": "not_needed",
                                    "reason": "Telling them could put her at risk"}, "/refer/check")
    walker.answer("/refer/check", {}, "/refer/recommendation")
    result = walker.recommendation()[4]
    for step in v.document.consent_advice.not_needed.social_care:
        assert str(escape(step)) in result


def test_a_do_not_tell_concern_chosen_in_another_tab_is_not_taken_as_warned_about(walker):
    """The family page is open in one tab, without a warning; in another tab the referrer ticks sexual abuse
    (say). The family page sent from the first tab did not show that concern's warning, so its answer does
    not cover it (the page says which warnings it showed): it is shown again with the warning, never
    skipped to Check your answers as if the referrer had read it."""
    v = version()
    flagged = do_not_tell_concerns(1)[0]
    ordinary = level_items(2)[0]
    walker.concerns([ordinary], location=walker.to_concerns())
    walker.answer("/refer/what-happened", {"what_happened": "Often hungry", "seen": "yes", "says": "hungry",
                                          "wants": "lunch"}, "/refer/family")
    first_tab = walker.client.get("/refer/family").text
    assert 'id="family-not-told"' not in first_tab and 'name="warned" type="hidden" value=""' in first_tab
    walker.change_concerns([ordinary, flagged.id])  # in the other tab
    assert flagged.id in journey.family_not_told(v, walker.answers())
    sent = walker.answer("/refer/family", {"working_well": "Attends school", "aware": "yes", "consent": "given",
                                           "warned": ""})  # as the first tab's page sends it
    assert sent == "/refer/family"
    assert walker.answers().consent.warned == () and walker.answers().consent.consent == "given"  # nothing lost
    assert walker.client.get("/refer/check").location.split("?")[0] == "/refer/family"
    page = walker.client.get("/refer/family").text
    assert "You chose a concern in another tab or window that the family must not be told about" in page
    assert 'id="family-not-told"' in page and str(escape(flagged.text)) in page
    assert f'name="warned" type="hidden" value="{flagged.id}"' in page
    walker.answer("/refer/family", {"working_well": "Attends school", "aware": "yes", "consent": "not_needed",
                                    "reason": "Telling them could put her at risk", "warned": flagged.id},
                  "/refer/check")
    assert walker.answers().consent.warned == (flagged.id,)


def test_the_family_page_counts_only_the_warnings_it_showed(walker):
    """A warning shown before still counts; a forged or stale list never covers a concern not chosen or not shown."""
    first, second = (i.id for i in do_not_tell_concerns(2))
    walker.concerns([first, second], location=walker.to_concerns())
    walker.answer("/refer/what-happened", {"what_happened": "Often hungry", "seen": "yes", "says": "hungry",
                                          "wants": "lunch"}, "/refer/family")
    family = {"working_well": "Attends school", "aware": "yes", "consent": "not_needed", "reason": "Risk"}
    assert walker.answer("/refer/family", {**family, "warned": f"{first} not_a_concern"}) == "/refer/family"
    assert walker.answers().consent.warned == (first,)
    walker.answer("/refer/family", {**family, "warned": f"{second} {first}"}, "/refer/check")
    assert set(walker.answers().consent.warned) == {first, second}


def test_a_draft_started_under_a_version_since_superseded_is_advised_under_the_one_in_force(walker):
    """A referrer answering when a new version comes into force (midnight on its date, or one just
    published): on their next page the draft moves to the version in force (any question it adds is
    asked), and the recommendation, its record and the footer all name it."""
    v = version()
    older = next(o for o in reversed(current_library().versions) if o.effective_from < v.effective_from)
    item = next(i.id for i in older.document.indicators if i.level == 2 and not i.asks_for and not i.lado
                and i.id in v.indicators and not v.indicators[i.id].asks_for and journey.applies(i, 111, False)
                and not journey.is_emergency(v.indicators[i.id]))
    walker.start()
    draft = db.session.get(Draft, walker.draft_id)
    draft.threshold_id, draft.threshold_hash = older.id, older.content_hash
    db.session.commit()
    location = walker.answer("/refer/danger", {"in_danger": "no"})
    if location == "/refer/about-you":
        location = walker.answer(location, {"role": "dsl", "organisation": "school"})
    walker.answer(location, {"born": "born", "years": 9, "months": 3}, "/refer/serious")
    target = journey.with_concerns(older, walker.answers(), [item])
    location = "/refer/serious"
    while location in ("/refer/serious", "/refer/areas", "/refer/concerns"):
        ticks = getattr(target, location.removeprefix("/refer/"))
        location = walker.answer(location, {"concerns": list(ticks.ticked if ticks else ()) or ["none"]})
    walker.answer(location, {"what_happened": "Often hungry", "seen": "yes", "says": "hungry", "wants": "lunch"},
                  "/refer/family")
    walker.family()
    location = walker.client.get("/refer/check").location or "/refer/check"
    assert db.session.get(Draft, walker.draft_id).threshold_id == v.id  # moved before any advice
    for _ in range(8):  # what the new version asks, if anything
        page = location.split("?")[0]
        if page in ("/refer/serious", "/refer/areas", "/refer/concerns"):
            ticks = getattr(journey.with_concerns(v, walker.answers(), [item]), page.removeprefix("/refer/"))
            location = walker.answer(location, {"concerns": list(ticks.ticked if ticks else ()) or ["none"]})
        elif page == "/refer/what-happened":
            location = walker.answer(location, {"what_happened": "Often hungry", "seen": "yes", "says": "hungry",
                                                "wants": "lunch"})
        elif page == "/refer/family":
            location = walker.family()
        else:
            break
    assert location.split("?")[0] == "/refer/check"
    walker.answer("/refer/check", {}, "/refer/recommendation")
    (recorded,) = db.session.scalars(select(Assessment)).all()
    assert (recorded.threshold_id, recorded.threshold_hash) == (v.id, v.content_hash)
    assert item in recorded.indicator_ids
    page = walker.client.get("/refer/recommendation").text
    assert f"version {v.id}" in page and f"version {older.id}," not in page and f"version {older.id}\n" not in page


def test_advice_recorded_under_a_version_since_superseded_is_worked_out_again(walker):
    """The recommendation was shown under the old version just before the new one came in: the
    recommendation, finishing and sending all go back to Check your answers first."""
    v = version()
    older = next(o for o in reversed(current_library().versions) if o.effective_from < v.effective_from)
    walker.concerns([level_items(4)[0]], location=walker.to_concerns())
    walker.finish_questions()
    draft = db.session.get(Draft, walker.draft_id)
    draft.threshold_id, draft.threshold_hash = older.id, older.content_hash
    draft.assessment.threshold_id, draft.assessment.threshold_hash = older.id, older.content_hash
    draft.assessment.answers_key = journey.answers_key(older, walker.answers())  # as if recorded under it
    db.session.commit()
    assert walker.client.head("/refer/recommendation").status_code in (200, 302)
    assert db.session.get(Draft, walker.draft_id).threshold_id == older.id  # a HEAD request moves nothing
    for path in ("/refer/recommendation", "/refer/referral", "/refer/disagree", "/refer/summary"):
        assert walker.client.get(path).location == "/refer/check", path
    assert db.session.get(Draft, walker.draft_id).threshold_id == v.id
    assert walker.post("/refer/finish").location == "/refer/check"


def _on_older_version(walker):
    """Put the walker's draft on the version before the one in force, as if started before it came in."""
    v = version()
    older = next(o for o in reversed(current_library().versions) if o.effective_from < v.effective_from)
    draft = db.session.get(Draft, walker.draft_id)
    draft.threshold_id, draft.threshold_hash = older.id, older.content_hash
    db.session.commit()
    return v, older


def test_a_form_sent_as_a_new_version_comes_in_is_handled_as_it_was_shown(walker):
    """The pages were built for the draft's own version: what they send is saved under it (nothing
    typed is lost, nothing the referrer never saw counts as answered), and the next page shown moves
    the draft, asking what the new version adds."""
    location = walker.to_concerns(years=14)
    v, older = _on_older_version(walker)
    answers = walker.answers()
    added = {i.id for i in journey.layout(v, answers).serious_items} - {
        i.id for i in journey.layout(older, answers).serious_items}
    location = walker.concerns([], location=location)  # every concerns page as the older version shows it
    assert location == "/refer/what-happened"
    account = "She told me about the man who meets her after school. " * 20
    walker.post("/refer/what-happened", {"what_happened": account, "seen": "yes", "says": "x", "wants": "y"})
    assert walker.answers().what_happened == account.strip()
    following = walker.client.get("/refer/family")
    assert db.session.get(Draft, walker.draft_id).threshold_id == v.id
    assert walker.answers().what_happened == account.strip()
    if added:  # the new version's serious concerns are asked, not taken as answered "no"
        assert following.location == "/refer/serious"
        assert not journey.is_answered(v, "serious", walker.answers())


def test_a_page_shown_under_another_version_is_not_saved_but_shown_again_filled_in(walker):
    """Another tab moved the draft to the new version: this tab's page, built for the old one, is not
    saved (its concerns would count as seen); it is shown again, as the new version asks it."""
    location = walker.to_concerns(years=14)
    v, older = _on_older_version(walker)
    assert walker.client.get(location).status_code == 200  # another tab: the draft moves to v
    assert db.session.get(Draft, walker.draft_id).threshold_id == v.id
    response = walker.post("/refer/serious", {"concerns": ["none"], "shown_under": older.id})
    assert response.status_code == 302 and response.location == "/refer/serious"
    assert walker.answers().serious is None or not journey.is_answered(v, "serious", walker.answers())
    page = walker.client.get("/refer/serious").text
    assert "threshold document changed while you were answering" in page
    assert 'value="none" checked' in page  # what was sent, kept and shown again
    assert f'name="shown_under" value="{v.id}"' in page


def test_yes_to_immediate_danger_sent_from_a_page_shown_under_another_version_goes_on_to_call_999(walker):
    """Every version asks "is the child in immediate danger?" alike: a "yes" sent from a page built for the
    version before is saved and goes on to Call 999, never back to the question (or a Call 999 page whose
    first words are to check answers because the thresholds changed)."""
    walker.start()
    v, older = _on_older_version(walker)
    assert walker.client.get("/refer/danger").status_code == 200  # another tab: the draft moves to v
    sent = walker.post("/refer/danger", {"in_danger": "yes", "shown_under": older.id})
    assert sent.status_code == 302 and sent.location == "/refer/phone-now"
    assert walker.answers().in_danger == "yes" and db.session.get(Draft, walker.draft_id).kept_forms is None
    assessment = db.session.scalar(select(Assessment))
    assert assessment.immediate and assessment.threshold_id == v.id
    page = walker.client.get("/refer/phone-now").text
    assert "999" in page and "threshold document changed" not in page


def test_referral_details_sent_as_a_new_version_comes_in_are_kept(walker):
    walker.concerns([level_items(4)[0]], location=walker.to_concerns())
    walker.finish_questions()
    assert walker.client.get("/refer/referral").status_code == 200
    v, older = _on_older_version(walker)
    draft = db.session.get(Draft, walker.draft_id)
    draft.assessment.answers_key = journey.answers_key(older, walker.answers())
    db.session.commit()
    response = walker.post("/refer/referral", referral_details(first_name="Zebedee"))
    assert response.location == "/refer/check"
    assert "threshold document changed" in walker.client.get("/refer/check").text
    walker.answer("/refer/check", {}, "/refer/recommendation")
    assert 'value="Zebedee"' in walker.client.get("/refer/referral").text
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_a_head_request_to_the_999_page_records_nothing(walker):
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "yes"}, "/refer/phone-now")
    for assessment in db.session.scalars(select(Assessment)):
        db.session.delete(assessment)
    db.session.commit()
    walker.client.head("/refer/phone-now")
    assert db.session.scalar(select(func.count()).select_from(Assessment)) == 0
    assert walker.client.get("/refer/phone-now").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Assessment)) == 1


def test_the_999_path_records_under_the_version_in_force(walker):
    walker.start()
    v, _older = _on_older_version(walker)
    walker.answer("/refer/danger", {"in_danger": "yes"}, "/refer/phone-now")
    assert walker.client.get("/refer/phone-now").status_code == 200  # straight there: nothing in between
    (recorded,) = db.session.scalars(select(Assessment)).all()
    assert recorded.threshold_id == v.id and recorded.immediate


def test_a_draft_on_a_version_this_host_has_not_loaded_is_never_moved_back(walker, monkeypatch):
    """A version published a moment ago (or a file still being deployed) that this host has not read:
    its drafts get the 503 page with the numbers, never the older version's pages or advice."""
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    draft = db.session.get(Draft, walker.draft_id)
    draft.threshold_id = "northmere-2099-01"  # newer than any this host knows
    db.session.commit()
    for path in ("/refer/serious", "/refer/check", "/refer/recommendation"):
        page = walker.client.get(path)
        assert page.status_code == 503 and "999" in page.text, path
    assert walker.post("/refer/drafts/resume", {"draft_id": walker.draft_id}).status_code == 503
    assert db.session.get(Draft, walker.draft_id).threshold_id == "northmere-2099-01"
    assert walker.client.get("/refer/drafts").status_code == 200  # the list still works


def _a_baby_concern_dropped_by_a_change_of_age(walker):
    """A concern only for babies, ticked for one of 2 months, then the age changed to 9: (the concern,
    where the change went)."""
    baby = journey.with_concerns(version(), journey.JourneyAnswers(child=journey.Child(years=0, months=2)), [])
    plan = journey.layout(version(), baby)
    baby_only = next((i for a in plan.area_ids for i in plan.by_area[a]
                      if not i.question and (i.options[0].max_age_months or 999) < 12), None)
    if baby_only is None:
        pytest.skip("no baby-only concern in this version")
    walker.concerns([baby_only.id], location=walker.to_concerns(years=0, months=2))
    walker.finish_questions()
    return baby_only, walker.answer("/refer/about-child?change=1", {"born": "born", "years": "9", "months": "3"})


def test_a_dropped_notice_not_yet_shown_survives_a_move_and_is_shown_once(walker):
    baby_only, location = _a_baby_concern_dropped_by_a_change_of_age(walker)
    _on_older_version(walker)  # the new version comes in between the answer and the next page
    page = walker.client.get(location)
    page = walker.client.get(page.location) if page.status_code == 302 else page
    assert page.text.count("Some answers no longer apply and were removed") == 1
    assert f"<li>{escape(baby_only.text)}</li>" in page.text


def test_a_same_day_concern_says_phone_the_front_door_today_on_every_page_after_it(walker):
    """The threshold document says to phone before writing anything: the pages after the tick say
    so, with the number, not only the recommendation at the end."""
    v = version()
    walker.to_concerns(years=9, months=3)
    assert 'id="phone-today"' not in walker.client.get("/refer/serious").text
    plan = journey.layout(v, walker.answers())
    same_day = next(i.id for i in plan.serious_items if v.indicators[i.id].urgency == "same_day")
    location = walker.answer("/refer/serious", {"concerns": [same_day]})
    pages = []
    while location != "/refer/recommendation":
        page = walker.client.get(location).text
        assert 'id="phone-today"' in page and v.document.same_day.title in page, location
        assert v.document.contacts.front_door.phone in page
        pages.append(location)
        location = {"/refer/areas": lambda: walker.answer(location, {"concerns": ["none"]}),
                    "/refer/what-happened": lambda: walker.answer(location, {
                        "what_happened": "She told me he hurts her", "seen": "yes", "says": "he hurts me",
                        "wants": "to stay with nan"}),
                    "/refer/family": lambda: walker.answer(location, {"working_well": "School", "aware": "no",
                                                                      "consent": "not_asked"}),
                    "/refer/check": lambda: walker.answer(location, {})}[location]()
    assert pages[0] == "/refer/areas" and pages[-1] == "/refer/check"
    assert walker.recommendation()[4].count('id="phone-today"') == 0  # the recommendation has its own


def test_a_same_day_referral_still_says_phone_today_while_it_is_written_and_once_it_is_sent(walker):
    """A referrer who goes straight from the recommendation to the referral form (the form is where
    the button leads) is still told to phone first on the form and on Check before you send, and the
    confirmation does not leave them thinking a written referral, decided "within one working day",
    is enough for a concern that needs a call today."""
    v = version()
    contacts = v.document.contacts
    walker.concerns(["disclosure_of_abuse"], location=walker.to_concerns())
    walker.finish_questions(consent="not_asked")
    form = walker.client.get("/refer/referral").text
    assert 'id="phone-today"' in form and contacts.front_door.phone in form
    walker.answer("/refer/referral", referral_details(), "/refer/send/referral")
    check = walker.client.get("/refer/send/referral").text
    assert 'id="phone-today"' in check and v.document.same_day.title in check
    walker.answer("/refer/send/referral", {}, "/refer/confirmation")
    sent = walker.client.get("/refer/confirmation").text
    assert 'id="phone-today-sent"' in sent and "If you have not phoned" in sent
    assert contacts.front_door.phone in sent and contacts.out_of_hours.phone in sent


def test_a_written_referral_is_not_told_to_phone_today(walker):
    item = next(i for i in level_items(4) if version().indicators[i].urgency == "standard")
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    assert 'id="phone-today"' not in walker.client.get("/refer/referral").text
    walker.answer("/refer/referral", referral_details(), "/refer/send/referral")
    assert 'id="phone-today"' not in walker.client.get("/refer/send/referral").text
    walker.answer("/refer/send/referral", {}, "/refer/confirmation")
    assert 'id="phone-today-sent"' not in walker.client.get("/refer/confirmation").text


def answer_what_the_change_asks(walker, location: str, item: str) -> str:
    """After a change of the child, answer each page it left unanswered (as the pages ask) until Check."""
    for _ in range(8):
        page = location.split("?")[0]
        if page in ("/refer/serious", "/refer/areas", "/refer/concerns"):
            target = journey.with_concerns(version(), walker.answers(), [item])
            ticks = getattr(target, page.removeprefix("/refer/"))
            location = walker.answer(location, {"concerns": list(ticks.ticked if ticks else ()) or ["none"]})
        elif page == "/refer/what-happened":
            location = walker.answer(location, {"what_happened": "Mother says her partner hits her"})
        elif page == "/refer/family":
            location = walker.answer(location, {"working_well": "School", "aware": "yes", "consent": "given"})
        else:
            return location
    return location


@pytest.mark.parametrize("unborn", [False, True])
def test_details_given_before_the_child_changed_are_checked_again_before_sending(walker, unborn):
    """The details saved for a 9-year-old (their date of birth) are never sent for a child now said to
    be 3, or unborn, without being checked again: Check before you send goes back to them."""
    v = version()
    item = next(i.id for i in v.document.indicators if i.level == 4 and not i.asks_for and not i.lado
                and not journey.is_emergency(i) and journey.applies(i, 111, False)
                and journey.applies(i, None if unborn else 36, unborn))
    walker.concerns([item], location=walker.to_concerns(years=9, months=3))
    walker.finish_questions()
    walker.answer("/refer/referral", referral_details(), "/refer/send/referral")
    due = uk_today() + dt.timedelta(days=60)
    change = ({"born": "unborn", "due_day": due.day, "due_month": due.month, "due_year": due.year} if unborn
              else {"born": "born", "years": 3, "months": 0})
    location = answer_what_the_change_asks(walker, walker.answer("/refer/about-child?change=1", change), item)
    assert location == "/refer/check"
    walker.answer("/refer/check", {}, "/refer/recommendation")
    assert walker.answers().sending is not None  # kept, to be checked again: nothing typed is lost
    assert walker.client.get("/refer/send/referral").location == "/refer/referral"
    assert "What you said about the child has changed" in walker.client.get("/refer/referral").text
    assert walker.post("/refer/send/referral").location == "/refer/referral"
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


# ---------------------------------------------------------------------------------- routes

def test_no_concerns_recommends_universal_services(walker):
    location = walker.concerns(location=walker.to_concerns())
    assert location == "/refer/what-happened"
    walker.finish_questions()
    route, level, reasons, services, html = walker.recommendation()
    assert (route, level) == ("universal", 1)
    assert services, "universal services for the child's age are listed"
    walker.answer("/refer/finish", {}, "/refer/summary")
    assessment = db.session.scalar(select(Assessment))
    assert assessment.route_taken == "universal" and not assessment.overridden
    assert walker.client.get("/refer/summary").status_code == 200


def test_back_after_finishing_never_shows_another_drafts_pages(walker):
    """Only signing in again or resuming picks a draft the session is not on: Back after finishing
    one child's assessment must not show (and offer to finish) another child's."""
    walker.concerns([level_items(2, 3)[0]], location=walker.to_concerns(years=0, months=3))
    walker.finish_questions()
    other = walker.draft_id
    walker.concerns(location=walker.to_concerns())
    walker.finish_questions()
    walker.answer("/refer/finish", {}, "/refer/summary")
    for path in ("/refer/recommendation", "/refer/check", "/refer/serious"):
        assert walker.client.get(path).location == "/", path
    with walker.client.session_transaction() as session:
        assert "draft_id" not in session
    assert f'name="draft_id" value="{other}"' in walker.client.get("/").text  # still there, to resume


def test_one_additional_need_recommends_early_help_with_how_to_start(walker):
    item = level_items(2)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    route, level, reasons, services, html = walker.recommendation()
    assert (route, level, reasons) == ("early_help", 2, [item])
    assert "Starting early help" in html
    walker.answer("/refer/finish", {}, "/refer/summary")
    assert db.session.scalar(select(Assessment)).route_taken == "early_help"


def test_consent_refused_never_lowers_a_social_care_level(walker):
    item = level_items(3)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions(consent="refused")
    route, level, reasons, _, html = walker.recommendation()
    assert route == "social_care" and level == 3 and item in reasons
    assert "Continue to the referral" in html


def test_consent_refused_turns_early_help_into_universal_services(walker):
    item = level_items(2)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions(consent="refused")
    route, level, reasons, _, _ = walker.recommendation()
    assert route == "universal" and level == 2 and item in reasons
    assert any(r.startswith("consent") for r in reasons)


def test_top_level_concern_refers_to_social_care_whatever_the_consent(walker):
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions(consent="refused")
    route, level, reasons, _, html = walker.recommendation()
    assert (route, level) == ("social_care", 4)
    assert "Continue to the referral" in html


def test_severity_answer_picks_the_level(walker):
    v = version()
    location = walker.to_concerns(years=14, months=0)
    plan = journey.layout(v, walker.answers())
    question = next(i for area in plan.area_ids for i in plan.by_area[area] if i.question)
    lowest = question.options[0]
    walker.answer("/refer/serious", {"concerns": ["none"]}, "/refer/areas")
    assert f'value="{question.area}"' in walker.client.get("/refer/areas").text
    walker.answer("/refer/areas", {"concerns": [question.area]}, "/refer/concerns")
    assert str(escape(question.question.question)) in walker.client.get("/refer/concerns").text  # beside it
    response = walker.post("/refer/concerns", {"concerns": [question.id]})
    assert response.status_code == 200 and "Select an answer" in response.text
    walker.answer("/refer/concerns", {"concerns": [question.id], f"severity_{question.id}": lowest.id},
                  "/refer/what-happened")
    walker.finish_questions()
    route, level, reasons, _, _ = walker.recommendation()
    assert lowest.id in reasons and level >= lowest.level


def test_unborn_baby_skips_the_voice_page(walker):
    location = walker.concerns(location=walker.to_concerns(unborn=True))
    assert location == "/refer/what-happened"
    assert "seen and spoken" not in walker.client.get(location).text
    walker.finish_questions(unborn=True)
    assert walker.recommendation()[0] == "universal"


# ---------------------------------------------------------------------------------- acting on it

def referral_details(**overrides):
    born = uk_today() - dt.timedelta(days=9 * 365 + 100)  # 9 years and about 3 months
    return {"first_name": "Ada", "last_name": "Example", "dob_day": str(born.day), "dob_month": str(born.month),
            "dob_year": str(born.year), "address": "1 Fictional Row, Northmere",
            "postcode": "nm1 4ab", "parents": "Sam Example (mother), 01632 960 555",
            "interpreter": "no", "referrer_phone": "01632 960 777", **overrides}


def test_social_care_referral_is_sent_once_even_on_double_submit(walker):
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    assert walker.client.get("/refer/referral").status_code == 200
    walker.answer("/refer/referral", referral_details(), "/refer/send/referral")
    check = walker.client.get("/refer/send/referral")
    assert "Check before you send the referral" in check.text and "1 Fictional Row, Northmere" in check.text
    assert "She said she was hungry" in check.text  # the referrer's own words go with it
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0  # nothing sent before check
    first = walker.post("/refer/send/referral")
    second = walker.post("/refer/send/referral")
    assert first.location == second.location == "/refer/confirmation"
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 1
    made = db.session.scalar(select(Referral))
    assert made.details["postcode"] == "NM1 4AB" and made.assessment.route_taken == "social_care"
    confirmation = walker.client.get("/refer/confirmation")
    assert made.reference in confirmation.text
    assert "<title>Referral sent" in confirmation.text and "sent your referral to the front door" in confirmation.text
    assert db.session.scalar(select(Draft)).submitted_at is not None
    actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert actions.count("referral_submitted") == 1


def test_an_early_help_request_goes_to_the_family_help_hub_after_check(walker):
    item = level_items(2)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    route, level, _, _, html = walker.recommendation()
    assert (route, level) == ("early_help", 2) and "Send a request to the Family Help Hub" in html
    assert walker.send(referral_details(), kind="early_help_request") == "/refer/confirmation"
    made = db.session.scalar(select(Referral))
    assert made.kind == "early_help_request" and made.assessment.route_taken == "early_help"
    assert not made.assessment.overridden and made.details["answers"]["what_happened"]
    assert walker.client.get("/refer/referral").location == "/refer/confirmation"
    # The confirmation says where it went: the hub, not the front door's referral decision.
    page = walker.client.get("/refer/confirmation").text
    hub = version().document.contacts.early_help
    assert "<title>Early help request sent" in page and made.reference in page
    assert f"sent your request for early help to the {hub.name}" in page and hub.phone in page
    assert "Referral sent" not in page and "sent your referral to the front door" not in page
    assert "Start another referral" not in page and "Start again for another child" in page
    out_of_hours = version().document.contacts.out_of_hours
    assert out_of_hours.phone in page and "call 999" in page


def test_my_referrals_keeps_every_finished_assessment_with_a_printable_summary(walker):
    walker.concerns([], location=walker.to_concerns())
    walker.finish_questions()
    walker.answer("/refer/finish", {}, "/refer/summary")
    walker.concerns([level_items(4)[0]], location=walker.to_concerns(years=9, months=3))
    walker.finish_questions()
    assert walker.send(referral_details()) == "/refer/confirmation"
    history = walker.client.get("/refer/my-referrals")
    kept, referred = db.session.scalars(select(Assessment).order_by(Assessment.id)).all()
    assert f'data-assessment-id="{kept.id}"' in history.text and f'data-assessment-id="{referred.id}"' in history.text
    assert "Kept a summary: universal services" in history.text and referred.referral.reference in history.text
    summary = walker.client.get(f"/refer/my-referrals/summary/{kept.id}")
    assert summary.status_code == 200 and "data-print" in summary.text
    assert 'data-route="universal"' in summary.text


def test_each_printable_summary_has_a_back_link_to_where_the_referrer_came_from(walker):
    walker.concerns([], location=walker.to_concerns())
    walker.finish_questions()
    assert back_link(walker.client.get("/refer/summary")) == "/refer/recommendation"  # See a printable summary
    walker.answer("/refer/finish", {}, "/refer/summary")
    assert back_link(walker.client.get("/refer/summary")) == "/refer/my-referrals"  # finished: kept there now
    kept = db.session.scalar(select(Assessment))
    assert back_link(walker.client.get(f"/refer/my-referrals/summary/{kept.id}")) == "/refer/my-referrals"


def test_no_early_help_request_without_the_familys_consent(walker):
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.finish_questions(consent="not_asked")
    route, _, _, _, html = walker.recommendation()
    assert route == "early_help" and "Send a request to the Family Help Hub" not in html
    assert walker.client.get("/refer/early-help-request").location == "/refer/recommendation"


@pytest.mark.parametrize("consent", ["given", "refused"])
def test_a_family_that_does_not_know_of_the_worry_cannot_have_agreed_or_refused(walker, consent):
    """"The family does not know you are worried" beside "the family agrees" (or refuses) is a slip of a
    radio: an early-help request would go to the hub saying the family agreed to what it was never told.
    The page says so beside the consent question, and nothing is saved until one answer changes."""
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.answer("/refer/what-happened", {"what_happened": "Tired", "seen": "yes", "says": "Fine",
                                           "wants": "Nothing"}, "/refer/family")
    family = {"working_well": "Comes every day", "aware": "no", "consent": consent, "reason": "Said no"}
    check_errors(walker.post("/refer/family", family),
                 {"consent": "The family cannot have agreed or said no if they do not know you are worried. "
                             "Change one of the answers"})
    walker.answer("/refer/family", {**family, "aware": "yes"}, "/refer/check")


def test_referral_details_are_validated_and_kept_on_error(walker):
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    response = walker.post("/refer/referral", referral_details(first_name="", dob_month="13"))
    assert response.status_code == 200
    assert "Enter the child&#39;s first name" in response.text or "Enter the child's first name" in response.text
    assert "1 Fictional Row, Northmere" in response.text  # what was typed is not lost
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_override_to_social_care_needs_a_reason_and_is_logged(walker):
    item = level_items(2)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    assert walker.client.get("/refer/disagree").status_code == 200
    response = walker.post("/refer/disagree", {"route": "social_care", "reason": ""})
    assert response.status_code == 200 and "Enter why you disagree" in response.text
    walker.answer("/refer/disagree", {"route": "social_care", "reason": "Her brother was hurt last year"},
                  "/refer/referral")
    assert walker.send(referral_details()) == "/refer/confirmation"
    assessment = db.session.scalar(select(Assessment))
    assert assessment.overridden and assessment.recommended_route == "early_help"
    assert assessment.route_taken == "social_care" and "brother" in assessment.override_reason
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "route_overridden"))
    assert event.detail == {"recommended": "early_help", "taken": "social_care"}


def test_override_to_a_lower_route_finishes_without_a_referral(walker):
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    walker.answer("/refer/disagree", {"route": "early_help", "reason": "Already known, plan in place"},
                  "/refer/summary")
    assessment = db.session.scalar(select(Assessment))
    assert assessment.overridden and assessment.route_taken == "early_help"
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_a_double_click_on_taking_another_route_shows_the_summary_as_one_click_does(walker):
    """Without JavaScript (or after GOV.UK's one second), both clicks reach the server: the page the
    browser shows is the second's, which must be the summary just finished, not My referrals."""
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.finish_questions()
    for _ in range(2):
        walker.answer("/refer/disagree", {"route": "universal", "reason": "The school nurse is seeing her weekly"},
                      "/refer/summary")
    assert walker.client.get("/refer/summary").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Assessment)) == 1
    assert db.session.scalar(select(Assessment)).override_reason == "The school nurse is seeing her weekly"


def test_disagreeing_with_a_same_day_referral_is_still_told_to_phone_and_to_talk_it_through_first(walker):
    """The page for taking another route said only "You know the child: you can still take another
    route", even for any injury on a baby who is not mobile, which the protocol says is referred the
    same day whatever the explanation."""
    contacts = version().document.contacts
    walker.concerns(["injury_non_mobile_child"], location=walker.to_concerns(years=0, months=4))
    walker.finish_questions(voice={"seen": "seen_not_spoken", "observed": "A bruise on her cheek"})
    page = walker.client.get("/refer/disagree").text
    assert 'id="phone-today"' in page and contacts.front_door.phone in page
    assert 'id="before-another-route"' in page and contacts.consultation.phone in page


def test_disagreeing_with_early_help_has_no_such_warning(walker):
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.finish_questions()
    page = walker.client.get("/refer/disagree").text
    assert 'id="before-another-route"' not in page and 'id="phone-today"' not in page


# ---------------------------------------------------------------------------------- nothing lost

def test_validation_error_keeps_what_was_typed(walker):
    walker.concerns(location=walker.to_concerns())
    response = walker.post("/refer/what-happened", {"what_happened": "Bruise", "seen": "yes", "says": "",
                                                    "wants": "To live with nan"})
    assert response.status_code == 200
    assert "There is a problem" in response.text and "To live with nan" in response.text
    assert "Enter what the child says" in response.text


def test_age_page_reads_only_the_boxes_under_the_chosen_answer(walker):
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "no"})
    walker.answer("/refer/about-you", {"role": "dsl", "organisation": "school"})
    # Junk left in the hidden expected-date boxes must not block a born child's age.
    walker.answer("/refer/about-child", {"born": "born", "years": "9", "months": "1", "due_day": "x",
                                         "due_month": "13"}, "/refer/serious")
    response = walker.post("/refer/about-child", {"born": "born", "years": "nine", "months": "1"})
    assert response.status_code == 200
    assert "Years must be a whole number from 0 to 17" in response.text
    assert "Not a valid" not in response.text
    response = walker.post("/refer/about-child", {"born": "unborn", "years": "x", "due_day": "31",
                                                  "due_month": "2", "due_year": "2027"})
    assert "The expected date of birth must be a real date" in response.text


def test_referral_date_of_birth_must_fit_the_age_given(walker):
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns(years=9, months=3))
    walker.finish_questions()
    year = uk_today().year - 2
    response = walker.post("/refer/referral", referral_details(dob_year=str(year)))
    assert response.status_code == 200 and "but you said 9 years and 3 months" in response.text
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_a_young_person_who_has_turned_18_cannot_be_referred_as_a_child(walker):
    """17 years and 11 months said, and a date of birth 18 years and 10 days ago: within the month's
    leeway for the age, but an adult. A day short of 18 is still a child."""
    item = level_items(4, 17 * 12 + 11)[0]
    walker.concerns([item], location=walker.to_concerns(years=17, months=11))
    walker.finish_questions()
    turned = uk_today() - dt.timedelta(days=10)  # turned 18 ten days ago
    adult = dt.date(turned.year - 18, turned.month, min(turned.day, 28 if turned.month == 2 else 31))
    child = uk_today().replace(day=1) - dt.timedelta(days=1)
    child = dt.date(child.year - 17, child.month, 1)  # 17 and about 11 months
    for born, refused in ((adult, True), (child, False)):
        response = walker.post("/refer/referral", referral_details(
            dob_day=str(born.day), dob_month=str(born.month), dob_year=str(born.year)))
        assert ("the child must be under 18" in response.text) == refused, born
    assert eighteenth_birthday(dt.date(2008, 2, 29)) == dt.date(2026, 3, 1)
    assert eighteenth_birthday(dt.date(2008, 12, 7)) == dt.date(2026, 12, 7)


def test_concerns_page_needs_an_answer_and_none_is_exclusive(walker):
    walker.to_concerns()
    response = walker.post("/refer/serious", {})
    assert response.status_code == 200 and "or select &#39;None of these&#39;" in response.text
    response = walker.post("/refer/serious", {"concerns": [level_items(4)[0], "none"]})
    assert response.status_code == 200 and "only if none of them apply" in response.text


def test_pages_cannot_be_skipped(walker):
    walker.start()
    assert walker.client.get("/refer/check").location == "/refer/danger"
    assert walker.client.get("/refer/what-happened").location == "/refer/danger"


def test_back_link_and_change_from_check_keep_answers(walker):
    walker.concerns(location=walker.to_concerns())
    walker.finish_questions()
    page = walker.client.get("/refer/about-you?change=1")
    assert 'value="dsl" checked' in page.text and 'href="/refer/check"' in page.text
    walker.answer("/refer/about-you?change=1", {"role": "teacher", "organisation": "school"}, "/refer/check")


BACK_RE = re.compile(r'<a href="([^"]*)" class="govuk-back-link')


def back_link(response) -> str:
    return BACK_RE.search(response.text).group(1)


def test_back_from_about_the_child_skips_about_you_when_it_was_not_asked(walker):
    """About you is asked once per account; after that, Continue on the danger page goes straight to
    About the child, so its Back goes to the danger page, not to a page this journey never showed."""
    walker.concerns(location=walker.to_concerns())
    walker.finish_questions()  # this account has now said who they are
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "no"}, "/refer/about-child")
    assert back_link(walker.client.get("/refer/about-child")) == "/refer/danger"
    response = walker.post("/refer/about-child", {"born": "born"})  # an error: the same Back
    assert response.status_code == 200 and back_link(response) == "/refer/danger"
    assert back_link(walker.client.get("/refer/danger")) == "/"


def change_link(response, slug: str) -> str:
    return html.unescape(re.search(rf'href="(/refer/{slug}\?change=[^"]*)"', response.text).group(1))


def test_changing_an_answer_from_check_before_you_send_comes_back_to_it(walker):
    """On the 999 path there is no Check your answers: its Back went to /refer/check, which sends the
    referrer to the 999 page, and so did saving the change. Both now return to the page they came from."""
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "yes"}, "/refer/phone-now")
    walker.client.get("/refer/phone-now")
    walker.answer("/refer/what-happened", {"what_happened": "He has a knife"}, "/refer/referral")
    walker.answer("/refer/referral", referral_details(), "/refer/send/referral")
    change = change_link(walker.client.get("/refer/send/referral"), "what-happened")
    assert back_link(walker.client.get(change)) == "/refer/send/referral"
    response = walker.post(change, {"what_happened": ""})  # a validation error keeps the way back
    assert response.status_code == 200 and back_link(response) == "/refer/send/referral"
    walker.answer(change, {"what_happened": "He has a knife and is outside the school"}, "/refer/send/referral")
    assert "He has a knife and is outside the school" in walker.client.get("/refer/send/referral").text
    assert walker.answer("/refer/send/referral", {}) == "/refer/confirmation"


def test_a_change_from_check_before_you_send_that_changes_the_advice_goes_through_check_your_answers(walker):
    walker.concerns([level_items(4)[0]], location=walker.to_concerns())
    walker.finish_questions()
    walker.answer("/refer/referral", referral_details(), "/refer/send/referral")
    change = change_link(walker.client.get("/refer/send/referral"), "family")
    assert back_link(walker.client.get(change)) == "/refer/send/referral"
    walker.answer(change, {"working_well": "Comes to school every day", "aware": "yes", "consent": "refused",
                           "reason": "They said no"}, "/refer/send/referral")
    # The advice was recorded for the old answers: it is worked out again before anything is sent.
    assert walker.client.get("/refer/send/referral").location == "/refer/check"


def title_and_heading(response) -> tuple[str, str]:
    title = html.unescape(re.search(r"<title>(.*?) - Signpost", response.text, re.S).group(1)).strip()
    heading = re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", response.text, re.S).group(1))
    return title, html.unescape(" ".join(heading.split()))


def test_each_question_pages_title_is_its_heading(walker):
    """GOV.UK: the page title is the page's H1, so that a screen reader user hears the same question
    when the page opens (the browser tab) and at its heading."""
    location = walker.to_concerns()
    seen = {}
    for path in ("/refer/danger", "/refer/about-child"):
        seen[path] = title_and_heading(walker.client.get(path))
    target = journey.with_concerns(version(), walker.answers(), level_items(2)[:1])
    while location in ("/refer/serious", "/refer/areas", "/refer/concerns"):
        seen[location] = title_and_heading(walker.client.get(location))
        ticks = getattr(target, location.removeprefix("/refer/"))
        data = {"concerns": list(ticks.ticked if ticks else ()) or ["none"]}
        data.update({f"severity_{q}": ind for q, ind in target.severity.items()})
        location = walker.answer(location, data)
    seen[location] = title_and_heading(walker.client.get(location))
    assert location == "/refer/what-happened" and "/refer/concerns" in seen
    assert {path: title for path, (title, heading) in seen.items() if title != heading} == {}, seen


def test_resume_after_sign_out(app, users, walker):
    walker.to_concerns()
    draft_id = db.session.scalar(select(Draft.id))
    walker.post("/sign-out")
    fresh = app.test_client()
    sign_in_as(fresh, users["referrer"])
    again = Walker(fresh)
    start = fresh.get("/")
    assert "saved drafts" in start.text
    assert "a child aged 5 to 9" in fresh.get("/refer/drafts").text
    response = again.post("/refer/drafts/resume", {"draft_id": draft_id})
    assert response.location == "/refer/serious"
    assert fresh.get("/refer/serious").status_code == 200


def go_idle(client) -> None:
    """Make the session's last activity older than the idle timeout: its next request signs it out."""
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 31 * 60


def sign_in_again(client, user) -> str:
    """Sign in through the form, as someone signed out for being idle does; where it sends them."""
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "email": user.email,
                                         "password": PASSWORD}).location


def test_idle_sign_out_then_sign_in_returns_to_the_same_page_with_answers(app, users, walker):
    location = walker.to_concerns()
    item = level_items(2)[0]
    walker.concerns([item], location=location)
    go_idle(walker.client)
    response = walker.client.get("/refer/what-happened")
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    assert sign_in_again(walker.client, users["referrer"]) == "/refer/what-happened"
    walker.token = csrf_token(walker.client, "/")
    assert walker.client.get("/refer/what-happened").status_code == 200
    walker.finish_questions()
    assert item in walker.recommendation()[2]


def test_idle_sign_in_carries_on_with_the_draft_resumed_not_the_latest(app, users, walker):
    """Resuming an older draft saves nothing, so it is not the latest updated one: the draft the
    referrer was on is what they come back to, never the one changed last."""
    walker.to_concerns(years=9, months=3)
    resumed = walker.draft_id
    walker.to_concerns(years=0, months=3)
    latest = walker.draft_id
    db.session.get(Draft, resumed).updated_at -= dt.timedelta(minutes=5)
    db.session.commit()
    assert walker.post("/refer/drafts/resume", {"draft_id": resumed}).location == "/refer/serious"
    go_idle(walker.client)
    assert walker.client.get("/refer/serious").location.startswith("/sign-in")
    assert sign_in_again(walker.client, users["referrer"]) == "/refer/serious"
    page = walker.client.get("/refer/serious")
    assert page.status_code == 200 and resumed in page.text and latest not in page.text
    with walker.client.session_transaction() as session:
        assert session["draft_id"] == resumed


def test_a_draft_left_by_an_idle_sign_out_is_not_given_to_someone_else(app, users, walker):
    walker.to_concerns()
    go_idle(walker.client)
    walker.client.get("/refer/serious")
    other = store.create_user("other.referrer@example.org", "Other", "referrer", PASSWORD, actor="test")
    assert sign_in_again(walker.client, other) == "/refer/serious"
    with walker.client.session_transaction() as session:
        assert "draft_id" not in session
    assert walker.client.get("/refer/serious").location == "/"


@pytest.mark.parametrize("path", ["/refer/finish", "/refer/new", "/refer/drafts/resume"])
def test_idle_on_an_action_that_only_takes_a_post_signs_in_to_the_start_page(app, users, walker, path):
    """Only a page that can be shown again is returned to: a GET of a form's action that only
    takes a POST would be 'Page not found'. The draft is still the one carried on with."""
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.finish_questions()
    go_idle(walker.client)
    assert walker.post(path).location.startswith("/sign-in")
    assert sign_in_again(walker.client, users["referrer"]) == "/"
    start = walker.client.get("/")
    assert start.status_code == 200 and f'name="draft_id" value="{walker.draft_id}"' in start.text


def test_a_page_sent_after_the_idle_timeout_is_kept_and_shown_again_after_sign_in(app, users, walker):
    walker.concerns(location=walker.to_concerns())
    go_idle(walker.client)
    sent = walker.post("/refer/what-happened", {"what_happened": "He came in crying", "seen": "yes",
                                                "says": "Dad shouts at night", "wants": "A quiet house"})
    assert sent.status_code == 302 and sent.location.startswith("/sign-in")
    draft = db.session.scalar(select(Draft))
    assert "voice" not in draft.answers  # not saved as an answer: it was never checked
    assert sign_in_again(walker.client, users["referrer"]) == "/refer/what-happened"
    page = walker.client.get("/refer/what-happened")
    assert "Dad shouts at night" in page.text and "A quiet house" in page.text
    assert "We kept what you entered" in page.text
    assert "Dad shouts at night" not in walker.client.get("/refer/what-happened").text  # shown once
    kept = db.session.scalars(select(AuditEvent.action)).all()
    assert "draft_form_kept" in kept and "draft_form_restored" in kept


def test_a_referral_form_sent_after_the_idle_timeout_comes_back_after_sign_in(app, users, walker):
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    go_idle(walker.client)
    sent = walker.post("/refer/referral", referral_details(address="7 Remembered Lane, Northmere"))
    assert sent.location.startswith("/sign-in")
    assert sign_in_again(walker.client, users["referrer"]) == "/refer/referral"
    assert walker.client.head("/refer/referral").status_code == 200  # a HEAD does not use it up
    page = walker.client.get("/refer/referral")
    assert "7 Remembered Lane, Northmere" in page.text
    walker.token = csrf_token(walker.client, "/")
    assert walker.send(referral_details()) == "/refer/confirmation"
    assert "_unsent" not in db.session.scalar(select(Referral)).details["answers"]
    assert db.session.get(Draft, walker.draft_id).kept_forms is None


def test_yes_to_immediate_danger_sent_after_the_idle_timeout_goes_on_to_call_999_after_sign_in(app, users, walker):
    """A child in immediate danger is never slowed down: the "yes" sent as the session went idle is kept,
    and the first page after signing in again saves it as Save and continue would have (through the
    store, audited, the revision recorded), and goes on to Call 999: never the question again to send."""
    walker.start()
    go_idle(walker.client)
    sent = walker.post("/refer/danger", {"in_danger": "yes"})
    assert sent.status_code == 302 and sent.location.startswith("/sign-in")
    draft = db.session.get(Draft, walker.draft_id)
    assert draft.kept_forms == {"danger": {"in_danger": ["yes"]}} and walker.answers().in_danger is None
    assert sign_in_again(walker.client, users["referrer"]) == "/refer/danger"
    assert walker.client.head("/refer/danger").status_code == 200  # a HEAD saves nothing
    assert walker.answers().in_danger is None
    assert walker.client.get("/refer/danger").location == "/refer/phone-now"
    assert walker.answers().in_danger == "yes"
    assert db.session.get(Draft, walker.draft_id).kept_forms is None  # saved, so not kept to show again
    page = walker.client.get("/refer/phone-now")
    assert page.status_code == 200 and "999" in page.text
    assert version().document.contacts.front_door.phone in page.text
    assessment = db.session.scalar(select(Assessment))
    assert assessment.immediate and assessment.in_danger and assessment.user_id == users["referrer"].id
    events = db.session.execute(select(AuditEvent.action, AuditEvent.user_id, AuditEvent.detail)
                                .order_by(AuditEvent.id)).all()
    answered = [e for e in events if e.action == "draft_answered"]
    assert [(e.user_id, e.detail.get("page")) for e in answered] == [(users["referrer"].id, "danger")]
    assert "assessment_recorded" in [e.action for e in events]
    assert "draft_form_restored" not in [e.action for e in events]  # never shown: saved
    again = walker.client.get("/refer/danger")  # Back from Call 999: the question, answered, not a loop
    assert again.status_code == 200 and 'value="yes" checked' in again.text
    assert "We kept what you entered" not in again.text


def test_no_to_immediate_danger_sent_after_the_idle_timeout_is_shown_again_to_check(app, users, walker):
    """Only "yes" goes straight on: "no" is shown again, filled in, to check and send, as every page is."""
    walker.start()
    go_idle(walker.client)
    walker.post("/refer/danger", {"in_danger": "no"})
    assert sign_in_again(walker.client, users["referrer"]) == "/refer/danger"
    page = walker.client.get("/refer/danger")
    assert page.status_code == 200 and 'value="no" checked' in page.text and "We kept what you entered" in page.text
    assert walker.answers().in_danger is None and db.session.scalar(select(func.count(Assessment.id))) == 0


def test_yes_to_immediate_danger_sent_with_a_bad_csrf_token_after_the_idle_timeout_is_not_kept_or_saved(
        app, users, walker):
    """Nothing is saved from a form that was not kept: one sent without this session's valid CSRF token."""
    walker.start()
    go_idle(walker.client)
    walker.client.post("/refer/danger", data={"csrf_token": "forged", "draft_id": walker.draft_id, "in_danger": "yes"})
    assert db.session.get(Draft, walker.draft_id).kept_forms is None
    assert sign_in_again(walker.client, users["referrer"]) == "/refer/danger"
    page = walker.client.get("/refer/danger")
    assert page.status_code == 200 and 'value="yes" checked' not in page.text
    assert walker.answers().in_danger is None and db.session.scalar(select(func.count(Assessment.id))) == 0


def test_a_kept_yes_to_immediate_danger_is_not_saved_by_someone_else_signing_in(app, users, walker):
    walker.start()
    go_idle(walker.client)
    walker.post("/refer/danger", {"in_danger": "yes"})
    other = store.create_user("other.referrer@example.org", "Other", "referrer", PASSWORD, actor="test")
    assert sign_in_again(walker.client, other) == "/refer/danger"
    assert walker.client.get("/refer/danger").location == "/"  # no draft of theirs: the start page
    assert walker.answers().in_danger is None
    assert db.session.get(Draft, walker.draft_id).kept_forms == {"danger": {"in_danger": ["yes"]}}


def test_odd_digits_in_number_boxes_are_a_message_not_a_crash(walker):
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "no"})
    walker.answer("/refer/about-you", {"role": "dsl", "organisation": "school"})
    for years in ("\u00b2", "9" * 5000):
        response = walker.post("/refer/about-child", {"born": "born", "years": years, "months": "1"})
        assert response.status_code == 200 and "Years must be a whole number" in response.text
    response = walker.post("/refer/about-child", {"born": "unborn", "due_day": "1" * 30, "due_month": "1",
                                                  "due_year": "2027"})
    assert response.status_code == 200 and "must be a real date" in response.text
    assert walker.client.get("/refer/about_child").status_code == 404  # one address per page


def test_another_users_draft_cannot_be_resumed(app, users, walker):
    walker.to_concerns()
    draft_id = db.session.scalar(select(Draft.id))
    from signpost import store
    other_user = store.create_user("other.referrer@example.org", "Other", "referrer", "x" * 16, actor="test")
    other = app.test_client()
    sign_in_as(other, other_user)
    assert Walker(other).post("/refer/drafts/resume", {"draft_id": draft_id}).status_code == 404


def test_a_journey_page_reads_its_user_and_draft_in_one_query(app, walker):
    """Every journey page needs the signed-in user and the draft: loaded together, not one by one."""
    from sqlalchemy import event
    walker.to_concerns()
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for path in ("/refer/danger", "/refer/about-child", "/refer/serious"):
            statements.clear()
            response = walker.client.get(path)
            assert response.status_code == 200 and f'value="{walker.draft_id}"' in response.text
            assert len(statements) == 1 and "JOIN drafts" in statements[0], (path, statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_another_users_draft_posted_or_in_the_session_is_refused_and_audited(app, users, walker):
    """Loading the draft with the user matches only the user's own: another's is still a 404, audited."""
    walker.to_concerns()
    theirs = walker.draft_id
    other_user = store.create_user("other.referrer@example.org", "Other", "referrer", "x" * 16, actor="test")
    other = app.test_client()
    sign_in_as(other, other_user)
    intruder = Walker(other)
    intruder.start()
    intruder.draft_id = theirs
    assert intruder.post("/refer/danger", {"in_danger": "yes"}).status_code == 404
    with other.session_transaction() as session:
        session["draft_id"] = theirs
    assert other.get("/refer/danger").status_code == 302  # not this user's: back to the start page
    denials = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied")).all()
    assert [d.user_id for d in denials] == [other_user.id]
    db.session.expire_all()
    assert journey.JourneyAnswers.load(db.session.get(Draft, theirs).answers).in_danger == "no"


def test_a_journey_form_over_the_size_limit_is_the_styled_413_page(walker):
    """The draft is loaded with the user from the posted form: a form too large to read must still
    give the 413 page (its layout loads the user again), not an error inside the error page."""
    walker.to_concerns()
    response = walker.post("/refer/what-happened", {"what_happened": "x" * (1024 * 1024 + 100), "seen": "yes"})
    assert response.status_code == 413
    assert "<title>The file or form is too large" in response.text
    assert "If a child is in immediate danger, call 999" in response.text
    assert walker.client.get("/refer/danger").status_code == 200  # still signed in, still on the draft


def test_the_start_page_describes_the_draft_in_progress_with_its_words_as_written(walker):
    walker.to_concerns()
    page = walker.client.get("/").text
    import re
    said = re.search(r"You have a referral in progress \((.*?)\)\.</p>", page, re.S).group(1)
    month = workdays.uk_local(db.session.scalar(select(Draft)).created_at).strftime("%B")
    assert said.startswith("started ") and month in said  # the month keeps its capital


def test_old_drafts_are_purged_but_recent_ones_kept(app, walker):
    walker.to_concerns()
    walker.start()  # a second draft, left untouched
    old, recent = db.session.scalars(select(Draft).order_by(Draft.created_at)).all()
    old.updated_at = old.updated_at - dt.timedelta(days=31)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["drafts", "purge"])
    assert result.exit_code == 0 and "Deleted 1 draft" in result.output
    assert [d.id for d in db.session.scalars(select(Draft))] == [recent.id]


def test_purging_an_old_finished_draft_keeps_its_referral(app, walker):
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    assert walker.send(referral_details()) == "/refer/confirmation"
    draft = db.session.scalar(select(Draft))
    draft.updated_at = draft.updated_at - dt.timedelta(days=31)
    db.session.commit()
    assert app.test_cli_runner().invoke(args=["drafts", "purge"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0
    made = db.session.scalar(select(Referral))
    assert made.assessment.recommended_route == "social_care" and made.details["first_name"] == "Ada"


def started_a_while_ago() -> None:
    """Every draft started a minute ago: a Start after that is a new referral, not a double-click."""
    for draft in db.session.scalars(select(Draft)):
        draft.created_at -= dt.timedelta(minutes=1)
    db.session.commit()


def test_a_double_click_on_start_a_new_referral_makes_one_draft(app, walker):
    """The second click gets the draft the first made, so no empty draft counts against the limit
    of open drafts; once that draft is answered, or a while later, Start makes a new one."""
    walker.start()
    first = walker.draft_id
    app.config["MAX_OPEN_DRAFTS"] = 1  # the second click must not be refused either
    walker.start()
    assert walker.draft_id == first and db.session.scalar(select(func.count()).select_from(Draft)) == 1
    app.config["MAX_OPEN_DRAFTS"] = 1000
    walker.answer("/refer/danger", {"in_danger": "no"})
    walker.start()
    answered = walker.draft_id
    started_a_while_ago()
    walker.start()
    assert len({first, answered, walker.draft_id}) == 3


def test_start_again_asks_first_then_deletes_the_draft_and_starts_afresh(walker):
    walker.to_concerns()
    first = walker.draft_id
    asked = walker.client.get("/refer/start-again")
    assert asked.status_code == 200 and "Are you sure you want to start again?" in asked.text
    assert "a child aged 5 to 9" in asked.text and db.session.get(Draft, first) is not None
    response = walker.post("/refer/start-again", {"confirm": "yes"})
    assert response.location == "/refer/danger"
    db.session.expire_all()
    assert db.session.get(Draft, first) is None
    (fresh,) = db.session.scalars(select(Draft)).all()
    with walker.client.session_transaction() as session:
        assert session["draft_id"] == fresh.id


def test_deleting_a_draft_asks_first_and_describes_it_without_names(walker):
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    asked = walker.post("/refer/drafts/delete")
    assert asked.status_code == 200 and "Are you sure you want to delete this draft?" in asked.text
    assert "Started" in asked.text and "a child aged 5 to 9" in asked.text
    assert version().indicators[level_items(2)[0]].text[:40] in asked.text
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 1
    walker.answer("/refer/drafts/delete", {"confirm": "yes"}, "/refer/drafts")
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_no_answer_appears_in_urls_or_cookies(walker):
    location = walker.to_concerns()
    item = level_items(2)[0]
    walker.concerns([item], location=location)
    walker.finish_questions()
    for cookie in walker.client._cookies.values():
        assert item not in cookie.value and "hungry" not in cookie.value
    draft = db.session.scalar(select(Draft))
    assert draft.id not in walker.client.get("/refer/recommendation").headers.get("Location", "")
    assert walker.client.get("/refer/recommendation").headers["Cache-Control"] == "no-store"


def test_my_referrals_shows_the_front_door_decision(walker, users):
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    assert walker.send(referral_details()) == "/refer/confirmation"
    made = db.session.scalar(select(Referral))
    listing = walker.client.get("/refer/my-referrals")
    assert made.reference in listing.text and "Waiting for a decision" in listing.text
    from signpost.models import Decision
    with db.session.begin_nested():
        db.session.add(Decision(referral_id=made.id, outcome="assessment_s17", decided_on=uk_today(),
                                decided_by=users["front_door"].id, note="Social worker allocated"))
    db.session.commit()
    detail = walker.client.get(f"/refer/my-referrals/{made.reference}")
    assert "Child and family assessment" in detail.text and "Social worker allocated" in detail.text
    viewed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "referral_viewed"))
    assert viewed.record_id == str(made.id)


def test_the_browser_is_not_asked_to_remember_the_childs_dates(walker):
    """On a shared computer the browser's form history would offer a child's date of birth to the next
    person: like the name and address beside it, each date box has autocomplete="off"."""
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    page = walker.client.get("/refer/about-child").text
    boxes = re.findall(r'<input[^>]*name="due_(?:day|month|year)"[^>]*>', page)
    assert len(boxes) == 3 and all('autocomplete="off"' in box for box in boxes)
    page = walker.client.get("/refer/referral").text
    boxes = re.findall(r'<input[^>]*name="dob_(?:day|month|year)"[^>]*>', page)
    assert len(boxes) == 3 and all('autocomplete="off"' in box for box in boxes)
    assert re.search(r'<input[^>]*name="first_name"[^>]*autocomplete="off"', page)


def test_reading_a_printable_summary_is_audited(walker, users):
    """The printable summary holds what the referrer wrote about the child (what happened, what the
    child says, the family): every read of it leaves an audit event, as reading a referral does."""
    item = level_items(4)[0]
    walker.concerns([item], location=walker.to_concerns())
    walker.finish_questions()
    assessment = db.session.scalar(select(Assessment))
    for path in ("/refer/summary", f"/refer/my-referrals/summary/{assessment.id}"):
        if path.startswith("/refer/my-referrals"):
            assert walker.send(referral_details()) == "/refer/confirmation"
        before = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "summary_viewed"))
        assert walker.client.get(path).status_code == 200
        viewed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "summary_viewed")
                                    .order_by(AuditEvent.id)).all()
        assert len(viewed) == before + 1, path
        assert (viewed[-1].record_type, viewed[-1].record_id) == ("assessments", str(assessment.id))
        assert viewed[-1].actor == users["referrer"].email


# ---------------------------------------------------------------------------------- page == engine

@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_recommendation_page_matches_assess_for_200_random_answer_sets(app, users):
    """Walk 200 random journeys; the page must show what assess() gives for the same answers."""
    rng = random.Random(20261127)
    v = version()
    for n in range(200):
        client = app.test_client()
        sign_in_as(client, users["referrer"])
        walker = Walker(client)
        unborn = rng.random() < 0.08
        months = None if unborn else rng.randint(0, 215)
        location = walker.to_concerns(years=(months or 0) // 12, months=(months or 0) % 12, unborn=unborn)
        chosen = set(journey.random_concerns(v, months, unborn, rng, 0.03))
        consent = rng.choice(["given", "refused", "not_asked", "not_needed"])
        walker.concerns(chosen, location=location)
        walker.finish_questions(consent=consent, unborn=unborn)
        route, level, reasons, services, _ = walker.recommendation()
        expected = assess(Answers(indicators=frozenset(chosen), age_months=months, unborn=unborn,
                                  consent=consent), v, uk_today(), current_directory())
        assert (route, level) == (expected.route, expected.level), n
        assert reasons == expected.reason_ids, n
        assert services == [s.id for s in expected.services], n


def test_demo_seed_adds_history_once(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
    # Journeys (with drafts); the front door's queue and the reports' history seeders add their own.
    assessments = db.session.scalars(select(Assessment).where(Assessment.draft_id.is_not(None))).all()
    assert len(assessments) == 60
    assert {a.recommended_route for a in assessments} == {"universal", "early_help", "social_care"}
    referrals = db.session.scalars(select(Referral).where(Referral.draft_id.is_not(None))).all()
    assert referrals and all(re.fullmatch(r"NM-\d{4}-\d{5}", r.reference) for r in referrals)
    assert any(r.decisions for r in referrals)
    assert all(a.threshold_hash == current_version().content_hash or a.threshold_id != current_version().id
               for a in assessments)


# ---------------------------------------------------------------------------------- urgency and LADO on the page

def test_a_same_day_concern_shows_phone_today_first_and_never_the_999_steps(walker):
    v = version()
    same_day = next(i for i in v.document.indicators
                    if i.urgency == "same_day" and not i.asks_for and journey.applies(i, 111, False))
    walker.concerns([same_day.id], location=walker.to_concerns())
    walker.finish_questions(consent="refused")
    route, _level, reasons, _, html = walker.recommendation()
    assert route == "social_care" and same_day.id in reasons
    assert 'data-urgency="same_day"' in html and 'id="same-day"' in html
    assert html.index(v.document.same_day.title) < html.index("What to do next")
    assert not any(step in html for step in v.document.immediate_danger.next_steps)


def test_the_serious_concerns_phone_now_warning_gives_the_out_of_hours_number(walker):
    walker.to_concerns(years=2, months=0)  # a young child: the page offers emergencies (alone now...)
    assert any(journey.is_emergency(i) and journey.applies(i, 24, False) for i in version().document.indicators)
    page = walker.client.get("/refer/serious").text
    warning = page[page.index('id="phone-now"'):]
    warning = warning[:warning.index("</div>")]
    contacts = version().document.contacts
    assert contacts.front_door.phone in warning and contacts.out_of_hours.phone in warning


def test_a_child_missing_now_is_told_to_the_police_first_on_the_recommendation(walker):
    """The same-day box says why each same-day concern cannot wait: for a child missing now, that the
    police lead the search and are told straight away (999 if the child is young...), which the
    front door's general same-day steps do not say."""
    v = version()
    missing = v.indicators["missing_now"]
    walker.concerns([missing.id], location=walker.to_concerns(years=3, months=0))
    walker.finish_questions()
    route, _level, _reasons, _, html = walker.recommendation()
    assert route == "social_care" and 'data-urgency="same_day"' in html
    box = html[html.index('id="same-day"'):html.index("What to do next")]
    assert 'data-urgent-reason-id="missing_now"' in box and '<h3 class="govuk-heading-m">Why this cannot wait</h3>' in box
    assert box.index("Why this cannot wait") > box.index(v.document.contacts.out_of_hours.phone)  # after the numbers
    assert f"<strong>{escape(missing.text)}.</strong>" in box  # one full stop
    assert str(escape(missing.urgency_reason)) in box and "999 if the child is young" in box
    revision = db.session.scalar(select(Assessment).order_by(Assessment.id.desc()))
    assert revision.shown["urgent_reasons"] == [{"id": "missing_now", "text": missing.text,
                                                 "why": missing.urgency_reason}]
    summary = walker.client.get("/refer/summary").text  # the printable summary keeps it too
    assert 'data-urgent-reason-id="missing_now"' in summary and str(escape(missing.urgency_reason)) in summary


def test_a_standard_recommendation_has_no_urgent_reasons(walker):
    walker.concerns([level_items(3)[0]], location=walker.to_concerns())
    walker.finish_questions()
    html = walker.recommendation()[4]
    assert 'id="urgent-reasons"' not in html


def test_a_concern_about_staff_shows_the_lado_outcome_first_and_keeps_the_childs_route(walker):
    v = version()
    about_staff = next(i for i in v.document.indicators if i.lado)
    child = level_items(3)[0]
    walker.concerns([about_staff.id, child], location=walker.to_concerns())
    walker.finish_questions()
    route, level, _reasons, _, html = walker.recommendation()
    assert (route, level) == ("social_care", 3)
    assert 'data-lado="true"' in html and 'id="lado"' in html
    assert v.document.contacts.lado.phone in html
    assert html.index(v.document.lado.title) < html.index("What to do next")


# ---------------------------------------------------------------------------------- the words

SUMMARY_RE = re.compile(r'<a href="#([\w-]+)">\s*(.*?)\s*</a>', re.S)


def summary_and_fields(response) -> tuple[dict[str, str], list[str]]:
    """The error summary ({field id it links to: text}) and the messages beside the fields."""
    assert response.status_code == 200 and "There is a problem" in response.text
    box = response.text.split("govuk-error-summary__list", 1)[1].split("</ul>", 1)[0]
    links = {target: html.unescape(text) for target, text in SUMMARY_RE.findall(box)}
    return links, [html.unescape(text) for text in errors(response)]


def check_errors(response, expected: dict[str, str]) -> None:
    """Each error in the summary, linking to its field, with the same words beside the field."""
    links, beside = summary_and_fields(response)
    assert links == expected
    assert sorted(beside) == sorted(expected.values())
    for target in expected:
        assert f'id="{target}"' in response.text, target


def test_each_pages_errors_are_its_templates_words_in_the_summary_and_beside_the_field(walker):
    walker.start()
    check_errors(walker.post("/refer/danger", {}),
                 {"in_danger": "Select yes if the child is in immediate danger now"})
    walker.answer("/refer/danger", {"in_danger": "no"}, "/refer/about-you")
    check_errors(walker.post("/refer/about-you", {}),
                 {"role": "Select your role", "organisation": "Select the type of organisation you work for"})
    walker.answer("/refer/about-you", {"role": "dsl", "organisation": "school"}, "/refer/about-child")
    check_errors(walker.post("/refer/about-child", {}), {"born": "Select yes if the child has been born"})
    check_errors(walker.post("/refer/about-child", {"born": "born", "years": "18"}),
                 {"years": "Years must be a whole number from 0 to 17", "months": "Enter the months (0 to 11)"})
    check_errors(walker.post("/refer/about-child", {"born": "unborn", "due_day": "3"}),
                 {"due_day": "The expected date of birth must include a month and a year"})
    walker.concerns(location=walker.answer("/refer/about-child", {"born": "born", "years": "9", "months": "3"}))
    check_errors(walker.post("/refer/what-happened", {"what_happened": "Bruise", "seen": "yes",
                                                      "says": "x" * 5001, "wants": "Home"}),
                 {"says": "What does the child say, in their own words? must be 5000 characters or fewer"})
    check_errors(walker.post("/refer/what-happened", {"what_happened": "Bruise", "seen": "yes", "says": "No"}),
                 {"wants": "Enter what the child wants to happen, or that they did not say"})
    walker.answer("/refer/what-happened", {"what_happened": "Bruise", "seen": "no", "not_seen_reason": "Absent"},
                  "/refer/family")
    check_errors(walker.post("/refer/family", {"working_well": "", "aware": "no", "consent": "given"}),
                 {"working_well": "Enter what is working well, even if it is small"})
    check_errors(walker.post("/refer/family", {"working_well": "Breakfast", "aware": "no", "consent": "not_needed"}),
                 {"reason": "Enter why telling the family would increase the risk to the child"})


def test_referral_details_errors_say_what_to_do(walker):
    walker.concerns([level_items(4)[0]], location=walker.to_concerns())
    walker.finish_questions()
    check_errors(walker.post("/refer/referral", referral_details(first_name="", postcode="NM1", dob_day="",
                                                                 referrer_phone="999", interpreter="")),
                 {"first_name": "Enter the child's first name", "postcode": "Enter a real postcode, like SW1A 1AA",
                  "dob_day": "The child's date of birth must include a day",
                  "interpreter": "Select whether the family needs an interpreter",
                  "referrer_phone": "Enter a UK phone number, like 01632 960 001 or 07700 900 982"})


def test_the_journeys_forms_hold_no_words(app):
    """Labels, hints and option text are in the page templates: a form built in Python is wordless."""
    from signpost.web import journey_forms as jf
    with app.test_request_context():
        forms = [jf.DangerForm(), jf.AboutYouForm(), jf.AboutChildForm(), jf.VoiceForm(), jf.FamilyForm(),
                 jf.override_form("early_help"), jf.ReferralForm()]
        for form in forms:
            for field in form:
                if field.type == "CSRFTokenField":
                    continue
                assert (field.label.text, field.description) == ("", ""), (type(form).__name__, field.name)
                choices = getattr(field, "choices", None) or ()
                assert all(choice[1] == "" for choice in choices), (type(form).__name__, field.name)


def test_an_error_without_words_is_a_fault_not_a_code_shown_to_the_referrer():
    from signpost.web.forms import Problem, say
    assert say(Problem("too_long", max=5), {"label": "Name"}, {"too_long": "{label} must be {max} or fewer"}) == \
        "Name must be 5 or fewer"
    assert say("A refused character", {}) == "A refused character"  # a shared check's own words
    with pytest.raises(LookupError):
        say(Problem("required"), {"label": "Name"}, {})


def test_answers_a_change_dropped_are_named_under_a_heading(walker):
    baby_only, location = _a_baby_concern_dropped_by_a_change_of_age(walker)
    # The concern's words stay on the server: the session cookie holds only that there is a notice.
    with walker.client.session_transaction() as session:
        assert baby_only.text not in str(dict(session)) and baby_only.id not in str(dict(session))
    page = walker.client.get(location)  # the questions that now apply, with what was removed above them
    assert "Some answers no longer apply and were removed" in page.text
    assert f"<li>{escape(baby_only.text)}</li>" in page.text and "{&#39;" not in page.text
    assert "no longer apply" not in walker.client.get(location).text  # named once


# ---------------------------------------------------------------------------------- the answers' rows

ROW_RE = re.compile(r'<div class="govuk-summary-list__row[^"]*" data-page="(\w+)">\s*'
                    r'<dt class="govuk-summary-list__key">(.*?)</dt>\s*'
                    r'<dd class="govuk-summary-list__value">(.*?)</dd>\s*'
                    r'(?:<dd class="govuk-summary-list__actions"><a class="govuk-link" href="([^"]+)">)?', re.S)


def answer_rows(text: str) -> dict[str, tuple[str, list[str], str | None]]:
    """{label: (page, lines, change link)} for each row of the answers."""
    return {html.unescape(key): (page, [html.unescape(line) for line in re.findall(r'<p class="govuk-body">(.*?)</p>', value)],
                                 html.unescape(href) if href else None)
            for page, key, value, href in ROW_RE.findall(text)}


def test_check_your_answers_shows_every_answer_with_a_link_to_change_it_the_summary_without_links(walker):
    chosen = level_items(3)[:1] + level_items(2)[:1]
    walker.to_concerns(years=9, months=3)
    walker.concerns(chosen)
    walker.answer("/refer/what-happened", {"what_happened": "Hungry <again>", "seen": "yes", "says": "I am hungry",
                                           "wants": "Lunch"}, "/refer/family")
    walker.answer("/refer/family", {"working_well": "Comes every day", "tried": "", "tried_by": "", "aware": "no",
                                    "consent": "not_asked"}, "/refer/check")
    rows = answer_rows(walker.client.get("/refer/check").text)
    texts = [version().indicators[i].text for i in chosen]
    assert rows["Immediate danger"] == ("danger", ["No"], "/refer/danger?change=1")
    assert rows["Your role"] == ("about_you", ["Designated safeguarding lead or deputy"], "/refer/about-you?change=1")
    assert rows["Organisation"][1] == ["School or college"]
    assert rows["Age"] == ("about_child", ["9 years and 3 months"], "/refer/about-child?change=1")
    shown = rows["Serious and urgent concerns"][1] + rows["Your concerns"][1]
    assert [line for line in shown if line != "None of these"] == sorted(texts, key=lambda t: -version().indicators[
        chosen[texts.index(t)]].level)  # most serious first, each once
    assert rows["What has happened"] == ("what_happened", ["Hungry <again>"], "/refer/what-happened?change=1")
    assert rows["Seen and spoken to"][1] == ["Yes, seen and spoken to"]
    assert rows["What the child says"][1] == ["I am hungry"] and rows["What the child wants"][1] == ["Lunch"]
    assert "What you observed" not in rows and "Why not seen" not in rows
    assert rows["What has been tried"][1] == ["Nothing given"] and rows["Who has been involved"][1] == ["Nothing given"]
    assert rows["Family knows you are worried"][1] == ["No"]
    assert rows["Consent"] == ("family", ["I have not asked the family yet"], "/refer/family?change=1")
    assert "Why" not in rows
    walker.answer("/refer/check", {}, "/refer/recommendation")
    summary = answer_rows(walker.client.get("/refer/summary").text)
    assert summary["Age"] == ("about_child", ["9 years and 3 months"], None)  # recorded: nothing to change
    assert set(summary) == set(rows)


@pytest.mark.parametrize("years, months, words", [(1, 0, "1 year"), (0, 5, "5 months"), (0, 1, "1 month"),
                                                   (0, 0, "0 months"), (2, 1, "2 years and 1 month"),
                                                   (12, 11, "12 years and 11 months")])
def test_the_age_row_says_years_and_months_as_a_person_would(app, years, months, words):
    from signpost.web.pages import age_words
    said = app.jinja_env.get_template("journey/_words.html").module
    assert age_words(journey.Child(unborn=False, years=years, months=months), said) == words


def test_the_age_row_of_an_unborn_baby_gives_the_due_date_and_an_unknown_child_is_not_known(app):
    from signpost.web.pages import age_words
    said = app.jinja_env.get_template("journey/_words.html").module
    assert age_words(journey.Child(unborn=True, expected_date=dt.date(2027, 3, 5)), said) == "Not born yet, due 5 March 2027"
    assert age_words(journey.Child(unborn=True), said) == "Not born yet"
    assert age_words(None, said) == "Not known"


def test_concerns_on_check_your_answers_are_most_serious_first_then_in_the_threshold_documents_order(app):
    from signpost.web.pages import Answered
    same_level = level_items(2)[:3]
    answers = journey.with_concerns(version(), journey.JourneyAnswers(
        in_danger="no", child=journey.Child(unborn=False, years=9, months=3)), [*reversed(same_level), *level_items(3)[:1]])
    chosen = [ind.id for ind in Answered.of(version(), answers).chosen]
    in_document = [i.id for i in version().document.indicators]
    assert chosen[0] == level_items(3)[0]
    assert chosen[1:] == sorted(same_level, key=in_document.index)


def test_a_hidden_pregnancy_with_no_known_due_date_is_not_a_dead_end(walker):
    """The due date is asked for, but a referrer who cannot know it (a concealed pregnancy) is told to
    estimate it rather than finding no way on."""
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "no"})
    page = walker.client.get("/refer/about-you")
    if page.status_code == 200:
        walker.answer("/refer/about-you", {"role": "midwife", "organisation": "primary_health"})
    text = html.unescape(walker.client.get("/refer/about-child").text)
    assert "If the pregnancy is hidden or the date is not known, give your best estimate" in text


def test_on_a_page_of_boxes_left_empty_every_box_is_described_by_the_error(walker):
    """The error is shown once, above every group: each group's fieldset, and "None of these", name it
    (aria-describedby), so a screen reader moving through the boxes hears it, as it would with one
    govukCheckboxes. Without an error, nothing names it."""
    location = walker.to_concerns()
    assert location == "/refer/serious"
    for page in ("serious", "areas"):
        shown = walker.client.get(f"/refer/{page}").get_data(as_text=True)
        assert "concerns-error" not in shown
        wrong = walker.post(f"/refer/{page}", {}).get_data(as_text=True)
        assert 'id="concerns-error"' in wrong
        fieldsets = re.findall(r"<fieldset[^>]*>", wrong)
        assert fieldsets and all('aria-describedby="concerns-error"' in f for f in fieldsets), page
        none = re.search(r'<input[^>]*id="concerns-none"[^>]*>', wrong).group(0)
        assert 'aria-describedby="concerns-error"' in none
        walker.answer(f"/refer/{page}", {"concerns": ["none"]} if page == "serious" else
                      {"concerns": [re.search(r'name="concerns" type="checkbox" value="([a-z0-9_]+)"', wrong).group(1)]})


# ---------------------------------------------------------------------------------- a young person's consent

def _on_the_first_day_of(monkeypatch, own_consent: bool) -> None:
    """Today, or the day the first version that asks a young person for their own consent came into
    force if later (own_consent); else the day the last version that does not came into force."""
    from signpost import values
    from signpost.content import current_library
    versions = sorted(current_library().versions, key=lambda v: v.effective_from)
    if own_consent:
        first = next(v for v in versions if v.document.consent_advice.own_consent_from_age)
        day = max(values.uk_today(), first.effective_from)
    else:
        day = [v for v in versions if not v.document.consent_advice.own_consent_from_age][-1].effective_from
    monkeypatch.setattr(values, "uk_today", lambda: day)


@pytest.fixture
def own_consent_day(monkeypatch, app):
    _on_the_first_day_of(monkeypatch, own_consent=True)


def _to_the_family_page(walker, years, months=0):
    age = years * 12 + months
    item = next(i for i in level_items(2, age) if not version().indicators[i].family_not_told)
    walker.concerns([item], location=walker.to_concerns(years=years, months=months))
    walker.answer("/refer/what-happened", {"what_happened": "Tired and low", "seen": "yes", "says": "Fine",
                                           "wants": "Help"}, "/refer/family")
    return item


def test_a_young_person_of_16_is_asked_for_their_own_agreement_which_counts_without_the_family(own_consent_day, walker):
    """At 16 or 17 a young person gives, or refuses, their own consent: the page asks for theirs, says it
    counts, and their agreement stands though their family does not know of the worry."""
    _to_the_family_page(walker, 16, 2)
    page = walker.client.get("/refer/family").text
    assert "Has the young person agreed to you asking for help?" in page
    assert "their own agreement counts" in page and "Has the family agreed" not in page
    walker.answer("/refer/family", {"working_well": "Goes to college", "aware": "no", "consent": "given"},
                  "/refer/check")
    assert walker.answers().consent.asked_of == "young_person"
    assert "Yes, the young person agrees to this request for help" in walker.client.get("/refer/check").text


def test_a_young_persons_refusal_needs_a_reason_in_their_words(own_consent_day, walker):
    _to_the_family_page(walker, 17)
    check_errors(walker.post("/refer/family", {"working_well": "Works part time", "aware": "yes", "consent": "refused"}),
                 {"reason": "Enter why the young person did not agree"})


def test_a_child_of_15_is_still_asked_for_the_familys_agreement(own_consent_day, walker):
    _to_the_family_page(walker, 15, 11)
    page = walker.client.get("/refer/family").text
    assert "Has the family agreed to you asking for help?" in page and "young person" not in page
    check_errors(walker.post("/refer/family", {"working_well": "School", "aware": "no", "consent": "given"}),
                 {"consent": "The family cannot have agreed or said no if they do not know you are worried. "
                             "Change one of the answers"})


def test_the_familys_agreement_is_never_read_as_a_young_persons_after_the_age_changes(own_consent_day, walker):
    """The family agreed for a child said to be 15; the age corrected to 16 asks the young person, with
    nothing chosen for them, before Check your answers."""
    item = _to_the_family_page(walker, 15, 6)
    walker.family("given")
    assert 'value="given" checked' in walker.client.get("/refer/family").text  # as the page shows an answer
    location = walker.answer("/refer/about-child?change=1", {"born": "born", "years": "16", "months": "1"})
    assert journey.applies(version().indicators[item], 193, False)
    assert location.split("?")[0] == "/refer/family"
    assert walker.client.get("/refer/check").location.split("?")[0] == "/refer/family"
    page = walker.client.get(location).text
    assert "Has the young person agreed" in page and 'value="given" checked' not in page
    walker.answer(location, {"working_well": "College", "aware": "yes", "consent": "refused", "reason": "Wants to manage alone"})
    assert walker.answers().consent.asked_of == "young_person" and walker.answers().consent.consent == "refused"


def test_a_family_page_sent_after_another_tab_changed_the_age_is_not_read_as_the_young_persons(own_consent_day, walker):
    """The page asked for the family's agreement (a child of 15); another tab corrected the age to 16
    before it was sent: the family's "yes" is not saved as the young person's, who is asked afresh."""
    _to_the_family_page(walker, 15, 6)
    walker.answer("/refer/about-child?change=1", {"born": "born", "years": "16", "months": "1"})  # the other tab
    response = walker.post("/refer/family", {"working_well": "College", "aware": "yes", "consent": "given",
                                             "asked_of": "family"})
    assert response.status_code == 200  # shown again, not saved
    assert walker.answers().consent is None  # without the page's asked_of: saved as the young person's "yes"
    assert "Has the young person agreed" in response.text and 'value="given" checked' not in response.text
    assert "College" in response.text  # what else was typed stays
    assert 'name="asked_of" type="hidden" value="young_person"' in response.text
    walker.answer("/refer/family", {"working_well": "College", "aware": "yes", "consent": "given",
                                    "asked_of": "young_person"}, "/refer/check")
    assert walker.answers().consent.asked_of == "young_person" and walker.answers().consent.consent == "given"


def test_a_family_page_kept_as_the_draft_moved_to_a_version_asking_the_young_person_chooses_nothing_for_them(
        own_consent_day, walker):
    """Sent from a page shown under a version that asks the family (another tab moved the draft to one that
    asks a young person of 16 for their own agreement): kept and shown again, without the family's answer
    chosen as the young person's."""
    _to_the_family_page(walker, 16, 2)
    v, older = _on_older_version(walker)
    assert not older.document.consent_advice.own_consent_from_age and v.document.consent_advice.own_consent_from_age
    assert walker.client.get("/refer/what-happened").status_code == 200  # another tab: the draft moves to v
    response = walker.post("/refer/family", {"working_well": "College", "aware": "yes", "consent": "given",
                                             "shown_under": older.id, "asked_of": "family"})
    assert response.status_code == 302 and response.location == "/refer/family"
    page = walker.client.get("/refer/family").text
    assert "Has the young person agreed" in page and "College" in page
    assert 'value="given" checked' not in page


def test_under_a_version_that_does_not_say_a_young_person_of_17_is_asked_for_the_familys_agreement(monkeypatch, app,
                                                                                                    users, referrer):
    """Its steps speak only of the family's agreement: a young person's own "yes" would read as the family's."""
    _on_the_first_day_of(monkeypatch, own_consent=False)
    walker = Walker(referrer)
    _to_the_family_page(walker, 17, 3)
    page = walker.client.get("/refer/family").text
    assert "Has the family agreed to you asking for help?" in page and "Has the young person agreed" not in page
    walker.answer("/refer/family", {"working_well": "College", "aware": "yes", "consent": "given"}, "/refer/check")
    assert walker.answers().consent.asked_of == "family"


def test_a_referral_sent_from_the_immediate_danger_path_is_counted_by_the_age_its_date_of_birth_gives(walker):
    """The danger path skips About the child, so its recommendation has no age; the referral's date of
    birth gives the band, or the reports' age figures would leave out the most urgent referrals."""
    walker.start()
    walker.answer("/refer/danger", {"in_danger": "yes"}, "/refer/phone-now")
    walker.answer("/refer/what-happened", {"what_happened": "Hit with a belt this morning"}, "/refer/referral")
    assert db.session.get(Draft, walker.draft_id).assessment.age_band == "unknown"
    walker.send(referral_details())  # born 9 years and about 3 months ago
    referral = db.session.scalar(select(Referral).where(Referral.draft_id == walker.draft_id))
    db.session.refresh(referral.assessment)
    assert referral.assessment.immediate
    assert referral.assessment.age_band == "5 to 9" and referral.age_band == "5 to 9"
