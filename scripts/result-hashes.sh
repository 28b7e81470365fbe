#!/usr/bin/env bash
# Runs every configs/tiny*.yaml and configs/digits.yaml with one binary and prints the SHA-256 of
# each result file (metrics.jsonl, best.safetensors, meta.jsonl, meta-learner.safetensors), one
# line each, so that a refactor can be checked to leave every result bit-identical:
#   bash scripts/result-hashes.sh OLD_BINARY > before.txt; (change, rebuild)
#   bash scripts/result-hashes.sh .build/release/atoll > after.txt; diff before.txt after.txt
# usage: scripts/result-hashes.sh [ATOLL] [OUT_DIR]   (defaults: .build/release/atoll, a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
atoll=${1:-.build/release/atoll}
out=${2:-$(mktemp -d)}
for config in configs/tiny*.yaml configs/digits.yaml; do
  name=$(basename "$config" .yaml)
  OPENBLAS_NUM_THREADS=1 "$atoll" run "$config" --out "$out/$name" --force >/dev/null 2>&1 || { echo "FAILED $config (see $atoll run $config)" >&2; exit 1; }
  for file in metrics.jsonl best.safetensors meta.jsonl meta-learner.safetensors; do
    [ -f "$out/$name/$file" ] && echo "$name/$file $(sha256sum <"$out/$name/$file" | cut -d' ' -f1)"
  done
done
[ -n "${2:-}" ] || rm -rf "$out"
