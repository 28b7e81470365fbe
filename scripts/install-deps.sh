#!/usr/bin/env bash
# Installs the OS packages Atoll needs (Open MPI, OpenBLAS, zlib, pkg-config, and the Fashion-MNIST
# files of the `fashion-mnist` task) when any is missing.
# Runs apt-get as root, or through sudo. Safe to run again: it does nothing when all are present.
set -euo pipefail

packages=(libopenmpi-dev openmpi-bin libopenblas-dev zlib1g-dev pkg-config dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python/test_atoll_run.py (make test) and python/atoll_evaluator.py need python3 with numpy; a numpy
# from pip counts.
python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)

if [ ${#missing[@]} -gt 0 ]; then
  echo "atoll: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "atoll: no 'swift' on PATH. Install Swift 6.0 or newer (https://www.swift.org/install/linux/) and run this again." >&2
  exit 1
fi
