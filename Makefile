# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment .venv on first use (CPU PyTorch first, so that no
# dependency can pull another torch build) and installs into it what the target needs:
# `make demo` the package alone, `make test` and `make lint` the extras the tests exercise,
# `make bench` also the bench extra (the peers: TensorFlow CPU, scikit-learn, FAISS).

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
TORCH_INDEX ?=  # e.g. https://download.pytorch.org/whl/cpu: the CPU build where PyPI's is CUDA's
BASE := $(VENV)/.base
STAMP := $(VENV)/.installed
TEST_EXTRAS := dev,index,serve,ray,export,hf,heif,completion
PIP := $(BIN)/python -m pip install -q

.PHONY: demo test test-all lint bench bench-quick bench-fresh bench-deps install clean

$(BASE): pyproject.toml  ## the package and its dependencies (numpy, torch, Pillow, matplotlib...)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) -e . "$(TORCH)"
	touch $(BASE)

$(STAMP): $(BASE)  ## + the extras the tests and the type checks use
	$(PIP) -e ".[$(TEST_EXTRAS)]" "$(TORCH)"
	touch $(STAMP)

install: $(STAMP)

demo: $(BASE)  ## the whole experiment on the built-in synthetic dataset
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
	$(PIP) -e ".[bench]" "$(TORCH)"

bench: bench-deps  ## the benchmarks of BENCHMARKS.md (rewrites its table; about 45 minutes)
	$(BIN)/python benchmarks/run_all.py

bench-quick: bench-deps  ## every benchmark at small size (checks the wiring; a few minutes)
	$(BIN)/python benchmarks/run_all.py --quick

bench-fresh:  ## `make bench` in a new virtual environment made as the README's commands make it
	rm -rf .venv-bench
	$(MAKE) bench VENV=.venv-bench

clean:
	rm -rf $(VENV) .venv-bench runs .pytest_cache .mypy_cache .ruff_cache
