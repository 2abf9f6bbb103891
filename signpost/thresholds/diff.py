"""What changed between two threshold versions, in words a policy lead can check.

Compares indicators (added, removed, moved level, reworded, otherwise changed), levels,
rules, routes, contacts and the sources cited by their stable ids, and the version's own references.
"""
from __future__ import annotations

import dataclasses

from .loader import ThresholdVersion


@dataclasses.dataclass
class Change:
    section: str  # "document", "indicator", "level", "domain", "area", "rule", "route", "advice", "contact",
    # "question", "source"
    kind: str  # "added", "removed", "moved", "reworded", "changed"
    id: str
    detail: str
    before: str | None = None  # the old wording or value, for a side-by-side view
    after: str | None = None

    def __str__(self) -> str:
        return f"{self.section} {self.kind}: {self.id}: {self.detail}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def diff(old: ThresholdVersion, new: ThresholdVersion) -> list[Change]:
    changes: list[Change] = []
    a, b = old.document, new.document

    old_ind, new_ind = dict(old.indicators), dict(new.indicators)
    for ind_id, ind in new_ind.items():
        if ind_id not in old_ind:
            changes.append(Change("indicator", "added", ind_id, f"level {ind.level}: {ind.text}",
                                  after=f"Level {ind.level}: {ind.text}"))
    for ind_id, ind in old_ind.items():
        if ind_id not in new_ind:
            changes.append(Change("indicator", "removed", ind_id, f"was level {ind.level}: {ind.text}",
                                  before=f"Level {ind.level}: {ind.text}"))
            continue
        now = new_ind[ind_id]
        if now.level != ind.level:
            changes.append(Change("indicator", "moved", ind_id, f"level {ind.level} -> level {now.level}",
                                  before=f"Level {ind.level}", after=f"Level {now.level}"))
        if now.text != ind.text:
            changes.append(Change("indicator", "reworded", ind_id, f"'{ind.text}' -> '{now.text}'",
                                  before=ind.text, after=now.text))
        if now.hint != ind.hint:
            changes.append(Change("indicator", "reworded", ind_id, f"hint: {_short(ind.hint)} -> {_short(now.hint)}",
                                  before=f"Hint: {ind.hint or '(none)'}", after=f"Hint: {now.hint or '(none)'}"))
        for key, kind in NAMED_INDICATOR_FIELDS.items():
            was, becomes = _words(getattr(ind, key, None)), _words(getattr(now, key, None))
            if was != becomes:
                changes.append(Change("indicator", kind, ind_id, f"{key}: {_short(was)} -> {_short(becomes)}",
                                      before=f"{key.replace('_', ' ').capitalize()}: {was or '(none)'}",
                                      after=f"{key.replace('_', ' ').capitalize()}: {becomes or '(none)'}"))
        others = _field_changes(ind.model_dump(), now.model_dump(),
                                skip={"level", "text", "hint", *NAMED_INDICATOR_FIELDS,
                                      *(("immediate",) if hasattr(ind, "urgency") else ())})
        if others:
            changes.append(Change("indicator", "changed", ind_id, others))

    for key in ("title", "council", "effective_from", "review_by", "approved_by", "supersedes",
                "summary_of_changes"):
        if getattr(a, key) != getattr(b, key):
            changes.append(Change("document", "changed", key,
                                  f"{_short(_plain(getattr(a, key)))} -> {_short(_plain(getattr(b, key)))}"))
    changes += _by_id("level", {lv.id: lv for lv in a.levels}, {lv.id: lv for lv in b.levels})
    changes += _by_id("domain", {d.id: d for d in a.domains}, {d.id: d for d in b.domains}, skip={"areas"})
    changes += _by_id("area", {ar.id: ar for d in a.domains for ar in d.areas},
                      {ar.id: ar for d in b.domains for ar in d.areas})
    changes += _by_id("question", {q.id: q for q in a.severity_questions},
                      {q.id: q for q in b.severity_questions})
    changes += _by_id("rule", {r.id: r for r in a.rules}, {r.id: r for r in b.rules})
    for route in ("universal", "early_help", "social_care"):
        before, after = getattr(a.routes, route).model_dump(), getattr(b.routes, route).model_dump()
        if before != after:
            changes.append(Change("route", "changed", route, _field_changes(before, after), *_sides(before, after)))
    # The steps shown first for a 999, a same-day or a LADO concern: the most urgent advice there is.
    for key in ("immediate_danger", "same_day", "lado"):
        before, after = getattr(a, key), getattr(b, key)
        if before != after:
            was, becomes = before.model_dump() if before else {}, after.model_dump() if after else {}
            changes.append(Change("route", "changed", key, _field_changes(was, becomes), *_sides(was, becomes)))
    if a.consent_advice != b.consent_advice:
        was, becomes = a.consent_advice.model_dump(), b.consent_advice.model_dump()
        changes.append(Change("advice", "changed", "consent_advice", _field_changes(was, becomes),
                              *_sides(was, becomes)))
    # What the file cites: a policy lead approving a version checks its sources as well as its words.
    changes += _by_id("source", {src.id: src for src in a.sources}, {src.id: src for src in b.sources})
    if a.references != b.references:
        added = [r for r in b.references if r not in a.references]
        dropped = [r for r in a.references if r not in b.references]
        changes.append(Change("document", "references changed", "references",
                              "; ".join(part for part in (added and f"added: {_short(_words(added))}",
                                                          dropped and f"removed: {_short(_words(dropped))}") if part),
                              _words(dropped) or None, _words(added) or None))
    before, after = a.contacts.model_dump(), b.contacts.model_dump()
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changes.append(Change("contact", "changed", key, _field_changes(before.get(key) or {},
                                                                             after.get(key) or {})))
    return changes


