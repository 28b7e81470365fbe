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

# atoll run: the same bits on 1, 2 and 4 ranks and in one process; a killed run resumed.
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
config=configs/tiny.yaml
for np in 1 2 4; do
  run "run $config on $np rank(s)" "$MPIRUN" --oversubscribe -np "$np" "$atoll" run "$config" --out "$runs/np$np"
done
run "run $config on 3 local ranks (threads)" "$atoll" run "$config" --out "$runs/local3" --local-ranks 3
same_results() {  # same_results NAME DIR...: metrics.jsonl and best.safetensors identical in all
  local name=$1; shift
  local sums
  sums=$(for d in "$@"; do cat "$d/metrics.jsonl" "$d/best.safetensors" 2>/dev/null | md5sum; done | sort -u | wc -l)
  if [ "$sums" -eq 1 ] && [ -s "$1/best.safetensors" ]; then
    passed=$((passed + 1)); echo "ok    $name"
  else
    failed=$((failed + 1)); echo "FAIL  $name"; for d in "$@"; do md5sum "$d/metrics.jsonl" "$d/best.safetensors" 2>&1 | sed 's/^/      /'; done
  fi
}
if [ -s "$runs/np2/report.html" ] && [ "$(grep -c '"host"' "$runs/np2/environment.json" 2>/dev/null)" -eq 2 ] \
   && grep -q 'Open MPI' "$runs/np2/environment.json"; then
  passed=$((passed + 1)); echo "ok    a run under mpirun -np 2 writes report.html and environment.json with both ranks' hosts"
else
  failed=$((failed + 1)); echo "FAIL  no report.html, or environment.json without 2 hosts and the MPI library, in $runs/np2"
fi
same_results "metrics.jsonl and best.safetensors identical at 1, 2, 4 ranks and 3 threads" "$runs/np1" "$runs/np2" "$runs/np4" "$runs/local3"
for np in 1 2 4; do
  run "run configs/tiny-latent.yaml (latent phase) on $np rank(s)" "$MPIRUN" --oversubscribe -np "$np" "$atoll" run configs/tiny-latent.yaml --out "$runs/latent$np"
done
if grep -q '"phase":"latent"' "$runs/latent1/metrics.jsonl" && cmp -s "$runs/latent1/meta.jsonl" "$runs/latent2/meta.jsonl" \
   && cmp -s "$runs/latent1/meta.jsonl" "$runs/latent4/meta.jsonl" \
   && cmp -s "$runs/latent1/meta-learner.safetensors" "$runs/latent4/meta-learner.safetensors"; then
  passed=$((passed + 1)); echo "ok    the latent run reaches latent space; meta.jsonl and the meta-learner identical at 1, 2, 4 ranks"
else
  failed=$((failed + 1)); echo "FAIL  latent runs differ or never left weight space"
fi
same_results "latent runs: metrics.jsonl and best.safetensors identical at 1, 2, 4 ranks" "$runs/latent1" "$runs/latent2" "$runs/latent4"

# Every island algorithm: the same bits on 1, 2, 4 ranks and 3 threads; the anchored latent killed
# after a checkpoint and resumed on another rank count ends as its uninterrupted run.
for algorithm in snes cmaes sep-cmaes anchored anchored-decoder eggroll eggroll-guided pgpe openes; do
  for np in 1 2 4; do
    run "run configs/tiny-$algorithm.yaml on $np rank(s)" "$MPIRUN" --oversubscribe -np "$np" "$atoll" run "configs/tiny-$algorithm.yaml" --out "$runs/$algorithm$np"
  done
  run "run configs/tiny-$algorithm.yaml on 3 local ranks" "$atoll" run "configs/tiny-$algorithm.yaml" --out "$runs/$algorithm-local3" --local-ranks 3
  same_results "$algorithm: metrics.jsonl and best.safetensors identical at 1, 2, 4 ranks and 3 threads" \
    "$runs/${algorithm}1" "$runs/${algorithm}2" "$runs/${algorithm}4" "$runs/$algorithm-local3"
