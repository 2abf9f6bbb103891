"""Invariants of the engine, checked with Hypothesis on every shipped threshold version.

Answers are always valid: an age (or unborn), concerns that apply to it, one option per question.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpers_thresholds import (ROUTE_RANK, applicable_indicators, fixture_library, shipped_directory,
                                shipped_versions)
from signpost.engine import Answers, assess
from signpost.thresholds.schema import CONSENT_VALUES

# Every shipped version, plus the fixture versions whose age and unborn rules the content may lack.
VERSIONS = shipped_versions() + list(fixture_library().versions)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])



BY_ID = {v.id: v for v in VERSIONS}


def by_version(test):
    # Parametrized by id, so a falsifying example prints the id, not the whole document.
    return pytest.mark.parametrize("version_id", list(BY_ID))(test)


def test_there_are_shipped_versions_to_check():
    assert shipped_versions(), "no shipped threshold version loads: see test_thresholds_loader"


def one_option_per_question(indicators):
    """Keep the first option chosen for each severity question, as a referrer can."""
    kept, asked = [], set()
    for ind in indicators:
        if ind.asks_for:
            if ind.asks_for in asked:
                continue
            asked.add(ind.asks_for)
        kept.append(ind)
    return kept


@st.composite
def children(draw):
    """(age_months, unborn): mostly born children of any age, sometimes an unborn baby."""
    if draw(st.integers(0, 9)) == 0:
        return None, True
    return draw(st.integers(0, 215)), False


@st.composite
def answer_sets(draw, version, consent=None, in_danger=None):
    age, unborn = draw(children())
    pool = applicable_indicators(version, age, unborn)
    chosen = draw(st.lists(st.sampled_from(pool), max_size=8, unique_by=lambda i: i.id)) if pool else []
    if in_danger is None:
        in_danger = draw(st.integers(0, 19)) == 0  # now and then, the referrer says "in danger now"
    return Answers(
        indicators=frozenset(i.id for i in one_option_per_question(chosen)),
        age_months=age, unborn=unborn,
        consent=consent or draw(st.sampled_from(CONSENT_VALUES)),
        in_danger=in_danger,
    )


def with_indicator(version, answers, ind):
    """Answers plus one more concern; another option of the same question is replaced."""
    kept = {i for i in answers.indicators
            if not (ind.asks_for and version.indicators[i].asks_for == ind.asks_for)}
    return Answers(indicators=frozenset(kept | {ind.id}), age_months=answers.age_months,
                   unborn=answers.unborn, consent=answers.consent, in_danger=answers.in_danger)


def with_consent(answers, consent):
    return Answers(indicators=answers.indicators, age_months=answers.age_months, unborn=answers.unborn,
                   consent=consent, in_danger=answers.in_danger)


@by_version
@PROPERTY
@given(data=st.data())
def test_deterministic(version_id, data):
    version = BY_ID[version_id]
    answers = data.draw(answer_sets(version))
    directory = shipped_directory()
    first = assess(answers, version, version.effective_from, directory)
    assert assess(answers, version, version.effective_from, directory) == first


@by_version
@PROPERTY
@given(data=st.data())
def test_adding_a_concern_never_lowers_the_level_or_the_route(version_id, data):
    version = BY_ID[version_id]
    before = data.draw(answer_sets(version))
    answered = {version.indicators[i].asks_for for i in before.indicators} - {None}
    extra = [i for i in applicable_indicators(version, before.age_months, before.unborn)
             if i.id not in before.indicators and i.asks_for not in answered]
    choice = data.draw(st.sampled_from(extra + ["in_danger"]))
    if choice == "in_danger":
        after = Answers(indicators=before.indicators, age_months=before.age_months, unborn=before.unborn,
                        consent=before.consent, in_danger=True)
    else:
        after = with_indicator(version, before, choice)
    old = assess(before, version, version.effective_from)
    new = assess(after, version, version.effective_from)
    assert new.level >= old.level, (sorted(before.indicators), choice)
    assert ROUTE_RANK[new.route] >= ROUTE_RANK[old.route], (sorted(before.indicators), choice)
    assert new.immediate or not old.immediate


@by_version
@PROPERTY
@given(data=st.data())
def test_a_more_serious_severity_answer_never_lowers_the_level(version_id, data):
    version = BY_ID[version_id]
    questions = sorted({i.asks_for for i in version.document.indicators if i.asks_for})
    assume(questions)
    before = data.draw(answer_sets(version))
    question = data.draw(st.sampled_from(questions))
    options = [i for i in version.severity_options(question)
               if i in applicable_indicators(version, before.age_months, before.unborn)]
    assume(len(options) >= 2)
    low, high = sorted(data.draw(st.lists(st.sampled_from(options), min_size=2, max_size=2,
                                          unique_by=lambda i: i.id)), key=lambda i: i.level)
    old = assess(with_indicator(version, before, low), version, version.effective_from)
    new = assess(with_indicator(version, before, high), version, version.effective_from)
    assert new.level >= old.level, (sorted(before.indicators), low.id, high.id)
    assert ROUTE_RANK[new.route] >= ROUTE_RANK[old.route], (sorted(before.indicators), low.id, high.id)


@by_version
@PROPERTY
@given(data=st.data())
def test_an_emergency_indicator_always_gives_the_999_steps_first(version_id, data):
    version = BY_ID[version_id]
    base = data.draw(answer_sets(version))
    pool = [i for i in applicable_indicators(version, base.age_months, base.unborn) if i.urgency == "emergency"]
    assume(pool)
    answers = with_indicator(version, base, data.draw(st.sampled_from(pool)))
    rec = assess(answers, version, version.effective_from, shipped_directory())
    assert rec.immediate and rec.urgency == "emergency" and rec.route == "social_care"
    assert rec.level == version.top_level.number
    call_999 = tuple(version.document.immediate_danger.next_steps)
    assert rec.next_steps[:len(call_999)] == call_999
    emergency_ids = {i for i in answers.indicators if version.indicators[i].urgency == "emergency"}
    assert emergency_ids <= set(rec.reason_ids)
    # Why each urgent concern cannot wait, the emergency ones first: a same-day concern's reason (known
    # FGM's duty to report it to the police) still holds after the 999 call, so it is not dropped.
    chosen = [version.indicators[i] for i in sorted(answers.indicators) if not version.indicators[i].lado]
    assert [(r.id, r.why) for r in rec.urgent_reasons] == [
        (i.id, i.urgency_reason) for kind in ("emergency", "same_day") for i in chosen
        if i.urgency == kind and i.urgency_reason]


def same_day_versions():
    return [v.id for v in VERSIONS if any(i.urgency == "same_day" for i in v.document.indicators)]


@pytest.mark.parametrize("version_id", same_day_versions() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no shipped version has same-day concerns"))])
@PROPERTY
@given(data=st.data())
def test_a_same_day_indicator_gives_phone_today_first_and_never_the_999_page(version_id, data):
    version = BY_ID[version_id]
    base = data.draw(answer_sets(version, in_danger=False))
    base = Answers(indicators=frozenset(i for i in base.indicators if version.indicators[i].urgency != "emergency"),
                   age_months=base.age_months, unborn=base.unborn, consent=base.consent, in_danger=False)
    pool = [i for i in applicable_indicators(version, base.age_months, base.unborn) if i.urgency == "same_day"]
    assume(pool)
    answers = with_indicator(version, base, data.draw(st.sampled_from(pool)))
    rec = assess(answers, version, version.effective_from, shipped_directory())
    assert rec.urgency == "same_day" and not rec.immediate and rec.route == "social_care"
    phone_today = tuple(version.document.same_day.next_steps)
    assert rec.next_steps[:len(phone_today)] == phone_today
    assert not set(version.document.immediate_danger.next_steps) & set(rec.next_steps)
    # Why each same-day concern cannot wait is given with it, whatever decided the level.
    urgent = [version.indicators[i] for i in sorted(answers.indicators)]
    assert [(r.id, r.why) for r in rec.urgent_reasons] == [
        (i.id, i.urgency_reason) for i in urgent if i.urgency == "same_day" and i.urgency_reason and not i.lado]


@by_version
@PROPERTY
@given(data=st.data())
def test_in_danger_always_gives_immediate_social_care(version_id, data):
    version = BY_ID[version_id]
    answers = data.draw(answer_sets(version, in_danger=True))
    rec = assess(answers, version, version.effective_from)
    # A LADO concern's reason comes first (its outcome is shown first); the child's come next.
    child_reasons = [r.id for r in rec.reasons if r.kind != "lado"]
    assert rec.immediate and rec.route == "social_care" and child_reasons[0] == "in_immediate_danger"


@by_version
@PROPERTY
@given(data=st.data())
def test_any_top_level_indicator_gives_social_care_whatever_the_consent(version_id, data):
    version = BY_ID[version_id]
    base = data.draw(answer_sets(version))
    top = version.top_level.number
    pool = [i for i in applicable_indicators(version, base.age_months, base.unborn) if i.level == top]
    assume(pool)
    answers = with_indicator(version, base, data.draw(st.sampled_from(pool)))
    for consent in CONSENT_VALUES:
        rec = assess(with_consent(answers, consent), version, version.effective_from)
        assert rec.route == "social_care", (sorted(answers.indicators), consent)
        assert rec.level == top
        assert not rec.consent_applied


@by_version
@PROPERTY
@given(data=st.data())
def test_consent_only_ever_turns_early_help_into_universal_services(version_id, data):
    """Refused consent never lowers a social-care route (Working Together 2023): only early help
    is voluntary, so consent can only change an early-help recommendation."""
    version = BY_ID[version_id]
    answers = data.draw(answer_sets(version, consent="given"))
    assessed = assess(answers, version, version.effective_from)
    assert assessed.route == version.route_of_level(assessed.level) or assessed.immediate
    for consent in CONSENT_VALUES:
        rec = assess(with_consent(answers, consent), version, version.effective_from)
        assert rec.level == assessed.level, (sorted(answers.indicators), consent)
        if assessed.route == "social_care":
            assert rec.route == "social_care", (sorted(answers.indicators), consent)
        elif rec.route != assessed.route:
            assert (assessed.route, rec.route) == ("early_help", "universal"), (sorted(answers.indicators), consent)
            assert consent == "refused" and rec.consent_applied


@by_version
@PROPERTY
@given(data=st.data())
def test_level_is_at_least_every_indicator_and_reasons_are_real(version_id, data):
    version = BY_ID[version_id]
    answers = data.draw(answer_sets(version))
    rec = assess(answers, version, version.effective_from)
    levels = [version.indicators[i].level for i in answers.indicators]
    assert rec.level >= max(levels, default=1)
    rule_ids = {r.id for r in version.document.rules}
    for reason in rec.reasons:
        assert reason.id in answers.indicators or reason.id in rule_ids or reason.id == "in_immediate_danger"
        assert reason.text
    assert bool(rec.reasons) == bool(answers.indicators or answers.in_danger)
    # Always something to do: only a concern about an adult who works with children gives the LADO's
    # steps alone (universal services' "talk to the child" would go against "do not question the child").
    about_staff_only = answers.indicators and all(version.indicators[i].lado for i in answers.indicators)
    if about_staff_only and not answers.in_danger:
        assert rec.lado_steps and not rec.next_steps
    else:
        assert rec.next_steps
