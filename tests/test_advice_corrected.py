"""Unsafe or senseless advice that northmere-2026-12-3 corrected, held for it and every version after it.

A published version is never edited, so the versions before it keep their advice (records made with
them still mean what they said); these tests hold from the corrected version on, whichever is in force.
"""
from __future__ import annotations

import re

import pytest

from helpers_thresholds import shipped_directory, shipped_library
from signpost.engine import Answers, assess
from signpost.values import uk_today

CORRECTED = "northmere-2026-12-3"


def corrected_versions():
    library = shipped_library()
    since = library.get(CORRECTED).effective_from
    return [v for v in library.versions if v.effective_from >= since]


VERSIONS = pytest.mark.parametrize("version", corrected_versions(), ids=lambda v: v.id)


def advise(version, indicators, consent="not_asked", **child):
    child.setdefault("age_months", None if child.get("unborn") else 120)
    on = max(version.effective_from, uk_today())
    return assess(Answers(indicators=frozenset(indicators), consent=consent, **child), version, on, shipped_directory())


def tell_the_family_steps(version) -> set[str]:
    """The consent steps that tell the referrer to tell the family about the referral."""
    advice = version.document.consent_advice
    return set(advice.refused.social_care + advice.not_asked.social_care + advice.given.social_care) - set(
        advice.not_needed.social_care)


@VERSIONS
@pytest.mark.parametrize("concern, age", [("sexual_activity_under_13", 144), ("sexual_activity_13_to_15_adult", 170)])
@pytest.mark.parametrize("consent", ["refused", "not_asked", "not_needed"])
def test_a_child_sexually_abused_in_law_is_never_referred_with_tell_the_family(version, concern, age, consent):
    # Sexual offences against the child: the person harming them may be in the family. The family page warns
    # not to ask them, and no answer about consent ends with "tell the family that you are making the referral".
    assert version.indicators[concern].family_not_told
    rec = advise(version, [concern], consent=consent, age_months=age)
    assert rec.route == "social_care" and rec.urgency == "same_day"
    assert not set(rec.next_steps) & tell_the_family_steps(version), rec.next_steps


@VERSIONS
@pytest.mark.parametrize("indicators", [(), ("friendship_problems",), ("emotional_wellbeing_ordinary",)])
def test_not_telling_the_family_because_of_the_risk_is_never_met_with_universal_advice_alone(version, indicators):
    rec = advise(version, indicators, consent="not_needed")
    assert rec.route == "universal"
    consultation = version.document.contacts.consultation.phone
    assert any(consultation in step and "safeguarding lead" in step for step in rec.next_steps), rec.next_steps


@VERSIONS
@pytest.mark.parametrize("child", [{"unborn": True}, {"age_months": 2}, {"age_months": 11}])
def test_no_baby_or_unborn_baby_is_told_to_be_talked_to_about_the_worries(version, child):
    concern = "prebirth_advice_wanted" if child.get("unborn") else "parenting_advice_wanted"
    rec = advise(version, [concern], **child)
    assert rec.route == "universal"
    # Only for a child old enough: the schema has no age bounds on a step, so the step says so itself.
    about_the_child = [s for s in rec.next_steps if "ask them what they think would help" in s]
    assert about_the_child and all(s.startswith("If the child is old enough") for s in about_the_child)
    assert not [s for s in rec.next_steps if "Talk to the child" in s], rec.next_steps


@VERSIONS
@pytest.mark.parametrize("concerns, child", [(["domestic_abuse_high_risk"], {"unborn": True}),
                                             (["injury_non_mobile_child"], {"age_months": 3})])
def test_a_babys_same_day_steps_do_not_speak_of_questioning_the_child_or_their_words(version, concerns, child):
    rec = advise(version, concerns, **child)
    assert rec.urgency == "same_day"
    for step in rec.next_steps:
        assert "question the child further" not in step and "child's own words" not in step, step
    immediate = version.document.immediate_danger.next_steps
    assert not [s for s in immediate if "question the child further" in s or "child's own words" in s]


@VERSIONS
def test_a_concern_about_staff_is_never_followed_by_talk_to_the_child_about_your_worries(version):
    rec = advise(version, ["lado_adult_may_pose_risk", "friendship_problems"])
    assert rec.lado and rec.route == "universal"
    assert not [s for s in rec.next_steps if "Talk to the child about your worries" in s], rec.next_steps
    assert any("do not question the child" in s for s in rec.next_steps if "old enough" in s)


@VERSIONS
def test_a_referral_says_to_tell_the_childs_social_worker_or_home_council(version):
    rec = advise(version, ["domestic_abuse_high_risk"], consent="given")
    assert rec.route == "social_care"
    assert any("already has a social worker" in s and "another council's area" in s for s in rec.next_steps)


