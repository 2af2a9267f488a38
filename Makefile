# The README's two commands: `make demo` and `make test`. Both create .venv when it is missing and
# install only when pyproject.toml changed since the last install.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of PyTorch; a plain `pip install torch` pulls a multi-GB CUDA build on Linux.
# Elsewhere: make TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=
# The lesson runtime tests run first and alone, so the 60 s / 10 s limits are measured on an idle machine;
# the rest runs two at a time (pytest -n 2), each with single-threaded BLAS: on 2 cores, two processes
# that each start BLAS threads slow every small matrix product down several-fold. `--dist loadgroup` keeps
# a module that starts a server (xdist_group) on one process, so its server starts once.
THREADS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: demo test lint format bench build sysdeps install clean

demo: install sysdeps
	$(PY) -m autograder demo

test: install sysdeps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(THREADS) $(PY) -m pytest -m runtime --durations=20 $(PYTEST_ARGS)
	$(THREADS) $(PY) -m pytest -n 2 --dist loadgroup -m "not runtime" --durations=30 $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# System packages, installed with apt-get when missing:
# - bubblewrap: the grading sandbox (Linux namespaces). Without it the autograder falls back to rlimits and
#   says so in every report.
# - chromium + chromium-driver: the browser tests (JupyterLab, feedback pages, the report); no browser is
#   downloaded, Playwright drives /usr/bin/chromium.
# - postgresql: the opt-in PostgreSQL gradebook; the suite starts its own server in a temporary folder.
# - nodejs/npm: configurable-http-proxy for the classroom's JupyterHub, installed under $(VENV)/node.
APT_NEED := $(strip $(if $(shell command -v bwrap),,bubblewrap) \
  $(if $(wildcard /usr/bin/chromium),,chromium) $(if $(wildcard /usr/bin/chromedriver),,chromium-driver) \
  $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) \
  $(if $(shell command -v npm),,npm))
CHP := $(VENV)/node/node_modules/.bin/configurable-http-proxy

sysdeps: $(CHP)
	@if [ -n "$(APT_NEED)" ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "apt-get install $(APT_NEED)"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_NEED) >/dev/null; \
	  else echo "warning: install $(APT_NEED) (see README)"; fi; fi

$(CHP):
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node configurable-http-proxy@5

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install sysdeps
	$(PY) benchmarks/bench_gradlib.py
	$(PY) benchmarks/bench_autograder.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Regenerate course/ from solutions/ with nbgrader (commit the result).
build: install
	$(PY) -m autograder build

# A JupyterHub on http://127.0.0.1:8000 with an instructor and three students (system users with printed
# passwords, removed again on Ctrl-C), nbgrader's exchange and this course, to try the classroom loop by hand.
.PHONY: classroom
classroom: install sysdeps
	$(SUDO) $(PY) -m autograder.classroom

# JupyterLab for students (the course's notebooks, Validate, the Assignment List; no instructor tools) and for
# instructors (every nbgrader tool; the formgrader on this course's config and on the gradebook of
# COURSE_GRADING_OUT, default demo-out). Configs in lab/; PORT=8888 by default.
PORT ?= 8888
LAB_ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_ENV = PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

.PHONY: lab lab-instructor
lab: install
	$(LAB_ENV) JUPYTER_CONFIG_DIR="$(CURDIR)/lab/student" $(VENV)/bin/jupyter lab --ServerApp.port=$(PORT) \
	  --ServerApp.root_dir="$(CURDIR)/course" $(LAB_ROOT_FLAG)

lab-instructor: install
	$(LAB_ENV) JUPYTER_CONFIG_DIR="$(CURDIR)/lab/instructor" $(VENV)/bin/jupyter lab --ServerApp.port=$(PORT) \
	  --ServerApp.root_dir="$(CURDIR)" $(LAB_ROOT_FLAG)
