# The course's commands. Everything runs in .venv, which is created on first use.
#   make lab    install the course and start JupyterLab on notebooks/ (JUPYTER_ARGS="--no-browser --port=8889")
#   make test   install the dev tools (and JupyterLab) and run unit tests + every notebook (smoke mode)
# Both keep notebook outputs out of git: they define the nbstripout filter that .gitattributes names.
#   make lint   ruff over the package, the tests and the notebooks
#   make export write the notebooks' tagged cells (#| export <module>) into course_utils
# Delivery (see docs/teaching.md): badges, student, site, test-site, prefetch, test-colab-versions

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Optional PyTorch wheel index, e.g. make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu
# on a Linux laptop without an NVIDIA GPU (a 200 MB CPU build instead of the ~5 GB CUDA one).
TORCH_INDEX ?=
# Extra arguments for JupyterLab, e.g. make lab JUPYTER_ARGS="--no-browser --ip=0.0.0.0 --port=8889"
JUPYTER_ARGS ?=
# JupyterLab refuses to start as root (Docker, cloud boxes, classroom servers) without --allow-root.
USER_ID ?= $(shell id -u)
ALLOW_ROOT := $(if $(filter 0,$(USER_ID)),--allow-root)
# Extra pip arguments; CI sets PIP_ARGS=-qq (errors only: the versions that matter are printed by
# `python -m course_utils --check` after every install)
PIP_ARGS ?=
# Where `make test` keeps the models its notebooks train: always a fresh folder, so that
# the notebooks really train instead of loading what an earlier run saved.
TEST_CHECKPOINTS ?= $(CURDIR)/build/test-checkpoints
PYTEST_ARGS ?=
# make site: smoke or full mode; SITE_CHECKPOINTS reuses trained models (e.g. those of make test)
SITE_MODE ?= smoke
SITE_DIR ?= build/site
SITE_CHECKPOINTS ?=
# make prefetch: e.g. PREFETCH_ARGS=--torchvision-vgg to also cache torchvision's VGG-19
PREFETCH_ARGS ?=
# make test-colab-versions: Google Colab's versions (2026) in a throw-away virtualenv
COLAB_PYTHON ?= $(shell python3.13 -c "" >/dev/null 2>&1 && echo python3.13 || echo $(PYTHON))
COLAB_VENV ?= build/colab-venv
COLAB_PINS ?= torch==2.11.0 torchvision==0.26.0 ipywidgets==7.7.1

.PHONY: help lab test lint export clean badges student site test-site chromium node git-filter prefetch \
	test-colab-versions
.DEFAULT_GOAL := help

help:
	@echo "make lab    create .venv if needed, install the course, start JupyterLab on notebooks/"
	@echo "            (extra JupyterLab arguments: make lab JUPYTER_ARGS=\"--no-browser --port=8889\")"
	@echo "make test   install the dev extras and JupyterLab, run unit tests and all notebooks in smoke mode"
	@echo "make lint   check code and notebooks with ruff"
	@echo "make export write the notebooks' tagged cells (#| export <module>) into course_utils"
	@echo "make clean  remove build outputs and caches (keeps .venv, data/ and checkpoints/)"
	@echo ""
	@echo "make badges               refresh the Colab badges, setup cells and README table from pyproject.toml"
	@echo "make student              write student notebooks (solutions replaced by TODOs) to build/student/"
	@echo "make site                 execute every notebook (SITE_MODE=smoke|full) and render build/site/"
	@echo "make test-site            serve build/site/ and check every page in headless Chromium"
	@echo "make prefetch             download MNIST and the paintings into COURSE_DATA_DIR (offline classroom)"
	@echo "make test-colab-versions  unit tests + notebook 01 with Colab's torch, torchvision and ipywidgets"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(PIP_ARGS) --upgrade pip

# Re-install whenever pyproject.toml changes; the stamp files remember the last install.
# One environment serves every command: the developers' install includes JupyterLab (the lab extra)
# and marks the lab install as done, so `make lab` and `make test` work in either order.
$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
ifneq ($(TORCH_INDEX),)
	$(BIN)/python -m pip install $(PIP_ARGS) torch torchvision --index-url $(TORCH_INDEX)
endif
	$(BIN)/python -m pip install $(PIP_ARGS) -e ".[lab]"
	$(BIN)/python -m course_utils --check
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
ifneq ($(TORCH_INDEX),)
	$(BIN)/python -m pip install $(PIP_ARGS) torch torchvision --index-url $(TORCH_INDEX)
