# The course's commands. Everything runs in .venv, which is created on first use.
#   make lab    install the course and start JupyterLab on notebooks/
#   make test   install the dev tools and run unit tests + every notebook (smoke mode)
#   make lint   ruff over the package, the tests and the notebooks

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Optional PyTorch wheel index, e.g. make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu
# on a Linux laptop without an NVIDIA GPU (a 200 MB CPU build instead of the ~5 GB CUDA one).
TORCH_INDEX ?=
# Where `make test` keeps the models its notebooks train: always a fresh folder, so that
# the notebooks really train instead of loading what an earlier run saved.
TEST_CHECKPOINTS ?= $(CURDIR)/build/test-checkpoints
PYTEST_ARGS ?=

.PHONY: help lab test lint clean
.DEFAULT_GOAL := help

help:
	@echo "make lab    create .venv if needed, install the course, start JupyterLab on notebooks/"
	@echo "make test   install the dev extras, run unit tests and all notebooks in smoke mode"
	@echo "make lint   check code and notebooks with ruff"
	@echo "make clean  remove build outputs and caches (keeps .venv, data/ and checkpoints/)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes; the stamp files remember the last install.
$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
ifneq ($(TORCH_INDEX),)
	$(BIN)/python -m pip install torch torchvision --index-url $(TORCH_INDEX)
endif
	$(BIN)/python -m pip install -e ".[lab]"
	$(BIN)/python -m course_utils --check
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
ifneq ($(TORCH_INDEX),)
	$(BIN)/python -m pip install torch torchvision --index-url $(TORCH_INDEX)
endif
	$(BIN)/python -m pip install -e ".[dev]"
	$(BIN)/python -m course_utils --check
	touch $@

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks/

test: $(VENV)/.installed-dev
	rm -rf "$(TEST_CHECKPOINTS)"
	COURSE_SMOKE=1 COURSE_CHECKPOINT_DIR="$(TEST_CHECKPOINTS)" \
	  $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env \
	  --nbval-cell-timeout=900 $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check course_utils tests notebooks tools benchmarks conftest.py

clean:
	rm -rf build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