# Fields of a concern a policy lead checks one by one (present once the schema has them).
NAMED_INDICATOR_FIELDS = {"urgency": "urgency changed", "urgency_reason": "urgency changed",
                          "references": "references changed", "note": "note changed",
                          "lado": "changed", "must_tell_council": "changed", "family_not_told": "changed"}


def _words(value) -> str:
    """A field's value as words: references as "source (where)", lists joined, None as ''."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_words(v) for v in value)
    if hasattr(value, "model_dump"):
        data = value.model_dump(exclude_none=True)
        if "source" in data:
            extra = ", ".join(str(data[k]) for k in ("where", "level", "note") if k in data)
            return f"{data['source']}" + (f" ({extra})" if extra else "")
        return ", ".join(f"{k}: {v}" for k, v in data.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _by_id(section: str, old: dict, new: dict, skip: set[str] = frozenset()) -> list[Change]:
    changes = []
    for key, item in new.items():
        if key not in old:
            changes.append(Change(section, "added", key, _describe(item)))
    for key, item in old.items():
        if key not in new:
            changes.append(Change(section, "removed", key, _describe(item)))
        else:
            fields = _field_changes(item.model_dump(), new[key].model_dump(), skip=skip)
            if fields:
                changes.append(Change(section, "changed", key, fields,
                                      *_sides(item.model_dump(), new[key].model_dump(), skip=skip)))
    return changes


def _describe(item) -> str:
    for attr in ("reason", "name", "text", "title"):
        if getattr(item, attr, None):
            return getattr(item, attr)
    return ""


def _changed(before: dict, after: dict, skip: set[str] = frozenset(), prefix: str = ""):
    """(name, old, new) for each changed field; nested sets of keys by their own fields."""
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key in skip or old == new:
            continue
        name = f"{prefix}{key}"
        if isinstance(old, dict) and isinstance(new, dict):
            yield from _changed(old, new, prefix=f"{name}.")
        else:
            yield name, old, new


def _field_changes(before: dict, after: dict, skip: set[str] = frozenset()) -> str:
    """Each changed field; lists of words by what was added or removed."""
    parts = []
    for name, old, new in _changed(before, after, skip):
        if isinstance(old, list) and isinstance(new, list) and all(isinstance(x, (str, int)) for x in old + new):
            added = [x for x in new if x not in old]
            removed = [x for x in old if x not in new]
            words = ([f"added {_short(added)}"] if added else []) + ([f"removed {_short(removed)}"] if removed else [])
            parts.append(f"{name}: " + (", ".join(words) or "reordered"))
        else:
            parts.append(f"{name}: {_short(old)} -> {_short(new)}")
    return "; ".join(parts)


def _sides(before: dict, after: dict, skip: set[str] = frozenset()) -> tuple[str, str]:
    """The changed fields' full wording, before and after, for the side-by-side view (the detail is cut
    short): a list shows what it lost on one side and what it gained on the other."""
    was, becomes = [], []
    for name, old, new in _changed(before, after, skip):
        if isinstance(old, list) and isinstance(new, list):
            gone, added = [x for x in old if x not in new], [x for x in new if x not in old]
            was.append(f"{name}: " + (" | ".join(map(str, gone)) if gone else "(nothing removed)"))
            becomes.append(f"{name}: " + (" | ".join(map(str, added)) if added else "(nothing added)"))
        else:
            was.append(f"{name}: {_plain(old) if old is not None else '(none)'}")
            becomes.append(f"{name}: {_plain(new) if new is not None else '(none)'}")
    return "\n".join(was), "\n".join(becomes)


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _short(value) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 200 else text[:197] + "..."
