"""Backend selection through ANTHROPIC_EVENTSTREAM_BACKEND, each case in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from anthropic_eventstream import _backend

HIDE_NATIVE = "import sys; sys.modules['anthropic_eventstream._native'] = None; "


def run(code: str, backend: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_EVENTSTREAM_BACKEND"}
    if backend is not None:
        env["ANTHROPIC_EVENTSTREAM_BACKEND"] = backend
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.native
def test_auto_prefers_native() -> None:
    if _backend._native is None:
        pytest.skip("native extension not built")
    result = run("import anthropic_eventstream as ae; print(ae.BACKEND)", None)
    assert result.stdout.strip() == "native" and result.stderr == ""


def test_python_is_forced_quietly() -> None:
    result = run("import anthropic_eventstream as ae; print(ae.BACKEND, ae.EventStreamDecoder().backend)", "python")
    assert result.stdout.split() == ["python", "python"] and result.stderr == ""


def test_auto_falls_back_with_one_warning() -> None:
    result = run(HIDE_NATIVE + "import anthropic_eventstream as ae; print(ae.BACKEND)", "auto")
    assert result.stdout.strip() == "python"
    assert result.stderr.count("RuntimeWarning") == 1
    assert "the compiled extension did not import" in result.stderr


def test_native_insists_with_a_clear_error() -> None:
    result = run(HIDE_NATIVE + "import anthropic_eventstream", "native")
    assert result.returncode != 0
    assert "ANTHROPIC_EVENTSTREAM_BACKEND=native, but the compiled extension" in result.stderr


def test_unknown_value_is_an_error() -> None:
    result = run("import anthropic_eventstream", "fast")
    assert "must be 'auto', 'native' or 'python', not 'fast'" in result.stderr


def test_backend_argument_is_checked() -> None:
    import anthropic_eventstream as ae

    with pytest.raises(ValueError, match="backend must be 'native' or 'python', not 'rust'"):
        ae.EventStreamDecoder(backend="rust")


def test_the_package_imports_without_the_sdk_or_pydantic() -> None:
    """The framing needs nothing else: importing the package must not reach for anthropic, pydantic or botocore
    (as in a bare venv; ``make package-check`` checks the same with the built wheel)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "for name in ('anthropic', 'pydantic', 'pydantic_core', 'botocore', 'httpx', 'httpx2', 'jiter'):\n"
        "    sys.modules[name] = None\n"
        "import anthropic_eventstream as ae\n"
        "print(ae.EventStreamDecoder().feed(ae.encode_message({':event-type': 'chunk'}, b'{}'))[0].event_type)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "chunk"
