"""Test cases beside the config (OpenFisca style): thresholds/tests/*.yaml.

Each case names answers and the route, level and reasons expected; it runs against every
version it applies to (its `versions`, or else every version that knows all its indicators).
A draft that no case names is held to the cases of the version it supersedes (or that one's base,
when no case names it either: one published from Signpost), so a new id never escapes them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from typing import Literal

from pydantic import Field

from . import source as src
from .loader import Library, ThresholdVersion
from .schema import Consent, Route, Slug, Strict, Text, VersionId


class CaseAnswers(Strict):
    age_months: int | None = None
    unborn: bool = False
    indicators: list[Slug] = Field(default_factory=list)
    consent: Consent = "given"
    in_danger: bool = False


class Case(Strict):
    name: Text
    versions: list[VersionId] | None = None
    answers: CaseAnswers
    expected_route: Route
    expected_level: int | None = None
    expected_immediate: bool | None = None
    expected_urgency: Literal["standard", "same_day", "emergency"] | None = None
    expected_lado: bool | None = None
    expected_reasons: list[str] = Field(default_factory=list)


class CaseFile(Strict):
    cases: list[Case] = Field(min_length=1)


@dataclasses.dataclass(frozen=True)
class LoadedCase:
    case: Case
    file: str
    line: int

    @property
    def name(self) -> str:
        return self.case.name

    def applies_to(self, version: ThresholdVersion, tested_as: str | None = None) -> bool:
        """Whether the case runs on this version; `tested_as` is the version whose named cases it
        must pass (see tested_as()), the version itself when not given."""
        if self.case.versions is not None:
            return (tested_as or version.id) in self.case.versions
        return all(i in version.indicators for i in self.case.answers.indicators)


@dataclasses.dataclass(frozen=True)
class Outcome:
    case: LoadedCase
    version_id: str
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(directory: Path | str) -> list[LoadedCase]:
    cases: list[LoadedCase] = []
    problems: list[src.Problem] = []
    names: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        source = src.read(path)
        doc, found = src.validate(source, CaseFile)
        problems.extend(found)
        if doc is None:
            continue
        for index, case in enumerate(doc.cases):
            line = source.line_of(("cases", index))
            if case.name in names:
                problems.append(src.Problem(str(path), line, f"cases[{index}].name",
                                            f"case name '{case.name}' is already used in {names[case.name]}"))
            names.setdefault(case.name, f"{path}:{line}")
            cases.append(LoadedCase(case, str(path), line))
    if problems:
        raise src.ConfigError(problems)
    return cases


def run_case(loaded: LoadedCase, version: ThresholdVersion, on_date: dt.date | None = None) -> Outcome:
    from ..engine import AnswerError, Answers, assess

    case = loaded.case
    answers = Answers(
        indicators=frozenset(case.answers.indicators), age_months=case.answers.age_months,
        unborn=case.answers.unborn, consent=case.answers.consent, in_danger=case.answers.in_danger)
    try:
        rec = assess(answers, version, on_date or version.effective_from)
    except AnswerError as exc:
        return Outcome(loaded, version.id, tuple(f"answers refused: {p}" for p in exc.problems))
    failures = []
    if rec.route != case.expected_route:
        failures.append(f"route: expected {case.expected_route}, got {rec.route}")
    if case.expected_level is not None and rec.level != case.expected_level:
        failures.append(f"level: expected {case.expected_level}, got {rec.level}")
    if case.expected_immediate is not None and rec.immediate != case.expected_immediate:
        failures.append(f"immediate: expected {case.expected_immediate}, got {rec.immediate}")
    if case.expected_urgency is not None and rec.urgency != case.expected_urgency:
        failures.append(f"urgency: expected {case.expected_urgency}, got {rec.urgency}")
    if case.expected_lado is not None and rec.lado != case.expected_lado:
        failures.append(f"lado: expected {case.expected_lado}, got {rec.lado}")
    if sorted(set(rec.reason_ids)) != sorted(set(case.expected_reasons)):
        failures.append(f"reasons: expected {sorted(set(case.expected_reasons))}, "
                        f"got {sorted(set(rec.reason_ids))}")
    return Outcome(loaded, version.id, tuple(failures))


def tested_as(version: ThresholdVersion, cases: list[LoadedCase], library: Library,
              base_id: str | None = None) -> str | None:
    """The version whose named cases this one must pass: itself when a case names it, else its base
    (`supersedes`, or `base_id` when given), else that one's base... None when the chain ends first.

    Only the nearest named version counts: a case its successor left out of its `versions` was
    deliberately dropped (the successor changed that answer), so older versions' cases never apply."""
    named = {name for case in cases for name in case.case.versions or ()}
    current, base = version.id, base_id or version.document.supersedes
    seen = {current}
    while current not in named:
        if base is None or base in seen:
            return None
        seen.add(base)
        earlier = library.by_id(base)
        current, base = base, earlier.document.supersedes if earlier is not None else None
    return current


@dataclasses.dataclass(frozen=True)
class CaseRun:
    """The cases run on one version, and how many were skipped as not applying to it."""
    outcomes: list[Outcome]
    skipped: int
    tested_as: str | None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]


def run_applicable(cases: list[LoadedCase], version: ThresholdVersion, library: Library,
                   on_date: dt.date | None = None, base_id: str | None = None) -> CaseRun:
    """The cases a new version (a draft) must pass. A case that applied to its base and ticks a concern
    this version retires is never skipped without a word: it fails, naming the concern, so the case is
    updated or dropped on purpose (a case that names no version would otherwise stop running, and one
    that names the base would fail with the engine's refusal)."""
    as_ = tested_as(version, cases, library, base_id)
    base = library.by_id(base_id or version.document.supersedes)
    outcomes, skipped = [], 0
    for case in cases:
        retired = [i for i in case.case.answers.indicators if i not in version.indicators]
        applied_to_base = base is not None and case.applies_to(base, as_ if case.case.versions else None)
        if retired and applied_to_base:
            outcomes.append(Outcome(case, version.id, (
                f"ticks {', '.join(retired)}, which this version retires: update the case in thresholds/tests, "
                f"or drop it there if it no longer applies",)))
        elif case.applies_to(version, as_):
            outcomes.append(run_case(case, version, on_date))
        else:
            skipped += 1
    return CaseRun(outcomes, skipped, as_)


def run_all(cases: list[LoadedCase], library: Library) -> list[Outcome]:
    """Every loaded version against the cases that apply to it as its file stands: a version a case
    leaves out of its `versions` list dropped that case (the files are written that way)."""
    return [run_case(case, version) for version in library.versions
            for case in cases if case.applies_to(version)]
