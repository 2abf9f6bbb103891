"""Path-by-path tests of the journey's routing (signpost.journey), on every shipped version."""
import datetime as dt
from pathlib import Path

import pytest

from signpost import journey
from signpost.engine import assess
from signpost.journey import AboutYou, Child, Consent, Family, JourneyAnswers, Ticks, Voice
from signpost.thresholds import load_library

LIBRARY = load_library(Path(__file__).resolve().parent.parent / "thresholds")
VERSIONS = pytest.mark.parametrize("version", LIBRARY.versions, ids=lambda v: v.id)

BORN = JourneyAnswers(in_danger="no", about_you=AboutYou(role="dsl", organisation="school"),
                      child=Child(unborn=False, years=9, months=3))


def with_age(answers, years, months=0):
    return answers.but(child=Child(unborn=False, years=years, months=months))


def finished(version, answers, indicators=()):
    """Every page answered, with exactly these concerns."""
    answers = journey.with_concerns(version, answers, indicators)
    return answers.but(what_happened="What happened", voice=Voice(seen="no", not_seen_reason="Absent"),
                       family=Family(working_well="School"),
                       consent=Consent(aware="yes", consent="given", warned=journey.family_not_told(version, answers),
                                       asked_of=journey.asks_consent_of(version, answers)))


def assert_next_page(version, answers, current, expected):
    assert journey.next_page(version, answers, current) == expected


@VERSIONS
def test_immediate_danger_goes_to_the_phone_numbers_then_the_referrers_words(version):
    answers = JourneyAnswers(in_danger="yes")
    assert_next_page(version, answers, "danger", "danger_call")
    assert journey.sequence(version, answers) == ["danger", "danger_call", "what_happened", "referral"]
    assert journey.can_visit(version, answers, "what_happened")  # after the phone page, never before it
    assert journey.first_unanswered(version, answers) == "danger_call"


@VERSIONS
def test_consent_given_before_a_do_not_tell_concern_was_chosen_is_asked_again(version):
    """The family agreed to early help for one worry; a concern they must not hear of from the referrer
    (sexual abuse within the family, FGM...) chosen afterwards makes the family page unanswered, so the
    referrer sees its warning before anything says the family know and agree."""
    flagged = [i.id for i in version.document.indicators if i.family_not_told and not i.lado
               and journey.applies(i, 111, False) and not journey.is_emergency(i)]
    if not flagged:
        pytest.skip("this version marks no concern family_not_told")
    ordinary = next(i.id for i in version.document.indicators if not i.family_not_told and not i.lado
                    and not i.asks_for and i.level == 2 and journey.applies(i, 111, False))
    before = finished(version, BORN, [ordinary])
    assert journey.is_answered(version, "family", before) and not before.consent.warned
    after = journey.with_concerns(version, before, [ordinary, flagged[0]])
    assert journey.family_not_told(version, after) == (flagged[0],)
    assert not journey.is_answered(version, "family", after)
    assert journey.first_unanswered(version, after) == "family"
    assert not journey.can_visit(version, after, "check")
    # Answered again with the warning shown (the family already know, say): answered.
    seen = after.but(consent=after.consent.model_copy(update={"warned": journey.family_not_told(version, after)}))
    assert journey.is_answered(version, "family", seen) and journey.first_unanswered(version, seen) == "check"
    # Taking the concern off again leaves the answer standing: nothing new to warn about.
    assert journey.is_answered(version, "family", journey.with_concerns(version, seen, [ordinary]))


@VERSIONS
def test_a_concern_about_staff_ticked_in_danger_is_carried_back_when_danger_becomes_no(version):
    """Ticked on the immediate-danger path, then "in immediate danger" changed to no: the concern about
    an adult who works with children stays chosen, on the page that offers it, which asks again."""
    staff = journey.lado_items(version)
    if not staff:
        pytest.skip("this version has no concern about an adult who works with children")
    on_path = BORN.but(in_danger="yes", lado=Ticks(ticked=(staff[0].id,), shown=tuple(i.id for i in staff)))
    assert staff[0].id in journey.chosen_indicators(version, on_path)
    changed, dropped = journey.prune(version, on_path.but(in_danger="no"))
    assert changed.lado is None and not dropped
    assert staff[0].id in journey.chosen_indicators(version, changed)
    page = journey.first_unanswered(version, changed)
    assert page in ("serious", "areas", "concerns")
    assert assess(journey.engine_answers(version, finished(version, changed, [staff[0].id])), version,
                  version.effective_from).lado