done
if grep -q '"phase":"anchored"' "$runs/anchored-decoder1/meta.jsonl" && grep -q '"best_kind":"decoded"' "$runs/anchored-decoder1/metrics.jsonl" \
   && (for d in "$runs/anchored-decoder2" "$runs/anchored-decoder4" "$runs/anchored-decoder-local3"; do
         cmp -s "$runs/anchored-decoder1/meta.jsonl" "$d/meta.jsonl" && cmp -s "$runs/anchored-decoder1/meta-learner.safetensors" "$d/meta-learner.safetensors" || exit 1
       done); then
  passed=$((passed + 1)); echo "ok    the anchored latent's meta-learner trains on deltas and decodes residuals; meta.jsonl and the meta-learner identical at 1, 2, 4 ranks and 3 threads"
else
  failed=$((failed + 1)); echo "FAIL  anchored-decoder runs: no anchored rounds or decoded candidates, or meta.jsonl / meta-learner differ"
fi
timeout --kill-after=10 "$limit" "$MPIRUN" -np 2 "$atoll" run configs/tiny-anchored.yaml --out "$runs/anchored-killed" --fault-kill-after-checkpoint 4 >/dev/null 2>&1
run "resume the killed anchored-latent run on 4 ranks" "$MPIRUN" --oversubscribe -np 4 "$atoll" resume "$runs/anchored-killed"
same_results "the resumed anchored-latent run ends bit-identical to the uninterrupted run" "$runs/anchored1" "$runs/anchored-killed"

# Minibatch fitness: every island and rank scores generation g on the batch of (seed, g).
printf '%s\n' 'seed: 5' 'task: {name: digits, options: {batch: 48, eval_every: 2}}' 'network: mlp:64-6-10' \
  'islands: {count: 4, population: 6}' 'migration: {interval: 2, count: 1}' 'stop: {generations: 6}' \
  'output: {checkpoint_every: 2}' > "$runs/minibatch.yaml"
for np in 1 2 4; do
  run "run a minibatch config on $np rank(s)" "$MPIRUN" --oversubscribe -np "$np" "$atoll" run "$runs/minibatch.yaml" --out "$runs/minibatch$np"
done
same_results "minibatch runs: metrics.jsonl and best.safetensors identical at 1, 2, 4 ranks" "$runs/minibatch1" "$runs/minibatch2" "$runs/minibatch4"

# A conv net (EvoJAX's MNIST ConvNet, direct convolutions where the CPU has AVX2 and FMA) on
# Fashion-MNIST minibatches: the same bits on 1, 2, 4 ranks and 3 threads.
if [ -d /usr/share/datasets/fashion-mnist ]; then
  printf '%s\n' 'seed: 5' 'task: {name: fashion-mnist, options: {fitness: neg_cross_entropy, batch: 32, eval_every: 4}}' \
    "network: $PWD/configs/networks/evojax-mnist-cnn.yaml" 'islands: {count: 4, population: 6}' 'migration: {interval: 2, count: 1}' \
    'evolution: {mutation_sigma: 0.02, mutation_rate: 0.05, elites: 1}' 'stop: {generations: 4}' > "$runs/cnn.yaml"
  for np in 1 2 4; do
    run "run a conv-net config on $np rank(s)" "$MPIRUN" --oversubscribe -np "$np" "$atoll" run "$runs/cnn.yaml" --out "$runs/cnn$np"
  done
  run "run a conv-net config on 3 local ranks" "$atoll" run "$runs/cnn.yaml" --out "$runs/cnn-local3" --local-ranks 3
  same_results "conv-net runs: metrics.jsonl and best.safetensors identical at 1, 2, 4 ranks and 3 threads" \
    "$runs/cnn1" "$runs/cnn2" "$runs/cnn4" "$runs/cnn-local3"
