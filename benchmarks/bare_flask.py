"""The baseline for benchmarks/http.py: a bare Flask app rendering Signpost's own base template.

No database, no sessions, no extensions: the same layout (header, danger banner with the front
door's numbers, footer) around a heading and a paragraph, with what the layout needs stubbed.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from flask import Flask, render_template
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader, PackageLoader, PrefixLoader
from markupsafe import Markup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signpost.thresholds import load_library  # noqa: E402  (no Flask, no database)

app = Flask(__name__, static_folder=str(ROOT / "signpost" / "static"), template_folder=str(ROOT / "templates"))
app.jinja_loader = ChoiceLoader([FileSystemLoader(app.template_folder),
                                 PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})])
app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
VERSION = load_library(ROOT / "thresholds").in_force(dt.date.today())


class Anonymous:
    is_authenticated = False


def _nothing():
    return ""


# Filters Signpost's other templates use. gunicorn.conf.py compiles every template in the folder
# before forking (when_ready), and Jinja refuses an unknown filter when it compiles: without these
# the baseline would not start. The bare page itself uses neither.
app.jinja_env.filters.update(long_date=str, uk_time=lambda value, fmt="": str(value))

# The endpoints the layout links to, so url_for() works as it does in Signpost.
for rule, endpoint in (("/", "refer.start"), ("/sign-out", "auth.sign_out"), ("/sign-in", "auth.sign_in"),
                       ("/static/govuk-frontend/<path:filename>", "govuk_frontend.static")):
    app.add_url_rule(rule, endpoint, _nothing)


@app.context_processor
def context():
    return {"cspNonce": "", "council_name": VERSION.document.council, "threshold_version": VERSION,
            "contacts": VERSION.document.contacts, "navigation": [], "current_user": Anonymous(),
            "asset_url": lambda name: f"/static/{name}", "csrf_field": lambda: Markup(""),
            "govuk_asset": lambda name: f"/static/govuk-frontend/{name}"}


PAGE = """{% extends "base.html" %}{% block page %}<h1 class="govuk-heading-l">Bare Flask</h1>
<p class="govuk-body">The same layout, nothing else.</p>{% endblock %}"""
# A template like any other, compiled once and cached as Flask caches every template (render_template_string
# would compile it again on every request: a baseline 2.4 times slower than a real bare app).
app.jinja_loader.loaders.insert(0, DictLoader({"bare_page.html": PAGE}))


@app.get("/page")
def page():
    return render_template("bare_page.html")
