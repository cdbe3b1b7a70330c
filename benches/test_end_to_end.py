"""Whole streams on mock transports, stock vs opted in: ``AnthropicBedrock`` and first-party ``Anthropic``
``messages.create(stream=True)`` (sync and async; targets >= 10x and >= 5x), the ``messages.stream()`` helper
(>= 3x) and its tool input (8,000 deltas within 1.2x of 1,000 per event); the realistic answer (thinking,
non-ASCII prose, code, citations, tool input, pings: >= 18x / 15x Bedrock sync / async, >= 12x / 10x first-party,
>= 8x the helper, within 1.6x of the floor); boto3 and aiobotocore, on a short answer and on the realistic one
(>= 20x ``invoke_model_with_response_stream``, >= 15x ``converse_stream``, >= 12x aiobotocore)."""

import pytest

from anthropic_eventstream import _bench

CASES = [
    *_bench.end_to_end_cases(_bench.bedrock_body()),
    *_bench.first_party_cases(_bench.first_party_body()),
    *_bench.helper_cases(_bench.first_party_body()),
    *_bench.tool_input_cases(),
    *_bench.realistic_cases(),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}-{c.name}" for c in CASES])
def test_end_to_end(timed, case):
    timed(case)


BOTOCORE_CASES = [
    *_bench.botocore_cases(_bench.bedrock_body()),
    *_bench.botocore_cases(_bench.converse_body(), "ConverseStream"),
    *_bench.aiobotocore_cases(_bench.bedrock_body()),
    *_bench.botocore_cases(_bench.realistic_bedrock_body(_bench.REALISTIC_DELTAS), target=20, label=", realistic"),
    *_bench.botocore_cases(
        _bench.realistic_converse_body(_bench.REALISTIC_DELTAS), "ConverseStream", target=15, label=", realistic"
    ),
    *_bench.aiobotocore_cases(_bench.realistic_bedrock_body(_bench.REALISTIC_DELTAS), target=12, label=", realistic"),
]


@pytest.mark.parametrize("case", BOTOCORE_CASES, ids=[f"{c.group}-{c.name}" for c in BOTOCORE_CASES])
def test_botocore_event_stream(timed, case):
    timed(case)
