# swift-normalizing-flows: the two commands a user needs, plus benchmarks.
#
#   make demo    the main job
#   make test    build and run the whole XCTest suite
#   make bench   release-build benchmarks with numpy peers
#
# Each target installs the Debian packages it needs (apt-get, through sudo
# when not root), so a fresh Debian or Ubuntu machine with Swift suffices.

SWIFT ?= swift
PYTHON ?= python3
SYSTEM_PACKAGES = libopenblas-dev liblapack-dev libfftw3-dev zlib1g-dev pkg-config
SUDO = $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps demo test test-release bench peers-deps clean

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

# The whole suite, debug build. XCTest only: its count is the run's last line.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

peers-deps:
	@$(PYTHON) -c "import numpy" 2>/dev/null || $(PYTHON) -m pip install --quiet numpy

bench: deps peers-deps
	$(SWIFT) build -c release --product flowbench
	.build/release/flowbench gemm --peers --python $(PYTHON)
	.build/release/flowbench fft --peers --python $(PYTHON)
	.build/release/flowbench elementwise --peers --python $(PYTHON)

clean:
	rm -rf .build