else
  echo "skip  conv-net runs: no Fashion-MNIST in /usr/share/datasets/fashion-mnist (scripts/install-deps.sh installs it)"
fi

# Rank 1 of 2 kills itself (SIGKILL) right after the checkpoint of generation 4.
timeout --kill-after=10 "$limit" "$MPIRUN" -np 2 "$atoll" run "$config" --out "$runs/killed" --fault-kill-after-checkpoint 4 >/dev/null 2>&1
if [ -d "$runs/killed/checkpoints/00000004" ] && [ ! -e "$runs/killed/best.safetensors" ]; then
  passed=$((passed + 1)); echo "ok    a rank killed after checkpoint 4 stops the run before its end"
else
  failed=$((failed + 1)); echo "FAIL  the killed run did not stop after checkpoint 4"; ls -R "$runs/killed" | sed 's/^/      /'
fi
cp -r "$runs/killed" "$runs/killed-same"
run "resume the killed run on 4 ranks" "$MPIRUN" --oversubscribe -np 4 "$atoll" resume "$runs/killed"
run "resume the killed run on 2 ranks" "$MPIRUN" -np 2 "$atoll" resume "$runs/killed-same"
same_results "resumed runs end bit-identical to the uninterrupted run" "$runs/np1" "$runs/killed" "$runs/killed-same"
# Rank 0 killed right after the last checkpoint (the one that records the stop), before the results:
# the resume must still write best.safetensors and summary.json, equal to the uninterrupted run's.
# (mpirun waits 2 × odls_base_sigkill_timeout after a rank dies: 1 s here, not deploy/env's 3.)
OMPI_MCA_odls_base_sigkill_timeout=1 timeout --kill-after=10 "$limit" "$MPIRUN" -np 2 "$atoll" run "$config" \
  --out "$runs/killed-last" --fault-kill-after-checkpoint 6 --fault-kill-rank 0 >/dev/null 2>&1
run "resume a run killed after its last checkpoint, before its results" "$MPIRUN" -np 2 "$atoll" resume "$runs/killed-last"
if [ -s "$runs/killed-last/summary.json" ]; then
  same_results "a run killed after its last checkpoint ends, resumed, with the uninterrupted run's results" "$runs/np1" "$runs/killed-last"
else
  failed=$((failed + 1)); echo "FAIL  a run killed after its last checkpoint, resumed, has no best.safetensors or summary.json:"
  echo "$last_output" | sed 's/^/      /'
fi

# scripts/bench-large.sh on a small MLP: the three arms run at the same budget and the table and
# its JSON come out (the figures themselves are the benchmark's, README "Large networks").
if out=$(ATOLL="$atoll" NETWORK=mlp:784-16-10 JSON="$runs/large.json" bash scripts/bench-large.sh 2 2>&1) \
   && python3 -c '
import json, sys
arms = json.load(open(sys.argv[1]))["arms"]
assert [a["arm"] for a in arms] == ["eggroll", "ga", "snes"], arms
assert all(a["evaluations"] == 4 * 64 * 3 and a["seconds_per_generation"] > 0 and a["peak_rss_mib"] > 0 for a in arms), arms
' "$runs/large.json" && grep -q "^eggroll " <<<"$out"; then
  passed=$((passed + 1)); echo "ok    scripts/bench-large.sh: eggroll, ga and snes at 768 evaluations each, table and JSON written"
else
  failed=$((failed + 1)); echo "FAIL  scripts/bench-large.sh on mlp:784-16-10"; echo "$out" | tail -5
fi

