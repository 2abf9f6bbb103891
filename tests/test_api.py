"""The JSON API: assess statelessly, read threshold versions, errors as JSON listing every problem.

Runs against the real app factory, anonymous, with CSRF protection and rate limiting on.
"""
import hashlib
import json
from pathlib import Path

import pytest

import conftest
from signpost.settings import from_environment
from signpost.thresholds import load_library
from signpost.thresholds.cases import load_cases
from signpost.values import uk_today

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = load_library(ROOT / "thresholds")
CURRENT = LIBRARY.in_force(uk_today())
TOP = CURRENT.document.levels[-1].number
# A top-level (level 4) indicator that is not an immediate short-circuit, for a 5-year-old.
LEVEL_4 = next(i.id for i in CURRENT.document.indicators
               if i.level == TOP and not i.immediate and i.applies_to != "unborn"
               and (i.min_age_months or 0) <= 60 <= (i.max_age_months or 999))
IMMEDIATE = next(i for i in CURRENT.document.indicators if i.immediate)
UNBORN_ONLY = next(i.id for i in CURRENT.document.indicators if i.applies_to == "unborn")
# Two answers to one severity question (e.g. "missing once" and "missing regularly"): a contradiction.
SEVERITY_PAIR = next([a.id, b.id] for a in CURRENT.document.indicators for b in CURRENT.document.indicators
                     if a.asks_for and a.asks_for == b.asks_for and a.level < b.level
                     and a.applies_to != "unborn" and b.applies_to != "unborn"
                     and (a.min_age_months or 0) <= 150 <= (a.max_age_months or 999)
                     and (b.min_age_months or 0) <= 150 <= (b.max_age_months or 999))
ANY_AGE_LEVEL_2 = next(i.id for i in CURRENT.document.indicators if i.level == 2 and i.applies_to != "unborn"
                       and i.min_age_months is None and i.max_age_months is None and not i.asks_for)
CASES = load_cases(ROOT / "thresholds" / "tests")


def make_app(tmp_path, **settings):
    """The real app (conftest's settings) on SQLite, with CSRF and rate limiting left on."""
    settings = {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True, "API_RATELIMIT": "1000 per minute",
                **settings}
    return conftest.make_app(f"sqlite:///{tmp_path / 'api.db'}", **settings)


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


def post(client, body, **kwargs):
    return client.post("/api/v1/assess", json=body, **kwargs)


def errors(response) -> dict:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"errors"}
    for item in body["errors"]:
        assert set(item) == {"field", "message"} and item["message"]
    return {item["field"]: item["message"] for item in body["errors"]}


# --- assess: the outcomes ---------------------------------------------------------------

