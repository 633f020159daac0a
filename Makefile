# Thin wrapper: set-up, compare, verify, test, bench. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: compare verify test bench clean deps new

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# compat: the editable install is a plain path in a .pth file; the default one imports
	@# an import hook at every interpreter start (9 ms of each `harness trace`)
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]' \
		--config-settings editable_mode=compat
	@touch $(STAMP)

# The harness runs in make's place (exec): SIGTERM to make reaches it, and it stops when make
# ends (--exit-with-parent: make passes no SIGINT on). make turns any failing command into its
# own status 2: the harness says which status it gave (0: every sample matches, 1: a sample
# differs or its run failed, 2: harness error, 130/143: interrupted).
compare: $(STAMP)
	@exec $(PY) -m harness compare $(if $(SCENARIO),--scenario $(SCENARIO)) \
		--exit-with-parent --status-line $(ARGS)

verify: $(STAMP)
	@test -n "$(SAMPLE)" || { echo "usage: make verify SAMPLE=name"; exit 2; }
	@exec $(PY) -m harness verify $(SAMPLE) $(if $(SCENARIO),--scenario $(SCENARIO)) \
		--exit-with-parent --status-line $(ARGS)

# The samples' optional toolchains, on a Debian-like machine (a sample whose toolchain is
# missing is skipped, with the install hint of its manifest): C, PHP, Go, Ruby, Node.js, a JDK,
# Rust, and liburing for the io_uring habit programs. As root, or through sudo.
DEPS_PACKAGES := gcc php-cli golang-go ruby nodejs default-jdk-headless rustc liburing-dev \
	iputils-ping
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
deps:
	@command -v apt-get >/dev/null || { echo "make deps: no apt-get on this machine; install" \
		"these (or their equivalents) by hand: $(DEPS_PACKAGES)"; exit 2; }
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y --no-install-recommends $(DEPS_PACKAGES)

# A new sample's folders, from a template: make new NAME=my-echo LANG=python, for the tcp
# scenario unless SCENARIO names others (SCENARIO="tcp udp"). FROM=path wraps a program that
# exists instead of writing a skeleton (ROLE=server or ROLE=client when its file name does not
# say). (LANG is also the locale's variable: only a LANG given on make's command line names
# the language.)
NEW_LANGUAGE := $(if $(filter command line,$(origin LANG)),$(LANG))
new: $(STAMP)
	@test -n "$(NAME)" -a -n "$(NEW_LANGUAGE)" || { \
		echo "usage: make new NAME=name LANG=language [SCENARIO=tcp] [FROM=program [ROLE=server]]" \
			"(languages: .venv/bin/harness new --list)"; \
		exit 2; }
	@env LANG=C.UTF-8 $(PY) -m harness new $(NAME) --language $(NEW_LANGUAGE) \
		$(foreach s,$(SCENARIO),--scenario $(s)) $(if $(FROM),--from $(FROM)) \
		$(if $(ROLE),--role $(ROLE)) $(ARGS)

test: $(STAMP)
	$(PY) -m mypy
	$(PY) -m pytest -q $(ARGS)

bench: $(STAMP)
	$(PY) -m harness bench $(ARGS)

clean:
	rm -rf $(VENV) build sample-builds traces/*/ traces/report.md traces/analysis.json traces/index.yaml traces/.lock