# Chaos (scripts/kill-resume.sh): a random rank killed (SIGKILL) at a random moment three times a
# run, each time resumed on another rank count; the end must equal the uninterrupted run, bit for
# bit. The seed is printed (each config takes the next one); CHAOS_SEED=N replays it.
chaos_seed=${CHAOS_SEED:-$(($(date +%s) % 100000))}
echo "      kill-resume seed $chaos_seed (replay: CHAOS_SEED=$chaos_seed scripts/test-mpi.sh)"
seed=$chaos_seed
for chaos in "configs/tiny.yaml 30" "configs/tiny-anchored.yaml 30" "configs/tiny-anchored-decoder.yaml 16" "configs/tiny-latent.yaml 16" "configs/tiny-eggroll.yaml 30" "configs/tiny-eggroll-guided.yaml 30" "configs/tiny-pgpe.yaml 30"; do
  out=$(bash scripts/kill-resume.sh "$atoll" "${chaos% *}" "$seed" "${chaos#* }" 2>&1); status=$?
  seed=$((seed + 1))
  echo "$out"
  passed=$((passed + $(grep -c '^ok ' <<<"$out")))
  failures=$(grep -c '^FAIL ' <<<"$out")
  [ "$status" -ne 0 ] && [ "$failures" -eq 0 ] && { failures=1; echo "FAIL  scripts/kill-resume.sh $atoll ${chaos% *} $((seed - 1)) exited $status"; }
  failed=$((failed + failures))
done

# TCP: ranks talking over sockets (pml ob1, btl self,tcp), as ranks on different nodes would,
# give the same bits as shared memory and one rank.
tcp=(--mca pml ob1 --mca btl self,tcp)
for np in 2 4; do
  run "selftest collectives over TCP, $np ranks" "$MPIRUN" "${tcp[@]}" --oversubscribe -np "$np" "$atoll" selftest collectives --shuffle-seed 1
  if [ "$(grep -o 'digest 0x[0-9a-f]*' <<<"$last_output")" = "$unique" ]; then
    passed=$((passed + 1)); echo "ok    reproducible sum over TCP at $np ranks has the same bits ($unique)"
  else
    failed=$((failed + 1)); echo "FAIL  reproducible sum over TCP at $np ranks: $(grep -o 'digest 0x[0-9a-f]*' <<<"$last_output"), not $unique"
  fi
done
run "run $config over TCP on 2 ranks" "$MPIRUN" "${tcp[@]}" -np 2 "$atoll" run "$config" --out "$runs/tcp"
same_results "over TCP: metrics.jsonl and best.safetensors identical to 1 rank" "$runs/np1" "$runs/tcp"
run "run configs/tiny-anchored.yaml over TCP on 2 ranks" "$MPIRUN" "${tcp[@]}" -np 2 "$atoll" run configs/tiny-anchored.yaml --out "$runs/anchored-tcp"
same_results "anchored over TCP: metrics.jsonl and best.safetensors identical to 1 rank" "$runs/anchored1" "$runs/anchored-tcp"
run "run configs/tiny-latent.yaml over TCP on 2 ranks" "$MPIRUN" "${tcp[@]}" -np 2 "$atoll" run configs/tiny-latent.yaml --out "$runs/latent-tcp"
if cmp -s "$runs/latent1/meta.jsonl" "$runs/latent-tcp/meta.jsonl" \
   && cmp -s "$runs/latent1/meta-learner.safetensors" "$runs/latent-tcp/meta-learner.safetensors"; then
  passed=$((passed + 1)); echo "ok    latent over TCP: meta.jsonl and the meta-learner identical to 1 rank"
else
  failed=$((failed + 1)); echo "FAIL  latent over TCP: meta.jsonl or the meta-learner differ from 1 rank"
fi
same_results "latent over TCP: metrics.jsonl and best.safetensors identical to 1 rank" "$runs/latent1" "$runs/latent-tcp"