def test_a_draft_moved_to_a_new_version_keeps_every_concern_the_new_version_still_offers():
    """Moving from an older version: a concern the new version still has, even on another page (the
    areas before, the serious concerns page now), stays chosen, on the page that now offers it, which
    asks again; one the new version no longer has is named in the words it was ticked under."""
    versions = LIBRARY.versions
    checked = 0
    for older, newer in zip(versions, versions[1:]):
        plain = [i for i in older.document.indicators if not i.asks_for and not i.lado
                 and journey.applies(i, 111, False) and not journey.is_emergency(i)]
        answers = journey.with_concerns(older, BORN, [i.id for i in plain])
        moved, dropped = journey.prune(newer, answers, moved_from=older)
        chosen = journey.chosen_indicators(newer, moved)
        for indicator in plain:
            now = newer.indicators.get(indicator.id)
            offered = now is not None and not now.asks_for and journey.applies(now, 111, False) and \
                not journey.is_emergency(now)
            if offered:
                assert indicator.id in chosen, (older.id, newer.id, indicator.id)
                assert indicator.text not in dropped or indicator.text != now.text
            elif now is None:
                assert indicator.text in dropped, (older.id, newer.id, indicator.id)
            checked += 1
    assert checked


@VERSIONS
def test_a_concern_carried_to_a_page_that_asks_a_question_answers_the_question(version):
    plan = journey.layout(version, BORN)
    question = next((i for a in plan.area_ids for i in plan.by_area[a] if i.question), None)
    if question is None:
        pytest.skip("no severity question for this child")
    answer = question.options[-1].id
    carried, lost = journey._carry_concerns(version, BORN, [answer])
    assert not lost and carried.severity == {question.id: answer}
    assert question.id in carried.concerns.ticked and answer in journey.chosen_indicators(version, carried)
    assert not journey.is_answered(version, "concerns", carried.but(areas=Ticks(
        ticked=carried.areas.ticked, shown=journey.layout(version, carried).area_ids)))


@VERSIONS
def test_no_danger_asks_about_you_only_when_the_account_has_not_said(version):
    assert_next_page(version, JourneyAnswers(in_danger="no"), "danger", "about_you")
    known = JourneyAnswers(in_danger="no", about_you=AboutYou(role="dsl", organisation="school"))
    assert journey.first_unanswered(version, known) == "about_child"


@VERSIONS
def test_the_first_concerns_page_holds_every_serious_and_urgent_concern_and_only_those(version):
    for child in (Child(unborn=True), Child(years=0, months=2), Child(years=9), Child(years=15)):
        answers = BORN.but(child=child)
        plan = journey.layout(version, answers)
        months, unborn = journey.child_age(answers)
        serious = {i.id for i in plan.serious_items}
        expected = {i.id for i in version.document.indicators
                    if journey.applies(i, months, unborn) and journey.is_serious(version, i)}
        assert serious == expected
        assert len(plan.serious) <= len(version.document.domains)  # grouped: a heading per domain


@VERSIONS
def test_every_applicable_indicator_can_be_reached_exactly_once(version):
    for child in (Child(unborn=True), Child(years=0, months=2), Child(years=14)):
        answers = BORN.but(child=child)
        months, unborn = journey.child_age(answers)
        plan = journey.layout(version, answers)
        reachable = [i.id for i in plan.serious_items]
        for area in plan.area_ids:
            for item in plan.by_area[area]:
                reachable += [o.id for o in item.options]
        expected = [i.id for i in version.document.indicators if journey.applies(i, months, unborn)]
        assert sorted(reachable) == sorted(expected)


@VERSIONS
def test_no_question_is_shown_for_an_age_it_cannot_apply_to(version):
    for child in (Child(unborn=True), Child(years=0, months=8), Child(years=4), Child(years=16)):
        answers = BORN.but(child=child)
        months, unborn = journey.child_age(answers)
        plan = journey.layout(version, answers)
        everything = list(plan.serious_items) + [i for a in plan.area_ids for i in plan.by_area[a]]
        for item in everything:
            assert all(journey.applies(o, months, unborn) for o in item.options), (child, item.id)


