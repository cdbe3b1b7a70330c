"""Per-event cost against chunk size, one 5 MB buffer down to 1 KB chunks. Target: 5 MB within 1.2x of
16 KB for us (botocore degrades with buffered bytes)."""

import pytest

from anthropic_eventstream import _bench

CASES = _bench.chunking_cases(_bench.bedrock_body())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_chunking(timed, case):
    timed(case)
