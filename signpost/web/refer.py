"""The start page for every signed-in user, and the threshold document in force, readable.

Referrers start (or carry on) a referral journey from here; the journey is in journey.py.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, session
from flask_login import current_user

from ..content import current_version_or_none

bp = Blueprint("refer", __name__)


@bp.get("/")
def start():
    version = current_version_or_none()
    if version is None:
        abort(503)
    drafts, current = [], None
    if current_user.role == "referrer":
        from .journey import current_draft, saved_drafts
        drafts = saved_drafts()
        current = current_draft() or (drafts[0] if drafts else None)
        if current is None and session.get("draft_id"):
            session.pop("draft_id", None)
    from .journey import describe_draft as describe
    return render_template("refer/start.html", version=version, doc=version.document, drafts=drafts,
                           current=current, describe=describe)


@bp.get("/thresholds")
def thresholds():
    """The old address of the threshold document, kept for bookmarks: it serves the guide."""
    from .guide import index
    return index()
