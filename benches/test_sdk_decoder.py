"""The SDK decoder interface: stock ``AWSEventStreamDecoder`` vs ours (both backends) vs the floor of merely
constructing the ``ServerSentEvent`` objects. Targets: >= 30x stock, within 1.5x of the floor."""

import pytest

from anthropic_eventstream import _bench

CASES = _bench.sdk_decoder_cases(_bench.bedrock_body())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sdk_decoder(timed, case):
    timed(case)
