"""Deny by default, role checks, idle timeout and the security headers on every response.

An endpoint is reachable without signing in only if it is in PUBLIC_ENDPOINTS (or api.*).
"""
from __future__ import annotations

import functools
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

# Reachable without a session. Keep this list short; add to it only with a reason.
PUBLIC_ENDPOINTS = frozenset({
    "static",                  # our CSS, icons
    "govuk_frontend.static",   # GOV.UK Frontend CSS and JS from node_modules
    "auth.sign_in",
    "health.healthz",
})
# All a user whose password someone else set (User.must_change_password) may reach until they change it.
# (and the idle-timeout warning's Stay signed in, so that page does not say they were signed out).
MUST_CHANGE_PASSWORD_ENDPOINTS = frozenset({"auth.change_password", "auth.sign_out", "auth.stay_signed_in"})
# Blueprints with their own access rules (the JSON API is stateless and rate limited).
PUBLIC_BLUEPRINTS = frozenset({"api"})
# Endpoints that must not touch the session cookie (so they cache and never refresh idle time).
SESSIONLESS_ENDPOINTS = frozenset({"static", "govuk_frontend.static", "health.healthz"})
# The time of last activity is written to the session cookie at most this often, so most pages
# leave the cookie as it is (no re-signing, no Set-Cookie). The idle limit allows for it: a
# session ends after between SESSION_IDLE_MINUTES and that plus these seconds of inactivity.
LAST_SEEN_EVERY = 30
# Forms posted to an action of their own, whose page is another address with the same parts: after
# signing in, the user goes back to that page (where a form kept at an idle sign-out waits).
FORM_PAGES = {"frontdoor.decide": "frontdoor.item"}


def is_public(endpoint: str | None) -> bool:
    if endpoint is None:  # no route matched: the 404 page is public
        return True
    return endpoint in PUBLIC_ENDPOINTS or endpoint.split(".", 1)[0] in PUBLIC_BLUEPRINTS


def role_required(*roles: str):
    """Allow only these roles (the user is already signed in: deny-by-default saw to that)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.sign_in"))
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        wrapped.allowed_roles = roles
        return wrapped
    return decorator


def audit_denial(status: int, record=None, **detail) -> None:
    """Record an access denial: who tried what (never fails the response it belongs to)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..hygiene import escape
    from ..store.access import record_denial
    user = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        record_denial(user, status, method=request.method, path=escape(request.path)[:200],
                      endpoint=request.endpoint, record=record, **detail)
    except SQLAlchemyError:
        current_app.logger.exception("could not record an access denial")


def abort_not_yours(record, **detail):
    """A record that exists but is not this user's: audited, then the same 404 as a missing one.

    Call it wherever a view finds a record by an id the user sent and checks its owner, so a
    referrer changing a reference or a draft id learns nothing and leaves a trace.
    """
    audit_denial(404, record, **detail)
    abort(404)


def audited_not_found(record_type: str, record_id, reason: str):
    """A 404 for a record that does not exist, with the attempt in the audit trail: guessing ids or
    references leaves a trace, as reaching for someone else's does (abort_not_yours)."""
    audit_denial(404, record_type=record_type, record_id=str(record_id)[:64], reason=reason)
    abort(404)


def safe_return_path(path: str | None) -> str | None:
    """Only a path on this site (never another host) is a place to return to."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    return path


def remember_return_path(draft_id: str | None = None) -> None:
    """Where to send the user once they have signed in: the page, and the draft it was about.

    Signing out clears the session, and with it the draft the referrer was on; its id (a random
    key, nothing about the child) is kept here so that they carry on with that draft, not
    another. Sign-in keeps it only if it is the signing-in user's own (journey.carry_on_with).
    """
    path = shown_again_at()
    if path:
        session["return_to"] = path
    else:
        session.pop("return_to", None)
    if draft_id:
        session["return_draft"] = draft_id[:64]


def shown_again_at() -> str | None:
    """The address that shows this request's page again, if it has one.

    A form posted to an action that only takes a POST (finish, start a new referral) has none:
    sent there after signing in, the browser's GET would be 'Page not found'. The start page,
    which offers the draft carried on with, is then where sign-in goes; unless FORM_PAGES names
    the form's page (a front door decision: the item).
    """
    rule = request.url_rule
    if request.method == "POST" and request.endpoint in FORM_PAGES:  # with the form's query, as a GET has it
        page = url_for(FORM_PAGES[request.endpoint], **(request.view_args or {}))
        return safe_return_path(f"{page}?{request.query_string.decode()}" if request.query_string else page)
    if rule is None or "GET" not in (rule.methods or ()):
        return None
    if request.method == "GET":
        return safe_return_path(request.full_path.rstrip("?") if request.query_string else request.path)
    return safe_return_path(request.path)  # a form's page shows the form again on GET


def draft_in_hand() -> str | None:
    """The draft this request is about: the one its form names, else the session's."""
    named = request.form.get("draft_id") if request.method == "POST" else None
    return named or session.get("draft_id")


