"""Loading threshold documents: validate, cross-check, hash and index one version.

A version that fails any check is never returned, so a broken file cannot replace
the version in use; the library of versions picks the one in force on a date.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError

from . import source as src
from ..values import ROUTE_ORDER
from .schema import TELLING_FLAGS, AgeRule, ConsentRule, CumulativeRule, Indicator, Level, ThresholdDocument
from .. import values


@dataclasses.dataclass(frozen=True)
class ThresholdVersion:
    """One loaded, validated, immutable threshold document with lookup tables."""

    document: ThresholdDocument
    content_hash: str
    path: str
    indicators: MappingProxyType  # id -> Indicator
    levels: MappingProxyType  # number -> Level
    areas: MappingProxyType  # area id -> (domain, area)

    @property
    def id(self) -> str:
        return self.document.id

    @property
    def effective_from(self) -> dt.date:
        return self.document.effective_from

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]

    @property
    def top_level(self) -> Level:
        return self.document.levels[-1]

    def level(self, number: int) -> Level:
        return self.levels[number]

    def route_of_level(self, number: int) -> str:
        return self.levels[number].route

    def overdue_for_review(self, on_date: dt.date) -> bool:
        return on_date > self.document.review_by

    def indicators_in(self, domain_id: str) -> list[Indicator]:
        return [i for i in self.document.indicators if i.domain == domain_id]

    def severity_options(self, question_id: str) -> list[Indicator]:
        return sorted((i for i in self.document.indicators if i.asks_for == question_id),
                      key=lambda i: i.level)


def load_file(path: Path | str, display_name: str | None = None) -> ThresholdVersion:
    """Load one version or raise ConfigError listing every problem in the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return load_source(src.read(path, display_name), expected_id=path.stem)  # says why it cannot be read
    return load_text(text, display_name or str(path), expected_id=path.stem)


# Versions already loaded, by the text they were loaded from. A version is immutable, so the same
# text gives the same version (under the name it is now read by): the library is read again by every
# app the process makes, and a policy lead's draft on every page that shows it, and reading 150 KB of
# YAML in Python takes a good part of a second. Only valid versions are kept (a broken text is checked
# afresh each time, so its problems name the file they are in); the oldest goes after LOADED_KEPT.
_loaded: dict[tuple[str | None, bytes], ThresholdVersion] = {}
LOADED_KEPT = 32