endif
	$(BIN)/python -m pip install $(PIP_ARGS) -e ".[lab,dev,site]"
	$(BIN)/python -m course_utils --check
	touch $@ $(VENV)/.installed-lab

# Notebook outputs never reach git: .gitattributes sends *.ipynb through the `nbstripout` filter,
# and this defines that filter in .git/config (which a clone does not copy). --keep-id keeps the
# cell ids (the Colab cells are found by theirs). Outside a git checkout there is nothing to do.
NBSTRIPOUT = "$(abspath $(BIN))/python" -m nbstripout --keep-id
git-filter:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git config filter.nbstripout.clean '$(NBSTRIPOUT)' && \
	  git config filter.nbstripout.smudge cat && \
	  git config diff.ipynb.textconv '$(NBSTRIPOUT) --textconv' && \
	  echo "git: notebook outputs are stripped when you commit (nbstripout filter)"; \
	fi

lab: $(VENV)/.installed-lab git-filter
	$(BIN)/jupyter lab $(ALLOW_ROOT) $(JUPYTER_ARGS) notebooks/

test: $(VENV)/.installed-dev git-filter
	rm -rf "$(TEST_CHECKPOINTS)"
	COURSE_SMOKE=1 COURSE_CHECKPOINT_DIR="$(TEST_CHECKPOINTS)" \
	  $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env \
	  --nbval-cell-timeout=900 $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check course_utils tests notebooks tools benchmarks conftest.py

export: $(BIN)/python
	$(BIN)/python tools/export.py --stats

badges: $(VENV)/.installed-dev
	$(BIN)/python tools/sync_notebooks.py

student: $(VENV)/.installed-dev
	$(BIN)/python tools/make_student.py --out build/student

site: $(VENV)/.installed-dev node
	$(if $(SITE_CHECKPOINTS),COURSE_CHECKPOINT_DIR="$(abspath $(SITE_CHECKPOINTS))") \
	  $(BIN)/python tools/build_site.py --mode $(SITE_MODE) --out $(SITE_DIR)

test-site: $(VENV)/.installed-dev chromium
	$(BIN)/python -m pytest tools/test_site.py --site $(SITE_DIR) -p no:cacheprovider

# Debian packages the site needs, installed when missing (needs root or sudo). apt's output goes
# to build/apt.log (shown only if the install fails), so that it does not bury the test results.
APT_INSTALL = mkdir -p build && \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	  echo "needs the Debian packages $(1) (apt-get install $(1), as root)"; exit 1; fi; \
	echo "installing $(1) with apt-get (log: build/apt.log) ..."; \
	if ! { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y -qq $(1); } >build/apt.log 2>&1; then \
	  tail -n 30 build/apt.log; echo "apt-get install $(1) failed (whole log: build/apt.log)"; exit 1; fi

chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  echo "chromium and chromedriver are installed"; \
	else $(call APT_INSTALL,chromium chromium-driver); fi

# make site renders math with KaTeX under node and fetches the site's fonts with npm.
node:
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
	  echo "node $$(node --version) and npm $$(npm --version) are installed"; \
	else $(call APT_INSTALL,nodejs npm); fi

prefetch: $(VENV)/.installed-lab
	$(BIN)/python tools/prefetch.py $(PREFETCH_ARGS)

test-colab-versions:
	rm -rf $(COLAB_VENV) build/colab-checkpoints
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install --quiet --upgrade pip
	@$(COLAB_VENV)/bin/python -c "import sys; v = sys.version_info[:2]; \
	  print(f'Python {v[0]}.{v[1]}' + ('' if v == (3, 13) else ' (Colab has 3.13; set COLAB_PYTHON to a python3.13 if you have one)'))"
	$(COLAB_VENV)/bin/python -m pip install $(COLAB_PINS)
	@# the lab extra too: the packaging tests check the nbstripout git filter
	$(COLAB_VENV)/bin/python -m pip install $(PIP_ARGS) -e ".[lab,dev]" $(COLAB_PINS)
	$(COLAB_VENV)/bin/python -m course_utils --check
	COURSE_SMOKE=1 COURSE_CHECKPOINT_DIR="$(CURDIR)/build/colab-checkpoints" \
	  $(COLAB_VENV)/bin/python -m pytest tests notebooks/01_cnn_basics.ipynb --nbval-lax --nbval-current-env \
	  --nbval-cell-timeout=900 $(PYTEST_ARGS)

clean:
	rm -rf build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
