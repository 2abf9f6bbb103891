"""Path-by-path tests of the journey's routing (signpost.journey), on every shipped version."""
import datetime as dt
from pathlib import Path

import pytest

from signpost import journey
from signpost.engine import assess
from signpost.thresholds import load_library

LIBRARY = load_library(Path(__file__).resolve().parent.parent / "thresholds")
VERSIONS = pytest.mark.parametrize("version", LIBRARY.versions, ids=lambda v: v.id)

BORN = {"in_danger": "no", "about_you": {"role": "dsl", "organisation": "school"},
        "child": {"unborn": False, "years": 9, "months": 3, "expected_date": None}}


def answered_all_concerns(version, answers, ticks=None):
    """Answer every concerns page ('none of these' unless ticks name the page's items)."""
    answers = dict(answers, concerns=dict(answers.get("concerns", {})))
    for page in journey.concerns_pages(version, answers):
        answers["concerns"].setdefault(page.id, (ticks or {}).get(page.id, []))
    return answers


def assert_next_page(version, answers, current, expected):
    assert journey.next_page(version, answers, current) == expected


@VERSIONS
def test_immediate_danger_first_question_goes_straight_to_phone_page(version):
    assert_next_page(version, {"in_danger": "yes"}, "danger", "danger_call")
    assert journey.sequence(version, {"in_danger": "yes"}) == ["danger", "danger_call"]


@VERSIONS
def test_no_danger_goes_to_about_you_then_child(version):
    answers = {"in_danger": "no"}
    assert_next_page(version, answers, "danger", "about_you")
    assert_next_page(version, dict(answers, about_you={}), "about_you", "about_child")


@VERSIONS
def test_serious_concerns_come_first_and_hold_only_top_level(version):
    pages = journey.concerns_pages(version, BORN)
    assert pages[0].id == "concerns_serious"
    top = version.document.levels[-1].number
    assert pages[0].items and all(item.level == top for item in pages[0].items)
    assert_next_page(version, BORN, "about_child", "concerns_serious")
    for page in pages[1:]:
        assert all(item.level < top for item in page.items), "top-level concerns are asked first"


@VERSIONS
def test_every_applicable_indicator_can_be_reached_exactly_once(version):
    for child in ({"unborn": True, "expected_date": None},
                  {"unborn": False, "years": 0, "months": 2}, {"unborn": False, "years": 14, "months": 0}):
        answers = dict(BORN, child=child)
        months, unborn = journey.child_age(answers)
        reachable = []
        for page in journey.concerns_pages(version, answers):
            for item in page.items:
                if item.question:
                    reachable += [o.id for o in version.severity_options(item.id)
                                  if journey.applies(o, months, unborn)]
                else:
                    reachable.append(item.id)
        expected = [i.id for i in version.document.indicators if journey.applies(i, months, unborn)]
        assert sorted(reachable) == sorted(expected)


@VERSIONS
def test_ticking_an_immediate_indicator_interrupts_with_phone_now(version):
    # A 5 year old: every version has an emergency concern for a young child (northmere-2026-12
    # keeps 999 for "a young child on their own right now").
    young = dict(BORN, child={"unborn": False, "years": 5, "months": 0, "expected_date": None})
    serious = journey.concerns_pages(version, young)[0]
    immediate = next(i for i in serious.items if i.id in version.indicators and version.indicators[i.id].immediate)
    answers = dict(young, concerns={"concerns_serious": [immediate.id]})
    assert_next_page(version, answers, "concerns_serious", "danger_call")
    assert journey.sequence(version, answers)[-1] == "danger_call"


@VERSIONS
def test_severity_question_follows_the_page_that_asks_it(version):
    for page in journey.concerns_pages(version, BORN):
        question = next((i for i in page.items if i.question), None)
        if question:
            break
    else:
        pytest.skip("no severity question applies at this age")
    answers = dict(BORN, concerns={page.id: [question.id]})
    assert_next_page(version, answers, page.id, f"severity_{question.id}")
    options = version.severity_options(question.id)
    answers["severity"] = {question.id: options[0].id}
    assert options[0].id in journey.chosen_indicators(version, answers)


@VERSIONS
def test_after_concerns_come_voice_family_consent_check(version):
    answers = answered_all_concerns(version, BORN)
    last = journey.concerns_pages(version, answers)[-1].id
    assert_next_page(version, answers, last, "voice")
    assert journey.sequence(version, answers)[-5:] == ["voice", "family", "consent", "check", "recommendation"]


