"""Cited threshold documents (issue 7): sources and references, urgency, LADO concerns, consent.

Each test turns a good fixture into a cited document in memory, changes one thing, and loads it
from a temporary file, so the problem is reported against a real file, line and key.
"""
from __future__ import annotations

import datetime as dt

import pytest
import yaml

from helpers_thresholds import GOOD
from signpost import policy
from signpost.engine import Answers, assess
from signpost.thresholds import ConfigError, load_file

ON = dt.date(2025, 6, 1)
REF = [{"source": "wt2023", "where": "Chapter 3"}]


def cited() -> dict:
    """fixture-2025-04 with sources, references, explicit urgencies, a same-day and a LADO concern."""
    data = yaml.safe_load((GOOD / "fixture-2025-04.yaml").read_text())
    data["sources"] = [{"id": "wt2023", "title": "Working Together to Safeguard Children 2023",
                        "publisher": "Department for Education", "year": 2023, "kind": "statutory_guidance"}]
    data["references"] = REF
    for level in data["levels"]:
        level["references"] = REF
    top = data["levels"][-1]["number"]
    for ind in data["indicators"]:
        ind["urgency"] = "emergency" if ind.pop("immediate", False) else "standard"
        ind["references"] = REF
        if ind["level"] == top:
            ind["urgency_reason"] = "Significant harm: a written referral today, or a call."
    data["indicators"].append({
        "id": "young_child_home_alone", "domain": "parenting", "area": "safety", "level": 4,
        "urgency": "same_day", "urgency_reason": "A young child alone cannot wait for a written referral.",
        "text": "A young child has been left at home alone", "references": REF})
    data["domains"][-2]["areas"].append({"id": "adults_working_with_children", "name": "Adults who work with children"})
    data["indicators"].append({
        "id": "staff_harmed_child", "domain": "contextual", "area": "adults_working_with_children", "level": 1,
        "urgency": "standard", "lado": True, "references": [{"source": "wt2023", "where": "Chapter 2"}],
        "text": "A member of staff or a volunteer may have harmed a child"})
    data["same_day"] = {"title": "Phone the front door today", "summary": "Before you write anything.",
                        "next_steps": ["Phone the front door now."]}
    data["lado"] = {"title": "Tell your headteacher and the LADO today", "summary": "Do not investigate.",
                    "next_steps": ["Tell your headteacher or manager today.", "Phone the LADO."]}
    data["contacts"]["lado"] = {"name": "Fixture LADO", "phone": "01632 960 300"}
    for rule in data["rules"]:
        if rule["type"] == "consent":
            rule["referral_reason"] = "The family refused, and the referral still goes: say why."
    return data


def load(tmp_path, data: dict):
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(policy.dump(data))  # as Signpost writes a draft: every shared value in full
    return load_file(path)


def problems(tmp_path, data: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, data)
    return [f"{p.key}: {p.message}" for p in caught.value.problems]


def test_a_cited_document_loads_with_urgency_and_references(tmp_path):
    version = load(tmp_path, cited())
    assert version.document.sources[0].id == "wt2023"
    assert all(i.references for i in version.document.indicators)
    assert version.indicators["disclosure_of_abuse"].urgency == "emergency"
    assert version.indicators["disclosure_of_abuse"].immediate  # derived, for older readers
    assert version.indicators["young_child_home_alone"].urgency == "same_day"


def test_an_older_document_gets_urgency_from_immediate():
    version = load_file(GOOD / "fixture-2025-04.yaml")
    assert version.indicators["disclosure_of_abuse"].urgency == "emergency"
    assert version.indicators["missing_once"].urgency == "standard"
    assert not version.document.sources


def test_a_reference_to_an_unknown_source_is_a_problem(tmp_path):
    data = cited()
    data["indicators"][0]["references"] = [{"source": "kcsie2099"}]
    assert "indicators[0].references[0].source: source 'kcsie2099' is not defined under sources" in problems(tmp_path, data)


def test_a_cited_document_needs_references_and_urgency_everywhere(tmp_path):
    data = cited()
    del data["indicators"][0]["references"]
    del data["indicators"][1]["urgency"]
    data["levels"][0]["references"] = []
    data["references"] = []
    found = problems(tmp_path, data)
    assert any(p.startswith("indicators[0].references: is required") for p in found), found
    assert any(p.startswith("indicators[1].urgency: is required") for p in found), found
    assert any(p.startswith("levels[0].references: is required") for p in found), found
    assert any(p.startswith("references: is required") for p in found), found


def test_a_top_level_or_urgent_concern_must_say_why(tmp_path):
    data = cited()
    home_alone = next(i for i in data["indicators"] if i["id"] == "young_child_home_alone")
    del home_alone["urgency_reason"]
    found = problems(tmp_path, data)
    index = data["indicators"].index(home_alone)
    assert any(p.startswith(f"indicators[{index}].urgency_reason: is required") for p in found), found


