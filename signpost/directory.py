"""The local service directory (Open Referral UK shaped) and the signposting filter.

Pure Python: loads `directory/*.yaml` strictly and picks the services that fit a child.
Age bounds are whole months and INCLUSIVE at both ends (minimum_age <= age <= maximum_age).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field

from .thresholds import source as src
from .thresholds.schema import Months, Slug, Strict, Text

TIERS = ("universal", "early_help", "specialist")
UNBORN = -1  # the age key used for an unborn child


class ServiceContact(Strict):
    phone: Text | None = None
    email: Text | None = None
    url: Text | None = None


class ServiceLocation(Strict):
    name: Text
    address: Text
    postcode: Text


class Service(Strict):
    id: Slug
    name: Text
    organization: Text
    status: Literal["active", "inactive", "defunct", "temporarily closed"]
    tier: Literal["universal", "early_help", "specialist"]
    description: Text
    minimum_age: Months
    maximum_age: Months
    unborn: bool = False  # also serves expectant parents before the baby is born
    eligibility_description: Text
    how_to_access: Text
    self_referral: bool = False
    contact: ServiceContact
    locations: list[ServiceLocation] = Field(default_factory=list)
    serves: list[Slug] = Field(default_factory=list)  # area ids from the threshold documents
    # Indicator ids this service is specifically for (say, adult drug services for a parent's drug
    # use). A service that lists concerns is signposted for those only, never by area alone.
    concerns: list[Slug] = Field(default_factory=list)
    # Indicator ids this service must never be offered for (a parental-conflict course is unsafe
    # where there is domestic abuse): one of these among the chosen concerns rules it out.
    not_for: list[Slug] = Field(default_factory=list)
    general: bool = False  # offered to any family of the right age, whatever the concern
    languages: list[Text] = Field(default_factory=list)


class DirectoryDocument(Strict):
    council: Text
    updated: dt.date
    age_bounds: Literal["months, inclusive"]
    services: list[Service] = Field(min_length=1)


@dataclasses.dataclass(frozen=True)
class Directory:
    document: DirectoryDocument
    path: str = ""
    content_hash: str = ""  # sha256 of the file: each recorded revision says which directory it used

    def __post_init__(self):
        active = [s for s in self.document.services if s.status == "active"]
        by_area: dict[str, list[int]] = {}
        by_concern: dict[str, list[int]] = {}
        barred: dict[str, list[int]] = {}
        for index, service in enumerate(active):
            for concern in service.not_for:
                barred.setdefault(concern, []).append(index)
            for concern in service.concerns:
                by_concern.setdefault(concern, []).append(index)
            for area in service.serves if not service.concerns else ():
                by_area.setdefault(area, []).append(index)
        object.__setattr__(self, "_active", tuple(active))
        object.__setattr__(self, "_by_area", {k: tuple(v) for k, v in by_area.items()})
        object.__setattr__(self, "_by_concern", {k: tuple(v) for k, v in by_concern.items()})
        object.__setattr__(self, "_barred", {k: tuple(v) for k, v in barred.items()})
        object.__setattr__(self, "_cache", {})

    @property
    def services(self) -> list[Service]:
        return list(self.document.services)

    def get(self, service_id: str) -> Service | None:
        return next((s for s in self.document.services if s.id == service_id), None)

    def _candidates(self, tiers: tuple[str, ...], age_key: int) -> dict[int, int]:
        """Active services of these tiers for this age: index -> rank by tier order."""
        key = (tiers, age_key)
        found = self._cache.get(key)
        if found is None:
            found = {}
            for index, service in enumerate(self._active):
                if service.tier not in tiers:
                    continue
                if age_key == UNBORN:
                    if not service.unborn:
                        continue
                elif not service.minimum_age <= age_key <= service.maximum_age:
                    continue
                found[index] = tiers.index(service.tier)
            self._cache[key] = found
        return found

    def signpost(self, tiers: tuple[str, ...], age_months: int | None, unborn: bool,
                 areas: frozenset[str], limit: int, indicators: frozenset[str] = frozenset(),
                 deciding: frozenset[str] = frozenset()) -> tuple[Service, ...]:
        """Services that fit: those for a deciding concern first, then for the very concerns, then
        by area, then general ones.

        A service whose `not_for` names a chosen concern is never offered.
        """
        candidates = self._candidates(tuple(tiers), UNBORN if unborn else int(age_months or 0))
        # (deciding concerns matched, concerns matched, areas matched)
        scores: dict[int, tuple[int, int, int]] = {}
        for concern in indicators | deciding:
            for index in self._by_concern.get(concern, ()):
                if index in candidates:
                    hits = scores.get(index, (0, 0, 0))
                    scores[index] = (hits[0] + (concern in deciding), hits[1] + 1, hits[2])
        for area in areas:
            for index in self._by_area.get(area, ()):
                if index in candidates:
                    hits = scores.get(index, (0, 0, 0))
                    scores[index] = (hits[0], hits[1], hits[2] + 1)
        barred = {i for concern in indicators | deciding for i in self._barred.get(concern, ())}
        ranked = sorted((i for i in scores if i not in barred),
                        key=lambda i: (*(-n for n in scores[i]), candidates[i], self._active[i].name))
        chosen = [self._active[i] for i in ranked[:limit]]
        if len(chosen) < limit:
            general = sorted((i for i in candidates if i not in scores and i not in barred
                              and self._active[i].general),
                             key=lambda i: (candidates[i], self._active[i].name))
            chosen.extend(self._active[i] for i in general[: limit - len(chosen)])
        return tuple(chosen)


def load_directory(path: Path | str, known_areas: set[str] | None = None,
                   known_indicators: set[str] | None = None, warnings: list | None = None) -> Directory:
    """Load a directory file, or raise ConfigError with every problem and its line.

    With a `warnings` list, a service's `concerns` naming an indicator no loaded version has (one from a
    version withdrawn, scheduled and since removed, or failing to load) is a warning added to it, not a
    problem: that service is simply never offered for it, where refusing the whole directory would leave
    every recommendation with no local services. A `not_for` naming one is always a problem: a typing
    mistake there would offer a service where it must never be offered."""
    source = src.read(path)
    doc, problems = src.validate(source, DirectoryDocument)
    if doc is None:
        raise src.ConfigError(problems)
    seen: dict[str, int] = {}
    for index, service in enumerate(doc.services):
        here = ("services", index)
        if service.id in seen:
            problems.append(source.problem(here + ("id",), f"service id '{service.id}' is already used"))
        seen.setdefault(service.id, index)
        if service.minimum_age > service.maximum_age:
            problems.append(source.problem(here + ("minimum_age",), "must not be more than maximum_age"))
        if not (service.contact.phone or service.contact.email or service.contact.url):
            problems.append(source.problem(here + ("contact",), "needs a phone number, email or web address"))
        if known_areas is not None:
            for k, area in enumerate(service.serves):
                if area not in known_areas:
                    problems.append(source.problem(here + ("serves", k),
                                                   f"area '{area}' is not an area of any threshold document"))
        if known_indicators is not None:
            for key in ("concerns", "not_for"):
                for k, concern in enumerate(getattr(service, key)):
                    if concern not in known_indicators:
                        message = f"'{concern}' is not an indicator of any threshold document"
                        if key == "concerns" and warnings is not None:
                            warnings.append(source.problem(here + (key, k), message + " in use: this service "
                                                           "is not offered for it"))
                        else:
                            problems.append(source.problem(here + (key, k), message))
        for k, concern in enumerate(service.not_for):
            if concern in service.concerns:
                problems.append(source.problem(here + ("not_for", k),
                                               f"'{concern}' is both a concern it is for and one it is not for"))
    if problems:
        raise src.ConfigError(problems)
    return Directory(doc, str(path), hashlib.sha256(source.text.encode("utf-8")).hexdigest())

