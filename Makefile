# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment .venv on first use (CPU PyTorch first, so that no
# dependency can pull another torch build) and installs the package into it.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint bench bench-quick bench-fresh bench-deps install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev,index,serve,ray,export,hf,heif]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## the whole experiment on the built-in synthetic dataset
	$(BIN)/neuralcodes demo --out runs/demo

test: $(STAMP)  ## the default test suite (not the slow or browser tests)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

test-all: $(STAMP)  ## every test, the slow and browser ones too
	$(BIN)/python -m pytest -q

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

# The bench extra: the peers (TensorFlow CPU, scikit-learn, FAISS); torch stays the one above.
bench-deps: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]" "$(TORCH)"

bench: bench-deps  ## the benchmarks of BENCHMARKS.md (rewrites its table; about 45 minutes)
	$(BIN)/python benchmarks/run_all.py

bench-quick: bench-deps  ## every benchmark at small size (checks the wiring; a few minutes)
	$(BIN)/python benchmarks/run_all.py --quick

bench-fresh:  ## `make bench` in a new virtual environment made as the README's commands make it
	rm -rf .venv-bench
	$(MAKE) bench VENV=.venv-bench

clean:
	rm -rf $(VENV) .venv-bench runs .pytest_cache .mypy_cache .ruff_cache