@VERSIONS
def test_ticking_an_emergency_concern_interrupts_with_phone_now(version):
    # A 5 year old: every version has an emergency concern for a young child (northmere-2026-12
    # keeps 999 for "a young child on their own right now").
    plan = journey.layout(version, with_age(BORN, 5))
    urgent = next(i for i in plan.serious_items if journey.is_emergency(i.options[0]))
    answers = journey.with_concerns(version, with_age(BORN, 5), [urgent.id])
    assert_next_page(version, answers, "serious", "danger_call")
    assert journey.sequence(version, answers)[-3:] == ["danger_call", "what_happened", "referral"]


@VERSIONS
def test_only_the_chosen_areas_questions_are_asked(version):
    answers = journey.with_concerns(version, BORN, [])
    assert journey.sequence(version, answers)[3:] == ["serious", "areas", "what_happened", "family", "check",
                                                      "recommendation"]
    plan = journey.layout(version, BORN)
    area = plan.area_ids[0]
    answers = answers.but(areas=Ticks(ticked=(area,), shown=plan.area_ids))
    assert_next_page(version, answers, "areas", "concerns")
    assert {i.area for i in journey.concern_items(version, answers)} == {area}


@VERSIONS
def test_a_serious_answer_takes_its_question_off_the_areas_pages(version):
    plan = journey.layout(version, BORN)
    serious_option = next((i for i in plan.serious_items if i.options[0].asks_for), None)
    if serious_option is None:
        pytest.skip("no severity question with a serious answer")
    question = serious_option.options[0].asks_for
    answers = journey.with_concerns(version, BORN, [serious_option.id])
    after = journey.layout(version, answers)
    assert question not in {i.id for a in after.area_ids for i in after.by_area[a]}
    assert journey.chosen_indicators(version, answers) == {serious_option.id}


@VERSIONS
def test_pages_cannot_be_skipped(version):
    assert journey.can_visit(version, JourneyAnswers(), "danger")
    assert not journey.can_visit(version, JourneyAnswers(), "about_child")
    assert not journey.can_visit(version, BORN, "check")
    answers = finished(version, BORN)
    assert journey.can_visit(version, answers, "check")
    assert journey.first_unanswered(version, answers) == "check"


@VERSIONS
def test_changing_the_age_asks_the_new_questions_before_check(version):
    """9 to 15: concerns that now apply are asked; "None of these" never silently covers them."""
    teen_only = next(i for i in version.document.indicators
                     if (i.min_age_months or 0) > 111 and not journey.is_serious(version, i))
    nine = journey.with_concerns(version, BORN, [])
    plan = journey.layout(version, nine)
    nine = finished(version, nine).but(areas=Ticks(ticked=(teen_only.area,), shown=plan.area_ids))
    nine = nine.but(concerns=Ticks(ticked=(), shown=tuple(i.id for i in journey.concern_items(version, nine))))
    assert journey.next_page(version, nine, "about_you", returning_to_check=True) == "check"
    older, dropped = journey.prune(version, with_age(nine, 15))
    assert dropped == []
    serious_now = tuple(i.id for i in journey.layout(version, older).serious_items)
    if set(serious_now) - set(nine.serious.shown):  # a most serious concern for teenagers (13 to 15 with an adult)
        assert journey.next_page(version, older, "about_child", returning_to_check=True) == "serious"
        older = older.but(serious=Ticks(ticked=(), shown=serious_now))
        assert journey.next_page(version, older, "serious", returning_to_check=True) == "concerns"
    else:
        assert journey.next_page(version, older, "about_child", returning_to_check=True) == "concerns"
    offered = {o.id for i in journey.concern_items(version, older) for o in i.options}
    assert teen_only.id in offered
    older = older.but(concerns=Ticks(ticked=(), shown=tuple(i.id for i in journey.concern_items(version, older))))
    assert journey.next_page(version, older, "concerns", returning_to_check=True) == "check"


@VERSIONS
def test_answers_that_no_longer_apply_are_dropped_and_named(version):
    baby = with_age(BORN, 0, 2)
    plan = journey.layout(version, baby)
    baby_only = next((i for i in plan.serious_items + tuple(i for a in plan.area_ids for i in plan.by_area[a])
                      if not i.question and (i.options[0].max_age_months or 999) < 12), None)
    if baby_only is None:
        pytest.skip("no baby-only indicator")
    answers = journey.with_concerns(version, baby, [baby_only.id])
    older, dropped = journey.prune(version, with_age(answers, 9, 3))
    assert baby_only.id not in journey.chosen_indicators(version, older)
    assert dropped == [version.indicators[baby_only.id].text]