def test_level_4_indicator_goes_to_social_care_with_the_threshold_hash(client):
    """The issue's check: curl -X POST /api/v1/assess with a level-4 indicator."""
    response = post(client, {"age_months": 60, "indicators": [LEVEL_4], "consent": "refused"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["route"] == "social_care"
    assert body["immediate"] is False
    assert body["level"]["number"] == TOP
    assert LEVEL_4 in [r["id"] for r in body["reasons"]]
    # The hash is the SHA-256 of the version's file, computed here independently.
    file_hash = hashlib.sha256((ROOT / "thresholds" / f"{CURRENT.id}.yaml").read_bytes()).hexdigest()
    assert body["threshold"] == {"id": CURRENT.id, "hash": file_hash}
    assert body["next_steps"]


def test_raw_curl_style_request(client):
    response = client.post("/api/v1/assess", data=json.dumps({"age_months": 60, "indicators": [LEVEL_4]}),
                           headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200
    assert response.get_json()["route"] == "social_care"


CASE_RUNS = [(case, version) for version in LIBRARY.versions for case in CASES if case.applies_to(version)]


@pytest.mark.parametrize("case, version", CASE_RUNS, ids=[f"{v.id}: {c.name}" for c, v in CASE_RUNS])
def test_threshold_cases_through_the_api(client, case, version):
    """Every YAML case beside the thresholds gives the same outcome through the API."""
    answers = case.case.answers.model_dump()
    if not answers["unborn"]:
        del answers["unborn"]
    response = post(client, {**answers, "threshold_id": version.id})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["route"] == case.case.expected_route
    if case.case.expected_level is not None:
        assert body["level"]["number"] == case.case.expected_level
    if case.case.expected_immediate is not None:
        assert body["immediate"] is case.case.expected_immediate
    assert {r["id"] for r in body["reasons"]} == set(case.case.expected_reasons)
    assert body["threshold"] == {"id": version.id, "hash": version.content_hash}


def test_services_fit_the_childs_age(client):
    body = post(client, {"age_months": 150, "indicators": [ANY_AGE_LEVEL_2], "consent": "given"}).get_json()
    assert body["services"], "services that fit the child are signposted"
    assert all(s["minimum_age_months"] <= 150 <= s["maximum_age_months"] for s in body["services"])


def test_no_concerns_is_universal(client):
    body = post(client, {"age_months": 30, "indicators": []}).get_json()
    assert body["route"] == "universal"
    assert body["level"]["number"] == 1


def test_unborn_baby(client):
    body = post(client, {"unborn": True, "indicators": [UNBORN_ONLY], "consent": "given"}).get_json()
    assert UNBORN_ONLY in [r["id"] for r in body["reasons"]]


def test_immediate_indicator_and_immediate_danger_short_circuit(client):
    body = post(client, {"age_months": 2, "indicators": [IMMEDIATE.id], "consent": "refused"}).get_json()
    assert body["immediate"] is True and body["route"] == "social_care"
    assert body["services"] == []
    body = post(client, {"age_months": 120, "indicators": [], "in_danger": True}).get_json()
    assert body["immediate"] is True
    assert body["reasons"][0]["id"] == "in_immediate_danger"


def test_threshold_id_picks_a_version(client):
    body = post(client, {"age_months": 60, "indicators": [], "threshold_id": CURRENT.id}).get_json()
    assert body["threshold"]["id"] == CURRENT.id


def test_assess_is_stateless_and_needs_no_session_or_csrf_token(app, client):
    response = post(client, {"age_months": 60, "indicators": [LEVEL_4]})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert app.config["WTF_CSRF_ENABLED"] is True


def test_assess_stores_nothing(app, client):
    """No table gains a row (when the app has a database)."""
    db = app.extensions.get("sqlalchemy")
    if db is None:
        pytest.skip("this app has no database")
    with app.app_context():
        db.create_all()

        def counts():
            from sqlalchemy import func, select
            return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in db.metadata.sorted_tables}
        before = counts()
        assert before, "the models define tables"
    for body in ({"age_months": 60, "indicators": [LEVEL_4]}, {"age_months": 2, "indicators": [IMMEDIATE.id]},
                 {"age_months": "x"}):
        post(client, body)
    with app.app_context():
        assert counts() == before


# --- assess: every problem, as JSON ---------------------------------------------------------

def test_every_problem_is_listed_with_its_field(client):
    response = post(client, {"age_months": "60", "indicators": ["not_a_concern", 3, LEVEL_4],
                             "consent": "maybe", "colour": "blue", "unborn": "no"})
    assert errors(response).keys() == {"age_months", "indicators[0]", "indicators[1]", "consent",
                                       "colour", "unborn"}
    assert "not_a_concern" in errors(response)["indicators[0]"]
    assert "colour" in errors(response)["colour"]


@pytest.mark.parametrize("body, field", [
    ({"indicators": []}, "age_months"),  # neither an age nor unborn
    ({"age_months": 60, "unborn": True, "indicators": []}, "age_months"),  # both
    ({"age_months": 216, "indicators": []}, "age_months"),
    ({"age_months": -1, "indicators": []}, "age_months"),
    ({"age_months": 60.5, "indicators": []}, "age_months"),
    ({"age_months": True, "indicators": []}, "age_months"),
    ({"age_months": 60}, "indicators"),  # required
    ({"age_months": 60, "indicators": LEVEL_4}, "indicators"),
    ({"age_months": 60, "indicators": [], "in_danger": "yes"}, "in_danger"),
    ({"unborn": True, "indicators": [], "expected_date": "2020-01-01"}, "expected_date"),
    ({"unborn": True, "indicators": [], "expected_date": "next week"}, "expected_date"),
    ({"age_months": 60, "indicators": [], "threshold_id": "no-such-version"}, "threshold_id"),
    ({"age_months": 60, "indicators": [], "threshold_id": 7}, "threshold_id"),
])
def test_wrong_or_missing_values(client, body, field):
    assert field in errors(post(client, body))


def test_contradictory_answers(client):
    found = errors(post(client, {"age_months": 150, "indicators": SEVERITY_PAIR}))
    assert list(found) == ["indicators[1]"]
    assert SEVERITY_PAIR[0] in found["indicators[1]"] and SEVERITY_PAIR[1] in found["indicators[1]"]
    found = errors(post(client, {"age_months": 200, "indicators": [ANY_AGE_LEVEL_2, IMMEDIATE.id]}))
    assert list(found) == ["indicators[1]"]  # a non-mobile baby's injury for a 16-year-old
    found = errors(post(client, {"age_months": 60, "indicators": [UNBORN_ONLY]}))
    assert list(found) == ["indicators[0]"]


@pytest.mark.parametrize("data, content_type", [
    ("{not json", "application/json"),
    ("", "application/json"),
    ('{"age_months": 60, "indicators": [], "age_months": 61}', "application/json"),  # duplicate key
    ('{"age_months": NaN, "indicators": []}', "application/json"),
    ("[1, 2]", "application/json"),
    ('"text"', "application/json"),
    (b"\xff\xfe{}", "application/json"),
    ('{"age_months": 60, "indicators": []}', "text/plain"),
    ("age_months=60", "application/x-www-form-urlencoded"),
    ('{"age_months": 60, "indicators": []}', None),
])
def test_bad_json_or_content_type(client, data, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/v1/assess", data=data, headers=headers)
    found = errors(response)
    assert len(found) == 1 and all(found.values())


def test_too_large_body(client):
    response = post(client, {"age_months": 60, "indicators": ["x" * 70_000]})
    assert response.status_code == 413
    assert response.get_json()["errors"][0]["message"]


def test_too_many_indicators(client):
    assert "indicators" in errors(post(client, {"age_months": 60, "indicators": [LEVEL_4] * 201}))


# --- thresholds --------------------------------------------------------------------------------

def cli_json(app, version_id):
    result = app.test_cli_runner().invoke(args=["thresholds", "show", version_id, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_current_threshold_matches_the_cli(app, client):
    response = client.get("/api/v1/thresholds/current")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body == cli_json(app, "current")
    assert body["id"] == CURRENT.id and body["content_hash"] == CURRENT.content_hash


@pytest.mark.parametrize("version", LIBRARY.versions, ids=lambda v: v.id)
def test_each_threshold_version_by_id(app, client, version):
    response = client.get(f"/api/v1/thresholds/{version.id}")
    assert response.status_code == 200
    assert response.get_json() == cli_json(app, version.id)


def test_unknown_threshold_version_is_a_json_404(client):
    response = client.get("/api/v1/thresholds/no-such-version")
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json()["errors"][0]["field"] == "version_id"


# --- JSON errors for the whole /api/ space --------------------------------------------------------

@pytest.mark.parametrize("method, path, status", [
    ("get", "/api/v1/nothing-here", 404),
    ("get", "/api/nothing-here", 404),
    ("post", "/api/v1/thresholds/current", 405),
    ("get", "/api/v1/assess", 405),
    ("delete", "/api/v1/assess", 405),
])
def test_json_404_and_405_inside_api(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json()["errors"][0]["message"]
    if status == 405:
        assert response.headers["Allow"]


def test_rate_limited_per_address_with_a_json_429(tmp_path):
    app = make_app(tmp_path, API_RATELIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/thresholds/current").status_code == 200
    # One budget for the whole API: the fourth request is refused whatever the endpoint.
    response = post(client, {"age_months": 60, "indicators": []})
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert response.get_json()["errors"][0]["message"]
    assert int(response.headers["Retry-After"]) > 0
    other = client.get("/api/v1/thresholds/current", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200, "another address has its own budget"


def test_rate_limit_setting_from_the_environment():
    assert from_environment({"SIGNPOST_API_RATELIMIT": "5 per second"})["API_RATELIMIT"] == "5 per second"
    assert from_environment({})["API_RATELIMIT"]


def test_unknown_ids_do_not_hide_the_other_problems(client):
    response = post(client, {"age_months": 999, "indicators": ["nope"], "consent": "refused"})
    assert response.status_code == 400
    fields = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert "'nope' is not a concern" in fields["indicators[0]"]
    assert "between 0 and 17 years" in fields["age_months"]