# BLAS kernels: ranks on different OpenBLAS cores are refused (naming both) before anything is
# written, unless `allreduce: fast` and --allow-mixed-blas; the kernel is recorded in summary.json;
# a resume under another kernel warns that the bits will differ.
if grep -qw avx512bw /proc/cpuinfo; then other=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then other=Haswell; else other=Nehalem; fi
mixed() {  # mixed DIR ARGS...: a 2-rank run, rank 0 on Prescott, rank 1 on $other
  local dir=$1; shift
  timeout --kill-after=10 "$limit" "$MPIRUN" -np 1 env OPENBLAS_CORETYPE=Prescott "$atoll" "$@" --out "$dir" \
    : -np 1 env OPENBLAS_CORETYPE=$other "$atoll" "$@" --out "$dir" 2>&1
}
if out=$(mixed "$runs/mixed" run "$config"); then
  failed=$((failed + 1)); echo "FAIL  a run with ranks on Prescott and $other exited 0"
elif grep -q "rank 0: core Prescott" <<<"$out" && grep -q "rank 1: core $other" <<<"$out" && [ ! -e "$runs/mixed" ]; then
  passed=$((passed + 1)); echo "ok    ranks on Prescott and $other kernels are refused, naming both, writing nothing"
else
  failed=$((failed + 1)); echo "FAIL  mixed-kernel message:"; echo "$out" | sed 's/^/      /'
fi
sed 's/^seed: 3/seed: 3\nallreduce: fast/' "$config" > "$runs/fast.yaml"
if out=$(mixed "$runs/mixed-fast" run "$runs/fast.yaml" --allow-mixed-blas) && grep -q "different BLAS kernels (allowed by --allow-mixed-blas)" <<<"$out" \
   && grep -q '"blas" : "mixed: rank 0: core Prescott' "$runs/mixed-fast/summary.json"; then
  passed=$((passed + 1)); echo "ok    allreduce: fast with --allow-mixed-blas runs on mixed kernels, warns, and records both"
else
  failed=$((failed + 1)); echo "FAIL  allreduce: fast with --allow-mixed-blas:"; echo "$out" | sed 's/^/      /'
fi
run "run $config on 2 ranks, both on Prescott" env OPENBLAS_CORETYPE=Prescott "$MPIRUN" -np 2 -x OPENBLAS_CORETYPE "$atoll" run "$config" --out "$runs/prescott"
if grep -q '"blas" : "core Prescott (OpenBLAS' "$runs/prescott/summary.json"; then
  passed=$((passed + 1)); echo "ok    summary.json records the Prescott kernel"
else
  failed=$((failed + 1)); echo "FAIL  summary.json kernel:"; grep blas "$runs/prescott/summary.json" | sed 's/^/      /'
fi
run "extend the Prescott run on $other" env OPENBLAS_CORETYPE=$other "$MPIRUN" -np 2 -x OPENBLAS_CORETYPE "$atoll" resume "$runs/prescott" --generations 8
if grep -q "computed with BLAS core Prescott .*this resume runs with core $other .*from generation 7 on, the bits will differ" <<<"$last_output"; then
  passed=$((passed + 1)); echo "ok    a resume under another kernel warns that the bits will differ"
else
  failed=$((failed + 1)); echo "FAIL  no kernel warning on resume:"; echo "$last_output" | sed 's/^/      /'
fi

# A bad config under mpirun: non-zero exit, the key named once, no hang.
printf 'islands: {count: 4}\nmigration: {intervall: 3}\n' > "$runs/bad.yaml"
if out=$(timeout --kill-after=10 "$limit" "$MPIRUN" -np 2 "$atoll" run "$runs/bad.yaml" --out "$runs/bad" 2>&1); then
  failed=$((failed + 1)); echo "FAIL  a bad config exited 0"
# mpirun's own notice can land in the middle of rank 0's line: drop its lines, then join the rest.
elif sed -E 's/-{10,}//g' <<<"$out" | grep -vE '^(Primary job|a non-zero exit|mpirun detected|the job to be|[[:space:]]*Process name|[[:space:]]*Exit code|[[:space:]]*$)' \
     | tr -d '\n' | grep -q "unknown key 'migration.intervall'" && [ ! -e "$runs/bad" ]; then
  passed=$((passed + 1)); echo "ok    a bad config under mpirun exits non-zero naming the key, writing nothing"
