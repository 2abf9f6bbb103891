"""The thresholds guide: any version as a readable, printable document, for every signed-in user.

Generated from the same loaded version the engine uses; filters live in the query string.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from ..content import current_directory, current_library, current_version_or_none
from ..engine import applies_to_age
from .. import values

bp = Blueprint("guide", __name__, url_prefix="/guide")

ROUTE_NAMES = {"universal": "Universal services", "early_help": "Early help",
               "social_care": "Children's social care"}
URGENCY_NAMES = {"emergency": "Emergency: call 999 now", "same_day": "Same day: phone the front door today",
                 "standard": "Standard: a written referral or request"}
ROUTE_LINES = {"universal": ("Universal", "services"), "early_help": ("Early help",),
               "social_care": ("Children's", "social care")}
WINDSCREEN_FILLS = ("#cce2d8", "#bbd4ea", "#fcd6c3", "#f4cdc6", "#e5d4e8", "#f3f2f1")


def urgency_of(indicator) -> str:
    return getattr(indicator, "urgency", None) or ("emergency" if indicator.immediate else "standard")


def _months(months: int) -> str:
    """Whole years as a bare number ("18"), anything else in months ("6 months", "1 month")."""
    return f"{months // 12}" if months % 12 == 0 else f"{months} month" + ("" if months == 1 else "s")


def _span(who: str, low: int | None, high: int | None) -> str:
    """`who` in inclusive month bounds: "Children under 6 months", "A child aged 4 and over"..."""
    if low is None or (low == 0 and high is not None):
        return f"{who} under {_months(high + 1)}"
    if high is None:
        return f"{who} aged {_months(low)} and over"
    return f"{who} aged {_months(low)} to under {_months(high + 1)}"


def ages(indicator) -> str:
    """Who a concern applies to, in years where the bounds are whole years (bounds are inclusive)."""
    low, high = indicator.min_age_months, indicator.max_age_months
    if indicator.applies_to == "unborn":
        return "Unborn babies only"
    text = "Any age" if low is None and high is None else _span("Children", low, high)
    return text + (", and unborn babies" if indicator.applies_to == "both" else "")


def service_ages(service) -> str:
    """Who a service is for, from its inclusive bounds in months: 0 to 215 is "Children under 18",
    never "Ages 0 to 0 years" for a service that ends at birth or in the first year."""
    text = _span("Children", service.minimum_age, service.maximum_age)
    return text + (", and expectant parents" if getattr(service, "unborn", False) else "")


def _names(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def rule_effect(rule, version) -> dict | None:
    """What a cumulative or age rule does, exactly as the engine applies it: the sentence, and the
    concerns it counts (only those count, when the rule lists them). None for other rules."""
    if rule.type not in ("cumulative", "age"):
        return None
    doc, when = version.document, rule.when
    if rule.type == "cumulative":
        text = f"{when.min_count} or more concerns at level {when.min_level} or above"
        if when.any_indicator:
            text += ", counting only the concerns listed below"
        if when.min_domains > 1:
            parts = [d.name for d in doc.domains]
            text += (f", from {when.min_domains} or more of the framework's {len(parts)} parts "
                     f"(the headings under Concerns: {_names(parts)})")
        text += f", make level {rule.raise_to}."
    elif rule.type == "age":
        low, high = when.min_age_months, when.max_age_months
        if low is None and high is None:
            who = "An unborn baby" if when.unborn else "A child"
        else:
            who = _span("A child", low, high)
        if when.unborn and (low is not None or high is not None):
            who += ", or an unborn baby,"
        text = f"{who} with a concern"
        if when.min_level is not None:
            text += f" at level {when.min_level} or above"
        areas = [version.areas[a][1].name for a in when.any_area if a in version.areas]
        if areas:
            text += f" about {_names(areas)}"
        if when.any_indicator:
            text += (" or one of the concerns listed below" if areas else ", counting only the concerns listed below")
        text += f" makes level {rule.raise_to}."
    counted = [version.indicators[i] for i in when.any_indicator if i in version.indicators]
    return {"text": text, "counted": counted}


def level_title(level) -> str:
    """A level's heading: its name, with its number unless the name already says it."""
    return level.name if level.name.lower().startswith("level") else f"Level {level.number}: {level.name}"


