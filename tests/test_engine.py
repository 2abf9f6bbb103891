"""The engine path by path, on the fixture versions: each branch and each refusal asserted.

Fixture: tests/fixtures/thresholds/good/fixture-2024-01.yaml (levels 1-4, 4 -> social care).
"""
from __future__ import annotations

import datetime as dt

import pytest

from helpers_thresholds import answers, fixture_directory, fixture_version
from signpost import engine
from signpost.engine import AnswerError, Answers, assess

ON = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def v1():
    return fixture_version("fixture-2024-01")


def run(v1, *indicators, directory=None, **kwargs):
    return assess(answers(*indicators, **kwargs), v1, ON, directory)


def refused(v1, *indicators, **kwargs):
    with pytest.raises(AnswerError) as caught:
        run(v1, *indicators, **kwargs)
    return [p.message for p in caught.value.problems]


# --- levels -------------------------------------------------------------------------------

def test_no_concerns_is_universal_level_one_with_no_reasons(v1):
    rec = run(v1)
    assert (rec.route, rec.level, rec.immediate, rec.reasons) == ("universal", 1, False, ())
    assert rec.level_name == "Level 1 - universal"
    assert rec.next_steps == ("Keep supporting the child.",)


def test_one_additional_need_is_early_help_citing_it(v1):
    rec = run(v1, "health_appointments_missed")
    assert (rec.route, rec.level) == ("early_help", 2)
    (reason,) = rec.reasons
    assert (reason.kind, reason.id, reason.level) == ("indicator", "health_appointments_missed", 2)
    assert reason.text == v1.indicators["health_appointments_missed"].text


@pytest.mark.parametrize("indicators, level, deciding", [
    (("health_appointments_missed", "home_conditions_unsafe"), 3, ["home_conditions_unsafe"]),
    (("health_appointments_missed", "neglect_significant"), 4, ["neglect_significant"]),
    (("home_conditions_unsafe", "neglect_significant", "missing_once"), 4, ["neglect_significant"]),
    (("missing_regularly", "home_conditions_unsafe"), 3, ["home_conditions_unsafe", "missing_regularly"]),
])
def test_highest_level_wins_and_only_it_is_cited(v1, indicators, level, deciding):
    rec = run(v1, *indicators)
    assert rec.level == level
    assert rec.route == "social_care"
    assert sorted(rec.reason_ids) == deciding
    assert all(r.kind == "indicator" and r.level == level for r in rec.reasons)


def test_level_four_indicator_is_not_immediate(v1):
    rec = run(v1, "neglect_significant")
    assert (rec.route, rec.level, rec.immediate) == ("social_care", 4, False)
    assert rec.next_steps[0] == "Complete the referral today."


# --- short-circuits ---------------------------------------------------------------------------

@pytest.mark.parametrize("consent", ["given", "refused", "not_asked", "not_needed"])
def test_immediate_indicator_short_circuits_everything(v1, consent):
    rec = run(v1, "disclosure_of_abuse", "health_appointments_missed", "housing_poor",
              "basic_care_inconsistent", consent=consent, directory=fixture_directory())
    assert (rec.route, rec.level, rec.immediate) == ("social_care", 4, True)
    assert rec.reason_ids == ["disclosure_of_abuse"]
    assert rec.reasons[0].kind == "immediate"
    # The 999 steps come first, then the referral's; nothing else comes before them.
    immediate_steps = tuple(v1.document.immediate_danger.next_steps)
    assert rec.next_steps[:len(immediate_steps)] == immediate_steps
    assert rec.next_steps[len(immediate_steps):] == tuple(v1.document.routes.social_care.next_steps)
    assert rec.urgency == "emergency"
    assert rec.services == ()  # nothing to read through first: call 999
    assert not rec.consent_applied