def test_urgent_concerns_must_lead_to_social_care_and_emergencies_sit_at_the_top(tmp_path):
    data = cited()
    data["indicators"][0]["urgency"] = "same_day"  # health_appointments_missed, level 2 (early help)
    data["indicators"][0]["urgency_reason"] = "no"
    data["indicators"][1]["urgency"] = "emergency"
    data["indicators"][1]["urgency_reason"] = "no"
    found = problems(tmp_path, data)
    assert "indicators[0].urgency: a same_day indicator must be at a level that leads to social_care" in found
    assert "indicators[1].level: an emergency indicator must be at the top level" in found


def test_same_day_and_lado_concerns_need_their_sections(tmp_path):
    data = cited()
    del data["same_day"], data["lado"], data["contacts"]["lado"]
    found = problems(tmp_path, data)
    assert any(p.startswith("same_day: is required") for p in found), found
    assert any(p.startswith("lado: is required") for p in found), found
    assert any(p.startswith("contacts.lado: is required") for p in found), found


def test_a_consent_rule_can_only_turn_early_help_into_universal_services(tmp_path):
    data = cited()
    rule = next(r for r in data["rules"] if r["type"] == "consent")
    rule["route"] = "early_help"
    assert "rules[3].route: a consent rule can only turn early help into universal services" in problems(tmp_path, data)


# --- the engine on a cited document ------------------------------------------------------

@pytest.fixture
def version(tmp_path):
    return load(tmp_path, cited())


def run(version, *indicators, consent="given", age_months=48, in_danger=False):
    answers = Answers.of(indicators, age_months=age_months, consent=consent, in_danger=in_danger)
    return assess(answers, version, ON)


def test_same_day_gives_phone_today_first_and_never_the_999_steps(version):
    rec = run(version, "young_child_home_alone", consent="refused")
    assert (rec.route, rec.urgency, rec.immediate) == ("social_care", "same_day", False)
    assert rec.next_steps[0] == "Phone the front door now."
    assert not set(version.document.immediate_danger.next_steps) & set(rec.next_steps)


def test_an_emergency_outranks_same_day(version):
    rec = run(version, "young_child_home_alone", "disclosure_of_abuse")
    assert rec.urgency == "emergency" and rec.immediate
    assert rec.next_steps[0] == version.document.immediate_danger.next_steps[0]


def test_refused_consent_keeps_a_referral_and_says_why(version):
    rec = run(version, "neglect_significant", consent="refused")
    assert rec.route == "social_care" and rec.consent_refused_referral and not rec.consent_applied
    assert rec.reasons[-1].kind == "consent"
    assert rec.reasons[-1].text == "The family refused, and the referral still goes: say why."


def test_a_lado_concern_alone_gives_the_lado_outcome_and_universal_services_for_the_child(version):
    rec = run(version, "staff_harmed_child")
    assert rec.lado and rec.lado_steps == ("Tell your headteacher or manager today.", "Phone the LADO.")
    assert (rec.route, rec.level, rec.urgency) == ("universal", 1, "standard")
    assert rec.reasons[0].kind == "lado" and rec.reasons[0].id == "staff_harmed_child"


def test_a_lado_concern_never_changes_the_childs_own_route(version):
    alone = run(version, "missing_regularly", age_months=150)
    both = run(version, "missing_regularly", "staff_harmed_child", age_months=150)
    assert (both.route, both.level, both.urgency) == (alone.route, alone.level, alone.urgency)
    assert both.lado and not alone.lado
    emergency = run(version, "disclosure_of_abuse", "staff_harmed_child")
    assert emergency.immediate and emergency.lado  # shown first even on the 999 page


def test_a_cumulative_rule_can_count_only_named_concerns(tmp_path):
    data = cited()
    data["rules"].insert(0, {"id": "parental_factors", "type": "cumulative", "reason": "Together they harm.",
                             "when": {"min_level": 2, "min_count": 2,
                                      "any_indicator": ["health_appointments_missed", "basic_care_inconsistent"]},
                             "raise_to": 3, "references": REF})
    version = load(tmp_path, data)
    both = run(version, "health_appointments_missed", "basic_care_inconsistent")
    assert (both.level, both.reasons[0].id) == (3, "parental_factors")
    other = run(version, "health_appointments_missed", "school_attendance_low")
    assert other.level == 2 and "parental_factors" not in other.reason_ids
    data["rules"][0]["when"]["any_indicator"].append("no_such_concern")
    assert "rules[0].when.any_indicator[2]: indicator 'no_such_concern' is not defined" in problems(tmp_path, data)