def parse_filters(args) -> tuple[str, int | None, bool, str]:
    """(raw age, age in months, unborn, words) from ?age=&q=; an age we cannot read is ignored."""
    raw_age = (args.get("age") or "").strip()
    words = (args.get("q") or "").strip()[:100]
    if raw_age == "unborn":
        return raw_age, None, True, words
    if raw_age.isdigit() and 0 <= int(raw_age) <= 17:
        return raw_age, int(raw_age) * 12 + 6, False, words
    return "", None, False, words


def _matches(indicator, area, words: str) -> bool:
    if not words:
        return True
    haystack = " ".join(filter(None, (indicator.text, indicator.hint, area.name,
                                      getattr(indicator, "note", None)))).lower()
    return all(word in haystack for word in words.lower().split())


def applies_in_year(indicator, age_months: int | None, unborn: bool) -> bool:
    """Whether a concern applies at any time in the year of age that `age_months` falls in: "Under 1"
    must keep a concern for babies under 6 months, which the middle of that year (6 months) would miss."""
    if unborn or age_months is None:
        return applies_to_age(indicator, age_months, unborn)
    first = age_months // 12 * 12
    return (indicator.applies_to != "unborn"
            and (indicator.min_age_months is None or indicator.min_age_months <= first + 11)
            and (indicator.max_age_months is None or indicator.max_age_months >= first))


def guide_sections(version, age_months: int | None, unborn: bool, words: str, filtered: bool) -> list[dict]:
    doc = version.document
    sections = []
    for domain in doc.domains:
        areas = []
        for area in domain.areas:
            indicators = [i for i in doc.indicators if i.area == area.id
                          and (not filtered or applies_in_year(i, age_months, unborn))
                          and _matches(i, area, words)]
            if indicators:
                areas.append({"area": area, "indicators": sorted(indicators, key=lambda i: (-i.level, i.text))})
        if areas:
            sections.append({"domain": domain, "areas": areas})
    return sections


def sources_of(doc) -> dict:
    """Source id -> (number, source): concerns cite sources by number, listed once at the end."""
    return {s.id: (n, s) for n, s in enumerate(getattr(doc, "sources", None) or [], start=1)}


def render_guide(version, *, in_force):
    raw_age, age_months, unborn, words = parse_filters(request.args)
    filtered = bool(raw_age)
    library = current_library()
    today = values.uk_today()
    later = [v for v in library.versions if v.effective_from > version.effective_from]
    ends = min((v.effective_from for v in later), default=None)
    sections = guide_sections(version, age_months, unborn, words, filtered)
    shown = sum(len(a["indicators"]) for s in sections for a in s["areas"])
    directory = current_directory()
    services = [s for s in directory.document.services if s.status == "active"] if directory is not None and in_force else []
    return render_template(
        "guide/guide.html", version=version, doc=version.document, in_force=in_force, today=today,
        status=("in force" if in_force else "scheduled" if version.effective_from > today else "superseded"),
        ends=ends, sections=sections, shown=shown, total=len(version.document.indicators),
        raw_age=raw_age, words=words, filtering=filtered or bool(words),
        overdue=in_force and version.overdue_for_review(today)
        and current_user.role in ("policy_lead", "admin"),
        route_names=ROUTE_NAMES, urgency_names=URGENCY_NAMES, urgency_of=urgency_of,
        fills=WINDSCREEN_FILLS, ages=ages, service_ages=service_ages, rule_effect=rule_effect, level_title=level_title, route_lines=ROUTE_LINES, sources=sources_of(version.document),
        services=services, versions=library.versions)


@bp.get("/")
def index():
    version = current_version_or_none()
    if version is None:
        abort(503)
    return render_guide(version, in_force=True)


@bp.get("/<version_id>")
def version(version_id: str):
    try:
        chosen = current_library().get(version_id)
    except KeyError:
        abort(404)
    current = current_version_or_none()
    return render_guide(chosen, in_force=current is not None and current.id == chosen.id)
