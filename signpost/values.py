"""Every fixed value set, defined once: routes, urgencies, consent answers, roles, item kinds, outcomes.

Pure Python (no Flask, no database), so the thresholds schema, the engine, the models,
the forms, the API and the CLI all import the same tuples; migrations' CHECK constraints
are tested against them.
"""
from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

# Every date a user or a threshold file means ("in force from 1 April", "today's referrals") is a
# UK calendar date, whatever the server's own time zone (UTC on most hosts): from 00:00 to 01:00
# in summer, the server's date is still yesterday's.
LONDON = ZoneInfo("Europe/London")


def uk_today() -> dt.date:
    """Today's date in the UK. Call it as values.uk_today() (tests move the day by replacing it)."""
    return dt.datetime.now(LONDON).date()


# The three routes a recommendation can take, lowest first (the order matters: see ROUTE_ORDER).
ROUTES = ("universal", "early_help", "social_care")
ROUTE_ORDER = {route: rank for rank, route in enumerate(ROUTES)}

# How fast: emergency (call 999, then the front door), same_day (phone the front door today,
# before writing anything; consent is not needed first) or standard (a written referral).
URGENCIES = ("standard", "same_day", "emergency")
URGENCY_ORDER = {urgency: rank for rank, urgency in enumerate(URGENCIES)}

CONSENT_VALUES = ("given", "refused", "not_asked", "not_needed")

ROLES = ("referrer", "front_door", "policy_lead", "admin")
ROLE_NAMES = {
    "referrer": "Referrer (school or health staff)",
    "front_door": "Front door team",
    "policy_lead": "Policy lead",
    "admin": "Administrator",
}

# What a referrer can send to the front door: a referral to children's social care, a request
# for early help to the Family Help Hub, or a request for advice (a consultation).
ITEM_KINDS = ("referral", "early_help_request", "consultation")
ITEM_KIND_NAMES = {
    "referral": "Referral to children's social care",
    "early_help_request": "Request for early help",
    "consultation": "Request for advice (consultation)",
}

# The front door's decisions, in the Children in Need census's terms.
OUTCOMES = ("nfa", "nfa_advice", "early_help", "assessment_s17", "strategy_s47", "already_open",
            "other_council", "lado", "advice_given")
OUTCOME_NAMES = {
    "nfa": "No further action",
    "nfa_advice": "No further action: advice given or signposted to universal services",
    "early_help": "Passed to early help",
    "assessment_s17": "Child and family assessment (section 17)",
    "strategy_s47": "Strategy discussion or section 47 enquiry",
    "already_open": "Already open to social care",
    "other_council": "Passed to another council",
    "lado": "Passed to the Local Authority Designated Officer (LADO)",
    "advice_given": "Advice given (consultation)",
}
# Outcomes that count as No Further Action in the reports (the referral NFA flag).
NFA_OUTCOMES = ("nfa", "nfa_advice")
# The route a decision amounts to, where it amounts to one: what "agreement" with a recommendation
# means, in the reports and in Preview a change alike. Passing a referral to another council or to
# the LADO, or advice on a consultation, agrees or disagrees with no route, and is not counted.
ROUTE_OF_OUTCOME = {**dict.fromkeys(NFA_OUTCOMES, "universal"), "early_help": "early_help",
                    "assessment_s17": "social_care", "strategy_s47": "social_care", "already_open": "social_care"}

# The Children in Need census's referral sources (who made the contact), by code.
REFERRAL_SOURCES = {
    "1A": "Individual", "1B": "Individual: family member, relative or carer",
    "1C": "Individual: acquaintance (including neighbours and childminders)", "1D": "Individual: self",
    "1E": "Individual: other (including strangers, MPs, councillors)",
    "2A": "Schools", "2B": "Education services",
    "3A": "Health services: GP", "3B": "Health services: health visitor", "3C": "Health services: school nurse",
    "3D": "Health services: other primary health services", "3E": "Health services: A&E",
    "3F": "Health services: other (for example hospice)",
    "4": "Housing", "5A": "Local authority services: social care", "5B": "Local authority services: other internal",
    "5C": "Local authority services: external (for example another council)", "5D": "Early help",
    "6": "Police", "7": "Other legal agency", "8": "Other", "9": "Anonymous", "10": "Unknown",
}

