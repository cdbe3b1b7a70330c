"""One suite, both backends: the ``backend`` fixture runs a test once per implementation, importing each
directly (bypassing ``ANTHROPIC_EVENTSTREAM_BACKEND``). Set ``ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE=1`` to
make a missing extension fail the run instead of skipping its half (CI does)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from anthropic_eventstream import _backend

VECTORS = Path(__file__).parent / "vectors"


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


def pytest_report_header() -> str:
    return f"anthropic_eventstream: default backend {_backend.BACKEND}"


def load_vectors() -> tuple[dict[str, bytes], dict[str, Any]]:
    expected = json.loads((VECTORS / "expected.json").read_text())
    frames = {p.name: p.read_bytes() for p in sorted(VECTORS.glob("*/*")) if p.is_file()}
    return frames, expected


def header_from_json(value: Any) -> Any:
    return bytes.fromhex(value["bytes"]) if isinstance(value, dict) else value


def property_settings(examples: int) -> settings:
    """Hypothesis settings for the property tests: ``examples`` per property, derandomized and with no example
    database, so that ``make test`` runs the same examples every time; ``HYPOTHESIS_LONG=1`` (``make
    test-long``) runs ``HYPOTHESIS_EXAMPLES`` (default 20,000) random ones instead."""
    if os.environ.get("HYPOTHESIS_LONG"):
        return settings(
            max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "20000")),
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
    return settings(
        max_examples=examples, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