def test_injury_to_non_mobile_baby_is_immediate_up_to_its_age_bound(v1):
    assert run(v1, "injury_non_mobile_baby", age_months=0).immediate
    assert run(v1, "injury_non_mobile_baby", age_months=5).immediate
    problems = refused(v1, "injury_non_mobile_baby", age_months=6)
    assert "'injury_non_mobile_baby' does not apply to a child of this age" in problems[0]


def test_in_danger_short_circuits_without_any_indicator(v1):
    rec = run(v1, in_danger=True, consent="refused")
    assert (rec.route, rec.level, rec.immediate) == ("social_care", 4, True)
    assert rec.reason_ids == ["in_immediate_danger"]


def test_in_danger_is_cited_first_then_the_immediate_indicators(v1):
    rec = run(v1, "disclosure_of_abuse", "injury_non_mobile_baby", in_danger=True, age_months=3)
    assert rec.reason_ids == ["in_immediate_danger", "disclosure_of_abuse", "injury_non_mobile_baby"]
    assert all(r.kind == "immediate" for r in rec.reasons)


# --- rules ---------------------------------------------------------------------------------

def test_cumulative_rule_fires_at_its_threshold(v1):
    # Three level-2 needs across three domains (min_count 3, min_domains 2).
    needs = ("health_appointments_missed", "basic_care_inconsistent", "housing_poor")
    rec = run(v1, *needs)
    assert (rec.route, rec.level) == ("social_care", 3)
    assert rec.reasons[0].id == "cumulative_additional_needs"
    assert rec.reasons[0].kind == "rule"
    assert rec.reasons[0].text == v1.document.rules[0].reason
    assert sorted(rec.reason_ids[1:]) == sorted(needs)  # the needs that added up


def test_cumulative_rule_does_not_fire_one_below_its_threshold(v1):
    rec = run(v1, "health_appointments_missed", "basic_care_inconsistent")
    assert (rec.route, rec.level) == ("early_help", 2)
    assert "cumulative_additional_needs" not in rec.reason_ids


def test_cumulative_rule_needs_enough_domains(v1):
    # Three level-2 needs, all in one domain (development).
    rec = run(v1, "health_appointments_missed", "school_attendance_low", "development_delay")
    assert rec.level == 2
    rec = run(v1, "health_appointments_missed", "school_attendance_low", "housing_poor")
    assert rec.level == 3


def test_cumulative_rule_counts_a_severity_answer(v1):
    rec = run(v1, "missing_once", "housing_poor", "health_appointments_missed")
    assert rec.level == 3 and "cumulative_additional_needs" in rec.reason_ids


def test_rule_that_would_not_raise_the_level_is_not_cited(v1):
    # Counts reach 3 but a level-3 indicator already sets level 3.
    rec = run(v1, "health_appointments_missed", "housing_poor", "home_conditions_unsafe")
    assert rec.level == 3
    assert rec.reason_ids == ["home_conditions_unsafe"]


@pytest.mark.parametrize("age, level", [(0, 3), (11, 3), (12, 2), (100, 2)])
def test_age_rule_raises_a_parenting_concern_for_a_baby(v1, age, level):
    rec = run(v1, "basic_care_inconsistent", age_months=age)
    assert rec.level == level
    assert ("baby_parenting_concern" in rec.reason_ids) == (level == 3)


def test_age_rule_ignores_concerns_outside_its_areas(v1):
    assert run(v1, "health_appointments_missed", age_months=3).level == 2


def test_unborn_age_rule_applies_only_before_birth(v1):
    rec = run(v1, "parental_substance_misuse", unborn=True)
    assert rec.level == 3
    assert rec.reason_ids[0] == "unborn_substance_misuse"
    assert "unborn_substance_misuse" not in run(v1, "parental_substance_misuse", age_months=3).reason_ids
    assert run(v1, "parental_substance_misuse", age_months=50).level == 2


# --- consent ----------------------------------------------------------------------------------

