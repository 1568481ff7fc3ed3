"""PhonePe's answer shapes: success JSON, API errors, OAuth errors, control-API errors.

API errors are ``{"success": false, "code", "message", "data": {}}``; OAuth errors are
``{"code", "errorCode", "message", "context": {}}``. Nothing here knows about state.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

__all__ = [
    "MAPPING_NOT_FOUND",
    "api_error",
    "control_error",
    "json_response",
    "mapping_not_found",
    "oauth_error",
]

_JSON = "application/json"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type=_JSON, headers=headers)


def api_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return json_response(
        {"success": False, "code": code, "message": message, "data": {}}, status, headers
    )


def oauth_error(
    status: int, code: str, error_code: str, message: str, context: dict[str, Any] | None = None
) -> Response:
    return json_response(
        {"code": code, "errorCode": error_code, "message": message, "context": context or {}},
        status,
    )


#: What PhonePe's edge answers for a path no API is mapped to (under that host prefix).
MAPPING_NOT_FOUND = {"message": "Bad Request - Api Mapping Not Found"}


def mapping_not_found() -> Response:
    return json_response(MAPPING_NOT_FOUND, 400)


def control_error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message}}, status)


#: Default code for an injected or generic error status.
STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "AUTHORIZATION_FAILED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


def status_code_name(status: int) -> str:
    return STATUS_CODES.get(status, "INTERNAL_SERVER_ERROR" if status >= 500 else "BAD_REQUEST")