else
  failed=$((failed + 1)); echo "FAIL  bad config message:"; echo "$out" | sed 's/^/      /'
fi
# SIGINT / SIGTERM / SIGUSR1: every rank stops after the same generation, checkpoints it, prints the
# resume command and exits 130 / 143 / 138; resumed (on another rank count) it ends as an
# uninterrupted run.
# (The same signal twice: see below.)
sed -e 's/generations: 6/generations: 100000/' -e 's/checkpoint_every: 2/checkpoint_every: 100000/' "$config" > "$runs/long.yaml"
interrupted() {  # interrupted NAME DIR EXPECTED_EXIT SIGNAL_NAME: the message, the checkpoint, the exit
  local name=$1 dir=$2 expected=$3 signame=$4 rc=$5 out=$6
  stopped_at=$(grep -o "Stopped by $signame after generation [0-9]*" <<<"$out" | grep -o '[0-9]*$')
  if { [ "$expected" = any ] || [ "$rc" -eq "$expected" ]; } && [ -n "$stopped_at" ] \
     && grep -q "atoll resume $dir" <<<"$out" && [ -d "$dir/checkpoints/$(printf '%08d' "$stopped_at")" ]; then
    passed=$((passed + 1)); echo "ok    $name: exit $rc after generation $stopped_at, with its checkpoint and the resume command"
  else
    failed=$((failed + 1)); echo "FAIL  $name (exit $rc, expected $expected)"; echo "$out" | tail -5 | sed 's/^/      /'
  fi
}
resumed_matches() {  # resumed_matches NAME DIR NP: resume DIR for 10 more generations on NP ranks, compare with a run that long
  local name=$1 dir=$2 np=$3 until=$((stopped_at + 10))
  sed -e "s/generations: 100000/generations: $until/" "$runs/long.yaml" > "$runs/until$until.yaml"
  run "$name: resume on $np rank(s)" "$MPIRUN" --oversubscribe -np "$np" "$atoll" resume "$dir" --generations "$until"
  run "$name: the uninterrupted run of $until generations" "$atoll" run "$runs/until$until.yaml" --out "$dir-reference"
  same_results "$name: the resumed run ends bit-identical to the uninterrupted one" "$dir-reference" "$dir"
}
signal_run() {  # signal_run DIR SIGNAL TARGET COMMAND...: start COMMAND, signal TARGET (self|mpirun|ranks) after 3 s
  local dir=$1 sig=$2 target=$3; shift 3
  timeout --kill-after=10 "$limit" "$@" run "$runs/long.yaml" --out "$dir" > "$runs/signal.out" 2>&1 &
  local pid=$!
  sleep 3
  local launcher
  launcher=$(pgrep -P "$pid" | head -1)
  case $target in
    self) kill "-$sig" "$launcher" ;;
    mpirun) kill "-$sig" "$launcher" ;;
    ranks) kill "-$sig" $(pgrep -P "$launcher") ;;
  esac
  wait "$pid"; signal_rc=$?
  signal_out=$(cat "$runs/signal.out")
}
signal_run "$runs/sigint" INT self "$atoll"
interrupted "SIGINT to a bare run" "$runs/sigint" 130 SIGINT "$signal_rc" "$signal_out"
[ -n "$stopped_at" ] && resumed_matches "SIGINT to a bare run" "$runs/sigint" 2
signal_run "$runs/sigterm-ranks" TERM ranks "$MPIRUN" -np 2 "$atoll"
interrupted "SIGTERM to both ranks of mpirun -np 2 (as a batch scheduler sends it)" "$runs/sigterm-ranks" 143 SIGTERM "$signal_rc" "$signal_out"
# mpirun turns SIGINT to itself into SIGTERM to the ranks odls_base_sigkill_timeout seconds later
# (2 here) and exits 1 on its own account; it forwards SIGUSR1 at once.
OMPI_MCA_odls_base_sigkill_timeout=2 signal_run "$runs/sigint-mpirun" INT mpirun "$MPIRUN" -np 2 "$atoll"
interrupted "SIGINT to mpirun -np 2" "$runs/sigint-mpirun" any SIGTERM "$signal_rc" "$signal_out"
signal_run "$runs/sigusr1-mpirun" USR1 mpirun "$MPIRUN" -np 2 "$atoll"
interrupted "SIGUSR1 to mpirun -np 2" "$runs/sigusr1-mpirun" any SIGUSR1 "$signal_rc" "$signal_out"
[ -n "$stopped_at" ] && resumed_matches "SIGUSR1 to mpirun -np 2" "$runs/sigusr1-mpirun" 4
# The same signal twice: within 1 s it is one request (Slurm's time limit and `scancel --full`
# deliver SIGTERM twice) and the run stops with its checkpoint; 1.5 s apart (a second Ctrl-C after
# a pause) the process ends at once, without the checkpoint of the first. Generations of 12,000
# networks take several seconds, so both signals come within one.
printf '%s\n' 'seed: 3' 'network: mlp:64-16-10' 'islands: {count: 1, population: 12000}' 'stop: {generations: 1000}' > "$runs/slow.yaml"
twice() {  # twice DIR GAP: SIGINT, GAP seconds, SIGINT to a bare run; sets twice_rc
  timeout --kill-after=10 "$limit" "$atoll" run "$runs/slow.yaml" --out "$1" > "$1.out" 2>&1 &
  local pid=$! target
  sleep 3
  target=$(pgrep -P "$pid" | head -1)
  kill -INT "$target"; sleep "$2"; kill -INT "$target"
  wait "$pid"; twice_rc=$?
}
twice "$runs/twice-fast" 0.1
if [ "$twice_rc" -eq 130 ] && grep -q "Stopped by SIGINT after generation" "$runs/twice-fast.out" && [ -n "$(ls "$runs/twice-fast/checkpoints" 2>/dev/null)" ]; then
  passed=$((passed + 1)); echo "ok    SIGINT twice within 0.1 s is one request: the run stops with its checkpoint (exit 130)"