@VERSIONS
def test_unborn_baby_skips_the_voice_page_and_gets_pre_birth_questions(version):
    answers = dict(BORN, child={"unborn": True, "expected_date": "2027-01-10"})
    answers = answered_all_concerns(version, answers)
    seq = journey.sequence(version, answers)
    assert "voice" not in seq
    items = [i for p in journey.concerns_pages(version, answers) for i in p.items]
    assert items and all(journey.applies(version.indicators[i.id], None, True)
                         for i in items if i.id in version.indicators)


@VERSIONS
def test_pages_cannot_be_skipped(version):
    assert journey.can_visit(version, {}, "danger")
    assert not journey.can_visit(version, {}, "about_child")
    assert not journey.can_visit(version, BORN, "check")
    answers = answered_all_concerns(version, BORN)
    answers.update(voice={}, family={}, consent={"consent": "given"})
    assert journey.can_visit(version, answers, "check")
    assert journey.first_unanswered(version, answers) == "check"


@VERSIONS
def test_change_from_check_returns_to_check_or_to_new_questions(version):
    answers = answered_all_concerns(version, BORN)
    answers.update(voice={}, family={}, consent={"consent": "given"})
    assert journey.next_page(version, answers, "about_you", returning_to_check=True) == "check"
    baby = journey.prune(version, dict(answers, child={"unborn": False, "years": 0, "months": 1}))
    # pages for a baby differ, so the referrer is sent to the first unanswered one, not to check
    assert journey.next_page(version, baby, "about_child", returning_to_check=True) != "recommendation"


@VERSIONS
def test_prune_drops_concerns_that_no_longer_apply_to_the_age(version):
    baby = dict(BORN, child={"unborn": False, "years": 0, "months": 2})
    serious = journey.concerns_pages(version, baby)[0]
    baby_only = next((i for i in serious.items
                      if i.id in version.indicators and (version.indicators[i.id].max_age_months or 999) < 12), None)
    if baby_only is None:
        pytest.skip("no baby-only serious indicator")
    answers = dict(baby, concerns={"concerns_serious": [baby_only.id]})
    older = journey.prune(version, dict(answers, child=BORN["child"]))
    assert baby_only.id not in journey.chosen_indicators(version, older)


@VERSIONS
def test_engine_answers_match_the_journey(version):
    answers = answered_all_concerns(version, BORN)
    answers["consent"] = {"consent": "refused"}
    engine_answers = journey.engine_answers(version, answers)
    assert engine_answers.age_months == 9 * 12 + 3 and not engine_answers.unborn
    assert engine_answers.consent == "refused"
    assert assess(engine_answers, version, dt.date(2026, 11, 27)).route == "universal"


def test_source_codes_follow_the_children_in_need_census():
    assert journey.source_code({"about_you": {"organisation": "school"}}) == "2A"
    assert journey.source_code({"about_you": {"organisation": "gp"}}) == "3A"
    assert journey.source_code({"about_you": {"organisation": "health_visiting"}}) == "3B"
    assert journey.source_code({"about_you": {"organisation": "school_nursing"}}) == "3C"


@pytest.mark.parametrize("years,band", [(0, "under 1"), (3, "1 to 4"), (7, "5 to 9"), (12, "10 to 15"),
                                        (17, "16 to 17")])
def test_age_bands(years, band):
    assert journey.age_band({"child": {"unborn": False, "years": years, "months": 0}}) == band


@VERSIONS
def test_prune_moves_a_tick_to_the_page_that_now_asks_it(version):
    """A draft saved when a concern sat on its domain page keeps it after it moved to the first page."""
    serious = journey.concerns_pages(version, BORN)[0]
    moved = next((i for i in serious.items if i.question is None and i.id in version.indicators
                  and not version.indicators[i.id].immediate), None)
    domain_page = f"concerns_{version.indicators[moved.id].domain}"
    answers = dict(BORN, concerns={"concerns_serious": [], domain_page: [moved.id]}, _unsent={"voice": {}})
    pruned = journey.prune(version, answers)
    assert moved.id in pruned["concerns"]["concerns_serious"]
    assert moved.id in journey.chosen_indicators(version, pruned)
    assert journey.UNSENT not in pruned
