# The two commands a newcomer needs:
#   make demo   build the extension, stream a Bedrock capture through the SDK, stock vs accelerated
#   make test   the fast gate (a few minutes): lint, cargo tests, the suite on both backends
# and what CI runs besides: make ci (the SDK and Python matrices, the SDK's own suite, reach, the package
# check, memcheck, fuzz smoke; the release wheel built once). All start from nothing but Python 3.10+ and a
# Rust toolchain; all else is installed into .venv/ (and .venvs/).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SDK_VERSIONS ?= 1.0.0 0.125.0 0.40.0
WHEEL_DIR := target/wheels

.PHONY: demo test ci stall-load test-long lint unasync venv build dev wheel cargo-test memcheck pytest sdk-matrix sdk-suite python-matrix reach \
  package-check bench fuzz-smoke clean
SHELL := /bin/bash

$(VENV)/.installed: requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.txt
	touch $@

venv: $(VENV)/.installed

build: venv
	$(VENV)/bin/maturin develop --release -q

# The inner loop's build: the extension unoptimised, in seconds, for what does not measure speed (lint, and
# `pytest tests/<folder>` while working); `make build` (what `make test` and `make demo` use) puts the release
# one back.
dev: venv
	$(VENV)/bin/maturin develop -q

demo: build
	$(PY) examples/demo.py

test: lint cargo-test pytest

ci: sdk-matrix sdk-suite python-matrix reach package-check memcheck fuzz-smoke stall-load

# Style and types: ruff, rustfmt, clippy (pedantic), mypy --strict, and the stub checked against the extension.
lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cargo fmt --all --check
	cargo clippy -q --workspace --all-targets -- -D warnings
	$(PY) -m mypy
	$(PY) -m mypy.stubtest anthropic_eventstream._native
	$(PY) tools/unasync.py --check

# The sync twins (tools/unasync.py's TWINS) rewritten from their async functions, which are the ones to edit.
unasync: venv
	$(PY) tools/unasync.py

cargo-test:
	cargo test --workspace --exclude anthropic-eventstream-py -q

# The core's unit tests under valgrind memcheck: no invalid access, no leak.
memcheck:
	@if ! command -v valgrind >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing valgrind (apt-get)"; apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; fi
	@if command -v valgrind >/dev/null; then \
	  CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9" \
	    cargo test -p anthropic-eventstream-core --lib -q; \
	else echo "SKIPPED: valgrind is not installed and cannot be installed here; the memcheck run of the core tests did not run"; fi

pytest: build
	ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE=1 $(PY) -m pytest -q -n 2
	ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE=1 ANTHROPIC_EVENTSTREAM_BACKEND=python $(PY) -m pytest -q -n 2 -m "not native" \
	  tests/sdk/test_clients.py

# The wheel as released for Linux: manylinux2014 (glibc 2.17), cross-linked with zig from PyPI.
wheel: venv
	rm -rf $(WHEEL_DIR)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/maturin build --release -q --zig --compatibility manylinux2014 -o $(WHEEL_DIR)

