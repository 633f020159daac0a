# Thin wrapper: set-up, compare, verify, test, bench. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: compare verify test bench clean

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# compat: the editable install is a plain path in a .pth file; the default one imports
	@# an import hook at every interpreter start (9 ms of each `harness trace`)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]' \
		--config-settings editable_mode=compat
	@touch $(STAMP)

# make turns any failing command into its own status 2: say which status the harness gave
# (0: every sample matches, 1: a sample differs or its run failed, 2: harness error)
compare: $(STAMP)
	@$(PY) -m harness compare $(if $(SCENARIO),--scenario $(SCENARIO)) $(ARGS); \
	status=$$?; echo "harness compare: exit status $$status"; exit $$status

verify: $(STAMP)
	@test -n "$(SAMPLE)" || { echo "usage: make verify SAMPLE=name"; exit 2; }
	@$(PY) -m harness verify $(SAMPLE) $(if $(SCENARIO),--scenario $(SCENARIO)) $(ARGS); \
	status=$$?; echo "harness verify: exit status $$status"; exit $$status

test: $(STAMP)
	$(PY) -m pytest -q $(ARGS)

bench: $(STAMP)
	$(PY) -m harness bench $(ARGS)

clean:
	rm -rf $(VENV) build traces/*/ traces/report.md traces/index.yaml
