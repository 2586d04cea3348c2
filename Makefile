# lhama: two commands on a fresh machine.
#   make demo   create .venv, run the workflow end to end on the embedded default -> results/report.html
#   make test   create .venv, run the test suite (unit tests + one end-to-end workflow run); as root on an apt
#               machine it first installs the system packages the SLURM and browser tests use (system-packages)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DS_BUILD_OPS := 0

.PHONY: setup system-packages demo test bench sample clean

# uv resolves and installs the lock in parallel (18 s here against pip's 4.5 min); it reads no pip.conf, so the
# local wheel folders pip is configured with (the CPU torch wheel) are passed on as --find-links. Bytecode is
# compiled at install time, as pip does, so that no later import pays for it.
UV_VERSION ?= 0.13.9
FIND_LINKS ?= $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
UV := $(BIN)/uv pip install --python $(BIN)/python --quiet
$(VENV)/.installed: requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(UV) --compile-bytecode --index-strategy unsafe-best-match $(addprefix --find-links ,$(FIND_LINKS)) \
		-r requirements.txt -c constraints.txt
	$(UV) --no-deps -r requirements-nodeps.txt
	$(UV) --no-deps --editable .
	touch $@

setup: $(VENV)/.installed

# Debian packages for tests/test_slurm.py (a real single-node SLURM cluster: slurm/local/cluster.sh) and the
# headless-browser report test (chromium). Only missing ones are installed; service start-up is suppressed (no
# systemd). Without root or apt-get the tests that need them skip themselves.
SYSTEM_PACKAGES := munge slurm-client slurmctld slurmd slurmdbd mariadb-server chromium
system-packages:
	@if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "system-packages: not root or no apt-get: skipping $(SYSTEM_PACKAGES) (the SLURM and browser tests will skip)"; \
	else \
		missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
		if [ -z "$$missing" ]; then echo "system-packages: all installed"; else \
			echo "system-packages: installing" $$missing; \
			policy=0; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; policy=1; fi; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; rc=$$?; \
			[ $$policy = 1 ] && rm -f /usr/sbin/policy-rc.d; \
			[ $$rc = 0 ] || echo "system-packages: apt-get failed (rc $$rc): the SLURM and browser tests will skip"; \
		fi; \
	fi

demo: setup
	$(BIN)/snakemake --cores $(CORES)
	@echo "report: $(CURDIR)/results/report.html"

# Two phases. The unit tests run on two workers (loadfile keeps each file's module fixtures on one worker); then
# the whole-workflow runs (the demo DAG, the local SLURM cluster's DAG and jobs, multi-process training), marked
# `serial` in tests/conftest.py, run file by file on two workers: the demo DAG (tests/test_workflow.py) beside the
# SLURM tests (tests/test_slurm.py), which wait on the cluster much of the time (14:49 here, against 23:54 one
# after the other); the models both files read are built once, under a lock. A phase with no tests in TESTS
# (pytest's exit code 5) is not a failure; either phase failing fails the target, after both have run.
TESTS ?= tests
PYTEST_ARGS ?=
test: setup system-packages
	@rc=0; \
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not serial" $(PYTEST_ARGS) $(TESTS) || { r=$$?; [ $$r = 5 ] || rc=$$r; }; \
	$(BIN)/python -m pytest -n 2 --dist loadfile -m serial $(PYTEST_ARGS) $(TESTS) || { r=$$?; [ $$r = 5 ] || rc=$$r; }; \
	exit $$rc

bench: setup
	$(BIN)/python benchmarks/bench_extract.py

sample: setup
	$(BIN)/python resources/ptwiki-sample/build.py

clean:
	rm -rf results logs .snakemake
