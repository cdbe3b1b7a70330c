"""The typed-errors seam: the SDK's ``_make_status_error`` given a mid-stream error's real status (the stream itself
was a 200), so that the SDK picks its own typed exception (``RateLimitError``, ``OverloadedError``, ...).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .._events.errors import status_for_error
from .._patching import ours

__all__ = ["typed_status_error"]


def _with_status(response: Any, status: int) -> Any:
    """A copy of ``response`` with the error's real status, and ``request-id`` from Bedrock's header so the
    SDK's exception picks it up."""
    headers = response.headers.copy()
    if "request-id" not in headers and "x-amzn-requestid" in headers:
        headers["request-id"] = headers["x-amzn-requestid"]
    try:
        request = response.request
    except RuntimeError:
        request = None
    return type(response)(status, headers=headers, request=request)


def typed_status_error(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _make_status_error(self: Any, err_msg: str, *, body: object, response: Any) -> Any:
        if 200 <= response.status_code < 300:
            status = status_for_error(body)
            if status is not None:
                response = _with_status(response, status)
        return original(self, err_msg, body=body, response=response)

    return ours(_make_status_error)
