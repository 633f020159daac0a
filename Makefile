# Thin wrapper: set-up, compare, verify, test, bench. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: compare verify test bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

compare: $(STAMP)
	$(PY) -m harness compare $(if $(SCENARIO),--scenario $(SCENARIO)) $(ARGS)

verify: $(STAMP)
	@test -n "$(SAMPLE)" || { echo "usage: make verify SAMPLE=name"; exit 2; }
	$(PY) -m harness verify $(SAMPLE) $(if $(SCENARIO),--scenario $(SCENARIO)) $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(ARGS)

bench: $(STAMP)
	$(PY) -m harness bench $(ARGS)

clean:
	rm -rf $(VENV) build traces/*/ traces/report.md traces/index.yaml
