PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
COURSE_STAMP := $(VENV)/.installed-course

.PHONY: demo course test test-fast fuzz attack attack-stages attack-kinds attack-late attack-grid attack-gaps attack-callable typecheck bench bench-paired bench-quiet bench-sweep lint format clean

$(VENV)/bin/python:
	@echo "Creating the virtual environment $(VENV)/ and updating pip ..."
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# everything: the package, the test tools and the benchmark probes
$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP) $(DEMO_STAMP)

# the demo needs the package and its own dependencies only; pip prints a line per package
$(DEMO_STAMP): $(VENV)/bin/python pyproject.toml
	@echo "Installing handgrad and its dependencies into $(VENV)/ (a minute or two the first time) ..."
	$(PY) -m pip install --progress-bar on -e . | grep -E --line-buffered '^(Collecting|Installing|Successfully|ERROR)' || true
	$(PY) -c "import handgrad, markdown_it, latex2mathml, sklearn, matplotlib"
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(VENV)/bin/handgrad tour --out runs/tour
	@echo ""
	@echo "Open runs/tour/report.html in a browser to read the report."
	@echo "The handgrad command is installed in $(VENV)/bin/. Either run it by its path:"
	@echo "    $(VENV)/bin/handgrad --help"
	@echo "or activate the environment once per shell, then type handgrad:"
	@echo "    . $(VENV)/bin/activate"
	@echo "    handgrad --help"

# the course: JupyterLab (the notebook extra), the notebooks copied into course/ (your edits
# there are kept), then JupyterLab opens them
$(COURSE_STAMP): $(VENV)/bin/python pyproject.toml
	@echo "Installing handgrad and JupyterLab into $(VENV)/ (a few minutes the first time) ..."
	$(PY) -m pip install --progress-bar on -e '.[notebook]' | grep -E --line-buffered '^(Collecting|Installing|Successfully|ERROR)' || true
	$(PY) -c "import handgrad, jupyterlab, ipykernel"
	touch $(COURSE_STAMP)

course: $(COURSE_STAMP)
	$(VENV)/bin/handgrad course --out course
	$(VENV)/bin/jupyter lab course $$([ "$$(id -u)" = 0 ] && echo --allow-root)  # root: in a container

# pytest-xdist: one pytest process per core (the tests of one file share a process, so a
# module's expensive fixture is built once), the longest files first (tests/conftest.py);
# `make test XDIST=` runs in one process
XDIST ?= -n auto --dist loadfile --no-loadscope-reorder
# bytecode written (into the gitignored __pycache__ folders) even where the shell sets
# PYTHONDONTWRITEBYTECODE: else every run re-rewrites the asserts of 150 test files in each
# worker (4 of the 9 CPU s of a worker's collection) and every command a test starts compiles
# handgrad again
TEST_ENV := env -u PYTHONDONTWRITEBYTECODE OPENBLAS_NUM_THREADS=1

test: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest $(XDIST)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks
	$(PY) -m mypy

# PyTorch is optional: without it the benchmark skips its rows and says so.
# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--quick --workloads W3".
# the suite without the tests marked slow (each over ~2 s): under a minute, for the edit-test loop
test-fast: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -m "not slow" $(XDIST)

# property-based fuzzing (tests/fuzz) with 50 times the examples `make test` runs
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz OPENBLAS_NUM_THREADS=1 $(PY) -m pytest tests/fuzz -m fuzz -p no:cacheprovider --hypothesis-show-statistics

# the gradient check attacked: random networks and a learner's own activations, checked
# with their correct backward and with wrong ones (`make test` runs a sample of these seeds);
# fails on any false FAIL or miss. About 90 minutes of CPU: see docs/gradcheck.md.
attack: $(STAMP) attack-stages attack-kinds attack-late attack-grid attack-gaps attack-callable
	PYTHONPATH=src OPENBLAS_NUM_THREADS=1 $(PY) tests/nn/gradcheck_attack.py 0 1100
	PYTHONPATH=src OPENBLAS_NUM_THREADS=1 $(PY) tests/nn/gradcheck_attack.py 0 1600 --learner

# networks at the far stages of training in every dtype (with a learner's batch norm or
# dropout); exits with 1 on any false FAIL or miss
attack-stages: $(STAMP)
	PYTHONPATH=src OPENBLAS_NUM_THREADS=1 $(PY) tests/nn/gradcheck_attack.py 0 300 --stages

# the wrong backwards learners write most, from initialization to an overfit batch and a run
# about to diverge, every activation, loss, reduction and dtype; exits with 1 on any finding
attack-kinds: $(STAMP)
	PYTHONPATH=src OPENBLAS_NUM_THREADS=1 $(PY) tests/nn/gradcheck_attack.py 0 300 --kinds

# late in training: saturated or dead units, tiny and huge losses, a one-hot softmax (a
# learner's -log softmax exactly 0 around θ), float64/32/16 models; exits 1 on any finding
attack-late: $(STAMP)
	PYTHONPATH=src OPENBLAS_NUM_THREADS=1 $(PY) tests/nn/gradcheck_attack.py 0 300 --late

# the verdict's whole grid: every activation x loss x dtype x depth/scale to 3000 Adam steps,
# each wrong backward injected at the last (`make test` runs four cells); exits 1 on any finding
attack-grid: $(STAMP)
	PYTHONPATH=src OPENBLAS_NUM_THREADS=1 $(PY) tests/nn/gradcheck_attack.py 0 72 --grid

# where the others do not reach: an activation after the last layer, one row or duplicated
# rows, tiny/huge/on-kink inputs, float16 and mixed dtypes, 10^4 Adam steps, max_entries
attack-gaps: $(STAMP)
	PYTHONPATH=src OPENBLAS_NUM_THREADS=1 $(PY) tests/nn/gradcheck_attack.py 0 200 --gaps

# the callable form on a learner's own plain-NumPy network (ReLU, leaky ReLU, abs, clip; MSE
# with or without L2), correct and wrong backwards; collapsed units (the documented limit)
# are counted apart; exits 1 on any other false FAIL or miss (about 3 min of CPU)
attack-callable: $(STAMP)
	PYTHONPATH=src OPENBLAS_NUM_THREADS=1 $(PY) tests/nn/gradcheck_callable.py 0 1000

typecheck: $(STAMP)
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) -m pip install --quiet 'torch==2.13.0' || echo "PyTorch not installed: its rows will be skipped"
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# Paired in-process timings (docs/performance.md): handgrad and its rivals epoch by epoch.
bench-paired: $(STAMP)
	$(PY) -m pip install --quiet 'torch==2.13.0' || echo "PyTorch not installed: its column will be empty"
	$(PY) benchmarks/paired.py $(BENCH_ARGS)

# Everything the performance targets need, in one run of under 10 minutes: run it on a quiet
# machine (uptime's load average below 1). Results in benchmarks/results/quiet-<time>/.
bench-quiet: $(STAMP)
	$(PY) -m pip install --quiet 'torch==2.13.0' || echo "PyTorch not installed: its column will be empty"
	uptime
	$(PY) benchmarks/quiet.py $(BENCH_ARGS)

# Sweeps against the machine's ceiling (docs/performance.md): ~5 minutes on a quiet 2-core
# machine; prints a Markdown table. Run it with nothing else running.
bench-sweep: $(STAMP)
	uptime
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/sweep_speedup.py $(BENCH_ARGS)
	uptime

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks

format: $(STAMP)
	$(PY) -m ruff format src tests benchmarks
	$(PY) -m ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