def load_text(text: str, name: str, expected_id: str | None = None) -> ThresholdVersion:
    """Load one version from YAML text (a draft or a published copy) exactly as from a file."""
    key = (expected_id, hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
    version = _loaded.get(key)
    if version is None:
        version = load_source(src.parse(text, name), expected_id=expected_id)
        _loaded[key] = version
        for old in list(_loaded)[:-LOADED_KEPT]:
            _loaded.pop(old, None)
    return version if version.path == name else dataclasses.replace(version, path=name)


def load_source(source: src.Source, expected_id: str | None = None) -> ThresholdVersion:
    doc, problems = src.validate(source, ThresholdDocument)
    if doc is None:
        raise src.ConfigError(problems + _checks_despite_schema_errors(source, expected_id))
    problems = check_document(doc, source, expected_id=expected_id)
    if problems:
        raise src.ConfigError(problems)
    return build_version(doc, source)


LIST_SECTIONS = ("domains", "severity_questions", "indicators", "rules")


def _ids_within(value) -> set[str]:
    """Every id in a set-aside item, its areas' ids included."""
    if isinstance(value, dict):
        found = {str(value["id"])} if "id" in value else set()
        return found.union(*(_ids_within(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_ids_within(v) for v in value))
    return set()


def _checks_despite_schema_errors(source: src.Source, expected_id: str | None) -> list[src.Problem]:
    """Cross-reference problems in a file that also has schema problems, so all come at once.

    The list items with schema problems (and unknown top-level keys) are set aside and the
    rest is checked as usual; a cross-reference problem that names a set-aside item's id is
    dropped, since the real problem is that item's own.
    """
    data = source.data
    if not isinstance(data, dict):
        return []
    try:
        ThresholdDocument.model_validate(data)
        return []
    except ValidationError as exc:
        errors = exc.errors()
    removed: dict[str, set[int]] = {}
    data = dict(data)
    for err in errors:
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] in LIST_SECTIONS and isinstance(loc[1], int):
            removed.setdefault(loc[0], set()).add(loc[1])
        elif len(loc) == 1 and err["type"] == "extra_forbidden":
            data.pop(loc[0], None)
        else:
            return []  # a problem in the document's frame (levels, routes, dates): nothing to check against
    set_aside: set[str] = set()
    for section, indexes in removed.items():
        items = data.get(section) or []
        set_aside |= {item_id for i in indexes if i < len(items) for item_id in _ids_within(items[i])}
        data[section] = [item for i, item in enumerate(items) if i not in indexes]
    try:
        doc = ThresholdDocument.model_validate(data)
    except ValidationError:
        return []
    kept = {section: [i for i in range(len(source.data.get(section) or [])) if i not in indexes]
            for section, indexes in removed.items()}

    class Shifted(src.Source):
        """Reports against the file as written: kept item n is the file's item kept[n]."""

        def problem(self, key_path: tuple, message: str) -> src.Problem:
            if len(key_path) >= 2 and key_path[0] in kept and isinstance(key_path[1], int):
                key_path = (key_path[0], kept[key_path[0]][key_path[1]]) + tuple(key_path[2:])
            return source.problem(key_path, message)

    shifted = Shifted(source.file, source.text, data, source.lines, [])
    return [p for p in check_document(doc, shifted, expected_id=expected_id)
            if not any(f"'{item_id}'" in p.message for item_id in set_aside)]


def build_version(doc: ThresholdDocument, source: src.Source) -> ThresholdVersion:
    digest = hashlib.sha256(source.text.encode("utf-8")).hexdigest()
    areas = {a.id: (d, a) for d in doc.domains for a in d.areas}
    return ThresholdVersion(
        document=doc,
        content_hash=digest,
        path=source.file,
        indicators=MappingProxyType({i.id: i for i in doc.indicators}),
        levels=MappingProxyType({lv.number: lv for lv in doc.levels}),
        areas=MappingProxyType(areas),
    )


def check_document(doc: ThresholdDocument, source: src.Source, expected_id: str | None = None) -> list[src.Problem]:
    """Cross-reference checks that a schema alone cannot make."""
    problems: list[src.Problem] = []

    def add(path: tuple, message: str) -> None:
        problems.append(source.problem(path, message))

    if expected_id and doc.id != expected_id:
        add(("id",), f"must match the file name ('{expected_id}')")
    if doc.review_by <= doc.effective_from:
        add(("review_by",), "must be after effective_from")

    _duplicates(add, "levels", [lv.id for lv in doc.levels], "level id")
    numbers = [lv.number for lv in doc.levels]
    if numbers != list(range(1, len(numbers) + 1)):
        add(("levels",), "levels must be numbered 1, 2, 3 ... in order")
    for index in range(1, len(doc.levels)):
        if ROUTE_ORDER[doc.levels[index].route] < ROUTE_ORDER[doc.levels[index - 1].route]:
            add(("levels", index, "route"),
                "a higher level cannot lead to a less intensive route than the level below it")
    if doc.levels[-1].route != "social_care":
        add(("levels", len(doc.levels) - 1, "route"), "the top level must lead to social_care")
    level_numbers = set(numbers)

    _duplicates(add, "domains", [d.id for d in doc.domains], "domain id")
    area_owner: dict[str, str] = {}
    for di, domain in enumerate(doc.domains):
        for ai, area in enumerate(domain.areas):
            if area.id in area_owner:
                add(("domains", di, "areas", ai, "id"),
                    f"area id '{area.id}' is already used in domain '{area_owner[area.id]}'")
            area_owner.setdefault(area.id, domain.id)

    _duplicates(add, "severity_questions", [q.id for q in doc.severity_questions], "question id")
    question_ids = {q.id for q in doc.severity_questions}
    used_questions: Counter = Counter()

    seen: dict[str, int] = {}
    for index, ind in enumerate(doc.indicators):
        here = ("indicators", index)
        if ind.id in seen:
            add(here + ("id",), f"indicator id '{ind.id}' is already used (indicators[{seen[ind.id]}])")
        seen.setdefault(ind.id, index)
        if ind.id in question_ids:
            add(here + ("id",), f"'{ind.id}' is already the id of a severity question")
        if ind.domain not in {d.id for d in doc.domains}:
            add(here + ("domain",), f"domain '{ind.domain}' is not defined under domains")
        elif area_owner.get(ind.area) != ind.domain:
            add(here + ("area",), f"area '{ind.area}' is not an area of domain '{ind.domain}'")
        if ind.level not in level_numbers:
            add(here + ("level",), f"level {ind.level} is not defined under levels")
        if ind.min_age_months is not None and ind.max_age_months is not None \
                and ind.min_age_months > ind.max_age_months:
            add(here + ("min_age_months",), "must not be more than max_age_months")
        if ind.applies_to == "unborn" and (ind.min_age_months is not None or ind.max_age_months is not None):
            add(here + ("applies_to",), "an indicator only for unborn children cannot have age bounds")
        if ind.asks_for is not None:
            used_questions[ind.asks_for] += 1
            if ind.asks_for not in question_ids:
                add(here + ("asks_for",), f"severity question '{ind.asks_for}' is not defined")
            if ind.option is None:
                add(here + ("option",), "is required with asks_for: the answer that picks this indicator")
        elif ind.option is not None:
            add(here + ("option",), "only makes sense with asks_for")
    for qi, question in enumerate(doc.severity_questions):
        if used_questions[question.id] < 2:
            add(("severity_questions", qi, "id"),
                f"severity question '{question.id}' needs at least two indicators that ask for it")

    _duplicates(add, "rules", [r.id for r in doc.rules], "rule id")
    indicator_ids = set(seen)
    top = doc.levels[-1].number
    for ri, rule in enumerate(doc.rules):
        here = ("rules", ri)
        if rule.id in indicator_ids:
            add(here + ("id",), f"'{rule.id}' is already the id of an indicator")
        if isinstance(rule, (CumulativeRule, AgeRule)) and rule.raise_to not in level_numbers:
            add(here + ("raise_to",), f"level {rule.raise_to} is not defined under levels")
        if isinstance(rule, CumulativeRule) and rule.when.min_level not in level_numbers:
            add(here + ("when", "min_level"), f"level {rule.when.min_level} is not defined under levels")
        if isinstance(rule, (AgeRule, CumulativeRule)):
            for k, ref in enumerate(rule.when.any_indicator):
                if ref not in indicator_ids:
                    add(here + ("when", "any_indicator", k), f"indicator '{ref}' is not defined")
        if isinstance(rule, AgeRule):
            for k, ref in enumerate(rule.when.any_area):
                if ref not in area_owner:
                    add(here + ("when", "any_area", k), f"area '{ref}' is not defined")
            if not (rule.when.any_indicator or rule.when.any_area or rule.when.min_level):
                add(here + ("when",), "needs any_indicator, any_area or min_level to say which concerns count")
            low, high = rule.when.min_age_months, rule.when.max_age_months
            if low is not None and high is not None and low > high:  # no child's age: the rule never applies
                add(here + ("when", "min_age_months"), "must not be more than max_age_months")
        if isinstance(rule, ConsentRule):
            if rule.unless_level is not None and rule.unless_level not in level_numbers:
                add(here + ("unless_level",), f"level {rule.unless_level} is not defined under levels")
            if rule.route != "universal":
                add(here + ("route",), "a consent rule can only turn early help into universal services")
            if "not_needed" in rule.consent:
                add(here + ("consent",), "'not_needed' means the family must not be told; it cannot block a referral")
        if isinstance(rule, (CumulativeRule, AgeRule)) and rule.raise_to == top:
            # Escalation to the top level must come from an indicator, so that the
            # consent safeguard ("never social care without consent below the top") holds.
            add(here + ("raise_to",), "a rule cannot raise to the top level; add a top-level indicator instead")
    _check_urgency_and_lado(doc, add)
    _check_references(doc, source, add)
    return problems


def _check_urgency_and_lado(doc: ThresholdDocument, add) -> None:
    routes = {lv.number: lv.route for lv in doc.levels}
    top = doc.levels[-1].number
    for index, ind in enumerate(doc.indicators):
        here = ("indicators", index)
        if ind.lado:
            if ind.urgency != "standard":
                add(here + ("urgency",), "a LADO concern's urgency must be standard: the lado section says how fast")
            for flag in TELLING_FLAGS:
                if getattr(ind, flag):  # the child's own route decides these; a LADO concern is outside it
                    add(here + (flag,), "cannot be set on a LADO concern: it is about the adult, outside the "
                                        "child's route; say it on the concerns about the child")
            continue
        if ind.urgency == "emergency" and ind.level != top:
            add(here + ("level",), "an emergency indicator must be at the top level")
        elif ind.urgency != "standard" and routes.get(ind.level) != "social_care":
            add(here + ("urgency",), f"a {ind.urgency} indicator must be at a level that leads to social_care")
    if any(i.urgency == "same_day" and not i.lado for i in doc.indicators) and doc.same_day is None:
        add(("same_day",), "is required: some indicators have urgency same_day")
    if any(i.lado for i in doc.indicators):
        if doc.lado is None:
            add(("lado",), "is required: some indicators are LADO concerns (lado: true)")
        if doc.contacts.lado is None:
            add(("contacts", "lado"), "is required: some indicators are LADO concerns (lado: true)")


def _check_references(doc: ThresholdDocument, source: src.Source, add) -> None:
    """Every reference names a source; a cited document (one with sources) cites everywhere."""
    _duplicates(add, "sources", [s.id for s in doc.sources], "source id")
    known = {s.id for s in doc.sources}

    def check(path: tuple, references) -> None:
        for k, ref in enumerate(references):
            if ref.source not in known:
                add(path + ("references", k, "source"), f"source '{ref.source}' is not defined under sources")

    check((), doc.references)
    for li, level in enumerate(doc.levels):
        check(("levels", li), level.references)
    for ii, ind in enumerate(doc.indicators):
        check(("indicators", ii), ind.references)
    for ri, rule in enumerate(doc.rules):
        check(("rules", ri), rule.references)
    if not doc.sources:
        return  # an older, uncited document: its references (if any) are checked above
    if not doc.references:
        add(("references",), "is required in a cited document: the statutory guidance it follows")
    for li, level in enumerate(doc.levels):
        if not level.references:
            add(("levels", li, "references"), "is required: the published sources behind this level")
    raw = source.data.get("indicators") if isinstance(source.data, dict) else None
    top = doc.levels[-1].number
    for ii, ind in enumerate(doc.indicators):
        here = ("indicators", ii)
        written = raw[ii] if isinstance(raw, list) and ii < len(raw) and isinstance(raw[ii], dict) else {}
        if not ind.references:
            add(here + ("references",), "is required: a published source that puts this concern at this level")
        if "urgency" not in written:
            add(here + ("urgency",), "is required in a cited document: emergency, same_day or standard")
        if "immediate" in written:
            add(here + ("immediate",), "is replaced by urgency: emergency in a cited document")
        if ind.urgency_reason is None and not ind.lado and (ind.level == top or ind.urgency != "standard"):
            add(here + ("urgency_reason",), "is required: say why this concern has this urgency")


def _duplicates(add, section: str, ids: list[str], what: str) -> None:
    first: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value in first:
            add((section, index, "id"), f"{what} '{value}' is already used ({section}[{first[value]}])")
        first.setdefault(value, index)


@dataclasses.dataclass(frozen=True)
class Library:
    """Every valid version found, oldest first, and the problems of any that were not.

    `unloaded` names stored versions that did not load, with their effective date where it could be
    read (None where not): the app does not let an older version stand in for one of them. `withdrawn`
    names versions published and then withdrawn: none is in `versions`, and no id of one is used again."""

    versions: tuple[ThresholdVersion, ...]
    problems: tuple[src.Problem, ...] = ()
    unloaded: tuple[tuple[str, dt.date | None], ...] = ()
    withdrawn: frozenset[str] = frozenset()

    def get(self, version_id: str, on_date: dt.date | None = None) -> ThresholdVersion:
        if version_id == "current":
            return self.in_force(on_date or values.uk_today())
        version = self.by_id(version_id)
        if version is None:
            raise KeyError(version_id)
        return version

    def by_id(self, version_id: str | None) -> ThresholdVersion | None:
        """The version with this id, or None (for none given, too)."""
        return next((v for v in self.versions if v.id == version_id), None)

    def in_force(self, on_date: dt.date) -> ThresholdVersion:
        """The version with the latest effective_from on or before the date."""
        candidates = [v for v in self.versions if v.effective_from <= on_date]
        if not candidates:
            raise LookupError(f"no threshold version is in force on {on_date.isoformat()}")
        return max(candidates, key=lambda v: v.effective_from)

    def by_hash(self, content_hash: str) -> ThresholdVersion | None:
        return next((v for v in self.versions if v.content_hash == content_hash), None)


def version_files(directory: Path | str) -> list[Path]:
    return sorted(p for p in Path(directory).glob("*.yaml") if p.is_file())


def load_library(directory: Path | str, strict: bool = False) -> Library:
    """Load every version under a directory; broken files are reported, never used."""
    versions: list[ThresholdVersion] = []
    problems: list[src.Problem] = []
    for path in version_files(directory):
        try:
            versions.append(load_file(path))
        except src.ConfigError as exc:
            problems.extend(exc.problems)
    dates: dict[dt.date, str] = {}
    for version in sorted(versions, key=lambda v: v.effective_from):
        if version.effective_from in dates:
            line = src.read(version.path).line_of(("effective_from",))
            problems.append(src.Problem(version.path, line, "effective_from",
                                        f"{version.effective_from} is also the effective date of "
                                        f"'{dates[version.effective_from]}'; each version needs its own date"))
        dates.setdefault(version.effective_from, version.id)
    ok = tuple(sorted((v for v in versions if dates[v.effective_from] == v.id),
                      key=lambda v: v.effective_from))
    if strict and problems:
        raise src.ConfigError(problems)
    return Library(versions=ok, problems=tuple(sorted(problems)))
