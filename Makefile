# The two commands that do everything: `make book` and `make test` (see README.md).

# The Python to build the virtual environment with: PYTHON=... if given, else the first of
# python3.13, python3.12, python3.11 and python3 that runs and is at least 3.11.
SUPPORTED := python3.13 python3.12 python3.11 python3
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for p in $(SUPPORTED); do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
endif
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PKG_SOURCES := $(wildcard lstm_tutorial/*.py) pyproject.toml
BUILD  := _build
CACHE  := $(BUILD)/.jupyter_cache
# One BLAS/OpenMP thread per notebook: two notebooks run side by side in `make notebooks`, and
# with one thread the printed numbers do not depend on how many cores the machine has.
NB_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: help install book test lint unit notebooks browser lab serve clean bench timings experiments

help:
	@echo "make book   - build the HTML book into $(BUILD)/html (executes the notebooks, cached)"
	@echo "make test   - lint, unit tests, every notebook, the book build and the browser test"
	@echo "make lab    - open the notebooks in JupyterLab"
	@echo "make serve  - preview the built book on http://localhost:8000"
	@echo "make bench  - time the NumPy LSTM against torch.nn.LSTM"
	@echo "make timings - run every notebook cold and report its time against the 90 s budget"
	@echo "make experiments - the multi-seed sweeps of Parts II-V (about 4.6 h on 2 cores)"
	@echo "make clean  - remove $(BUILD) and saved models (the virtual environment stays)"

install: $(STAMP)

# The virtual environment, the pinned requirements and the package (editable). Re-done when
# requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.11 or newer found: looked for $(SUPPORTED)."; \
		echo "Install Python 3.11, 3.12 or 3.13, or run 'make PYTHON=/path/to/python3.x'."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 || { \
		echo "PYTHON=$(PYTHON) is not a Python 3.11 or newer (the book supports 3.11 to 3.13)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; print("virtual environment $(VENV): Python", sys.version.split()[0])' 
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -c "import matplotlib.pyplot"  # build the font cache now, not inside a page
	touch $@

# jupyter-cache re-runs a notebook only when its code cells change, not when the package they
# import changes, and Sphinx re-reads only the pages whose source changed: forget the cache,
# Sphinx's saved pages (.doctrees) and the models the chapters trained and saved, whenever
# lstm_tutorial/ is edited, so that every page is executed again.
$(BUILD)/.package-stamp: $(PKG_SOURCES)
	rm -rf $(CACHE) $(BUILD)/.doctrees book/*/checkpoints
	mkdir -p $(BUILD)
	touch $@

book: $(STAMP) $(BUILD)/.package-stamp
	$(NB_ENV) $(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is built. Open $(CURDIR)/$(BUILD)/html/index.html in a browser."

lint: $(STAMP)
	$(BIN)/ruff check lstm_tutorial tests book
	$(BIN)/ruff format --check lstm_tutorial tests

unit: $(STAMP)
	$(BIN)/pytest -m "not browser" -n 2 -q

notebooks: $(STAMP)
	$(NB_ENV) $(BIN)/pytest --nbmake --nbmake-kernel=python3 --nbmake-timeout=300 -n 2 -p no:randomly --durations=0 -q book

browser: $(STAMP)
	$(BIN)/pytest -m browser -q

test: lint unit notebooks book browser

bench: $(STAMP)
	$(BIN)/python -m lstm_tutorial.bench

# The multi-seed sweeps behind the comparisons of Parts III and IV, on JOBS processes: each
# finished run is cached in .experiments-cache/ (an interrupted run resumes), and each group's
# records go to lstm_tutorial/records/, which the chapters read. GROUPS= runs only some.
JOBS ?= 2
experiments: $(STAMP)
	$(NB_ENV) $(BIN)/python -m lstm_tutorial.experiments --jobs $(JOBS) $(if $(GROUPS),--only $(GROUPS))
	$(NB_ENV) $(BIN)/python -m lstm_tutorial.textlm_baselines  # Part V's baselines, recorded
	$(NB_ENV) $(BIN)/python -m lstm_tutorial.showcase  # Part V's kept models, from their records

# Every notebook from a fresh kernel, with nothing cached, one after the other: the time each
# takes against the book's budget of 90 s (a report; it fails only if a notebook fails).
timings: $(STAMP)
	$(BIN)/python -m lstm_tutorial.timings book --json $(BUILD)/timings.json

lab: $(STAMP)
	$(BIN)/jupyter lab book

serve: $(STAMP)
	@echo "Serving $(BUILD)/html on http://localhost:8000 (Ctrl-C to stop)"
	$(BIN)/python -m http.server 8000 --directory $(BUILD)/html

clean:
	rm -rf $(BUILD) book/*/checkpoints
