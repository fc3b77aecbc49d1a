# Two commands for a newcomer: `make book` and `make test`.
# Both create .venv when it is missing and (re)install when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LAB_STAMP := $(VENV)/.lab-stamp
BOOK   := _build/html/index.html

# Stored notebook outputs are made and checked with NumPy on one BLAS thread.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export LRCORE_BACKEND := numpy
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

# NumPy's SIMD dispatch switched down to its baseline, the feature list computed at run time from
# NumPy itself (right on any x86-64 or ARM CPU): exp, log and pow then round differently in the
# last bit, as they do on other readers' CPUs. The unit tests and the stored outputs pass this way too.
SIMD_BASELINE = NPY_DISABLE_CPU_FEATURES="$$($(BIN)/python tools/simd_baseline.py)"

UNIT  = $(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not browser" tests lrcore
NBVAL = $(BIN)/python -m pytest -q -n 2 --dist loadfile -p no:randomly --nbval --nbval-current-env \
		--nbval-sanitize-with chapters/sanitize.cfg -o addopts="" -o testpaths=chapters chapters

.PHONY: venv book test unit unit-baseline-simd nbval nbval-baseline-simd build-strict browser \
	test-browser lab lab-copies notebooks bench clean help

help:
	@echo "make book       build the HTML book (creates .venv if needed) and print its index page"
	@echo "make test       the whole suite: unit tests + doctests and nbval (each twice: as found, and"
	@echo "                with NumPy's SIMD at its baseline), strict book build, browser test"
	@echo "make test-browser  JupyterLab in Chromium on every chapter's reading copy (2-3 min)"
	@echo "make lab        open the chapters in JupyterLab (reading copies in _build/lab; installs"
	@echo "                the 'lab' extra: JupyterLab and jupyterlab-myst)"
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
test: venv unit unit-baseline-simd nbval nbval-baseline-simd build-strict browser

unit: venv
	$(UNIT)

unit-baseline-simd: venv
	@echo "unit tests with NumPy's SIMD dispatch at its baseline:"
	$(SIMD_BASELINE) $(UNIT)

nbval: venv
	$(NBVAL)

nbval-baseline-simd: venv
	@echo "the stored outputs, re-computed with NumPy's SIMD dispatch at its baseline:"
	$(SIMD_BASELINE) $(NBVAL)

# From scratch: Sphinx's cached doctrees (_build/.doctrees) would keep a page that was not re-read,
# e.g. the references page when only references.bib changed.
build-strict: venv
	rm -rf _build/html _build/.doctrees
	$(BIN)/jupyter-book build . -W --keep-going --quiet

# Every page of the HTML book in Chromium, and the reading copies against the HTML just built.
browser: venv
	$(BIN)/python -m pytest -q -m browser -o addopts="" tests/test_browser.py
	$(BIN)/python -m pytest -q -o addopts="" tests/test_lab.py::test_copies_show_what_the_html_book_shows

$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e ".[book,test,lab]"
	touch $(LAB_STAMP)

# The chapters for JupyterLab: every role of the HTML book replaced by what the book shows.
lab-copies: venv
	$(BIN)/python tools/reading_copies.py

# JupyterLab on the reading copies (a copy whose cells you edited is kept: see README).
# LAB_ARGS passes options, e.g. make lab LAB_ARGS="--no-browser --port=8899".
lab: $(LAB_STAMP) lab-copies
	$(BIN)/jupyter trust _build/lab/chapters/*.ipynb
	$(BIN)/jupyter lab --ServerApp.root_dir=_build/lab/chapters $(LAB_ARGS)

# JupyterLab in Chromium on every reading copy (2-3 minutes, so not part of `make test`).
test-browser: $(LAB_STAMP)
	$(BIN)/python -m pytest -q -m browser -o addopts="" tests/test_lab.py

notebooks: venv
	$(BIN)/python tools/execute_notebooks.py chapters/*.ipynb

bench: venv
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python bench/run.py

clean:
	rm -rf _build
