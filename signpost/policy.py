"""Draft threshold versions as YAML text: start one, check it, change it, ready it to publish.

No Flask and no database: the web pages, the CLI and signpost.store.policy call these.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import yaml

from .thresholds import ConfigError, Library, Problem, ThresholdVersion, load_text
from .thresholds.cases import LoadedCase, run_applicable
from .thresholds.schema import TELLING_FLAGS, Indicator

HAS_URGENCY = "urgency" in Indicator.model_fields
HAS_REFERENCES = "references" in Indicator.model_fields
DRAFT_NAME = "draft.yaml"


class DateProblem(str):
    """A reason a version cannot be published that the effective date chosen would put right: the
    publish page's error summary links it to the date; the others are about the draft itself."""


class PublishError(ValueError):
    """A version that cannot be published; `problems` says why, in plain English."""

    def __init__(self, problems: list):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


# libyaml's reader and writer (PyYAML's C extension) where PyYAML was built with it: a draft of 150 KB
# is read and written back on every change a policy lead makes, and the pure Python ones take the
# best part of a second each. Drafts are checked by signpost.thresholds (which refuses what the
# loader need not accept) before they are stored, so both readers give the same data.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def text_hash(text: str) -> str:
    """The hash of a draft's text as a page showed it: a change made from that page is saved only
    while the draft still has it, so two people editing at once never overwrite each other unseen."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_data(text: str) -> dict:
    try:
        return yaml.load(text, Loader=_SafeLoader) or {}
    except yaml.YAMLError:  # what libyaml reads differently from the checker: read as it did
        return yaml.safe_load(text) or {}


class _EveryValueInFull(_SafeDumper):
    """Writes a value used in two places twice, never as a YAML anchor and alias: the loader refuses
    those (a few hundred bytes of them can expand to gigabytes), so a draft Signpost writes itself
    must never hold one, whatever objects its forms happen to share."""

    def ignore_aliases(self, data) -> bool:
        return True


def dump(data: dict) -> str:
    return yaml.dump(data, Dumper=_EveryValueInFull, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)


def check(text: str, library: Library | None = None) -> tuple[ThresholdVersion | None, list[Problem]]:
    """The draft as a loaded version, or every problem with its line and key."""
    try:
        version = load_text(text, DRAFT_NAME)
    except ConfigError as exc:
        return None, list(exc.problems)
    problems = []
    if library is not None:
        taken = library.by_id(version.id)
        if taken is not None and taken.content_hash != version.content_hash:
            problems.append(Problem(DRAFT_NAME, 1, "id", f"'{version.id}' is already published with different "
                                    "content: give this draft a new id"))
        problems += reused_ids(version, text, library)
    return version, problems


def reused_ids(version: ThresholdVersion, text: str, library: Library) -> list[Problem]:
    """A concern id that an earlier version had and the draft's base had retired, used again: old
    assessments and the reports' deciding-concern counts would then read with the new wording."""
    base = library.by_id(version.document.supersedes)
    if base is None:  # no loaded base to tell a retired id from one carried on: nothing can be said
        return []
    kept = set(base.indicators)
    problems = []
    for index, indicator in enumerate(version.document.indicators):
        if indicator.id in kept:
            continue
        earlier = [v for v in library.versions if v.id != version.id and indicator.id in v.indicators]
        if earlier:
            last = max(earlier, key=lambda v: v.effective_from)
            line = next((n for n, row in enumerate(text.splitlines(), start=1)
                         if re.fullmatch(rf"\s*(- )?id: ['\"]?{re.escape(indicator.id)}['\"]?\s*", row)), 1)
            problems.append(Problem(DRAFT_NAME, line, f"indicators[{index}].id",
                                    f"'{indicator.id}' was a concern in {last.id} and was retired: an id is never "
                                    "used again, so past records keep their meaning. Give this concern a new id"))
    return problems


class PlacedProblem(str):
    """A problem at a line of a file, in the words a policy lead reads ("Line 12, indicators[3]
    (missing_now).level: ..."), that keeps its line, key and message apart for the command line."""
    line: int
    key: str
    message: str

    def __new__(cls, line: int, key: str, message: str):
        placed = super().__new__(cls, f"Line {line}" + (f", {key}" if key else "") + f": {message}")
        placed.line, placed.key, placed.message = line, key, message
        return placed

    def in_file(self, file: str) -> str:
        """As the command line prints a problem: "FILE:12: indicators[3] (missing_now).level: ..."."""
        return f"{file}:{self.line}: " + (f"{self.key}: " if self.key else "") + self.message