@VERSIONS
def test_the_risk_of_telling_the_family_holds_back_the_universal_steps_that_involve_them(version):
    rec = advise(version, ["friendship_problems"], consent="not_needed")
    family_steps = [s for s in rec.next_steps if "family" in s and "could put the child at risk" not in s]
    assert family_steps  # the universal route's own steps still speak of the family ...
    [risk] = [s for s in rec.next_steps if "could put the child at risk" in s]
    assert "do not discuss your worries with the family or follow the steps above that involve them" in risk


@VERSIONS
def test_a_concern_about_someone_who_looks_after_the_child_is_not_talked_over_with_the_family(version):
    rec = advise(version, ["lado_adult_may_pose_risk", "friendship_problems"], consent="not_asked")
    talk = [s for s in rec.next_steps if "talk to the family about your worries" in s]
    assert talk and all("foster carer" in s and "do not tell them" in s for s in talk), rec.next_steps


@VERSIONS
def test_an_unborn_babys_referral_says_what_to_include_and_whom_to_support(version):
    rec = advise(version, ["domestic_abuse_high_risk"], consent="given", unborn=True)
    assert rec.route == "social_care"
    assert any("for an unborn baby, what you know about the pregnancy" in s for s in rec.next_steps)
    assert any("for an unborn baby, the expectant mother" in s for s in rec.next_steps)
    assert not [s for s in rec.next_steps if s.startswith("Include what the child has said")]


@VERSIONS
@pytest.mark.parametrize("concerns, danger", [(["injury_non_mobile_child"], False), ([], True)])
def test_an_urgent_referrals_steps_say_each_thing_once(version, concerns, danger):
    rec = advise(version, concerns, consent="not_asked", age_months=3, in_danger=danger)
    assert rec.route == "social_care" and rec.urgency == ("emergency" if danger else "same_day")
    # The referral route's own step, after the urgent ones, says it only once more, "if you have not yet".
    assert len([s for s in rec.next_steps if "Tell your designated safeguarding lead" in s]) == 1, rec.next_steps
    assert "If you have not yet told your designated safeguarding lead, tell them now." in rec.next_steps
    assert len([s for s in rec.next_steps if "omplete the referral in Signpost today" in s]) == 1, rec.next_steps


@VERSIONS
@pytest.mark.parametrize("concern, age", [("online_grooming", 120), ("health_unexplained_injury", 192)])
def test_an_urgent_call_says_not_to_question_a_child_old_enough_to_talk(version, concern, age):
    rec = advise(version, [concern], age_months=age)
    assert rec.urgency == "same_day"
    assert any("old enough to talk" in s and "do not question them about what happened" in s for s in rec.next_steps)
    danger = advise(version, [], age_months=age, in_danger=True)
    assert any("old enough to talk" in s and "do not question them" in s for s in danger.next_steps)


@VERSIONS
@pytest.mark.parametrize("consent", ["refused", "not_asked"])
def test_a_referral_about_someone_who_looks_after_the_child_never_says_tell_that_adult(version, consent):
    rec = advise(version, ["lado_adult_may_pose_risk", "harsh_punishment"], consent=consent)
    assert rec.lado and rec.route == "social_care"
    tell = [s for s in rec.next_steps if "making a referral" in s or "making the referral" in s]
    assert tell and all("do not tell that adult" in s for s in tell), rec.next_steps


@VERSIONS
def test_a_same_day_referral_refused_by_the_family_leaves_telling_them_to_the_front_door(version):
    rec = advise(version, ["injury_non_mobile_child"], consent="refused", age_months=2)
    tell = [s for s in rec.next_steps if "making the referral" in s]
    assert tell and all(s.startswith("If you phoned the front door today, it will tell you when and how") for s in tell)


@VERSIONS
@pytest.mark.parametrize("concern", ["fgm_family_history", "domestic_abuse_possible"])
def test_the_risk_of_telling_the_family_at_the_early_help_level_goes_to_the_dsl_today(version, concern):
    rec = advise(version, [concern], consent="not_needed", age_months=48)
    assert rec.route == "early_help"
    [risk] = [s for s in rec.next_steps if "could put the child at risk" in s]
    assert "designated safeguarding lead today" in risk and "do not discuss your worries with the family" in risk


# ---- northmere-2026-12-4 ---------------------------------------------------------------------------
# Held for that version and every later one: each fails on northmere-2026-12-3.

FOURTH = "northmere-2026-12-4"