# The suite against that wheel on every supported CPython that pyenv has here (3.11 is the main run), each with
# the anthropic release pip resolves for it; at least three must be found.
PYENV_ROOT ?= $(HOME)/.pyenv
MATRIX_PYTHONS := $(foreach v,3.10 3.12 3.13 3.14 3.15,$(firstword $(wildcard $(PYENV_ROOT)/versions/$(v).*/bin/python$(v))))
python-matrix: wheel
	@test $(words $(MATRIX_PYTHONS)) -ge 3 || { echo "python-matrix needs at least three of CPython 3.10, 3.12, 3.13, 3.14, 3.15 (found: $(MATRIX_PYTHONS))"; exit 1; }
	@for py in $(MATRIX_PYTHONS); do \
	  v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  echo "== CPython $$v"; \
	  $$py -m venv --clear .venvs/python-$$v && \
	  .venvs/python-$$v/bin/pip install -q --upgrade pip && \
	  .venvs/python-$$v/bin/pip install -q -r requirements/wheel-test.txt && \
	  .venvs/python-$$v/bin/pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/*.whl && \
	  .venvs/python-$$v/bin/python -c 'import anthropic; print("   anthropic", anthropic.__version__)' && \
	  ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE=1 .venvs/python-$$v/bin/python -m pytest -q -n 2 -p no:cacheprovider tests || exit 1; \
	done

# The SDK suite against older anthropic releases (httpx and httpx2 lines; ValueError and APIStatusError eras),
# each in its own venv with the wheel installed as a user would.
sdk-matrix: wheel
	@for v in $(SDK_VERSIONS); do \
	  echo "== anthropic $$v"; \
	  $(PYTHON) -m venv .venvs/anthropic-$$v && \
	  .venvs/anthropic-$$v/bin/pip install -q --upgrade pip && \
	  .venvs/anthropic-$$v/bin/pip install -q "anthropic[bedrock]==$$v" "pytest>=8" "pytest-xdist>=3.6" "hypothesis>=6.100" && \
	  .venvs/anthropic-$$v/bin/pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/*.whl && \
	  (cd tests && ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE=1 ../.venvs/anthropic-$$v/bin/python -m pytest -q -n 2 -p no:cacheprovider \
	     -W ignore::pytest.PytestUnknownMarkWarning --rootdir=. -c /dev/null \
	     frames/test_decoder.py events sdk policy) || exit 1; \
	done

# The anthropic SDK's own tests (from its sdist), stock and under install(), for 2.12 and the newest release:
# every test failing only when installed must fail for a documented, intended reason, each named
# (tests/upstream/compare.py says which).
SDK_SUITE_VERSIONS ?= 2.12.0 2.17.0
SDK_SUITE_TESTS := tests/test_streaming.py tests/test_client.py tests/test_response.py tests/test_exceptions.py \
  tests/test_open_telemetry.py tests/lib/test_bedrock.py tests/lib/test_vertex.py tests/lib/streaming
sdk-suite: wheel
	@for v in $(SDK_SUITE_VERSIONS); do \
	  echo "== the anthropic $$v suite"; venv=.venvs/sdk-suite-$$v; \
	  $(PYTHON) -m venv $$venv && \
	  $$venv/bin/pip install -q --upgrade pip && \
	  $$venv/bin/pip install -q -r requirements/sdk-suite.txt "anthropic[bedrock,vertex]==$$v" && \
	  $$venv/bin/pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/*.whl && \
	  rm -rf $$venv/src && mkdir -p $$venv/src && \
	  $$venv/bin/pip download -q --no-binary :all: --no-deps -d $$venv/src anthropic==$$v && \
	  tar xzf $$venv/src/anthropic-$$v.tar.gz -C $$venv/src && \
	  tests=$$(cd $$venv/src/anthropic-$$v && ls -d $(SDK_SUITE_TESTS) 2>/dev/null) && \
	  $$venv/bin/python tests/upstream/compare.py $$venv/src/anthropic-$$v $$tests || exit 1; \
	done

# Reach: aiobotocore's real classes, litellm's Bedrock decoder and botocore's own event-stream tests, each
# under install_botocore(), in a venv of their own (aiobotocore pins botocore; litellm is large).
REACH := .venvs/reach
reach: wheel
	$(PYTHON) -m venv --clear $(REACH)
	$(REACH)/bin/pip install -q --upgrade pip
	$(REACH)/bin/pip install -q -r requirements/reach.txt
	$(REACH)/bin/pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/*.whl
	ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE=1 ANTHROPIC_EVENTSTREAM_REQUIRE_REACH=1 LITELLM_LOCAL_MODEL_COST_MAP=True \
	  $(REACH)/bin/python -m pytest -q -p no:cacheprovider tests/boto/test_buffer.py tests/boto/test_litellm.py
	rm -rf $(REACH)/src && mkdir -p $(REACH)/src
	$(REACH)/bin/pip download -q --no-binary :all: --no-deps -d $(REACH)/src \
	  botocore==$$($(REACH)/bin/python -c 'import botocore; print(botocore.__version__)')
	tar xzf $(REACH)/src/botocore-*.tar.gz -C $(REACH)/src --wildcards '*/tests/__init__.py' '*/tests/unit/__init__.py' \
	  '*/tests/unit/test_eventstream.py'
	cd $(REACH)/src/botocore-*/ && PYTHONPATH=$(CURDIR)/tests/upstream $(CURDIR)/$(REACH)/bin/python -m pytest -q \
	  -p no:cacheprovider -p ae_botocore_installed tests/unit/test_eventstream.py

