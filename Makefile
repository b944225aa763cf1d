# Quick start: `make report` then `make test`. Everything is installed into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PARAMS ?= params/default.yaml
SAMPLE := data/sample/orders.parquet

.PHONY: report test lab sample install clean distclean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

$(SAMPLE): $(VENV)/.installed
	$(BIN)/segreport sample --out data/sample

sample: $(SAMPLE)

report: $(VENV)/.installed $(SAMPLE)
	$(BIN)/segreport run --params $(PARAMS)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

lab: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[lab]'
	$(BIN)/python -m ipykernel install --sys-prefix --name segreport --display-name "segreport (.venv)"
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf output

distclean: clean
	rm -rf $(VENV) data/sample *.egg-info
