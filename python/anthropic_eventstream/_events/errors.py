"""What a mid-stream error means to the ``anthropic`` SDK: the HTTP status each Bedrock exception type and each
Anthropic ``error.type`` stands for, and the error body an exception or error frame becomes (every field kept).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "ANTHROPIC_ERROR_STATUS",
    "BEDROCK_EXCEPTION_STATUS",
    "DEFAULT_ERROR_STATUS",
    "ErrorBody",
    "frame_error_body",
    "status_for_error",
]

#: Bedrock ``:exception-type`` -> the HTTP status Bedrock gives the same error before a stream starts.
BEDROCK_EXCEPTION_STATUS: dict[str, int] = {
    "internalServerException": 500,
    "serviceUnavailableException": 503,
    "throttlingException": 429,
    "modelNotReadyException": 429,
    "validationException": 400,
    "serviceQuotaExceededException": 400,
    "conflictException": 400,
    "modelTimeoutException": 408,
    "modelStreamErrorException": 424,
    "modelErrorException": 424,
    "accessDeniedException": 403,
    "resourceNotFoundException": 404,
}

#: Anthropic ``error.type`` (in-band on Bedrock, ``event: error`` first-party) -> HTTP status.
ANTHROPIC_ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

#: Anything else: an unmodeled server-side failure.
DEFAULT_ERROR_STATUS = 500


class ErrorBody(dict):  # type: ignore[type-arg]
    """The body of an error built from an ``exception``/``error`` frame: a plain ``dict`` that also carries
    the status the frame maps to, since an ``error`` frame's code is free text that must not be matched
    against the exception table."""

    __slots__ = ("status_code",)

    def __init__(self, data: dict[str, Any], status_code: int) -> None:
        super().__init__(data)
        self.status_code = status_code


def status_for_error(body: object) -> int | None:
    """The real status of a mid-stream error body, or ``None`` if ``body`` is not an error envelope."""
    status = getattr(body, "status_code", None)
    if isinstance(status, int):
        return status
    if not isinstance(body, dict) or body.get("type") != "error" or not isinstance(body.get("error"), dict):
        return None
    kind = body["error"].get("type")
    if not isinstance(kind, str):
        return DEFAULT_ERROR_STATUS
    return BEDROCK_EXCEPTION_STATUS.get(kind) or ANTHROPIC_ERROR_STATUS.get(kind) or DEFAULT_ERROR_STATUS


#: Error payloads nested deeper than this keep their text as the message instead of their fields: the SDK
#: formats an error body with ``repr``, which such nesting would take past the recursion limit.
MAX_ERROR_DEPTH = 32


def _depth(value: object) -> int:
    """How deeply ``value`` (decoded JSON) nests, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                deepest = max(deepest, level + 1)
                stack.append((child, level + 1))
    return deepest


def _header_text(value: object) -> object:
    """A header value as it can stand in JSON: strings and numbers as they are, bytes as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def frame_error_body(message: Any) -> ErrorBody:
    """``{"type": "error", "error": {"type": ..., "message": ..., <every other payload field>}}``.

    Never raises, whatever the frame holds (headers of any type, any payload): it runs while the events
    before the frame are waiting to be delivered."""
    headers = message.headers
    if message.message_type != "exception":
        error = {
            "type": _header_text(headers.get(":error-code")),
            "message": _header_text(headers.get(":error-message", "")),
        }
        return ErrorBody({"type": "error", "error": error}, DEFAULT_ERROR_STATUS)
    kind = headers.get(":exception-type")
    payload = bytes(message.payload)
    try:
        fields = json.loads(payload)
    except (ValueError, RecursionError):
        fields = None
    if not isinstance(fields, dict) or _depth(fields) > MAX_ERROR_DEPTH:
        fields = {"message": payload.decode("utf-8", "replace")}
    text = fields.get("message", fields.get("Message", ""))
    error = {"type": _header_text(kind), "message": text}
    error.update((k, v) for k, v in fields.items() if k not in ("type", "message"))
    status = BEDROCK_EXCEPTION_STATUS.get(kind, DEFAULT_ERROR_STATUS) if isinstance(kind, str) else DEFAULT_ERROR_STATUS
    return ErrorBody({"type": "error", "error": error}, status)
