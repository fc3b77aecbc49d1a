# Two commands for a newcomer: `make book` and `make test`.
# Both create .venv when it is missing and (re)install when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BOOK   := _build/html/index.html

# Stored notebook outputs are made and checked with NumPy on one BLAS thread.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export LRCORE_BACKEND := numpy
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv book test unit nbval build-strict browser notebooks bench clean help

help:
	@echo "make book       build the HTML book (creates .venv if needed) and print its index page"
	@echo "make test       the whole suite: unit tests + doctests, nbval, strict book build, browser test"
	@echo "make notebooks  re-execute every chapter in place (NumPy backend, one BLAS thread)"
	@echo "make bench      run the benchmarks in bench/ (needs the 'bench' extra for PyTorch)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed; set PYTHON=python3.x")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[book,test]"
	touch $(STAMP)

venv: $(STAMP)

book: venv
	$(BIN)/jupyter-book build . --quiet
	@echo "The book: $(CURDIR)/$(BOOK)"

# The whole suite, in the order a failure is cheapest to read.
test: venv unit nbval build-strict browser

unit: venv
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not browser" --mpl tests lrcore

nbval: venv
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -p no:randomly --nbval --nbval-current-env \
		--nbval-sanitize-with chapters/sanitize.cfg -o addopts="" -o testpaths=chapters chapters

build-strict: venv
	rm -rf _build/html
	$(BIN)/jupyter-book build . -W --keep-going --quiet

browser: venv
	$(BIN)/python -m pytest -q -m browser -o addopts="" tests/test_browser.py

notebooks: venv
	$(BIN)/python tools/execute_notebooks.py chapters/*.ipynb

bench: venv
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python bench/run.py

clean:
	rm -rf _build