def versions_since(version_id):
    library = shipped_library()
    since = library.get(version_id).effective_from
    return [v for v in library.versions if v.effective_from >= since]


SINCE_FOURTH = pytest.mark.parametrize("version", versions_since(FOURTH), ids=lambda v: v.id)
NEVER_THE_ABUSER = "Never tell a parent or partner who may be causing domestic abuse"


@SINCE_FOURTH
@pytest.mark.parametrize("consent", ["refused", "not_asked"])
@pytest.mark.parametrize("concern", ["domestic_abuse_current", "harsh_punishment"])
def test_telling_the_family_about_a_referral_never_means_telling_the_person_causing_domestic_abuse(
        version, consent, concern):
    # "Tell the parents you are making a referral" could warn the abuser, and put the child or the parent
    # being abused in danger. Every step that says to tell the family says who not to tell.
    rec = advise(version, [concern], consent=consent)
    assert rec.route == "social_care" and rec.urgency == "standard"
    tell = [s for s in rec.next_steps if "making a referral" in s or "making the referral" in s]
    assert tell and all(NEVER_THE_ABUSER in s and "the child, or anyone else, at greater risk" in s for s in tell), \
        rec.next_steps


@SINCE_FOURTH
def test_asking_consent_for_early_help_never_means_asking_the_person_causing_domestic_abuse(version):
    rec = advise(version, ["domestic_abuse_possible"], consent="not_asked", age_months=48)
    assert rec.route == "early_help"
    ask = [s for s in rec.next_steps if "ask for their consent" in s]
    assert ask and all("Never ask a parent or partner who may be causing domestic abuse" in s for s in ask)


@SINCE_FOURTH
@pytest.mark.parametrize("consent", ["not_asked", "given"])
def test_early_help_waits_for_the_lado_where_the_worry_is_about_someone_who_looks_after_the_child(version, consent):
    # A foster carer or childminder may be "the family" the early help steps speak of: neither asking
    # them for consent nor starting an assessment with them comes before the LADO's advice.
    rec = advise(version, ["lado_adult_unsuitable", "relationships_bullied"], consent=consent, age_months=90)
    assert rec.lado and rec.route == "early_help"
    with_family = [s for s in rec.next_steps if "early help assessment with the family" in s or "ask for their consent" in s]
    assert with_family and all("LADO has advised you" in s for s in with_family), rec.next_steps


@SINCE_FOURTH
@pytest.mark.parametrize("concerns, age", [(["injury_non_mobile_child"], 3), (["disclosure_of_abuse"], 120),
                                           (["missing_now"], 150)])
def test_a_call_today_says_nothing_of_fgm_unless_fgm_is_the_worry(version, concerns, age):
    rec = advise(version, concerns, age_months=age)
    assert rec.urgency == "same_day"
    assert not [s for s in rec.next_steps if "FGM" in s or "101" in s], rec.next_steps


@SINCE_FOURTH
def test_known_fgm_still_says_to_report_it_to_the_police_on_101(version):
    fgm = version.indicators["fgm_known"]
    rec = advise(version, ["fgm_known"], age_months=max(fgm.min_age_months or 0, 120))
    assert rec.urgency == "same_day"
    assert [r for r in rec.urgent_reasons if r.id == "fgm_known" and "101" in r.why]


@SINCE_FOURTH
@pytest.mark.parametrize("concern", ["cce_being_exploited", "county_lines_involvement", "cse_being_exploited"])
def test_a_child_being_exploited_needs_a_call_to_the_front_door_today(version, concern):
    rec = advise(version, [concern], consent="given", age_months=168)
    assert rec.route == "social_care" and rec.urgency == "same_day" and not rec.immediate
    assert rec.next_steps[:len(version.document.same_day.next_steps)] == tuple(version.document.same_day.next_steps)


def sentences(step):
    return [s for s in re.split(r"(?<=[.;:])\s+", step) if s]


@SINCE_FOURTH
@pytest.mark.parametrize("concerns, child, consent", [
    (["basic_care_often"], {"age_months": 3}, "not_asked"), (["basic_care_often"], {"age_months": 3}, "refused"),
    (["harsh_punishment"], {"age_months": 120}, "not_asked"), (["harsh_punishment"], {"age_months": 120}, "refused"),
    (["domestic_abuse_current"], {"unborn": True}, "refused"), (["domestic_abuse_possible"], {"age_months": 48}, "not_asked")])
