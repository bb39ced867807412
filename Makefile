# The whole set-up on a fresh Linux machine with Python 3.11: `make demo`, `make test`.
# Both are idempotent: nothing is downloaded or converted twice.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The build machines keep the CPU build of torch on disk; elsewhere pip uses PyPI alone.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check $(FIND_LINKS)

.PHONY: demo test models lint typecheck bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e '.[build]'
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(PIP) -e '.[build,test,oracle,exr,ann,ray]'
	touch $@

models: $(VENV)/.installed
	$(BIN)/xception-maya setup

demo: models
	$(BIN)/xception-maya classify models/samples/*.jpg --report build/report.html

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

test: $(VENV)/.test-installed models lint typecheck
	KERAS_BACKEND=torch $(BIN)/pytest

bench: $(VENV)/.test-installed models
	KERAS_BACKEND=torch $(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf build $(VENV) models/*.onnx models/heads models/manifest.json models/samples
