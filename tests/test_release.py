"""The release and CI workflows (``.github/workflows``) cannot run here; this keeps them honest: valid YAML,
every promised platform built and tested, free-threaded builds, trusted publishing with attestations, and every
file and make target they name present in the repository."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
pytestmark = pytest.mark.skipif(
    not WORKFLOWS.is_dir(), reason="an installed copy of the tests, away from the repository"
)


def workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())  # type: ignore[no-any-return]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["steps"]  # type: ignore[no-any-return]


def builds(job: dict[str, Any]) -> list[str]:
    return [s["with"].get("args", "") for s in steps(job) if s.get("uses", "").startswith("PyO3/maturin-action@")]


def test_release_builds_every_platform() -> None:
    jobs = workflow("release")["jobs"]
    linux = {(m["libc"], m["target"]) for m in jobs["linux"]["strategy"]["matrix"]["include"]}
    assert linux >= {
        ("manylinux", "x86_64"),
        ("manylinux", "aarch64"),
        ("musllinux", "x86_64"),
        ("musllinux", "aarch64"),
    }
    assert {m["manylinux"] for m in jobs["linux"]["strategy"]["matrix"]["include"] if m["libc"] == "manylinux"} == {
        "2_17"
    }
    assert {m["target"] for m in jobs["macos"]["strategy"]["matrix"]["include"]} == {"x86_64", "aarch64"}
    assert any(s.get("with", {}).get("target") == "x64" for s in steps(jobs["windows"]))
    assert any(s.get("with", {}).get("command") == "sdist" for s in steps(jobs["sdist"]))


@pytest.mark.parametrize("job", ["linux", "macos", "windows"])
def test_each_platform_builds_abi3_and_free_threaded_wheels_and_tests_them(job: str) -> None:
    jobs = workflow("release")["jobs"]
    args = builds(jobs[job])
    assert any("-i python3.14t" in a for a in args), "no free-threaded build (abi3 cannot serve free-threaded CPython)"
    assert any("-i" not in a.split() for a in args), "no abi3 build"
    assert any("pytest" in s.get("run", "") for s in steps(jobs[job])), "the built wheel is not tested"


def test_publishing_is_trusted_and_attested() -> None:
    publish = workflow("release")["jobs"]["publish"]
    assert set(publish["needs"]) == {"linux", "macos", "windows", "sdist"}
    assert publish["permissions"]["id-token"] == "write"
    assert publish["permissions"]["attestations"] == "write"
    uses = {s.get("uses", "").split("@")[0]: s for s in steps(publish)}
    assert uses["pypa/gh-action-pypi-publish"]["with"]["attestations"] is True
    assert "actions/attest-build-provenance" in uses
    assert not any("secrets." in str(s) for s in steps(publish)), "trusted publishing needs no stored token"


def test_ci_runs_lint_and_tests_on_three_systems() -> None:
    jobs = workflow("ci")["jobs"]
    assert any(s.get("run") == "make lint" for s in steps(jobs["lint"]))
    assert any(s.get("run") == "make test" for s in steps(jobs["linux"]))
    matrix = jobs["other-platforms"]["strategy"]["matrix"]
    assert set(matrix["os"]) == {"macos-latest", "windows-latest"}
    assert set(matrix["python"]) == {"3.9", "3.13"}


def test_every_action_is_pinned_and_every_named_file_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for name in ("release", "ci"):
        text = (WORKFLOWS / f"{name}.yml").read_text()
        for action in re.findall(r"uses: ([^\s]+)", text):
            assert "@" in action, f"{name}: {action} is not pinned"
        for path in re.findall(r"requirements/[\w.-]+", text):
            assert (ROOT / path).is_file(), f"{name} names {path}, which does not exist"
        for target in re.findall(r"make (\w+)", text):
            assert re.search(rf"^{target}:", makefile, re.M), f"{name} runs make {target}, which does not exist"
