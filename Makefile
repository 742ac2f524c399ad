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

setup: $(STAMP) $(BUF) $(AXE)

run: $(STAMP)
	$(VENV)/bin/alerting-server serve

# Three replicas on the local PostgreSQL (database alerting_ha): gRPC 50051-50053, REST 8081-8083.
run-ha: $(STAMP)
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

peers:
	scripts/peers.sh
	scripts/install-prometheus.sh
	scripts/browser.sh

test: lint peers
	$(VENV)/bin/pytest

bench: $(STAMP)
	scripts/peers.sh
	scripts/install-prometheus.sh
	@for b in bench/*_bench.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
