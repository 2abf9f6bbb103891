"""A referrer walking the journey through the Flask test client, for the benchmarks.

Follows the redirects page by page, answering each from a target (age, concerns, consent),
the way a referrer who knows their concerns would: it opens only the groups of serious
concerns that hold one of theirs, and ticks only their areas. Counts what it reads.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
import tempfile
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A script in this folder has the folder first on sys.path, where benchmarks/http.py would
# stand in for the standard library's `http` (imported by werkzeug): take the folder off
# before importing Flask. This module is already loaded; the scripts import it first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from signpost import create_app, journey, store  # noqa: E402
from signpost.extensions import db  # noqa: E402

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CONCERN_PAGES = ("/refer/serious", "/refer/areas", "/refer/concerns")


def make_app():
    """The app on a new temporary SQLite database (the `make run` default), with one referrer."""
    folder = tempfile.mkdtemp()
    app = create_app({"SECRET_KEY": "bench-" + "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/b.db",
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
                      "RATELIMIT_ENABLED": False,
                      # One referrer walks hundreds of journeys, each left open at its recommendation.
                      "MAX_OPEN_DRAFTS": 1_000_000})
    return app


@dataclasses.dataclass(frozen=True)
class Target:
    """What the referrer will answer."""

    indicators: frozenset[str] = frozenset()
    age_months: int | None = 108
    unborn: bool = False
    consent: str = "given"
    in_danger: bool = False


class LabelCounter(HTMLParser):
    """Checkbox and radio labels a referrer reads on a concerns page.

    A closed group of serious concerns (<details>) costs its heading only, unless the
    referrer opens it (it holds one of their concerns); a severity question beside a concern
    (a conditional reveal) is read only when that concern is ticked.
    """

    def __init__(self, open_groups: set[str], ticked: set[str]):
        super().__init__()
        self.open_groups, self.ticked = open_groups, ticked
        self.count = 0
        self.hidden_depth = 0  # >0 inside a closed group or an unrevealed question
        self.stack: list[bool] = []  # for each open div/details: did it start hiding?
        self.in_summary = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = attrs.get("class") or ""
        if tag in ("details", "div"):
            hides = False
            if tag == "details" and attrs.get("data-group") not in self.open_groups:
                hides = True
            if "govuk-checkboxes__conditional" in classes:
                owner = attrs.get("id", "").removeprefix("conditional-")
                hides = not any(owner == f"concerns-{t}" for t in self.ticked)
            self.stack.append(hides)
            self.hidden_depth += hides
        elif tag == "span" and "govuk-details__summary-text" in classes:
            self.count += 1  # a group's heading is read whether opened or not
        elif tag == "label" and ("govuk-checkboxes__label" in classes or "govuk-radios__label" in classes):
            if not self.hidden_depth:
                self.count += 1

    def handle_endtag(self, tag):
        if tag in ("details", "div") and self.stack:
            self.hidden_depth -= self.stack.pop()


@dataclasses.dataclass
class Walk:
    pages: list[str] = dataclasses.field(default_factory=list)
    labels: int = 0
    route: str | None = None
    level: int | None = None
    reasons: list[str] = dataclasses.field(default_factory=list)


class Referrer:
    """One signed-in referrer; `hook(method, path, seconds)` sees every request."""

    def __init__(self, app, email="bench@example.org", hook: Callable | None = None):
        self.app = app
        with app.app_context():
            user = store.find_user(email) or store.create_user(email, "Bench", "referrer", "x" * 16, actor="bench")
            self.user_id = user.id
        self.client = app.test_client()
        with app.app_context():
            user = db.session.get(type(user), self.user_id)
            with self.client.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["last_seen"] = session["signed_in_at"] = int(time.time())
        self.hook = hook or (lambda *args: None)
        self.token = TOKEN.search(self.request("GET", "/").text).group(1)

    def request(self, method, path, data=None):
        start = time.perf_counter()
        response = self.client.open(path, method=method, data=data)
        self.hook(method, path.split("?")[0], time.perf_counter() - start)
        return response

    def post(self, path, data, draft_id):
        response = self.request("POST", path, {"csrf_token": self.token, "draft_id": draft_id, **data})
        assert response.status_code == 302, (path, response.status_code)
        return response.location

    def walk(self, version, target: Target, finish: bool = False) -> Walk:
        """From Start now to the recommendation (or the phone page), counting pages and labels."""
        out = Walk()
        location = self.request("POST", "/refer/new", {"csrf_token": self.token}).location
        with self.client.session_transaction() as session:
            draft_id = session["draft_id"]
        wanted = None
        while True:
            page = self.request("GET", location)
            assert page.status_code == 200, (location, page.status_code)
            out.pages.append(location)
            if location == "/refer/recommendation":
                break
            if location == "/refer/phone-now":  # the recommendation, on the emergency path
                lado = sorted(target.indicators & {i.id for i in journey.lado_items(version)})
                if lado:  # then, after the phone numbers, the referrer's words and the LADO (not counted)
                    self.request("GET", "/refer/what-happened")
                    self.post("/refer/what-happened", {"what_happened": "What I saw", "lado": lado}, draft_id)
                break
            if location == "/refer/danger":
                data = {"in_danger": "yes" if target.in_danger else "no"}
            elif location == "/refer/about-you":
                data = {"role": "dsl", "organisation": "school"}
            elif location == "/refer/about-child":
                if target.unborn:
                    due = dt.date.today() + dt.timedelta(days=90)
                    data = {"born": "unborn", "due_day": due.day, "due_month": due.month, "due_year": due.year}
                else:
                    data = {"born": "born", "years": target.age_months // 12, "months": target.age_months % 12}
            elif location in CONCERN_PAGES:
                if wanted is None:
                    with self.app.app_context():
                        from signpost.models import Draft
                        answers = journey.JourneyAnswers.load(db.session.get(Draft, draft_id).answers)
                    wanted = journey.with_concerns(version, answers, target.indicators)
                key = location.removeprefix("/refer/")
                ticks = getattr(wanted, key)
                ticked = set(ticks.ticked) if ticks else set()
                plan = journey.layout(version, wanted)
                groups = {g.id for g in (plan.serious if key == "serious" else plan.areas)
                          if ticked & {i.id for i in g.items}}
                counter = LabelCounter(groups, ticked)
                counter.feed(page.text)
                out.labels += counter.count
                data = {"concerns": sorted(ticked) or ["none"]}
                if key == "concerns":
                    data.update({f"severity_{q}": i for q, i in wanted.severity.items()})
            elif location == "/refer/what-happened":
                data = {"what_happened": "What I saw and was told", "seen": "yes", "says": "Words",
                        "wants": "To be safe"}
            elif location == "/refer/family":
                data = {"working_well": "Attends", "aware": "yes", "consent": target.consent,
                        "reason": "" if target.consent in ("given", "not_asked") else "They said so"}
            elif location == "/refer/check":
                data = {}
            else:
                raise AssertionError(f"unexpected page {location}")
            location = self.post(location, data, draft_id)
        with self.app.app_context():
            from signpost.models import Draft
            assessment = db.session.get(Draft, draft_id).assessment
            out.route, out.level, out.reasons = (assessment.recommended_route, assessment.recommended_level,
                                                 assessment.reason_ids)
        if finish and out.route != "social_care":
            self.post("/refer/finish", {}, draft_id)
        return out
