"""OpenAPI 3.0 path items of the Alertmanager v2 routes, from Alertmanager's own api/v2/openapi.yaml."""

from __future__ import annotations

from alerting_common.jsonmap import JSON, JSONObject

_TIME: JSONObject = {"type": "string", "format": "date-time"}
_LABEL_SET: JSONObject = {"type": "object", "additionalProperties": {"type": "string"}}
_STRINGS: JSONObject = {"type": "array", "items": {"type": "string"}}
_RECEIVER: JSONObject = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
_MATCHER: JSONObject = {
    "type": "object",
    "required": ["name", "value", "isRegex"],
    "properties": {
        "name": {"type": "string"},
        "value": {"type": "string"},
        "isRegex": {"type": "boolean"},
        "isEqual": {"type": "boolean", "default": True},
    },
}
_SILENCE_PROPERTIES: JSONObject = {
    "matchers": {"type": "array", "items": _MATCHER, "minItems": 1},
    "startsAt": _TIME,
    "endsAt": _TIME,
    "createdBy": {"type": "string"},
    "comment": {"type": "string"},
}
_SILENCE_REQUIRED: list[JSON] = ["matchers", "startsAt", "endsAt", "createdBy", "comment"]
_GETTABLE_SILENCE: JSONObject = {
    "type": "object",
    "required": ["id", "status", "updatedAt", *_SILENCE_REQUIRED],
    "properties": {
        "id": {"type": "string"},
        "status": {
            "type": "object",
            "required": ["state"],
            "properties": {"state": {"type": "string", "enum": ["expired", "active", "pending"]}},
        },
        "updatedAt": _TIME,
        **_SILENCE_PROPERTIES,
    },
}
_POSTABLE_SILENCE: JSONObject = {
    "type": "object",
    "required": _SILENCE_REQUIRED,
    "properties": {"id": {"type": "string"}, **_SILENCE_PROPERTIES},
}
_GETTABLE_ALERT: JSONObject = {
    "type": "object",
    "required": [
        "labels",
        "annotations",
        "receivers",
        "fingerprint",
        "startsAt",
        "updatedAt",
        "endsAt",
        "status",
    ],
    "properties": {
        "labels": _LABEL_SET,
        "annotations": _LABEL_SET,
        "generatorURL": {"type": "string", "format": "uri"},
        "receivers": {"type": "array", "items": _RECEIVER},
        "fingerprint": {"type": "string"},
        "startsAt": _TIME,
        "updatedAt": _TIME,
        "endsAt": _TIME,
        "status": {
            "type": "object",
            "required": ["state", "silencedBy", "inhibitedBy", "mutedBy"],
            "properties": {
                "state": {"type": "string", "enum": ["unprocessed", "active", "suppressed"]},
                "silencedBy": _STRINGS,
                "inhibitedBy": _STRINGS,
                "mutedBy": _STRINGS,
            },
        },
    },
}
_POSTABLE_ALERT: JSONObject = {
    "type": "object",
    "required": ["labels"],
    "properties": {
        "labels": _LABEL_SET,
        "annotations": _LABEL_SET,
        "startsAt": _TIME,
        "endsAt": _TIME,
        "generatorURL": {"type": "string", "format": "uri"},
    },
}
_ALERT_GROUP: JSONObject = {
    "type": "object",
    "required": ["labels", "receiver", "alerts"],
    "properties": {
        "labels": _LABEL_SET,
        "receiver": _RECEIVER,
        "alerts": {"type": "array", "items": _GETTABLE_ALERT},
    },
}
_VERSION_FIELDS = ("version", "revision", "branch", "buildUser", "buildDate", "goVersion")
_STATUS: JSONObject = {
    "type": "object",
    "required": ["cluster", "versionInfo", "config", "uptime"],
    "properties": {
        "cluster": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "name": {"type": "string"},
                "status": {"type": "string", "enum": ["ready", "settling", "disabled"]},
                "peers": {"type": "array", "items": {"type": "object"}},
            },
        },
        "versionInfo": {
            "type": "object",
            "nullable": True,
            "description": "null: this server is no Alertmanager version (its own: /api/v1/status/buildinfo)",
            "required": list(_VERSION_FIELDS),
            "properties": {name: {"type": "string"} for name in _VERSION_FIELDS},
        },
        "config": {
            "type": "object",
            "required": ["original"],
            "properties": {"original": {"type": "string"}},
        },
        "uptime": _TIME,
    },
}


def _json(schema: JSONObject) -> JSONObject:
    return {"content": {"application/json": {"schema": schema}}}


_TEXT_ERROR = _json({"type": "string"})


