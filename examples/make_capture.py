"""Writes bedrock_capture.eventstream: a Bedrock InvokeModelWithResponseStream body for one streamed answer,
in Bedrock's exact wire shape (chunk frames with :event-type / :content-type / :message-type headers, a
base64 Anthropic event and "p" padding in each payload, invocation metrics in message_stop).

It is generated rather than recorded so that the repository carries no account's request ids; the
decoders cannot tell the difference. Run: python examples/make_capture.py"""

from pathlib import Path

from anthropic_eventstream import testing

ANSWER = (
    "An AWS event stream is a sequence of binary frames. Each frame starts with a twelve-byte prelude: "
    "the total length, the length of the headers, and a CRC32 of those eight bytes. Then come the headers, "
    "the payload, and a CRC32 of everything before it. On Bedrock, each payload carries one Anthropic event, "
    "base64-encoded inside a small JSON object, padded to hide the length of the text."
)

if __name__ == "__main__":
    body = testing.bedrock_stream(testing.message_events(ANSWER, model="claude-sonnet-4-5-20250929"))
    Path(__file__).with_name("bedrock_capture.eventstream").write_bytes(body)
    print(f"wrote {len(body)} bytes")
