"""Error pages (400, 403, 404, 405, 413, 429, 500, 503) in the service's own style.

Under /api/ the same errors answer in JSON. A CSRF failure is a 400 page that says why.
A database that cannot be reached is a 503 page rendered without touching the database
(no user loaded from it), still with the 999 and front door numbers and every header.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..store import UnsafeInput
from .hygiene import request_is_unsafe

log = logging.getLogger("signpost.errors")

bp = Blueprint("errors", __name__)

PAGES = {
    400: ("There is a problem with your request",
          "Something in the request was not right. Go back, check what you entered and try again."),
    403: ("You do not have permission to see this page",
          "Your account does not give you access to this page. If you think it should, ask your "
          "administrator."),
    404: ("Page not found",
          "If you typed the web address, check it is correct. If you pasted the web address, check you "
          "copied the entire address."),
    405: ("There is a problem with your request",
          "This page cannot be used that way. Go back and try again."),
    413: ("The file or form is too large",  # render_error puts in the limit
          "What you sent is larger than {limit}, the most this service accepts. Go back and check it is the "
          "right file. Nothing you had saved has been lost."),
    429: ("Too many attempts",
          "There have been too many attempts. Wait a few minutes, then try again."),
    500: ("Sorry, there is a problem with the service",
          "Try again later. Nothing you had saved has been lost."),
    503: ("Sorry, the service is unavailable",
          "Try again later. If a child is in immediate danger, call 999."),
}


def render_error(code: int, message: str | None = None):
    title, default = PAGES.get(code, PAGES[500])
    default = default.format(limit=size_limit()) if code == 413 else default  # the one page with a figure
    if request.path.startswith("/api/"):
        from .api import error as api_error  # the API's one error shape (see its OpenAPI document)
        return api_error(code, [(None, message or title)]), code
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def size_limit() -> str:
    """The one limit on what a browser may send (MAX_CONTENT_LENGTH), in words: "1 MB"."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{max(limit // 1024, 1)} KB"


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    return render_error(400, "The form had expired or was not sent from this service. Go back, reload "
                             "the page and try again. Nothing you had saved has been lost.")


UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
UNSAFE_INPUT = ("Something you entered contains a character that is not allowed (such as a hidden or "
                "control character). Go back, remove it and try again.")


def _without_the_database() -> None:
    """Render what follows without reading the database: roll back, and no user is loaded now."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass
    if "_login_user" not in g:  # Flask-Login has not loaded the user: do not try now
        from ..extensions import login_manager
        g._login_user = login_manager.anonymous_user()


@bp.app_errorhandler(SQLAlchemyError)
def database_error(error: SQLAlchemyError):
    if isinstance(error, UNREACHABLE) or isinstance(getattr(error, "orig", None), OSError):
        log.error("database unreachable: %s", type(error).__name__)
        _without_the_database()
        return render_error(503)
    if request_is_unsafe():  # e.g. PostgreSQL refusing a NUL that a view passed on unchecked
        _without_the_database()
        return render_error(400, UNSAFE_INPUT)
    current_app.log_exception(error)
    _without_the_database()
    return render_error(500)


@bp.app_errorhandler(UnsafeInput)
def unsafe_input(error: UnsafeInput):
    """The store's backstop refused a request with refused characters (a view with no form to
    show the error beside a field): nothing was saved; say so plainly."""
    return render_error(400, UNSAFE_INPUT)


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    code = error.code or 500
    if code == 403:
        from .security import audit_denial
        audit_denial(403)
    if request.path.startswith("/api/"):
        from .api import json_error_for
        return json_error_for(error)
    if code not in PAGES:
        return error
    body, status = render_error(code)
    response = make_response(body, status)
    for header in ("Retry-After", "Allow"):  # keep what the original error said
        value = error.get_response().headers.get(header)
        if value:
            response.headers[header] = value
    return response


@bp.app_errorhandler(500)
def server_error(error):
    _without_the_database()
    return render_error(500)
