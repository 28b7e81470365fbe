#!/usr/bin/env bash
# Fuzzes Atoll's file readers with libFuzzer: builds the Fuzz/ package (release, with the fuzzer's
# coverage and AddressSanitizer, whose leak checker runs too), then runs each reader's fuzzer for
# SECONDS, one after the other, starting from its seed corpus Fuzz/Corpus/READER (never written).
# An input that runs longer than FUZZ_TIMEOUT seconds (default 10) counts as a hang, one that
# needs more than FUZZ_RSS_MB MiB (default 2048) as running out of memory. New inputs, logs and
# failing inputs go to Fuzz/.work/ (git-ignored): READER/ is the growing corpus, READER.log the
# fuzzer's output, artifacts/READER/ the crash-, leak-, timeout- or oom- file of a failure.
# Prints one line per reader: reader, executions, executions per second, result (ok, or the kind
# of failure and the command that reproduces it: Fuzz/.build/release/FuzzX FILE, to run with
# SWIFT_BACKTRACE=enable=no). Exits 1 if any reader failed.
#   usage: scripts/fuzz.sh SECONDS [READER...]
#   READER: safetensors npy idx csv checkpoint run-config (default: all, in that order)
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/fuzz.sh SECONDS [safetensors|npy|idx|csv|checkpoint|run-config ...]" >&2; exit 2; }
[[ ${1:-} =~ ^[1-9][0-9]*$ ]] || usage
seconds=$1; shift
timeout=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}

declare -A targets=(
  [safetensors]=FuzzSafeTensors [npy]=FuzzNpy [idx]=FuzzIDX [csv]=FuzzCSV
  [checkpoint]=FuzzCheckpoint [run-config]=FuzzRunConfig
)
readers=("$@")
[[ ${#readers[@]} -gt 0 ]] || readers=(safetensors npy idx csv checkpoint run-config)
for reader in "${readers[@]}"; do [[ -n ${targets[$reader]:-} ]] || usage; done

work=Fuzz/.work
mkdir -p "$work"
# -parse-as-library: the modules have no Swift entry point, libFuzzer supplies main.
# -enable-testing: the checkpoint fuzzer reads internal types (@testable import IslandModel).
echo "fuzz: building the fuzzers (Fuzz/, swift build -c release -sanitize=fuzzer,address)"
if ! (cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
  -Xswiftc -enable-testing) >"$work/build.log" 2>&1; then
  tail -30 "$work/build.log"
  echo "fuzz: the build failed (log: $work/build.log)" >&2
  exit 1
fi

# The Swift runtime's own crash handler would stall on the crash and hide it from libFuzzer.
export SWIFT_BACKTRACE=enable=no
failed=0
printf '%-12s %12s %9s  %s\n' reader executions exec/s result
for reader in "${readers[@]}"; do
  binary=Fuzz/.build/release/${targets[$reader]}
  corpus=$work/$reader artifacts=$work/artifacts/$reader log=$work/$reader.log
  mkdir -p "$corpus" "$artifacts"
  "$binary" "$corpus" "Fuzz/Corpus/$reader" -max_total_time="$seconds" -timeout="$timeout" \
    -rss_limit_mb="$rss" -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | grep -v '/slow-unit-' | tail -1)
  if [[ -n $artifact ]]; then
    result="$(basename "$artifact" | cut -d- -f1): $binary $artifact"
    failed=1
  elif [[ $status -ne 0 ]]; then
    result="error (exit $status, see $log)"
    failed=1
  else
    result=ok
  fi
  printf '%-12s %12s %9s  %s\n' "$reader" "${runs:-?}" "${speed:-?}" "$result"
done
exit $failed