else
  failed=$((failed + 1)); echo "FAIL  SIGINT twice within 0.1 s (exit $twice_rc)"; tail -5 "$runs/twice-fast.out" | sed 's/^/      /'
fi
twice "$runs/twice" 1.5
if [ "$twice_rc" -eq 130 ] && ! grep -q "Stopped by" "$runs/twice.out" && [ -z "$(ls "$runs/twice/checkpoints" 2>/dev/null)" ]; then
  passed=$((passed + 1)); echo "ok    SIGINT again 1.5 s later stops a run at once (exit 130, no checkpoint)"
else
  failed=$((failed + 1)); echo "FAIL  SIGINT again 1.5 s later (exit $twice_rc)"; tail -5 "$runs/twice.out" | sed 's/^/      /'; ls "$runs/twice/checkpoints" 2>&1 | sed 's/^/      /'
fi
# SIGHUP (an ssh session closing) stops a run like SIGTERM, with its checkpoint (exit 129).
signal_run "$runs/sighup" HUP self "$atoll"
interrupted "SIGHUP to a bare run" "$runs/sighup" 129 SIGHUP "$signal_rc" "$signal_out"
# Output to a closed pipe: the run goes on to its results (SIGPIPE ignored, the failure said once).
pipe_out=$( { timeout --kill-after=10 "$limit" "$atoll" run "$config" --out "$runs/pipe" 2>"$runs/pipe.err"; echo "rc $?" > "$runs/pipe.rc"; } | head -c 1)
if [ "$(cat "$runs/pipe.rc")" = "rc 0" ] && [ -s "$runs/pipe/best.safetensors" ] && grep -q "standard output is closed" "$runs/pipe.err"; then
  passed=$((passed + 1)); echo "ok    a run whose output pipe closes goes on to its results (exit 0) and says so once on stderr"
