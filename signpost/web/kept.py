"""Forms sent after an idle sign-out: what a kept page was sending is stored server-side (never in the
cookie, a URL or a log) and shown again, filled in, once, after its user signs in again.

A page opts in with @keeps(endpoint): its function finds, for the user and the request, the record the
form belongs to (a referrer's draft, or a front door item), the key it is kept under and the page's
form. Only that form's own fields are kept, and only from a request with a valid CSRF token, nothing
refused and at most hygiene.KEPT_FORM_LIMIT characters; the store writes them with the sign-out.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from .. import store
from ..models import User

# endpoint -> (user -> (record, page key, the page's form) or None)
_PAGES: dict[str, Callable[[User], tuple[Any, str, Any] | None]] = {}


def keeps(*endpoints: str):
    """Register the function that finds what a form posted to these endpoints belongs to."""
    def register(find):
        for endpoint in endpoints:
            _PAGES[endpoint] = find
        return find
    return register


def unsent_form(user: User) -> tuple | None:
    """Just before an idle sign-out: (record, page, data) for what a kept page was sending, or None."""
    from flask_wtf.csrf import ValidationError as CSRFError, validate_csrf

    from .hygiene import keepable_form
    find = _PAGES.get(request.endpoint)
    if find is None:
        return None
    try:
        validate_csrf(request.form.get("csrf_token"))
    except CSRFError:
        return None
    try:  # only a real page of a record of this user's, and only that page's own fields
        found = find(user)
    except HTTPException:
        return None
    if found is None:
        return None
    record, page, form = found
    data = keepable_form({field.name for field in form if field.type != "CSRFTokenField"})
    return (record, page, data) if data is not None else None


def take_kept_form(record, page: str, user: User) -> MultiDict | None:
    """The form kept for this record's page (a front door item's: this user's), removed as it is
    taken: shown once. The caller takes it on GET only (a HEAD request must not use it up)."""
    kept = store.take_unsent_form(record, page, actor=user)
    if kept is None:
        return None
    return MultiDict([(key, value) for key, values in kept.items() for value in values])
