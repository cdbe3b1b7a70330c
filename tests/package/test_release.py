"""The release and CI workflows (``.github/workflows``) cannot run here; this keeps them honest.

It holds the support matrix: which CPythons the package is tested on (Linux: every one; macOS and Windows: a
subset), that each wheel kind of the release plan (``tools/check_wheels.py``) is built on every platform the
README names and installed as built, that the metadata says what is tested (``Requires-Python``, the
classifiers, the README's wheel tags), that ``rust-version`` is the real floor and CI builds with exactly that
toolchain, trusted publishing with attestations, and that every file and make target the workflows name exists.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")
tomllib = pytest.importorskip("tomllib")  # 3.11+: a 3.10 run leaves the repository checks to the others

ROOT = Path(__file__).resolve().parent.parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
pytestmark = pytest.mark.skipif(
    not WORKFLOWS.is_dir(), reason="an installed copy of the tests, away from the repository"
)

#: What is supported, and so tested on Linux (both free-threaded builds included).
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
FREE_THREADED = ["3.14t", "3.15t"]
#: The platforms the README names, as wheels.yml calls them.
PLATFORMS = {
    "manylinux-x86_64",
    "manylinux-aarch64",
    "musllinux-x86_64",
    "musllinux-aarch64",
    "macos-x86_64",
    "macos-arm64",
    "windows-x64",
}


def workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())  # type: ignore[no-any-return]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["steps"]  # type: ignore[no-any-return]


def plan() -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("check_wheels", ROOT / "tools" / "check_wheels.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_wheels", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.PLAN  # type: ignore[no-any-return]


def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def wheel_jobs() -> dict[str, Any]:
    return workflow("wheels")["jobs"]  # type: ignore[no-any-return]


def test_every_platform_builds_every_wheel_kind_and_inspects_them() -> None:
    build = wheel_jobs()["build"]
    assert {m["platform"] for m in build["strategy"]["matrix"]["include"]} == PLATFORMS
    assert {m["manylinux"] for m in build["strategy"]["matrix"]["include"] if "manylinux-" in m["platform"]} == {"2_17"}
    args = [s["with"]["args"] for s in steps(build) if s.get("uses", "").startswith("PyO3/maturin-action@")]
    kinds = plan()
    for key, kind in kinds.items():
        assert any(f"-i {kind.built_with}" in a.split("--out dist ")[-1] for a in args), f"no {key} build"
    assert len(args) == len(kinds)
    assert any("tools/check_wheels.py" in s.get("run", "") for s in steps(build)), "the wheels are not inspected"


def test_linux_tests_every_supported_python_and_the_others_a_subset() -> None:
    tests = wheel_jobs()["test"]["strategy"]["matrix"]["include"]
    by_platform: dict[str, set[str]] = {}
    for entry in tests:
        by_platform.setdefault(entry["platform"], set()).add(entry["python"])
    assert by_platform["manylinux-x86_64"] == set(PYTHONS + FREE_THREADED)
    assert set(by_platform) == PLATFORMS, "a platform's wheels are built and never tested"
    for platform in ("macos-arm64", "windows-x64"):
        assert {"3.10", "3.14", *FREE_THREADED} <= by_platform[platform], platform
    every_kind = {"3.10", "3.14t", "3.15t"}  # cp310-abi3, cp314t, abi3t
    assert every_kind <= set().union(*(by_platform[p] for p in PLATFORMS if p.startswith("manylinux")))


def test_each_test_installs_the_built_wheel_and_runs_the_suite() -> None:
    test = wheel_jobs()["test"]
    assert test["needs"] == "build"
    runs = [s["run"] for s in steps(test) if "run" in s]
    assert len(runs) == 2  # a runner's Python, and the musl containers
    for run in runs:
        assert "--no-index --only-binary=:all: --no-deps --find-links dist anthropic-eventstream" in run
        assert "pytest" in run and run.rstrip().rstrip("'").rstrip().endswith("tests")
    assert test["env"]["ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE"] == "1"
    assert "PYTHON_GIL" not in json.dumps(wheel_jobs()), (
        "the GIL must not be forced off: tests/frames/test_threads.py checks"
    )


def test_ci_and_release_run_the_same_wheels_workflow() -> None:
    assert workflow("ci")["jobs"]["wheels"]["uses"] == "./.github/workflows/wheels.yml"
    release = workflow("release")["jobs"]
    assert release["wheels"]["uses"] == "./.github/workflows/wheels.yml"
    assert any(s.get("with", {}).get("command") == "sdist" for s in steps(release["sdist"]))


def test_the_metadata_says_what_is_tested() -> None:
    meta = project()
    assert meta["requires-python"] == f">={PYTHONS[0]}"
    versions = [c.rsplit(" :: ", 1)[1] for c in meta["classifiers"] if re.fullmatch(r".*Python :: 3\.\d+", c)]
    assert versions == PYTHONS
    free = [c for c in meta["classifiers"] if "Free Threading" in c]
    assert free == ["Programming Language :: Python :: Free Threading :: 2 - Beta"], free
    readme = (ROOT / "README.md").read_text()
    for kind in plan():
        assert f"`{kind}`" in readme, f"the README's install section does not list {kind}"
    assert f"CPython {PYTHONS[0]} to {PYTHONS[-1]}" in readme


def test_rust_version_is_the_real_floor_and_ci_builds_with_it() -> None:
    declared = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["rust-version"]
    msrv = workflow("ci")["jobs"]["msrv"]
    toolchain = next(s["uses"] for s in steps(msrv) if s.get("uses", "").startswith("dtolnay/rust-toolchain@"))
    assert toolchain.split("@")[1] in {declared, f"{declared}.0"}
    assert all(
        f"+{toolchain.split('@')[1]} build --locked" in line
        for line in next(s["run"] for s in steps(msrv) if "run" in s).strip().splitlines()
    )
    if shutil.which("cargo") is None:
        pytest.skip("no cargo here to read the dependency graph")
    floor = max(needed_by_the_extension(), key=lambda v: tuple(map(int, v.split("."))))
    assert tuple(map(int, declared.split("."))) == tuple(map(int, floor.split(".")))[:2], (
        f"rust-version {declared}, but what the extension builds needs {floor}"
    )


def needed_by_the_extension() -> set[str]:
    """The ``rust-version`` of every crate the extension compiles (normal and build dependencies, from the
    lock file; dev-dependencies, which only the tests build, left out)."""
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    meta = json.loads(out)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(i for i, p in packages.items() if p["name"] == "anthropic-eventstream-py")
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for dep in nodes[node]["deps"]:
            if any(k["kind"] != "dev" for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    return {packages[i]["rust_version"] for i in seen if packages[i].get("rust_version")}


def test_publishing_is_trusted_and_attested() -> None:
    publish = workflow("release")["jobs"]["publish"]
    assert set(publish["needs"]) == {"wheels", "sdist"}
    assert publish["permissions"]["id-token"] == "write"
    assert publish["permissions"]["attestations"] == "write"
    uses = {s.get("uses", "").split("@")[0]: s for s in steps(publish)}
    assert uses["pypa/gh-action-pypi-publish"]["with"]["attestations"] is True
    assert "actions/attest-build-provenance" in uses
    assert not any("secrets." in str(s) for s in steps(publish)), "trusted publishing needs no stored token"


def test_ci_runs_lint_and_tests() -> None:
    jobs = workflow("ci")["jobs"]
    assert any(s.get("run") == "make lint" for s in steps(jobs["lint"]))
    assert any(s.get("run") == "make test" for s in steps(jobs["linux"]))


def test_every_action_is_pinned_and_every_named_file_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        for action in re.findall(r"uses: ([^\s]+)", text):
            assert "@" in action or action.startswith("./"), f"{path.name}: {action} is not pinned"
            if action.startswith("./"):
                assert (ROOT / action).is_file(), f"{path.name} calls {action}, which does not exist"
        for named in re.findall(r"(?:requirements|tools)/[\w.-]+", text):
            assert (ROOT / named).is_file(), f"{path.name} names {named}, which does not exist"
        for target in re.findall(r"make (\w+)", text):
            assert re.search(rf"^{target}:", makefile, re.M), f"{path.name} runs make {target}, which does not exist"


def test_the_supported_anthropic_range_is_written_in_one_place() -> None:
    """``_anthropic/range.py`` holds the range; the package's extra asks for its oldest release, and ``make ci``'s
    SDK matrix tests that release (and the newest, which the main run has)."""
    from anthropic_eventstream._anthropic.range import _SUPPORTED, SUPPORTED_RANGE

    oldest = ".".join(map(str, _SUPPORTED[0]))
    assert SUPPORTED_RANGE.startswith(f">={oldest},")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    asked = {req for reqs in extras.values() for req in reqs if req.startswith("anthropic")}
    assert asked == {f"anthropic[bedrock]>={oldest}"}, asked
    matrix = re.search(r"^SDK_VERSIONS \?= (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert matrix is not None and f"{oldest}.0" in matrix.group(1).split()