else
  failed=$((failed + 1)); echo "FAIL  a run writing to a closed pipe: $(cat "$runs/pipe.rc")"; cat "$runs/pipe.err" | tail -3 | sed 's/^/      /'
fi
# Watchdog: rank 1 of mpirun -np 2 stopped (SIGSTOP) mid-run; with watchdog.min_seconds 3 the run
# ends within seconds (not never), naming rank 1 and its pid.
printf '%s\n' 'seed: 3' 'network: mlp:64-8-10' 'islands: {count: 2, population: 8}' 'stop: {generations: 100000}' \
  'output: {checkpoint_every: 5}' 'watchdog: {min_seconds: 3, factor: 10}' > "$runs/watchdog.yaml"
timeout --kill-after=10 "$limit" "$MPIRUN" -np 2 "$atoll" run "$runs/watchdog.yaml" --out "$runs/watchdog" > "$runs/watchdog.out" 2>&1 &
pid=$!
sleep 4
launcher=$(pgrep -P "$pid" | head -1)
stopped_rank=""
for p in $(pgrep -P "$launcher"); do tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && stopped_rank=$p; done
started=$SECONDS
kill -STOP "$stopped_rank"
wait "$pid"; rc=$?
if [ "$rc" -ne 0 ] && [ $((SECONDS - started)) -lt 60 ] \
   && grep -q "atoll: watchdog: generation [0-9]* has run .*Did not answer: rank 1 (host [^,]*, pid $stopped_rank" "$runs/watchdog.out"; then
  passed=$((passed + 1)); echo "ok    a stopped rank ends the run after $((SECONDS - started)) s with the watchdog naming rank 1 (pid $stopped_rank)"
else
  failed=$((failed + 1)); echo "FAIL  a stopped rank (exit $rc after $((SECONDS - started)) s)"; grep -v '^gen' "$runs/watchdog.out" | tail -5 | sed 's/^/      /'
fi
kill -CONT "$stopped_rank" 2>/dev/null; kill -9 "$stopped_rank" 2>/dev/null

# A full disk and a read-only checkpoints/ (root: a 300 kB tmpfs, a read-only bind mount): the
# error names the file or folder and the reason, the read-only one before any generation runs.
if [ "$(id -u)" -eq 0 ] && mkdir -p "$runs/small" && mount -t tmpfs -o size=300k tmpfs "$runs/small" 2>/dev/null; then
  out=$(timeout --kill-after=10 "$limit" "$atoll" run "$config" --out "$runs/small/run" 2>&1)
  umount "$runs/small"
  if grep -q "cannot write $runs/small/run/.*: no space left on device" <<<"$out" && ! grep -q NSCocoaErrorDomain <<<"$out"; then
    passed=$((passed + 1)); echo "ok    a full disk is an error naming the file and 'no space left on device'"
  else
    failed=$((failed + 1)); echo "FAIL  full disk message:"; echo "$out" | tail -3 | sed 's/^/      /'
  fi
  run "run $config for a read-only resume" "$atoll" run "$config" --out "$runs/readonly"
  mount --bind "$runs/readonly/checkpoints" "$runs/readonly/checkpoints" && mount -o remount,bind,ro "$runs/readonly/checkpoints"
  out=$(timeout --kill-after=10 "$limit" "$atoll" resume "$runs/readonly" --generations 8 2>&1)
  umount "$runs/readonly/checkpoints"
  if grep -q "checkpoints cannot be written to $runs/readonly/checkpoints: .*read-only file system" <<<"$out" && ! grep -q "^gen " <<<"$out"; then
    passed=$((passed + 1)); echo "ok    a read-only checkpoints/ is found before the first generation, naming the folder"
  else
    failed=$((failed + 1)); echo "FAIL  read-only checkpoints/ message:"; echo "$out" | tail -3 | sed 's/^/      /'
  fi
else
  echo "      (skipped the full-disk and read-only tests: they need root and mount)"
fi
echo "mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
