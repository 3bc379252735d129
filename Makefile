# The whole set-up is two commands: `make run` and `make test`. Both create .venv on first use.
PY := .venv/bin/python
UV := .venv/bin/uv
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/.prefect

.PHONY: install run test lint bench clean

install: .venv/.installed

# Bytecode is compiled at install: PYTHONDONTWRITEBYTECODE (set on our machines) otherwise makes
# every process compile each module it imports again (docs/decisions.md has the cost).
.venv/.installed: pyproject.toml uv.lock Makefile
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(UV) sync --frozen --compile-bytecode --python $(PY)
	touch $@

## run: the nightly job on the bundled sample export (funnel.toml -> data/warehouse/funnel.duckdb)
run: install
	.venv/bin/funnel run --config funnel.toml --as-of 2026-10-31

## test: lint, type-check, the import contracts (pyproject.toml) and the whole test suite
test: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports
	$(PY) -m pytest

lint: install
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: install
	$(PY) bench/run.py

clean:
	rm -rf .venv data/warehouse data/state .prefect
