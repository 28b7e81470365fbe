# Atoll — the two commands of the README:
#   make demo   installs what is missing, builds (release) and runs the main job
#   make test   installs what is missing, builds (debug) and runs every test, including under mpirun,
#               the Python run reader's (python/test_atoll_run.py), renders a report in headless Chromium
#               (scripts/check-report.sh), and runs Atoll under a one-node Slurm cluster it starts itself
#               (scripts/test-slurm.sh, root, ~3-4 min)
SHELL := /bin/bash

.PHONY: deps build release demo test lint format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	swift build

release: deps
	swift build -c release

demo: release
	@bash scripts/demo.sh

test: deps lint
	swift build --build-tests
	swift test --skip-build
	python3 python/test_atoll_run.py .build/debug/atoll
	bash scripts/test-mpi.sh .build/debug/atoll
	bash scripts/check-report.sh
	bash scripts/test-slurm.sh .build/debug/atoll

# The formatter that ships with the toolchain, configured by .swift-format (lines of 120 columns).
lint:
	swift format lint --strict --recursive Sources Tests Package.swift

format:
	swift format format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
