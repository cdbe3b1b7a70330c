"""The whole ``AnthropicBedrock(...).messages.create(stream=True)`` iteration on a mock transport, stock vs
accelerated, sync and async. Target: >= 1.7x."""

import pytest

from anthropic_eventstream import _bench

CASES = _bench.end_to_end_cases(_bench.bedrock_body())


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}-{c.name}" for c in CASES])
def test_end_to_end(timed, case):
    timed(case)


BOTOCORE_CASES = [
    *_bench.botocore_cases(_bench.bedrock_body()),
    *_bench.botocore_cases(_bench.converse_body(), "ConverseStream"),
    *_bench.aiobotocore_cases(_bench.bedrock_body()),
]


@pytest.mark.parametrize("case", BOTOCORE_CASES, ids=[c.name for c in BOTOCORE_CASES])
def test_botocore_event_stream(timed, case):
    timed(case)
