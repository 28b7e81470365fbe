#!/usr/bin/env bash
# Runs Atoll's collectives under real Open MPI at 1, 2 and 4 ranks (4 oversubscribed) and checks
# that every run passes its own checks and that the reproducible sum has the same bits at every
# rank count and for every assignment of contributions to ranks. Each mpirun is bounded by a
# timeout, so a hang fails the test instead of stalling it.
#   usage: scripts/test-mpi.sh [path/to/atoll]
set -uo pipefail
cd "$(dirname "$0")/.."
atoll=${1:-.build/debug/atoll}
. deploy/env/openmpi.env
MPIRUN=${MPIRUN:-mpirun}
limit=${MPI_TEST_TIMEOUT:-120}

passed=0
failed=0
digests=()

run() {  # run NAME COMMAND...: counts a pass or a failure, prints output on failure
  local name=$1; shift
  local out
  if out=$(timeout --kill-after=10 "$limit" "$@" 2>&1); then
    passed=$((passed + 1)); echo "ok    $name"
  else
    failed=$((failed + 1)); echo "FAIL  $name (exit $?)"; echo "$out" | sed 's/^/      /'
  fi
  last_output=$out
}

for np in 1 2 4; do
  for shuffle in 0 1 2; do
    run "selftest collectives, $np rank(s), shuffle $shuffle" \
      "$MPIRUN" --oversubscribe -np "$np" "$atoll" selftest collectives --shuffle-seed "$shuffle"
    digests+=("$(grep -o 'digest 0x[0-9a-f]*' <<<"$last_output")")
  done
done

unique=$(printf '%s\n' "${digests[@]}" | sort -u)
if [ "$(wc -l <<<"$unique")" -eq 1 ] && [ -n "$unique" ]; then
  passed=$((passed + 1)); echo "ok    reproducible sum has the same bits at 1, 2 and 4 ranks ($unique)"
else
  failed=$((failed + 1)); echo "FAIL  reproducible sum bits differ across rank counts:"; printf '      %s\n' "${digests[@]}"
fi

run "info under mpirun -np 2 lists both ranks in order" "$MPIRUN" -np 2 "$atoll" info
if grep -q "^rank 0 of 2" <<<"$last_output" && grep -q "^rank 1 of 2" <<<"$last_output" \
   && [ "$(grep -n '^rank' <<<"$last_output" | cut -d: -f2 | cut -c1-6 | tr '\n' ' ')" = "rank 0 rank 1 " ]; then
  passed=$((passed + 1)); echo "ok    info reports rank 0 then rank 1"
else
  failed=$((failed + 1)); echo "FAIL  info did not list rank 0 then rank 1:"; echo "$last_output" | sed 's/^/      /'
fi

echo "mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
