# Two commands do everything on a fresh machine: `make render` and `make test`.
# Each creates .venv and installs requirements.txt on first use (and again when requirements.txt changes).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
OUT    ?= build/$(STACK)

.PHONY: render test lint docs clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

render: $(VENV)/.installed
	$(PY) -m offline render --stack $(STACK) --out $(OUT)

lint: $(VENV)/.installed
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest

clean:
	rm -rf build .pytest_cache .ruff_cache

docs: $(VENV)/.installed
	$(PY) -m offline config-docs --write README.md

# Benchmark (issue: offline engine speed). cdk8s-plus is a bench-only dependency in its own venv.
BENCH_VENV := bench/.venv-cdk8s

$(BENCH_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

.PHONY: bench
bench: $(VENV)/.installed $(BENCH_VENV)/.installed
	$(PY) bench/bench.py --cdk8s-python $(BENCH_VENV)/bin/python
