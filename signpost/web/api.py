"""The JSON API for other systems: assess answers statelessly and read threshold versions.

No session, no CSRF token, nothing stored; every response is JSON, errors included,
and every request is rate limited per address (setting API_RATELIMIT).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Literal

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from werkzeug.exceptions import HTTPException

from ..content import current_directory, current_library, current_version
from ..engine import AnswerError, Answers, Problem, assess as assess_answers, check_answers
from ..extensions import limiter
from ..thresholds.schema import CONSENT_VALUES
from ..thresholds.source import key_name
from . import openapi
from .. import values

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DEFAULT_RATELIMIT = "60 per minute"
MAX_BODY_BYTES = 64 * 1024
MAX_INDICATORS = 200
JSON_MIMETYPE = "application/json"

IndicatorId = Annotated[str, StringConstraints(max_length=80)]


class AssessRequest(BaseModel):
    """The body of POST /api/v1/assess: the answers, never anything identifying."""

    model_config = ConfigDict(extra="forbid", strict=True, title="AssessRequest")

    indicators: list[IndicatorId] = Field(
        max_length=MAX_INDICATORS,
        description="Ids of the concerns that apply, from the threshold version's indicators.")
    age_months: int | None = Field(
        default=None, description="The child's age in whole months (0 to 215). Give this or unborn.")
    unborn: bool = Field(default=False, description="True when the baby is not born yet (instead of age_months).")
    expected_date: dt.date | None = Field(
        default=None, description="Expected date of birth (YYYY-MM-DD), only with unborn: from 4 weeks ago (an overdue "
                    "baby) to 10 months ahead.")
    consent: Literal["given", "refused", "not_asked", "not_needed"] = Field(
        default="not_asked", description="Whether the family has agreed to early help.")
    in_danger: bool = Field(default=False, description="True when the child is in immediate danger now.")
    threshold_id: Annotated[str, StringConstraints(max_length=80)] | None = Field(
        default=None, description="A threshold version id; default: the version in force today.")


FIELDS = tuple(AssessRequest.model_fields)
assert set(AssessRequest.model_fields["consent"].annotation.__args__) == set(CONSENT_VALUES)


def today() -> dt.date:
    return values.uk_today()


def api_ratelimit() -> str:
    return current_app.config.get("API_RATELIMIT") or DEFAULT_RATELIMIT


# One shared per-address budget for the whole API (the limiter keys on the client address).
limiter.shared_limit(api_ratelimit, scope="api")(bp)


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False, indent=None), status=status,
                        mimetype=JSON_MIMETYPE, headers=headers)
    return response


def error(status: int, problems: list[tuple[str | None, str]], headers: dict | None = None) -> Response:
    return json_response({"errors": [{"field": f, "message": m} for f, m in problems]}, status, headers)


def json_error_for(exc: HTTPException) -> Response:
    """A JSON body for any HTTP error under /api/ (also used by the app's error handlers)."""
    messages = {
        404: "There is nothing at this address. See /api/v1/openapi.json.",
        405: f"{request.method} is not allowed here.",
        413: f"The request body is too large (at most {MAX_BODY_BYTES} bytes).",
        429: "Too many requests from this address; wait a minute and try again.",
    }
    message = messages.get(exc.code or 500) or exc.description or "Something went wrong."
    if (exc.code or 500) >= 500:
        message = "Something went wrong on our side. Try again later."
    headers = {}
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429 and exc.response is not None and exc.response.headers.get("Retry-After"):
        headers["Retry-After"] = exc.response.headers["Retry-After"]
    return error(exc.code or 500, [(None, message)], headers)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return json_error_for(exc)


def _pydantic_problems(exc: ValidationError) -> list[tuple[str | None, str]]:
    problems = []
    for item in exc.errors(include_url=False, include_context=False):
        loc = item["loc"]
        if item["type"] == "extra_forbidden":
            message = f"'{loc[-1]}' is not a field of this request. Allowed fields: {', '.join(FIELDS)}."
        elif item["type"] == "missing":
            message = "This field is required."
        elif item["type"] == "model_type":
            message = "The body must be a JSON object."
        else:
            message = item["msg"] + "."
        problems.append((key_name(loc) or None, message))
    return problems


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ValueError(f"Duplicate keys in a JSON object: {', '.join(duplicated)}.")
    return dict(pairs)


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON.")


def _field_order(problem: tuple[str | None, str]) -> tuple:
    """Problems in the order of the request's fields, list items by index; unknown fields last."""
    field = problem[0] or ""
    match = re.fullmatch(r"([a-z_]+)(?:\[(\d+)\])?.*", field)
    name, index = (match.group(1), int(match.group(2) or -1)) if match else (field, -1)
    return (FIELDS.index(name) if name in FIELDS else len(FIELDS), index)


def _engine_field(problem: Problem, indicators: list[str]) -> str | None:
    """The request field an engine problem is about, from the problem's own field and ids."""
    if problem.field == "indicators":
        # Of the concerns a problem names, point at the one sent last: it is the one that clashes.
        named = [indicators.index(i) for i in problem.indicators if i in indicators]
        return f"indicators[{max(named)}]" if named else "indicators"
    return problem.field


@bp.post("/assess")
def assess():
    """Recommend a route for the answers in the body; stateless, stores nothing."""
    if request.mimetype != JSON_MIMETYPE:
        return error(400, [(None, "Send the answers as JSON with 'Content-Type: application/json'.")])
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return json_error_for(_TooLarge())
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY_BYTES:
        return json_error_for(_TooLarge())
    try:
        data = json.loads(raw, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
    except (UnicodeDecodeError, RecursionError):
        return error(400, [(None, "The body is not valid UTF-8 JSON.")])
    except json.JSONDecodeError as exc:
        return error(400, [(None, f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).")])
    except ValueError as exc:
        return error(400, [(None, str(exc))])

    problems: list[tuple[str | None, str]] = []
    parsed: AssessRequest | None = None
    try:
        parsed = AssessRequest.model_validate_json(raw)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc))

    on_date = today()
    library = current_library()
    wanted = data.get("threshold_id") if isinstance(data, dict) else None
    version = None
    try:
        version = (library.get(wanted, on_date) if isinstance(wanted, str) and wanted != "current"
                   else current_version(on_date))
    except KeyError:
        known = ", ".join(v.id for v in library.versions)
        problems.append(("threshold_id", f"There is no threshold version '{wanted}'. Known versions: {known}."))
    except LookupError as exc:
        return error(503, [(None, f"No threshold version can be used: {exc}.")])

    # Unknown ids are checked even when other fields are wrong, so that one reply lists everything.
    raw_ids = data.get("indicators") if isinstance(data, dict) else None
    ids = [i for i in raw_ids if isinstance(i, str)] if isinstance(raw_ids, list) else []
    if version is not None and isinstance(raw_ids, list):
        for index, value in enumerate(raw_ids):
            if isinstance(value, str) and value not in version.indicators:
                problems.append((f"indicators[{index}]",
                                 f"'{value}' is not a concern in threshold version {version.id}."))
    answers = None
    if parsed is not None and version is not None:
        answers = Answers.of(parsed.indicators, age_months=parsed.age_months, unborn=parsed.unborn,
                             expected_date=parsed.expected_date, consent=parsed.consent,
                             in_danger=parsed.in_danger)
        # The engine's own checks too (age, contradictions), so one reply lists every problem;
        # unknown ids are already listed above, one per item.
        problems.extend((_engine_field(p, ids), p.message) for p in check_answers(answers, version, on_date)
                        if p.code != "unknown_concerns")
    if answers is None or problems:
        return error(400, sorted(problems, key=_field_order))
    try:
        recommendation = assess_answers(answers, version, on_date, current_directory())
    except AnswerError as exc:  # check_answers above should have caught these already
        return error(400, [(_engine_field(p, ids), p.message) for p in exc.problems])
    return json_response(recommendation.to_dict())


class _TooLarge(HTTPException):
    code = 413


def version_json(version) -> dict:
    """The same structure as `flask thresholds show ID --format json`."""
    data = version.document.model_dump(mode="json")
    data["content_hash"] = version.content_hash
    return data


@bp.get("/thresholds/current")
def threshold_current():
    try:
        version = current_version(today())
    except LookupError as exc:
        return error(503, [(None, f"No threshold version is in force: {exc}.")])
    return json_response(version_json(version))


@bp.get("/thresholds/<version_id>")
def threshold_version(version_id: str):
    library = current_library()
    version = library.by_id(version_id)
    if version is None:
        return error(404, [("version_id", "There is no threshold version with this id.")])
    return json_response(version_json(version))


@bp.get("/openapi.json")
def openapi_document():
    return json_response(openapi.document())
