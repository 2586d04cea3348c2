# lhama: two commands on a fresh machine.
#   make demo   create .venv, run the workflow end to end on the embedded default -> results/report.html
#   make test   create .venv, run the test suite (unit tests + one end-to-end workflow run)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DS_BUILD_OPS := 0

.PHONY: setup demo test bench sample clean

$(VENV)/.installed: requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install --quiet --no-deps --editable .
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/snakemake --cores $(CORES)
	@echo "report: $(CURDIR)/results/report.html"

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/bench_extract.py

sample: setup
	$(BIN)/python resources/ptwiki-sample/build.py

clean:
	rm -rf results logs .snakemake
