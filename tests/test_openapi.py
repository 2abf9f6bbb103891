"""The OpenAPI document is valid, covers exactly the API's routes, and real responses match it."""
import json

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from test_api import ANY_AGE_LEVEL_2, CURRENT, IMMEDIATE, LEVEL_4, SEVERITY_PAIR, UNBORN_ONLY, make_app

SPEC_URI = "urn:signpost:openapi"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("openapi"))


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


@pytest.fixture
def client(app):
    return app.test_client()


def validator(spec, schema):
    registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer(schema)}"} if "$ref" in schema else schema,
                                registry=registry)


def pointer(schema):
    ref = schema["$ref"]
    assert ref.startswith("#/")
    return ref[1:]


def response_schema(spec, path, method, status):
    operation = spec["paths"][path][method]
    assert str(status) in operation["responses"], f"{method.upper()} {path} does not document {status}"
    return operation["responses"][str(status)]["content"]["application/json"]["schema"]


def check(spec, response, path, method):
    assert response.mimetype == "application/json"
    schema = response_schema(spec, path, method, response.status_code)
    validator(spec, schema).validate(response.get_json())


def test_document_is_valid_openapi(spec):
    assert spec["openapi"].startswith("3.1")
    validate_spec(spec)


def test_document_describes_exactly_the_api_routes(app, spec):
    prefix = spec["servers"][0]["url"]
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.removeprefix(prefix)
            path = path.replace("<", "{").replace(">", "}")
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert documented == routes


def test_request_schema_matches_what_the_endpoint_accepts(spec):
    request = validator(spec, spec["paths"]["/assess"]["post"]["requestBody"]["content"]["application/json"]["schema"])
    request.validate(spec["paths"]["/assess"]["post"]["requestBody"]["content"]["application/json"]["example"])
    request.validate({"unborn": True, "indicators": [], "expected_date": "2030-01-01", "in_danger": False})
    for bad in ({"age_months": 60}, {"age_months": "60", "indicators": []},
                {"age_months": 60, "indicators": [], "colour": "blue"},
                {"age_months": 60, "indicators": [], "consent": "maybe"}):
        with pytest.raises(ValidationError):
            request.validate(bad)


ASSESS_CASES = [
    {"age_months": 60, "indicators": [LEVEL_4], "consent": "refused"},
    {"age_months": 150, "indicators": [ANY_AGE_LEVEL_2], "consent": "given"},
    {"age_months": 150, "indicators": [SEVERITY_PAIR[1]], "consent": "refused"},
    {"age_months": 2, "indicators": [IMMEDIATE.id]},
    {"unborn": True, "indicators": [UNBORN_ONLY], "threshold_id": CURRENT.id},
    {"age_months": 100, "indicators": [], "in_danger": True},
]


@pytest.mark.parametrize("body", ASSESS_CASES)
def test_assess_200_matches(spec, client, body):
    response = client.post("/api/v1/assess", json=body)
    assert response.status_code == 200
    check(spec, response, "/assess", "post")


@pytest.mark.parametrize("body", [
    {"age_months": "60", "indicators": ["nope", 3], "colour": "blue"},
    {"age_months": 150, "indicators": SEVERITY_PAIR},
    "not an object",
])
def test_assess_400_matches(spec, client, body):
    response = client.post("/api/v1/assess", json=body)
    assert response.status_code == 400
    check(spec, response, "/assess", "post")


def test_assess_400_bad_json_and_413_match(spec, client):
    response = client.post("/api/v1/assess", data="{", content_type="application/json")
    assert response.status_code == 400
    check(spec, response, "/assess", "post")
    response = client.post("/api/v1/assess", json={"age_months": 1, "indicators": ["x" * 70_000]})
    assert response.status_code == 413
    check(spec, response, "/assess", "post")


def test_thresholds_match(spec, client):
    response = client.get("/api/v1/thresholds/current")
    assert response.status_code == 200
    check(spec, response, "/thresholds/current", "get")
    response = client.get(f"/api/v1/thresholds/{CURRENT.id}")
    assert response.status_code == 200
    check(spec, response, "/thresholds/{version_id}", "get")
    response = client.get("/api/v1/thresholds/no-such-version")
    assert response.status_code == 404
    check(spec, response, "/thresholds/{version_id}", "get")


def test_schemas_are_strict_enough_to_catch_drift(spec, client):
    """A response with an extra or missing key must fail, or the checks above prove nothing."""
    body = client.post("/api/v1/assess", json=ASSESS_CASES[1]).get_json()
    schema = validator(spec, response_schema(spec, "/assess", "post", 200))
    for broken in ({**body, "surprise": 1}, {k: v for k, v in body.items() if k != "threshold"},
                   {**body, "route": "somewhere"}, {**body, "services": [{**body["services"][0], "x": 1}]}):
        with pytest.raises(ValidationError):
            schema.validate(broken)
    version = client.get("/api/v1/thresholds/current").get_json()
    schema = validator(spec, response_schema(spec, "/thresholds/current", "get", 200))
    for broken in ({**version, "surprise": 1}, {k: v for k, v in version.items() if k != "content_hash"}):
        with pytest.raises(ValidationError):
            schema.validate(broken)


def test_429_matches(spec, tmp_path):
    app = make_app(tmp_path, API_RATELIMIT="1 per minute")
    client = app.test_client()
    assert client.get("/api/v1/thresholds/current").status_code == 200
    response = client.post("/api/v1/assess", json=ASSESS_CASES[0])
    assert response.status_code == 429
    check(spec, response, "/assess", "post")


def test_document_is_json_serialisable_and_stable(spec, client):
    assert json.loads(json.dumps(spec)) == client.get("/api/v1/openapi.json").get_json()