# What a user gets. Every wheel of the release plan (tools/check_wheels.py's PLAN) that builds here, for Linux
# x86_64: the abi3 one (make wheel), and the free-threaded ones, built without their interpreters from maturin's
# own sysconfig of them; each inspected (tags, metadata, file name, entry point, stable ABI, manylinux). Then the
# sdist builds a wheel (in pip's isolated build), and that wheel installs and works in a bare venv with no Rust
# toolchain on PATH.
PKG := target/package
FREE_THREADED := python3.14t python3.15t
package-check: wheel
	rm -rf $(PKG) && mkdir -p $(PKG)/wheels
	for py in $(FREE_THREADED); do \
	  PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/maturin build --release -q --zig --compatibility manylinux2014 \
	    -i $$py -o $(PKG)/wheels || exit 1; \
	done
	$(PY) tools/check_wheels.py --manylinux=manylinux_2_17_x86_64 $(WHEEL_DIR)/*.whl $(PKG)/wheels/*.whl
	$(VENV)/bin/maturin sdist -o $(PKG)
	$(VENV)/bin/pip wheel -q --no-deps -w $(PKG) $(PKG)/*.tar.gz
	$(PYTHON) -m venv $(PKG)/venv && $(PKG)/venv/bin/pip install -q $(PKG)/*.whl
	cd $(PKG) && env -i PATH=/usr/bin:/bin $(CURDIR)/$(PKG)/venv/bin/python -c \
	  "import anthropic_eventstream as ae; assert ae.BACKEND == 'native', ae.BACKEND; print('wheel ok:', ae.__version__, ae.BACKEND)"
	env -i PATH=/usr/bin:/bin $(PKG)/venv/bin/anthropic-eventstream decode examples/bedrock_capture.eventstream | tail -n 1 | cut -c1-100

# Each cargo-fuzz target for a few seconds from the committed corpus (rust/core/fuzz/corpus), on a stable
# toolchain (no sanitizer runtime needed). New inputs go to a scratch corpus under target/, so a run leaves the
# committed corpus as it was; cargo-fuzz itself is installed under target/tools, not into ~/.cargo.
FUZZ_TARGETS := raw_bytes hostile_prelude mutated_headers round_trip chunkings
FUZZ_SECONDS ?= 10
TOOLS := $(CURDIR)/target/tools
CARGO_FUZZ := $(TOOLS)/bin/cargo-fuzz

$(CARGO_FUZZ):
	cargo install cargo-fuzz --locked -q --root $(TOOLS)

fuzz-smoke: $(CARGO_FUZZ)
	cd rust/core && for t in $(FUZZ_TARGETS); do \
	  scratch=$(CURDIR)/target/fuzz-corpus/$$t && rm -rf $$scratch && mkdir -p $$scratch fuzz/corpus/$$t && \
	  $(CARGO_FUZZ) fuzz run --sanitizer none -O $$t $$scratch fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 2>&1 | grep -E "^(stat::number_of_executed_units|Done|==|INFO: .*corpus)" ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# The property tests with many random examples (make test runs a fixed, derandomized set), and longer fuzzing.
test-long: build
	HYPOTHESIS_LONG=1 $(PY) -m pytest -q tests/frames/test_backends_agree.py tests/events/test_bedrock_json.py
	$(MAKE) fuzz-smoke FUZZ_SECONDS=120

# The stall watchdog under load (benches/stall_load.py): 1,000 async streams on one core, 50 of them stalling;
# fails on a healthy stream failed or a stall missed. First its CPU with and without stall_timeout on a loop that
# keeps up, then the same streams on a loop 1-8 s late (the consumer's own work per event). About 3 minutes.
stall-load: build
	$(PY) benches/stall_load.py --deltas 400 --interval 0.005 --repeat 3
	$(PY) benches/stall_load.py --deltas 100 --interval 0.01 --work 0.0001 --repeat 1

bench: build
	$(PY) -m pytest benches -q --benchmark-columns=mean,ops --benchmark-sort=name

clean:
	rm -rf $(VENV) .venvs target