def test_refused_consent_turns_early_help_into_universal_services(v1):
    rec = run(v1, "health_appointments_missed", consent="refused")
    assert rec.route == "universal"
    assert rec.level == 2  # the level is still reported honestly
    assert rec.consent_applied
    assert rec.reasons[-1].kind == "consent" and rec.reasons[-1].id == "consent_refused"
    assert "Record the family's decision." in rec.next_steps
    assert rec.next_steps[0] == "Keep supporting the child."  # the universal route's steps


@pytest.mark.parametrize("indicators", [
    ("home_conditions_unsafe",),
    ("health_appointments_missed", "basic_care_inconsistent", "housing_poor"),  # cumulative
])
def test_refused_consent_never_lowers_a_social_care_level(v1, indicators):
    """Working Together 2023: refusal never stops a referral; the front door decides."""
    rec = run(v1, *indicators, consent="refused")
    assert (rec.route, rec.level, rec.consent_applied) == ("social_care", 3, False)
    assert rec.next_steps[0] == "Complete the referral today."


def test_refused_consent_with_a_level_four_indicator_still_gives_social_care(v1):
    rec = run(v1, "neglect_significant", "health_appointments_missed", consent="refused")
    assert (rec.route, rec.level, rec.consent_applied) == ("social_care", 4, False)
    assert "consent_refused" not in rec.reason_ids


def test_refused_consent_with_no_concern_is_not_cited(v1):
    rec = run(v1, consent="refused")
    assert rec.route == "universal" and not rec.consent_applied and rec.reasons == ()


@pytest.mark.parametrize("consent", ["given", "not_needed", "not_asked"])
def test_consent_other_than_refused_keeps_the_route(v1, consent):
    assert run(v1, "home_conditions_unsafe", consent=consent).route == "social_care"
    rec = run(v1, "health_appointments_missed", consent=consent)
    assert rec.route == "early_help" and not rec.consent_applied


def test_consent_not_asked_adds_its_advice(v1):
    asked = run(v1, "health_appointments_missed", consent="given").next_steps
    not_asked = run(v1, "health_appointments_missed", consent="not_asked").next_steps
    assert not_asked == asked + ("Ask the family for consent before arranging early help.",)


# --- services ---------------------------------------------------------------------------------

def service_ids(rec):
    return [s.id for s in rec.services]


@pytest.mark.parametrize("age, expected", [
    (0, ["health_visiting", "family_hub"]),     # lower bound of health visiting (0-59)
    (59, ["health_visiting", "family_hub"]),    # upper bound, inclusive
    (60, ["school_nursing", "family_hub"]),     # lower bound of school nursing (60-215)
    (215, ["school_nursing", "family_hub"]),    # upper bound, inclusive
])
def test_services_fit_the_age_inclusively(v1, age, expected):
    rec = run(v1, "health_appointments_missed", age_months=age, consent="refused",
              directory=fixture_directory())
    assert rec.route == "universal"
    assert service_ids(rec) == expected


def test_services_for_an_unborn_baby_with_no_concerns_are_those_taking_unborn_babies(v1):
    rec = run(v1, unborn=True, consent="given", directory=fixture_directory())
    assert service_ids(rec) == ["family_hub"]


@pytest.mark.parametrize("age, expected", [
    (119, ["family_support"]),                     # missing service starts at 120; general support
    (120, ["missing_service", "family_support"]),  # specialist tier first, then general early help
    (131, ["missing_service", "family_support"]),  # family support ends at 131 (inclusive)
    (132, ["missing_service", "youth_support"]),   # youth support starts at 132 and serves missing
])
def test_social_care_services_come_from_its_tiers_in_order(v1, age, expected):
    rec = run(v1, "missing_regularly", age_months=age, directory=fixture_directory())
    assert rec.route == "social_care"
    assert service_ids(rec) == expected  # never the inactive service that serves everything


def test_no_directory_means_no_services(v1):
    assert run(v1, "health_appointments_missed").services == ()


# --- refusals -----------------------------------------------------------------------------------

def test_unknown_indicator_is_refused_naming_it(v1):
    problems = refused(v1, "no_such_concern", "health_appointments_missed")
    assert problems == ["These concerns are not in threshold version fixture-2024-01: no_such_concern."]


