# One-command setup: `make demo` and `make test` create .venv on first use.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= drs-report

.PHONY: demo test test-pandas22 bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The package alone (the demo), then the test extras on top (the tests).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

## demo: start the built-in emulator, fetch a 300-job fleet, write the report to ./drs-report
demo: $(VENV)/.installed
	$(BIN)/drs-analytics demo --out $(OUT)

## test: run the test suite (pytest)
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

## test-pandas22: the suite again with pandas 2.2, in .venv-pandas22 (PY_OLD picks the interpreter)
PY_OLD ?= $(PYTHON)
test-pandas22:
	$(PY_OLD) -m venv .venv-pandas22
	.venv-pandas22/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 'pandas>=2.2,<2.3'
	.venv-pandas22/bin/python -c 'import sys, pandas; print("python", sys.version.split()[0], "pandas", pandas.__version__)'
	.venv-pandas22/bin/python -m pytest -q

clean:
	rm -rf $(VENV) .venv-pandas22 $(OUT) *.egg-info