def plain(problem: Problem, text: str | None = None) -> PlacedProblem:
    """A problem in the words a policy lead reads: "Line 12, indicators[3].level: ...", and with the
    text it is about, the item named by its id: "Line 12, indicators[3] (missing_now).level: ..."."""
    key = problem.key
    item = SECTION_ITEM.match(key or "")
    if item and text is not None:
        found = item_id_at(text.splitlines(), item[1], problem.line)
        if found:
            key = f"{item[0]} ({found}){key[item.end():]}"
    return PlacedProblem(problem.line, key, problem.message)


def in_file(file: str, problem) -> str:
    """A problem as the command line prints it: "FILE:LINE: key (item id): message" when it is at a
    line of the file, else "FILE: message" (a reason to refuse publishing that is about the whole draft)."""
    return problem.in_file(file) if isinstance(problem, PlacedProblem) else f"{file}: {problem}"


SECTION_ITEM = re.compile(r"^(indicators|rules|domains|severity_questions)\[\d+\]")


def item_id_at(lines: list[str], section: str, line: int) -> str | None:
    """The id of the item of a top-level list (`indicators:`...) that holds this line (1-based), when
    the item is written as people write them, starting "- id: ..."; read from the text as it is, so
    even a file that does not load (or that holds a YAML bomb) is never parsed for it."""
    start = next((n for n, row in enumerate(lines) if row.startswith(f"{section}:")), None)
    if start is None or not start < line - 1 < len(lines):
        return None
    indent = next((m[1] for row in lines[start + 1:line] if (m := re.match(r"^(\s*)- ", row))), None)
    if indent is None:
        return None
    first_line = re.compile(rf"^{indent}- id:\s*['\"]?([a-z0-9_-]+)['\"]?\s*(#.*)?$")
    for row in reversed(lines[start + 1:line]):
        if (match := first_line.match(row)):
            return match[1]
        if row.startswith(f"{indent}- ") or (row[:1].strip() and not row.startswith("#")):
            return None  # an item that does not start with its id, or the section ended
    return None


SUMMARY_PLACEHOLDER = "Describe what changed, in plain English, before publishing."


def new_draft_text(base: ThresholdVersion, base_text: str, library: Library, today: dt.date,
                   approver: str) -> str:
    """A draft copied from a version, with a new id and dates to be confirmed at publishing; never the id of
    a version in `library` or of one withdrawn from it (a version's id is never used twice)."""
    data = load_data(base_text)
    prefix = re.sub(r"-\d{4}-\d{2}(-\d+)?$", "", base.id)  # northmere-2026-12 or its second, -2
    month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    taken = {v.id for v in library.versions} | library.withdrawn
    new_id = f"{prefix}-{month:%Y-%m}"
    suffix = 2
    while new_id in taken:
        new_id, suffix = f"{prefix}-{month:%Y-%m}-{suffix}", suffix + 1
    data.update(id=new_id, effective_from=month, review_by=month.replace(year=month.year + 1),
                approved_by=approver, supersedes=base.id, summary_of_changes=SUMMARY_PLACEHOLDER)
    return dump(_ordered(data))


def _ordered(data: dict) -> dict:
    """Keep the document's header keys first, as people write them."""
    head = ("id", "title", "council", "effective_from", "review_by", "approved_by", "supersedes",
            "summary_of_changes")
    return {**{k: data[k] for k in head if k in data}, **{k: v for k, v in data.items() if k not in head}}


# Changes made through the forms ------------------------------------------------------------
# Each takes the draft's data and returns the changed data; check() then validates the result.

def find(items: list, item_id: str) -> dict:
    for item in items:
        if item.get("id") == item_id:
            return item
    raise KeyError(item_id)


def _set(item: dict, key: str, value) -> None:
    if value in (None, "", []):
        item.pop(key, None)
    else:
        item[key] = value


def parse_references(text: str) -> list[dict]:
    """One reference a line: "source id | where | note | level" (all but the source optional; the
    level is the level that source gives the concern, a whole number)."""
    refs = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        ref = {"source": parts[0]}
        if len(parts) > 1 and parts[1]:
            ref["where"] = parts[1]
        if len(parts) > 2 and parts[2]:
            ref["note"] = parts[2]
        if len(parts) > 3 and parts[3]:
            ref["level"] = int(parts[3]) if parts[3].isdigit() else parts[3]  # else the check says what is wrong
        refs.append(ref)
    return refs


def format_references(refs) -> str:
    """The references as the form shows them: what parse_references reads back, level included."""
    lines = []
    for ref in refs or []:
        ref = ref if isinstance(ref, dict) else ref.model_dump(exclude_none=True)
        parts = [ref.get("source", ""), ref.get("where") or "", ref.get("note") or "",
                 "" if ref.get("level") is None else ref["level"]]
        while parts and not parts[-1]:
            parts.pop()
        lines.append(" | ".join(str(p) for p in parts))
    return "\n".join(lines)


