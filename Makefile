PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast fuzz typecheck bench bench-paired lint format clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/handgrad tour --out runs/tour

test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

# PyTorch is optional: without it the benchmark skips its rows and says so.
# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--quick --workloads W3".
# the suite without the tests marked slow: under a minute, for the edit-test loop
test-fast: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -m "not slow"

# property-based fuzzing (tests/fuzz) with 50 times the examples `make test` runs
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz OPENBLAS_NUM_THREADS=1 $(PY) -m pytest tests/fuzz -m fuzz -p no:cacheprovider --hypothesis-show-statistics

typecheck: $(STAMP)
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) -m pip install --quiet 'torch==2.13.0' || echo "PyTorch not installed: its rows will be skipped"
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# Paired in-process timings (docs/performance.md): handgrad and its rivals epoch by epoch.
bench-paired: $(STAMP)
	$(PY) -m pip install --quiet 'torch==2.13.0' || echo "PyTorch not installed: its column will be empty"
	$(PY) benchmarks/paired.py $(BENCH_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks

format: $(STAMP)
	$(PY) -m ruff format src tests benchmarks
	$(PY) -m ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
