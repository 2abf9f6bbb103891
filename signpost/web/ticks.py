"""The concern checkboxes (serious, areas, concerns pages), rendered once per threshold version.

A concern page lists dozens of checkboxes through GOV.UK Frontend's govukCheckboxes macro,
which costs most of the page's time; yet all that changes between requests is which boxes are
ticked and, on the concerns page, the severity question revealed under a box. So each group's
markup is rendered once by the real macro, with every box unticked, for a key naming exactly
what it shows (page, version hash, group and its item ids), and split where a request's state
goes in: " checked" after a box's value, the "hidden" class of its conditional reveal, and the
reveal's own HTML, and the aria-describedby that ties each group's boxes to the page's error when
it has one. Each request joins the pieces with its state: the same markup the macro
gives (tests/test_ticks.py holds every group of every page to that), at a fraction of the cost.
"""
from __future__ import annotations

from flask import current_app
from markupsafe import Markup, escape

CHECKBOXES = "govuk_frontend_jinja/components/checkboxes/macro.html"
HIDDEN = " govuk-checkboxes__conditional--hidden"
# Where a group's fieldset names the page's error (govukCheckboxes' fieldset.describedBy), once rendered.
ERROR_SLOT = "signpost-error-slot"
DESCRIBED = f' aria-describedby="{ERROR_SLOT}"'
MAX_CACHED = 1000

# One entry per (page, version hash, group index, group id, item ids, emergency ids and hint): a tuple of pieces,
# each a string, or (what, item index) for a request's state.
_cache: dict[tuple, tuple] = {}


def _item(kind: str, item, emergency: bool, emergency_hint: str) -> dict:
    entry = {"value": item.id, "text": item.text, "id": f"concerns-{item.id}"}
    if kind == "serious" and emergency:
        entry["hint"] = {"text": " ".join(filter(None, (item.hint, emergency_hint)))}
        entry["attributes"] = {"data-immediate": "true"}
    elif item.hint:
        entry["hint"] = {"text": item.hint}
    if kind == "concerns" and item.question:
        # Where the reveal goes; its second line shows how the macro indents the reveal's lines.
        entry["conditional"] = {"html": Markup(f"\x00{item.id}\n\x01")}
    return entry


def _params(kind: str, group, index: int, items: list[dict]) -> dict:
    """govukCheckboxes' parameters for one group of a page, as each page always passed them."""
    if kind == "concerns":
        return {"name": "concerns", "idPrefix": f"concerns-group-{index}", "items": items,
                "fieldset": {"legend": {"text": group.name, "classes": "govuk-fieldset__legend--m"}},
                "formGroup": {"classes": "signpost-concern-group"}}
    hidden_legend = {"legend": {"text": group.name, "classes": "govuk-visually-hidden"}}
    if kind == "areas":
        return {"name": "concerns", "idPrefix": f"concerns-{group.id}", "fieldset": hidden_legend,
                "classes": "govuk-checkboxes--small", "items": items}
    return {"name": "concerns", "idPrefix": f"concerns-group-{index}", "fieldset": hidden_legend, "items": items}


def group_params(kind: str, group, index: int, emergency_ids=(), emergency_hint: str = "",
                 described_by: str = "") -> dict:
    """The macro's parameters for a group, every box unticked (also what the tests compare with).
    emergency_hint, the words under an emergency concern, comes from the page's template;
    described_by, the id of the page's error when it has one: a screen reader reads it with each box."""
    params = _params(kind, group, index, [_item(kind, item, item.id in emergency_ids, emergency_hint)
                                          for item in group.items])
    if described_by:
        params["fieldset"] = {**params["fieldset"], "describedBy": described_by}
    return params


def _pieces(kind: str, group, index: int, emergency_ids, emergency_hint: str) -> tuple:
    params = group_params(kind, group, index, emergency_ids, emergency_hint, described_by=ERROR_SLOT)
    html = str(current_app.jinja_env.get_template(CHECKBOXES).module.govukCheckboxes(params))
    if kind == "concerns":  # journey.js reveals: no aria-expanded on a checkbox (axe)
        html = html.replace("data-aria-controls=", "data-reveals=")
    slots = []  # (start, end, what, item index): text from start to end gives way to the state
    at = html.index(DESCRIBED)
    slots.append((at, at + len(DESCRIBED), "error", None))
    for n, entry in enumerate(params["items"]):
        box = f'id="{escape(entry["id"])}" name="concerns" type="checkbox" value="{escape(entry["value"])}"'
        at = html.index(box) + len(box)
        slots.append((at, at, "checked", n))
        if "conditional" in entry:
            opening = f'<div class="govuk-checkboxes__conditional{HIDDEN}" id="conditional-{escape(entry["id"])}">'
            at = html.index(opening) + len('<div class="govuk-checkboxes__conditional')
            slots.append((at, at + len(HIDDEN), "hidden", n))
            at = html.index(f"\x00{entry['value']}\n")
            end = html.index("\x01", at) + 1
            slots.append((at, end, ("reveal", html[at + len(entry["value"]) + 2:end - 1]), n))
    pieces, last = [], 0
    for start, end, what, n in sorted(slots, key=lambda slot: slot[0]):
        pieces += [html[last:start], (what, n)]
        last = end
    pieces.append(html[last:])
    return tuple(pieces)


def _indented(html: str, prefix: str) -> str:
    """As Jinja's indent filter: every line but the first, and no empty line, gets the prefix."""
    first, *rest = html.splitlines() or [""]
    return "\n".join([first, *(prefix + line if line else line for line in rest)])


def concern_checkboxes(kind: str, version_hash: str, group, index: int, chosen, emergency_ids=(),
                       reveals=None, emergency_hint: str = "", described_by: str = "") -> Markup:
    """One group's checkboxes as govukCheckboxes renders them, with this request's ticks.

    kind is the page ("serious", "areas" or "concerns"); chosen the ticked ids; reveals, on
    the concerns page, {item id: HTML revealed under the box} (its severity question);
    described_by the id of the page's error, if it has one.
    """
    ids = tuple(item.id for item in group.items)
    key = (kind, version_hash, index, group.id, ids, tuple(sorted(emergency_ids)), emergency_hint)
    pieces = _cache.get(key)
    if pieces is None:
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        pieces = _cache[key] = _pieces(kind, group, index, emergency_ids, emergency_hint)
    chosen = set(chosen or ())
    out = []
    for piece in pieces:
        if type(piece) is str:
            out.append(piece)
            continue
        what, n = piece
        if what == "error":
            out.append(f' aria-describedby="{escape(described_by)}"' if described_by else "")
            continue
        ticked = ids[n] in chosen
        if what == "checked":
            out.append(" checked" if ticked else "")
        elif what == "hidden":
            out.append("" if ticked else HIDDEN)
        else:
            out.append(_indented(str((reveals or {}).get(ids[n], "")).strip(), what[1])
                       .replace("data-aria-controls=", "data-reveals="))
    return Markup("".join(out))