def edit_indicator(data: dict, indicator_id: str | None, fields: dict) -> dict:
    """Reword, move, change urgency, references or safety settings of a concern; add one when
    indicator_id is None."""
    indicators = data.setdefault("indicators", [])
    if indicator_id is None:
        item = {"id": fields["id"]}
        indicators.append(item)
    else:
        item = find(indicators, indicator_id)
    for key in ("domain", "area", "text", "hint", "level", "min_age_months", "max_age_months"):
        if key in fields:
            _set(item, key, fields[key])
    if HAS_URGENCY and "urgency" in fields:
        item.pop("immediate", None)
        _set(item, "urgency", fields["urgency"])
    for key in ("urgency_reason", "note"):
        if key in fields:
            _set(item, key, fields[key])
    for key in TELLING_FLAGS:  # written only when true, as in the files
        if key in fields:
            _set(item, key, True if fields[key] else None)
    if HAS_REFERENCES and "references" in fields:
        _set(item, "references", parse_references(fields["references"]))
    return data


def retire_indicator(data: dict, indicator_id: str) -> dict:
    """Leave a concern out of the new version (its id is never reused), and out of the rules."""
    data["indicators"] = [i for i in data.get("indicators", []) if i.get("id") != indicator_id]
    for rule in data.get("rules", []):
        when = rule.get("when") or {}
        if indicator_id in (when.get("any_indicator") or []):
            when["any_indicator"] = [i for i in when["any_indicator"] if i != indicator_id]
    return data


RULE_NUMBERS = {
    "cumulative": (("when", "min_level"), ("when", "min_count"), ("when", "min_domains"), ("raise_to",)),
    "age": (("when", "min_age_months"), ("when", "max_age_months"), ("raise_to",)),
    "consent": (("unless_level",),),
}


def edit_rule(data: dict, rule_id: str, reason: str, numbers: dict) -> dict:
    rule = find(data.get("rules", []), rule_id)
    rule["reason"] = reason
    for path in RULE_NUMBERS.get(rule.get("type"), ()):
        name = path[-1]
        if name not in numbers:
            continue
        target = rule.setdefault("when", {}) if len(path) == 2 else rule
        _set(target, name, numbers[name])
    return data


def edit_contact(data: dict, key: str, fields: dict) -> dict:
    contact = data.setdefault("contacts", {}).setdefault(key, {})
    for name in ("name", "phone", "hours", "email"):
        _set(contact, name, fields.get(name))
    return data


def edit_route(data: dict, route: str, summary: str, next_steps: list[str]) -> dict:
    info = data["routes"][route]
    info["summary"] = summary
    info["next_steps"] = next_steps
    return data


def edit_details(data: dict, fields: dict) -> dict:
    for key in ("id", "title", "approved_by", "summary_of_changes", "review_by"):
        if key in fields:
            data[key] = fields[key]
    return _ordered(data)


# Publishing --------------------------------------------------------------------------------

EFFECTIVE_RE = re.compile(r"^effective_from:.*$", re.MULTILINE)


def with_effective_date(text: str, effective: dt.date) -> str:
    """The text with its effective date set (one line changed, so comments are kept)."""
    if not EFFECTIVE_RE.search(text):
        raise PublishError(["The draft has no effective_from line at the top level."])
    return EFFECTIVE_RE.sub(f"effective_from: {effective.isoformat()}", text, count=1)


