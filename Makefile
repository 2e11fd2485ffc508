# Ondigital Connect: the front door. `make help` lists the targets.
VENV ?= .venv
PY := $(VENV)/bin/python
N ?= 50000
KPI_N ?= 1000000
SERVICE_N ?= 1000000

.PHONY: help venv demo test lint bench bench-kpi bench-service fmt docs

help: ## List targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"

venv: $(PY) ## Create .venv and install the project with its dev extra

demo: $(PY) ## Simulated shop -> sandbox -> real Shopify client -> DuckDB -> KPI summary
	$(VENV)/bin/ondigital-connect demo --serve

test: $(PY) ## Lint, then the whole test suite (offline, loopback only)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q
	node --test appsscript/test/

lint: $(PY) ## ruff check
	$(VENV)/bin/ruff check .

docs: $(PY) ## Regenerate docs/kpis.md from the metric registry
	$(VENV)/bin/ondigital-connect kpi-dictionary --output docs/kpis.md

fmt: $(PY) ## ruff format
	$(VENV)/bin/ruff format .

bench: $(PY) ## Throughput benchmark (installs the bench extra with dlt); N=50000 by default
	$(PY) -m pip install -q -e ".[dev,bench]"
	$(PY) bench/sync_throughput.py --orders $(N)

bench-kpi: $(PY) ## KPI query benchmark: build rollups for KPI_N orders (1M by default), time a query
	$(PY) bench/kpi_query.py --orders $(KPI_N)

bench-service: $(PY) ## Service under gunicorn: cached/uncached getData req/s, p50, p99 (demo + SERVICE_N orders)
	$(PY) bench/service_load.py --orders $(SERVICE_N)
