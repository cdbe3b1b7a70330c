"""Framing only: botocore's ``EventStreamBuffer`` vs ``EventStreamDecoder.feed`` (target >= 30x), and the
payload sizes from 50 bytes to 8 MB."""

import pytest

from anthropic_eventstream import _bench, encode_message

CASES = _bench.framing_cases(_bench.bedrock_body())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_framing(timed, case):
    timed(case)


def _frames(payload_size: int, total: int = 16 * 1024 * 1024) -> bytes:
    frame = encode_message({":message-type": "event", ":event-type": "Records"}, b"x" * payload_size)
    return frame * max(1, total // len(frame))


PAYLOAD_CASES = [
    case
    for size in (50, 1024, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024)
    for case in _bench.framing_cases(_frames(size), chunk=64 * 1024, backends=("native",), group=f"payload {size} B")
]


@pytest.mark.parametrize("case", PAYLOAD_CASES, ids=[f"{c.group}-{c.name}" for c in PAYLOAD_CASES])
def test_payload_sizes(timed, case):
    timed(case)
