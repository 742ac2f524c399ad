# Two commands on a fresh machine: `make run` and `make test`. Both set themselves up.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUF_VERSION := 1.75.0
BUF := .tools/node_modules/.bin/buf
AXE_VERSION := 4.14.1
# The accessibility checker the console's browser tests inject into its pages.
AXE := .tools/node_modules/axe-core/axe.min.js
PYTHON3 ?= python3
# The compiled hot paths (native/, Rust, no crates to download): built into the package, loaded by
# alerting_server/native.py. Without cargo the server takes its pure-Python paths; CI requires it.
CARGO ?= $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)
NATIVE := alerting_server/libalerting_native.so

.PHONY: setup run run-ha test lint gen gen-check fmt bench peers clean

$(STAMP): pyproject.toml
	$(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(BUF):
	npm install --prefix .tools --no-audit --no-fund --silent @bufbuild/buf@$(BUF_VERSION)

$(AXE):
	npm install --prefix .tools --no-audit --no-fund --silent axe-core@$(AXE_VERSION)

$(NATIVE): native/Cargo.toml native/src/lib.rs
	@if [ -x "$(CARGO)" ]; then \
		$(CARGO) build --quiet --release --offline --manifest-path native/Cargo.toml && \
		cp native/target/release/libalerting_native.so $@; \
	else echo "no cargo: the server runs without its compiled paths (alerting_server/native.py)"; fi

setup: $(STAMP) $(BUF) $(AXE) $(NATIVE)

run: $(STAMP) $(NATIVE)
	$(VENV)/bin/alerting-server serve

# Three replicas on the local PostgreSQL (database alerting_ha): gRPC 50051-50053, REST 8081-8083.
run-ha: $(STAMP) $(NATIVE)
	scripts/peers.sh
	$(PY) scripts/run_ha.py $(ARGS)

gen: $(STAMP)
	scripts/gen.sh

gen-check: $(STAMP)
	scripts/gen.sh --check

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint: setup gen-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(BUF) lint
	@if [ -x "$(CARGO)" ]; then \
		$(CARGO) fmt --manifest-path native/Cargo.toml --check && \
		$(CARGO) clippy --quiet --release --offline --manifest-path native/Cargo.toml -- -D warnings; fi

peers:
	scripts/peers.sh
	scripts/install-prometheus.sh
	scripts/browser.sh

test: lint peers
	$(VENV)/bin/pytest

bench: $(STAMP) $(NATIVE)
	scripts/peers.sh
	scripts/install-prometheus.sh
	@for b in bench/*_bench.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache native/target $(NATIVE)