def ready_to_publish(text: str, effective: dt.date, library: Library, today: dt.date, *,
                     cases: list[LoadedCase]) -> tuple[str, ThresholdVersion]:
    """The exact text to publish and its version, or PublishError with every reason it cannot be.

    `cases` are the council's test cases (thresholds/tests): every one that applies must pass."""
    if effective < today:
        raise PublishError([DateProblem(f"The effective date must be today ({today:%-d %B %Y}) or later.")])
    final = with_effective_date(text, effective)
    try:
        version = load_text(final, DRAFT_NAME)
    except ConfigError as exc:
        raise PublishError([plain(p, final) for p in exc.problems]) from None
    problems = []
    same_id = library.by_id(version.id)
    if same_id is not None:
        problems.append(f"'{version.id}' is already published"
                        + ("" if same_id.content_hash == version.content_hash else " with different content")
                        + ": give this draft a new id.")
    problems += [plain(p, final) for p in reused_ids(version, final, library)]
    same_day = next((v for v in library.versions if v.effective_from == effective), None)
    if same_day is not None:
        problems.append(DateProblem(f"Version '{same_day.id}' already takes effect on {effective:%-d %B %Y}: "
                                    "choose another date."))
    if " ".join((version.document.summary_of_changes or "").split()) == SUMMARY_PLACEHOLDER:
        problems.append("Say what changed in summary_of_changes: it still says 'Describe what changed', and a "
                        "published version can never be edited.")
    problems += unsourced(version, library)
    # A draft copied from an older version would undo every change in a version published since it
    # was started, from its own date: staff would lose those changes without anyone deciding it.
    base = library.by_id(version.document.supersedes)
    if base is not None:
        since = [v for v in library.versions
                 if base.effective_from < v.effective_from < effective and v.id != version.id]
        if since:
            newer = max(since, key=lambda v: v.effective_from)  # the newest: the one to start from
            problems.append(f"This draft was started from '{base.id}', but '{newer.id}' (in force from "
                            f"{newer.effective_from:%-d %B %Y}) was published since: from "
                            f"{effective:%-d %B %Y} this version would undo its changes. Start a new draft "
                            f"from '{newer.id}' and make your changes there (or, if this file was copied from "
                            f"'{newer.id}', say so: supersedes: {newer.id}).")
    problems += undone_later(version, effective, library)
    problems += case_failures(cases, version, library, effective)
    if problems:
        raise PublishError(problems)
    return final, version


def undone_later(version: ThresholdVersion, effective: dt.date, library: Library) -> list[str]:
    """A version already scheduled after this one's date, started from an older version, would undo this
    one's changes on its own date without anyone deciding it (and none can have started from this one)."""
    problems = []
    for later in library.versions:
        base = library.by_id(later.document.supersedes)
        if later.effective_from > effective and later.id != version.id and (
                base is None or base.effective_from < effective):
            if later.id == version.document.supersedes:  # its own base: a later date is all it needs
                problems.append(DateProblem(
                    f"This draft was started from '{later.id}', which takes effect on "
                    f"{later.effective_from:%-d %B %Y}: choose a later date. From an earlier one, this version "
                    f"would be in force first and '{later.id}' would then undo its changes."))
                continue
            problems.append(DateProblem(
                            f"'{later.id}' is already scheduled to take effect on {later.effective_from:%-d %B %Y}, "
                            f"and was started from '{base.id if base else later.document.supersedes}', before "
                            f"this version: from {later.effective_from:%-d %B %Y} it would undo this version's "
                            f"changes. Make these changes in a draft started from '{later.id}' instead, to take "
                            f"effect after it."))
    return problems


def unsourced(version: ThresholdVersion, library: Library) -> list[str]:
    """What a version needs before it may be published, beyond loading: the version it replaces (or the
    checks against undoing published changes and reusing retired ids have nothing to compare with),
    and the published sources behind every concern and level."""
    doc = version.document
    problems = []
    if not doc.supersedes:
        problems.append("Say which published version this one replaces, as 'supersedes: <version id>' at the "
                        "top of the file: without it, nothing can check that it keeps that version's changes.")
    elif doc.supersedes in library.withdrawn:
        problems.append(f"'{doc.supersedes}', the version this draft was started from, was withdrawn, and this draft "
                        "still has its changes: start a new draft from the version in force and make there only "
                        "the changes you want.")
    elif library.by_id(doc.supersedes) is None:
        problems.append(f"'supersedes' names '{doc.supersedes}', which is not a published version: name the "
                        "version this draft was copied from.")
    if not doc.sources:
        problems.append("The draft cites no sources: every threshold change must cite the published documents "
                        "behind it. Add 'sources' (start a new draft from the version in force to copy them).")
    bare = [f"the concern '{i.id}'" for i in doc.indicators if not i.references]
    bare += [f"level {lv.number} ({lv.name})" for lv in doc.levels if not lv.references]
    if bare:
        problems.append(f"{len(bare)} concerns and levels give no references, so nothing says which published "
                        f"source puts them where they are: {', '.join(bare[:5])}"
                        + (f" and {len(bare) - 5} more." if len(bare) > 5 else "."))
    return problems


def case_failures(cases: list[LoadedCase], version: ThresholdVersion, library: Library,
                  on_date: dt.date) -> list[str]:
    """Why the version may not be published as far as the test cases go: each failing case by name."""
    run = run_applicable(cases, version, library, on_date)
    if not run.outcomes:
        return ["No test case applies to this version, so nothing shows it still sends children where the "
                "council's cases say: check that supersedes names the version it was started from."]
    return [f"Test case '{o.case.name}' fails ({Path(o.case.file).name}, line {o.case.line}): "
            + "; ".join(o.failures) + "." for o in run.failed]
