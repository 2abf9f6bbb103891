"""The web layer: blueprints, templates, sign-in sessions and the GOV.UK Frontend assets.

init_web(app) wires everything; each blueprint lives in its own module here.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Flask, current_app, g, has_request_context, render_template, request, session, url_for
from flask_login import current_user
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from ..extensions import csrf, db, limiter, login_manager
from ..values import MAX_ID, ROLES
from . import forms, security, ticks
from .templating import FastImports

# The navigation, by role. An entry shows only when its endpoint exists, so a blueprint
# still to come (front door, policy) appears here as soon as it is registered.
ALL_ROLES = ROLES
NAVIGATION = [
    # (endpoint, text, roles allowed to see it)
    ("refer.start", "Start", ALL_ROLES),
    ("journey.my_referrals", "My referrals", ("referrer",)),
    ("guide.index", "Thresholds", ALL_ROLES),
    ("frontdoor.index", "Front door", ("front_door", "admin")),
    ("frontdoor.export", "Export decisions", ("policy_lead",)),
    ("policy.index", "Policy", ("policy_lead", "admin")),
    ("reports.index", "Reports", ("policy_lead", "front_door", "admin")),
    ("admin.users", "Admin", ("admin",)),
]


def init_web(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(app.template_folder),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    app.jinja_env.template_class = FastImports  # before any template is loaded
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None
    login_manager.user_loader(_load_user)
    security.init_app(app)  # before CSRFProtect: see security.init_app
    csrf.init_app(app)
    limiter.init_app(app)

    _govuk_frontend(app)

    app.url_map.converters["int"] = RecordId  # before any route is added
    from . import admin, api, auth, errors, frontdoor, guide, health, journey, policy, refer, reports
    for module in (health, auth, refer, journey, frontdoor, admin, api, errors, guide, policy, reports):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)  # stateless JSON for other systems: no session, so nothing to forge

    app.context_processor(_template_context)
    app.jinja_env.globals["url_for"] = template_url_for
    app.add_template_global(ticks.concern_checkboxes)
    app.add_template_global(security.shown_again_at)  # the timeout warning's Sign in again (base.html)
    app.add_template_global(timeout_notice)
    forms.init_app(app)


class RecordId(IntegerConverter):
    """Every route's <int:...>: a number a record's id can be (up to values.MAX_ID). A longer one
    matches no route, so it is the 404 page, not a query the database refuses (a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _load_user(user_key: str):
    """The session holds "id:session_version"; an old version (signed out, disabled) is no one.

    The draft this request is about (security.draft_in_hand) is loaded with the user, in the same
    query, if it is theirs: the journey's pages then find it in the session without another."""
    from ..database import user_with_draft
    try:
        raw_id, raw_version = user_key.split(":", 1)
        user, g.draft_with_user = user_with_draft(int(raw_id), _draft_to_load())
        version = int(raw_version)
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _draft_to_load() -> str | None:
    """The draft to load with the user: the one this request is about, if its form can be read.
    A body that cannot (too large) is answered by an error page, which loads the user too: then the
    session's draft, so the page is the 413 it should be, not the same error again inside it."""
    try:
        return security.draft_in_hand()
    except HTTPException:
        return session.get("draft_id")


def _govuk_frontend(app: Flask) -> None:
    """Serve GOV.UK Frontend's dist/govuk from node_modules under a versioned /static path."""
    folder = Path(app.config["GOVUK_FRONTEND_DIR"])
    version = "missing"
    package = folder.parent.parent / "package.json"
    try:
        version = json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        app.logger.warning("GOV.UK Frontend not found at %s: run `npm ci` (make run does)", folder)
    app.config["GOVUK_FRONTEND_VERSION"] = version
    bp = Blueprint("govuk_frontend", __name__, static_folder=str(folder),
                   static_url_path=f"/static/govuk-frontend/{version}")
    app.register_blueprint(bp)


_hashes: dict[str, str] = {}


def _fixed_url(endpoint: str, **values) -> str:
    """url_for for an address that cannot change while the app runs (a static file's, a section's):
    worked out once per app and script root, not on every page."""
    if not has_request_context():  # a template rendered outside a request: Flask's own rules
        return url_for(endpoint, **values)
    urls = current_app.extensions.setdefault("signpost_fixed_urls", {})
    key = (request.script_root, endpoint, *((name, type(value), value) for name, value in values.items()))
    url = urls.get(key)
    if url is None:
        url = urls[key] = url_for(endpoint, **values)
    return url


def template_url_for(endpoint: str, **values) -> str:
    """Templates' url_for: an address with no parameters (a section, "Start again") is the same on
    every page, so it is built once; any other is built by Flask as usual."""
    if values:
        return url_for(endpoint, **values)
    return fixed_url(endpoint)


def fixed_url(endpoint: str, **values) -> str:
    """url_for for an address that depends only on the endpoint and these values (a journey page's
    own, a section's), built once rather than on every page; by Flask as usual if the app has URL
    defaults that could change it, or for a blueprint-relative endpoint."""
    if endpoint.startswith(".") or any(current_app.url_default_functions.values()):
        return url_for(endpoint, **values)
    return _fixed_url(endpoint, **values)


def timeout_notice() -> Markup:
    """The timeout warning's notice for the top of every signed-in page (base.html): it depends only on the
    app's settings, so it is rendered once per app, not on every page (in debug mode, every time)."""
    notice = current_app.extensions.get("signpost_timeout_notice")
    if notice is None or current_app.debug:
        notice = current_app.extensions["signpost_timeout_notice"] = Markup(render_template("_timeout_notice.html"))
    return notice


def asset_url(filename: str) -> str:
    """A URL for one of our own static files, with its content hash so it can be cached forever.

    Outside debug mode the files do not change while the service runs, so the hash is read once;
    in debug mode the file's modification time is checked on every call.
    """
    if not current_app.debug:
        hashes = current_app.extensions.setdefault("signpost_asset_hashes", {})
        if filename not in hashes:
            hashes[filename] = _hash_of(filename)
        return _fixed_url("static", filename=filename, v=hashes[filename])
    return url_for("static", filename=filename, v=_hash_of(filename))


def _hash_of(filename: str) -> str:
    path = Path(current_app.static_folder) / filename
    key = f"{path}:{path.stat().st_mtime_ns if path.exists() else 0}"
    if key not in _hashes:
        _hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.exists() else "0"
    return _hashes[key]


def govuk_asset(filename: str) -> str:
    return _fixed_url("govuk_frontend.static", filename=filename)


def navigation() -> list[dict]:
    user = current_user._get_current_object()
    if not user.is_authenticated or user.must_change_password:  # every section is closed to them until then
        return []
    items = []
    for endpoint, text, roles in NAVIGATION:
        if user.role in roles and endpoint in current_app.view_functions:
            # A section is current for any page of its blueprint; "refer" and "journey" hold several.
            blueprint = endpoint.split(".", 1)[0]
            same_section = request.endpoint == endpoint or (
                request.blueprint == blueprint and blueprint not in ("refer", "journey"))
            items.append({"href": _fixed_url(endpoint), "text": text, "active": same_section})
    return items


def _template_context() -> dict:
    from ..content import current_contacts, current_version_or_none
    version = current_version_or_none()
    council = current_app.config.get("COUNCIL_NAME") or (version.document.council if version else "")
    return {
        "cspNonce": g.get("csp_nonce", ""),
        "council_name": council or "Signpost",
        "threshold_version": version,
        "contacts": version.document.contacts if version else current_contacts(),
        "navigation": navigation(),
        "asset_url": asset_url,
        "govuk_asset": govuk_asset,
    }
