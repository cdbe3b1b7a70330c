"""One suite, both backends: the ``backend`` fixture runs a test once per implementation, importing each
directly (bypassing ``ANTHROPIC_EVENTSTREAM_BACKEND``). Set ``ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE=1`` to
make a missing extension fail the run instead of skipping its half (CI does). ``is_async`` runs a test once
through the sync and once through the async client."""

from __future__ import annotations

import os
from typing import Any

import pytest

from anthropic_eventstream import _backend


def _backend_param(name: str) -> Any:
    marks = [pytest.mark.native] if name == "native" else []
    return pytest.param(name, marks=marks, id=name)


@pytest.fixture(params=[_backend_param("native"), _backend_param("python")])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "native" and _backend._native is None:
        if os.environ.get("ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE"):
            pytest.fail(f"the native extension is required but did not import: {_backend._native_error}")
        pytest.skip("native extension not built")
    return name


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def pytest_report_header() -> str:
    return f"anthropic_eventstream: default backend {_backend.BACKEND}"