def test_whom_to_tell_or_ask_reads_sensibly_where_nobody_may_be_causing_domestic_abuse(version, consent, concerns, child):
    # Most referrals have no domestic abuse: "speak only to the parent who is not" would then have the
    # referrer leave out a parent for no reason. Speaking to one parent alone is only where there is an
    # abuser, and "if you do not tell them" follows the sentence about telling the family, not that one.
    rec = advise(version, concerns, consent=consent, **child)
    family = [s for s in rec.next_steps if NEVER_THE_ABUSER in s or "Never ask a parent or partner" in s]
    assert family, rec.next_steps
    for step in family:
        parts = sentences(step)
        for i, part in enumerate(parts):
            if "only" in part and "parent" in part:
                assert "where there is one" in part or part.startswith("If"), part
            if part.startswith("If you do not tell them"):
                assert "unless" in parts[i - 1], step


@SINCE_FOURTH
@pytest.mark.parametrize("consent", ["not_asked", "given", "refused"])
@pytest.mark.parametrize("concern", ["domestic_abuse_high_risk", "domestic_abuse_child_hurt"])
def test_a_call_today_about_domestic_abuse_keeps_the_family_from_being_told_where_it_puts_the_abused_parent_at_risk(
        version, consent, concern):
    # The same-day steps were the only advice on telling the family on such a page, and they spoke only of
    # the risk to the child, not to the parent being abused.
    rec = advise(version, [concern], consent=consent, age_months=96)
    assert rec.urgency == "same_day"
    tell = [s for s in rec.next_steps if "tell the family" in s.lower()]
    assert tell and all("the child, or anyone else, at" in s for s in tell), rec.next_steps


@SINCE_FOURTH
def test_the_reason_for_referring_without_consent_never_means_telling_the_person_causing_domestic_abuse(version):
    rec = advise(version, ["domestic_abuse_current"], consent="refused", age_months=96)
    said = [r.text for r in rec.reasons if r.kind == "consent"]
    assert said and all("the child, or anyone else, at greater risk" in t and "causing domestic abuse" in t
                        for t in said), said


@SINCE_FOURTH
def test_early_help_says_once_to_wait_for_the_lado_before_starting(version):
    rec = advise(version, ["lado_adult_unsuitable", "relationships_bullied"], consent="not_asked", age_months=90)
    assert rec.route == "early_help"
    wait = [s for s in rec.next_steps if "LADO" in s and ("start early help" in s or "early help assessment" in s)]
    assert len(wait) == 1, rec.next_steps


# ---- northmere-2026-12-5 ---------------------------------------------------------------------------
# Held for that version and every later one: each fails on northmere-2026-12-4.

SINCE_FIFTH = pytest.mark.parametrize("version", versions_since("northmere-2026-12-5"), ids=lambda v: v.id)
ONLY_THE_SAFE_PARENT = "If domestic abuse is the worry"


def young_person_steps(version, concern, consent, marker):
    """(route, the steps containing the marker, all the steps) for a young person of 16 with this concern."""
    rec = advise(version, [concern], consent=consent, age_months=200)
    return rec.route, [s for s in rec.next_steps if marker in s], rec.next_steps


def domestic_abuse_service_phone():
    return shipped_directory().get("domestic_abuse_support").contact.phone


@SINCE_FIFTH
@pytest.mark.parametrize("consent", ["not_asked", "given"])
@pytest.mark.parametrize("concern", ["domestic_abuse_possible", "domestic_abuse_past"])
def test_early_help_for_domestic_abuse_is_worked_out_only_with_the_parent_not_causing_it(version, consent, concern):
    # An early help assessment, or a team around the family meeting, held jointly with a parent who may be
    # causing the abuse can put the child and the other parent at risk: every step that works with the family
    # says to work only with the parent who is not causing it, after asking the domestic abuse service.
    rec = advise(version, [concern], consent=consent, age_months=48)
    assert rec.route == "early_help"
    with_family = [s for s in rec.next_steps if "early help assessment with the family" in s or "team around the family" in s]
    assert len(with_family) == 2, rec.next_steps
    for step in with_family:
        assert ONLY_THE_SAFE_PARENT in step and "only with the parent who is not causing" in step, step
    assert any(domestic_abuse_service_phone() in s and "for advice" in s for s in with_family), with_family
    start = version.document.routes.early_help.how_to_start
    assert ONLY_THE_SAFE_PARENT in start and domestic_abuse_service_phone() in start


@SINCE_FIFTH
@pytest.mark.parametrize("consent", ["refused", "not_asked"])
def test_universal_support_for_domestic_abuse_is_planned_only_with_the_parent_not_causing_it(version, consent):
    # Refused early help leaves universal support, whose steps agree a plan, or talk, with "the family".
    rec = advise(version, ["domestic_abuse_possible"], consent=consent, age_months=48)
    if consent == "not_asked":  # the universal advice for not yet asking, on its own
        rec = advise(version, ["friendship_problems"], consent=consent)
    assert rec.route == "universal"
    with_family = [s for s in rec.next_steps if "Agree with the family" in s or "talk to the family about" in s]
    assert with_family and all(ONLY_THE_SAFE_PARENT in s for s in with_family), rec.next_steps
    assert ONLY_THE_SAFE_PARENT in version.document.routes.universal.how_to_start