@VERSIONS
def test_engine_answers_match_the_journey(version):
    answers = finished(version, BORN).but(consent=Consent(aware="no", consent="refused", reason="No"))
    engine_answers = journey.engine_answers(version, answers)
    assert engine_answers.age_months == 9 * 12 + 3 and not engine_answers.unborn
    assert engine_answers.consent == "refused"
    assert assess(engine_answers, version, dt.date(2026, 11, 27)).route == "universal"


def test_answers_round_trip_through_json():
    answers = finished(LIBRARY.versions[-1], BORN)
    assert JourneyAnswers.load(answers.dump()) == answers
    assert JourneyAnswers.load({"_unsent": {"family": {}}, **answers.dump()}) == answers


def test_source_codes_follow_the_children_in_need_census():
    def code(organisation):
        return journey.source_code(JourneyAnswers(about_you=AboutYou(role="dsl", organisation=organisation)))
    assert (code("school"), code("gp"), code("health_visiting"), code("school_nursing")) == ("2A", "3A", "3B", "3C")


@pytest.mark.parametrize("years,band", [(0, "under 1"), (3, "1 to 4"), (7, "5 to 9"), (12, "10 to 15"),
                                        (17, "16 to 17")])
def test_age_bands(years, band):
    assert journey.age_band(with_age(BORN, years)) == band


@VERSIONS
def test_each_registered_page_owns_whether_it_is_answered_and_what_it_makes_relevant(version):
    """The registry's pages carry their routing; the journey is the chain of what each makes relevant."""
    from signpost.web.pages import PAGES
    item = next(i.id for i in version.document.indicators if i.level == 2 and not i.asks_for
                and not journey.is_emergency(i) and journey.applies(i, 111, False))
    answers = finished(version, BORN, [item])
    seq = journey.sequence(version, answers)
    assert seq == ["danger", "about_you", "about_child", "serious", "areas", "concerns", "what_happened",
                   "family", "check", "recommendation"]
    for index, page in enumerate(seq[1:], start=1):  # each page is made relevant by an earlier one
        assert any(page in journey.STEPS[p].leads_to(version, answers) for p in seq[:index]), page
    assert {p for p in seq if p in PAGES} == set(PAGES)
    for page in PAGES.values():
        assert page.is_answered(version, answers) and journey.is_answered(version, page.id, answers)
        assert not page.is_answered(version, JourneyAnswers())  # nothing answered yet
    assert PAGES["areas"].makes_relevant(version, answers) == ("concerns",)
    assert PAGES["areas"].makes_relevant(version, answers.but(areas=Ticks(shown=("x",)))) == ()


OWN_CONSENT = [v for v in LIBRARY.versions if v.document.consent_advice.own_consent_from_age]


@pytest.mark.parametrize("child, asked", [(Child(years=15, months=11), "family"), (Child(years=16, months=0), "young_person"),
                                          (Child(years=17, months=11), "young_person"), (Child(unborn=True), "family")])
def test_the_consent_asked_for_is_a_young_person_of_16_or_17s_own(child, asked):
    assert OWN_CONSENT, "no version says from what age a young person's own consent is asked"
    for version in OWN_CONSENT:
        assert journey.asks_consent_of(version, BORN.but(child=child)) == asked


@VERSIONS
def test_a_version_that_does_not_say_asks_the_familys_consent_at_every_age(version):
    """Before northmere-2026-12-5 the steps speak only of the family's agreement: asking a young person
    for theirs under them would have the result say the family agreed."""
    if version.document.consent_advice.own_consent_from_age:
        pytest.skip("this version asks a young person for their own consent")
    assert journey.asks_consent_of(version, BORN.but(child=Child(years=17, months=0))) == "family"


@pytest.mark.parametrize("version", OWN_CONSENT, ids=lambda v: v.id)
def test_a_consent_answered_for_the_family_is_asked_again_once_the_child_is_said_to_be_16(version):
    family_page = journey.STEPS["family"]
    answers = finished(version, with_age(BORN, 15, 6))
    assert family_page.answered(version, answers)
    older = with_age(answers, 16, 1)
    assert not family_page.answered(version, older)
    again = older.but(consent=older.consent.model_copy(update={"asked_of": "young_person"}))
    assert family_page.answered(version, again)
    assert not family_page.answered(version, with_age(again, 15, 11))
