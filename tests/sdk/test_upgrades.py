"""Upgrading anthropic never stops an app: simulated future releases of the SDK, each changing one seam.

For each, the default ``install()`` and ``accelerate()`` leave that seam as the SDK's own with one
``RuntimeWarning`` and one log record naming it, keep every other seam (a stream still decodes, a cut-off one
is still ``APIConnectionError``, a mid-stream error still has its real status wherever those seams match), and
``diagnostics()`` says the same; ``strict=True`` raises ``SDKChangedError`` naming the seam and patches nothing.
"""

from __future__ import annotations

import gc
import logging
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")
pytest.importorskip("botocore")

import anthropic_eventstream as ae  # noqa: E402
from anthropic_eventstream import _patching, testing  # noqa: E402
from anthropic_eventstream._anthropic import install as _install  # noqa: E402
from anthropic_eventstream._anthropic import range as sdk_range  # noqa: E402
from tests.helpers import drive, sdk_state  # noqa: E402

EVENTS = testing.message_events("An answer long enough for a few deltas.", pieces=4)
TYPES = [event["type"] for event in EVENTS]
OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def _forget_what_was_learned() -> None:
    """The SDK's profile is learned once per process; a simulated release must be learned afresh."""
    _install.forget_learned()
    _patching._warned.clear()  # the log record is once per process for the same seams


def _with_request_id(original: Any) -> Any:
    """``original`` (a ``_make_status_error``), as a release might change it: one more keyword."""

    def _make_status_error(self: Any, err_msg: str, *, body: object, response: Any, request_id: Any = None) -> Any:
        return original(self, err_msg, body=body, response=response)

    return _make_status_error


def _changed_signature(monkeypatch: pytest.MonkeyPatch) -> Any:
    from anthropic_eventstream._anthropic.clients import client_classes

    owners = {next(k for k in cls.__mro__ if "_make_status_error" in vars(k)) for cls, _, _ in client_classes()}
    for owner in owners:  # where each client class has it (anthropic 0.40 defines it per client)
        monkeypatch.setattr(owner, "_make_status_error", _with_request_id(vars(owner)["_make_status_error"]))
    return {}


def _missing_attribute(monkeypatch: pytest.MonkeyPatch) -> Any:
    from anthropic._base_client import BaseClient

    if not hasattr(BaseClient, "_should_retry_exception"):  # pragma: no cover - anthropic 0.40 has none
        pytest.skip("this SDK has no _should_retry_exception to lose")
    monkeypatch.delattr(BaseClient, "_should_retry_exception")
    return {"retry_before_content": True}


def _renamed_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    # the SDK's Bedrock client keeps the class it imported; the module it came from is gone
    monkeypatch.setitem(sys.modules, "anthropic.lib.bedrock._stream_decoder", None)
    return {}


def _new_client_class(monkeypatch: pytest.MonkeyPatch) -> Any:
    from anthropic._base_client import SyncAPIClient

    cls = type("AnthropicNewCloud", (SyncAPIClient,), {"__module__": "anthropic.lib.new_cloud"})
    monkeypatch.setattr(sys.modules[__name__], "_NEW_CLIENT", cls, raising=False)
    return {}


def _changed_loop(monkeypatch: pytest.MonkeyPatch) -> Any:
    from anthropic._streaming import Stream

    if sdk_range.installed() < sdk_range.REVIEWED_LOOPS_SINCE:  # pragma: no cover - older SDKs
        pytest.skip("this SDK's stream loop is older than the reviewed ones: the SDK's own runs by design")
    original = Stream.__stream__

    def __stream__(self: Any) -> Iterator[Any]:
        yield from original(self)

    monkeypatch.setattr(Stream, "__stream__", __stream__)
    return {}


def _moved_helper(monkeypatch: pytest.MonkeyPatch) -> Any:
    from anthropic.lib.streaming import MessageStream

    monkeypatch.setattr(MessageStream, "__module__", "anthropic.lib.streaming._messages_v3")
    return {}


#: name -> (the change, the seams it turns off)
RELEASES: dict[str, tuple[Callable[[pytest.MonkeyPatch], Any], set[str]]] = {
    "changed-signature": (_changed_signature, {"typed errors"}),
    "missing-private-attribute": (_missing_attribute, {"retry before content"}),
    "renamed-module": (_renamed_module, {"Bedrock decoding"}),
    "new-client-class": (_new_client_class, {"client classes"}),
    "changed-loop": (_changed_loop, {"stream loop"}),
    "moved-helper": (_moved_helper, {"messages.stream() helper"}),
}


@pytest.fixture(params=sorted(RELEASES))
def release(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, Any]]]:
    """One simulated release: (its name, the options to opt in with)."""
    change, _ = RELEASES[request.param]
    _forget_what_was_learned()
    options = change(monkeypatch)
    yield request.param, options
    ae.uninstall()
    monkeypatch.undo()
    globals().pop("_NEW_CLIENT", None)
    gc.collect()  # a class lives on in its bases' __subclasses__() until collected
    _forget_what_was_learned()


def _clients(is_async: bool, body: Callable[[str], bytes]) -> list[tuple[str, Any]]:
    return [
        ("first-party", testing.mock_anthropic_client(body("sse"), is_async=is_async)),
        ("bedrock", testing.mock_bedrock_client(body("bedrock"), is_async=is_async)),
    ]