@SINCE_FIFTH
@pytest.mark.parametrize("concerns, child", [(["domestic_abuse_possible"], {"age_months": 48}),
                                             (["parent_care_leaver"], {"unborn": True})])
def test_speaking_to_one_parent_alone_is_only_where_there_is_domestic_abuse(version, concerns, child):
    # Most families have no domestic abuse: a sentence that has the referrer speak to one parent only says when.
    rec = advise(version, concerns, **child)
    for step in rec.next_steps + (version.document.routes.early_help.how_to_start,):
        for part in sentences(step):
            if "only" in part and "parent" in part:
                assert "where there is one" in part or part.startswith("If"), part


@SINCE_FIFTH
@pytest.mark.parametrize("child", [{"age_months": 14}, {"unborn": True}])
def test_a_parent_who_grew_up_in_care_and_needs_support_is_offered_early_help_and_their_personal_adviser(version, child):
    concern = version.indicators["parent_care_leaver"]
    assert concern.level == 2 and concern.applies_to == "both" and not concern.must_tell_council
    rec = advise(version, ["parent_care_leaver"], consent="given", **child)
    assert rec.route == "early_help" and rec.level == 2 and rec.urgency == "standard"
    assert "personal adviser" in concern.hint and "up to the age of 25" in concern.hint
    assert "not on its own a worry" in concern.hint


@SINCE_FIFTH
def test_asking_for_consent_to_early_help_says_a_young_person_of_16_or_17_can_agree_for_themselves(version):
    route, ask, steps = young_person_steps(version, "emotional_wellbeing_low", "not_asked", "ask for their consent")
    assert route == "early_help"
    assert ask and all("16 or 17 can normally agree for themselves" in s and "their own agreement counts" in s
                       for s in ask), steps
    _, given, steps = young_person_steps(version, "emotional_wellbeing_low", "given", "for themselves, agreed")
    assert given, steps


@SINCE_FIFTH
@pytest.mark.parametrize("concern, age", [("cse_being_exploited", 196), ("homeless_16_17", 210),
                                          ("domestic_abuse_current", 200)])
def test_a_young_persons_own_refusal_never_stops_a_referral_where_it_must_go(version, concern, age):
    rec = advise(version, [concern], consent="refused", age_months=age)
    assert rec.route == "social_care" and rec.consent_refused_referral
    said = [r.text for r in rec.reasons if r.kind == "consent"]
    assert said and all("or the young person, have not agreed" in t and "still goes" in t for t in said), said
    if rec.urgency == "standard":  # a call today leaves the refused-consent steps to the front door's call
        refer = [s for s in rec.next_steps if "You do not need the family's consent" in s]
        assert refer and all("or the child's or young person's own" in s and "significant harm" in s for s in refer)


@SINCE_FIFTH
def test_a_referral_a_young_person_agreed_to_says_whom_to_tell_the_front_door_knows(version):
    route, told, steps = young_person_steps(version, "domestic_abuse_current", "given",
                                            "Tell the front door who knows about the referral")
    assert route == "social_care"
    assert told and all("young person of 16 or 17 agreed for themselves" in s and "anyone else, at risk" in s
                        for s in told), steps


@SINCE_FIFTH
@pytest.mark.parametrize("consent, marker, said", [
    ("refused", "send the referral saying that", "the family, or the young person, refused"),
    ("not_asked", "that you are making a referral", "Tell the parents, and a young person of 16 or 17 themselves,"),
])
def test_a_referral_for_a_young_person_speaks_of_them_not_only_their_family(version, consent, marker, said):
    # A young person of 16 or 17 answers for themselves: "say the family refused" or "tell the parents"
    # alone would leave out the person whose decision it was, and who is told.
    route, steps, every = young_person_steps(version, "domestic_abuse_current", consent, marker)
    assert route == "social_care"
    assert steps and all(said in s for s in steps), every


@SINCE_FIFTH
def test_refused_early_help_keeps_a_record_of_whoevers_decision_it_was(version):
    rule = next(r for r in version.document.rules if getattr(r, "type", None) == "consent")
    record = [s for s in rule.next_steps if "Keep a record" in s]
    assert record and all("the family's, or the young person's, decision" in s for s in record), rule.next_steps