# The child's age band, as assessments store it (signpost.journey.age_band gives one of these).
AGE_BANDS = ("unborn", "under 1", "1 to 4", "5 to 9", "10 to 15", "16 to 17", "unknown")


def months_old(born: dt.date, on: dt.date) -> int:
    """Whole months from a date of birth to `on`: 0 until the first monthly birthday."""
    return (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)


def child_age_sent(details: dict) -> tuple[int | None, bool]:
    """(months, unborn) of the child a referral is about: from About the child, or, where the journey
    did not ask it (the immediate-danger path), from what the referral itself says: the date of birth,
    or that the baby is not born yet. (None, False) when neither says."""
    child = (details.get("answers") or {}).get("child")
    if child:
        unborn = bool(child.get("unborn"))
        return (None if unborn else int(child.get("years") or 0) * 12 + int(child.get("months") or 0)), unborn
    if details.get("unborn"):
        return None, True
    if details.get("date_of_birth"):
        return months_old(dt.date.fromisoformat(details["date_of_birth"]), uk_today()), False
    return None, False


def age_band_for(months: int | None, unborn: bool = False) -> str:
    """The age band of a child this many whole months old."""
    if unborn:
        return "unborn"
    if months is None or months < 0:
        return "unknown"
    years = months // 12
    for low, high in ((0, 0), (1, 4), (5, 9), (10, 15), (16, 17)):
        if low <= years <= high:
            return "under 1" if high == 0 else f"{low} to {high}"
    return "unknown"

# How a contact that did not come through Signpost reached the front door.
CONTACT_CHANNELS = ("phone", "email", "referral_form", "police_notification", "in_person", "other")
CONTACT_CHANNEL_NAMES = {
    "phone": "Phone call",
    "email": "Email",
    "referral_form": "Another agency's or council's referral form",
    "police_notification": "Police notification (for example a domestic abuse notification)",
    "in_person": "In person",
    "other": "Another way",
}

# The reports group Signpost's items by kind, recommended route and route taken at once, as one small
# number each referral stores (referrals.kind_routes, which the database works out from those three
# columns): each value's place in its set counted from 1 (0 for none), the three read as digits in
# base 8. Stored numbers keep their meaning only while the sets keep their order: add new values at
# the end (tests/test_report_facts.py pins some numbers).
KIND_ROUTES_PARTS = (("kind", ITEM_KINDS), ("recommended_route", ROUTES), ("route_taken", ROUTES))
KIND_ROUTES_BASE = 8
assert all(len(values) < KIND_ROUTES_BASE for _column, values in KIND_ROUTES_PARTS)


def kind_routes(kind: str | None, recommended_route: str | None, route_taken: str | None) -> int:
    number = 0
    for (_column, values), value in zip(KIND_ROUTES_PARTS, (kind, recommended_route, route_taken), strict=True):
        number = number * KIND_ROUTES_BASE + (values.index(value) + 1 if value is not None else 0)
    return number


def kind_routes_sql() -> str:
    """kind_routes() in SQL, over the referral's own columns: what the database stores."""
    number = "0"
    for column, values in KIND_ROUTES_PARTS:
        places = " ".join(f"WHEN '{value}' THEN {n}" for n, value in enumerate(values, 1))
        number = f"({number}) * {KIND_ROUTES_BASE} + CASE {column} {places} ELSE 0 END"
    return number


# number -> (kind, recommended route, route taken), for every number kind_routes() can give.
KIND_ROUTES = {kind_routes(*parts): parts
               for parts in itertools.product(*((None, *values) for _column, values in KIND_ROUTES_PARTS))}


# The largest id a table's INTEGER key holds (PostgreSQL's int4): an id in an address or a filter
# beyond it names no record, and the database would refuse to compare with it.
MAX_ID = 2**31 - 1
