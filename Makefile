# Atoll — the two commands of the README:
#   make demo   installs what is missing, builds (release) and runs the main job
#   make test   installs what is missing, builds (debug) and runs every test, including under mpirun,
#               the Python run reader's (python/test_atoll_run.py), and renders a report in headless
#               Chromium (scripts/check-report.sh)
SHELL := /bin/bash

.PHONY: deps build release demo test clean

deps:
	@bash scripts/install-deps.sh

build: deps
	swift build

release: deps
	swift build -c release

demo: release
	@bash scripts/demo.sh

test: deps
	swift build --build-tests
	swift test --skip-build
	python3 python/test_atoll_run.py .build/debug/atoll
	bash scripts/test-mpi.sh .build/debug/atoll
	bash scripts/check-report.sh

clean:
	rm -rf .build