def _nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(18)


def _idle_and_access():
    endpoint = request.endpoint
    if endpoint in SESSIONLESS_ENDPOINTS or (endpoint or "").split(".", 1)[0] in PUBLIC_BLUEPRINTS:
        return None
    now = int(time.time())
    if current_user.is_authenticated:
        idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
        last_seen = session.get("last_seen", 0)
        started = session.get("signed_in_at", now)
        too_old = now - started > current_app.config["SESSION_MAX_HOURS"] * 3600
        if now - last_seen > idle + LAST_SEEN_EVERY or too_old:
            from .. import store
            user = current_user._get_current_object()
            on_draft = draft_in_hand()
            kept = None
            if request.method == "POST":
                # What the user was sending is kept (server-side) and shown again after sign-in.
                from .kept import unsent_form
                kept = unsent_form(user)
            store.record_sign_out(user, reason="idle" if not too_old else "session_too_old", kept_form=kept)
            logout_user()
            session.clear()
            remember_return_path(on_draft)
            why = (f"had been signed in for {current_app.config['SESSION_MAX_HOURS']} hours" if too_old else
                   f"had not done anything for {current_app.config['SESSION_IDLE_MINUTES']} minutes")
            flash(f"You were signed out because you {why}. Nothing you saved is lost: "
                  f"sign in to carry on where you were.", "info")
            return redirect(url_for("auth.sign_in"))
        if now - last_seen >= LAST_SEEN_EVERY:
            session["last_seen"] = now
        # For the timeout warning (base.html): the session ends this many seconds from now, in use or not.
        g.session_left = max(0, started + current_app.config["SESSION_MAX_HOURS"] * 3600 - now)
        if current_user.must_change_password:
            if current_user.temporary_password_expired(current_app.config["TEMPORARY_PASSWORD_DAYS"]):
                return _end_expired_temporary_session(current_user._get_current_object())
            if endpoint not in MUST_CHANGE_PASSWORD_ENDPOINTS:
                return redirect(url_for("auth.change_password"))
        return None
    if not is_public(endpoint):
        remember_return_path(draft_in_hand())
        return redirect(url_for("auth.sign_in"))
    return None


def _end_expired_temporary_session(user):
    """A session begun with a temporary password does not outlive it: once it has expired it is
    signed out (not sent to change it: the expired password would still choose the next one), as
    sign-in refuses it."""
    from .. import store
    store.record_sign_out(user, reason="temporary_password_expired")
    logout_user()
    session.clear()
    flash("Your temporary password has expired, so you have been signed out. Ask an administrator for a "
          "new one.", "info")
    return redirect(url_for("auth.sign_in"))


def _headers(response):
    nonce = g.get("csp_nonce", "")
    script_src = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    response.headers["Content-Security-Policy"] = "; ".join([
        "default-src 'self'",
        f"script-src {script_src}",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Same-origin: a browser tells this site which of its pages a form came from, and no other site
    # anything. Flask-WTF's CSRF check over HTTPS (WTF_CSRF_SSL_STRICT) refuses a form without
    # that Referer; with no-referrer, no form could be sent behind an HTTPS proxy, sign-in included.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    versioned = request.endpoint == "govuk_frontend.static" or (
        request.endpoint == "static" and "v" in request.args)
    if versioned and response.status_code in (200, 304):
        # Every asset URL carries a version (or content hash), so it can be kept for a year.
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def init_app(app: Flask) -> None:
    # Registered before CSRFProtect, so an anonymous POST is sent to sign in, not shown a 400.
    from . import hygiene
    app.before_request(_nonce)
    hygiene.init_app(app)  # refused characters are screened before anything reads the request
    app.before_request(_idle_and_access)
    app.after_request(_headers)
