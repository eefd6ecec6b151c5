# Two commands do all set-up on a fresh machine (Python 3.11 and a C++ compiler):
#   make demo   builds .venv, installs flowsim, runs the default 1.2-million footprint
#   make test   builds .venv, installs flowsim with test extras, runs the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install clean lint golden

$(STAMP): pyproject.toml setup.py flowsim/_core/board.pyx flowsim/_core/board.pxd
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	FLOWSIM_REQUIRE_EXT=1 $(PY) -m pip install --quiet -e '.[test,sweep,report,dashboard]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/flowsim run configs/footprint.yaml --out results/demo

test: $(STAMP) lint
	$(VENV)/bin/flowsim info
	$(PY) -m pytest
	FLOWSIM_PURE_PYTHON=1 $(PY) -m pytest -m core -q

lint: $(STAMP)
	$(VENV)/bin/ruff check flowsim tests benchmarks experiments
	$(VENV)/bin/ruff format --check flowsim tests benchmarks experiments
	$(VENV)/bin/mypy

# Regenerate the golden outputs (tests/golden/small.json) on purpose, after a deliberate change.
golden: $(STAMP)
	$(PY) -m tests.golden.outputs --write

clean:
	rm -rf $(VENV) build *.egg-info flowsim/_core/*.so flowsim/_core/*.cpp