def _query(name: str, schema: JSONObject, description: str) -> JSONObject:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_FILTER = _query("filter", _STRINGS, 'Matchers, each like name="value"; all must match')
_FLAGS: list[JSON] = [
    _query(flag, {"type": "boolean", "default": True}, f"Show {flag} alerts")
    for flag in ("active", "silenced", "inhibited")
]
_RECEIVER_PARAM = _query("receiver", {"type": "string"}, "A regex matching receivers")
_SILENCE_ID: JSONObject = {
    "name": "silence_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def _operation(
    operation_id: str, summary: str, responses: JSONObject, parameters: list[JSON] | None = None
) -> JSONObject:
    item: JSONObject = {
        "operationId": operation_id,
        "tags": ["Alertmanager"],
        "summary": summary,
        "responses": {**responses, "500": {"description": "Internal error", **_TEXT_ERROR}},
    }
    if parameters:
        item["parameters"] = parameters
    return item


# As Alertmanager: the handler's own refusals are text, a request that does not fit this document is
# refused before the handler with go-swagger's {code, message}.
_SCHEMA_ERROR: JSONObject = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
}
_BAD_REQUEST: JSONObject = {
    "400": {"description": "Bad request", **_json({"oneOf": [{"type": "string"}, _SCHEMA_ERROR]})}
}
_UNPROCESSABLE: JSONObject = {
    "422": {"description": "A required property is missing", **_json(_SCHEMA_ERROR)}
}

OPENAPI_PATHS: dict[str, JSONObject] = {
    "/api/v2/alerts": {
        "get": _operation(
            "getAlerts",
            "Alertmanager: list alerts",
            {
                "200": {"description": "Alerts", **_json({"type": "array", "items": _GETTABLE_ALERT})},
                **_BAD_REQUEST,
            },
            [
                *_FLAGS,
                _query("unprocessed", {"type": "boolean"}, "Show unprocessed alerts"),
                _FILTER,
                _RECEIVER_PARAM,
            ],
        ),
        "post": {
            **_operation(
                "postAlerts",
                "Alertmanager: create or refresh alerts",
                {
                    "200": {"description": "Accepted"},
                    **_BAD_REQUEST,
                    **_UNPROCESSABLE,
                    "429": {
                        "description": "Past limits.max_alerts: the new alerts that did not fit",
                        **_TEXT_ERROR,
                    },
                },
            ),
            "requestBody": {"required": True, **_json({"type": "array", "items": _POSTABLE_ALERT})},
        },
    },
    "/api/v2/alerts/groups": {
        "get": _operation(
            "getAlertGroups",
            "Alertmanager: list alert groups",
            {
                "200": {"description": "Alert groups", **_json({"type": "array", "items": _ALERT_GROUP})},
                **_BAD_REQUEST,
            },
            [
                *_FLAGS,
                _query("muted", {"type": "boolean", "default": True}, "Show groups muted by time intervals"),
                _FILTER,
                _RECEIVER_PARAM,
            ],
        ),
    },
    "/api/v2/silences": {
        "get": _operation(
            "getSilences",
            "Alertmanager: list silences",
            {
                "200": {"description": "Silences", **_json({"type": "array", "items": _GETTABLE_SILENCE})},
                **_BAD_REQUEST,
            },
            [_FILTER],
        ),
        "post": {
            **_operation(
                "postSilences",
                "Alertmanager: create a silence, or update the one with `id`",
                {
                    "200": {
                        "description": "The silence's id",
                        **_json({"type": "object", "properties": {"silenceID": {"type": "string"}}}),
                    },
                    **_BAD_REQUEST,
                    **_UNPROCESSABLE,
                    "404": {"description": "No silence with that id", **_TEXT_ERROR},
                },
            ),
            "requestBody": {"required": True, **_json(_POSTABLE_SILENCE)},
        },
    },
    "/api/v2/silence/{silence_id}": {
        "get": _operation(
            "getSilence",
            "Alertmanager: one silence",
            {
                "200": {"description": "The silence", **_json(_GETTABLE_SILENCE)},
                "404": {"description": "Not found"},
            },
            [_SILENCE_ID],
        ),
        "delete": _operation(
            "deleteSilence",
            "Alertmanager: expire a silence",
            {"200": {"description": "Expired"}, "404": {"description": "Not found"}},
            [_SILENCE_ID],
        ),
    },
    "/api/v2/status": {
        "get": _operation(
            "getStatus",
            "Alertmanager: status of this instance",
            {"200": {"description": "Status", **_json(_STATUS)}},
        ),
    },
    "/api/v2/receivers": {
        "get": _operation(
            "getReceivers",
            "Alertmanager: receivers (our channel names)",
            {"200": {"description": "Receivers", **_json({"type": "array", "items": _RECEIVER})}},
        ),
    },
}
