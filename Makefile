# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment .venv on first use (CPU PyTorch first, so that no
# dependency can pull another torch build) and installs the package into it.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint bench install clean

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

bench: $(STAMP)  ## the benchmarks of BENCHMARKS.md (installs the bench extra: TensorFlow CPU...)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