@pytest.mark.parametrize("age", [-1, 216, 1000])
def test_age_out_of_range_is_refused(v1, age):
    assert refused(v1, age_months=age) == [
        "The child's age must be between 0 and 17 years (0 to 215 months)."]


@pytest.mark.parametrize("age", [0, 215])
def test_age_bounds_are_inclusive(v1, age):
    assert run(v1, age_months=age).route == "universal"


def test_age_and_unborn_together_are_refused(v1):
    problems = refused(v1, unborn=True, age_months=3)
    assert problems == ["Give either the child's age or that the baby is not born yet, not both."]


def test_neither_age_nor_unborn_is_refused(v1):
    with pytest.raises(AnswerError) as caught:
        assess(Answers.of(["health_appointments_missed"], consent="given"), v1, ON)
    assert [p.message for p in caught.value.problems] == [
        "Give the child's age in months, or say that the baby is not born yet."]


def test_problems_are_data_with_a_code_and_the_answer_they_are_about(v1):
    with pytest.raises(AnswerError) as caught:
        assess(Answers.of(["health_appointments_missed"], consent="maybe"), v1, ON)
    assert [(p.code, p.field) for p in caught.value.problems] == [
        ("consent_unknown", "consent"), ("age_missing", "age_months")]


def test_age_must_be_a_whole_number(v1):
    assert refused(v1, age_months=True) == ["The child's age must be a whole number of months."]


def test_two_options_of_one_severity_question_are_refused(v1):
    problems = refused(v1, "missing_once", "missing_regularly")
    assert problems == ["Choose one answer about 'missing_from_home', not both "
                        "'missing_once' and 'missing_regularly'."]


@pytest.mark.parametrize("indicator, age, ok", [
    ("young_carer", 119, False), ("young_carer", 120, True),
    ("young_carer", 203, True), ("young_carer", 204, False),
    ("school_attendance_low", 47, False), ("school_attendance_low", 48, True),
])
def test_indicator_outside_its_age_bounds_is_refused(v1, indicator, age, ok):
    if ok:
        assert run(v1, indicator, age_months=age).level == 2
    else:
        (problem,) = refused(v1, indicator, age_months=age)
        assert problem.startswith(f"'{indicator}' does not apply to a child of this age")


def test_unborn_and_born_only_indicators_are_refused_for_the_other(v1):
    (problem,) = refused(v1, "pregnancy_concealed", age_months=1)
    assert "it is only for unborn babies" in problem
    (problem,) = refused(v1, "health_appointments_missed", unborn=True)
    assert "'health_appointments_missed' does not apply" in problem
    assert run(v1, "parental_substance_misuse", unborn=True).level == 3  # applies_to: both


def test_invalid_consent_is_refused(v1):
    assert refused(v1, consent="maybe") == [
        "Consent must be one of: given, refused, not_asked, not_needed."]


def test_every_problem_is_reported_at_once(v1):
    problems = refused(v1, "no_such_concern", "missing_once", "missing_regularly", "young_carer",
                       age_months=50, consent="maybe")
    assert len(problems) == 4
    assert any("Consent" in p for p in problems)
    assert any("no_such_concern" in p for p in problems)
    assert any("missing_from_home" in p for p in problems)
    assert any("'young_carer' does not apply" in p for p in problems)


def test_an_unknown_id_containing_age_does_not_hide_age_problems(v1):
    # Regression: age checks were skipped whenever any problem text contained "age".
    problems = refused(v1, "teenage_worry", "young_carer", age_months=50)
    assert len(problems) == 2
    assert "'young_carer' does not apply to a child of this age" in problems[1]


