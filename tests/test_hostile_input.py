"""Hostile input to every route: random and malformed forms, paths and JSON, never a 500.

Walks the registered routes generically (new blueprints are covered as they appear), signed
in as each role that may use them, with a referral journey already far enough along that its
pages accept posts. Invariants: no response is a server error, and nothing with a refused
character is ever stored. schemathesis checks the JSON API against its own OpenAPI document.
"""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from conftest import ROLES, make_app, sign_in_as
from signpost.extensions import db
from signpost.hygiene import bad_character

pytestmark = pytest.mark.hostile

HOSTILE = ["\x00", "\ud800", "\udfff", "\u200b", "\u202e", "\ufeff", "\x1b[2J", "\r\nSet-Cookie: x=1",
           "   ", "\u00a0", "' OR 1=1 --", "<script>alert(1)</script>", "{{7*7}}", "../../etc/passwd",
           "x" * 6000, "٣", "²", "-1", "99999999999999999999", "1e309", "NaN", "0x10", "", "😀" * 50]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40),
                   st.text(st.characters(codec=None, exclude_categories=()), max_size=12))
FIELD_RE = re.compile(r'name="([^"]+)"')
VARIABLE = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
# Values a URL's variable takes (others get hostile text); journey slugs make journey pages real.
PATH_VALUES = {"slug": ["danger", "about-you", "about-child", "serious", "areas", "concerns", "what-happened", "family"],
               "reference": ["NM-2026-00001"], "version_id": ["northmere-2026-04"]}


@pytest.fixture
def app_settings():
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


def routes(app):
    """(rule, method) for every route that takes a body or a variable, static files aside."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "govuk_frontend.static"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def roles_for(app, endpoint: str) -> list[str]:
    view = app.view_functions[endpoint]
    allowed = getattr(view, "allowed_roles", None)
    return list(allowed) if allowed else ["anonymous", *ROLES]


def stored_text(app) -> list[str]:
    """Every string value in every table (JSON included), to look for refused characters."""
    found: list[str] = []

    def walk(value):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                walk(list(row))
    return found


def refused_in_store(app) -> list[str]:
    return [value[:60] for value in stored_text(app) if bad_character(value)]


def started_journey(app, users):
    """A referrer client with a draft answered to the referral page (so every journey page takes posts)."""
    from test_hardening import walk
    client = app.test_client()
    sign_in_as(client, users["referrer"])
    walk(client)
    return client


def client_for(app, users, who, journey_client):
    if who == "referrer":
        return journey_client
    client = app.test_client()
    if who != "anonymous":
        sign_in_as(client, users[who])
    return client


def form_fields(client, path: str) -> list[str]:
    response = client.get(path)
    return sorted(set(FIELD_RE.findall(response.get_data(as_text=True))) - {"csrf_token"}) if response.status_code == 200 else []


def test_random_and_malformed_forms_to_every_route_never_fail(app, users):
    journey_client = started_journey(app, users)
    targets = []
    for rule, method in routes(app):
        if rule.endpoint.startswith("api."):
            continue  # the API has its own tests below
        for who in roles_for(app, rule.endpoint):
            targets.append((rule, method, who))
    assert targets
    failures: list[str] = []
    seen: dict[int, int] = {}

    @settings(max_examples=max(60, 3 * len(targets)), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def fuzz(data):
        rule, method, who = data.draw(st.sampled_from(targets))
        values = {arg: data.draw(st.sampled_from(PATH_VALUES.get(arg, []) + HOSTILE[:8] + ["1"]))
                  for arg in rule.arguments}
        path = VARIABLE.sub(lambda m: quote(values[m.group(1)], safe="", errors="surrogatepass"), rule.rule)
        client = client_for(app, users, who, journey_client)
        known = form_fields(client, path) if method == "POST" else []
        # Field names are picked by position, so what Hypothesis draws never depends on the app's
        # state (the fields a page shows change as the walk saves and discards things).
        pool = known + ["draft_id", "x", "evil\x00", "a" * 300] if known else ["draft_id", "x", "email", "evil\x00"]
        keys = [pool[i % len(pool)] for i in data.draw(st.lists(st.integers(0, 63), max_size=8))]
        form = [(k, data.draw(VALUES)) for k in keys]
        query = data.draw(st.lists(st.tuples(st.sampled_from(["change", "q", "next"]), VALUES), max_size=2))
        try:
            response = client.open(path, method=method, data=MultiDict(form), query_string=MultiDict(query))
        except UnicodeEncodeError:
            return  # the test client itself cannot send a lone surrogate in a URL; a real one sends bytes
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{method} {path!r} as {who}: {response.status_code} with {form!r:.300}")

    fuzz()
    assert not failures, "\n".join(failures[:20])
    # The walk reached pages (re-shown with their errors), redirects and refusals alike.
    assert {200, 302, 400}.issubset(seen), seen
    assert refused_in_store(app) == []


@pytest.mark.parametrize("body", [
    b"\x00", b"{", b"[]", b"null", b'"x"', b"{}" * 1000, b'{"indicators": "x"}', b'{"indicators": [1, null]}',
    b'{"indicators": [], "age_months": 1e999}', b'{"indicators": [], "age_months": "60"}',
    b'{"indicators": ["\\u0000"]}', b'{"indicators": ["\\ud83d"], "age_months": 3}',
    b'{"indicators": [], "age_months": 60, "\\ud800": 1}', b'\xff\xfe{}', b'{"a": ' * 5000,
    b'{"indicators": [], "unborn": true, "expected_date": "2026-02-30"}',
])
def test_malformed_json_is_a_json_400(client, body):
    response = client.post("/api/v1/assess", data=body, content_type="application/json")
    assert response.status_code == 400 and response.is_json, response.get_data()[:200]


def test_random_json_to_the_api_never_fails(app):
    client = app.test_client()
    json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                         VALUES), lambda inner: st.lists(inner, max_size=4) |
                               st.dictionaries(VALUES, inner, max_size=4), max_leaves=12)
    bodies = st.dictionaries(st.sampled_from(["indicators", "age_months", "unborn", "expected_date", "consent",
                                              "in_danger", "threshold_id", "x"]), json_values, max_size=7)

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=bodies)
    def fuzz(body):
        import json
        raw = json.dumps(body, ensure_ascii=True)
        response = client.post("/api/v1/assess", data=raw, content_type="application/json")
        assert response.status_code in (200, 400), (response.status_code, raw[:300])
        assert response.is_json

    fuzz()


# ---------------------------------------------------------------------------- schemathesis

def api_operations():
    """Each operation in /api/v1/openapi.json, read from an app made for the purpose."""
    app = make_app("sqlite:///:memory:", RATELIMIT_ENABLED=False)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", api_operations(), ids=lambda op: op.label)
def test_api_matches_its_openapi_document(operation):
    """Generated requests (schemathesis) get answers the document describes, never a server error."""
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call()
        # Schema-valid bodies may still be refused for what a schema cannot say (an indicator id
        # that the version does not have, an age that contradicts a concern): a 400 listing why.
        case.validate_response(response, excluded_checks=[schemathesis.checks.positive_data_acceptance])

    check()
