# Two commands do all set-up:  `make demo`  and  `make test`.
#
# TORCH is the torch requirement installed into the virtual environment before rnnbench itself (rnnbench
# asks only for torch>=2.2, so an existing torch is kept). Choose the build for your machine, e.g.
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu      # CPU-only wheel (small)
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cu126    # a CUDA 12.6 build
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
BIN := $(VENV)/bin

.PHONY: install demo test test-slow test-ray clean-results

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || \
		$(BIN)/python -m pip install "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@

demo: install
	$(BIN)/rnnbench run experiments/names_de_it.yaml
	$(BIN)/rnnbench predict Tribbiani --experiment names_de_it

test: install
	$(BIN)/python -m pytest

# the long learning checks (models must actually learn the task), left out of `make test`
test-slow: install
	$(BIN)/python -m pytest -m slow

# the Ray executor on a real local Ray instance: installs the ray extra first
test-ray: install
	$(BIN)/python -m pip install -e ".[ray]"
	$(BIN)/python -m pytest -m ray

clean-results:
	find results -mindepth 1 -not -name README.md -delete
