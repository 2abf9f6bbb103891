"""Input hygiene at the edge: every request's path, query, form and JSON body screened once.

A refused character in the path, a query or a field name is a 400 at once; in a form value
it becomes an error beside the field (see forms.py) and nothing from the request is stored.
"""
from __future__ import annotations

import json

from flask import Flask, g, request

from ..hygiene import bad_character, bad_in_json, describe, install_log_escaping

JSON_SCREEN_LIMIT = 1024 * 1024  # bodies larger than this are refused elsewhere (MAX_CONTENT_LENGTH)


def unsafe_fields() -> dict[str, str]:
    """Form fields of this request holding a refused character: name -> the character."""
    return g.get("unsafe_fields") or {}


def request_is_unsafe() -> bool:
    return bool(g.get("unsafe_fields")) or bool(g.get("unsafe_request"))


def _refuse(message: str, problems: list[tuple[str | None, str]] | None = None):
    from .errors import render_error
    g.unsafe_request = True
    if request.path.startswith("/api/"):
        from .api import error
        return error(400, problems or [(None, message)])
    return render_error(400, message)


def screen():
    """before_request: refuse what can never be valid; mark form fields that are not."""
    char = bad_character(request.path, allow_newlines=False)
    if char:
        return _refuse(f"The web address contains a character that is not allowed ({describe(char)}).")
    for key, value in request.args.items(multi=True):
        char = bad_character(key, allow_newlines=False) or bad_character(value, allow_newlines=False)
        if char:
            return _refuse(f"The web address contains a character that is not allowed ({describe(char)}).",
                           [(None, f"A query parameter contains a character that is not allowed ({describe(char)}).")])
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json and not request.path.startswith("/api/"):
            # Flask-WTF reads a JSON body as a form's data, so numbers, lists and objects would reach
            # fields that only ever hold text. Only the JSON API takes JSON.
            return _refuse("This page takes a form, not JSON. Go back, reload the page and try again.")
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            marked: dict[str, str] = {}
            for key, value in request.form.items(multi=True):
                char = bad_character(key, allow_newlines=False)
                if char:
                    return _refuse("The form sent a field name that is not allowed. Go back, reload the page "
                                   "and try again.")
                char = bad_character(value)
                if char and key not in marked:
                    marked[key] = char
            if marked:
                g.unsafe_fields = marked
        elif request.is_json and (request.content_length or 0) <= JSON_SCREEN_LIMIT:
            raw = request.get_data(cache=True)
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError):
                return None  # not JSON: the endpoint says so in its own words
            problems = bad_in_json(data)
            if problems:
                return _refuse("The request contains characters that are not allowed.", problems)
    return None


KEPT_FORM_LIMIT = 32 * 1024  # characters: a whole journey page is far less


def keepable_form(field_names: set[str]) -> dict[str, list[str]] | None:
    """The posted values of these fields, to keep across an idle sign-out; None if unfit to keep.

    Only the page's own fields, nothing with a refused character, and at most KEPT_FORM_LIMIT
    characters in all: anything else is not kept (the referrer types it again).
    """
    if request_is_unsafe():
        return None
    data = {key: request.form.getlist(key) for key in request.form if key in field_names}
    size = sum(len(key) + sum(len(v) for v in values) for key, values in data.items())
    return data if size <= KEPT_FORM_LIMIT else None


def init_app(app: Flask) -> None:
    app.before_request(screen)
    install_log_escaping(app.logger)
