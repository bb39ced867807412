# The whole set-up on a fresh Linux machine with Python 3.11: `make demo`, `make test`.
# Both are idempotent: nothing is downloaded or converted twice.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# pip's own configuration says where wheels come from (PIP_FIND_LINKS, PIP_EXTRA_INDEX_URL):
# the oracle extra's torch is the CPU build where that configuration offers it.
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check

.PHONY: demo test models int8 lint typecheck bench clean chromium

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e '.[build]'
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(PIP) -e '.[build,test,oracle,exr,openvino,int8,ann,ray,completion]'
	touch $@

models: $(VENV)/.installed
	$(BIN)/xception-maya setup

# The int8 backbone (calibrated on scikit-image's sample photos), for tests and the bench.
int8: $(VENV)/.test-installed models
	$(BIN)/xception-maya setup --int8

demo: models
	$(BIN)/xception-maya classify --head kitchenware models/samples/*.jpg --report build/report.html

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

# Headless Chromium for tests/test_report_browser.py (skipped, saying why, without it).
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -q && apt-get install -y -q chromium; \
	else echo "note: chromium is missing and this is not root with apt-get: install it" \
		"(apt-get install -y chromium) or tests/test_report_browser.py is skipped"; fi

test: $(VENV)/.test-installed models int8 chromium lint typecheck
	KERAS_BACKEND=torch $(BIN)/pytest

bench: $(VENV)/.test-installed models int8
	KERAS_BACKEND=torch $(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf build $(VENV) models/*.onnx models/heads models/imported models/manifest.json models/samples models/.lock
