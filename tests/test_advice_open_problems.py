"""Unsafe or senseless advice in the threshold version in force that only a new version can correct.

A published version is never edited, so each of these is a strict xfail: it fails today, as the
advice is wrong, and the day a corrected version comes into force it passes, which fails the run
until its marker is taken off. The reason says what the new version needs.
"""
from __future__ import annotations

import datetime as dt

import pytest

from helpers_thresholds import shipped_directory, shipped_library
from signpost.engine import Answers, assess


def in_force():
    return shipped_library().in_force(dt.date.today())


def advise(indicators, consent="not_asked", **child):
    version = in_force()
    child.setdefault("age_months", None if child.get("unborn") else 120)
    return assess(Answers(indicators=frozenset(indicators), consent=consent, **child), version, dt.date.today(),
                  shipped_directory())


def tell_the_family_steps(version) -> set[str]:
    """The consent steps that tell the referrer to tell the family about the referral."""
    advice = version.document.consent_advice
    return set(advice.refused.social_care + advice.not_asked.social_care + advice.given.social_care) - set(
        advice.not_needed.social_care)


@pytest.mark.xfail(strict=True, reason=(
    "Needs a new version: family_not_told: true on sexual_activity_under_13 and sexual_activity_13_to_15_adult "
    "(sexual abuse in law; the urgency reason itself says to plan with the police 'before the adult is warned')."))
@pytest.mark.parametrize("concern, age", [("sexual_activity_under_13", 144), ("sexual_activity_13_to_15_adult", 170)])
def test_a_child_sexually_abused_in_law_is_never_referred_with_tell_the_family(concern, age):
    # The family page gives no warning not to ask them, and a refusal is answered with "tell the family
    # that you are making the referral", where the person harming the child may be in the family.
    version = in_force()
    assert version.indicators[concern].family_not_told
    rec = advise([concern], consent="refused", age_months=age)
    assert not set(rec.next_steps) & tell_the_family_steps(version)


@pytest.mark.xfail(strict=True, reason=(
    "Needs a new version: consent_advice.not_needed.universal (the referrer says telling the family would "
    "put the child at risk: talk to the DSL or the consultation line today), as not_needed.early_help has."))
@pytest.mark.parametrize("indicators", [(), ("friendship_problems",), ("emotional_wellbeing_ordinary",)])
def test_not_telling_the_family_because_of_the_risk_is_never_met_with_universal_advice_alone(indicators):
    version = in_force()
    rec = advise(indicators, consent="not_needed")
    assert rec.route == "universal"
    consultation = version.document.contacts.consultation.phone
    assert any(consultation in step for step in rec.next_steps), rec.next_steps


@pytest.mark.xfail(strict=True, reason=(
    "Needs a new version (and a schema change): the universal route's 'Talk to the child about your worries "
    "and write down what they say they want' is given for unborn babies and babies; a step needs age bounds."))
@pytest.mark.parametrize("child", [{"unborn": True}, {"age_months": 2}, {"age_months": 11}])
def test_no_baby_or_unborn_baby_is_to_be_talked_to_about_the_worries(child):
    concern = "prebirth_advice_wanted" if child.get("unborn") else "parenting_advice_wanted"
    rec = advise([concern], **child)
    assert rec.route == "universal"
    assert not [s for s in rec.next_steps if "Talk to the child" in s], rec.next_steps


@pytest.mark.xfail(strict=True, reason=(
    "Needs a new version: the same-day steps say 'Do not question the child further' and 'in the child's "
    "own words' for an unborn baby; a same-day step needs to say what to do for an unborn baby or a baby."))
def test_an_unborn_babys_same_day_steps_do_not_speak_of_questioning_the_child():
    rec = advise(["domestic_abuse_high_risk"], unborn=True)
    assert rec.urgency == "same_day"
    assert not [s for s in rec.next_steps if "question the child" in s or "child's own words" in s], rec.next_steps


@pytest.mark.xfail(strict=True, reason=(
    "Needs a new version: with a concern about staff (LADO: 'do not question ... the child') the universal "
    "route still says 'Talk to the child about your worries'; the step needs rewording or a LADO variant."))
def test_a_concern_about_staff_is_never_followed_by_talk_to_the_child_about_your_worries():
    rec = advise(["lado_adult_may_pose_risk", "friendship_problems"])
    assert rec.lado and rec.route == "universal"
    assert not [s for s in rec.next_steps if "Talk to the child about your worries" in s], rec.next_steps
