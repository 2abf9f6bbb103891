"""The shape of a threshold document: a closed set of keys, checked strictly.

Pydantic models only; cross-references (areas, levels, rules) are checked in loader.py.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from ..values import CONSENT_VALUES, ROUTES, URGENCIES  # noqa: F401  (re-exported)

Route = Literal["universal", "early_help", "social_care"]
Consent = Literal["given", "refused", "not_asked", "not_needed"]
Urgency = Literal["standard", "same_day", "emergency"]

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
Slug = Annotated[str, StringConstraints(pattern=SLUG_RE.pattern, max_length=80)]
VersionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Months = Annotated[int, Field(ge=0, le=18 * 12)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """A published document the file cites: statutory guidance, an Act, a partnership's thresholds."""

    id: Slug
    title: Text
    publisher: Text
    year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    kind: Literal["statutory_guidance", "legislation", "guidance", "threshold_document", "research"]
    url: Text | None = None


class Reference(Strict):
    """Where a source says so: the source's id, and optionally where in it and the level it gives."""

    source: Slug
    where: Text | None = None
    level: Annotated[int, Field(ge=1, le=9)] | None = None
    note: Text | None = None


References = Annotated[list[Reference], Field(default_factory=list)]


# A number people can dial, as shown on every page and in every tel: link: digits, spaces and
# hyphens, perhaps after a +, like 01632 960 100, 0300-123-4567, 101 or +44 1632 960100 (never words
# such as "call us", nor "(0)", which a phone would dial).
DIALLABLE = re.compile(r"\+?[0-9][0-9 -]{1,22}[0-9]")
DIALLABLE_MESSAGE = ("must be a phone number people can dial: digits, spaces and hyphens, like 01632 960 100 "
                     "or 101")


class Contact(Strict):
    name: Text
    phone: Text
    hours: Text | None = None
    email: Text | None = None
    url: Text | None = None

    @field_validator("phone")
    @classmethod
    def _diallable(cls, value: str) -> str:
        if not DIALLABLE.fullmatch(value):
            raise ValueError(DIALLABLE_MESSAGE)
        return value


class Contacts(Strict):
    """Who to call: the front door and out-of-hours team are required on every page."""

    front_door: Contact
    out_of_hours: Contact
    early_help: Contact | None = None
    consultation: Contact | None = None
    police_non_emergency: Contact | None = None
    lado: Contact | None = None  # the Local Authority Designated Officer: required with `lado` concerns


class Level(Strict):
    id: Slug
    number: Annotated[int, Field(ge=1, le=9)]
    name: Text
    description: Text
    route: Route
    references: References


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
    # How fast: emergency (999, then the front door), same_day (phone the front door today) or
    # standard. Older files said `immediate: true` for emergency; one is derived from the other.
    urgency: Urgency = "standard"
    urgency_reason: Text | None = None
    immediate: bool = False
    asks_for: Slug | None = None
    option: Text | None = None
    references: References
    note: Text | None = None  # where published documents disagree: the level chosen, and why
    # A concern about an adult who works with children: it goes to the LADO, outside the
    # child's own threshold route (it counts towards no level, rule or urgency).
    lado: bool = False
    # The council must be told whatever the family says (private fostering, a homeless 16 or
    # 17 year old, an unaccompanied child).
    must_tell_council: bool = False
    # Telling the family, or asking for their consent, could put the child in more danger (forced
    # marriage, FGM, fabricated illness, sexual abuse in the family): the referrer is told not to,
    # and the front door decides when and how the family is told.
    family_not_told: bool = False

    @model_validator(mode="before")
    @classmethod
    def _urgency_from_immediate(cls, data):
        if isinstance(data, dict) and "urgency" not in data and data.get("immediate") is True:
            return {**data, "urgency": "emergency"}
        return data

    @model_validator(mode="after")
    def _immediate_is_emergency(self):
        if self.immediate and self.urgency != "emergency":
            raise ValueError("immediate: true means urgency emergency; give urgency alone")
        if self.urgency == "emergency" and not self.immediate:
            object.__setattr__(self, "immediate", True)
        return self


# An indicator's yes-or-no settings about who is told (above): the child's own route decides them,
# so a LADO concern (outside that route) has neither; the policy screens' concern form sets both.
TELLING_FLAGS = ("must_tell_council", "family_not_told")


class CumulativeWhen(Strict):
    """Counts indicators at or above `min_level`, across at least `min_domains` domains.

    With `any_indicator`, only those concerns count (for example a parent's drinking, mental
    ill-health and domestic abuse, which together harm a child more than any one alone).
    """

    min_level: Annotated[int, Field(ge=1, le=9)]
    min_count: Annotated[int, Field(ge=2)]
    min_domains: Annotated[int, Field(ge=1)] = 1
    any_indicator: list[Slug] = Field(default_factory=list)


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
    references: References
    when: CumulativeWhen
    raise_to: Annotated[int, Field(ge=1, le=9)]


class AgeRule(Strict):
    id: Slug
    type: Literal["age"]
    reason: Text
    references: References
    when: AgeWhen
    raise_to: Annotated[int, Field(ge=1, le=9)]


class ConsentRule(Strict):
    """Without the family's consent, early help (voluntary) becomes `route` (universal services).

    It only ever changes an early-help route: where the level leads to social care, refused
    consent never lowers it (Working Together 2023); `referral_reason` then says the referral
    still goes. `unless_level` (older files) also stops the rule at and above that level.
    """

    id: Slug
    type: Literal["consent"]
    reason: Text
    consent: list[Consent] = Field(min_length=1)
    unless_level: Annotated[int, Field(ge=1, le=9)] | None = None
    route: Route
    next_steps: list[Text] = Field(default_factory=list)
    referral_reason: Text | None = None
    references: References


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


class Outcome(Strict):
    """A fixed outcome shown first: same-day (phone the front door today) or LADO."""

    title: Text
    summary: Text
    next_steps: list[Text] = Field(min_length=1)


class RouteSteps(Strict):
    universal: list[Text] = Field(default_factory=list)
    early_help: list[Text] = Field(default_factory=list)
    social_care: list[Text] = Field(default_factory=list)


class ConsentAdvice(Strict):
    """Extra next steps for each consent answer, by the route recommended.

    own_consent_from_age: from this age (in years) a young person gives, or refuses, their own
    consent, and the family page asks for theirs rather than the family's; the steps above must
    then say how their agreement counts. Not set (every version before northmere-2026-12-5): the
    family's is asked for at every age, as those versions' steps assume.
    """

    own_consent_from_age: int | None = Field(default=None, ge=12, le=18)
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
    # A cited document (one with `sources`) must give references and urgencies everywhere.
    sources: list[Source] = Field(default_factory=list)
    references: References
    contacts: Contacts
    immediate_danger: ImmediateDanger
    same_day: Outcome | None = None
    lado: Outcome | None = None
    consent_advice: ConsentAdvice = ConsentAdvice()
    levels: list[Level] = Field(min_length=2)
    domains: list[Domain] = Field(min_length=1)
    severity_questions: list[SeverityQuestion] = Field(default_factory=list)
    indicators: list[Indicator] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    routes: Routes
