# Quick start: `make report` then `make test`. Python packages go into .venv; the browser
# engine for PDFs (Debian's chromium), PostgreSQL for the database tests and Java for the
# Spark tests come from apt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PARAMS ?= params/default.yaml
SAMPLE := data/sample/orders.parquet
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: report batch test lint lab sample install pdf-deps db-deps spark-deps bench clean distclean

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

# PDF engine: Debian's chromium and poppler-utils (pdftoppm/pdfinfo). Installed when
# missing and we are root; otherwise the report is made without a PDF and says how.
pdf-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing chromium and poppler-utils (Debian packages) for PDF output"; \
	  $(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends chromium poppler-utils >/dev/null; \
	else echo "PDF output needs Debian's chromium: sudo apt-get install chromium poppler-utils"; fi

# PostgreSQL server binaries for the database-source tests (a throwaway cluster per run).
db-deps:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing postgresql (Debian package) for the database tests"; \
	  $(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends postgresql >/dev/null; \
	else echo "the database tests need PostgreSQL: sudo apt-get install postgresql"; fi

# Java for Spark (engine: pyspark; PySpark 4 needs Java 17 or later): the tests run a local
# Spark session. Installed when missing (or older) and we are root.
spark-deps:
	@if java -version 2>&1 | awk -F'"' '/version/ {split($$2, v, "."); ok = v[1] >= 17} END {exit !ok}'; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing openjdk-17-jre-headless (Debian package) for the Spark tests"; \
	  $(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends openjdk-17-jre-headless procps >/dev/null; \
	else echo "the Spark tests need Java 17 or later: sudo apt-get install openjdk-17-jre-headless"; fi

report: $(VENV)/.installed $(SAMPLE) pdf-deps
	$(BIN)/segreport run --params $(PARAMS)

batch: $(VENV)/.installed $(SAMPLE) pdf-deps
	$(BIN)/segreport batch --params $(PARAMS)

# Lint and import order (ruff), then the layers' import contracts (import-linter).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint pdf-deps db-deps spark-deps
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed $(SAMPLE)
	$(BIN)/python benchmarks/bench_sample.py
	$(BIN)/python benchmarks/bench_segmentation.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_engines.py

lab: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[lab]'
	$(BIN)/python -m ipykernel install --sys-prefix --name segreport --display-name "segreport (.venv)"
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

clean:
	rm -rf output

distclean: clean
	rm -rf $(VENV) data/sample *.egg-info
