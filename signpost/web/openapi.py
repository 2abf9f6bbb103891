"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json.

The request and threshold schemas come from the pydantic models that validate them, so
they cannot drift; the recommendation schema is written out and checked by the tests.
"""
from __future__ import annotations

import copy
import functools

from ..thresholds.schema import ThresholdDocument
from ..values import ROUTES, URGENCIES

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _obj(properties: dict, required: list[str] | None = None, **extra) -> dict:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False, **extra}


NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the version's file"}

RECOMMENDATION_SCHEMAS = {
    "Recommendation": _obj({
        "route": {"type": "string", "enum": list(ROUTES),
                  "description": "universal services, early help or a referral to children's social care"},
        "immediate": {"type": "boolean", "description": "true: the child is in immediate danger; call 999 now "
                                                        "(the same as urgency emergency)"},
        "urgency": {"type": "string", "enum": list(URGENCIES),
                    "description": "emergency: call 999, then the front door; same_day: phone the front "
                                   "door today, before writing anything; standard: a written referral"},
        "lado": _obj({"concern": {"type": "boolean"}, "next_steps": {"type": "array", "items": {"type": "string"}}},
                     description="a concern about an adult who works with children: tell the headteacher "
                                 "or manager and the Local Authority Designated Officer (LADO)"),
        "level": _obj({"number": {"type": "integer", "minimum": 1}, "name": {"type": "string"}}),
        "reasons": {"type": "array", "items": _ref("Reason"),
                    "description": "each indicator and rule that decided the level, quoted"},
        "services": {"type": "array", "items": _ref("Service"),
                     "description": "local services that fit the child's age and concerns"},
        "next_steps": {"type": "array", "items": {"type": "string"}},
        "urgent_reasons": {"type": "array", "items": _ref("UrgentReason"),
                           "description": "each concern that makes the recommendation urgent (emergency or "
                                          "same day), with why it cannot wait and what to do first"},
        "threshold": _obj({"id": {"type": "string"}, "hash": HASH},
                          description="the exact threshold version the recommendation was made with"),
        "overdue_for_review": {"type": "boolean",
                               "description": "the threshold version is past its review date"},
    }),
    "UrgentReason": _obj({"id": {"type": "string"}, "text": {"type": "string"}, "why": {"type": "string"}}),
    "Reason": _obj({
        "kind": {"type": "string", "enum": ["immediate", "indicator", "rule", "consent", "lado"]},
        "id": {"type": "string"},
        "text": {"type": "string"},
        "level": NULLABLE_INT,
    }),
    "Service": _obj({
        "id": {"type": "string"},
        "name": {"type": "string"},
        "organization": {"type": "string"},
        "description": {"type": "string"},
        "how_to_access": {"type": "string"},
        "contact": _obj({"phone": {"type": "string"}, "email": {"type": "string"}, "url": {"type": "string"}},
                        required=[], minProperties=1),
        "minimum_age_months": {"type": "integer", "minimum": 0,
                               "description": "inclusive"},
        "maximum_age_months": {"type": "integer", "minimum": 0,
                               "description": "inclusive"},
    }),
    "Errors": _obj({
        "errors": {"type": "array", "minItems": 1, "items": _obj({
            "field": {**NULLABLE_STRING,
                      "description": "the request field at fault, e.g. indicators[2]; null for the whole request"},
            "message": {"type": "string"},
        })},
    }, description="every problem found with the request, not only the first"),
}


def _error_response(description: str, headers: dict | None = None) -> dict:
    response = {"description": description,
                "content": {"application/json": {"schema": _ref("Errors")}}}
    if headers:
        response["headers"] = headers
    return response


RATE_LIMITED = _error_response(
    "Too many requests from this address.",
    {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}})
UNAVAILABLE = _error_response("No threshold version is in force.")


@functools.cache
def document() -> dict:
    """The whole OpenAPI document (built once; treat the result as read-only)."""
    from .api import AssessRequest, DEFAULT_RATELIMIT, MAX_BODY_BYTES

    request_schema = AssessRequest.model_json_schema(ref_template=REF)
    threshold = ThresholdDocument.model_json_schema(mode="serialization", ref_template=REF)
    schemas = {}
    schemas.update(request_schema.pop("$defs", {}))
    schemas.update(threshold.pop("$defs", {}))
    clashes = set(schemas) & (set(RECOMMENDATION_SCHEMAS) | {"AssessRequest", "ThresholdVersion"})
    assert not clashes, f"schema names used twice: {clashes}"
    version = copy.deepcopy(threshold)
    version["title"] = "ThresholdVersion"
    version["properties"]["content_hash"] = HASH
    version["required"] = [*version.get("required", []), "content_hash"]
    schemas["AssessRequest"] = request_schema
    schemas["ThresholdVersion"] = version
    schemas.update(copy.deepcopy(RECOMMENDATION_SCHEMAS))

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Signpost API",
            "version": "1.0.0",
            "description": (
                "Apply the council's children's services threshold document from another system "
                "(a case management system, a school's safeguarding software). Stateless: nothing "
                "sent is stored. Send no names or other identifying details. No sign-in is needed; "
                f"requests are rate limited per address (by default {DEFAULT_RATELIMIT}) and a "
                "request over the limit gets 429."),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/assess": {"post": {
                "operationId": "assess",
                "summary": "Recommend a route (universal, early help or social care) for a child's concerns",
                "description": (
                    "Give the child's age in months or `unborn: true`, the ids of the concerns "
                    "(indicators) that apply, and consent. The threshold version in force today is "
                    "used unless `threshold_id` names another. Unknown fields, unknown indicator ids, "
                    "wrong types and contradictory answers give 400 listing every problem. "
                    f"The body must be `application/json` and at most {MAX_BODY_BYTES} bytes."),
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("AssessRequest"),
                    "example": {"age_months": 60, "indicators": ["basic_care_neglect_significant"],
                                "consent": "refused"}}}},
                "responses": {
                    "200": {"description": "The recommendation, with reasons, services and next steps.",
                            "content": {"application/json": {"schema": _ref("Recommendation")}}},
                    "400": _error_response("The body is not valid JSON, or the answers have problems "
                                           "(including control or format characters in any string)."),
                    "413": _error_response("The body is too large."),
                    "429": RATE_LIMITED,
                    "503": UNAVAILABLE,
                },
            }},
            "/thresholds/current": {"get": {
                "operationId": "getCurrentThreshold",
                "summary": "The threshold version in force today",
                "responses": {
                    "200": {"description": "The whole threshold document and its content hash.",
                            "content": {"application/json": {"schema": _ref("ThresholdVersion")}}},
                    "429": RATE_LIMITED,
                    "503": UNAVAILABLE,
                },
            }},
            "/thresholds/{version_id}": {"get": {
                "operationId": "getThreshold",
                "summary": "One threshold version, current or not",
                "parameters": [{"name": "version_id", "in": "path", "required": True,
                                "schema": {"type": "string"}, "example": "northmere-2024-09"}],
                "responses": {
                    "200": {"description": "The whole threshold document and its content hash.",
                            "content": {"application/json": {"schema": _ref("ThresholdVersion")}}},
                    "400": _error_response("The id contains a character that is never allowed "
                                           "(a control or format character, or a lone surrogate)."),
                    "404": _error_response("There is no version with this id."),
                    "429": RATE_LIMITED,
                },
            }},
            "/openapi.json": {"get": {
                "operationId": "getOpenAPI",
                "summary": "This document",
                "responses": {
                    "200": {"description": "The OpenAPI 3.1 document.",
                            "content": {"application/json": {"schema": {"type": "object"}}}},
                    "429": RATE_LIMITED,
                },
            }},
        },
        "components": {"schemas": schemas},
    }