def test_expected_date_of_birth_from_four_weeks_ago_to_ten_months_ahead(v1):
    """An overdue baby (the due date passed, not yet born) can still be referred before birth."""
    for days in (-28, -1, 0, 100, 300):
        assert run(v1, unborn=True, expected_date=ON + dt.timedelta(days=days)).route == "universal", days
    for days in (-29, 301):
        problems = refused(v1, unborn=True, expected_date=ON + dt.timedelta(days=days))
        assert problems == [engine.EXPECTED_DATE_PROBLEM], days


# --- what every recommendation carries --------------------------------------------------------

def test_recommendation_names_its_version_and_hash(v1):
    rec = run(v1, "housing_poor")
    assert (rec.version_id, rec.version_hash) == (v1.id, v1.content_hash)
    data = rec.to_dict()
    assert data["threshold"] == {"id": v1.id, "hash": v1.content_hash}
    assert data["level"] == {"number": 2, "name": "Level 2 - additional needs"}
    assert [r["id"] for r in data["reasons"]] == ["housing_poor"]


def test_overdue_for_review_after_review_by(v1):
    review_by = v1.document.review_by
    assert not assess(answers(), v1, review_by).overdue_for_review
    assert assess(answers(), v1, review_by + dt.timedelta(days=1)).overdue_for_review


def test_same_answers_same_recommendation(v1):
    a = answers("health_appointments_missed", "housing_poor", "missing_once")
    assert assess(a, v1, ON, fixture_directory()) == assess(a, v1, ON, fixture_directory())


def test_a_version_change_changes_the_answer(v1):
    # home_conditions_unsafe moved from level 3 to level 4 in fixture-2025-04.
    v2 = fixture_version("fixture-2025-04")
    a = answers("home_conditions_unsafe", consent="given")
    assert (assess(a, v1, ON).level, assess(a, v2, ON).level) == (3, 4)


def test_a_concern_the_family_must_not_hear_of_never_says_tell_the_parents():
    """Every shipped concern marked family_not_told, for every consent answer: without the family's
    agreement the steps are those for not telling them; with it, those for a family who know."""
    from helpers_thresholds import shipped_versions
    checked = 0
    for version in shipped_versions():
        doc = version.document
        for indicator in (i for i in doc.indicators if i.family_not_told):
            age = indicator.min_age_months or 0 if indicator.applies_to != "unborn" else None
            for consent in ("given", "refused", "not_asked", "not_needed"):
                rec = assess(Answers(indicators=frozenset({indicator.id}), age_months=age,
                                     unborn=indicator.applies_to == "unborn", consent=consent),
                             version, version.effective_from)
                assert rec.route == "social_care", indicator.id
                advice = doc.consent_advice.given if consent == "given" else doc.consent_advice.not_needed
                assert rec.next_steps[-len(advice.social_care):] == tuple(advice.social_care), (indicator.id, consent)
                if consent != "given":
                    told = set(doc.consent_advice.not_asked.social_care) | set(doc.consent_advice.refused.social_care)
                    assert not told & set(rec.next_steps), (indicator.id, consent)
                checked += 1
    assert checked >= 8 * 4  # northmere-2026-12-2 marks eight


def test_a_same_day_referral_does_not_also_say_tell_the_parents():
    """The same-day steps say the front door decides when and how the family is told: a concern that
    needs a call today, with consent not asked, never ends with "tell the parents you are referring"."""
    from helpers_thresholds import shipped_versions
    checked = 0
    for version in shipped_versions():
        doc = version.document
        if doc.same_day is None:
            continue
        for indicator in (i for i in doc.indicators if i.urgency == "same_day" and not i.family_not_told
                          and not i.lado and i.applies_to != "unborn"):
            rec = assess(Answers(indicators=frozenset({indicator.id}), age_months=indicator.min_age_months or 0,
                                 consent="not_asked"), version, version.effective_from)
            if rec.route != "social_care" or rec.urgency != "same_day":
                continue
            assert rec.next_steps[:len(doc.same_day.next_steps)] == tuple(doc.same_day.next_steps)
            assert not set(doc.consent_advice.not_asked.social_care) & set(rec.next_steps), indicator.id
            checked += 1
    assert checked
