"""The shape of a threshold document: a closed set of keys, checked strictly.

Pydantic models only; cross-references (areas, levels, rules) are checked in loader.py.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ROUTES = ("universal", "early_help", "social_care")
Route = Literal["universal", "early_help", "social_care"]
CONSENT_VALUES = ("given", "refused", "not_asked", "not_needed")
Consent = Literal["given", "refused", "not_asked", "not_needed"]

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
Slug = Annotated[str, StringConstraints(pattern=SLUG_RE.pattern, max_length=80)]
VersionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Months = Annotated[int, Field(ge=0, le=18 * 12)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(Strict):
    name: Text
    phone: Text
    hours: Text | None = None
    email: Text | None = None
    url: Text | None = None


class Contacts(Strict):
    """Who to call: the front door and out-of-hours team are required on every page."""

    front_door: Contact
    out_of_hours: Contact
    early_help: Contact | None = None
    consultation: Contact | None = None
    police_non_emergency: Contact | None = None


class Level(Strict):
    id: Slug
    number: Annotated[int, Field(ge=1, le=9)]
    name: Text
    description: Text
    route: Route


class Area(Strict):
    id: Slug
    name: Text
    description: Text | None = None


class Domain(Strict):
    id: Slug
    name: Text
    description: Text | None = None
    areas: list[Area] = Field(min_length=1)


class SeverityQuestion(Strict):
    """A concern asked once, whose answer (an indicator with `asks_for`) sets the level."""

    id: Slug
    text: Text
    question: Text
    hint: Text | None = None


class Indicator(Strict):
    id: Slug
    domain: Slug
    area: Slug
    level: Annotated[int, Field(ge=1, le=9)]
    text: Text
    hint: Text | None = None
    # Age bounds are in whole months and inclusive at both ends; they apply to born children.
    min_age_months: Months | None = None
    max_age_months: Months | None = None
    applies_to: Literal["born", "unborn", "both"] = "born"
    census_factor: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,2}[A-Z]?$")] | None = None
    immediate: bool = False
    asks_for: Slug | None = None
    option: Text | None = None


class CumulativeWhen(Strict):
    """Counts indicators at or above `min_level`, across at least `min_domains` domains."""

    min_level: Annotated[int, Field(ge=1, le=9)]
    min_count: Annotated[int, Field(ge=2)]
    min_domains: Annotated[int, Field(ge=1)] = 1


class AgeWhen(Strict):
    """Matches a child in the age range (months, inclusive) with any of the listed concerns."""

    min_age_months: Months | None = None
    max_age_months: Months | None = None
    unborn: bool = False
    any_indicator: list[Slug] = Field(default_factory=list)
    any_area: list[Slug] = Field(default_factory=list)
    min_level: Annotated[int, Field(ge=1, le=9)] | None = None


class CumulativeRule(Strict):
    id: Slug
    type: Literal["cumulative"]
    reason: Text
    when: CumulativeWhen
    raise_to: Annotated[int, Field(ge=1, le=9)]


class AgeRule(Strict):
    id: Slug
    type: Literal["age"]
    reason: Text
    when: AgeWhen
    raise_to: Annotated[int, Field(ge=1, le=9)]


class ConsentRule(Strict):
    """Without the family's consent, voluntary help cannot be arranged below `unless_level`."""

    id: Slug
    type: Literal["consent"]
    reason: Text
    consent: list[Consent] = Field(min_length=1)
    unless_level: Annotated[int, Field(ge=1, le=9)]
    route: Route
    next_steps: list[Text] = Field(default_factory=list)


Rule = Annotated[CumulativeRule | AgeRule | ConsentRule, Field(discriminator="type")]


class ServiceQuery(Strict):
    """Which directory services fit a route: by tier, then ranked by the concerns' areas."""

    tiers: list[Literal["universal", "early_help", "specialist"]] = Field(min_length=1)
    limit: Annotated[int, Field(ge=1, le=20)] = 6


class RouteInfo(Strict):
    title: Text
    summary: Text
    next_steps: list[Text] = Field(min_length=1)
    who_leads: Text | None = None
    how_to_start: Text | None = None
    services: ServiceQuery


class ImmediateDanger(Strict):
    title: Text
    summary: Text
    next_steps: list[Text] = Field(min_length=1)


class RouteSteps(Strict):
    universal: list[Text] = Field(default_factory=list)
    early_help: list[Text] = Field(default_factory=list)
    social_care: list[Text] = Field(default_factory=list)


class ConsentAdvice(Strict):
    """Extra next steps for each consent answer, by the route recommended."""

    given: RouteSteps = RouteSteps()
    refused: RouteSteps = RouteSteps()
    not_asked: RouteSteps = RouteSteps()
    not_needed: RouteSteps = RouteSteps()


class Routes(Strict):
    universal: RouteInfo
    early_help: RouteInfo
    social_care: RouteInfo


class ThresholdDocument(Strict):
    id: VersionId
    title: Text
    council: Text
    effective_from: dt.date
    review_by: dt.date
    approved_by: Text
    summary_of_changes: Text
    supersedes: VersionId | None = None
    contacts: Contacts
    immediate_danger: ImmediateDanger
    consent_advice: ConsentAdvice = ConsentAdvice()
    levels: list[Level] = Field(min_length=2)
    domains: list[Domain] = Field(min_length=1)
    severity_questions: list[SeverityQuestion] = Field(default_factory=list)
    indicators: list[Indicator] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    routes: Routes
