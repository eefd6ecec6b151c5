# Two commands do all set-up on a fresh machine (Python 3.11 and a C++ compiler):
#   make demo   builds .venv, installs flowsim, runs the default 1.2-million footprint
#   make test   builds .venv, installs flowsim with test extras, runs the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install clean lint golden library

$(STAMP): pyproject.toml setup.py flowsim/_core/board.pyx flowsim/_core/board.pxd flowsim/_core/department.pyx flowsim/_core/keyed.pyx
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

# Regenerate the scenario library's comparison (the table in docs/scenarios.md): 15
# configs x 10 paired replications of a year (experiments/library.yaml), then the table.
library: $(STAMP)
	$(VENV)/bin/flowsim sweep experiments/library.yaml --workers auto
	$(VENV)/bin/flowsim compare results/library --baseline footprint \
	    --target 'acute_occupancy_mean<=92%' --target 'ae_4h_pct>=87' \
	    --target 'dtoc_share_of_beds<=3.5%' --target 'spend_total<=baseline' \
	    --kpi acute_occupancy_mean --kpi ae_4h_pct --kpi ae_dta_over_4h_share --kpi dtoc_bed_days \
	    --kpi dtoc_share_of_beds \
	    --kpi emergency_admissions --kpi spend_total --kpi income_acute_trust --kpi surplus_acute_trust \
	    --kpi surplus_ccg --kpi surplus_local_authority \
	    --format markdown --out results/library/comparison.md
	@echo "written: results/library/comparison.md"

clean:
	rm -rf $(VENV) build *.egg-info flowsim/_core/*.so flowsim/_core/*.cpp
