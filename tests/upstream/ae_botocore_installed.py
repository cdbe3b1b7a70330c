"""pytest plugin: runs a test suite (botocore's own event-stream tests) with ``install_botocore()`` in force,
and checks that the tests collected do use this package's ``EventStreamBuffer`` (the subclass
``install_botocore()`` makes for the installation)."""

import sys

import anthropic_eventstream


def pytest_configure(config: object) -> None:
    anthropic_eventstream.install_botocore()


def pytest_collection_finish(session: object) -> None:
    module = sys.modules.get("tests.unit.test_eventstream")
    installed = getattr(module, "EventStreamBuffer", None)
    if module is not None and not (
        isinstance(installed, type) and issubclass(installed, anthropic_eventstream.EventStreamBuffer)
    ):
        raise RuntimeError("botocore's tests did not pick up anthropic_eventstream.EventStreamBuffer")
