#!/usr/bin/env bash
# Runs the example configs in release and checks each result against the figure its header states.
#   usage: scripts/check-examples.sh [CONFIG.yaml ...]     (default: every example config, in
#                         configs/ (not tiny*, meta*, reference) and examples/, with an "# expect:" line)
# A config takes part when its header has one line in this fixed format (one per config):
#   # expect: METRIC >= THRESHOLD      anything after the number is a comment
# THRESHOLD is the measured figure minus the seed spread stated beside it, for example
#   # expect: held_out_return >= -200  (seeds 1-3: -163, -171, -186 in Gymnasium; see above)
# METRIC is one of
#   test_accuracy     summary.json's testAccuracy (the best network on the held-out split)
#   best_fitness      summary.json's bestFitness
#   held_out_return   control tasks: the best network's mean return on 50 start states no run
#                     trains on (atoll evaluate --episodes 50 --seed 1000000: a seed of Atoll's own
#                     start-state stream that example runs, seeded 1 to 100, never use)
# Each run goes to $WORK (default: a temporary folder, removed at the end) with `atoll run CONFIG
# --out DIR --force` ($RANKS > 1 adds --local-ranks $RANKS: the same bits). $ATOLL overrides the
# binary (default .build/release/atoll, built if missing). Prints one line per config and a table;
# exits 1 when a result falls below its threshold, 2 on a malformed "# expect:" line or a failed run.
set -euo pipefail
cd "$(dirname "$0")/.."
atoll=${ATOLL:-.build/release/atoll}
ranks=${RANKS:-1}
if [ ! -x "$atoll" ]; then swift build -c release >/dev/null; fi

configs=("$@")
if [ ${#configs[@]} -eq 0 ]; then
  # The examples: not the tests' runs (tiny*), the meta-learner's pre-training configs (meta*) or
  # the reference of every key.
  examples=()
  for c in configs/*.yaml examples/*.yaml; do
    case $(basename "$c") in tiny*|meta*|reference.yaml) ;; *) examples+=("$c") ;; esac
  done
  skipped=""
  for c in "${examples[@]}"; do
    if grep -q '^# expect:' "$c"; then configs+=("$c"); else skipped+="$(basename "$c") "; fi
  done
  echo "check-examples: without an '# expect:' line, not run: ${skipped:-none}"
fi
[ ${#configs[@]} -gt 0 ] || { echo "check-examples: no config has an '# expect:' line" >&2; exit 2; }

if [ -n "${WORK:-}" ]; then work=$WORK; mkdir -p "$work"; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
status=0
table=()
script_start=$(date +%s)
for config in "${configs[@]}"; do
  [ -f "$config" ] || { echo "check-examples: $config: no such file" >&2; exit 2; }
  line=$(grep -m1 '^# expect:' "$config" || true)
  if [[ ! $line =~ ^#\ expect:\ +([a-z_]+)\ +\>=\ +(-?[0-9]+(\.[0-9]+)?) ]]; then
    echo "check-examples: $config: expected a header line '# expect: METRIC >= NUMBER', got '${line:-nothing}'" >&2
    exit 2
  fi
  metric=${BASH_REMATCH[1]} threshold=${BASH_REMATCH[2]}
  name=$(basename "$config" .yaml)
  out=$work/$name
  extra=()
  [ "$ranks" -gt 1 ] && extra=(--local-ranks "$ranks")
  start=$(date +%s)
  if ! "$atoll" run "$config" --out "$out" --force "${extra[@]}" >"$work/$name.log" 2>&1; then
    echo "check-examples: $config: the run failed (log: $work/$name.log):" >&2
    tail -n 5 "$work/$name.log" >&2
    exit 2
  fi
  seconds=$(( $(date +%s) - start ))
  case $metric in
    test_accuracy) value=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["testAccuracy"]; print(v)' "$out/summary.json") ;;
    best_fitness) value=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bestFitness"])' "$out/summary.json") ;;
    held_out_return)
      # The network spec and the task as the run had them (best.safetensors carries the spec).
      python3 - "$out" "$work/$name-network.json" > "$work/$name-task.txt" <<'PY'
import json, os, sys
sys.path.insert(0, "python")
from atoll_run import Run
run = Run(sys.argv[1], frames=False)
with open(sys.argv[2], "w") as f:
    json.dump(run.network(), f)
print(run.config["task"]["name"])
PY
      task=$(cat "$work/$name-task.txt")
      value=$("$atoll" evaluate --task "$task" --episodes 50 --seed 1000000 --network "$work/$name-network.json" \
        --weights "$out/best.safetensors" | python3 -c 'import json,sys; print(json.load(sys.stdin)["fitness"])')
      ;;
    *) echo "check-examples: $config: unknown metric '$metric' (test_accuracy, best_fitness, held_out_return)" >&2; exit 2 ;;
  esac
  if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$value" "$threshold"; then
    verdict=ok
  else
    verdict=SHORT
    status=1
  fi
  printf 'check-examples: %-22s %-16s %12.4f  >= %-10s %-5s  %4d s\n' "$name" "$metric" "$value" "$threshold" "$verdict" "$seconds"
  table+=("$(printf '| %s | %s | %.4f | %s | %s | %d |' "$name" "$metric" "$value" "$threshold" "$verdict" "$seconds")")
done
echo
echo "| config | metric | result | threshold | verdict | run s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${table[@]}"
echo "check-examples: ${#configs[@]} config(s) in $(( $(date +%s) - script_start )) s"
exit $status