def _body(events: list[Any]) -> Callable[[str], bytes]:
    return lambda kind: testing.anthropic_sse(events) if kind == "sse" else testing.bedrock_stream(events)


def _works(opt_in: Callable[[Any], Any], off: set[str], is_async: bool) -> None:
    """A client opted in (``opt_in``) streams as it should with the seams ``off`` as the SDK's own."""
    for kind, client in _clients(is_async, _body(EVENTS)):
        seen, exc = drive(opt_in(client), is_async)
        assert exc is None and seen == TYPES, (kind, exc)
        seen, exc = drive(opt_in(client), is_async, helper=True)
        assert exc is None and seen[-1] == "message_stop", (kind, exc)
    for kind, client in _clients(is_async, _body(EVENTS[:-2])):  # cut off: the integrity check stays on
        _, exc = drive(opt_in(client), is_async)
        assert type(exc) is anthropic.APIConnectionError, (kind, repr(exc))
    client = testing.mock_anthropic_client(testing.anthropic_sse([*EVENTS[:2], OVERLOADED]), is_async=is_async)
    _, exc = drive(opt_in(client), is_async)
    assert isinstance(exc, anthropic.APIStatusError)
    assert exc.status_code == (200 if "typed errors" in off else 529)


def test_install_warns_and_keeps_every_other_seam(
    release: tuple[str, dict[str, Any]], is_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    name, options = release
    off = RELEASES[name][1]
    with caplog.at_level(logging.WARNING, "anthropic_eventstream"), pytest.warns(RuntimeWarning) as warned:
        ae.install(**options)
    assert len(warned) == 1 and all(seam in str(warned[0].message) for seam in off)
    records = [record for record in caplog.records if record.name == "anthropic_eventstream"]
    assert len(records) == 1 and all(seam in records[0].getMessage() for seam in off)
    found = {capability.seam: capability for capability in _install.installed_seams()}
    assert {seam for seam, capability in found.items() if capability.changed} == off
    assert ae.is_installed()
    report = ae.diagnostics()["seams"]  # which asks for retry_before_content too
    reported = {seam for seam, path in report.items() if not path["on"] and not path.get("expected")}
    assert reported - {"retry before content"} == off - {"retry before content"}
    _works(lambda client: client, off, is_async)


def test_the_warning_is_logged_once_per_process(release: tuple[str, dict[str, Any]]) -> None:
    _, options = release
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("anthropic_eventstream")
    logger.addHandler(handler)
    try:
        for _ in range(3):
            with pytest.warns(RuntimeWarning):
                ae.install(**options)
    finally:
        logger.removeHandler(handler)
    assert len([record for record in records if record.levelno == logging.WARNING]) == 1


def _client_for(release: str, is_async: bool) -> Any:
    """A client whose class the simulated release's seams apply to (Bedrock decoding: a Bedrock client's)."""
    if release == "renamed-module":
        return testing.mock_bedrock_client(b"", is_async=is_async)
    return testing.mock_anthropic_client(b"", is_async=is_async)


#: Seams of the SDK as a whole, which ``install()`` patches and ``accelerate()`` (one client) does not touch.
_INSTALL_ONLY = {"client classes", "messages.stream() helper"}


def test_accelerate_warns_and_keeps_every_other_seam(release: tuple[str, dict[str, Any]], is_async: bool) -> None:
    name, options = release
    off = RELEASES[name][1] - _INSTALL_ONLY
    if off:
        with pytest.warns(RuntimeWarning) as warned:
            ae.accelerate(_client_for(name, is_async), **options)
        assert len(warned) == 1 and all(seam in str(warned[0].message) for seam in off)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # warned once above
        _works(lambda client: ae.accelerate(client, **options), RELEASES[name][1], is_async)


def test_strict_refuses_naming_every_changed_seam_and_patches_nothing(release: tuple[str, dict[str, Any]]) -> None:
    name, options = release
    state = sdk_state()
    with pytest.raises(ae.SDKChangedError, match=r"install\(strict=True\)") as raised:
        ae.install(strict=True, **options)
    assert all(seam in str(raised.value) for seam in RELEASES[name][1])
    assert sdk_state() == state and not ae.is_installed()
    off = RELEASES[name][1] - _INSTALL_ONLY
    if off:
        client = _client_for(name, False)
        cls = type(client)
        with pytest.raises(ae.SDKChangedError, match=r"accelerate\(strict=True\)"):
            ae.accelerate(client, strict=True, **options)
        assert type(client) is cls


def test_a_client_class_accelerate_does_not_know_is_left_as_it_is() -> None:
    from anthropic._base_client import SyncAPIClient

    cls = type("AnthropicNewCloud", (SyncAPIClient,), {"__module__": "anthropic.lib.new_cloud"})
    client = object.__new__(cls)
    try:
        with pytest.warns(RuntimeWarning, match="AnthropicNewCloud is a client class this version does not know"):
            assert type(ae.accelerate(client)) is cls
        with pytest.raises(ae.SDKChangedError, match="AnthropicNewCloud"):
            ae.accelerate(client, strict=True)
    finally:
        del client, cls
        gc.collect()


def test_every_seam_is_on_for_the_installed_sdk() -> None:
    """The SDKs this version supports (the SDK matrix runs this on each): nothing to warn about."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ae.install(strict=True)
        ae.uninstall()
    found = _install.capabilities(_install.Options(None, False, None))
    assert [capability.seam for capability in found if capability.changed] == []
    assert {capability.seam for capability in found} <= set(_install.SEAMS)
